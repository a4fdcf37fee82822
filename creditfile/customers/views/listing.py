"""The customer list 客户一览表 (R-13) and its Excel export."""

import tempfile

from django.core.exceptions import PermissionDenied
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from creditfile.access.services import deliveries
from creditfile.access.services.audit import Action
from creditfile.customers.exports import write_customer_list
from creditfile.customers.filters import SORT_LABELS, CustomerFilterForm, capped_page
from creditfile.customers.services.freshness import stale_reason
from creditfile.customers.services.visibility import visible_customers

PER_PAGE = 50
COUNT_CAP = 10_000
LIFECYCLE_BADGES = {"active": "ok", "dormant": "warn", "lost": "bad", "blacklisted": "bad"}
LIST_RELATED = ("region__parent__parent", "industry", "owner")


def _filter_controls(form: CustomerFilterForm) -> list[dict]:
    """The visible filter fields, with the options of each drop-down as plain pairs.

    The template writes the <select>s itself: Django's widgets render one template per
    option, which cost more than all the page's queries together.
    """
    controls = []
    for field in form.visible_fields():
        choices = getattr(field.field, "choices", None)
        options = None
        if isinstance(field.field, ModelChoiceField):
            # Listing the queryset directly: iterating the field's choices would open a
            # server-side cursor on PostgreSQL (three round trips per drop-down).
            model_field = field.field
            key = model_field.to_field_name or "pk"
            options = [("", str(model_field.empty_label))] if model_field.empty_label else []
            options += [
                (str(getattr(obj, key)), model_field.label_from_instance(obj))
                for obj in model_field.queryset
            ]
        elif choices is not None:
            options = [(str(value), label) for value, label in choices]
        value = field.value() if form.is_bound else field.initial
        controls.append({"field": field, "options": options, "value": str(value or "")})
    return controls


@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET or None, user=request.user)
    customers = form.apply(visible_customers(request.user)).select_related(*LIST_RELATED)
    page = capped_page(customers, request.GET.get("page"), PER_PAGE, COUNT_CAP)
    for customer in page.object_list:
        customer.stale_text = stale_reason(customer)
        customer.lifecycle_badge = LIFECYCLE_BADGES.get(customer.lifecycle, "")
    sort = form.chosen_sort
    context = {
        "form": form,
        "region_value": (form["region"].value() or "") if form.is_bound else "",
        "controls": _filter_controls(form) if not request.htmx else [],
        "page": page,
        "sort": sort,
        "sort_columns": {
            key: {
                "label": label,
                "active": sort.removeprefix("-") == key,
                "descending": sort == f"-{key}",
                "next": key if sort == f"-{key}" else (f"-{key}" if sort == key else key),
            }
            for key, label in SORT_LABELS.items()
        },
        "can_export": request.user.has_perm("customers.export_customers"),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "customers/customer_list_results.html", context)
    return render(request, "customers/customer_list.html", context)


@require_GET
def customer_list_export(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("customers.export_customers"):
        raise PermissionDenied
    form = CustomerFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        )
        return HttpResponseBadRequest(
            _("筛选条件有误：%(problems)s") % {"problems": problems},
            content_type="text/plain; charset=utf-8",
        )
    customers = form.apply(visible_customers(request.user))
    # The workbook is built before the response starts, so the database work never
    # outlives the request; the finished file is then streamed from disk in chunks.
    target = tempfile.TemporaryFile()
    stamp = deliveries.stamp_for(request.user)
    result = write_customer_list(customers, target, stamp=stamp)
    target.seek(0)
    return deliveries.send(
        request,
        target,
        filename=_("客户一览表") + f"-{timezone.localdate():%Y%m%d}.xlsx",
        fallback=f"customers-{timezone.localdate():%Y%m%d}.xlsx",
        content_type=deliveries.XLSX,
        action=Action.EXPORT,
        stamp=stamp,
        detail={
            "filters": deliveries.filters_text(form),
            "rows": result.rows,
            "capped": int(result.capped),
        },
    )


urlpatterns = [
    path("", customer_list, name="list"),
    path("export.xlsx", customer_list_export, name="export"),
]
