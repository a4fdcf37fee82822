"""The sections of a credit file (R-01…R-08), each a typed record with its provenance."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.core.models import ProvenanceModel
from creditfile.core.validators import phone_digits, validate_date_order, validate_phone
from creditfile.customers.choices import (
    Attitude,
    CertificationKind,
    GuaranteeKind,
    KeyPersonRole,
    LegalBasis,
    PeriodType,
    Trend,
)

# What a key person's details are held for, unless the person entering them says otherwise.
DEFAULT_PURPOSE = "客户信用评估与业务往来联系"


class CustomerSection(ProvenanceModel):
    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.CASCADE
    )

    class Meta:
        abstract = True


class Certification(CustomerSection):
    """Licences and certifications with their expiry dates (R-01)."""

    kind = models.CharField(_("证照类型"), max_length=30, choices=CertificationKind.choices)
    name = models.CharField(_("证照名称"), max_length=200)
    number = models.CharField(_("证照编号"), max_length=100, blank=True)
    issuer = models.CharField(_("发证机关"), max_length=200, blank=True)
    issued_on = models.DateField(_("发证日期"), null=True, blank=True)
    expires_on = models.DateField(_("有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("证照与认证")
        verbose_name_plural = _("证照与认证")
        ordering = ["expires_on", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors: dict = {}
        validate_date_order(
            errors, self.issued_on, self.expires_on, "expires_on", _("发证日期"), _("有效期")
        )
        if errors:
            raise ValidationError(errors)


class KeyPerson(CustomerSection):
    """Owner, managers and decision makers (R-02). Private details are personal information.

    Name, role and title are what the business registry and the person's business card
    say; everything in PRIVATE_FIELDS is masked for everyone until revealed for a stated
    purpose, kept only until `retention_until`, and never copied into the change history.
    Each record states why it is held (purpose, legal basis) — PIPL arts. 6, 13, 17.
    There is deliberately no field for ID numbers or for the sensitive categories the
    credit-reporting rules forbid (religion, genes, fingerprints, blood type, illness).
    """

    PRIVATE_FIELDS = (
        "birthday",
        "mobile",
        "education",
        "personality",
        "hobbies",
        "family",
        "abilities",
    )
    # The central history records that these changed, never what they were or became.
    HISTORY_REDACT = PRIVATE_FIELDS

    name = models.CharField(_("姓名"), max_length=50)
    role = models.CharField(_("角色"), max_length=20, choices=KeyPersonRole.choices)
    title = models.CharField(_("职务"), max_length=50, blank=True)
    birthday = models.DateField(_("出生日期"), null=True, blank=True)
    mobile = models.CharField(_("手机"), max_length=30, blank=True, validators=[validate_phone])
    education = models.CharField(_("学历"), max_length=50, blank=True)
    personality = models.TextField(_("性格特点"), blank=True)
    hobbies = models.TextField(_("兴趣爱好"), blank=True)
    family = models.TextField(_("家庭情况"), blank=True)
    abilities = models.TextField(_("能力评价"), blank=True)
    purpose = models.CharField(
        _("处理目的"),
        max_length=200,
        default=DEFAULT_PURPOSE,
        help_text=_("为何保存此人的信息，只在此目的范围内使用。"),
    )
    legal_basis = models.CharField(
        _("处理依据"), max_length=10, choices=LegalBasis.choices, default=LegalBasis.PUBLIC
    )
    consent_reference = models.CharField(
        _("同意书存放位置"),
        max_length=200,
        blank=True,
        help_text=_("签字同意书的存放处，如“档案室A柜3号卷”；或选择已上传的附件。"),
    )
    consent_attachment = models.ForeignKey(
        "customers.Attachment",
        verbose_name=_("同意书附件"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    basis_note = models.CharField(
        _("依据说明"),
        max_length=200,
        blank=True,
        help_text=_("处理依据为“其他情形”时，写明所依据的法律法规。"),
    )
    retention_until = models.DateField(
        _("保存期限"),
        null=True,
        blank=True,
        help_text=_("到期后个人信息由每日任务自动删除，姓名和职务保留。"),
    )

    class Meta:
        verbose_name = _("关键人物")
        verbose_name_plural = _("关键人物")
        ordering = ["role", "name"]

    def __str__(self):
        return _("%(name)s（%(role)s）") % {"name": self.name, "role": self.get_role_display()}

    @property
    def has_private_details(self) -> bool:
        return any(getattr(self, name) not in (None, "") for name in self.PRIVATE_FIELDS)

    def clean(self):
        errors: dict = {}
        if self.legal_basis == LegalBasis.CONSENT and not (
            self.consent_reference.strip() or self.consent_attachment_id
        ):
            errors["consent_reference"] = _(
                "处理依据为本人同意时，须写明同意书存放位置或选择同意书附件。"
            )
        if self.legal_basis == LegalBasis.OTHER and not self.basis_note.strip():
            errors["basis_note"] = _("处理依据为其他情形时，须写明依据。")
        if self.consent_attachment_id and self.consent_attachment.customer_id != self.customer_id:
            errors["consent_attachment"] = _("同意书附件须是本客户档案中的附件。")
        if self.has_private_details and self.retention_until is None:
            errors["retention_until"] = _("保存了个人信息的关键人物须填写保存期限。")
        elif self.has_private_details and self.retention_until < timezone.localdate():
            errors["retention_until"] = _("保存期限已过：请延长期限，或删除个人信息。")
        if not self.purpose.strip():
            errors["purpose"] = _("须写明处理目的。")
        if errors:
            raise ValidationError(errors)


class Characteristics(CustomerSection):
    """Customer characteristics (R-03): one per customer, kept current."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="characteristics",
    )
    service_area = models.CharField(_("服务区域"), max_length=200, blank=True)
    sales_capacity = models.TextField(_("销售能力"), blank=True)
    potential = models.TextField(_("发展潜力"), blank=True)
    philosophy = models.TextField(_("经营理念"), blank=True)
    policies = models.TextField(_("经营方针与政策"), blank=True)
    staff_count = models.PositiveIntegerField(_("人员规模"), null=True, blank=True)
    sales_scale = MoneyField(_("销售规模（元/年）"), null=True, blank=True)
    management_style = models.TextField(_("经营管理特点"), blank=True)
    purchasing_pattern = models.TextField(_("采购决策方式"), blank=True)
    needs = models.TextField(_("需求"), blank=True)
    business_trend = models.CharField(
        _("业务趋势"), max_length=10, choices=Trend.choices, blank=True
    )

    class Meta:
        verbose_name = _("客户特征")
        verbose_name_plural = _("客户特征")

    def __str__(self):
        return str(_("客户特征"))


class BusinessStatus(CustomerSection):
    """Business status (R-04); competitors are listed separately."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="business_status",
    )
    current_results = models.TextField(_("目前销售实绩"), blank=True)
    past_results = models.TextField(_("以往销售实绩"), blank=True)
    management_quality = models.TextField(_("经营管理者素质"), blank=True)
    staff_quality = models.TextField(_("业务人员素质"), blank=True)
    relations_with_us = models.TextField(_("与本公司的业务联系"), blank=True)
    cooperation_attitude = models.CharField(
        _("合作态度"), max_length=10, choices=Attitude.choices, blank=True
    )

    class Meta:
        verbose_name = _("业务状况")
        verbose_name_plural = _("业务状况")

    def __str__(self):
        return str(_("业务状况"))


class Competitor(CustomerSection):
    """A competitor that also supplies the customer: how, how much, on what terms (R-04)."""

    name = models.CharField(_("竞争对手"), max_length=200)
    mode = models.CharField(_("合作方式"), max_length=200, blank=True)
    annual_amount = MoneyField(_("年交易额（元）"), null=True, blank=True)
    payment_terms = models.CharField(_("付款条件"), max_length=200, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("竞争对手")
        verbose_name_plural = _("竞争对手")
        ordering = ["name"]

    def __str__(self):
        return self.name


class TradingStatus(CustomerSection):
    """Current trading activity (R-05)."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="trading_status",
    )
    sales_activity = models.TextField(_("销售活动状况"), blank=True)
    problems = models.TextField(_("存在的问题"), blank=True)
    strengths = models.TextField(_("保持的优势"), blank=True)
    plans = models.TextField(_("未来对策"), blank=True)
    reputation = models.TextField(_("企业信誉与形象"), blank=True)
    credit_status = models.TextField(_("信用状况"), blank=True)
    trade_terms = models.TextField(_("交易条件"), blank=True)
    past_credit_problems = models.TextField(_("以往信用问题"), blank=True)

    class Meta:
        verbose_name = _("交易活动现状")
        verbose_name_plural = _("交易活动现状")

    def __str__(self):
        return str(_("交易活动现状"))


class Contact(CustomerSection):
    """A contact person; emergency contacts are flagged (R-07)."""

    name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职务"), max_length=50, blank=True)
    department = models.CharField(_("部门"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True, validators=[validate_phone])
    mobile = models.CharField(_("手机"), max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(_("电子邮件"), blank=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)
    is_emergency = models.BooleanField(_("紧急联系人"), default=False)
    notes = models.TextField(_("备注"), blank=True)
    phone_search = models.CharField(max_length=80, blank=True, editable=False, db_index=True)

    HISTORY_EXCLUDE = ("phone_search",)

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["-is_primary", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        if not (self.phone or self.mobile or self.email):
            raise ValidationError({"mobile": _("电话、手机、电子邮件至少填写一项。")})

    def save(self, *args, **kwargs):
        self.phone_search = " ".join(
            filter(None, [phone_digits(self.mobile), phone_digits(self.phone)])
        )
        super().save(*args, **kwargs)


class BankAccount(CustomerSection):
    """A bank the customer uses (R-08)."""

    bank_name = models.CharField(_("开户银行"), max_length=100)
    branch = models.CharField(_("支行"), max_length=100, blank=True)
    account_name = models.CharField(_("户名"), max_length=200, blank=True)
    account_number = models.CharField(_("账号"), max_length=40)
    is_primary = models.BooleanField(_("基本户"), default=False)
    relationship_since = models.DateField(_("往来起始日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("往来银行")
        verbose_name_plural = _("往来银行")
        ordering = ["-is_primary", "bank_name"]

    def __str__(self):
        return f"{self.bank_name} {self.account_number[-4:]}"

    def clean(self):
        digits = self.account_number.replace(" ", "").replace("-", "")
        if digits and not digits.isdigit():
            raise ValidationError({"account_number": _("账号只能包含数字。")})
        if digits and not 8 <= len(digits) <= 30:
            raise ValidationError({"account_number": _("账号长度应在8到30位之间。")})


class FinancialStatement(CustomerSection):
    """One period's balance sheet and income lines (R-08). Ratios: services/financials.py."""

    period_end = models.DateField(_("报表截止日"))
    period_type = models.CharField(
        _("报表类型"), max_length=10, choices=PeriodType.choices, default=PeriodType.ANNUAL
    )
    audited = models.BooleanField(_("经审计"), default=False)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    cash = MoneyField(_("货币资金"), null=True, blank=True)
    accounts_receivable = MoneyField(_("应收账款"), null=True, blank=True)
    inventory = MoneyField(_("存货"), null=True, blank=True)
    current_assets = MoneyField(_("流动资产合计"))
    total_assets = MoneyField(_("资产总计"))
    current_liabilities = MoneyField(_("流动负债合计"))
    total_liabilities = MoneyField(_("负债合计"))
    equity = MoneyField(_("所有者权益合计"))
    revenue = MoneyField(_("营业收入"))
    cost_of_sales = MoneyField(_("营业成本"), null=True, blank=True)
    operating_profit = MoneyField(_("营业利润"), null=True, blank=True)
    net_profit = MoneyField(_("净利润"))

    class Meta:
        verbose_name = _("财务报表")
        verbose_name_plural = _("财务报表")
        ordering = ["-period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "period_end", "period_type"], name="one_statement_per_period"
            )
        ]

    def __str__(self):
        return f"{self.period_end:%Y-%m-%d} {self.get_period_type_display()}"

    def clean(self):
        errors: dict = {}
        for field in ("current_assets", "total_assets", "current_liabilities", "total_liabilities"):
            value = getattr(self, field)
            if value is not None and value < 0:
                errors[field] = [_("不能为负数。")]
        if self.current_assets is not None and self.total_assets is not None:
            if self.current_assets > self.total_assets:
                errors["current_assets"] = [_("流动资产不能大于资产总计。")]
        if self.current_liabilities is not None and self.total_liabilities is not None:
            if self.current_liabilities > self.total_liabilities:
                errors["current_liabilities"] = [_("流动负债不能大于负债合计。")]
        if None not in (self.total_assets, self.total_liabilities, self.equity):
            gap = abs(self.total_assets - self.total_liabilities - self.equity)
            if gap > max(Decimal("1.00"), abs(self.total_assets) * Decimal("0.001")):
                errors["equity"] = [
                    _("资产总计应等于负债合计加所有者权益合计（相差%(gap)s元）。")
                    % {"gap": f"{gap:,.2f}"}
                ]
        if errors:
            raise ValidationError(errors)


class Guarantee(CustomerSection):
    """A guarantee, collateral or deposit securing our credit to the customer (R-08)."""

    kind = models.CharField(_("担保方式"), max_length=20, choices=GuaranteeKind.choices)
    guarantor = models.CharField(_("担保人/出质人"), max_length=200, blank=True)
    description = models.TextField(_("担保物/内容"), blank=True)
    value = MoneyField(_("担保金额（元）"))
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    valid_until = models.DateField(_("到期日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("担保与抵押")
        verbose_name_plural = _("担保与抵押")
        ordering = ["-valid_until"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.value:,.2f}"

    def clean(self):
        errors: dict = {}
        if self.value is not None and self.value <= 0:
            errors["value"] = [_("担保金额必须大于0。")]
        validate_date_order(
            errors, self.valid_from, self.valid_until, "valid_until", _("生效日期"), _("到期日期")
        )
        if errors:
            raise ValidationError(errors)
