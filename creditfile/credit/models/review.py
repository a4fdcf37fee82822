"""Reviews (R-23, R-26): yearly re-evaluation, quarterly monitoring, on demand."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.credit.choices import ReviewKind, ReviewState

_USER = settings.AUTH_USER_MODEL


class CreditReview(models.Model):
    """A review that is due; `creditfile daily` creates them, once per period."""

    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="credit_reviews",
    )
    kind = models.CharField(_("复评类型"), max_length=12, choices=ReviewKind.choices)
    period = models.CharField(_("期间"), max_length=10, help_text=_("如 2026、2026Q4"))
    due_on = models.DateField(_("到期日"), db_index=True)
    state = models.CharField(
        _("状态"),
        max_length=12,
        choices=ReviewState.choices,
        default=ReviewState.DUE,
        db_index=True,
    )
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    assigned_to = models.ForeignKey(
        _USER,
        verbose_name=_("负责人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.TextField(_("复核结论"), blank=True)
    completed_by = models.ForeignKey(
        _USER,
        verbose_name=_("完成人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信用复评")
        verbose_name_plural = _("信用复评")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "period"], name="one_review_per_period"
            ),
        ]

    def __str__(self):
        return f"{self.customer} {self.get_kind_display()} {self.period}"


class AnnualReviewReport(models.Model):
    """年审评价报告: the year's facts and the proposal that goes through approval."""

    HISTORY_ROOT = "review.customer"

    review = models.OneToOneField(
        CreditReview, verbose_name=_("复评"), on_delete=models.CASCADE, related_name="annual_report"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    sales_amount = MoneyField(_("年度销售额（元）"), default=0)
    payments_amount = MoneyField(_("年度回款额（元）"), default=0)
    average_days_late = models.DecimalField(
        _("平均逾期天数"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    max_days_late = models.PositiveIntegerField(_("最长逾期天数"), null=True, blank=True)
    incidents = models.PositiveIntegerField(_("信用事件数"), default=0)
    complaints = models.PositiveIntegerField(
        _("投诉数"), null=True, blank=True, help_text=_("客户服务模块上线前为空。")
    )
    file_changes = models.PositiveIntegerField(_("档案变更数"), default=0)
    facts = models.JSONField(_("数据明细"), default=dict, blank=True)
    current_grade = models.CharField(_("现等级"), max_length=2, blank=True)
    current_limit = MoneyField(_("现额度（元）"), null=True, blank=True)
    proposed_grade = models.CharField(_("建议等级"), max_length=2)
    proposed_limit = MoneyField(_("建议额度（元）"))
    evaluation = models.ForeignKey(
        "credit.Evaluation",
        verbose_name=_("评估"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    summary = models.TextField(_("评价意见"), blank=True)
    prepared_by = models.ForeignKey(
        _USER,
        verbose_name=_("编制人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    prepared_at = models.DateTimeField(_("编制时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("年审评价报告")
        verbose_name_plural = _("年审评价报告")
        ordering = ["-year", "review"]

    def __str__(self):
        return f"{self.review.customer} {self.year}"
