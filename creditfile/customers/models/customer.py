from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.core.models import Department, ProvenanceModel
from creditfile.core.validators import (
    normalize_uscc,
    validate_date_order,
    validate_phone,
    validate_postcode,
    validate_uscc,
)
from creditfile.customers.choices import (
    Confidentiality,
    CreditGrade,
    CustomerKind,
    Lifecycle,
    OrganisationForm,
    VolumeGrade,
)


class Customer(ProvenanceModel):
    """The credit file's root: basic registry data (R-01) plus what the file is about.

    The provenance fields inherited here describe the basic registry data section.
    """

    HISTORY_ROOT = ""
    HISTORY_EXCLUDE = (
        "name_pinyin",
        "name_initials",
        "file_updated_at",
        "last_visit_on",
        "completeness",
    )

    # Identity
    name = models.CharField(_("客户名称"), max_length=200, db_index=True)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    name_pinyin = models.CharField(_("名称拼音"), max_length=600, blank=True, editable=False)
    name_initials = models.CharField(_("拼音首字母"), max_length=200, blank=True, editable=False)
    uscc = models.CharField(
        _("统一社会信用代码"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        help_text=_("境内企业必填，18位，按GB 32100-2015校验。"),
    )
    kind = models.CharField(
        _("客户类别"),
        max_length=20,
        choices=CustomerKind.choices,
        default=CustomerKind.END_CUSTOMER,
    )
    is_international = models.BooleanField(_("境外客户"), default=False)
    country = models.CharField(_("国家/地区"), max_length=60, default="中国")
    currency = models.CharField(_("结算币种"), max_length=3, default="CNY")

    # Registry data
    registered_address = models.CharField(_("注册地址"), max_length=300, blank=True)
    office_address = models.CharField(_("实际办公地址"), max_length=300, blank=True)
    office_address_verified = models.BooleanField(_("办公地址已实地核实"), default=False)
    ownership = models.ForeignKey(
        "customers.Ownership",
        verbose_name=_("企业类型/所有制"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    organisation_form = models.CharField(
        _("组织形式"), max_length=20, choices=OrganisationForm.choices, blank=True
    )
    business_scope = models.TextField(_("经营范围"), blank=True)
    registered_capital = MoneyField(_("注册资本（元）"), null=True, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=50, blank=True)
    chairman = models.CharField(_("董事长"), max_length=50, blank=True)
    general_manager = models.CharField(_("总经理"), max_length=50, blank=True)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    operating_term_until = models.DateField(
        _("营业期限至"), null=True, blank=True, help_text=_("长期有效则留空。")
    )
    licence_valid_until = models.DateField(_("执照有效期至"), null=True, blank=True)
    issuing_authority = models.CharField(_("登记机关"), max_length=100, blank=True)
    first_trade_on = models.DateField(_("首次交易日期"), null=True, blank=True)
    total_assets = MoneyField(_("资产总额（元）"), null=True, blank=True)
    employees = models.PositiveIntegerField(_("员工人数"), null=True, blank=True)
    annual_sales = MoneyField(_("年销售额（元）"), null=True, blank=True)

    # Contact data
    phone = models.CharField(_("电话"), max_length=30, blank=True, validators=[validate_phone])
    fax = models.CharField(_("传真"), max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(_("电子邮件"), blank=True)
    website = models.URLField(_("网址"), blank=True)
    postcode = models.CharField(
        _("邮政编码"), max_length=6, blank=True, validators=[validate_postcode]
    )

    # Classification
    industry = models.ForeignKey(
        "customers.Industry",
        verbose_name=_("行业"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    channel_type = models.ForeignKey(
        "customers.ChannelType",
        verbose_name=_("渠道类型"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    location_type = models.ForeignKey(
        "customers.LocationType",
        verbose_name=_("地段类型"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    nature = models.ForeignKey(
        "customers.CustomerNature",
        verbose_name=_("客户性质"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    region = models.ForeignKey(
        "customers.Region", verbose_name=_("地区"), on_delete=models.PROTECT, null=True, blank=True
    )
    volume_grade = models.CharField(
        _("销量等级"), max_length=10, choices=VolumeGrade.choices, blank=True
    )
    credit_grade = models.CharField(
        _("信用等级"), max_length=2, choices=CreditGrade.choices, blank=True, db_index=True
    )

    # Ownership inside our company
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责销售代表"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_customers",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), on_delete=models.PROTECT, null=True, blank=True
    )
    # who reads the file (creditfile/access/policy.py). A new file without an owner
    # is stored as department level: with no owner, personal reads exactly the same.
    confidentiality = models.CharField(
        _("保密级别"),
        max_length=12,
        choices=Confidentiality.choices,
        default=Confidentiality.PERSONAL,
        help_text=_(
            "公司级：营销总监、副总、总经理查阅；部门级：部门经理查阅；个人级：负责销售代表及其经理查阅。"
        ),
    )

    # Lifecycle
    lifecycle = models.CharField(
        _("客户状态"), max_length=20, choices=Lifecycle.choices, default=Lifecycle.PROSPECT
    )
    lifecycle_reason = models.CharField(_("状态原因"), max_length=300, blank=True)

    # Freshness: kept by services.touch_file when any section changes.
    file_updated_at = models.DateTimeField(_("档案更新时间"), default=timezone.now, db_index=True)
    last_visit_on = models.DateField(_("最近拜访日期"), null=True, blank=True)
    completeness = models.PositiveSmallIntegerField(_("完整度（%）"), default=0)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["name"]
        permissions = [
            ("verify_section", _("核实档案信息")),
            ("change_lifecycle", _("变更客户状态")),
            ("import_customers", _("导入客户")),
            ("export_customers", _("导出客户")),
            ("view_personal_details", _("查看关键人物个人信息")),
        ]
        indexes = [
            models.Index(fields=["owner", "name"], name="customer_owner_name"),
            models.Index(fields=["department", "name"], name="customer_dept_name"),
            models.Index(fields=["lifecycle", "name"], name="customer_lifecycle_name"),
            models.Index(fields=["region", "name"], name="customer_region_name"),
            models.Index(fields=["industry", "name"], name="customer_industry_name"),
            models.Index(fields=["name_initials"], name="customer_initials"),
            models.Index(fields=["name_pinyin"], name="customer_pinyin"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if (
            self._state.adding
            and not self.owner_id
            and self.confidentiality == Confidentiality.PERSONAL
        ):
            self.confidentiality = Confidentiality.DEPARTMENT
        super().save(*args, **kwargs)

    def clean(self):
        errors: dict = {}
        if self.uscc:
            self.uscc = normalize_uscc(self.uscc)
            try:
                validate_uscc(self.uscc)
            except ValidationError as exc:
                errors["uscc"] = exc.messages
        elif not self.is_international and self.organisation_form != "individual":
            errors["uscc"] = [_("境内企业必须填写统一社会信用代码。")]
        validate_date_order(
            errors,
            self.established_on,
            self.first_trade_on,
            "first_trade_on",
            _("成立日期"),
            _("首次交易日期"),
        )
        validate_date_order(
            errors,
            self.established_on,
            self.operating_term_until,
            "operating_term_until",
            _("成立日期"),
            _("营业期限"),
        )
        validate_date_order(
            errors,
            self.established_on,
            self.licence_valid_until,
            "licence_valid_until",
            _("成立日期"),
            _("执照有效期"),
        )
        if self.established_on and self.established_on > timezone.localdate():
            errors.setdefault("established_on", []).append(_("成立日期不能晚于今天。"))
        if errors:
            raise ValidationError(errors)

    @property
    def is_stale(self) -> bool:
        from creditfile.customers.services.freshness import is_stale

        return is_stale(self)
