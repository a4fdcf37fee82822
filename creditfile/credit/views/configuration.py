"""Credit configuration screens: grade policies, scorecards, the approval matrix (R-18, R-23–R-25).

Everyone with a credit role may read them (sales need the trade terms of each grade);
changing them needs credit.manage_policy. A version in force is read-only: the screens
offer "copy to new draft" instead, and the services refuse edits whatever the screen.
"""

import datetime
import json
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditfile.core import sudo
from creditfile.core.roles import ROLE_LABELS
from creditfile.credit.choices import VersionStatus
from creditfile.credit.models import (
    ApprovalRule,
    GradePolicy,
    GradeTerms,
    Scorecard,
    ScorecardFactor,
)
from creditfile.credit.services import configuration as config
from creditfile.credit.services import policy as versions
from creditfile.credit.services.errors import WorkflowError

MANAGE = config.MANAGE


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _refused(request: HttpRequest, exc: WorkflowError) -> None:
    """A refused change: 403 for a missing right, otherwise the reason as a message."""
    if exc.code == "forbidden":
        raise PermissionDenied(str(exc.message))
    messages.error(request, str(exc.message))


class EffectiveDateForm(forms.Form):
    effective_from = forms.DateField(
        label=gettext_lazy("生效日期"), widget=forms.DateInput(attrs={"type": "date"})
    )


class VersionNotesForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    notes = forms.CharField(
        label=gettext_lazy("修订说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- a small editable table whose value is a JSON list -----------------------------------


def _number(text: str):
    """A cell as a JSON number (int when whole) or the raw text for the form to refuse."""
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return int(value) if value == value.to_integral_value() else float(value)


class RowTableWidget(forms.Widget):
    """Rows of inputs (one per list item, plus blank rows to add) posted as name-<i>-<key>."""

    template_name = "credit/configuration/_row_table_widget.html"
    spare_rows = 2

    def __init__(self, columns, *, nullable=(), attrs=None):
        super().__init__(attrs)
        self.columns = columns  # (key, label, "number" | "text")
        self.nullable = set(nullable)

    def _rows(self, value) -> list[dict]:
        if isinstance(value, str):
            try:
                value = json.loads(value or "[]")
            except ValueError:
                value = []
        return [row for row in value or [] if isinstance(row, dict)]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = self._rows(value) + [{} for _i in range(self.spare_rows)]
        context["widget"]["columns"] = self.columns
        context["widget"]["rows"] = [
            [
                (key, "" if row.get(key) is None else row.get(key), kind)
                for key, _label, kind in self.columns
            ]
            for row in rows
        ]
        context["widget"]["count"] = len(rows)
        return context

    def row_from_cells(self, cells: dict) -> dict:
        row = {}
        for key, _label, kind in self.columns:
            text = cells.get(key, "")
            if text:
                row[key] = _number(text) if kind == "number" else text
            elif key in self.nullable:
                row[key] = None
        return row

    def value_from_datadict(self, data, files, name):
        if f"{name}-count" not in data:
            return data.get(name)
        try:
            count = min(int(data.get(f"{name}-count")), 200)
        except (TypeError, ValueError):
            count = 0
        rows = []
        for index in range(count):
            cells = {
                key: (data.get(f"{name}-{index}-{key}") or "").strip()
                for key, _label, _kind in self.columns
            }
            if any(cells.values()):
                rows.append(self.row_from_cells(cells))
        return json.dumps(rows, ensure_ascii=False)


class BandsWidget(RowTableWidget):
    def __init__(self, attrs=None):
        super().__init__(
            [
                ("min", _("下限（含）"), "number"),
                ("max", _("上限（不含）"), "number"),
                ("value", _("分类取值"), "text"),
                ("points", _("得分"), "number"),
                ("label", _("说明"), "text"),
            ],
            nullable=("min", "max"),
            attrs=attrs,
        )

    def row_from_cells(self, cells: dict) -> dict:
        row = super().row_from_cells(cells)
        if "value" in row:  # a category band has no range
            row.pop("min", None)
            row.pop("max", None)
        return row


def _check_table(rows, numeric_keys, what) -> list:
    if not isinstance(rows, list):
        raise forms.ValidationError(_("%(what)s格式不正确。") % {"what": what})
    for number, row in enumerate(rows, start=1):
        for key in numeric_keys:
            value = row.get(key)
            if value is not None and (isinstance(value, str) or isinstance(value, bool)):
                raise forms.ValidationError(
                    _("第%(n)d行“%(v)s”不是数字。") % {"n": number, "v": value}
                )
    return rows


class BandsField(forms.JSONField):
    widget = BandsWidget

    def clean(self, value):
        rows = _check_table(super().clean(value), ("min", "max", "points"), _("分档"))
        for number, row in enumerate(rows, start=1):
            points = row.get("points")
            if points is None:
                raise forms.ValidationError(_("第%(n)d行缺少得分。") % {"n": number})
            if not 0 <= points <= 100:
                raise forms.ValidationError(_("第%(n)d行得分应在0–100之间。") % {"n": number})
            low, high = row.get("min"), row.get("max")
            if low is not None and high is not None and low >= high:
                raise forms.ValidationError(_("第%(n)d行下限应小于上限。") % {"n": number})
        return rows


class GradeBandsField(forms.JSONField):
    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            RowTableWidget([("grade", _("等级"), "text"), ("min_score", _("最低分"), "number")]),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        rows = _check_table(super().clean(value), ("min_score",), _("分数→等级"))
        for number, row in enumerate(rows, start=1):
            if not row.get("grade") or row.get("min_score") is None:
                raise forms.ValidationError(_("第%(n)d行须填写等级和最低分。") % {"n": number})
        return sorted(rows, key=lambda row: -row["min_score"])


# --- grade policies -----------------------------------------------------------------------

GRADE_FIELDS = (
    "grade",
    "label",
    "rank",
    "limit_basis",
    "default_limit",
    "limit_rate",
    "max_limit",
    "credit_term_days",
    "discount_percent",
    "discount_days",
    "credit_standard",
    "conditions",
    "handling",
    "cash_on_delivery",
    "security_counts_as_headroom",
)


class _RowsFormSet(forms.BaseInlineFormSet):
    def validate_unique(self):
        """Duplicates are checked by the services, with messages naming the grade or code."""


GradeTermsFormSet = forms.inlineformset_factory(
    GradePolicy,
    GradeTerms,
    formset=_RowsFormSet,
    fields=list(GRADE_FIELDS),
    extra=1,
    can_delete=True,
    widgets={
        "credit_standard": forms.Textarea(attrs={"rows": 3}),
        "handling": forms.Textarea(attrs={"rows": 3}),
        "conditions": forms.Textarea(attrs={"rows": 3}),
    },
)


@require_GET
def config_index(request: HttpRequest) -> HttpResponse:
    _require(request, "credit.view_gradepolicy")
    today = timezone.localdate()
    in_force = {}
    for key, finder in (
        ("policy", versions.policy_in_force),
        ("scorecard", versions.scorecard_in_force),
    ):
        try:
            in_force[key] = finder(today)
        except WorkflowError:
            in_force[key] = None
    return render(
        request,
        "credit/configuration/index.html",
        {"in_force": in_force, "can_manage": request.user.has_perm(MANAGE)},
    )


def _versions_context(model, today):
    rows = list(model.objects.all())
    try:
        current = (
            versions.policy_in_force if model is GradePolicy else versions.scorecard_in_force
        )(today)
    except WorkflowError:
        current = None
    return rows, current


@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    _require(request, "credit.view_gradepolicy")
    rows, current = _versions_context(GradePolicy, timezone.localdate())
    return render(
        request,
        "credit/configuration/policy_list.html",
        {"policies": rows, "current": current, "can_manage": request.user.has_perm(MANAGE)},
    )


@require_GET
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "credit.view_gradepolicy")
    policy = get_object_or_404(GradePolicy, pk=pk)
    return render(
        request,
        "credit/configuration/policy_detail.html",
        {
            "policy": policy,
            "grades": policy.grades.all(),
            "is_draft": policy.status == VersionStatus.DRAFT,
            "can_manage": request.user.has_perm(MANAGE),
            "activate_form": EffectiveDateForm(initial={"effective_from": timezone.localdate()}),
        },
    )


@require_POST
def policy_copy(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, MANAGE)
    policy = get_object_or_404(GradePolicy, pk=pk)
    draft = config.copy_to_draft(policy, request.user)
    messages.success(request, _("已复制为新草稿 %(v)s，可以修改。") % {"v": draft})
    return redirect("credit:policy_edit", pk=draft.pk)


@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, MANAGE)
    policy = get_object_or_404(GradePolicy, pk=pk)
    try:
        versions.ensure_editable(policy)
    except WorkflowError as exc:
        messages.error(request, str(exc.message))
        return redirect("credit:policy_detail", pk=policy.pk)
    data = request.POST if request.method == "POST" else None
    notes_form = VersionNotesForm(data, initial={"name": policy.name, "notes": policy.notes})
    formset = GradeTermsFormSet(data, instance=policy)
    if request.method == "POST" and notes_form.is_valid() and formset.is_valid():
        kept = [
            form.instance
            for form in formset.forms
            if form not in formset.deleted_forms and (form.instance.pk or form.has_changed())
        ]
        removed = [form.instance for form in formset.deleted_forms if form.instance.pk]
        problems = config.grade_problems(kept)
        forms_by_index = [
            form
            for form in formset.forms
            if form not in formset.deleted_forms and (form.instance.pk or form.has_changed())
        ]
        for problem in problems:
            if problem.index is None:
                notes_form.add_error(None, problem.message)
            else:
                forms_by_index[problem.index].add_error(problem.field, problem.message)
        if not problems:
            try:
                config.save_policy_grades(policy, request.user, kept, removed)
                config.update_version_notes(
                    policy,
                    request.user,
                    notes_form.cleaned_data["name"],
                    notes_form.cleaned_data["notes"],
                )
            except WorkflowError as exc:
                _refused(request, exc)
            else:
                messages.success(request, _("已保存草稿 %(v)s。") % {"v": policy})
                return redirect("credit:policy_detail", pk=policy.pk)
    return render(
        request,
        "credit/configuration/policy_form.html",
        {"policy": policy, "notes_form": notes_form, "formset": formset},
    )


def _activate(request, version, detail_name):
    _require(request, MANAGE)
    form = EffectiveDateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写有效的生效日期。"))
        return redirect(detail_name, pk=version.pk)
    try:
        config.activate_version(version, request.user, form.cleaned_data["effective_from"])
    except WorkflowError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            _("%(v)s 已启用，自 %(d)s 起生效。")
            % {"v": version, "d": form.cleaned_data["effective_from"]},
        )
    return redirect(detail_name, pk=version.pk)


@require_POST
@sudo.require_recent_password(gettext_lazy("启用信用政策版本"))
def policy_activate(request: HttpRequest, pk: int) -> HttpResponse:
    return _activate(request, get_object_or_404(GradePolicy, pk=pk), "credit:policy_detail")


@require_GET
def grade_terms_table(request: HttpRequest) -> HttpResponse:
    """R-18 各等级交易条件: the policy in force as the credit analysis table per grade."""
    _require(request, "credit.view_gradeterms")
    on_date = timezone.localdate()
    if request.GET.get("on"):
        try:
            on_date = datetime.date.fromisoformat(request.GET["on"])
        except ValueError:
            messages.error(request, _("日期格式应为YYYY-MM-DD。"))
    try:
        policy = versions.policy_in_force(on_date)
    except WorkflowError as exc:
        policy, problem = None, exc.message
    else:
        problem = None
    return render(
        request,
        "credit/configuration/grade_terms.html",
        {
            "policy": policy,
            "grades": policy.grades.all() if policy else [],
            "on_date": on_date,
            "problem": problem,
        },
    )


# --- scorecards ---------------------------------------------------------------------------

FACTOR_FIELDS = (
    "sort_order",
    "code",
    "label",
    "group",
    "input_key",
    "direction",
    "weight",
    "missing_points",
    "bands",
    "reasoning",
)


def _input_choices():
    from creditfile.credit.services.scoring_inputs import INPUTS

    return [(key, f"{label}（{key}）") for key, (label, _kind) in INPUTS.items()]


class FactorForm(forms.ModelForm):
    bands = BandsField(label=gettext_lazy("分档"))

    class Meta:
        model = ScorecardFactor
        fields = list(FACTOR_FIELDS)
        widgets = {"reasoning": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["input_key"] = forms.ChoiceField(
            label=ScorecardFactor._meta.get_field("input_key").verbose_name,
            choices=_input_choices(),
        )
        if self.instance.pk and self.instance.input_key not in dict(_input_choices()):
            self.fields["input_key"].choices += [(self.instance.input_key, self.instance.input_key)]

    def clean_weight(self):
        weight = self.cleaned_data["weight"]
        if weight is not None and not 0 <= weight <= 100:
            raise forms.ValidationError(_("权重应在0–100之间。"))
        return weight

    def clean_missing_points(self):
        points = self.cleaned_data["missing_points"]
        if points is not None and not 0 <= points <= 100:
            raise forms.ValidationError(_("得分应在0–100之间。"))
        return points


FactorFormSet = forms.inlineformset_factory(
    Scorecard, ScorecardFactor, form=FactorForm, formset=_RowsFormSet, extra=1, can_delete=True
)


class ScorecardForm(VersionNotesForm):
    grade_bands = GradeBandsField(label=gettext_lazy("分数→等级"))


@require_GET
def scorecard_list(request: HttpRequest) -> HttpResponse:
    _require(request, "credit.view_scorecard")
    rows, current = _versions_context(Scorecard, timezone.localdate())
    return render(
        request,
        "credit/configuration/scorecard_list.html",
        {"scorecards": rows, "current": current, "can_manage": request.user.has_perm(MANAGE)},
    )


@require_GET
def scorecard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "credit.view_scorecard")
    scorecard = get_object_or_404(Scorecard, pk=pk)
    factors = list(scorecard.factors.all())
    return render(
        request,
        "credit/configuration/scorecard_detail.html",
        {
            "scorecard": scorecard,
            "factors": factors,
            "total_weight": sum((f.weight for f in factors), Decimal(0)),
            "is_draft": scorecard.status == VersionStatus.DRAFT,
            "can_manage": request.user.has_perm(MANAGE),
            "activate_form": EffectiveDateForm(initial={"effective_from": timezone.localdate()}),
        },
    )


@require_POST
def scorecard_copy(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, MANAGE)
    scorecard = get_object_or_404(Scorecard, pk=pk)
    draft = config.copy_to_draft(scorecard, request.user)
    messages.success(request, _("已复制为新草稿 %(v)s，可以修改。") % {"v": draft})
    return redirect("credit:scorecard_edit", pk=draft.pk)


@require_http_methods(["GET", "POST"])
def scorecard_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, MANAGE)
    scorecard = get_object_or_404(Scorecard, pk=pk)
    try:
        versions.ensure_editable(scorecard)
    except WorkflowError as exc:
        messages.error(request, str(exc.message))
        return redirect("credit:scorecard_detail", pk=scorecard.pk)
    data = request.POST if request.method == "POST" else None
    card_form = ScorecardForm(
        data,
        initial={
            "name": scorecard.name,
            "notes": scorecard.notes,
            "grade_bands": scorecard.grade_bands,
        },
    )
    formset = FactorFormSet(data, instance=scorecard)
    if request.method == "POST" and card_form.is_valid() and formset.is_valid():
        kept = [
            form.instance
            for form in formset.forms
            if form not in formset.deleted_forms and (form.instance.pk or form.has_changed())
        ]
        removed = [form.instance for form in formset.deleted_forms if form.instance.pk]
        try:
            config.save_scorecard(
                scorecard,
                request.user,
                kept,
                removed,
                grade_bands=card_form.cleaned_data["grade_bands"],
            )
            config.update_version_notes(
                scorecard,
                request.user,
                card_form.cleaned_data["name"],
                card_form.cleaned_data["notes"],
            )
        except WorkflowError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied(str(exc.message)) from exc
            card_form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("已保存草稿 %(v)s。") % {"v": scorecard})
            return redirect("credit:scorecard_detail", pk=scorecard.pk)
    return render(
        request,
        "credit/configuration/scorecard_form.html",
        {"scorecard": scorecard, "card_form": card_form, "formset": formset},
    )


@require_POST
@sudo.require_recent_password(gettext_lazy("启用评分卡版本"))
def scorecard_activate(request: HttpRequest, pk: int) -> HttpResponse:
    return _activate(request, get_object_or_404(Scorecard, pk=pk), "credit:scorecard_detail")


# --- approval matrix ----------------------------------------------------------------------


class ApprovalRuleForm(forms.ModelForm):
    role = forms.ChoiceField(label=gettext_lazy("审批角色"), choices=())

    class Meta:
        model = ApprovalRule
        fields = ["level", "role", "above_amount", "grades", "applies_to_temporary", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(code, label) for code, label in ROLE_LABELS.items()]

    def clean_grades(self):
        grades = self.cleaned_data.get("grades") or ""
        return ",".join(
            g.strip().upper() for g in grades.replace("，", ",").split(",") if g.strip()
        )

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            rule = ApprovalRule(**{k: cleaned.get(k) for k in self.Meta.fields})
            for field_name, message in config.rule_problems(rule).items():
                self.add_error(field_name, message)
        return cleaned


class PreviewForm(forms.Form):
    amount = forms.DecimalField(label=gettext_lazy("金额（元）"), min_value=0, decimal_places=2)
    grade = forms.CharField(label=gettext_lazy("等级"), max_length=2)
    temporary = forms.BooleanField(label=gettext_lazy("临时授信"), required=False)


def _preview(form) -> dict:
    if not form.is_bound or not form.is_valid():
        return {"preview_form": form}
    data = form.cleaned_data
    try:
        rules = config.preview_approval(data["amount"], data["grade"].upper(), data["temporary"])
    except WorkflowError as exc:
        return {"preview_form": form, "preview_problem": exc.message}
    return {
        "preview_form": form,
        "preview_rules": [(rule, ROLE_LABELS.get(rule.role, rule.role)) for rule in rules],
    }


@require_GET
def approval_rules(request: HttpRequest) -> HttpResponse:
    _require(request, "credit.view_approvalrule")
    rules = [
        (rule, ROLE_LABELS.get(rule.role, rule.role))
        for rule in ApprovalRule.objects.order_by("-is_active", "level", "above_amount")
    ]
    context = {"rules": rules, "can_manage": request.user.has_perm(MANAGE)}
    context |= _preview(PreviewForm(request.GET or None))
    return render(request, "credit/configuration/approval_rules.html", context)


@require_GET
def approval_preview(request: HttpRequest) -> HttpResponse:
    _require(request, "credit.view_approvalrule")
    return render(
        request, "credit/configuration/_approval_preview.html", _preview(PreviewForm(request.GET))
    )


@require_http_methods(["GET", "POST"])
@sudo.require_recent_password(gettext_lazy("修改审批权限"))
def approval_rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require(request, MANAGE)
    rule = get_object_or_404(ApprovalRule, pk=pk) if pk else None
    form = ApprovalRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            config.save_approval_rule(form.instance, request.user)
        except WorkflowError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied from exc
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("已保存审批权限。"))
            return redirect("credit:approval_rules")
    return render(
        request, "credit/configuration/approval_rule_form.html", {"form": form, "rule": rule}
    )


@require_POST
@sudo.require_recent_password(gettext_lazy("启用或停用审批权限"))
def approval_rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Rules are switched off rather than deleted, so the matrix's past stays explainable."""
    _require(request, MANAGE)
    rule = get_object_or_404(ApprovalRule, pk=pk)
    rule.is_active = not rule.is_active
    try:
        config.save_approval_rule(rule, request.user)
    except WorkflowError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request, _("已启用该审批权限。") if rule.is_active else _("已停用该审批权限。")
        )
    return redirect("credit:approval_rules")


urlpatterns = [
    path("config/", config_index, name="config"),
    path("config/terms/", grade_terms_table, name="grade_terms"),
    path("config/policies/", policy_list, name="policies"),
    path("config/policies/<int:pk>/", policy_detail, name="policy_detail"),
    path("config/policies/<int:pk>/copy/", policy_copy, name="policy_copy"),
    path("config/policies/<int:pk>/edit/", policy_edit, name="policy_edit"),
    path("config/policies/<int:pk>/activate/", policy_activate, name="policy_activate"),
    path("config/scorecards/", scorecard_list, name="scorecards"),
    path("config/scorecards/<int:pk>/", scorecard_detail, name="scorecard_detail"),
    path("config/scorecards/<int:pk>/copy/", scorecard_copy, name="scorecard_copy"),
    path("config/scorecards/<int:pk>/edit/", scorecard_edit, name="scorecard_edit"),
    path("config/scorecards/<int:pk>/activate/", scorecard_activate, name="scorecard_activate"),
    path("config/approval/", approval_rules, name="approval_rules"),
    path("config/approval/preview/", approval_preview, name="approval_preview"),
    path("config/approval/add/", approval_rule_edit, name="approval_rule_add"),
    path("config/approval/<int:pk>/edit/", approval_rule_edit, name="approval_rule_edit"),
    path("config/approval/<int:pk>/toggle/", approval_rule_toggle, name="approval_rule_toggle"),
]
