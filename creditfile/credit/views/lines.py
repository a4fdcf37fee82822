"""Credit-line extras: group-wide line, related-customer groups, securities, external
ratings and the payment-summary import (R-24, R-25; issue 3 "limits across a group").

`credit/lines/_customer_panel.html` shows all of it for one customer; the customer's
credit tab includes it with `panel_context(user, customer)` or loads it from
`credit:customer_panel` with htmx. Every customer is looked up through the visibility
rule, so a customer the user may not see is a 404 here as everywhere.
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditfile.access.services import audit, deliveries
from creditfile.access.services.audit import Action
from creditfile.core import sudo
from creditfile.credit.choices import SecurityKind
from creditfile.credit.models import CreditGroup, CreditLine, CreditSecurity
from creditfile.credit.services import groups, payment_import, ratings, securities
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.services.lines import security_headroom
from creditfile.credit.services.tabular import Problem, build_report
from creditfile.customers.services.visibility import get_customer_for, visible_customers

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _form_refusal(form, exc: WorkflowError) -> None:
    """A service's refusal: 403 for a missing right, else an error on the named field."""
    if exc.code == "forbidden":
        raise PermissionDenied(str(exc.message))
    field_name = exc.field if exc.field in form.fields else None
    form.add_error(field_name, str(exc.message))


# --- the customer's panel -------------------------------------------------------------------


def panel_context(user, customer, on_date=None) -> dict:
    """Everything the panel shows; the customer must already have passed visibility."""
    on_date = on_date or timezone.localdate()
    current, other = securities.securities_for(customer, on_date)
    return {
        "customer": customer,
        "on_date": on_date,
        "limits": groups.group_limits_for(customer, on_date),
        "securities_current": current,
        "securities_other": other,
        "security_headroom": security_headroom(customer, on_date),
        "ratings": list(customer.external_ratings.select_related("report", "entered_by")[:10]),
        "payment_summaries": list(customer.payment_summaries.all()[:12]),
        "can_grant": user.has_perm("credit.grant_credit"),
        "can_add_security": user.has_perm("credit.add_creditsecurity"),
        "can_change_security": user.has_perm("credit.change_creditsecurity"),
        "can_add_rating": user.has_perm(ratings.ADD_PERMISSION),
        "can_import_payments": payment_import.can_import(user),
    }


def _customer(request: HttpRequest, pk: int):
    _require(request, "credit.view_creditline")
    return get_customer_for(request.user, pk)


@require_GET
def customer_credit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    audit.record_view(customer, section="credit_lines")
    return render(
        request, "credit/lines/customer_credit.html", panel_context(request.user, customer)
    )


@require_GET
def customer_panel(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    audit.record_view(customer, section="credit_lines")
    return render(
        request, "credit/lines/_customer_panel.html", panel_context(request.user, customer)
    )


def _back(customer) -> str:
    return reverse("credit:customer_lines", args=[customer.pk])


# --- group-wide line --------------------------------------------------------------------------


class GroupLineForm(forms.Form):
    limit = forms.DecimalField(
        label=gettext_lazy("集团总额度（元）"), min_value=0, max_digits=14, decimal_places=2
    )
    grade = forms.ChoiceField(label=gettext_lazy("信用等级"), choices=())
    term_days = forms.IntegerField(
        label=gettext_lazy("信用期限（天）"), min_value=0, max_value=3650
    )
    valid_from = forms.DateField(label=gettext_lazy("生效日期"), widget=DATE_WIDGET)
    valid_until = forms.DateField(
        label=gettext_lazy("有效期至"), widget=DATE_WIDGET, required=False
    )
    reason = forms.CharField(
        label=gettext_lazy("理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("记入客户档案时间线。"),
    )

    def __init__(self, *args, grades=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].choices = [(g, g) for g in grades]


def _grades() -> list[str]:
    from creditfile.credit.services.policy import grades_best_first, policy_in_force

    try:
        return grades_best_first(policy_in_force())
    except WorkflowError:
        return []


@require_http_methods(["GET", "POST"])
@sudo.require_recent_password(gettext_lazy("设定集团总额度"))
def group_line_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    _require(request, "credit.grant_credit")
    limits = groups.group_limits_for(customer)
    current = limits.group_line
    initial = {
        "valid_from": timezone.localdate(),
        "grade": (current.grade if current else customer.credit_grade) or None,
        "limit": current.limit if current else limits.company_total or None,
        "term_days": current.term_days if current else None,
    }
    form = GroupLineForm(request.POST or None, initial=initial, grades=_grades())
    if request.method == "POST" and form.is_valid():
        data = groups.GroupLineInput(**form.cleaned_data)
        try:
            groups.set_group_line(customer, request.user, data)
        except WorkflowError as exc:
            _form_refusal(form, exc)
        else:
            messages.success(request, _("已设定集团总额度。"))
            return redirect(_back(customer))
    return render(
        request,
        "credit/lines/group_line_form.html",
        {"customer": customer, "form": form, "limits": limits},
    )


@require_POST
@sudo.require_recent_password(gettext_lazy("撤销集团总额度"))
def group_line_end(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    _require(request, "credit.grant_credit")
    line = get_object_or_404(CreditLine, pk=line_pk, customer=customer, company=None)
    try:
        groups.end_group_line(line, request.user, request.POST.get("reason", ""))
    except WorkflowError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied from exc
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已撤销集团总额度。"))
    return redirect(_back(customer))


# --- securities ---------------------------------------------------------------------------------


class SecurityForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=SecurityKind.choices)
    provider = forms.CharField(label=gettext_lazy("担保人/保险公司/存入方"), max_length=200)
    reference = forms.CharField(label=gettext_lazy("合同号/保单号"), max_length=100, required=False)
    amount = forms.DecimalField(
        label=gettext_lazy("金额/保险金额（元）"), max_digits=14, decimal_places=2
    )
    coverage_percent = forms.DecimalField(
        label=gettext_lazy("赔付比例（%）"),
        max_digits=5,
        decimal_places=2,
        initial=Decimal(100),
        help_text=gettext_lazy("保证金、抵押通常为100；信用保险填写保单约定的赔付比例。"),
    )
    valid_from = forms.DateField(label=gettext_lazy("生效日期"), widget=DATE_WIDGET)
    valid_until = forms.DateField(
        label=gettext_lazy("到期日期"), widget=DATE_WIDGET, required=False
    )
    line = forms.ModelChoiceField(
        label=gettext_lazy("关联授信额度"), queryset=CreditLine.objects.none(), required=False
    )
    notes = forms.CharField(
        label=gettext_lazy("备注"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    document = forms.FileField(
        label=gettext_lazy("文件（合同/保单扫描件）"),
        required=False,
        help_text=gettext_lazy("存入客户档案的附件目录。"),
    )

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = CreditLine.objects.filter(customer=customer, status="active")

    def clean_document(self):
        upload = self.cleaned_data.get("document")
        if upload and upload.size > settings.ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(_("文件太大。"))
        return upload

    def security_input(self) -> securities.SecurityInput:
        data = dict(self.cleaned_data)
        data.pop("document", None)
        return securities.SecurityInput(**data)


@require_http_methods(["GET", "POST"])
def security_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    _require(request, "credit.add_creditsecurity")
    form = SecurityForm(
        request.POST or None,
        request.FILES or None,
        customer=customer,
        initial={"valid_from": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            securities.add_security(
                customer, request.user, form.security_input(), form.cleaned_data["document"]
            )
        except WorkflowError as exc:
            _form_refusal(form, exc)
        else:
            messages.success(request, _("已登记增信措施。"))
            return redirect(_back(customer))
    return render(
        request,
        "credit/lines/security_form.html",
        {"customer": customer, "form": form, "security": None},
    )


def _security(request: HttpRequest, security_pk: int) -> CreditSecurity:
    security = get_object_or_404(CreditSecurity, pk=security_pk)
    _customer(request, security.customer_id)
    return security


@require_http_methods(["GET", "POST"])
def security_edit(request: HttpRequest, security_pk: int) -> HttpResponse:
    security = _security(request, security_pk)
    _require(request, "credit.change_creditsecurity")
    initial = {
        name: getattr(security, name)
        for name in SecurityForm.base_fields
        if name not in ("document", "line")
    }
    initial["line"] = security.line_id
    form = SecurityForm(
        request.POST or None, request.FILES or None, customer=security.customer, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            securities.update_security(
                security, request.user, form.security_input(), form.cleaned_data["document"]
            )
        except WorkflowError as exc:
            _form_refusal(form, exc)
        else:
            messages.success(request, _("已保存增信措施。"))
            return redirect(_back(security.customer))
    return render(
        request,
        "credit/lines/security_form.html",
        {"customer": security.customer, "form": form, "security": security},
    )


@require_POST
def security_end(request: HttpRequest, security_pk: int) -> HttpResponse:
    security = _security(request, security_pk)
    _require(request, "credit.change_creditsecurity")
    end_date = None
    if request.POST.get("end_date"):
        try:
            end_date = forms.DateField().clean(request.POST["end_date"])
        except forms.ValidationError:
            messages.error(request, _("终止日期格式不正确。"))
            return redirect(_back(security.customer))
    try:
        securities.end_security(security, request.user, end_date, request.POST.get("reason", ""))
    except WorkflowError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied from exc
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("增信措施已终止。"))
    return redirect(_back(security.customer))


# --- external ratings -----------------------------------------------------------------------------


class RatingForm(forms.Form):
    agency = forms.CharField(label=gettext_lazy("评级机构"), max_length=100)
    rated_on = forms.DateField(label=gettext_lazy("报告日期"), widget=DATE_WIDGET)
    rating = forms.CharField(label=gettext_lazy("评级"), max_length=20, required=False)
    score = forms.DecimalField(
        label=gettext_lazy("评分（0–100）"),
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
    )
    summary = forms.CharField(
        label=gettext_lazy("报告摘要"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    report = forms.FileField(label=gettext_lazy("报告文件"), required=False)

    def clean_rated_on(self):
        rated_on = self.cleaned_data["rated_on"]
        if rated_on > timezone.localdate():
            raise forms.ValidationError(_("报告日期不能晚于今天。"))
        return rated_on


@require_GET
def rating_list(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for(request.user, pk)
    _require(request, "credit.view_externalrating")
    audit.record_view(customer, section="ratings")
    return render(
        request,
        "credit/lines/rating_list.html",
        {
            "customer": customer,
            "ratings": customer.external_ratings.select_related("report", "entered_by"),
            "can_add_rating": request.user.has_perm(ratings.ADD_PERMISSION),
        },
    )


@require_http_methods(["GET", "POST"])
def rating_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for(request.user, pk)
    _require(request, ratings.ADD_PERMISSION)
    form = RatingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        report = data.pop("report")
        try:
            ratings.add_rating(customer, request.user, ratings.RatingInput(**data), report)
        except WorkflowError as exc:
            _form_refusal(form, exc)
        else:
            messages.success(request, _("已录入外部评级。"))
            return redirect("credit:ratings", pk=customer.pk)
    return render(request, "credit/lines/rating_form.html", {"customer": customer, "form": form})


# --- imports (ratings, payment summaries) ---------------------------------------------------------


class TableImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("文件（.xlsx 或 .csv）"), allow_empty_file=True)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(
                _("文件太大（上限%(mb)d MB）。"),
                params={"mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)},
            )
        return upload


IMPORTS = {
    "ratings": {
        "title": gettext_lazy("导入外部信用评级"),
        "run": ratings.import_ratings_file,
        "template": ratings.template,
        "columns": ratings.COLUMNS,
        "allowed": lambda user: (
            user.has_perm(ratings.ADD_PERMISSION) and user.has_perm(ratings.CHANGE_PERMISSION)
        ),
        "url": "credit:rating_import",
        "template_url": "credit:rating_import_template",
        "report_url": "credit:rating_import_report",
        "help": [
            gettext_lazy(
                "每行一份评级报告；按统一社会信用代码识别客户，未填代码时按客户名称识别。"
            ),
            gettext_lazy("同一客户、同一评级机构、同一报告日期的报告再次导入时更新，不会重复。"),
        ],
    },
    "payments": {
        "title": gettext_lazy("导入付款记录汇总"),
        "run": payment_import.import_payment_summaries,
        "template": payment_import.template,
        "columns": payment_import.COLUMNS,
        "allowed": payment_import.can_import,
        "url": "credit:payment_import",
        "template_url": "credit:payment_import_template",
        "report_url": "credit:payment_import_report",
        "help": [
            gettext_lazy(
                "来自ERP的账龄与回款汇总：每个客户每个月末一行，统计截止日前12个月的数据。"
            ),
            gettext_lazy("同一客户同一统计截止日再次导入时更新原记录，不会重复。"),
            gettext_lazy("评分、制裁规则和年审只从付款记录汇总读取付款情况。"),
        ],
    },
}


def _import_kind(request: HttpRequest, kind: str) -> dict:
    spec = IMPORTS[kind]
    if not spec["allowed"](request.user):
        raise PermissionDenied
    return spec


def _session_key(kind: str) -> str:
    return f"credit_import_report_{kind}"


def _table_import(request: HttpRequest, kind: str) -> HttpResponse:
    spec = _import_kind(request, kind)
    form = TableImportForm(request.POST or None, request.FILES or None)
    context = {"spec": spec, "kind": kind, "form": form, "result": None}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = spec["run"](
            upload, upload.name, request.user, dry_run="check_only" in request.POST
        )
        request.session[_session_key(kind)] = [
            [p.sheet, p.row, p.column, p.message] for p in result.problems
        ]
        context |= {"result": result, "form": TableImportForm()}
    return render(request, "credit/lines/table_import.html", context)


def _template(request: HttpRequest, kind: str) -> HttpResponse:
    spec = _import_kind(request, kind)
    filename = f"{kind}-import-template.xlsx"
    return deliveries.send(
        request,
        spec["template"](),
        filename=filename,
        fallback=filename,
        content_type=deliveries.XLSX,
        action=Action.EXPORT,
        detail={"kind": f"{kind}_import_template"},
    )


def _report(request: HttpRequest, kind: str) -> HttpResponse:
    _import_kind(request, kind)
    rows = request.session.get(_session_key(kind))
    if not rows:
        raise Http404
    problems = [Problem(*row) for row in rows]
    stamp = deliveries.stamp_for(request.user)
    filename = f"{kind}-report-{timezone.localtime(stamp.at):%Y%m%d-%H%M}.xlsx"
    return deliveries.send(
        request,
        build_report(problems, stamp=stamp),
        filename=filename,
        fallback=filename,
        content_type=deliveries.XLSX,
        action=Action.EXPORT,
        stamp=stamp,
        detail={"kind": f"{kind}_import_report", "rows": len(problems)},
    )


@require_http_methods(["GET", "POST"])
def rating_import(request: HttpRequest) -> HttpResponse:
    return _table_import(request, "ratings")


@require_GET
def rating_import_template(request: HttpRequest) -> HttpResponse:
    return _template(request, "ratings")


@require_GET
def rating_import_report(request: HttpRequest) -> HttpResponse:
    return _report(request, "ratings")


@require_http_methods(["GET", "POST"])
def payment_import_view(request: HttpRequest) -> HttpResponse:
    return _table_import(request, "payments")


@require_GET
def payment_import_template(request: HttpRequest) -> HttpResponse:
    return _template(request, "payments")


@require_GET
def payment_import_report(request: HttpRequest) -> HttpResponse:
    return _report(request, "payments")


# --- related-customer groups ----------------------------------------------------------------------


class CreditGroupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("关联客户组"), max_length=200)
    relation = forms.CharField(
        label=gettext_lazy("关联关系"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("例如：同一实际控制人、母子公司"),
    )
    limit = forms.DecimalField(
        label=gettext_lazy("共享额度（元）"), min_value=0, max_digits=14, decimal_places=2
    )
    valid_until = forms.DateField(
        label=gettext_lazy("有效期至"), widget=DATE_WIDGET, required=False
    )


class MemberForm(forms.Form):
    customer = forms.CharField(
        label=gettext_lazy("客户（统一社会信用代码或完整名称）"), max_length=200
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_customer(self):
        text = self.cleaned_data["customer"].strip()
        found = list(
            visible_customers(self.user).filter(uscc=text.upper())[:2]
            or visible_customers(self.user).filter(name=text)[:2]
        )
        if not found:
            raise forms.ValidationError(_("没有找到该客户。"))
        if len(found) > 1:
            raise forms.ValidationError(_("有多个同名客户，请填写统一社会信用代码。"))
        return found[0]


@require_GET
def credit_group_list(request: HttpRequest) -> HttpResponse:
    _require(request, "credit.view_creditgroup")
    rows = CreditGroup.objects.order_by("name")
    return render(
        request,
        "credit/lines/group_list.html",
        {
            # Only the members the user may read: not even their number tells of the
            # others.
            "groups": [(g, groups.visible_members(g, request.user)) for g in rows],
            "can_add": request.user.has_perm("credit.add_creditgroup"),
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
def credit_group_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    group = get_object_or_404(CreditGroup, pk=pk) if pk else None
    _require(request, "credit.change_creditgroup" if group else "credit.add_creditgroup")
    initial = (
        {
            "name": group.name,
            "relation": group.relation,
            "limit": group.limit,
            "valid_until": group.valid_until,
        }
        if group
        else {}
    )
    form = CreditGroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = groups.save_credit_group(
                request.user, groups.CreditGroupInput(**form.cleaned_data), group
            )
        except WorkflowError as exc:
            _form_refusal(form, exc)
        else:
            messages.success(request, _("已保存关联客户组。"))
            return redirect("credit:credit_group", pk=saved.pk)
    return render(request, "credit/lines/group_form.html", {"form": form, "group": group})


@require_http_methods(["GET", "POST"])
def credit_group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "credit.view_creditgroup")
    group = get_object_or_404(CreditGroup, pk=pk)
    can_change = request.user.has_perm("credit.change_creditgroup")
    form = MemberForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            try:
                groups.add_member(group, form.cleaned_data["customer"], request.user)
            except WorkflowError as exc:
                _form_refusal(form, exc)
            else:
                messages.success(request, _("已加入关联客户组。"))
                return redirect("credit:credit_group", pk=group.pk)
    members = groups.visible_members(group, request.user)
    return render(
        request,
        "credit/lines/group_detail.html",
        {
            "group": group,
            "members": members,
            "hidden_count": group.members.count() - members.count(),
            "form": form,
            "can_change": can_change,
        },
    )


@require_POST
def credit_group_remove(request: HttpRequest, pk: int, customer_pk: int) -> HttpResponse:
    _require(request, "credit.change_creditgroup")
    group = get_object_or_404(CreditGroup, pk=pk)
    customer = get_customer_for(request.user, customer_pk)
    try:
        groups.remove_member(group, customer, request.user, request.POST.get("reason", ""))
    except WorkflowError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied from exc
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已移出关联客户组。"))
    return redirect("credit:credit_group", pk=group.pk)


urlpatterns = [
    path("lines/customers/<int:pk>/", customer_credit, name="customer_lines"),
    path("lines/customers/<int:pk>/panel/", customer_panel, name="customer_panel"),
    path("lines/customers/<int:pk>/group-line/", group_line_edit, name="group_line"),
    path(
        "lines/customers/<int:pk>/group-line/<int:line_pk>/end/",
        group_line_end,
        name="group_line_end",
    ),
    path("lines/customers/<int:pk>/securities/add/", security_add, name="security_add"),
    path("lines/securities/<int:security_pk>/edit/", security_edit, name="security_edit"),
    path("lines/securities/<int:security_pk>/end/", security_end, name="security_end"),
    path("lines/customers/<int:pk>/ratings/", rating_list, name="ratings"),
    path("lines/customers/<int:pk>/ratings/add/", rating_add, name="rating_add"),
    path("lines/ratings/import/", rating_import, name="rating_import"),
    path(
        "lines/ratings/import/template.xlsx",
        rating_import_template,
        name="rating_import_template",
    ),
    path("lines/ratings/import/report.xlsx", rating_import_report, name="rating_import_report"),
    path("lines/payments/import/", payment_import_view, name="payment_import"),
    path(
        "lines/payments/import/template.xlsx",
        payment_import_template,
        name="payment_import_template",
    ),
    path("lines/payments/import/report.xlsx", payment_import_report, name="payment_import_report"),
    path("lines/groups/", credit_group_list, name="credit_groups"),
    path("lines/groups/add/", credit_group_edit, name="credit_group_add"),
    path("lines/groups/<int:pk>/", credit_group_detail, name="credit_group"),
    path("lines/groups/<int:pk>/edit/", credit_group_edit, name="credit_group_edit"),
    path(
        "lines/groups/<int:pk>/members/<int:customer_pk>/remove/",
        credit_group_remove,
        name="credit_group_remove",
    ),
]
