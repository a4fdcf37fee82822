"""查阅申请 screens (R-41): my requests, waiting for my approval, one request with its
history, the archivist's lending register, and the access settings. Thin: the rules are
in services/requests.py and services/access_settings.py."""

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from creditfile.access import forms
from creditfile.access.models import AccessSettings, ApprovalStep, Lending, ReadRequest
from creditfile.access.services import access_settings
from creditfile.access.services import requests as reads
from creditfile.core import sudo
from creditfile.core.models import ObjectChange


def _error(form, exc: reads.RequestError) -> None:
    if exc.code == "forbidden":
        raise PermissionDenied(str(exc.message))
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc.message))


@require_http_methods(["GET"])
def request_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    mine = ReadRequest.objects.filter(requester=user).prefetch_related("items__customer")
    waiting = reads.steps_waiting_for(user).prefetch_related("request__items__customer")
    decided = (
        ReadRequest.objects.filter(steps__decided_by=user)
        .distinct()
        .select_related("requester")
        .prefetch_related("items__customer")[:50]
    )
    return render(
        request,
        "access/request_list.html",
        {
            "mine": [(r, reads.Stage.LABELS[reads.stage(r)]) for r in mine[:100]],
            "waiting": waiting,
            "decided": [(r, reads.Stage.LABELS[reads.stage(r)]) for r in decided],
            "may_lend": user.has_perm(reads.LEND_PERMISSION),
        },
    )


@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    initial = {}
    customer_pk = request.GET.get("customer", "")
    if customer_pk.isdigit():
        from creditfile.customers.models import Customer

        customer = Customer.objects.filter(pk=int(customer_pk)).first()
        if customer is not None:
            initial["customers"] = customer.uscc or customer.name
    form = forms.ReadRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        customers, missing = reads.find_customers(form.cleaned_data["customers"])
        if missing:
            form.add_error(
                "customers",
                _("找不到这些客户（须与客户全称或统一社会信用代码完全一致）：%(lines)s")
                % {"lines": "、".join(missing)},
            )
        else:
            try:
                created = reads.submit(
                    request.user,
                    customers,
                    form.cleaned_data["purpose"],
                    form.cleaned_data["wanted_from"],
                    form.cleaned_data["wanted_to"],
                )
            except reads.RequestError as exc:
                _error(form, exc)
            else:
                messages.success(request, _("查阅申请已提交，等待审批。"))
                return redirect("access:request_detail", pk=created.pk)
    return render(request, "access/request_form.html", {"form": form})


def _visible_request(request: HttpRequest, pk: int) -> ReadRequest:
    found = reads.visible_requests(request.user).select_related("requester").filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@require_http_methods(["GET"])
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    read_request = _visible_request(request, pk)
    user = request.user
    steps = list(read_request.steps.select_related("department", "decided_by"))
    step_rows = []
    for step in steps:
        step.request = read_request
        step_rows.append(
            {
                "step": step,
                "label": reads.step_label(step),
                "deciders": reads.deciders_of(step)
                if step.decision == ApprovalStep.Decision.PENDING
                else [],
                "may_decide": reads.may_decide(user, step),
            }
        )
    lending = Lending.objects.filter(request=read_request).first()
    stage = reads.stage(read_request)
    may_lend = (
        user.has_perm(reads.LEND_PERMISSION)
        and stage == reads.Stage.APPROVED
        and read_request.requester_id != user.pk
    )
    return render(
        request,
        "access/request_detail.html",
        {
            "read_request": read_request,
            "items": read_request.items.select_related("customer"),
            "steps": step_rows,
            "lending": lending,
            "stage": stage,
            "stage_label": reads.Stage.LABELS[stage],
            "history": reads.history(read_request),
            "decision_form": forms.DecisionForm(),
            "lend_form": forms.LendForm(
                initial={"due_back_at": timezone.localtime(reads.default_due_back(read_request))}
            )
            if may_lend
            else None,
            "may_return": user.has_perm(reads.LEND_PERMISSION)
            and lending is not None
            and lending.returned_at is None,
            "may_withdraw": read_request.requester_id == user.pk
            and read_request.status == ReadRequest.Status.PENDING,
        },
    )


@require_POST
def step_decide(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    read_request = _visible_request(request, pk)
    step = get_object_or_404(ApprovalStep, pk=step_pk, request=read_request)
    step.request = read_request
    if not reads.may_decide(request.user, step):
        raise PermissionDenied
    if (asked := sudo.ask_for_password(request, gettext_lazy("审批查阅申请"))) is not None:
        return asked
    form = forms.DecisionForm(request.POST)
    if form.is_valid():
        try:
            reads.decide(
                request.user,
                step,
                form.cleaned_data["decision"] == "approve",
                form.cleaned_data["comment"],
            )
        except reads.RequestError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied(str(exc.message)) from exc
            messages.error(request, exc.message)
        else:
            messages.success(request, _("审批意见已记录。"))
    else:
        messages.error(request, _("请选择同意或拒绝。"))
    return redirect("access:request_detail", pk=read_request.pk)


@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    read_request = _visible_request(request, pk)
    try:
        reads.withdraw(request.user, read_request)
    except reads.RequestError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied(str(exc.message)) from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("申请已撤回。"))
    return redirect("access:request_detail", pk=read_request.pk)


@require_POST
def request_lend(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm(reads.LEND_PERMISSION):
        raise PermissionDenied
    read_request = _visible_request(request, pk)
    if (asked := sudo.ask_for_password(request, gettext_lazy("登记档案借阅"))) is not None:
        return asked
    form = forms.LendForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, _("应归还时间：%(error)s") % {"error": error})
        return redirect("access:request_detail", pk=read_request.pk)
    try:
        reads.lend(
            request.user, read_request, form.cleaned_data["due_back_at"], form.cleaned_data["note"]
        )
    except reads.RequestError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied(str(exc.message)) from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已登记借出。"))
    return redirect("access:request_detail", pk=read_request.pk)


@require_POST
def lending_return(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm(reads.LEND_PERMISSION):
        raise PermissionDenied
    lending = get_object_or_404(Lending, pk=pk)
    if (asked := sudo.ask_for_password(request, gettext_lazy("登记档案归还"))) is not None:
        return asked
    try:
        reads.return_files(request.user, lending)
    except reads.RequestError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已登记归还，查阅权限已结束。"))
    back = request.POST.get("back", "")
    if back == "register":
        return redirect("access:lendings")
    return redirect("access:request_detail", pk=lending.request_id)


LENDING_FILTERS = {
    "active": gettext_lazy("借阅中"),
    "overdue": gettext_lazy("已到期未登记归还"),
    "returned": gettext_lazy("已归还"),
    "all": gettext_lazy("全部"),
}


@require_http_methods(["GET"])
def lending_register(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(reads.LEND_PERMISSION):
        raise PermissionDenied
    now = timezone.now()
    shown = request.GET.get("show", "all")
    if shown not in LENDING_FILTERS:
        shown = "all"
    lendings = Lending.objects.select_related(
        "request__requester", "lent_by", "returned_by"
    ).prefetch_related("request__items__customer")
    if shown == "active":
        lendings = lendings.filter(returned_at__isnull=True, due_back_at__gt=now)
    elif shown == "overdue":
        lendings = lendings.filter(returned_at__isnull=True, due_back_at__lte=now)
    elif shown == "returned":
        lendings = lendings.filter(returned_at__isnull=False)
    to_lend = (
        ReadRequest.objects.filter(status=ReadRequest.Status.APPROVED, lending__isnull=True)
        .select_related("requester")
        .prefetch_related("items__customer")
    )
    return render(
        request,
        "access/lending_register.html",
        {
            "lendings": lendings[:500],
            "to_lend": to_lend,
            "filters": LENDING_FILTERS,
            "shown": shown,
            "now": now,
        },
    )


@require_http_methods(["GET", "POST"])
def settings_edit(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(access_settings.PERMISSION):
        raise PermissionDenied
    current = AccessSettings.current()
    form = forms.AccessSettingsForm(request.POST or None, instance=current)
    if request.method == "POST":
        asked = sudo.ask_for_password(request, gettext_lazy("修改查阅权限设置"))
        if asked is not None:
            return asked
        if form.is_valid():
            try:
                access_settings.save_settings(
                    request.user,
                    form.cleaned_data["reader_roles"],
                    form.cleaned_data["company_approver_role"],
                )
            except reads.RequestError as exc:
                _error(form, exc)
            else:
                messages.success(request, _("查阅权限设置已保存。"))
                return redirect("access:settings")
    changes = ObjectChange.objects.filter(
        root_type=ContentType.objects.get_for_model(AccessSettings), root_id=1
    ).select_related("user")[:50]
    return render(request, "access/settings.html", {"form": form, "changes": changes})
