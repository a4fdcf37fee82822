from django.db import models
from django.utils.translation import gettext_lazy as _


class Lifecycle(models.TextChoices):
    """R-12: where a customer stands in its life with us."""

    PROSPECT = "prospect", _("潜在客户")
    NEW = "new", _("新客户")
    ACTIVE = "active", _("活跃客户")
    DORMANT = "dormant", _("休眠客户")
    LOST = "lost", _("流失客户")
    BLACKLISTED = "blacklisted", _("黑名单")


class Confidentiality(models.TextChoices):
    """R-40: who reads a customer's file (docs/access.md has the table)."""

    COMPANY = "company", _("公司级")
    DEPARTMENT = "department", _("部门级")
    PERSONAL = "personal", _("个人级")


class CustomerKind(models.TextChoices):
    """Decides which customer card is printed (R-13)."""

    DISTRIBUTOR = "distributor", _("经销商")
    END_CUSTOMER = "end_customer", _("终端客户")


class OrganisationForm(models.TextChoices):
    LIMITED = "limited", _("有限责任公司")
    JOINT_STOCK = "joint_stock", _("股份有限公司")
    PARTNERSHIP = "partnership", _("合伙企业")
    SOLE = "sole", _("个人独资企业")
    INDIVIDUAL = "individual", _("个体工商户")
    PUBLIC_INSTITUTION = "institution", _("事业单位")
    OTHER = "other", _("其他")


class VolumeGrade(models.TextChoices):
    """R-15: grade by sales volume."""

    KEY = "key", _("主力客户")
    GENERAL = "general", _("一般客户")
    SCATTERED = "scattered", _("零散客户")


class CreditGrade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class CertificationKind(models.TextChoices):
    BUSINESS_LICENCE = "business_licence", _("营业执照")
    PRODUCTION_LICENCE = "production_licence", _("生产许可证")
    OPERATING_PERMIT = "operating_permit", _("经营许可证")
    QUALITY_CERT = "quality_cert", _("质量体系认证")
    PRODUCT_CERT = "product_cert", _("产品认证")
    OTHER = "other", _("其他")


class KeyPersonRole(models.TextChoices):
    OWNER = "owner", _("所有者/股东")
    LEGAL_REP = "legal_rep", _("法定代表人")
    CHAIRMAN = "chairman", _("董事长")
    GENERAL_MANAGER = "general_manager", _("总经理")
    DECISION_MAKER = "decision_maker", _("采购决策人")
    FINANCE_HEAD = "finance_head", _("财务负责人")
    MANAGER = "manager", _("其他管理人员")


class Trend(models.TextChoices):
    GROWING = "growing", _("上升")
    STABLE = "stable", _("平稳")
    DECLINING = "declining", _("下滑")


class Attitude(models.TextChoices):
    GOOD = "good", _("积极配合")
    FAIR = "fair", _("一般")
    POOR = "poor", _("消极")


class Channel(models.TextChoices):
    LETTER = "letter", _("信函")
    FAX = "fax", _("传真")
    CALL = "call", _("电话")
    EMAIL = "email", _("电子邮件")
    MEETING = "meeting", _("会谈")
    VISIT = "visit", _("拜访")


class Rating(models.TextChoices):
    GOOD = "good", _("好")
    FAIR = "fair", _("中")
    POOR = "poor", _("差")


class ReportType(models.TextChoices):
    ROUTINE = "routine", _("例行报告")
    URGENT = "urgent", _("紧急报告")
    PERIODIC = "periodic", _("定期报告")


class PeriodType(models.TextChoices):
    ANNUAL = "annual", _("年报")
    HALF = "half", _("半年报")
    QUARTER = "quarter", _("季报")
    MONTH = "month", _("月报")


class GuaranteeKind(models.TextChoices):
    GUARANTEE = "guarantee", _("保证担保")
    MORTGAGE = "mortgage", _("抵押")
    PLEDGE = "pledge", _("质押")
    DEPOSIT = "deposit", _("保证金")
    OTHER = "other", _("其他")


class AttachmentCategory(models.TextChoices):
    """R-09 credit documents and the raw investigation material."""

    APPLICATION = "application", _("信用申请表")
    INVESTIGATION = "investigation", _("信用调查表")
    APPROVAL = "approval", _("信用审批表")
    REPLY_LETTER = "reply_letter", _("回复函")
    CREDIT_FORM = "credit_form", _("信用表格")
    GRANT = "grant", _("授信材料")
    ANNUAL_REVIEW = "annual_review", _("年审评价报告")
    PROFILE = "profile", _("客户概况")
    PAYMENT_HABITS = "payment_habits", _("付款习惯")
    FINANCIALS = "financials", _("财务资料")
    COLLECTIONS = "collections", _("追讨记录")
    BANKS = "banks", _("往来银行资料")
    OPERATIONS = "operations", _("经营资料")
    LICENCE = "licence", _("证照")
    CONTRACT = "contract", _("合同")
    OTHER = "other", _("其他")


class EventSeverity(models.TextChoices):
    INFO = "info", _("一般")
    IMPORTANT = "important", _("重要")
    CRITICAL = "critical", _("重大")
