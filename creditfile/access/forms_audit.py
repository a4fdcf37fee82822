from django import forms
from django.utils.translation import gettext_lazy as _

from creditfile.access.models import AuditEvent
from creditfile.access.services.trail import TrailFilters
from creditfile.core.models import User

CUSTOMER_MATCH_CAP = 500


class AuditFilterForm(forms.Form):
    """The auditor's filters: user, customer (number or part of the name), action, outcome,
    and a range of days."""

    user = forms.ModelChoiceField(
        label=_("用户"), queryset=User.objects.order_by("username"), required=False
    )
    customer = forms.CharField(label=_("客户"), max_length=100, required=False)
    action = forms.ChoiceField(
        label=_("动作"), choices=[("", "—")] + list(AuditEvent.Action.choices), required=False
    )
    outcome = forms.ChoiceField(
        label=_("结果"), choices=[("", "—")] + list(AuditEvent.Outcome.choices), required=False
    )
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("截止日期不能早于起始日期。"))
        return data

    def clean_customer(self):
        text = self.cleaned_data["customer"].strip()
        if not text:
            return None
        from creditfile.customers.models import Customer

        if text.isdigit():
            return [int(text)]
        ids = list(
            Customer.objects.filter(name__icontains=text).values_list("pk", flat=True)[
                :CUSTOMER_MATCH_CAP
            ]
        )
        if not ids:
            raise forms.ValidationError(_("没有名称包含“%(text)s”的客户。"), params={"text": text})
        return ids

    def filters(self) -> TrailFilters:
        data = self.cleaned_data
        return TrailFilters(
            user_id=data["user"].pk if data.get("user") else None,
            customer_ids=data.get("customer"),
            action=data.get("action") or "",
            outcome=data.get("outcome") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
