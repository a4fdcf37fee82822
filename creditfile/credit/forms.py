"""Forms of the credit application screens (R-20…R-25).

They only collect what a person types; every rule (who may, in which state, what is
required) is checked by services/workflow.py and services/approval.py, whose
WorkflowError names the field so the view can put the message next to it.
Colleagues' screens keep their own forms in their own modules.
"""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from creditfile.core.choices import Source
from creditfile.core.models import Company
from creditfile.credit.choices import (
    ApplicationKind,
    ApplicationState,
    CollectionSource,
    Decision,
    RefusalDecision,
)
from creditfile.credit.models import (
    CollectionItem,
    CustomerRefusal,
    PreContractReview,
    SiteSurvey,
)
from creditfile.credit.services.scoring_inputs import JUDGEMENT_CHOICES
from creditfile.customers.choices import AttachmentCategory
from creditfile.customers.forms import formfield

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = {"max_digits": 18, "decimal_places": 2, "min_value": Decimal("0")}
JUDGEMENT = [("", "---------"), *((key, label) for key, label in JUDGEMENT_CHOICES.items())]
# Kinds a person starts by hand; annual and on-demand reviews enter from the review screens.
HAND_KINDS = (
    ApplicationKind.NEW,
    ApplicationKind.INCREASE,
    ApplicationKind.RENEWAL,
    ApplicationKind.TEMPORARY,
)


def _comment(label=None, required=False) -> forms.CharField:
    return forms.CharField(
        label=label or _("意见/说明"),
        required=required,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- Lists and the new application --------------------------------------------------------


class ApplicationFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), ("open", _("未完结")), *ApplicationState.choices],
    )
    kind = forms.ChoiceField(
        label=_("申请类型"), required=False, choices=[("", _("全部")), *ApplicationKind.choices]
    )
    q = forms.CharField(
        label=_("客户/申请编号"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("客户名称或申请编号")}),
    )
    mine = forms.BooleanField(label=_("只看我提交的"), required=False)


class ApplicationForm(forms.Form):
    """Step 1 信用申请. The signed form's scan is required when the application rests on it."""

    company = forms.ModelChoiceField(
        label=_("销售公司"), queryset=Company.objects.all(), empty_label=None
    )
    kind = forms.ChoiceField(
        label=_("申请类型"),
        choices=[(k.value, k.label) for k in HAND_KINDS],
        initial=ApplicationKind.NEW,
    )
    requested_limit = forms.DecimalField(label=_("申请额度（元）"), **MONEY)
    requested_term_days = forms.IntegerField(
        label=_("申请信用期限（天）"), min_value=0, max_value=3650
    )
    temporary_until = forms.DateField(
        label=_("临时额度有效期至"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("临时授信必填。"),
    )
    expected_annual_purchases = forms.DecimalField(
        label=_("预计年采购额（元）"), required=False, **MONEY
    )
    purpose = _comment(_("申请用途/理由"))
    from_customer_form = forms.BooleanField(label=_("依据客户签署的申请表"), required=False)
    customer_form_file = forms.FileField(
        label=_("客户签署的申请表（扫描件）"),
        required=False,
        allow_empty_file=True,
        help_text=_("勾选“依据客户签署的申请表”时必须上传；存入客户附件目录。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].initial = Company.default().pk

    def clean(self):
        data = super().clean()
        if data.get("from_customer_form") and not data.get("customer_form_file"):
            self.add_error("customer_form_file", _("依据客户签署的申请表时，请附上申请表扫描件。"))
        return data


# --- Steps that only need a comment (and perhaps a document) --------------------------------


class CommentForm(forms.Form):
    comment = _comment()


class ReasonForm(forms.Form):
    reason = _comment(_("理由"), required=True)


class NoteForm(forms.Form):
    """A note or a document on the application's record without a change of state."""

    comment = _comment(_("备注"), required=True)
    category = forms.ChoiceField(
        label=_("附件类别"), choices=AttachmentCategory.choices, initial=AttachmentCategory.OTHER
    )
    file = forms.FileField(label=_("附件"), required=False, allow_empty_file=True)


# --- R-20 refusal ---------------------------------------------------------------------------


class RefusalForm(forms.ModelForm):
    """The customer will not file an application: who, why, and what our side thinks."""

    class Meta:
        model = CustomerRefusal
        fields = [
            "refused_by_person",
            "refused_by_title",
            "reason",
            "how_policy_explained",
            "sales_manager_view",
            "verified_with_customer",
        ]
        formfield_callback = formfield


class RefusalDecisionForm(forms.Form):
    """The credit manager's decision on a refusal (seed 002)."""

    decision = forms.ChoiceField(label=_("信用经理处理意见"), choices=RefusalDecision.choices)
    reason = _comment(_("处理理由/证据"), required=True)
    follow_up = _comment(_("后续行动"))
    follow_up_due = forms.DateField(label=_("跟进期限"), required=False, widget=DATE_WIDGET)


# --- investigation ---------------------------------------------------------------


class SiteSurveyForm(forms.ModelForm):
    """现场调查表: every field of SiteSurvey a sales rep fills in on site."""

    class Meta:
        model = SiteSurvey
        fields = [
            "visited_on",
            "people_met",
            "financial_condition",
            "willingness_to_pay",
            "ability_to_pay",
            "strategy",
            "resources",
            "board_relations",
            "use_of_funds",
            "guarantees",
            "main_business",
            "purchasing",
            "sales_area_and_settlement",
            "import_export_rights",
            "premises",
            "staff",
            "production_capacity",
            "identity_and_purpose",
            "impression",
        ]
        formfield_callback = formfield


class CollectionItemForm(forms.ModelForm):
    """One item of the collection checklist, with where and when it came from (R-10)."""

    file = forms.FileField(label=_("附件（可选）"), required=False, allow_empty_file=True)

    class Meta:
        model = CollectionItem
        fields = ["channel", "topic", "content", "obtained", "source", "source_date"]
        formfield_callback = formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = CollectionSource.choices
        if not self.instance.pk:
            self.initial.setdefault("source", Source.CREDIT_DEPT)


class PreContractReviewForm(forms.ModelForm):
    """R-22: legal standing, agent's authority, capacity to perform, authentic documents."""

    class Meta:
        model = PreContractReview
        fields = [
            "legal_standing_ok",
            "legal_standing_note",
            "agent_authority_ok",
            "agent_authority_note",
            "capacity_ok",
            "capacity_note",
            "documents_authentic",
            "documents_note",
        ]
        formfield_callback = formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # NullBooleanSelect keeps None/True/False as "unknown"/"true"/"false"; only relabel.
        checked = [("unknown", _("未审查")), ("true", _("合格")), ("false", _("不合格"))]
        for name in ("legal_standing_ok", "agent_authority_ok", "capacity_ok"):
            self.fields[name].widget.choices = checked
        self.fields["documents_authentic"].widget.choices = [
            ("unknown", _("未审查")),
            ("true", _("真实")),
            ("false", _("存疑/不真实")),
        ]


# --- R-23 evaluation ------------------------------------------------------------------------


class EvaluationForm(forms.Form):
    """客户信用评估表, filled by sales and stored as JSON in CreditApplication.evaluation_form.

    The keys are stable: finance, the scorecard and the reports read them.

    - ``main_business`` (text): the customer's main business and products.
    - ``expected_annual_purchases`` (decimal as a string, yuan): expected purchases from
      us per year; the scorecard's limit formula may use it.
    - ``payment_terms_requested`` (text): the payment terms the customer asks for.
    - ``industry_reputation`` ("good" / "fair" / "poor"): sales' judgement of the
      customer's reputation in its industry; a scorecard input.
    - ``cooperation_attitude`` ("good" / "fair" / "poor"): how cooperative the customer
      is; a scorecard input.
    - ``management_quality`` ("good" / "fair" / "poor"): the quality of its managers;
      a scorecard input.
    - ``guarantees_offered`` (text): guarantees, collateral or deposits the customer offers.
    - ``sales_comment`` (text): the sales rep's overall opinion and recommendation.
    """

    KEYS = (
        "main_business",
        "expected_annual_purchases",
        "payment_terms_requested",
        "industry_reputation",
        "cooperation_attitude",
        "management_quality",
        "guarantees_offered",
        "sales_comment",
    )

    main_business = _comment(_("客户主营业务"), required=True)
    expected_annual_purchases = forms.DecimalField(
        label=_("预计年采购额（元）"), required=False, **MONEY
    )
    payment_terms_requested = forms.CharField(
        label=_("客户要求的付款条件"), required=False, max_length=200
    )
    industry_reputation = forms.ChoiceField(label=_("行业信誉"), choices=JUDGEMENT)
    cooperation_attitude = forms.ChoiceField(label=_("合作态度"), choices=JUDGEMENT)
    management_quality = forms.ChoiceField(
        label=_("经营管理者素质"), choices=JUDGEMENT, required=False
    )
    guarantees_offered = _comment(_("客户可提供的担保"))
    sales_comment = _comment(_("销售人员意见"), required=True)

    def to_json(self) -> dict:
        """cleaned_data as JSON values: amounts as strings so they stay exact."""
        data = {}
        for key in self.KEYS:
            value = self.cleaned_data.get(key)
            if isinstance(value, Decimal):
                value = str(value)
            data[key] = value if value is not None else ""
        return data

    @classmethod
    def labelled(cls, stored: dict) -> list[tuple[str, str]]:
        """(label, shown value) of a stored form, in the form's order, unknown keys last."""
        rows = []
        for key in cls.KEYS:
            if key not in stored:
                continue
            value = stored[key]
            field = cls.base_fields[key]
            if isinstance(field, forms.ChoiceField) and value:
                value = dict(field.choices).get(value, value)
            rows.append((str(field.label), value if value not in (None, "") else "—"))
        for key, value in stored.items():
            if key not in cls.base_fields:
                rows.append((key, value if value not in (None, "") else "—"))
        return rows


class ScoreForm(forms.Form):
    """Finance's review: judgement inputs (blank = take the sales form's) and a comment."""

    industry_reputation = forms.ChoiceField(
        label=_("行业信誉（财务判断）"), choices=JUDGEMENT, required=False
    )
    cooperation_attitude = forms.ChoiceField(
        label=_("合作态度（财务判断）"), choices=JUDGEMENT, required=False
    )
    management_quality = forms.ChoiceField(
        label=_("经营管理者素质（财务判断）"), choices=JUDGEMENT, required=False
    )
    review_comment = _comment(_("财务审核意见"))

    def judgement(self) -> dict:
        return {
            key: self.cleaned_data[key]
            for key in ("industry_reputation", "cooperation_attitude", "management_quality")
            if self.cleaned_data.get(key)
        }


# --- R-25 approval and grant ----------------------------------------------------------------


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("审批决定"), choices=Decision.choices)
    limit = forms.DecimalField(
        label=_("批准额度（元）"),
        required=False,
        help_text=_("批准较低额度时填写。"),
        **MONEY,
    )
    term_days = forms.IntegerField(
        label=_("批准信用期限（天）"), required=False, min_value=0, max_value=3650
    )
    reason = _comment(_("理由"))


class GrantForm(forms.Form):
    valid_from = forms.DateField(label=_("生效日期"), required=False, widget=DATE_WIDGET)
    valid_until = forms.DateField(label=_("有效期至"), required=False, widget=DATE_WIDGET)
    comment = _comment()
