"""Collection cases 商账追讨 (R-30): who chases which overdue customer, what was done, what
the customer promised, and how it ended.

A case belongs to one customer and one selling company (the receivable is owed to that
company), and a customer has at most one open case per company, so every call, letter and
promise about the same debt lands in the same history. The case is part of the customer
file: it is logged in the file's change history and shown on the file.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.receivables.choices import ActionKind, CaseOutcome, CaseStatus, PromiseStatus

_USER = settings.AUTH_USER_MODEL


class CollectionCase(models.Model):
    HISTORY_ROOT = "customer"

    company = models.ForeignKey(
        "core.Company", verbose_name=_("销售公司"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="collection_cases",
    )
    owner = models.ForeignKey(
        _USER,
        verbose_name=_("催收负责人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="collection_cases",
        help_text=_("默认为客户的负责销售代表"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    opened_on = models.DateField(_("立案日期"), default=timezone.localdate)
    opened_by = models.ForeignKey(
        _USER,
        verbose_name=_("立案人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("空白表示由每日任务自动立案"),
    )
    opened_overdue = MoneyField(_("立案时逾期金额（人民币）"), default=0)
    next_action_on = models.DateField(_("下次跟进日期"), null=True, blank=True)
    next_action_note = models.CharField(_("下次跟进事项"), max_length=200, blank=True)
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    closed_by = models.ForeignKey(
        _USER,
        verbose_name=_("结案人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(_("结果"), max_length=20, choices=CaseOutcome.choices, blank=True)
    outcome_note = models.TextField(_("结案说明"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("催收案件")
        verbose_name_plural = _("催收案件")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "customer"],
                condition=Q(status=CaseStatus.OPEN),
                name="one_open_case_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(status=CaseStatus.OPEN) | ~Q(outcome=""),
                name="closed_case_has_outcome",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "next_action_on"], name="case_owner_followup"),
        ]
        permissions = [("assign_collectioncase", _("可以指派催收负责人"))]

    def __str__(self):
        return str(_("催收案件 #%(pk)s %(customer)s")) % {"pk": self.pk, "customer": self.customer}

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class CollectionAction(models.Model):
    """One thing done to collect: a call, a visit, a letter, handing over to an agency or
    a lawyer, filing a lawsuit. Communication with the customer is also filed in the
    customer's correspondence log (R-07), which `correspondence` points to."""

    HISTORY_ROOT = "case.customer"

    case = models.ForeignKey(
        CollectionCase, verbose_name=_("催收案件"), on_delete=models.CASCADE, related_name="actions"
    )
    kind = models.CharField(_("催收方式"), max_length=20, choices=ActionKind.choices)
    done_on = models.DateField(_("日期"), default=timezone.localdate)
    done_by = models.ForeignKey(
        _USER, verbose_name=_("经办人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    contact_person = models.CharField(_("对方联系人"), max_length=50, blank=True)
    note = models.TextField(_("情况记录"), blank=True)
    invoices = models.ManyToManyField(
        "receivables.Invoice", verbose_name=_("涉及发票"), blank=True, related_name="+"
    )
    letter = models.ForeignKey(
        "receivables.DunningLetter",
        verbose_name=_("函件"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
    )
    correspondence = models.ForeignKey(
        "customers.Correspondence",
        verbose_name=_("往来函电记录"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("催收记录")
        verbose_name_plural = _("催收记录")
        ordering = ["-done_on", "-id"]

    def __str__(self):
        return f"{self.done_on} {self.get_kind_display()}"


class PaymentPromise(models.Model):
    """A promise to pay 承诺付款: an amount by a date. Whether it was kept is decided from
    the ledger's payments (services/collections.py), never ticked by hand."""

    HISTORY_ROOT = "case.customer"
    HISTORY_EXCLUDE = ("evaluated_on",)

    case = models.ForeignKey(
        CollectionCase,
        verbose_name=_("催收案件"),
        on_delete=models.CASCADE,
        related_name="promises",
    )
    made_on = models.DateField(_("承诺日期"), default=timezone.localdate)
    promised_date = models.DateField(_("承诺付款日"))
    amount = MoneyField(_("承诺金额（人民币）"))
    contact_person = models.CharField(_("承诺人"), max_length=50, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        _USER, verbose_name=_("记录人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    status = models.CharField(
        _("兑现情况"), max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.PENDING
    )
    kept_on = models.DateField(_("兑现日期"), null=True, blank=True)
    evaluated_on = models.DateField(_("核对日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("付款承诺")
        verbose_name_plural = _("付款承诺")
        ordering = ["promised_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(
                condition=Q(promised_date__gte=models.F("made_on")),
                name="promise_not_before_made",
            ),
        ]

    def __str__(self):
        return f"{self.promised_date} {self.amount}"
