"""Collections 商账追讨 screens (R-30): case lists and follow-ups, the case page, the
customer file's panel, dunning runs (propose → review → confirm → download) and the
letter templates. Thin views over services/collections.py, dunning.py, dunning_letters.py.

Every case, letter and run is reached through the customers the user may see; a hidden
one is a 404, a missing permission a 403.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditfile.access.services import audit
from creditfile.core.models import Company
from creditfile.customers.services.visibility import get_customer_for, visible_customers
from creditfile.receivables.choices import ActionKind, CaseOutcome, CaseStatus, RunStatus
from creditfile.receivables.models import (
    CollectionCase,
    DunningLetter,
    DunningRun,
    DunningTemplate,
    Invoice,
)
from creditfile.receivables.services import collections, dunning, dunning_letters
from creditfile.receivables.services.collections import CollectionError

PER_PAGE = 50


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(f"receivables.{perm}"):
        raise PermissionDenied


def _case_for(request: HttpRequest, pk: int, perm: str = "view_collectioncase"):
    _require(request, perm)
    return get_object_or_404(
        collections.visible_cases(request.user).select_related("customer", "company", "owner"),
        pk=pk,
    )


# --- Forms (input parsing only; the rules are in the services) -------------------------------


class ActionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("催收方式"), choices=ActionKind.choices)
    done_on = forms.DateField(
        label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    contact_person = forms.CharField(
        label=gettext_lazy("对方联系人"), max_length=50, required=False
    )
    note = forms.CharField(label=gettext_lazy("情况记录"), widget=forms.Textarea(attrs={"rows": 3}))
    invoices = forms.ModelMultipleChoiceField(
        label=gettext_lazy("涉及发票"), queryset=Invoice.objects.none(), required=False
    )
    next_action_on = forms.DateField(
        label=gettext_lazy("下次跟进日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    next_action_note = forms.CharField(
        label=gettext_lazy("下次跟进事项"), max_length=200, required=False
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            self.fields["invoices"].queryset = Invoice.objects.filter(
                customer_id=case.customer_id, company_id=case.company_id, open_base__gt=0
            )


class PromiseForm(forms.Form):
    promised_date = forms.DateField(
        label=gettext_lazy("承诺付款日"), widget=forms.DateInput(attrs={"type": "date"})
    )
    amount = forms.DecimalField(
        label=gettext_lazy("承诺金额（元）"), max_digits=18, decimal_places=2
    )
    contact_person = forms.CharField(label=gettext_lazy("承诺人"), max_length=50, required=False)
    note = forms.CharField(label=gettext_lazy("备注"), max_length=300, required=False)


class FollowUpForm(forms.Form):
    next_action_on = forms.DateField(
        label=gettext_lazy("下次跟进日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    next_action_note = forms.CharField(
        label=gettext_lazy("下次跟进事项"), max_length=200, required=False
    )


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("结果"), choices=CaseOutcome.choices)
    outcome_note = forms.CharField(
        label=gettext_lazy("结案说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TemplateForm(forms.ModelForm):
    class Meta:
        model = DunningTemplate
        fields = ["name", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 26})}

    def clean(self):
        cleaned = super().clean()
        try:
            dunning_letters.validate_template(cleaned.get("subject", ""), cleaned.get("body", ""))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    self.add_error(field, error)
        return cleaned


def _refused(form: forms.Form, exc: CollectionError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- Case lists ------------------------------------------------------------------------------


@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    _require(request, "view_collectioncase")
    today = timezone.localdate()
    cases = collections.visible_cases(request.user).select_related("customer", "company", "owner")
    scope = request.GET.get("scope") or "mine"
    if scope == "mine":
        cases = cases.filter(owner=request.user)
    status = request.GET.get("status") or CaseStatus.OPEN
    listed = cases.filter(status=status) if status in CaseStatus.values else cases
    page = Paginator(listed.order_by("next_action_on", "-opened_on", "id"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "receivables/collections/case_list.html",
        {
            "page": page,
            "scope": scope,
            "status": status,
            "statuses": CaseStatus.choices,
            "due": collections.due_follow_ups(cases, today)[:100],
            "broken": collections.broken_promise_cases(cases).count(),
            "today": today,
            "can_run": request.user.has_perm("receivables.run_dunning"),
            "can_edit_templates": request.user.has_perm("receivables.change_dunningtemplate"),
        },
    )


# --- The case page ---------------------------------------------------------------------------


def _case_context(request: HttpRequest, case: CollectionCase, **forms_) -> dict:
    user = request.user
    today = timezone.localdate()
    writable = case.is_open and user.has_perm("receivables.change_collectioncase")
    overdue = list(collections.overdue_invoices(case.customer_id, case.company_id, today))
    for invoice in overdue:
        invoice.days_overdue = (today - invoice.due_date).days
    context = {
        "case": case,
        "figures": collections.case_figures(case, today),
        "overdue": overdue,
        "actions": case.actions.select_related("done_by", "letter").prefetch_related("invoices"),
        "promises": case.promises.select_related("recorded_by"),
        "letters": case.letters.select_related("generated_by"),
        "today": today,
        "can_act": writable and user.has_perm("receivables.add_collectionaction"),
        "can_promise": writable and user.has_perm("receivables.add_paymentpromise"),
        "can_letter": writable and user.has_perm("receivables.add_dunningletter"),
        "can_close": writable,
        "can_assign": case.is_open and user.has_perm("receivables.assign_collectioncase"),
        "templates": DunningTemplate.objects.all(),
        "action_form": forms_.get("action_form")
        or ActionForm(case=case, initial={"done_on": today}),
        "promise_form": forms_.get("promise_form") or PromiseForm(),
        "follow_up_form": forms_.get("follow_up_form")
        or FollowUpForm(
            initial={
                "next_action_on": case.next_action_on,
                "next_action_note": case.next_action_note,
            }
        ),
        "close_form": forms_.get("close_form") or CloseForm(),
        "error": forms_.get("error", ""),
    }
    if context["can_assign"]:
        from creditfile.core.models import User

        context["collectors"] = User.objects.filter(is_active=True, groups__isnull=False).distinct()
    return context


@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for(request, pk)
    if case.is_open:
        collections.evaluate_promises(case)  # the ledger may have moved since the last look
    return render(request, "receivables/collections/case_detail.html", _case_context(request, case))


def _back(case: CollectionCase) -> HttpResponse:
    return redirect("receivables:case", pk=case.pk)


def _open_case_for_change(request: HttpRequest, pk: int) -> CollectionCase:
    return _case_for(request, pk, "change_collectioncase")


@require_POST
def case_open(request: HttpRequest, customer_pk: int) -> HttpResponse:
    _require(request, "add_collectioncase")
    customer = get_customer_for(request.user, customer_pk)
    company = (
        Company.objects.filter(pk=_id(request.POST.get("company"))).first() or Company.default()
    )
    case, created = collections.open_case(customer, company, request.user)
    if created:
        messages.success(request, _("已立案。"))
    return _back(case)


@require_POST
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _open_case_for_change(request, pk)
    _require(request, "add_collectionaction")
    form = ActionForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        try:
            collections.record_action(
                case,
                request.user,
                data["kind"],
                done_on=data["done_on"],
                contact_person=data["contact_person"],
                note=data["note"],
                invoices=data["invoices"],
                next_action_on=data["next_action_on"],
                next_action_note=data["next_action_note"],
            )
        except CollectionError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已记录催收情况，并归入客户往来函电。"))
            return _back(case)
    context = _case_context(request, case, action_form=form)
    return render(request, "receivables/collections/case_detail.html", context, status=422)


@require_POST
def promise_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _open_case_for_change(request, pk)
    _require(request, "add_paymentpromise")
    form = PromiseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            collections.add_promise(
                case,
                request.user,
                data["promised_date"],
                data["amount"],
                contact_person=data["contact_person"],
                note=data["note"],
            )
        except CollectionError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已记录付款承诺。"))
            return _back(case)
    context = _case_context(request, case, promise_form=form)
    return render(request, "receivables/collections/case_detail.html", context, status=422)


@require_POST
def follow_up_set(request: HttpRequest, pk: int) -> HttpResponse:
    case = _open_case_for_change(request, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            collections.set_follow_up(
                case, form.cleaned_data["next_action_on"], form.cleaned_data["next_action_note"]
            )
        except CollectionError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已更新下次跟进。"))
            return _back(case)
    context = _case_context(request, case, follow_up_form=form)
    return render(request, "receivables/collections/case_detail.html", context, status=422)


@require_POST
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    case = _open_case_for_change(request, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            collections.close_case(
                case, request.user, form.cleaned_data["outcome"], form.cleaned_data["outcome_note"]
            )
        except CollectionError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("案件已结案。"))
            return _back(case)
    context = _case_context(request, case, close_form=form)
    return render(request, "receivables/collections/case_detail.html", context, status=422)


@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for(request, pk, "assign_collectioncase")
    from creditfile.core.models import User

    owner = User.objects.filter(pk=_id(request.POST.get("owner")), is_active=True).first()
    if owner is None:
        messages.error(request, _("请选择在职的跟进人。"))
        return _back(case)
    if not visible_customers(owner).filter(pk=case.customer_id).exists():
        messages.error(request, _("%(user)s 无权查看该客户，不能指派给其跟进。") % {"user": owner})
        return _back(case)
    try:
        collections.assign_case(case, owner)
    except CollectionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已指派给 %(user)s。") % {"user": owner})
    return _back(case)


@require_POST
def letter_generate(request: HttpRequest, pk: int) -> HttpResponse:
    """A letter outside a run, e.g. after a broken promise; it lists every overdue invoice."""
    case = _open_case_for_change(request, pk)
    _require(request, "add_dunningletter")
    template = get_object_or_404(DunningTemplate, pk=_id(request.POST.get("template")))
    try:
        letter = dunning.generate_letter(case, template, request.user)
    except CollectionError as exc:
        messages.error(request, exc.message)
        return _back(case)
    messages.success(request, _("已生成“%(subject)s”。") % {"subject": letter.subject})
    return _back(case)


# --- Letters ---------------------------------------------------------------------------------


def _letter_for(request: HttpRequest, pk: int) -> DunningLetter:
    _require(request, "view_dunningletter")
    return get_object_or_404(
        DunningLetter.objects.filter(customer__in=visible_customers(request.user)).select_related(
            "customer", "company"
        ),
        pk=pk,
    )


@require_GET
def letter_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return dunning_letters.send_letter(request, _letter_for(request, pk), "pdf", inline=True)


@require_GET
def letter_docx(request: HttpRequest, pk: int) -> HttpResponse:
    return dunning_letters.send_letter(request, _letter_for(request, pk), "docx")


# --- The customer file's panel ---------------------------------------------------------------


@require_GET
def customer_collections(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """商账追讨 on the customer file: every case with its actions, promises and letters."""
    _require(request, "view_collectioncase")
    customer = get_customer_for(request.user, customer_pk)
    audit.record_view(customer, section="collections")
    cases = (
        CollectionCase.objects.filter(customer=customer)
        .select_related("company", "owner")
        .prefetch_related("actions__done_by", "promises", "letters")
    )
    context = {
        "customer": customer,
        "cases": cases,
        "can_open": request.user.has_perm("receivables.add_collectioncase"),
        "has_open": any(case.is_open for case in cases),
    }
    template = (
        "receivables/collections/customer_tab.html"
        if request.htmx
        else "receivables/collections/customer_page.html"
    )
    response = render(request, template, context)
    response["Vary"] = "HX-Request"
    return response


# --- Dunning runs ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def run_list(request: HttpRequest) -> HttpResponse:
    _require(request, "view_dunningrun")
    companies = Company.objects.filter(is_active=True)
    if request.method == "POST":
        _require(request, "run_dunning")
        company = get_object_or_404(companies, pk=_id(request.POST.get("company")))
        try:
            run = dunning.propose_run(company, timezone.localdate(), request.user)
        except CollectionError as exc:
            messages.error(request, exc.message)
            return redirect("receivables:runs")
        return redirect("receivables:run", pk=run.pk)
    runs = DunningRun.objects.select_related("company", "created_by", "confirmed_by")[:50]
    return render(
        request,
        "receivables/collections/run_list.html",
        {
            "runs": runs,
            "companies": companies or [Company.default()],
            "can_run": request.user.has_perm("receivables.run_dunning"),
            "policies": [
                (c, dunning.policy_for(c).levels.select_related("template")) for c in companies
            ],
        },
    )


def _id(value) -> int | None:
    """A posted id, or None for anything that is not one (then: not found, never a 500)."""
    return int(value) if value and str(value).isdigit() else None


def _run_for(request: HttpRequest, pk: int) -> DunningRun:
    _require(request, "view_dunningrun")
    return get_object_or_404(DunningRun.objects.select_related("company"), pk=pk)


@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    proposals = (
        run.proposals.filter(customer__in=visible_customers(request.user))
        .select_related("customer", "level", "letter", "case")
        .prefetch_related("lines__invoice")
    )
    return render(
        request,
        "receivables/collections/run_detail.html",
        {
            "run": run,
            "proposals": proposals,
            "can_confirm": run.status == RunStatus.PROPOSED
            and request.user.has_perm("receivables.run_dunning"),
            "letters": [p.letter for p in proposals if p.letter_id],
        },
    )


@require_POST
def run_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    _require(request, "run_dunning")
    visible = set(
        run.proposals.filter(customer__in=visible_customers(request.user)).values_list(
            "pk", flat=True
        )
    )
    chosen = [int(v) for v in request.POST.getlist("proposal") if v.isdigit()]
    try:
        result = dunning.confirm_run(run, request.user, [pk for pk in chosen if pk in visible])
    except CollectionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已确认：生成函件 %(letters)s 份，电话/上门跟进 %(calls)s 户。")
            % {"letters": len(result.letters), "calls": result.calls},
        )
        if result.skipped:
            messages.warning(
                request,
                _("以下客户已回款，未发出：%(names)s") % {"names": "、".join(result.skipped)},
            )
    return redirect("receivables:run", pk=run.pk)


@require_POST
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    _require(request, "run_dunning")
    try:
        dunning.cancel_run(run, request.user)
    except CollectionError as exc:
        messages.error(request, exc.message)
    return redirect("receivables:runs")


@require_GET
def run_letters_zip(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    _require(request, "view_dunningletter")
    letters = DunningLetter.objects.filter(
        proposal__run=run, customer__in=visible_customers(request.user)
    ).select_related("customer", "company")
    return dunning_letters.send_run_letters(request, run, letters)


# --- Templates -------------------------------------------------------------------------------


@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    _require(request, "view_dunningtemplate")
    dunning.ensure_default_templates()
    return render(
        request,
        "receivables/collections/template_list.html",
        {
            "templates": DunningTemplate.objects.select_related("updated_by"),
            "can_change": request.user.has_perm("receivables.change_dunningtemplate"),
            "can_add": request.user.has_perm("receivables.add_dunningtemplate"),
        },
    )


def _preview(subject: str, body: str) -> dict:
    try:
        dunning_letters.validate_template(subject, body)
    except ValidationError as exc:
        return {"preview_errors": [e for errors in exc.message_dict.values() for e in errors]}
    values = dunning_letters.sample_values()
    return {
        "preview_subject": dunning_letters.render_text(subject, values),
        "preview_blocks": dunning_letters.layout(dunning_letters.render_text(body, values)),
        "preview_rows": dunning_letters.table_cells(values["invoices"]),
        "preview_head": dunning_letters.TABLE_HEAD,
    }


@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    template = None
    if pk is None:
        _require(request, "add_dunningtemplate")
    else:
        _require(request, "change_dunningtemplate")
        template = get_object_or_404(DunningTemplate, pk=pk)
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.updated_by = request.user
        saved.save()
        messages.success(request, _("已保存模板“%(name)s”。") % {"name": saved.name})
        return redirect("receivables:templates")
    context = {
        "form": form,
        "template": template,
        "variables": dunning_letters.VARIABLES.items(),
        "syntax_help": _(
            "模板使用 Django 模板语法：变量写作 {{ customer_name }}，可用 if、for 标签"
            "和 date、floatformat、default 等过滤器。正文必须保留 "
            "{{ invoice_table }}（单独一行，打印为逾期发票明细表）或逐张列出 invoices，"
            "函件才能列出客户的全部逾期发票。称谓行以“：”结尾；“敬礼”之后的各行"
            "（落款、日期）右对齐。"
        ),
        **_preview(form["subject"].value() or "", form["body"].value() or ""),
    }
    return render(request, "receivables/collections/template_form.html", context)


@require_POST
def template_preview(request: HttpRequest) -> HttpResponse:
    if not (
        request.user.has_perm("receivables.change_dunningtemplate")
        or request.user.has_perm("receivables.add_dunningtemplate")
    ):
        raise PermissionDenied
    context = _preview(request.POST.get("subject", ""), request.POST.get("body", ""))
    return render(request, "receivables/collections/_preview.html", context)


urlpatterns = [
    path("collections/", case_list, name="cases"),
    path("collections/<int:pk>/", case_detail, name="case"),
    path("collections/<int:pk>/actions/", action_add, name="case_action"),
    path("collections/<int:pk>/promises/", promise_add, name="case_promise"),
    path("collections/<int:pk>/follow-up/", follow_up_set, name="case_follow_up"),
    path("collections/<int:pk>/close/", case_close, name="case_close"),
    path("collections/<int:pk>/assign/", case_assign, name="case_assign"),
    path("collections/<int:pk>/letter/", letter_generate, name="case_letter"),
    path(
        "customers/<int:customer_pk>/collections/",
        customer_collections,
        name="customer_collections",
    ),
    path("customers/<int:customer_pk>/collections/open/", case_open, name="case_open"),
    path("dunning-letters/<int:pk>.pdf", letter_pdf, name="dunning_letter_pdf"),
    path("dunning-letters/<int:pk>.docx", letter_docx, name="dunning_letter_docx"),
    path("dunning/", run_list, name="runs"),
    path("dunning/<int:pk>/", run_detail, name="run"),
    path("dunning/<int:pk>/confirm/", run_confirm, name="run_confirm"),
    path("dunning/<int:pk>/cancel/", run_cancel, name="run_cancel"),
    path("dunning/<int:pk>/letters.zip", run_letters_zip, name="run_letters"),
    path("dunning-templates/", template_list, name="templates"),
    path("dunning-templates/add/", template_edit, name="template_add"),
    path("dunning-templates/preview/", template_preview, name="template_preview"),
    path("dunning-templates/<int:pk>/", template_edit, name="template_edit"),
]
