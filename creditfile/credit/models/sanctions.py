"""Sanctions (R-27), the blacklist and our own breaches (R-28)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.credit.choices import (
    BlacklistState,
    BreachKind,
    MeasureKind,
    ProposalState,
    SanctionAction,
    SanctionTrigger,
)

_USER = settings.AUTH_USER_MODEL


class SanctionRule(models.Model):
    """If the trigger holds, propose the action: e.g. > 30 days late once → one grade down."""

    HISTORY_ROOT = ""

    name = models.CharField(_("规则名称"), max_length=100)
    trigger = models.CharField(_("触发条件"), max_length=20, choices=SanctionTrigger.choices)
    days_late_over = models.PositiveIntegerField(_("逾期天数超过"), null=True, blank=True)
    occurrences = models.PositiveSmallIntegerField(_("次数（12个月内）"), default=1)
    action = models.CharField(_("处理"), max_length=20, choices=SanctionAction.choices)
    steps = models.PositiveSmallIntegerField(_("降级级数"), default=1)
    target_grade = models.CharField(_("降为等级"), max_length=2, blank=True)
    priority = models.PositiveSmallIntegerField(_("优先级（小者优先）"), default=10)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("惩戒规则")
        verbose_name_plural = _("惩戒规则")
        ordering = ["priority", "id"]

    def __str__(self):
        return self.name


class GradeChangeProposal(models.Model):
    """A proposed change of grade or limit, from a rescore, a sanction rule or a review."""

    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="grade_proposals",
    )
    source = models.CharField(_("来源"), max_length=20)
    rule = models.ForeignKey(
        SanctionRule,
        verbose_name=_("规则"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    evaluation = models.ForeignKey(
        "credit.Evaluation",
        verbose_name=_("评估"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_grade = models.CharField(_("原等级"), max_length=2, blank=True)
    to_grade = models.CharField(_("建议等级"), max_length=2)
    from_limit = MoneyField(_("原额度（元）"), null=True, blank=True)
    to_limit = MoneyField(_("建议额度（元）"), null=True, blank=True)
    cash_on_delivery = models.BooleanField(_("即时清结"), default=False)
    reason = models.CharField(_("原因"), max_length=300)
    state = models.CharField(
        _("状态"),
        max_length=10,
        choices=ProposalState.choices,
        default=ProposalState.PROPOSED,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        _USER,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_note = models.TextField(_("处理意见"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("等级调整建议")
        verbose_name_plural = _("等级调整建议")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.customer} {self.from_grade}→{self.to_grade}"


class Measure(models.Model):
    """A measure in force against a customer: stop credit sales, stop supply, …"""

    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="credit_measures",
    )
    kind = models.CharField(_("措施"), max_length=20, choices=MeasureKind.choices)
    reason = models.TextField(_("原因"))
    decided_by = models.ForeignKey(
        _USER, verbose_name=_("决定人"), on_delete=models.PROTECT, related_name="+"
    )
    decided_on = models.DateField(_("决定日期"))
    effective_from = models.DateField(_("生效日期"))
    ended_on = models.DateField(_("解除日期"), null=True, blank=True)
    ended_by = models.ForeignKey(
        _USER,
        verbose_name=_("解除人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    end_reason = models.TextField(_("解除原因"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("惩戒措施")
        verbose_name_plural = _("惩戒措施")
        ordering = ["customer", "-effective_from"]

    def __str__(self):
        return f"{self.customer} {self.get_kind_display()}"


class BlacklistEntry(models.Model):
    """Listing and lifting both need a second person's approval."""

    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="blacklist_entries",
    )
    state = models.CharField(
        _("状态"),
        max_length=15,
        choices=BlacklistState.choices,
        default=BlacklistState.PROPOSED,
        db_index=True,
    )
    reason = models.TextField(_("原因"))
    evidence = models.TextField(_("证据"), blank=True)
    evidence_files = models.ManyToManyField(
        "customers.Attachment", verbose_name=_("证据文件"), blank=True, related_name="+"
    )
    proposed_by = models.ForeignKey(
        _USER, verbose_name=_("提议人"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("提议时间"), auto_now_add=True)
    approved_by = models.ForeignKey(
        _USER,
        verbose_name=_("批准人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    lift_reason = models.TextField(_("解除理由"), blank=True)
    lift_proposed_by = models.ForeignKey(
        _USER,
        verbose_name=_("申请解除人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lift_proposed_at = models.DateTimeField(_("申请解除时间"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        _USER,
        verbose_name=_("批准解除人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("黑名单")
        verbose_name_plural = _("黑名单")
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(state__in=["proposed", "listed", "lift_proposed"]),
                name="one_open_blacklist_entry",
            ),
        ]

    def __str__(self):
        return f"{self.customer} {self.get_state_display()}"


class OwnBreach(models.Model):
    """本企业失信: our own breach, what we did about it and who answers for it (R-28)."""

    HISTORY_ROOT = ""

    kind = models.CharField(_("表现形式"), max_length=30, choices=BreachKind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("涉及客户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="own_breaches",
    )
    occurred_on = models.DateField(_("发生日期"))
    description = models.TextField(_("情况说明"))
    amount = MoneyField(_("涉及金额（元）"), null=True, blank=True)
    responsible_person = models.ForeignKey(
        _USER,
        verbose_name=_("责任人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    responsible_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    counterparty_notified_on = models.DateField(_("书面告知对方日期"), null=True, blank=True)
    compensation = MoneyField(_("赔偿金额（元）"), null=True, blank=True)
    corrective_action = models.TextField(_("纠正措施"), blank=True)
    disciplinary_action = models.TextField(_("对责任人的处理"), blank=True)
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        _USER, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("本企业失信记录")
        verbose_name_plural = _("本企业失信记录")
        ordering = ["-occurred_on"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.occurred_on}"
