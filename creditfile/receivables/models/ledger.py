"""Documents from the ERP or entered here: each in its currency, with its amount in CNY.

Every document is identified by (company, source, number), so posting the same document
again from the same source updates it instead of adding a second one. Amounts that the
credit check adds up are kept in CNY (`base_*`), converted once with the rate used.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.receivables.choices import CheckPoint, OrderStatus, PaymentKind

_USER = settings.AUTH_USER_MODEL


class Document(models.Model):
    company = models.ForeignKey(
        "core.Company", verbose_name=_("销售公司"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("来源系统"), max_length=40, default="manual")
    number = models.CharField(_("单据号"), max_length=60)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    rate = models.DecimalField(_("汇率（折人民币）"), max_digits=12, decimal_places=6, default=1)
    amount = MoneyField(_("金额（原币）"))
    base_amount = MoneyField(_("金额（人民币）"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # No HISTORY_ROOT: documents are the ERP's record, not changes to the credit file, so
    # posting one neither writes the file's change log nor counts as updating the file
    # (which would hide a stale file behind its invoices).

    class Meta:
        abstract = True

    def __str__(self):
        return self.number


class SalesOrder(Document):
    """A sales order as the credit check saw it; a released one reserves its open amount."""

    order_date = models.DateField(_("订单日期"))
    status = models.CharField(_("状态"), max_length=12, choices=OrderStatus.choices)
    stage = models.CharField(
        _("所处环节"), max_length=10, choices=CheckPoint.choices, default=CheckPoint.ENTRY
    )
    copied_from = models.ForeignKey(
        "self",
        verbose_name=_("复制自"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="copies",
    )
    invoiced_base = MoneyField(_("已开票金额（人民币）"), default=0)
    check_reasons = models.JSONField(_("信用检查结果"), default=list, blank=True)
    decided_by = models.ForeignKey(
        _USER,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_reason = models.TextField(_("处理理由"), blank=True)

    class Meta:
        verbose_name = _("销售订单")
        verbose_name_plural = _("销售订单")
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "source", "number"], name="order_unique_number"
            ),
            models.CheckConstraint(condition=Q(base_amount__gte=0), name="order_amount_positive"),
        ]
        indexes = [models.Index(fields=["customer", "status"], name="order_customer_status")]
        permissions = [
            ("check_credit", _("可以对订单做信用检查")),
            ("release_order", _("可以放行或拒绝信用冻结的订单")),
        ]

    @property
    def delivered(self) -> bool:
        return CheckPoint.rank(self.stage) >= CheckPoint.rank(CheckPoint.DELIVERY)

    @property
    def open_base(self):
        """What the order still holds of the limit: released and not yet invoiced."""
        if self.status != OrderStatus.RELEASED:
            return 0
        return max(self.base_amount - self.invoiced_base, 0)


class Invoice(Document):
    order = models.ForeignKey(
        SalesOrder,
        verbose_name=_("销售订单"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    invoice_date = models.DateField(_("开票日期"))
    due_date = models.DateField(_("到期日"))
    open_base = MoneyField(_("未收金额（人民币）"))
    order_base = MoneyField(_("冲减订单占用（人民币）"), default=0)
    settled_on = models.DateField(_("结清日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("发票")
        verbose_name_plural = _("发票")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "source", "number"], name="invoice_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(open_base__gte=0) & Q(open_base__lte=models.F("base_amount")),
                name="invoice_open_within_amount",
            ),
        ]
        indexes = [
            models.Index(
                fields=["customer", "company", "due_date", "id"],
                condition=Q(open_base__gt=0),
                name="invoice_open_by_due",
            ),
            # The aging as of today reads only this, customer after customer (so the
            # totals per customer stream out without a sort), never the table.
            models.Index(
                fields=["company", "customer", "due_date", "invoice_date", "open_base"],
                condition=Q(open_base__gt=0),
                name="invoice_open_aging",
            ),
        ]


class Payment(Document):
    """A payment received, or a credit note: both settle invoices through allocations."""

    kind = models.CharField(
        _("类型"), max_length=12, choices=PaymentKind.choices, default=PaymentKind.PAYMENT
    )
    received_on = models.DateField(_("收款日期"))
    reference = models.CharField(
        _("对应发票号"), max_length=60, blank=True, help_text=_("付款所指的发票，先冲抵该发票")
    )
    unallocated_base = MoneyField(_("未核销金额（人民币）"))

    class Meta:
        verbose_name = _("回款")
        verbose_name_plural = _("回款")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "source", "kind", "number"], name="payment_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(unallocated_base__gte=0)
                & Q(unallocated_base__lte=models.F("base_amount")),
                name="payment_unallocated_within_amount",
            ),
        ]
        indexes = [
            models.Index(
                fields=["customer", "company", "received_on", "id"],
                condition=Q(unallocated_base__gt=0),
                name="payment_unallocated",
            )
        ]


class Allocation(models.Model):
    """How much of a payment settled how much of an invoice (核销)."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("回款"), on_delete=models.CASCADE, related_name="allocations"
    )
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("发票"), on_delete=models.CASCADE, related_name="allocations"
    )
    base_amount = MoneyField(_("核销金额（人民币）"))
    allocated_on = models.DateField(_("核销日期"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("核销")
        verbose_name_plural = _("核销")
        ordering = ["id"]
        # Whether anything was settled after a date decides how the aging is read.
        indexes = [models.Index(fields=["allocated_on"], name="allocation_on")]

    def __str__(self):
        return f"{self.payment} → {self.invoice}: {self.base_amount}"
