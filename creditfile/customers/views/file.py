"""Thin views of the customer file; the rules they apply live in customers/services/.

One page per customer with a tab per section (R-01…R-12). Every tab, form and action URL
answers a full page, and the same URL answers only the file's body when htmx asks for it,
so tabs switch in place and still work as bookmarks, in new windows and without script.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePosixPath

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from creditfile.access.services import audit, deliveries
from creditfile.access.services.audit import Action
from creditfile.core import roles
from creditfile.core.models import ProvenanceModel
from creditfile.customers.choices import Lifecycle
from creditfile.customers.forms import (
    PROVENANCE_FIELDS,
    AttachmentForm,
    BankAccountForm,
    BusinessStatusForm,
    CertificationForm,
    CharacteristicsForm,
    CompetitorForm,
    ContactForm,
    CorrespondenceForm,
    CustomerForm,
    FileEventForm,
    FinancialStatementForm,
    GuaranteeForm,
    KeyPersonForm,
    LifecycleForm,
    ObservationForm,
    TradingStatusForm,
    VisitForm,
)
from creditfile.customers.models import (
    Attachment,
    BankAccount,
    BusinessStatus,
    Certification,
    Characteristics,
    Competitor,
    Contact,
    Correspondence,
    Customer,
    FileEvent,
    FinancialStatement,
    Guarantee,
    KeyPerson,
    Observation,
    TradingStatus,
    Visit,
)
from creditfile.customers.services.attachments import add_attachment
from creditfile.customers.services.completeness import completeness
from creditfile.customers.services.file_edits import delete_record, save_customer, save_record
from creditfile.customers.services.financials import RATIO_LABELS, ratios
from creditfile.customers.services.freshness import stale_reason
from creditfile.customers.services.lifecycle import change_lifecycle
from creditfile.customers.services.personal_data import (
    MASK,
    can_view_personal_details,
    erase_personal_details,
    masked_fields,
    reveal_personal_details,
)
from creditfile.customers.services.timeline import timeline
from creditfile.customers.services.verification import can_verify, verify_section
from creditfile.customers.services.visibility import can_edit, get_customer_for

# --- What the file is made of ---------------------------------------------------------------


@dataclass(frozen=True)
class RecordType:
    """One kind of record of the file, addressed by `slug` in the section URLs."""

    slug: str
    model: type[models.Model]
    form: type
    tab: str
    single: bool = False  # one per customer, edited in place (upsert)

    @property
    def label(self):
        return self.model._meta.verbose_name

    @property
    def has_provenance(self) -> bool:
        return issubclass(self.model, ProvenanceModel)

    def perm(self, action: str) -> str:
        return f"customers.{action}_{self.model._meta.model_name}"

    def shown_fields(self) -> list[str]:
        """The fields a record shows: what its form edits, minus the provenance badge's."""
        model_fields = {f.name for f in self.model._meta.get_fields()}
        return [
            n for n in self.form.base_fields if n not in PROVENANCE_FIELDS and n in model_fields
        ]


RECORD_TYPES = {
    rt.slug: rt
    for rt in [
        RecordType("certifications", Certification, CertificationForm, "certifications"),
        RecordType("key-persons", KeyPerson, KeyPersonForm, "key-persons"),
        RecordType(
            "characteristics", Characteristics, CharacteristicsForm, "characteristics", True
        ),
        RecordType("business-status", BusinessStatus, BusinessStatusForm, "business", True),
        RecordType("competitors", Competitor, CompetitorForm, "business"),
        RecordType("trading-status", TradingStatus, TradingStatusForm, "trading", True),
        RecordType("observations", Observation, ObservationForm, "sales"),
        RecordType("visits", Visit, VisitForm, "sales"),
        RecordType("contacts", Contact, ContactForm, "contacts"),
        RecordType("correspondence", Correspondence, CorrespondenceForm, "correspondence"),
        RecordType("banks", BankAccount, BankAccountForm, "banks"),
        RecordType("financials", FinancialStatement, FinancialStatementForm, "financials"),
        RecordType("guarantees", Guarantee, GuaranteeForm, "guarantees"),
        RecordType("events", FileEvent, FileEventForm, "timeline"),
    ]
}


@dataclass(frozen=True)
class Tab:
    slug: str
    label: str
    template: str
    records: tuple[str, ...] = ()


_RECORDS = "customers/sections/records.html"
TABS = {
    tab.slug: tab
    for tab in [
        Tab("basic", gettext_lazy("基本信息"), "customers/sections/basic.html"),
        Tab("certifications", gettext_lazy("证照"), _RECORDS, ("certifications",)),
        Tab("key-persons", gettext_lazy("关键人物"), _RECORDS, ("key-persons",)),
        Tab("characteristics", gettext_lazy("客户特征"), _RECORDS, ("characteristics",)),
        Tab("business", gettext_lazy("业务状况"), _RECORDS, ("business-status", "competitors")),
        Tab("trading", gettext_lazy("交易现状"), _RECORDS, ("trading-status",)),
        Tab("sales", gettext_lazy("销售记录"), _RECORDS, ("observations", "visits")),
        Tab("contacts", gettext_lazy("联系人"), _RECORDS, ("contacts",)),
        Tab("correspondence", gettext_lazy("往来函电"), _RECORDS, ("correspondence",)),
        Tab("banks", gettext_lazy("往来银行"), _RECORDS, ("banks",)),
        Tab(
            "financials",
            gettext_lazy("财务报表"),
            "customers/sections/financials.html",
            ("financials",),
        ),
        Tab("guarantees", gettext_lazy("担保抵押"), _RECORDS, ("guarantees",)),
        Tab("attachments", gettext_lazy("附件目录"), "customers/sections/attachments.html"),
        Tab("timeline", gettext_lazy("时间线"), "customers/sections/timeline.html", ("events",)),
    ]
}

LIFECYCLE_BADGE = {
    Lifecycle.ACTIVE: "ok",
    Lifecycle.NEW: "ok",
    Lifecycle.DORMANT: "warn",
    Lifecycle.LOST: "warn",
    Lifecycle.BLACKLISTED: "bad",
}
TIMELINE_KINDS = {
    "change": gettext_lazy("变更记录"),
    "lifecycle": gettext_lazy("状态"),
    "event": gettext_lazy("重大事项"),
    "visit": gettext_lazy("拜访"),
    "correspondence": gettext_lazy("函电"),
}
# The statement's own columns head each period; the rest are its lines.
STATEMENT_HEAD_FIELDS = ("period_end", "period_type")


# --- Small helpers --------------------------------------------------------------------------


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _record_type(slug: str) -> RecordType:
    if slug not in RECORD_TYPES:
        raise Http404
    return RECORD_TYPES[slug]


def _tab_url(customer_pk: int, slug: str) -> str:
    if slug == "basic":
        return reverse("customers:detail", args=[customer_pk])
    if slug == "timeline":
        return reverse("customers:timeline", args=[customer_pk])
    return reverse("customers:section", args=[customer_pk, slug])


def _format(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _field_value(obj, name: str) -> str:
    field = obj._meta.get_field(name)
    if field.choices:
        raw = getattr(obj, field.attname)
        return _format(obj._get_FIELD_display(field) if raw not in (None, "") else None)
    return _format(getattr(obj, name))


def _rows(obj, names, masked: set[str] = frozenset()) -> list[tuple]:
    """(label, shown value, is masked) for each field, masking personal details (R-02)."""
    rows = []
    for name in names:
        label = obj._meta.get_field(name).verbose_name
        if name in masked:
            rows.append((label, MASK, True))
        else:
            rows.append((label, _field_value(obj, name), False))
    return rows


def _is_partial(request: HttpRequest) -> bool:
    """htmx asks for the body of the file only; a history restore needs the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _touched(request: HttpRequest) -> set[str]:
    """Fields the person has filled in or just left: the inline check reports only these."""
    touched = {
        name
        for name, value in request.POST.items()
        if name != "csrfmiddlewaretoken" and str(value).strip()
    }
    if request.htmx and request.htmx.trigger_name:
        touched.add(request.htmx.trigger_name)
    return touched


def _form_context(
    form,
    *,
    action: str,
    validate_url: str = "",
    title: str = "",
    cancel_url: str = "",
    touched: set[str] | None = None,
    multipart: bool = False,
    form_id: str = "file-form",
    submit_label: str = "",
) -> dict:
    """What _form.html needs; with `touched`, errors of untouched fields stay hidden."""
    rows = [(bf, list(bf.errors) if touched is None or bf.name in touched else []) for bf in form]
    return {
        "form": form,
        "rows": rows,
        "non_field_errors": form.non_field_errors() if touched is None else [],
        "action": action,
        "validate_url": validate_url,
        "title": title,
        "cancel_url": cancel_url,
        "multipart": multipart,
        "form_id": form_id,
        "submit_label": submit_label or _("保存"),
    }


# --- Rendering the file ---------------------------------------------------------------------


def _app_tabs(user, customer: Customer) -> list[tuple[str, str]]:
    """Tabs other apps render into the file (loaded from their own URLs): credit (grades,
    lines, evaluations, applications), receivables (position, habits, documents) and
    collections (cases, actions, promises)."""
    tabs = []
    if user.has_perm("credit.view_creditapplication"):
        tabs.append((_("信用"), reverse("credit:customer_credit", args=[customer.pk])))
    if user.has_perm("receivables.view_invoice"):
        tabs.append((_("应收"), reverse("receivables:customer", args=[customer.pk])))
    if user.has_perm("receivables.view_collectioncase"):
        tabs.append(
            (_("商账追讨"), reverse("receivables:customer_collections", args=[customer.pk]))
        )
    return tabs


def _file_context(request: HttpRequest, customer: Customer, tab_slug: str) -> dict:
    user = request.user
    writable = can_edit(user, customer)
    score, missing = completeness(customer)
    lifecycle_allowed = writable and user.has_perm("customers.change_lifecycle")
    return {
        "customer": customer,
        "tabs": [(tab, _tab_url(customer.pk, tab.slug)) for tab in TABS.values()],
        "active_tab": tab_slug,
        "completeness_score": score,
        "missing": missing,
        "stale_reason": stale_reason(customer),
        "lifecycle_badge": LIFECYCLE_BADGE.get(customer.lifecycle, ""),
        "can_write": writable,
        "can_edit_customer": writable and user.has_perm("customers.change_customer"),
        "lifecycle_form": LifecycleForm(customer=customer) if lifecycle_allowed else None,
        "app_tabs": _app_tabs(user, customer),
    }


def _render_file(
    request: HttpRequest, customer: Customer, tab_slug: str, panel: dict, **extra
) -> HttpResponse:
    context = _file_context(request, customer, tab_slug) | panel | extra
    template = (
        "customers/sections/_file.html"
        if _is_partial(request)
        else "customers/customer_detail.html"
    )
    response = render(request, template, context)
    # The same URL answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _record_block(
    request: HttpRequest,
    customer: Customer,
    rt: RecordType,
    writable: bool,
    revealed: dict | None = None,
):
    """A section of a tab: its records with their buttons, for the people allowed to use them.

    Personal details are masked for everyone; `revealed` maps the one key person just
    revealed (for a stated purpose) to its rows, shown in this response only.
    """
    user = request.user
    revealed = revealed or {}
    may_reveal = rt.model is KeyPerson and can_view_personal_details(user)
    verify = writable and rt.has_provenance and can_verify(user)
    change = writable and user.has_perm(rt.perm("change"))
    delete = writable and user.has_perm(rt.perm("delete"))
    related = ["entered_by", "verified_by"] if rt.has_provenance else ["recorded_by"]
    records = list(rt.model.objects.filter(customer=customer).select_related(*related))
    masked = masked_fields(rt.model)
    names = rt.shown_fields()
    items = []
    for obj in records:
        args = [customer.pk, rt.slug, obj.pk]
        items.append(
            {
                "obj": obj,
                "rows": revealed.get(obj.pk) or _rows(obj, names, masked),
                "revealed": obj.pk in revealed,
                "data_request_url": (
                    reverse("customers:data_request_add") + f"?key_person={obj.pk}"
                    if rt.model is KeyPerson and user.has_perm("customers.add_datasubjectrequest")
                    else ""
                ),
                "reveal_url": (
                    reverse("customers:key_person_reveal", args=[customer.pk, obj.pk])
                    if may_reveal
                    else ""
                ),
                "edit_url": (
                    (
                        reverse("customers:section_upsert", args=args[:2])
                        if rt.single
                        else reverse("customers:section_edit", args=args)
                    )
                    if change
                    else ""
                ),
                "delete_url": (
                    reverse("customers:section_delete", args=args)
                    if delete and not rt.single
                    else ""
                ),
                "verify_url": (
                    reverse("customers:section_verify", args=args)
                    if verify and not obj.is_verified
                    else ""
                ),
            }
        )
    add_url = ""
    if writable and user.has_perm(rt.perm("add")) and not (rt.single and records):
        add_url = reverse(
            "customers:section_upsert" if rt.single else "customers:section_add",
            args=[customer.pk, rt.slug],
        )
    return {"rt": rt, "items": items, "add_url": add_url}


def _panel(request: HttpRequest, customer: Customer, tab: Tab, revealed=None) -> dict:
    """The content of one tab."""
    user = request.user
    writable = can_edit(user, customer)
    panel: dict = {"panel_template": tab.template, "tab": tab}
    blocks = {
        slug: _record_block(request, customer, RECORD_TYPES[slug], writable, revealed)
        for slug in tab.records
    }
    panel["blocks"] = list(blocks.values())
    if tab.slug == "basic":
        names = [n for n in CustomerForm.base_fields if n not in PROVENANCE_FIELDS]
        panel["basic_rows"] = _rows(customer, names)
        if writable and can_verify(user) and not customer.is_verified:
            panel["basic_verify_url"] = reverse(
                "customers:section_verify", args=[customer.pk, "basic", customer.pk]
            )
    elif tab.slug == "financials":
        panel.update(_financials(blocks["financials"]))
    elif tab.slug == "attachments":
        panel["attachments"] = customer.attachment_set.select_related("recorded_by")
        if writable and user.has_perm("customers.add_attachment"):
            panel["upload"] = _upload_context(
                customer, AttachmentForm(initial={"document_date": timezone.localdate()})
            )
    elif tab.slug == "timeline":
        panel["entries"] = _timeline_entries(user, customer)
        if blocks["events"]["add_url"]:
            form = FileEventForm(instance=FileEvent(customer=customer))
            panel["event_form"] = _form_context(
                form,
                action=reverse("customers:section_add", args=[customer.pk, "events"]),
                validate_url=reverse("customers:section_validate", args=[customer.pk, "events"]),
                title=_("记录重大事项"),
                form_id="event-form",
            )
    return panel


def _financials(block: dict) -> dict:
    """Statements side by side, oldest period first, with their ratios below (R-08)."""
    items = sorted(block["items"], key=lambda i: (i["obj"].period_end, i["obj"].period_type))
    statements = [i["obj"] for i in items]
    names = [n for n in block["rt"].shown_fields() if n not in STATEMENT_HEAD_FIELDS]
    line_rows = [
        (
            FinancialStatement._meta.get_field(n).verbose_name,
            [_field_value(s, n) for s in statements],
        )
        for n in names
    ]
    computed = [ratios(s) for s in statements]
    ratio_rows = [
        (label, [_format(getattr(r, key)) for r in computed]) for key, label in RATIO_LABELS.items()
    ]
    return {
        "statement_items": items,
        "line_rows": line_rows,
        "ratio_rows": ratio_rows,
        "column_span": len(items) + 1,
    }


def _timeline_entries(user, customer: Customer) -> list[tuple]:
    masked = masked_fields(KeyPerson)
    shown = []
    for entry in timeline(customer):
        changes = entry.changes
        if entry.model is KeyPerson and masked:
            changes = [
                (label, MASK, MASK) if name in masked else (label, old, new)
                for (label, old, new), name in zip(entry.changes, entry.field_names, strict=False)
            ]
        shown.append((entry, TIMELINE_KINDS.get(entry.kind, entry.kind), changes))
    return shown


def _upload_context(customer: Customer, form: AttachmentForm) -> dict:
    return _form_context(
        form,
        action=reverse("customers:attachment_upload", args=[customer.pk]),
        title=_("上传附件"),
        multipart=True,
        submit_label=_("上传"),
        form_id="upload-form",
    )


def _saved(request: HttpRequest, customer_pk: int, tab_slug: str, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(_tab_url(customer_pk, tab_slug))


# --- Customer: create, read, edit -----------------------------------------------------------


def _owner_initial(user) -> dict:
    """A new file belongs to the rep who creates it, or to the manager's department."""
    initial = {"source": "sales"}
    if user.has_role(roles.SALES_REP):
        initial.update(owner=user.pk, department=user.department_id)
    elif user.has_role(roles.DEPT_MANAGER):
        initial["department"] = user.department_id
    return initial


def _create_form_context(form, touched=None) -> dict:
    return _form_context(
        form,
        action=reverse("customers:create"),
        validate_url=reverse("customers:create_validate"),
        title=_("新建客户档案"),
        cancel_url=reverse("customers:list"),
        touched=touched,
    )


def customer_create(request: HttpRequest) -> HttpResponse:
    _require(request.user, "customers.add_customer")
    form = CustomerForm(request.POST or None, initial=_owner_initial(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            customer = save_customer(form.instance, request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已新建客户档案“%(name)s”。") % {"name": customer.name})
            return redirect("customers:detail", customer.pk)
    return render(request, "customers/customer_form.html", {"f": _create_form_context(form)})


@require_POST
def customer_create_validate(request: HttpRequest) -> HttpResponse:
    _require(request.user, "customers.add_customer")
    form = CustomerForm(request.POST)
    form.is_valid()
    context = {"f": _create_form_context(form, touched=_touched(request))}
    return render(request, "customers/sections/_form_errors.html", context)


def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return customer_section(request, pk, "basic")


@require_GET
def customer_section(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    tab = TABS.get(section)
    if tab is None:
        raise Http404
    customer = get_customer_for(request.user, pk, "view")
    audit.record_view(customer, section=tab.slug)
    return _render_file(request, customer, tab.slug, _panel(request, customer, tab))


def customer_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    return customer_section(request, pk, "timeline")


def _edit_form_context(customer_pk: int, form, touched=None) -> dict:
    return _form_context(
        form,
        action=reverse("customers:edit", args=[customer_pk]),
        validate_url=reverse("customers:edit_validate", args=[customer_pk]),
        title=_("编辑基本信息"),
        cancel_url=reverse("customers:detail", args=[customer_pk]),
        touched=touched,
    )


def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for(request.user, pk, "edit")
    _require(request.user, "customers.change_customer")
    # The form works on its own copy, so a rejected value never shows in the page header.
    form = CustomerForm(request.POST or None, instance=Customer.objects.get(pk=customer.pk))
    if request.method == "POST" and form.is_valid():
        try:
            save_customer(form.instance, request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _saved(request, pk, "basic", _("已保存基本信息。"))
    panel = {"panel_template": "customers/sections/_form.html", "f": _edit_form_context(pk, form)}
    return _render_file(request, customer, "basic", panel)


@require_POST
def customer_edit_validate(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for(request.user, pk, "edit")
    _require(request.user, "customers.change_customer")
    form = CustomerForm(request.POST, instance=customer)
    form.is_valid()
    context = {"f": _edit_form_context(pk, form, touched=_touched(request))}
    return render(request, "customers/sections/_form_errors.html", context)


def customer_lifecycle(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the customer along its lifecycle (R-12); the service decides what is allowed."""
    customer = get_customer_for(request.user, pk, "edit")
    _require(request.user, "customers.change_lifecycle")
    form = LifecycleForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            change_lifecycle(
                customer, form.cleaned_data["to_state"], form.cleaned_data["reason"], request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _saved(request, pk, "basic", _("已变更客户状态。"))
    panel = _panel(request, customer, TABS["basic"])
    return _render_file(request, customer, "basic", panel, lifecycle_form=form)


# --- Sections: add, edit, upsert, validate, delete, verify ----------------------------------


def _make_form(request: HttpRequest, rt: RecordType, instance, data=None):
    return rt.form(data, instance=instance)


def _record_for(request: HttpRequest, customer: Customer, rt: RecordType, item: int | None):
    """The record a form works on, after checking the model permission that writing it needs."""
    if item is not None:
        _require(request.user, rt.perm("change"))
        return get_object_or_404(rt.model, pk=item, customer=customer)
    if rt.single:
        existing = rt.model.objects.filter(customer=customer).first()
        _require(request.user, rt.perm("change" if existing else "add"))
        return existing or rt.model(customer=customer)
    _require(request.user, rt.perm("add"))
    return rt.model(customer=customer)


def _record_form_context(customer: Customer, rt: RecordType, form, touched=None) -> dict:
    instance = form.instance
    validate_url = reverse("customers:section_validate", args=[customer.pk, rt.slug])
    if rt.single:
        action = reverse("customers:section_upsert", args=[customer.pk, rt.slug])
        title = _("编辑%(section)s") % {"section": rt.label}
    elif instance.pk:
        action = reverse("customers:section_edit", args=[customer.pk, rt.slug, instance.pk])
        validate_url += f"?item={instance.pk}"
        title = _("编辑%(section)s") % {"section": rt.label}
    else:
        action = reverse("customers:section_add", args=[customer.pk, rt.slug])
        title = _("添加%(section)s") % {"section": rt.label}
    return _form_context(
        form,
        action=action,
        validate_url=validate_url,
        title=title,
        cancel_url=_tab_url(customer.pk, rt.tab),
        touched=touched,
    )


def _record_form_view(request: HttpRequest, pk: int, section: str, item: int | None):
    rt = _record_type(section)
    customer = get_customer_for(request.user, pk, "edit")
    instance = _record_for(request, customer, rt, item)
    adding = instance.pk is None
    form = _make_form(request, rt, instance, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        save_record(form.instance, customer, request.user)
        if rt.model is KeyPerson and form.clears_private:
            erase_personal_details(
                form.instance, reason=_("编辑关键人物时删除"), user=request.user, request=request
            )
        template = _("已添加%(section)s。") if adding else _("已保存%(section)s。")
        return _saved(request, pk, rt.tab, template % {"section": rt.label})
    panel = {
        "panel_template": "customers/sections/_form.html",
        "f": _record_form_context(customer, rt, form),
    }
    return _render_file(request, customer, rt.tab, panel)


def section_add(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    if _record_type(section).single:
        raise Http404
    return _record_form_view(request, pk, section, None)


def section_edit(request: HttpRequest, pk: int, section: str, item: int) -> HttpResponse:
    return _record_form_view(request, pk, section, item)


def section_upsert(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    """The one-per-customer sections (characteristics, business and trading status)."""
    if not _record_type(section).single:
        raise Http404
    return _record_form_view(request, pk, section, None)


@require_POST
def section_validate(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    """The inline check: the same form and model rules, answered as the form fragment."""
    rt = _record_type(section)
    customer = get_customer_for(request.user, pk, "edit")
    item = request.GET.get("item")
    if item is not None and not item.isdigit():
        raise Http404
    instance = _record_for(request, customer, rt, int(item) if item else None)
    form = _make_form(request, rt, instance, request.POST)
    form.is_valid()
    context = {"f": _record_form_context(customer, rt, form, touched=_touched(request))}
    if rt.slug == "events":
        context["f"]["form_id"] = "event-form"
    return render(request, "customers/sections/_form_errors.html", context)


@require_POST
def section_delete(request: HttpRequest, pk: int, section: str, item: int) -> HttpResponse:
    rt = _record_type(section)
    customer = get_customer_for(request.user, pk, "edit")
    _require(request.user, rt.perm("delete"))
    record = get_object_or_404(rt.model, pk=item, customer=customer)
    delete_record(record)
    return _saved(
        request,
        pk,
        rt.tab,
        _("已删除%(section)s“%(record)s”。")
        % {
            "section": rt.label,
            "record": record,
        },
    )


@require_POST
def section_verify(request: HttpRequest, pk: int, section: str, item: int) -> HttpResponse:
    """Mark a record verified (R-10); `basic` is the customer's own registry data."""
    customer = get_customer_for(request.user, pk, "edit")
    if not can_verify(request.user):
        raise PermissionDenied
    if section == "basic":
        if item != customer.pk:
            raise Http404
        record, tab = customer, "basic"
    else:
        rt = _record_type(section)
        if not rt.has_provenance:
            raise Http404
        record, tab = get_object_or_404(rt.model, pk=item, customer=customer), rt.tab
    verify_section(record, request.user)
    return _saved(request, pk, tab, _("已核实“%(record)s”。") % {"record": record})


@require_POST
def key_person_reveal(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    """Show one key person's private details for a stated purpose (R-02), audited.

    htmx swaps the answer into the record; without script the whole tab comes back with
    that record revealed. Either way the values live only in this no-store response.
    """
    customer = get_customer_for(request.user, pk, "view")
    person = get_object_or_404(KeyPerson, pk=item, customer=customer)
    purpose = request.POST.get("purpose", "")
    error = ""
    rows = None
    try:
        reveal_personal_details(request.user, person, purpose, request=request)
    except ValidationError as exc:
        error = exc.message_dict["purpose"][0]
    else:
        rows = _rows(person, RECORD_TYPES["key-persons"].shown_fields())
    if _is_partial(request):
        names = RECORD_TYPES["key-persons"].shown_fields()
        context = {
            "person": person,
            "rows": rows or _rows(person, names, masked_fields(KeyPerson)),
            "revealed": rows is not None,
            "reveal_url": reverse("customers:key_person_reveal", args=[pk, person.pk]),
            "error": error,
            "purpose": purpose,
        }
        return render(request, "customers/sections/_key_person_fields.html", context)
    if error:
        messages.error(request, error)
    panel = _panel(request, customer, TABS["key-persons"], {person.pk: rows} if rows else None)
    return _render_file(request, customer, "key-persons", panel)


# --- Attachments (R-09) ---------------------------------------------------------------------


def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for(request.user, pk, "edit")
    _require(request.user, "customers.add_attachment")
    form = AttachmentForm(
        request.POST or None,
        request.FILES or None,
        initial={"document_date": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            attachment = add_attachment(
                customer,
                data["file"],
                category=data["category"],
                title=data["title"],
                document_date=data["document_date"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _saved(
                request, pk, "attachments", _("已上传附件“%(title)s”。") % {"title": attachment}
            )
    panel = _panel(request, customer, TABS["attachments"])
    panel["upload"] = _upload_context(customer, form)
    return _render_file(request, customer, "attachments", panel)


@require_GET
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    """The only way a stored file leaves the server: after the same check as the file itself."""
    customer = get_customer_for(request.user, pk, "view")
    attachment = get_object_or_404(Attachment, pk=attachment_id, customer=customer)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return deliveries.send(
        request,
        handle,
        filename=attachment.original_name,
        fallback=f"attachment-{attachment.pk}{PurePosixPath(attachment.original_name).suffix}",
        content_type=attachment.content_type,
        action=Action.DOWNLOAD,
        customer=customer,
        obj=attachment,
        detail={"size": attachment.size, "sha256": attachment.sha256},
    )


urlpatterns = [
    path("new/", customer_create, name="create"),
    path("new/validate/", customer_create_validate, name="create_validate"),
    path("<int:pk>/", customer_detail, name="detail"),
    path("<int:pk>/edit/", customer_edit, name="edit"),
    path("<int:pk>/edit/validate/", customer_edit_validate, name="edit_validate"),
    path("<int:pk>/lifecycle/", customer_lifecycle, name="lifecycle"),
    path("<int:pk>/timeline/", customer_timeline, name="timeline"),
    path("<int:pk>/attachments/upload/", attachment_upload, name="attachment_upload"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/",
        attachment_download,
        name="attachment_download",
    ),
    path("<int:pk>/key-persons/<int:item>/reveal/", key_person_reveal, name="key_person_reveal"),
    path("<int:pk>/<slug:section>/", customer_section, name="section"),
    path("<int:pk>/<slug:section>/add/", section_add, name="section_add"),
    path("<int:pk>/<slug:section>/edit/", section_upsert, name="section_upsert"),
    path("<int:pk>/<slug:section>/validate/", section_validate, name="section_validate"),
    path("<int:pk>/<slug:section>/<int:item>/edit/", section_edit, name="section_edit"),
    path("<int:pk>/<slug:section>/<int:item>/delete/", section_delete, name="section_delete"),
    path("<int:pk>/<slug:section>/<int:item>/verify/", section_verify, name="section_verify"),
]
