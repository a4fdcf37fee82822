"""The auditor's screen 审计记录 (R-47) and the managers' violation summaries 违规汇总 (R-42).

Both are read-only: nothing here changes or deletes an audit event.
"""

import tempfile

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from creditfile.access.forms_audit import AuditFilterForm
from creditfile.access.models import ViolationSummary
from creditfile.access.services import audit, deliveries
from creditfile.access.services.trail import (
    TrailFilters,
    customer_names,
    filter_events,
    write_trail,
)
from creditfile.access.services.violations import MANAGING_ROLES

PER_PAGE = 50
AUDIT_PERM = "access.view_audit_trail"

app_name = "audit"


def _require_auditor(request: HttpRequest) -> None:
    if not request.user.has_perm(AUDIT_PERM):
        raise PermissionDenied


def may_see_summaries(user) -> bool:
    return user.has_perm(AUDIT_PERM) or user.has_role(*MANAGING_ROLES)


def _problems(form) -> str:
    return "; ".join(
        f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    )


@require_GET
def trail(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound and form.is_valid() else TrailFilters()
    if form.is_bound and not form.is_valid():
        events = filter_events(filters).none()
    else:
        events = filter_events(filters)
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    names = customer_names(e.customer_id for e in page.object_list)
    rows = [(e, names.get(e.customer_id, "")) for e in page.object_list]
    return render(
        request,
        "access/trail.html",
        {"form": form, "page": page, "rows": rows, "query": request.GET.urlencode()},
    )


@require_GET
def trail_export(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponseBadRequest(
            _("筛选条件有误：%(problems)s") % {"problems": _problems(form)},
            content_type="text/plain; charset=utf-8",
        )
    filters = form.filters() if form.is_bound else TrailFilters()
    stamp = deliveries.stamp_for(request.user)
    target = tempfile.TemporaryFile()
    rows = write_trail(filter_events(filters), target, stamp=stamp)
    target.seek(0)
    return deliveries.send(
        request,
        target,
        filename=_("审计记录") + f"-{timezone.localdate():%Y%m%d}.xlsx",
        fallback=f"audit-trail-{timezone.localdate():%Y%m%d}.xlsx",
        content_type=deliveries.XLSX,
        action=audit.Action.EXPORT,
        stamp=stamp,
        purpose=_("审计记录导出"),
        detail={"rows": rows, "filters": request.GET.urlencode()[:500]},
    )


@require_GET
def violation_summaries(request: HttpRequest) -> HttpResponse:
    """A manager's own weekly summaries; an auditor sees every manager's."""
    if not may_see_summaries(request.user):
        raise PermissionDenied
    summaries = ViolationSummary.objects.select_related("manager")
    if not request.user.has_perm(AUDIT_PERM):
        summaries = summaries.filter(manager=request.user)
    page = Paginator(summaries, 20).get_page(request.GET.get("page"))
    return render(request, "access/violation_summaries.html", {"page": page})


@require_GET
def violation_summary(request: HttpRequest, pk: int) -> HttpResponse:
    if not may_see_summaries(request.user):
        raise PermissionDenied
    summaries = ViolationSummary.objects.select_related("manager")
    if not request.user.has_perm(AUDIT_PERM):
        summaries = summaries.filter(manager=request.user)
    summary = get_object_or_404(summaries, pk=pk)
    return render(request, "access/violation_summary.html", {"summary": summary})


urlpatterns = [
    path("", trail, name="trail"),
    path("export/", trail_export, name="trail_export"),
    path("violations/", violation_summaries, name="violations"),
    path("violations/<int:pk>/", violation_summary, name="violation"),
]
