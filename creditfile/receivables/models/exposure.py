"""Each customer's exposure with each selling company, and the company's check settings."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.receivables.choices import CheckPoint, ReceivablesCounted
from creditfile.receivables.validators import DEFAULT_AGING_BUCKETS, validate_bucket_bounds


class Exposure(models.Model):
    """Open receivables and open orders in CNY, changed in the same transaction as the
    ledger, under this row's lock: the credit check reads and reserves here.

    Overdue amounts depend on the day, so they are read from the open invoices (an index
    of only the open ones) when a check runs, not stored.
    """

    company = models.ForeignKey(
        "core.Company", verbose_name=_("销售公司"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="exposures",
    )
    open_receivables = MoneyField(_("未收应收账款（人民币）"), default=0)
    open_orders = MoneyField(_("已放行未开票订单（人民币）"), default=0)
    delivered_orders = MoneyField(
        _("其中已发货未开票（人民币）"),
        default=0,
        help_text=_("已放行未开票订单中已发货的部分"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("信用占用")
        verbose_name_plural = _("信用占用")
        constraints = [
            models.UniqueConstraint(fields=["company", "customer"], name="one_exposure_per_pair"),
        ]

    def __str__(self):
        return f"{self.customer} {self.open_receivables} + {self.open_orders}"


class CreditControl(models.Model):
    """How a selling company checks orders: what counts against the limit, what overdue
    it tolerates. A company without a row uses the defaults of the fields. Every change
    is in the change log: loosening the check is a decision someone answers for."""

    HISTORY_ROOT = ""

    company = models.OneToOneField(
        "core.Company",
        verbose_name=_("销售公司"),
        on_delete=models.CASCADE,
        related_name="credit_control",
    )
    check_on_entry = models.BooleanField(_("订单录入时检查"), default=True)
    check_on_release = models.BooleanField(_("订单审核放行时检查"), default=False)
    check_on_delivery = models.BooleanField(_("发货时检查"), default=False)
    check_on_invoice = models.BooleanField(_("开票时检查"), default=False)
    count_open_orders = models.BooleanField(_("已放行未发货订单计入占用"), default=True)
    count_delivered = models.BooleanField(_("已发货未开票订单计入占用"), default=True)
    receivables_counted = models.CharField(
        _("计入占用的应收账款"),
        max_length=20,
        choices=ReceivablesCounted.choices,
        default=ReceivablesCounted.ALL_OPEN,
    )
    overdue_tolerance_days = models.PositiveIntegerField(
        _("容忍逾期天数"), default=0, help_text=_("最早逾期超过此天数时冻结订单")
    )
    overdue_tolerance_amount = MoneyField(
        _("容忍逾期金额（元）"), default=0, help_text=_("逾期金额超过此数时冻结订单")
    )
    aging_buckets = models.CharField(
        _("账龄分段（逾期天数上限）"),
        max_length=100,
        default=DEFAULT_AGING_BUCKETS,
        validators=[validate_bucket_bounds],
        help_text=_(
            "逗号分隔的升序正整数，如 30,60,90,180：未到期、1–30、31–60 …，最后一段为超过最大值"
        ),
    )

    class Meta:
        verbose_name = _("信用检查设置")
        verbose_name_plural = _("信用检查设置")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(check_on_entry=True)
                | models.Q(check_on_release=True)
                | models.Q(check_on_delivery=True)
                | models.Q(check_on_invoice=True),
                name="credit_control_checks_somewhere",
                violation_error_message=_("至少选择一个信用检查点。"),
            ),
        ]

    def __str__(self):
        return str(self.company)

    def checks_at(self, point: str) -> bool:
        return getattr(self, f"check_on_{point}")

    @property
    def first_point(self) -> str:
        """The earliest step that checks: an order before it is only recorded."""
        return next(point for point in CheckPoint.values if self.checks_at(point))
