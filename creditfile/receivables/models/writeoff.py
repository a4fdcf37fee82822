"""Bad-debt write-offs 坏账核销 (R-30): the part of an invoice the company gives up on.

An approved write-off lowers the invoice's open amount and the customer's exposure like a
payment would, but it is no payment: payment habits count the invoice as not paid on time.
It is in force from `written_off_on` until `reversed_on` (if reversed), which is what the
aging as of a past date reads.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.receivables.choices import WriteOffStatus

_USER = settings.AUTH_USER_MODEL


def _person(label):
    return models.ForeignKey(
        _USER, verbose_name=label, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )


class WriteOff(models.Model):
    invoice = models.ForeignKey(
        "receivables.Invoice",
        verbose_name=_("发票"),
        on_delete=models.PROTECT,
        related_name="write_offs",
    )
    base_amount = MoneyField(_("坏账金额（人民币）"))
    reason = models.TextField(_("核销理由"))
    status = models.CharField(
        _("状态"), max_length=12, choices=WriteOffStatus.choices, default=WriteOffStatus.PROPOSED
    )
    proposed_by = _person(_("提出人"))
    proposed_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    decided_by = _person(_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_reason = models.TextField(_("审批意见"), blank=True)
    written_off_on = models.DateField(_("坏账核销日期"), null=True, blank=True)
    reversed_by = _person(_("冲回人"))
    reversed_at = models.DateTimeField(_("冲回时间"), null=True, blank=True)
    reversed_on = models.DateField(_("冲回日期"), null=True, blank=True)
    reversal_reason = models.TextField(_("冲回理由"), blank=True)

    class Meta:
        verbose_name = _("坏账核销")
        verbose_name_plural = _("坏账核销")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(base_amount__gt=0), name="writeoff_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["written_off_on"], name="writeoff_on"),
            models.Index(fields=["reversed_on"], name="writeoff_reversed_on"),
        ]
        permissions = [("approve_writeoff", _("可以审批或冲回坏账核销"))]

    def __str__(self):
        return f"{self.invoice} {self.base_amount}"
