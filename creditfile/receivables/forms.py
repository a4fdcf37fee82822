"""Forms of the receivables screens; the rules stay in services/ and the models."""

from django import forms
from django.utils.translation import gettext_lazy as _

from creditfile.receivables.choices import CheckPoint
from creditfile.receivables.models import CreditControl

CHECK_FIELDS = [f"check_on_{point}" for point in CheckPoint.values]


class CreditControlForm(forms.ModelForm):
    class Meta:
        model = CreditControl
        fields = [
            *CHECK_FIELDS,
            "count_open_orders",
            "count_delivered",
            "receivables_counted",
            "overdue_tolerance_days",
            "overdue_tolerance_amount",
        ]

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in CHECK_FIELDS):
            self.add_error("check_on_entry", _("至少选择一个信用检查点。"))
        return data
