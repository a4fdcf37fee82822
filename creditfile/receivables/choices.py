from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    """Where a sales order stands with the credit check (R-19 during-deal control)."""

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


class WriteOffStatus(models.TextChoices):
    """A bad-debt write-off 坏账核销: proposed, then approved (in force) or rejected;
    an approved one can be reversed when the money comes after all."""

    PROPOSED = "proposed", _("待审批")
    APPROVED = "approved", _("已核销")
    REJECTED = "rejected", _("已驳回")
    REVERSED = "reversed", _("已冲回")
