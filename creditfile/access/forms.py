from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.access.models import AccessSettings, ReadRequest
from creditfile.access.models.policy import COMPANY_APPROVER_CHOICES, READER_ROLE_CHOICES
from creditfile.core import roles


class ReadRequestForm(forms.Form):
    customers = forms.CharField(
        label=_("客户"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一个：客户全称或统一社会信用代码（须完全一致）。"),
    )
    purpose = forms.CharField(
        label=ReadRequest._meta.get_field("purpose").verbose_name, max_length=300
    )
    wanted_from = forms.DateField(
        label=ReadRequest._meta.get_field("wanted_from").verbose_name,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    wanted_to = forms.DateField(
        label=ReadRequest._meta.get_field("wanted_to").verbose_name,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["wanted_from"].initial = today
        self.fields["wanted_to"].initial = today + timedelta(days=7)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审批结果"), choices=[("approve", _("同意")), ("refuse", _("拒绝"))]
    )
    comment = forms.CharField(label=_("审批意见"), max_length=300, required=False)


class LendForm(forms.Form):
    due_back_at = forms.DateTimeField(
        label=_("应归还时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    note = forms.CharField(label=_("备注"), max_length=300, required=False)


class AccessSettingsForm(forms.ModelForm):
    reader_roles = forms.MultipleChoiceField(
        label=AccessSettings._meta.get_field("reader_roles").verbose_name,
        help_text=AccessSettings._meta.get_field("reader_roles").help_text,
        choices=[(code, roles.ROLE_LABELS[code]) for code in READER_ROLE_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    company_approver_role = forms.ChoiceField(
        label=AccessSettings._meta.get_field("company_approver_role").verbose_name,
        help_text=AccessSettings._meta.get_field("company_approver_role").help_text,
        choices=[(code, roles.ROLE_LABELS[code]) for code in COMPANY_APPROVER_CHOICES],
    )

    class Meta:
        model = AccessSettings
        fields = ["reader_roles", "company_approver_role"]
