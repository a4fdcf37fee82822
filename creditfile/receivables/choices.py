from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    """Where a sales order stands with the credit check (R-19 during-deal control)."""

    ENTERED = "entered", _("已录入")  # before the company's first check point: holds nothing
    BLOCKED = "blocked", _("信用冻结")
    RELEASED = "released", _("已放行")
    INVOICED = "invoiced", _("已开票")
    REJECTED = "rejected", _("已拒绝")
    CANCELLED = "cancelled", _("已取消")


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("回款")
    CREDIT_NOTE = "credit_note", _("贷项通知单")


class ReceivablesCounted(models.TextChoices):
    """Which receivables use up the limit (configurable per selling company)."""

    ALL_OPEN = "all_open", _("全部未结发票")
    OVERDUE_ONLY = "overdue_only", _("仅逾期发票")


class CheckPoint(models.TextChoices):
    """The steps of an order in the ERP, in their order; the company chooses at which the
    credit check runs (R-19: 事中控制)."""

    ENTRY = "entry", _("订单录入")
    RELEASE = "release", _("订单审核放行")
    DELIVERY = "delivery", _("发货")
    INVOICE = "invoice", _("开票")

    @classmethod
    def rank(cls, point: str) -> int:
        return cls.values.index(point)
