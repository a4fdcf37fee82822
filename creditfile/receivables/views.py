"""The blocked-orders queue 信用冻结订单 (R-19): release with a reason, reject, re-check.

Thin views over services/checks.py. The queue lists the blocked orders of the customers
the user may see; releasing (a documented override) asks for the password again, like
every decision that lets credit out.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from creditfile.core import sudo
from creditfile.customers.services.visibility import visible_customers
from creditfile.receivables import import_views, views_aging, views_dunning_policy, views_writeoffs
from creditfile.receivables.choices import OrderStatus
from creditfile.receivables.customer_views import customer_receivables
from creditfile.receivables.hub_views import receivables_home
from creditfile.receivables.models import SalesOrder
from creditfile.receivables.services import checks
from creditfile.receivables.services.ledger import LedgerError
from creditfile.receivables.settings_views import credit_control
from creditfile.receivables.views_collections import urlpatterns as collection_urls

PER_PAGE = 50


def _orders(request: HttpRequest):
    if not request.user.has_perm("receivables.view_salesorder"):
        raise PermissionDenied
    return SalesOrder.objects.filter(customer__in=visible_customers(request.user)).select_related(
        "customer", "company", "decided_by"
    )


@require_GET
def blocked_orders(request: HttpRequest) -> HttpResponse:
    orders = _orders(request)
    blocked = orders.filter(status=OrderStatus.BLOCKED).order_by("order_date", "id")
    decided = orders.filter(decided_at__isnull=False).order_by("-decided_at")[:20]
    page = Paginator(blocked, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "receivables/blocked_orders.html",
        {
            "page": page,
            "decided": decided,
            "can_decide": request.user.has_perm("receivables.release_order"),
            "can_check": request.user.has_perm("receivables.check_credit"),
        },
    )


def _act(request: HttpRequest, pk: int, action) -> HttpResponse:
    order = get_object_or_404(_orders(request), pk=pk)
    error = ""
    try:
        message = action(order)
    except LedgerError as refused:
        error, message = str(refused), ""
    order.refresh_from_db()
    if request.htmx:
        return render(
            request,
            "receivables/_order_row.html",
            {
                "order": order,
                "error": error,
                "message": message,
                "can_decide": request.user.has_perm("receivables.release_order"),
                "can_check": request.user.has_perm("receivables.check_credit"),
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, message)
    return redirect("receivables:blocked")


@require_POST
@sudo.require_recent_password(gettext_lazy("放行信用冻结的订单"))
def order_release(request: HttpRequest, pk: int) -> HttpResponse:
    def release(order):
        checks.release_blocked(order, request.user, request.POST.get("reason", ""))
        return _("订单 %(number)s 已放行。") % {"number": order.number}

    return _act(request, pk, release)


@require_POST
def order_reject(request: HttpRequest, pk: int) -> HttpResponse:
    def reject(order):
        checks.reject_blocked(order, request.user, request.POST.get("reason", ""))
        return _("订单 %(number)s 已拒绝。") % {"number": order.number}

    return _act(request, pk, reject)


@require_POST
def order_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("receivables.check_credit"):
        raise PermissionDenied

    def recheck(order):
        result = checks.recheck(order)
        if result.released:
            return _("重新检查通过，订单 %(number)s 已放行。") % {"number": order.number}
        return _("重新检查仍未通过：%(reasons)s") % {
            "reasons": "；".join(reason.message for reason in result.reasons)
        }

    return _act(request, pk, recheck)


app_name = "receivables"

urlpatterns = [
    path("", receivables_home, name="home"),
    path("blocked/", blocked_orders, name="blocked"),
    path("customers/<int:customer_pk>/", customer_receivables, name="customer"),
    path("settings/", credit_control, name="settings"),
    path("dunning-policy/", views_dunning_policy.dunning_policy, name="dunning_policy"),
    path("orders/<int:pk>/release/", order_release, name="order_release"),
    path("orders/<int:pk>/reject/", order_reject, name="order_reject"),
    path("orders/<int:pk>/recheck/", order_recheck, name="order_recheck"),
    *import_views.urlpatterns,
    *collection_urls,
    path("aging/", views_aging.aging_summary, name="aging"),
    path("aging/invoices/", views_aging.aging_invoices, name="aging_invoices"),
    path("aging/export.xlsx", views_aging.aging_export, name="aging_export"),
    path("aging/buckets/", views_aging.aging_buckets, name="aging_buckets"),
    path("writeoffs/", views_writeoffs.writeoff_register, name="writeoffs"),
    path("invoices/<int:pk>/writeoff/", views_writeoffs.writeoff_propose, name="writeoff_propose"),
    path("writeoffs/<int:pk>/approve/", views_writeoffs.writeoff_approve, name="writeoff_approve"),
    path("writeoffs/<int:pk>/reject/", views_writeoffs.writeoff_reject, name="writeoff_reject"),
    path("writeoffs/<int:pk>/reverse/", views_writeoffs.writeoff_reverse, name="writeoff_reverse"),
]
