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


# --- Collections 商账追讨 (R-30) ---------------------------------------------------------------


class CaseStatus(models.TextChoices):
    OPEN = "open", _("跟进中")
    CLOSED = "closed", _("已结案")


class CaseOutcome(models.TextChoices):
    """How a collection case ended; write-off and lawsuit are proposals handed on, not
    booked here (the write-off itself is recorded with the bad debts)."""

    PAID = "paid", _("全额收回")
    PARTLY_PAID = "partly_paid", _("部分收回")
    WRITE_OFF_PROPOSED = "write_off_proposed", _("提议核销坏账")
    LAWSUIT = "lawsuit", _("转入诉讼")
    AGENCY = "agency", _("委托催收机构")


class ActionKind(models.TextChoices):
    CALL = "call", _("电话催收")
    VISIT = "visit", _("上门催收")
    EMAIL = "email", _("电子邮件催收")
    DUNNING_LETTER = "dunning_letter", _("催款函")
    LAWYER_LETTER = "lawyer_letter", _("律师函")
    AGENCY = "agency", _("委托催收机构")
    LAWSUIT = "lawsuit", _("提起诉讼")


class PromiseStatus(models.TextChoices):
    PENDING = "pending", _("待兑现")
    KEPT = "kept", _("已兑现")
    BROKEN = "broken", _("已违约")


class DunningChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    LETTER = "letter", _("信函")
    EMAIL = "email", _("电子邮件")
    VISIT = "visit", _("上门")
    LAWYER = "lawyer", _("律师函")


class RunStatus(models.TextChoices):
    PROPOSED = "proposed", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    CANCELLED = "cancelled", _("已取消")


class WriteOffStatus(models.TextChoices):
    """A bad-debt write-off 坏账核销: proposed, then approved (in force) or rejected;
    an approved one can be reversed when the money comes after all."""

    PROPOSED = "proposed", _("待审批")
    APPROVED = "approved", _("已核销")
    REJECTED = "rejected", _("已驳回")
    REVERSED = "reversed", _("已冲回")
