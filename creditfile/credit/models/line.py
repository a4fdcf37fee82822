"""Credit lines 授信: what a customer may owe us, per selling company (R-24, R-25).

One active line per customer and company (company empty = the group-wide limit
over all our companies); a new grant supersedes the old line, which stays as history.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.credit.choices import LineStatus, SecurityKind

_USER = settings.AUTH_USER_MODEL


class CreditLine(models.Model):
    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="credit_lines",
    )
    company = models.ForeignKey(
        "core.Company",
        verbose_name=_("销售公司"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("留空表示集团总额度"),
    )
    scope = models.CharField(max_length=20, editable=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=LineStatus.choices, default=LineStatus.ACTIVE
    )
    grade = models.CharField(_("信用等级"), max_length=2)
    limit = MoneyField(_("信用额度（元）"))
    term_days = models.PositiveSmallIntegerField(_("信用期限（天）"))
    discount_percent = models.DecimalField(
        _("现金折扣（%）"), max_digits=5, decimal_places=2, default=0
    )
    discount_days = models.PositiveSmallIntegerField(_("折扣期（天）"), default=0)
    cash_on_delivery = models.BooleanField(_("即时清结"), default=False)
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    application = models.ForeignKey(
        "credit.CreditApplication",
        verbose_name=_("授信依据（审批）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
    )
    policy = models.ForeignKey(
        "credit.GradePolicy",
        verbose_name=_("等级政策版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    granted_by = models.ForeignKey(
        _USER, verbose_name=_("授信人"), on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(_("授信时间"), auto_now_add=True)
    ended_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    end_reason = models.CharField(_("终止原因"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("授信额度")
        verbose_name_plural = _("授信额度")
        ordering = ["customer", "-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "scope"],
                condition=models.Q(status="active"),
                name="one_active_line_per_scope",
            ),
        ]

    def __str__(self):
        return f"{self.customer} {self.grade} {self.limit}"

    def save(self, *args, **kwargs):
        self.scope = f"company:{self.company_id}" if self.company_id else "group"
        super().save(*args, **kwargs)


class TemporaryLimit(models.Model):
    """临时授信: extra headroom for a period; it counts only while today is inside it."""

    HISTORY_ROOT = "line.customer"

    line = models.ForeignKey(
        CreditLine,
        verbose_name=_("授信额度"),
        on_delete=models.CASCADE,
        related_name="temporary_limits",
    )
    amount = MoneyField(_("临时额度（元）"))
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("到期日期"))
    application = models.ForeignKey(
        "credit.CreditApplication",
        verbose_name=_("审批"),
        on_delete=models.PROTECT,
        related_name="temporary_limits",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("临时授信")
        verbose_name_plural = _("临时授信")
        ordering = ["line", "-valid_from"]

    def __str__(self):
        return f"{self.amount} {self.valid_from}–{self.valid_until}"


class CreditSecurity(models.Model):
    """Guarantee, collateral, deposit 保证金 or credit insurance backing a customer's credit."""

    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="credit_securities",
    )
    line = models.ForeignKey(
        CreditLine,
        verbose_name=_("授信额度"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="securities",
    )
    kind = models.CharField(_("类型"), max_length=12, choices=SecurityKind.choices)
    provider = models.CharField(_("担保人/保险公司/存入方"), max_length=200)
    reference = models.CharField(_("合同号/保单号"), max_length=100, blank=True)
    amount = MoneyField(_("金额/保险金额（元）"))
    coverage_percent = models.DecimalField(
        _("赔付比例（%）"), max_digits=5, decimal_places=2, default=100
    )
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("到期日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    document = models.ForeignKey(
        "customers.Attachment",
        verbose_name=_("文件"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        _USER,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("增信措施")
        verbose_name_plural = _("增信措施")
        ordering = ["customer", "-valid_from"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.provider} {self.amount}"


class CreditGroup(models.Model):
    """Related customers (same owner / parent company) that share one group limit."""

    HISTORY_ROOT = ""

    name = models.CharField(_("关联客户组"), max_length=200)
    relation = models.CharField(
        _("关联关系"), max_length=200, blank=True, help_text=_("例如：同一实际控制人、母子公司")
    )
    limit = MoneyField(_("共享额度（元）"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    members = models.ManyToManyField(
        "customers.Customer", verbose_name=_("成员客户"), related_name="credit_groups"
    )
    created_by = models.ForeignKey(
        _USER,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("关联客户组")
        verbose_name_plural = _("关联客户组")
        ordering = ["name"]

    def __str__(self):
        return self.name
