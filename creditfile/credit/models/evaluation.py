"""An evaluation 信用评估: a scorecard applied to one customer's facts at one moment."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField

_USER = settings.AUTH_USER_MODEL


class Evaluation(models.Model):
    """Inputs as they were, each factor's band and points, total, grade, limit.

    Sales fills the evaluation form (`sales_form`, plus the judgement inputs finance
    cannot read from the file); finance reviews and scores it. A rescore by the batch
    writes the same record with `kind="rescore"` and no application.
    """

    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="credit_evaluations",
    )
    application = models.ForeignKey(
        "credit.CreditApplication",
        verbose_name=_("信用申请"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="evaluations",
    )
    kind = models.CharField(_("类型"), max_length=20, default="application")
    scorecard = models.ForeignKey(
        "credit.Scorecard",
        verbose_name=_("评分卡版本"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    policy = models.ForeignKey(
        "credit.GradePolicy",
        verbose_name=_("等级政策版本"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    as_of = models.DateField(_("评估基准日"))
    sales_form = models.JSONField(_("销售填写的评估表"), default=dict, blank=True)
    inputs = models.JSONField(_("评估输入（当时的数据）"), default=dict)
    total_score = models.DecimalField(_("总分"), max_digits=6, decimal_places=2)
    grade = models.CharField(_("评定等级"), max_length=2)
    recommended_limit = MoneyField(_("建议额度（元）"))
    limit_explanation = models.TextField(_("额度计算说明"), blank=True)
    standard_failures = models.JSONField(_("未达到的信用标准"), default=list, blank=True)
    # Per factor, in the scorecard's order: [code, index of the band it fell in or null,
    # points]. Labels, weights and reasons are read from the frozen scorecard version
    # (scoring.stored_factors): one row per evaluation, however many factors.
    factor_scores = models.JSONField(_("各因素得分"), default=list, blank=True)
    filled_by = models.ForeignKey(
        _USER,
        verbose_name=_("填表人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    scored_by = models.ForeignKey(
        _USER,
        verbose_name=_("评分人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    review_comment = models.TextField(_("财务审核意见"), blank=True)
    created_at = models.DateTimeField(_("评估时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信用评估")
        verbose_name_plural = _("信用评估")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="evaluation_customer")]

    def __str__(self):
        return f"{self.customer} {self.grade} {self.total_score}"


class ExternalRating(models.Model):
    """An agency's report on the customer: a source (R-10) and a scorecard input."""

    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="external_ratings",
    )
    agency = models.CharField(_("评级机构"), max_length=100)
    provider = models.CharField(_("数据来源接口"), max_length=40, default="file")
    rated_on = models.DateField(_("报告日期"))
    rating = models.CharField(_("评级"), max_length=20, blank=True)
    score = models.DecimalField(
        _("评分（0–100）"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    summary = models.TextField(_("报告摘要"), blank=True)
    report = models.ForeignKey(
        "customers.Attachment",
        verbose_name=_("报告文件"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_by = models.ForeignKey(
        _USER,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("外部评级")
        verbose_name_plural = _("外部评级")
        ordering = ["customer", "-rated_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "agency", "rated_on"], name="rating_unique_report"
            ),
        ]

    def __str__(self):
        return f"{self.agency} {self.rating} {self.rated_on}"


class PaymentSummary(models.Model):
    """How a customer paid over the 12 months to `period_end` (R-23 character, R-27).

    Scoring, sanction rules and annual reviews read payment behaviour only from here.
    The receivables ledger keeps it up to date once it exists; until then it is
    imported from the ERP's aging and collection reports (one row per customer and
    month-end), which is how most companies start.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="payment_summaries",
    )
    period_end = models.DateField(_("统计截止日"))
    sales_amount = MoneyField(_("12个月销售额（元）"), default=0)
    payments_amount = MoneyField(_("12个月回款额（元）"), default=0)
    invoices_settled = models.PositiveIntegerField(_("已结清发票数"), default=0)
    invoices_paid_on_time = models.PositiveIntegerField(_("按期付款发票数"), default=0)
    average_days_late = models.DecimalField(
        _("加权平均逾期天数"), max_digits=7, decimal_places=1, default=0
    )
    max_days_late = models.PositiveIntegerField(_("最长逾期天数"), default=0)
    times_late_over_30 = models.PositiveIntegerField(_("逾期超过30天次数"), default=0)
    times_late_over_90 = models.PositiveIntegerField(_("逾期超过90天次数"), default=0)
    overdue_amount = MoneyField(_("期末逾期金额（元）"), default=0)
    malicious_default = models.BooleanField(_("恶意拖欠"), default=False)
    source = models.CharField(_("来源"), max_length=20, default="import")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("付款记录汇总")
        verbose_name_plural = _("付款记录汇总")
        ordering = ["customer", "-period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "period_end"], name="one_payment_summary_per_period"
            ),
        ]

    def __str__(self):
        return f"{self.customer} {self.period_end}"
