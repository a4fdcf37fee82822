"""Sanction screens (R-27, R-28): proposals queue, measures, blacklist, our own breaches.

Thin views over services/sanctions.py. Everyone with the view permission sees what the
customer rules let them see (hidden customers are a 404); acting needs the rights the
services check, so a sales rep sees proposals and measures but cannot decide them.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditfile.access.services import audit
from creditfile.core import sudo
from creditfile.core.models import Department, User
from creditfile.credit.choices import BlacklistState, BreachKind, MeasureKind, ProposalState
from creditfile.credit.models import BlacklistEntry, GradeChangeProposal, Measure, OwnBreach
from creditfile.credit.services import sanctions as service
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.models import Attachment
from creditfile.customers.services.visibility import get_customer_for, visible_customers

PER_PAGE = 50


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _refused(request: HttpRequest, error: WorkflowError) -> None:
    """A refused action: the wrong role is a 403, anything else a message on the page."""
    if error.code == "forbidden":
        raise PermissionDenied(str(error.message))
    messages.error(request, str(error.message))


def _form_refusal(form, error: WorkflowError) -> None:
    if error.code == "forbidden":
        raise PermissionDenied(str(error.message))
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


def _visible(rows: QuerySet, user) -> QuerySet:
    return rows.filter(customer__in=visible_customers(user))


def _rights(user) -> dict:
    return {
        "can_decide_proposals": user.has_perm("credit.grant_credit"),
        "can_run_rules": user.has_perm("credit.add_gradechangeproposal")
        and user.has_perm("credit.add_blacklistentry"),
        "can_impose": user.has_perm("credit.add_measure"),
        "can_end": user.has_perm("credit.change_measure"),
        "can_propose_blacklist": user.has_perm("credit.add_blacklistentry"),
        "can_propose_lift": user.has_perm("credit.change_blacklistentry"),
        "can_approve_blacklist": user.has_perm("credit.approve_application"),
    }


# --- The customer's panel -------------------------------------------------------------------


def customer_panel_context(user, customer) -> dict:
    """What `credit/sanctions/_customer_panel.html` needs; the customer's credit tab includes it."""
    today = timezone.localdate()
    return {
        "customer": customer,
        "today": today,
        "measures_in_force": service.measures_in_force(customer, today).select_related(
            "decided_by"
        ),
        "blacklist_entry": service.open_blacklist_entry(customer),
        "is_blacklisted": service.is_blacklisted(customer),
        "customer_open_proposals": service.open_proposals(customer),
        "sanction_rights": _rights(user),
    }


@require_GET
def customer_panel(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """The panel alone, for htmx (hx-get) from the customer's credit tab."""
    _require(request, "credit.view_measure")
    customer = get_customer_for(request.user, customer_pk)
    audit.record_view(customer, section="sanctions")
    return render(
        request,
        "credit/sanctions/_customer_panel.html",
        customer_panel_context(request.user, customer),
    )


class MeasureForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("措施"), choices=MeasureKind.choices)
    reason = forms.CharField(
        label=gettext_lazy("原因"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    effective_from = forms.DateField(
        label=gettext_lazy("生效日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("留空为今天"),
    )


class EndMeasureForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("解除原因"), max_length=2000)
    ended_on = forms.DateField(
        label=gettext_lazy("解除日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class BlacklistProposalForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("原因"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    evidence = forms.CharField(
        label=gettext_lazy("证据"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    evidence_files = forms.ModelMultipleChoiceField(
        label=gettext_lazy("证据文件（档案附件）"),
        queryset=Attachment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence_files"].queryset = Attachment.objects.filter(customer=customer)


@require_http_methods(["GET", "POST"])
def customer_sanctions(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """A customer's measures (in force and ended), blacklist history and proposals."""
    _require(request, "credit.view_measure")
    customer = get_customer_for(request.user, customer_pk)
    audit.record_view(customer, section="sanctions")
    # Two forms on one page: only the one that was submitted is bound (and shows errors).
    posted_measure = request.method == "POST" and "measure-kind" in request.POST
    posted_blacklist = request.method == "POST" and "blacklist-reason" in request.POST
    measure_form = MeasureForm(request.POST if posted_measure else None, prefix="measure")
    blacklist_form = BlacklistProposalForm(
        request.POST if posted_blacklist else None, prefix="blacklist", customer=customer
    )
    if request.method == "POST":
        if posted_measure and measure_form.is_valid():
            data = measure_form.cleaned_data
            try:
                service.impose_measure(
                    customer, request.user, data["kind"], data["reason"], data["effective_from"]
                )
            except WorkflowError as error:
                _form_refusal(measure_form, error)
            else:
                messages.success(request, _("已采取措施。"))
                return redirect("credit:customer_sanctions", customer_pk=customer.pk)
        elif posted_blacklist and blacklist_form.is_valid():
            data = blacklist_form.cleaned_data
            try:
                service.propose_blacklist(
                    customer,
                    request.user,
                    data["reason"],
                    data["evidence"],
                    data["evidence_files"],
                )
            except WorkflowError as error:
                _form_refusal(blacklist_form, error)
            else:
                messages.success(request, _("已提议列入黑名单，等待他人审批。"))
                return redirect("credit:customer_sanctions", customer_pk=customer.pk)
    context = customer_panel_context(request.user, customer)
    context.update(
        {
            "measures": Measure.objects.filter(customer=customer).select_related(
                "decided_by", "ended_by"
            ),
            "blacklist_history": BlacklistEntry.objects.filter(customer=customer).select_related(
                "proposed_by", "approved_by", "lift_proposed_by", "lifted_by"
            ),
            "proposal_history": GradeChangeProposal.objects.filter(customer=customer)
            .exclude(state=ProposalState.PROPOSED)
            .select_related("rule", "decided_by")[:50],
            "measure_form": measure_form,
            "blacklist_form": blacklist_form,
        }
    )
    return render(request, "credit/sanctions/customer.html", context)


@require_POST
def measure_end(request: HttpRequest, pk: int) -> HttpResponse:
    measure = get_object_or_404(Measure.objects.select_related("customer"), pk=pk)
    customer = get_customer_for(request.user, measure.customer_id)
    form = EndMeasureForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写解除原因。"))
    else:
        try:
            service.end_measure(
                measure, request.user, form.cleaned_data["reason"], form.cleaned_data["ended_on"]
            )
        except WorkflowError as error:
            _refused(request, error)
        else:
            messages.success(request, _("措施已解除。"))
    return redirect("credit:customer_sanctions", customer_pk=customer.pk)


# --- Proposals queue ------------------------------------------------------------------------


def _proposal_row(request: HttpRequest, proposal, error: str = "") -> HttpResponse:
    return render(
        request,
        "credit/sanctions/_proposal_row.html",
        {"p": proposal, "error": error, "sanction_rights": _rights(request.user)},
    )


@require_GET
def proposal_queue(request: HttpRequest) -> HttpResponse:
    _require(request, "credit.view_gradechangeproposal")
    proposals = _visible(service.open_proposals(), request.user).order_by("created_at", "id")
    source = request.GET.get("source") or ""
    if source:
        proposals = proposals.filter(source=source)
    page = Paginator(proposals, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "credit/sanctions/proposal_queue.html",
        {"page": page, "source": source, "sanction_rights": _rights(request.user)},
    )


def _decide_proposal(request: HttpRequest, pk: int, accept: bool) -> HttpResponse:
    proposal = get_object_or_404(GradeChangeProposal.objects.select_related("customer"), pk=pk)
    get_customer_for(request.user, proposal.customer_id)
    note = (request.POST.get("note") or "").strip()
    error = ""
    try:
        if accept:
            service.accept_proposal(proposal, request.user, note)
        else:
            service.dismiss_proposal(proposal, request.user, note)
    except WorkflowError as refused:
        if refused.code == "forbidden":
            raise PermissionDenied(str(refused.message)) from refused
        error = str(refused.message)
    proposal.refresh_from_db()
    if request.htmx:
        return _proposal_row(request, proposal, error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("已采纳建议，授信已调整。") if accept else _("已驳回建议。"))
    return redirect("credit:sanction_proposals")


@require_POST
@sudo.require_recent_password(gettext_lazy("采纳等级调整建议"))
def proposal_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide_proposal(request, pk, accept=True)


@require_POST
def proposal_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide_proposal(request, pk, accept=False)


@require_POST
def run_rules(request: HttpRequest) -> HttpResponse:
    """Run the sanction rules now, as the person pressing the button (blacklist proposer)."""
    try:
        counts = service.propose_sanctions(timezone.localdate(), user=request.user)
    except WorkflowError as error:
        _refused(request, error)
    else:
        messages.success(
            request,
            _("已运行惩戒规则：新增等级调整建议 %(proposals)s 条，黑名单提议 %(blacklist)s 条。")
            % counts,
        )
    return redirect("credit:sanction_proposals")


# --- Blacklist ------------------------------------------------------------------------------


class BlacklistFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("未结（提议、在册、申请解除）"))]
        + list(BlacklistState.choices)
        + [("all", gettext_lazy("全部"))],
    )


BLACKLIST_ACTIONS = {
    "approve": (service.approve_blacklist, False, gettext_lazy("已批准列入黑名单。")),
    "reject": (service.reject_blacklist, True, gettext_lazy("已驳回黑名单提议。")),
    "propose_lift": (service.propose_lift, True, gettext_lazy("已申请解除黑名单，等待他人批准。")),
    "approve_lift": (service.approve_lift, False, gettext_lazy("已批准解除黑名单。")),
    "reject_lift": (service.reject_lift, True, gettext_lazy("已驳回解除申请。")),
}
# Approving a listing or a lifting asks for the password again first (core/sudo.py).
SENSITIVE_BLACKLIST_ACTIONS = {
    "approve": gettext_lazy("批准列入黑名单"),
    "approve_lift": gettext_lazy("批准解除黑名单"),
}


@require_GET
def blacklist_list(request: HttpRequest) -> HttpResponse:
    _require(request, "credit.view_blacklistentry")
    form = BlacklistFilterForm(request.GET or None)
    state = form.cleaned_data.get("state") if form.is_valid() else ""
    entries = _visible(BlacklistEntry.objects.all(), request.user).select_related(
        "customer", "proposed_by", "approved_by", "lift_proposed_by", "lifted_by"
    )
    if state == "all":
        pass
    elif state:
        entries = entries.filter(state=state)
    else:
        entries = entries.filter(state__in=service.OPEN_BLACKLIST_STATES)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "credit/sanctions/blacklist.html",
        {"form": form, "page": page, "sanction_rights": _rights(request.user)},
    )


@require_POST
def blacklist_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    try:
        func, _needs_text, done = BLACKLIST_ACTIONS[action]
    except KeyError:
        raise Http404 from None
    entry = get_object_or_404(BlacklistEntry.objects.select_related("customer"), pk=pk)
    get_customer_for(request.user, entry.customer_id)
    if action in SENSITIVE_BLACKLIST_ACTIONS:
        asked = sudo.ask_for_password(request, SENSITIVE_BLACKLIST_ACTIONS[action])
        if asked is not None:
            return asked
    text = (request.POST.get("note") or "").strip()
    try:
        func(entry, request.user, text)
    except WorkflowError as error:
        _refused(request, error)
    else:
        messages.success(request, str(done))
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("credit:blacklist")
    return redirect(back)


# --- Our own breaches (R-28) ----------------------------------------------------------------


class BreachForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("表现形式"), choices=BreachKind.choices)
    customer_ref = forms.CharField(
        label=gettext_lazy("涉及客户"),
        required=False,
        help_text=gettext_lazy("客户全称或统一社会信用代码；可留空"),
        max_length=200,
    )
    occurred_on = forms.DateField(
        label=gettext_lazy("发生日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(
        label=gettext_lazy("情况说明"), widget=forms.Textarea(attrs={"rows": 4})
    )
    amount = forms.DecimalField(
        label=gettext_lazy("涉及金额（元）"), required=False, max_digits=14, decimal_places=2
    )
    responsible_person = forms.ModelChoiceField(
        label=gettext_lazy("责任人"),
        queryset=User.objects.filter(is_active=True),
        required=False,
    )
    responsible_department = forms.ModelChoiceField(
        label=gettext_lazy("责任部门"), queryset=Department.objects.all(), required=False
    )
    counterparty_notified_on = forms.DateField(
        label=gettext_lazy("书面告知对方日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    compensation = forms.DecimalField(
        label=gettext_lazy("赔偿金额（元）"), required=False, max_digits=14, decimal_places=2
    )
    corrective_action = forms.CharField(
        label=gettext_lazy("纠正措施"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    disciplinary_action = forms.CharField(
        label=gettext_lazy("对责任人的处理"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_customer_ref(self):
        ref = (self.cleaned_data.get("customer_ref") or "").strip()
        if not ref:
            return None
        matches = list(visible_customers(self.user).filter(Q(name=ref) | Q(uscc=ref.upper()))[:2])
        if not matches:
            raise ValidationError(_("找不到该客户（请填写全称或统一社会信用代码）。"))
        if len(matches) > 1:
            raise ValidationError(_("有多个同名客户，请填写统一社会信用代码。"))
        return matches[0]

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["customer"] = data.pop("customer_ref")
        return data

    @classmethod
    def initial_for(cls, breach: OwnBreach) -> dict:
        initial = {name: getattr(breach, name) for name in service.BREACH_FIELDS}
        initial["customer_ref"] = (
            (breach.customer.uscc or breach.customer.name) if breach.customer else ""
        )
        initial.pop("customer")
        return initial


def visible_breaches(user) -> QuerySet:
    """Breaches without a customer, or with one the user may see."""
    return OwnBreach.objects.filter(
        Q(customer__isnull=True) | Q(customer__in=visible_customers(user))
    )


def _breach(request: HttpRequest, pk: int) -> OwnBreach:
    _require(request, "credit.view_ownbreach")
    breach = visible_breaches(request.user).filter(pk=pk).first()
    if breach is None:
        raise Http404
    return breach


@require_GET
def breach_list(request: HttpRequest) -> HttpResponse:
    _require(request, "credit.view_ownbreach")
    breaches = visible_breaches(request.user).select_related(
        "customer", "responsible_person", "responsible_department", "recorded_by"
    )
    status = request.GET.get("status") or ""
    if status == "open":
        breaches = breaches.filter(closed_on__isnull=True)
    elif status == "closed":
        breaches = breaches.filter(closed_on__isnull=False)
    page = Paginator(breaches, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "credit/sanctions/breach_list.html",
        {
            "page": page,
            "status": status,
            "can_add": request.user.has_perm("credit.add_ownbreach"),
            "can_change": request.user.has_perm("credit.change_ownbreach"),
        },
    )


def _save_breach(request, form, breach=None) -> OwnBreach | None:
    try:
        if breach is None:
            return service.record_breach(request.user, **form.service_fields())
        return service.update_breach(breach, request.user, **form.service_fields())
    except ValidationError as invalid:
        for name, errors in invalid.message_dict.items():
            field = "customer_ref" if name == "customer" else name
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    except WorkflowError as error:
        _form_refusal(form, error)
    return None


@require_http_methods(["GET", "POST"])
def breach_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    breach = None
    if pk is None:
        _require(request, "credit.add_ownbreach")
        initial = {"occurred_on": timezone.localdate()}
        customer_pk = request.GET.get("customer")
        if customer_pk and customer_pk.isdigit():
            customer = get_customer_for(request.user, int(customer_pk))
            initial["customer_ref"] = customer.uscc or customer.name
    else:
        breach = _breach(request, pk)
        _require(request, "credit.change_ownbreach")
        if breach.closed_on is not None:
            messages.error(request, _("已结案的记录不能修改。"))
            return redirect("credit:breaches")
        initial = BreachForm.initial_for(breach)
    form = BreachForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = _save_breach(request, form, breach)
        if saved is not None:
            messages.success(request, _("已保存本企业失信记录。"))
            return redirect("credit:breaches")
    return render(request, "credit/sanctions/breach_form.html", {"form": form, "breach": breach})


class CloseBreachForm(forms.Form):
    corrective_action = forms.CharField(
        label=gettext_lazy("纠正措施"), widget=forms.Textarea(attrs={"rows": 3})
    )
    closed_on = forms.DateField(
        label=gettext_lazy("结案日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("留空为今天"),
    )


@require_http_methods(["GET", "POST"])
def breach_close(request: HttpRequest, pk: int) -> HttpResponse:
    breach = _breach(request, pk)
    _require(request, "credit.change_ownbreach")
    form = CloseBreachForm(
        request.POST or None,
        initial={"corrective_action": breach.corrective_action, "closed_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            service.close_breach(
                breach,
                request.user,
                form.cleaned_data["closed_on"],
                corrective_action=form.cleaned_data["corrective_action"],
            )
        except WorkflowError as error:
            _form_refusal(form, error)
        else:
            messages.success(request, _("已结案。"))
            return redirect("credit:breaches")
    return render(request, "credit/sanctions/breach_close.html", {"form": form, "breach": breach})


urlpatterns = [
    path("sanctions/proposals/", proposal_queue, name="sanction_proposals"),
    path("sanctions/proposals/run/", run_rules, name="sanction_run"),
    path("sanctions/proposals/<int:pk>/accept/", proposal_accept, name="sanction_accept"),
    path("sanctions/proposals/<int:pk>/dismiss/", proposal_dismiss, name="sanction_dismiss"),
    path("sanctions/customers/<int:customer_pk>/", customer_sanctions, name="customer_sanctions"),
    path("sanctions/customers/<int:customer_pk>/panel/", customer_panel, name="sanction_panel"),
    path("sanctions/measures/<int:pk>/end/", measure_end, name="measure_end"),
    path("sanctions/blacklist/", blacklist_list, name="blacklist"),
    path("sanctions/blacklist/<int:pk>/<slug:action>/", blacklist_action, name="blacklist_action"),
    path("sanctions/breaches/", breach_list, name="breaches"),
    path("sanctions/breaches/add/", breach_edit, name="breach_add"),
    path("sanctions/breaches/<int:pk>/edit/", breach_edit, name="breach_edit"),
    path("sanctions/breaches/<int:pk>/close/", breach_close, name="breach_close"),
]
