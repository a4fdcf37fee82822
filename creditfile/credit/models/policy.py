"""Grade policy (R-18, R-24): what each credit grade means in trade terms.

A policy is a version with an effective date. Editing one means drafting the next
version; a version in force is never rewritten, so every line and evaluation can
show the terms that applied when it was decided.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.credit.choices import LimitBasis, VersionStatus


class GradePolicy(models.Model):
    HISTORY_ROOT = ""

    name = models.CharField(_("名称"), max_length=100)
    version = models.PositiveIntegerField(_("版本"), unique=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    notes = models.TextField(_("修订说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("信用等级政策")
        verbose_name_plural = _("信用等级政策")
        ordering = ["-version"]

    def __str__(self):
        return f"{self.name} v{self.version}"


class GradeTerms(models.Model):
    """One grade of a policy: the limit, term, discount, standard and handling (R-24)."""

    HISTORY_ROOT = "policy"

    policy = models.ForeignKey(
        GradePolicy, verbose_name=_("政策"), on_delete=models.CASCADE, related_name="grades"
    )
    grade = models.CharField(_("等级"), max_length=2)
    label = models.CharField(_("名称"), max_length=50, blank=True)
    rank = models.PositiveSmallIntegerField(_("排序（1为最好）"))
    limit_basis = models.CharField(
        _("额度计算方式"), max_length=20, choices=LimitBasis.choices, default=LimitBasis.FIXED
    )
    default_limit = MoneyField(_("默认信用额度（元）"), default=0)
    limit_rate = models.DecimalField(
        _("比例（%）"),
        max_digits=6,
        decimal_places=2,
        default=0,
        help_text=_("按净资产或预计采购额计算时使用的比例。"),
    )
    max_limit = MoneyField(_("额度上限（元）"), null=True, blank=True)
    credit_term_days = models.PositiveSmallIntegerField(_("信用期限（天）"), default=0)
    discount_percent = models.DecimalField(
        _("现金折扣（%）"), max_digits=5, decimal_places=2, default=0
    )
    discount_days = models.PositiveSmallIntegerField(_("折扣期（天）"), default=0)
    credit_standard = models.TextField(_("信用标准（最低要求）"), blank=True)
    conditions = models.JSONField(
        _("可机检条件"),
        default=dict,
        blank=True,
        help_text=_(
            '例如 {"min_years_in_business": 3, "min_registered_capital": 1000000, '
            '"max_debt_ratio": 70, "requires_audited_statement": true}'
        ),
    )
    handling = models.TextField(_("处理办法"), blank=True)
    cash_on_delivery = models.BooleanField(_("即时清结（不赊销）"), default=False)
    security_counts_as_headroom = models.BooleanField(
        _("担保/保证金/保险可增加可用额度"), default=False
    )

    class Meta:
        verbose_name = _("等级条件")
        verbose_name_plural = _("等级条件")
        ordering = ["policy", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "grade"], name="gradeterms_unique_grade"),
            models.UniqueConstraint(fields=["policy", "rank"], name="gradeterms_unique_rank"),
        ]

    def __str__(self):
        return self.grade

    @property
    def terms_label(self) -> str:
        """Trade terms as Chinese credit managers write them, e.g. 2/10 n/30."""
        if self.cash_on_delivery:
            return str(_("即时清结"))
        if self.discount_percent and self.discount_days:
            rate = self.discount_percent.normalize()
            return f"{rate}/{self.discount_days} n/{self.credit_term_days}"
        return f"n/{self.credit_term_days}"
