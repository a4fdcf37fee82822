"""The receivables tab 应收 of the customer file: credit position, payment habit with its
12-month chart, open invoices, recent payments and orders (R-19, R-30).

Read-only: documents come from the ERP or the API; decisions on orders are taken in the
blocked-orders queue. The tab loads into the file like the credit tab (htmx), and the
same URL gives a full page for a bookmark or a new browser tab.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from creditfile.access.services import audit
from creditfile.customers.services.visibility import get_customer_for
from creditfile.receivables.models import Payment, SalesOrder
from creditfile.receivables.services import position as positions
from creditfile.receivables.services.charts import days_late_chart

RECENT = 20


def may_view_ledger(user) -> bool:
    return user.has_perm("receivables.view_invoice")


@require_GET
def customer_receivables(request: HttpRequest, customer_pk: int) -> HttpResponse:
    if not may_view_ledger(request.user):
        raise PermissionDenied
    customer = get_customer_for(request.user, customer_pk)
    audit.record_view(customer, section="receivables")
    today = timezone.localdate()
    companies = []
    for company in positions.companies_of(customer):
        position = positions.credit_position(customer, company, today)
        invoices = list(positions.open_invoices(customer, company)[:RECENT])
        for invoice in invoices:
            invoice.days_overdue = max((today - invoice.due_date).days, 0)
        companies.append(
            {
                "position": position,
                "chart": days_late_chart(position.habit.trend),
                "open_invoices": invoices,
                "payments": Payment.objects.filter(customer=customer, company=company)
                .prefetch_related("allocations__invoice")
                .order_by("-received_on", "-id")[:RECENT],
                "orders": SalesOrder.objects.filter(customer=customer, company=company)
                .select_related("decided_by")
                .order_by("-order_date", "-id")[:RECENT],
            }
        )
    context = {"customer": customer, "companies": companies, "today": today, "recent": RECENT}
    template = (
        "receivables/customer_tab.html"
        if request.headers.get("HX-Request")
        else "receivables/customer_page.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
