"""Screens of the credit application workflow, the work queue and the customer's credit tab.

Thin views: every step calls services/workflow.py or services/approval.py, which decide who
may do what and when. A refused step answers with the service's message: 403 when the
person may not (code "forbidden"), 409 when the application is not where the step needs
it ("state", "config"), and the form again with the message at the named field (422)
when something typed in is missing or wrong ("invalid"). Applications of customers the
user cannot see do not exist for them (404). Each page shows only the actions the user
may take; the services check again.
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditfile.access.services import audit
from creditfile.core import sudo
from creditfile.core.roles import ROLE_LABELS
from creditfile.credit import forms as credit_forms
from creditfile.credit.choices import (
    ApplicationKind,
    ApplicationState,
    FactorGroup,
    LineStatus,
    ProposalState,
)
from creditfile.credit.models import (
    CollectionItem,
    CreditApplication,
    CreditLine,
    CustomerRefusal,
    Evaluation,
    GradeChangeProposal,
    PreContractReview,
    SiteSurvey,
)
from creditfile.credit.services import approval, workflow
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.services.lines import available_limit
from creditfile.customers.choices import AttachmentCategory
from creditfile.customers.services.attachments import add_attachment
from creditfile.customers.services.visibility import get_customer_for, visible_customers

S = ApplicationState
PER_PAGE = 50
QUEUE_LIST_SIZE = 20
AWAITING_CANDIDATES = 100
STATE_BADGE = {
    S.DRAFT: "",
    S.REFUSED: "warn",
    S.INFO_REQUESTED: "warn",
    S.APPROVED: "ok",
    S.PARTLY_APPROVED: "ok",
    S.GRANTED: "ok",
    S.REJECTED: "bad",
    S.WITHDRAWN: "",
}
# The states a credit department works through, in the order of the workflow.
QUEUE_STATES = (
    S.SUBMITTED,
    S.REFUSED,
    S.INVESTIGATING,
    S.EVALUATING,
    S.APPROVING,
    S.INFO_REQUESTED,
    S.APPROVED,
    S.PARTLY_APPROVED,
)
COLLECTION_STATES = workflow.COLLECTION_STATES
# Colleagues' partials on the customer's credit tab: (template, views module that may offer
# the context for it, see PANEL_PROVIDERS). A missing one is left out.
CUSTOMER_PANELS = (
    ("credit/lines/_customer_panel.html", "lines"),
    ("credit/sanctions/_customer_panel.html", "sanctions"),
    ("credit/reviews/_customer_panel.html", "reviews"),
    ("credit/refusals/_customer_panel.html", "refusals"),
)
LETTERS_PANEL = ("credit/letters/_list.html", "letters")
# What a colleague's views module may call the function that gives its partial's context.
PANEL_PROVIDERS = ("customer_panel_context", "panel_context", "letters_context")


STEP_LABELS = {
    "create": gettext_lazy("创建申请"),
    "submit": gettext_lazy("提交申请"),
    "refuse": gettext_lazy("客户拒绝申请"),
    "refusal:explain": gettext_lazy("信用经理：解释说服并指导填写"),
    "refusal:collect": gettext_lazy("信用经理：全面采集客户信息"),
    "refusal:drop": gettext_lazy("信用经理：建议放弃该客户"),
    "investigate": gettext_lazy("开始信用调查"),
    "collection": gettext_lazy("信用信息采集"),
    "site_survey": gettext_lazy("现场调查表"),
    "pre_contract_review": gettext_lazy("合同签订前评审"),
    "letter": gettext_lazy("生成回复函"),
    "complete_investigation": gettext_lazy("完成信用调查"),
    "skip_investigation": gettext_lazy("免于信用调查"),
    "evaluation_form": gettext_lazy("填写客户信用评估表"),
    "score": gettext_lazy("财务审核评分"),
    "submit_for_approval": gettext_lazy("提交信用审批"),
    "decide:approve": gettext_lazy("审批：批准"),
    "decide:approve_lower": gettext_lazy("审批：批准较低额度"),
    "decide:reject": gettext_lazy("审批：拒绝"),
    "request_info": gettext_lazy("要求补充资料"),
    "resume": gettext_lazy("补充调查"),
    "grant": gettext_lazy("授信生效"),
    "withdraw": gettext_lazy("撤回申请"),
    "note": gettext_lazy("备注"),
}
# Evaluation.kind is free text written by the services; these are the kinds they write.
EVALUATION_KINDS = {
    "application": gettext_lazy("信用申请评估"),
    "rescore": gettext_lazy("批量重新评分"),
    "annual_review": gettext_lazy("年度复评"),
    "review": gettext_lazy("复评"),
}
CHECK_LABELS = {
    True: gettext_lazy("合格"),
    False: gettext_lazy("不合格"),
    None: gettext_lazy("未审查"),
}


# --- Access ---------------------------------------------------------------------------------


def visible_applications(user) -> QuerySet:
    return CreditApplication.objects.filter(customer__in=visible_customers(user))


def _get_application(user, pk: int) -> CreditApplication:
    """An application of a customer the user cannot see is a 404, like the customer."""
    return get_object_or_404(
        visible_applications(user).select_related(
            "customer", "company", "requested_by", "evaluation_form_by", "scored_by", "review"
        ),
        pk=pk,
    )


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _refused(request: HttpRequest, error: WorkflowError, back: str = "") -> HttpResponse:
    """The service said no: 403 for who the person is, 409 for where the application is."""
    status = 403 if error.code == "forbidden" else 409
    template = (
        "credit/applications/_refused.html"
        if _is_partial(request)
        else "credit/applications/refused.html"
    )
    context = {"message": str(error.message), "status": status, "back": back}
    return render(request, template, context, status=status)


def _form_error(form: forms.Form, error: WorkflowError, aliases: dict | None = None) -> None:
    """Put the service's message at the field it names, or above the form."""
    field = (aliases or {}).get(error.field, error.field)
    if field and field in form.fields:
        form.add_error(field, str(error.message))
    else:
        form.add_error(None, str(error.message))


def _attach(customer, uploaded, user, *, category: str, title: str = ""):
    """File an upload in the customer's attachment catalogue (R-09); refusals name `file`."""
    try:
        return add_attachment(
            customer,
            uploaded,
            category=category,
            title=title,
            document_date=timezone.localdate(),
            user=user,
        )
    except ValidationError as exc:
        found = exc.message_dict.get("file") if hasattr(exc, "error_dict") else None
        raise WorkflowError((found or exc.messages)[0], "invalid", "attachments") from exc


def _optional_url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _render_partial(request: HttpRequest, template_name: str, module: str, *args) -> str | None:
    """A colleague's partial if it exists, with the context its views module offers."""
    try:
        template = get_template(template_name)
    except TemplateDoesNotExist:
        return None
    context: dict = {"today": timezone.localdate()}
    try:
        views_module = import_module(f"creditfile.credit.views.{module}")
    except ImportError:
        views_module = None
    for provider_name in PANEL_PROVIDERS:
        provider = getattr(views_module, provider_name, None)
        if provider is not None:
            context.update(provider(request.user, *args))
            break
    return template.render(context, request)


# --- Application list and the new application ------------------------------------------------


@require_GET
def application_list(request: HttpRequest) -> HttpResponse:
    form = credit_forms.ApplicationFilterForm(request.GET or None)
    applications = visible_applications(request.user).select_related(
        "customer", "company", "requested_by"
    )
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    state = data.get("state")
    if state == "open":
        applications = applications.filter(state__in=workflow.OPEN_STATES)
    elif state:
        applications = applications.filter(state=state)
    if data.get("kind"):
        applications = applications.filter(kind=data["kind"])
    if data.get("q"):
        q = data["q"].strip()
        applications = applications.filter(
            Q(customer__name__icontains=q) | Q(number__icontains=q) | Q(customer__uscc=q)
        )
    if data.get("mine"):
        applications = applications.filter(requested_by=request.user)
    page = Paginator(applications, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "badges": STATE_BADGE}
    template = (
        "credit/applications/_list_results.html"
        if _is_partial(request)
        else "credit/applications/list.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


CREATE_ALIASES = {"attachments": "customer_form_file"}


@require_http_methods(["GET", "POST"])
def application_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Step 1 信用申请 for one customer; the signed form's scan goes into the file's catalogue."""
    customer = get_customer_for(request.user, customer_pk)
    back = reverse("credit:customer_credit", args=[customer.pk])
    if not request.user.has_perm("credit.add_creditapplication"):
        return _refused(request, WorkflowError(_("您没有权限：提交信用申请。"), "forbidden"), back)
    form = credit_forms.ApplicationForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    attachments = []
                    if data["from_customer_form"] and data.get("customer_form_file"):
                        attachments.append(
                            _attach(
                                customer,
                                data["customer_form_file"],
                                request.user,
                                category=AttachmentCategory.APPLICATION,
                                title=_("信用申请表（客户签署）"),
                            )
                        )
                    application = workflow.create_application(
                        customer,
                        request.user,
                        requested_limit=data["requested_limit"],
                        requested_term_days=data["requested_term_days"],
                        purpose=data["purpose"],
                        kind=data["kind"],
                        company=data["company"],
                        expected_annual_purchases=data["expected_annual_purchases"],
                        from_customer_form=data["from_customer_form"],
                        temporary_until=data["temporary_until"],
                        attachments=attachments,
                    )
            except WorkflowError as error:
                if error.code != "invalid":
                    return _refused(request, error, back)
                _form_error(form, error, CREATE_ALIASES)
            else:
                messages.success(
                    request,
                    _("已创建信用申请 %(number)s，请核对后提交。") % {"number": application.number},
                )
                return redirect("credit:application", pk=application.pk)
        status = 422
    context = {"customer": customer, "form": form}
    return render(request, "credit/applications/create.html", context, status=status)


# --- The application's page -----------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One step a person can take from the application's page."""

    slug: str
    label: str
    form: type
    run: Callable
    allowed: Callable
    danger: bool = False
    instance: Callable | None = None  # the record a model form edits
    initial: Callable | None = None
    multipart: bool = False
    aliases: dict | None = None
    sensitive: bool = False  # asks for the password again first (core/sudo.py)


def _refusal(application) -> CustomerRefusal | None:
    return CustomerRefusal.objects.filter(application=application).first()


def _run_submit(request, application, form):
    workflow.submit(application, request.user, form.cleaned_data["comment"])
    return _("已提交信用申请，等待信用管理部门调查。")


def _run_refuse(request, application, form):
    workflow.record_refusal(
        application.customer, request.user, application=application, **form.cleaned_data
    )
    return _("已记录客户拒绝申请，等待信用经理处理意见。")


def _run_decide_refusal(request, application, form):
    refusal = _refusal(application)
    if refusal is None:
        raise WorkflowError(_("该申请没有客户拒绝记录。"))
    data = form.cleaned_data
    workflow.decide_refusal(
        refusal,
        request.user,
        data["decision"],
        reason=data["reason"],
        follow_up=data["follow_up"],
        follow_up_due=data["follow_up_due"],
    )
    return _("已记录信用经理处理意见。")


def _run_investigate(request, application, form):
    workflow.start_investigation(application, request.user, form.cleaned_data["comment"])
    return _("已开始信用调查。")


def _run_site_survey(request, application, form):
    workflow.save_site_survey(application, request.user, **form.cleaned_data)
    return _("已保存现场调查表。")


def _run_pre_contract(request, application, form):
    workflow.save_pre_contract_review(application, request.user, **form.cleaned_data)
    return _("已保存合同签订前评审。")


def _run_complete(request, application, form):
    workflow.complete_investigation(application, request.user, form.cleaned_data["comment"])
    return _("信用调查完成，进入信用评估。")


def _run_evaluation_form(request, application, form):
    workflow.save_evaluation_form(application, request.user, form.to_json())
    return _("已保存客户信用评估表，等待财务审核评分。")


def _run_score(request, application, form):
    evaluation = workflow.score(
        application,
        request.user,
        judgement=form.judgement(),
        review_comment=form.cleaned_data["review_comment"],
    )
    return _("评分完成：%(score)s 分，等级 %(grade)s，建议额度 %(limit)s 元。") % {
        "score": evaluation.total_score,
        "grade": evaluation.grade,
        "limit": f"{evaluation.recommended_limit:,.2f}",
    }


def _run_submit_for_approval(request, application, form):
    workflow.submit_for_approval(application, request.user, form.cleaned_data["comment"])
    return _("已提交信用审批。")


def _run_decide(request, application, form):
    data = form.cleaned_data
    made = approval.decide(
        application,
        request.user,
        data["decision"],
        reason=data["reason"],
        limit=data["limit"],
        term_days=data["term_days"],
    )
    return _("已签署审批意见：%(decision)s。") % {"decision": made.get_decision_display()}


def _run_request_info(request, application, form):
    workflow.request_more_info(application, request.user, form.cleaned_data["reason"])
    return _("已退回，要求补充资料。")


def _run_resume(request, application, form):
    workflow.resume(application, request.user, form.cleaned_data["comment"])
    return _("已恢复信用调查，补充资料后重新评估。")


def _run_grant(request, application, form):
    data = form.cleaned_data
    workflow.grant(
        application, request.user, data["valid_from"], data["valid_until"], data["comment"]
    )
    return _("授信已生效。")


def _run_withdraw(request, application, form):
    workflow.withdraw(application, request.user, form.cleaned_data["reason"])
    return _("申请已撤回。")


def _run_note(request, application, form):
    data = form.cleaned_data
    attachments = []
    if data.get("file"):
        attachments.append(
            _attach(application.customer, data["file"], request.user, category=data["category"])
        )
    workflow.record_step_note(application, request.user, "note", data["comment"], attachments)
    return _("已添加备注。")


def _guard(step: str) -> Callable:
    """The service's rule for who may take `step` now (workflow.STEP_GUARDS)."""
    return lambda user, application: workflow.may_take(user, application, step)


ACTIONS: dict[str, Action] = {
    a.slug: a
    for a in [
        Action(
            "submit",
            gettext_lazy("提交申请"),
            credit_forms.CommentForm,
            _run_submit,
            _guard("submit"),
        ),
        Action(
            "refuse",
            gettext_lazy("记录客户拒绝申请"),
            credit_forms.RefusalForm,
            _run_refuse,
            _guard("refuse"),
        ),
        Action(
            "decide-refusal",
            gettext_lazy("信用经理处理意见"),
            credit_forms.RefusalDecisionForm,
            _run_decide_refusal,
            _guard("decide-refusal"),
        ),
        Action(
            "investigate",
            gettext_lazy("开始信用调查"),
            credit_forms.CommentForm,
            _run_investigate,
            _guard("investigate"),
        ),
        Action(
            "site-survey",
            gettext_lazy("现场调查表"),
            credit_forms.SiteSurveyForm,
            _run_site_survey,
            _guard("site-survey"),
            instance=lambda a: SiteSurvey.objects.filter(application=a).first(),
            initial=lambda a: {"visited_on": timezone.localdate()},
        ),
        Action(
            "pre-contract",
            gettext_lazy("合同签订前评审"),
            credit_forms.PreContractReviewForm,
            _run_pre_contract,
            _guard("pre-contract"),
            instance=lambda a: PreContractReview.objects.filter(application=a).first(),
        ),
        Action(
            "complete-investigation",
            gettext_lazy("完成信用调查"),
            credit_forms.CommentForm,
            _run_complete,
            _guard("complete-investigation"),
        ),
        Action(
            "evaluation-form",
            gettext_lazy("客户信用评估表"),
            credit_forms.EvaluationForm,
            _run_evaluation_form,
            _guard("evaluation-form"),
            initial=lambda a: (
                a.evaluation_form or {"expected_annual_purchases": a.expected_annual_purchases}
            ),
        ),
        Action(
            "score",
            gettext_lazy("财务审核评分"),
            credit_forms.ScoreForm,
            _run_score,
            _guard("score"),
        ),
        Action(
            "submit-for-approval",
            gettext_lazy("提交信用审批"),
            credit_forms.CommentForm,
            _run_submit_for_approval,
            _guard("submit-for-approval"),
        ),
        Action(
            "decide",
            gettext_lazy("审批"),
            credit_forms.DecisionForm,
            _run_decide,
            _guard("decide"),
            initial=lambda a: {"term_days": a.approved_term_days},
            sensitive=True,
        ),
        Action(
            "request-info",
            gettext_lazy("要求补充资料"),
            credit_forms.ReasonForm,
            _run_request_info,
            _guard("request-info"),
        ),
        Action(
            "resume",
            gettext_lazy("补充调查"),
            credit_forms.CommentForm,
            _run_resume,
            _guard("resume"),
        ),
        Action(
            "grant",
            gettext_lazy("授信生效"),
            credit_forms.GrantForm,
            _run_grant,
            _guard("grant"),
            initial=lambda a: {
                "valid_from": timezone.localdate(),
                "valid_until": a.temporary_until,
            },
            sensitive=True,
        ),
        Action(
            "note",
            gettext_lazy("添加备注或附件"),
            credit_forms.NoteForm,
            _run_note,
            _guard("note"),
            multipart=True,
            aliases={"attachments": "file"},
        ),
        Action(
            "withdraw",
            gettext_lazy("撤回申请"),
            credit_forms.ReasonForm,
            _run_withdraw,
            _guard("withdraw"),
            danger=True,
        ),
    ]
}


def _make_form(action: Action, application, data=None, files=None):
    kwargs: dict = {"prefix": action.slug}
    if action.instance is not None:
        instance = action.instance(application)
        if instance is not None:
            kwargs["instance"] = instance
    if action.initial is not None and "instance" not in kwargs:
        kwargs["initial"] = action.initial(application)
    return action.form(data, files, **kwargs)


def _rows(obj, names) -> list[tuple[str, object]]:
    """(label, value) of a record's fields for a read-only block; booleans as 是/否."""
    rows = []
    for name in names:
        field = obj._meta.get_field(name)
        value = getattr(obj, name)
        if isinstance(value, bool):
            value = _("是") if value else _("否")
        rows.append((field.verbose_name, value if value not in (None, "") else "—"))
    return rows


def _review_rows(review: PreContractReview) -> list[dict]:
    checks = (
        ("legal_standing_ok", "legal_standing_note"),
        ("agent_authority_ok", "agent_authority_note"),
        ("capacity_ok", "capacity_note"),
        ("documents_authentic", "documents_note"),
    )
    return [
        {
            "label": review._meta.get_field(flag).verbose_name,
            "ok": getattr(review, flag),
            "shown": CHECK_LABELS[getattr(review, flag)],
            "note": getattr(review, note),
        }
        for flag, note in checks
    ]


def _approval_chain(application) -> dict | None:
    """The levels the amount and grade need, with who decided what (R-25)."""
    if not application.approval_round:
        return None
    decisions = list(application.decisions.select_related("approver").order_by("round", "level"))
    current = {d.level: d for d in decisions if d.round == application.approval_round}
    earlier = [d for d in decisions if d.round != application.approval_round]
    chain: dict = {"rows": [], "earlier": earlier, "error": ""}
    try:
        rules = approval.required_rules(
            approval.amount_on_table(application),
            application.approved_grade,
            application.kind == ApplicationKind.TEMPORARY,
        )
    except WorkflowError as error:
        rules = []
        chain["error"] = str(error.message)
    pending = None
    if application.state == S.APPROVING and not chain["error"]:
        pending = approval.pending_rule(application)
    levels = {r.level: r for r in rules}
    for level in sorted(set(levels) | set(current)):
        rule = levels.get(level)
        decision = current.get(level)
        role = rule.role if rule else decision.role
        chain["rows"].append(
            {
                "level": level,
                "role": ROLE_LABELS.get(role, role),
                "above": rule.above_amount if rule else None,
                "decision": decision,
                "pending": pending is not None and pending.level == level,
            }
        )
    return chain


def _collection_context(
    request, application, item_form=None, editing=None, saved_message=""
) -> dict:
    user = request.user
    open_ = application.state in COLLECTION_STATES
    return {
        "application": application,
        "collection_items": application.collection_items.select_related("attachment", "entered_by"),
        "can_add_item": open_ and user.has_perm("credit.add_collectionitem"),
        "can_edit_item": open_ and user.has_perm("credit.change_collectionitem"),
        "item_form": item_form,
        "editing": editing,
        "saved_message": saved_message,
    }


def _detail_context(request, application, bound: dict | None = None) -> dict:
    user = request.user
    bound = bound or {}
    actions = []
    for action in ACTIONS.values():
        form = bound.get(action.slug)
        if form is None:
            if not action.allowed(user, application):
                continue
            form = _make_form(action, application)
        actions.append(
            {
                "action": action,
                "form": form,
                "url": reverse("credit:application_action", args=[application.pk, action.slug]),
                "open": bool(form.errors),
            }
        )
    evaluations = list(application.evaluations.select_related("scored_by", "filled_by"))
    survey = SiteSurvey.objects.filter(application=application).select_related("visited_by").first()
    review = (
        PreContractReview.objects.filter(application=application)
        .select_related("reviewed_by")
        .first()
    )
    steps = application.steps.select_related("actor").prefetch_related("attachments")
    context = {
        "application": application,
        "customer": application.customer,
        "badge": STATE_BADGE.get(application.state, ""),
        "steps": [(step, STEP_LABELS.get(step.action, step.action)) for step in steps],
        "actions": actions,
        "refusal": _refusal(application),
        "site_survey": survey,
        "survey_rows": _rows(survey, credit_forms.SiteSurveyForm._meta.fields) if survey else [],
        "pre_contract_review": review,
        "review_rows": _review_rows(review) if review else [],
        "evaluation_form_rows": credit_forms.EvaluationForm.labelled(
            application.evaluation_form or {}
        ),
        "evaluation": evaluations[0] if evaluations else None,
        "evaluations": evaluations,
        "chain": _approval_chain(application),
        "letters_panel": _render_partial(request, *LETTERS_PANEL, application),
        "letters_url": _optional_url("credit:letter_generate", application.pk),
    }
    context.update(_collection_context(request, application))
    return context


@require_GET
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_application(request.user, pk)
    return render(request, "credit/applications/detail.html", _detail_context(request, application))


@require_POST
def application_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One step of the workflow; success goes back to the page, refusals say why."""
    step = ACTIONS.get(action)
    if step is None:
        raise Http404
    application = _get_application(request.user, pk)
    if step.sensitive and (asked := sudo.ask_for_password(request, step.label)) is not None:
        return asked
    back = reverse("credit:application", args=[application.pk])
    form = _make_form(step, application, request.POST, request.FILES)
    if form.is_valid():
        try:
            with transaction.atomic():
                message = step.run(request, application, form)
        except WorkflowError as error:
            if error.code != "invalid":
                return _refused(request, error, back)
            _form_error(form, error, step.aliases)
        else:
            messages.success(request, message)
            return redirect(back)
    application.refresh_from_db()
    context = _detail_context(request, application, bound={step.slug: form})
    return render(request, "credit/applications/detail.html", context, status=422)


# --- Collection checklist (htmx) ------------------------------------------------------------


def _collection_response(request, application, status=200, **extra) -> HttpResponse:
    if _is_partial(request):
        context = _collection_context(request, application, **extra)
        return render(request, "credit/applications/_collection.html", context, status=status)
    context = _detail_context(request, application)
    context.update(_collection_context(request, application, **extra))
    return render(request, "credit/applications/detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def collection_item(request: HttpRequest, pk: int, item: int | None = None) -> HttpResponse:
    application = _get_application(request.user, pk)
    back = reverse("credit:application", args=[application.pk])
    instance = (
        get_object_or_404(CollectionItem, pk=item, application=application)
        if item is not None
        else CollectionItem(application=application)
    )
    needed = "credit.change_collectionitem" if item is not None else "credit.add_collectionitem"
    if not request.user.has_perm(needed):
        return _refused(request, WorkflowError(_("您没有权限：信用信息采集。"), "forbidden"), back)
    form = credit_forms.CollectionItemForm(
        request.POST or None, request.FILES or None, instance=instance, prefix="item"
    )
    if request.method == "GET":
        return _collection_response(request, application, item_form=form, editing=item)
    if form.is_valid():
        try:
            with transaction.atomic():
                fields = {name: form.cleaned_data[name] for name in workflow.COLLECTION_FIELDS}
                saved = workflow.save_collection_item(
                    application,
                    request.user,
                    item=instance if item is not None else None,
                    file=form.cleaned_data.get("file"),
                    **fields,
                )
        except WorkflowError as error:
            if error.code != "invalid":
                return _refused(request, error, back)
            _form_error(form, error, {"attachments": "file"})
        else:
            message = _("已保存采集项“%(topic)s”。") % {"topic": saved.topic}
            if not _is_partial(request):
                messages.success(request, message)
                return redirect(back)
            return _collection_response(request, application, saved_message=message)
    return _collection_response(request, application, status=422, item_form=form, editing=item)


# --- Evaluation explanation -----------------------------------------------------------------


@require_GET
def evaluation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An evaluation factor by factor, as it was scored (R-23); prints cleanly."""
    from creditfile.credit.services.scoring import INPUTS, show_value, stored_factors

    evaluation = get_object_or_404(
        Evaluation.objects.filter(customer__in=visible_customers(request.user)).select_related(
            "customer", "application", "scorecard", "policy", "filled_by", "scored_by"
        ),
        pk=pk,
    )
    groups = dict(FactorGroup.choices)
    factors = [
        {"factor": f, "group": groups.get(f.group, f.group), "band": f.band}
        for f in stored_factors(evaluation)
    ]
    inputs = [
        (str(INPUTS[key][0]) if key in INPUTS else key, show_value(key, value))
        for key, value in (evaluation.inputs or {}).items()
    ]
    context = {
        "evaluation": evaluation,
        "kind_label": EVALUATION_KINDS.get(evaluation.kind, evaluation.kind),
        "customer": evaluation.customer,
        "factors": factors,
        "weight_total": sum((f["factor"].weight for f in factors), 0),
        "inputs": inputs,
        "sales_form_rows": credit_forms.EvaluationForm.labelled(evaluation.sales_form or {}),
    }
    return render(request, "credit/applications/evaluation.html", context)


# --- Work queue -----------------------------------------------------------------------------


def awaiting_my_decision(user, applications: QuerySet) -> list[CreditApplication]:
    """Applications at a level the user may sign now: approving ones only, then the rule."""
    if not user.has_perm("credit.approve_application"):
        return []
    candidates = (
        applications.filter(state=S.APPROVING)
        .exclude(requested_by=user)
        .exclude(scored_by=user)
        .exclude(evaluation_form_by=user)
        .select_related("customer", "requested_by")
        .order_by("updated_at", "id")[:AWAITING_CANDIDATES]
    )
    return [a for a in candidates if approval.can_decide(user, a)]


@require_GET
def work_queue(request: HttpRequest) -> HttpResponse:
    """The credit menu's landing page: what is waiting, and for whom (issue 3 screens)."""
    user = request.user
    applications = visible_applications(user)
    counts = dict(applications.values_list("state").annotate(n=Count("id")).order_by())
    # The oldest few of every state in one query: a window numbers them per state.
    waiting = list(
        applications.filter(state__in=QUEUE_STATES)
        .annotate(
            place=Window(
                RowNumber(), partition_by=[F("state")], order_by=[F("updated_at"), F("id")]
            )
        )
        .filter(place__lte=QUEUE_LIST_SIZE)
        .select_related("customer", "requested_by")
        .order_by("updated_at", "id")
    )
    labels = dict(S.choices)
    by_state = []
    for state in QUEUE_STATES:
        rows = [a for a in waiting if a.state == state]
        by_state.append(
            {
                "state": state,
                "label": labels[state],
                "count": counts.get(state, 0),
                "rows": rows,
                "badge": STATE_BADGE.get(state, ""),
            }
        )
    mine = []
    if user.has_perm("credit.add_creditapplication"):
        mine = list(
            applications.filter(requested_by=user)
            .exclude(state__in=(S.GRANTED, S.WITHDRAWN, S.REJECTED))
            .select_related("customer")
            .order_by("-updated_at")[:QUEUE_LIST_SIZE]
        )
    context = {
        "counts": [(labels[s], counts.get(s, 0), s) for s, _label in S.choices],
        "by_state": by_state,
        "awaiting": awaiting_my_decision(user, applications),
        "mine": mine,
        "can_apply": user.has_perm("credit.add_creditapplication"),
        "badges": STATE_BADGE,
        "proposals_open": GradeChangeProposal.objects.filter(
            state=ProposalState.PROPOSED, customer__in=visible_customers(user)
        ).count(),
        "proposals_url": _optional_url("credit:sanction_proposals"),
    }
    context.update(_refusals_summary(user))
    context.update(_reviews_summary(user))
    return render(request, "credit/queue.html", context)


def _refusals_summary(user) -> dict:
    """R-20 refusals waiting for the credit manager or for their follow-up (views/refusals.py)."""
    from creditfile.credit.views.refusals import open_refusals_for

    refusals = open_refusals_for(user)
    rows = list(refusals[:QUEUE_LIST_SIZE])
    return {
        "refusals_open": rows,
        "refusals_open_count": len(rows) if len(rows) < QUEUE_LIST_SIZE else refusals.count(),
        "today": timezone.localdate(),
    }


def _reviews_summary(user) -> dict:
    """Reviews due and overdue, if the reviews screen exists (a colleague's)."""
    url = _optional_url("credit:reviews")
    if not url:
        return {"reviews_url": ""}
    from creditfile.credit.services import reviews

    today = timezone.localdate()
    return {
        "reviews_url": url,
        "reviews_due": reviews.reviews_due(user, today).count(),
        "reviews_overdue": reviews.overdue_reviews(user, today).count(),
    }


# --- The customer's credit tab --------------------------------------------------------------


def _terms_label(line: CreditLine) -> str:
    """Trade terms as credit managers write them: 2/10 n/30, n/60 or 即时清结."""
    if line.cash_on_delivery:
        return _("即时清结")
    if line.discount_percent and line.discount_days:
        return f"{line.discount_percent.normalize()}/{line.discount_days} n/{line.term_days}"
    return f"n/{line.term_days}"


@require_GET
def customer_credit(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Lines per company, their history, evaluations, applications and colleagues' panels."""
    customer = get_customer_for(request.user, customer_pk)
    audit.record_view(customer, section="credit")
    today = timezone.localdate()
    lines = list(
        CreditLine.objects.filter(customer=customer)
        .select_related("company", "application", "granted_by", "policy")
        .prefetch_related("temporary_limits")
        .order_by("company__name", "-granted_at", "-id")
    )
    current = []
    for line in lines:
        if line.status != LineStatus.ACTIVE:
            continue
        temporary = list(line.temporary_limits.all())
        current.append(
            {
                "line": line,
                "terms": _terms_label(line),
                "available": available_limit(line, today),
                "temporary": temporary,
                "in_force": line.valid_from <= today
                and (line.valid_until is None or line.valid_until >= today),
            }
        )
    applications = (
        visible_applications(request.user)
        .filter(customer=customer)
        .select_related("company", "requested_by")
    )
    panels = [
        html
        for template, module in CUSTOMER_PANELS
        if (html := _render_partial(request, template, module, customer)) is not None
    ]
    context = {
        "customer": customer,
        "current": current,
        "history": [{"line": line, "terms": _terms_label(line)} for line in lines],
        "evaluations": [
            (e, EVALUATION_KINDS.get(e.kind, e.kind))
            for e in Evaluation.objects.filter(customer=customer).select_related(
                "application", "scored_by"
            )[:50]
        ],
        "applications": applications[:50],
        "badges": STATE_BADGE,
        "panels": panels,
        "can_apply": request.user.has_perm("credit.add_creditapplication"),
        "today": today,
    }
    template = (
        "credit/customer_tab.html"
        if _is_partial(request)
        else "credit/applications/customer_credit_page.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


urlpatterns = [
    path("", work_queue, name="queue"),
    path("applications/", application_list, name="applications"),
    path("applications/<int:pk>/", application_detail, name="application"),
    path(
        "applications/<int:pk>/collection/add/",
        collection_item,
        name="collection_item_add",
    ),
    path(
        "applications/<int:pk>/collection/<int:item>/",
        collection_item,
        name="collection_item_edit",
    ),
    path(
        "applications/<int:pk>/<slug:action>/",
        application_action,
        name="application_action",
    ),
    path("evaluations/<int:pk>/", evaluation_detail, name="evaluation"),
    path(
        "customers/<int:customer_pk>/applications/new/",
        application_create,
        name="application_create",
    ),
    path("customers/<int:customer_pk>/credit/", customer_credit, name="customer_credit"),
]
