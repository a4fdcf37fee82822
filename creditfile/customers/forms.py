"""Forms of the customer file screens (R-01…R-12).

Field rules live in the models' clean(); these forms only choose the fields a person fills
in and the widgets, so the same rule answers the inline check and the final save.
"""

from django import forms
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from creditfile.core import roles
from creditfile.core.models import User
from creditfile.customers.choices import AttachmentCategory
from creditfile.customers.models import (
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
    Region,
    TradingStatus,
    Visit,
)
from creditfile.customers.services.lifecycle import allowed_targets

# Every section says where its information came from. Who entered and who verified
# it, and the customer it belongs to, are set by the system and never typed in.
PROVENANCE_FIELDS = ("source", "source_date")


def formfield(field: models.Field, **kwargs):
    """Browser date pickers for dates; everything else as Django makes it."""
    # Whether a record changed is decided against the database (services/file_edits.py),
    # not from hidden copies of the initial values a browser sends back.
    kwargs.setdefault("show_hidden_initial", False)
    if isinstance(field, models.DateTimeField):
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        )
    elif isinstance(field, models.DateField):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    elif isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    elif isinstance(field, models.TextField):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
    return field.formfield(**kwargs)


class CustomerForm(forms.ModelForm):
    """Basic registry data (R-01). Grades come from evaluation and lifecycle from its own form."""

    class Meta:
        model = Customer
        fields = (
            "name",
            "short_name",
            "uscc",
            "kind",
            "is_international",
            "country",
            "currency",
            "registered_address",
            "office_address",
            "office_address_verified",
            "ownership",
            "organisation_form",
            "business_scope",
            "registered_capital",
            "legal_representative",
            "chairman",
            "general_manager",
            "established_on",
            "operating_term_until",
            "licence_valid_until",
            "issuing_authority",
            "first_trade_on",
            "total_assets",
            "employees",
            "annual_sales",
            "phone",
            "fax",
            "email",
            "website",
            "postcode",
            "industry",
            "channel_type",
            "location_type",
            "nature",
            "region",
            "owner",
            "department",
            "confidentiality",
        ) + PROVENANCE_FIELDS
        formfield_callback = formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people who can own a file are offered as its sales representative.
        self.fields["owner"].queryset = (
            User.objects.filter(is_active=True)
            .filter(Q(groups__name=roles.SALES_REP) | Q(groups__name=roles.DEPT_MANAGER))
            .distinct()
        )
        # Over three thousand GB/T 2260 regions are too many for a drop-down: type the code.
        self.fields["region"] = forms.ModelChoiceField(
            label=Customer._meta.get_field("region").verbose_name,
            queryset=Region.objects.all(),
            to_field_name="code",
            required=False,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 6}),
            error_messages={"invalid_choice": _("没有行政区划代码为“%(value)s”的地区。")},
            help_text=(
                _("当前：%(name)s") % {"name": self.instance.region.full_name}
                if self.instance.region_id
                else _("6位行政区划代码，如320506。")
            ),
        )
        if self.instance.region_id:
            self.initial["region"] = self.instance.region.code
        for name in ("industry", "ownership", "channel_type", "location_type", "nature"):
            field = self.fields[name]
            field.queryset = field.queryset.filter(
                Q(active=True) | Q(pk=getattr(self.instance, f"{name}_id", None))
            )


class CertificationForm(forms.ModelForm):
    class Meta:
        model = Certification
        fields = ("kind", "name", "number", "issuer", "issued_on", "expires_on") + PROVENANCE_FIELDS
        formfield_callback = formfield


class KeyPersonForm(forms.ModelForm):
    """Key persons (R-02). Without the right to see personal details, they cannot be edited
    either: the form of an existing person then leaves them out, and keeps what is stored."""

    class Meta:
        model = KeyPerson
        fields = (
            "name",
            "role",
            "title",
            "birthday",
            "mobile",
            "education",
            "personality",
            "hobbies",
            "family",
            "abilities",
        ) + PROVENANCE_FIELDS
        formfield_callback = formfield

    def __init__(self, *args, show_private: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_private and self.instance.pk:
            for name in KeyPerson.PRIVATE_FIELDS:
                self.fields.pop(name, None)


class CharacteristicsForm(forms.ModelForm):
    class Meta:
        model = Characteristics
        fields = (
            "service_area",
            "sales_capacity",
            "potential",
            "philosophy",
            "policies",
            "staff_count",
            "sales_scale",
            "management_style",
            "purchasing_pattern",
            "needs",
            "business_trend",
        ) + PROVENANCE_FIELDS
        formfield_callback = formfield


class BusinessStatusForm(forms.ModelForm):
    class Meta:
        model = BusinessStatus
        fields = (
            "current_results",
            "past_results",
            "management_quality",
            "staff_quality",
            "relations_with_us",
            "cooperation_attitude",
        ) + PROVENANCE_FIELDS
        formfield_callback = formfield


class CompetitorForm(forms.ModelForm):
    class Meta:
        model = Competitor
        fields = ("name", "mode", "annual_amount", "payment_terms", "notes") + PROVENANCE_FIELDS
        formfield_callback = formfield


class TradingStatusForm(forms.ModelForm):
    class Meta:
        model = TradingStatus
        fields = (
            "sales_activity",
            "problems",
            "strengths",
            "plans",
            "reputation",
            "credit_status",
            "trade_terms",
            "past_credit_problems",
        ) + PROVENANCE_FIELDS
        formfield_callback = formfield


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = (
            "name",
            "title",
            "department",
            "phone",
            "mobile",
            "email",
            "is_primary",
            "is_emergency",
            "notes",
        ) + PROVENANCE_FIELDS
        formfield_callback = formfield


class BankAccountForm(forms.ModelForm):
    class Meta:
        model = BankAccount
        fields = (
            "bank_name",
            "branch",
            "account_name",
            "account_number",
            "is_primary",
            "relationship_since",
            "notes",
        ) + PROVENANCE_FIELDS
        formfield_callback = formfield


class FinancialStatementForm(forms.ModelForm):
    class Meta:
        model = FinancialStatement
        fields = (
            "period_end",
            "period_type",
            "audited",
            "currency",
            "cash",
            "accounts_receivable",
            "inventory",
            "current_assets",
            "total_assets",
            "current_liabilities",
            "total_liabilities",
            "equity",
            "revenue",
            "cost_of_sales",
            "operating_profit",
            "net_profit",
        ) + PROVENANCE_FIELDS
        formfield_callback = formfield

    def clean(self):
        cleaned = super().clean()
        period_end, period_type = cleaned.get("period_end"), cleaned.get("period_type")
        customer_id = self.instance.customer_id
        # The database refuses a second statement for a period; say so on the field instead.
        if customer_id and period_end and period_type:
            duplicate = FinancialStatement.objects.filter(
                customer_id=customer_id, period_end=period_end, period_type=period_type
            ).exclude(pk=self.instance.pk)
            if duplicate.exists():
                self.add_error(
                    "period_end",
                    _("该客户已有截止日为%(date)s的%(type)s。")
                    % {
                        "date": period_end.isoformat(),
                        "type": dict(self.fields["period_type"].choices).get(period_type),
                    },
                )
        return cleaned


class GuaranteeForm(forms.ModelForm):
    class Meta:
        model = Guarantee
        fields = (
            "kind",
            "guarantor",
            "description",
            "value",
            "valid_from",
            "valid_until",
        ) + PROVENANCE_FIELDS
        formfield_callback = formfield


class ObservationForm(forms.ModelForm):
    class Meta:
        model = Observation
        fields = (
            "observed_on",
            "channel",
            "stationery",
            "answer_speed",
            "professionalism",
            "interest",
            "premises",
            "staff",
            "stock",
            "payment_habits",
            "notes",
        )
        formfield_callback = formfield


class VisitForm(forms.ModelForm):
    class Meta:
        model = Visit
        fields = ("visit_date", "planned", "purpose", "findings", "next_steps", "report_type")
        formfield_callback = formfield


class CorrespondenceForm(forms.ModelForm):
    class Meta:
        model = Correspondence
        fields = (
            "occurred_at",
            "channel",
            "direction",
            "subject",
            "summary",
            "our_person",
            "their_person",
        )
        formfield_callback = formfield


class FileEventForm(forms.ModelForm):
    class Meta:
        model = FileEvent
        fields = ("occurred_on", "severity", "title", "description")
        formfield_callback = formfield


class AttachmentForm(forms.Form):
    """Upload of a credit document (R-09); services/attachments.py decides what is accepted."""

    category = forms.ChoiceField(
        label=_("类别"), choices=[("", "---------"), *AttachmentCategory.choices]
    )
    title = forms.CharField(
        label=_("标题"), max_length=200, required=False, help_text=_("留空则使用文件名。")
    )
    document_date = forms.DateField(
        label=_("文件日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    # Empty files pass here so the service names the file in its message.
    file = forms.FileField(label=_("文件"), allow_empty_file=True)


class LifecycleForm(forms.Form):
    """A lifecycle move (R-12): only the moves the lifecycle allows from here are offered."""

    to_state = forms.ChoiceField(label=_("新状态"))
    reason = forms.CharField(
        label=_("原因"),
        max_length=300,
        required=False,
        help_text=_("变为休眠、流失或黑名单时必填。"),
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_state"].choices = [
            (target.value, target.label) for target in allowed_targets(customer)
        ]
