"""The aging report 账龄分析 (R-30): summary by group, drill-down to invoices, Excel.

Thin views over services/aging.py; every figure is of the customers the person may see
(visible_customers), so a sales rep's report holds only their own customers.
"""

import tempfile

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from creditfile.access.services import deliveries
from creditfile.access.services.audit import Action
from creditfile.core.models import Company
from creditfile.customers.services.visibility import visible_customers
from creditfile.receivables.exports import write_aging
from creditfile.receivables.services import aging

GROUPS_PER_PAGE = 100
INVOICES_PER_PAGE = 50


class AgingFilterForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("截止日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    company = forms.ModelChoiceField(
        Company.objects.filter(is_active=True),
        label=gettext_lazy("销售公司"),
        empty_label=None,
    )
    group = forms.ChoiceField(label=gettext_lazy("分组"), choices=list(aging.GROUPINGS.items()))

    def values(self):
        data = self.cleaned_data
        return data["date"], data["company"], data["group"]


def _filters(request: HttpRequest):
    """The bound filter form, with today, the default company and "by customer" for
    what the request leaves out; and (as of, company, grouping), or None if invalid."""
    if not request.user.has_perm("receivables.view_invoice"):
        raise PermissionDenied
    data = {
        "date": timezone.localdate().isoformat(),
        "company": Company.default().pk,
        "group": "customer",
    }
    data.update({key: value for key, value in request.GET.items() if key in data and value})
    form = AgingFilterForm(data)
    if not form.is_valid():
        return form, None
    return form, form.values()


def _query(as_of, company, group_by, **extra) -> str:
    return urlencode({"date": as_of.isoformat(), "company": company.pk, "group": group_by, **extra})


@require_GET
def aging_summary(request: HttpRequest) -> HttpResponse:
    form, values = _filters(request)
    context = {"form": form, "report": None}
    if values is not None:
        as_of, company, group_by = values
        report = aging.aging_report(
            as_of, company=company, group_by=group_by, customers=visible_customers(request.user)
        )
        totals = report.totals
        page = Paginator(report.rows, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
        context.update(
            report=report,
            totals=totals,
            page=page,
            rows=[(row, row.share_of(totals.total)) for row in page.object_list],
            query=_query(as_of, company, group_by),
            bounds=",".join(str(b.high) for b in report.buckets if b.low and b.high),
        )
    return render(request, "receivables/aging.html", context, status=200 if values else 422)


@require_GET
def aging_invoices(request: HttpRequest) -> HttpResponse:
    form, values = _filters(request)
    if values is None:
        return render(request, "receivables/aging.html", {"form": form}, status=422)
    as_of, company, group_by = values
    key = request.GET.get("key") or aging.NONE_KEY
    customers = visible_customers(request.user)
    try:
        invoices = aging.aged_invoices(as_of, group_by, key, company=company, customers=customers)
    except aging.AgingError as exc:
        return HttpResponse(str(exc), status=422)
    buckets = aging.buckets_for(company)
    page = Paginator(invoices, INVOICES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "as_of": as_of,
        "buckets": buckets,
        "label": aging.group_label(group_by, key),
        "group_label": aging.GROUPINGS[group_by],
        "page": page,
        "aged": [aging.age(invoice, as_of, buckets) for invoice in page.object_list],
        "query": _query(as_of, company, group_by, key=key),
        "can_propose": request.user.has_perm("receivables.add_writeoff"),
    }
    template = (
        "receivables/_aging_invoices.html" if request.htmx else "receivables/aging_invoices.html"
    )
    return render(request, template, context)


@require_GET
def aging_export(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("customers.export_customers"):
        raise PermissionDenied
    form, values = _filters(request)
    if values is None:
        return render(request, "receivables/aging.html", {"form": form}, status=422)
    as_of, company, group_by = values
    customers = visible_customers(request.user)
    report = aging.aging_report(as_of, company=company, group_by=group_by, customers=customers)
    # Built before the response starts (as the customer list export), then streamed.
    target = tempfile.TemporaryFile()
    stamp = deliveries.stamp_for(request.user)
    rows = write_aging(report, customers, target, stamp=stamp)
    target.seek(0)
    return deliveries.send(
        request,
        target,
        filename=_("账龄分析") + f"-{as_of:%Y%m%d}.xlsx",
        fallback=f"aging-{as_of:%Y%m%d}.xlsx",
        content_type=deliveries.XLSX,
        action=Action.EXPORT,
        stamp=stamp,
        detail={
            "filters": f"as_of={as_of.isoformat()}；company={report.company}；group_by={group_by}",
            "rows": rows,
            "groups": len(report.rows),
        },
    )


@require_POST
def aging_buckets(request: HttpRequest) -> HttpResponse:
    """Change the company's buckets from the report page (credit manager, administrator)."""
    company_pk = request.POST.get("company", "")
    company = (
        Company.objects.filter(pk=company_pk).first() if company_pk.isdigit() else None
    ) or Company.default()
    try:
        buckets = aging.set_buckets(company, request.POST.get("aging_buckets", ""), request.user)
    except aging.AgingError as exc:
        messages.error(request, _("账龄分段未保存：%(problem)s") % {"problem": exc})
    else:
        messages.success(
            request,
            _("%(company)s 的账龄分段已改为：%(buckets)s")
            % {"company": company, "buckets": "、".join(b.label for b in buckets)},
        )
    return redirect(f"{reverse('receivables:aging')}?{urlencode({'company': company.pk})}")
