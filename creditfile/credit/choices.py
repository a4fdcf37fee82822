from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    """Policies and scorecards are edited as drafts and never change once in force."""

    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("生效")
    RETIRED = "retired", _("已停用")


class LimitBasis(models.TextChoices):
    FIXED = "fixed", _("固定额度")
    NET_WORTH = "net_worth", _("净资产的比例")
    EXPECTED_PURCHASES = "expected_purchases", _("预计采购额的比例")


class FactorGroup(models.TextChoices):
    """The 5C model plus the two facts every credit manager asks first."""

    CHARACTER = "character", _("品格（付款记录）")
    CAPACITY = "capacity", _("能力（财务比率）")
    CAPITAL = "capital", _("资本")
    COLLATERAL = "collateral", _("担保/抵押")
    CONDITIONS = "conditions", _("条件（行业与信誉）")
    HISTORY = "history", _("经营年限")
    SCALE = "scale", _("规模")


class Direction(models.TextChoices):
    HIGHER_BETTER = "higher", _("越高越好")
    LOWER_BETTER = "lower", _("越低越好")
    CATEGORY = "category", _("分类取值")


class ApplicationKind(models.TextChoices):
    NEW = "new", _("新授信")
    INCREASE = "increase", _("调整额度")
    RENEWAL = "renewal", _("续期")
    TEMPORARY = "temporary", _("临时授信")
    ANNUAL_REVIEW = "annual_review", _("年审")
    REVIEW = "review", _("复评")


class ApplicationState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已申请")
    REFUSED = "refused", _("客户拒绝申请")
    INVESTIGATING = "investigating", _("信用调查")
    EVALUATING = "evaluating", _("信用评估")
    APPROVING = "approving", _("信用审批")
    APPROVED = "approved", _("已批准")
    PARTLY_APPROVED = "partly_approved", _("部分批准")
    REJECTED = "rejected", _("已拒绝")
    INFO_REQUESTED = "info_requested", _("需补充资料")
    GRANTED = "granted", _("已授信")
    WITHDRAWN = "withdrawn", _("已撤回")


class RefusalDecision(models.TextChoices):
    """R-20 / seed 002: what the credit manager decides when a customer will not file."""

    EXPLAIN_AND_HELP = "explain", _("解释说服并指导填写")
    COLLECT_FULLY = "collect", _("全面采集客户信息")
    RECOMMEND_DROP = "drop", _("建议放弃该客户")


class CollectionSource(models.TextChoices):
    """Where credit staff collect from (R-21; seed 002 ch.2)."""

    CUSTOMER = "customer", _("客户提供")
    RELATED_PARTY = "related_party", _("客户信用相关方")
    SITE_VISIT = "site_visit", _("面访或进场采集")
    AGENCY = "agency", _("资信调查公司")
    GOVERNMENT = "government", _("政府主管部门")
    ASSOCIATION = "association", _("行业协会")
    PUBLIC_PLATFORM = "public_platform", _("企业信息查询平台")
    INTERNAL_FINANCE = "internal_finance", _("内部：财务/结算")
    INTERNAL_LEGAL = "internal_legal", _("内部：法务")
    INTERNAL_LOGISTICS = "internal_logistics", _("内部：仓储物流")
    INTERNAL_SERVICE = "internal_service", _("内部：客户服务")
    OTHER = "other", _("其他渠道")


class Decision(models.TextChoices):
    APPROVE = "approve", _("批准")
    APPROVE_LOWER = "approve_lower", _("批准较低额度")
    REJECT = "reject", _("拒绝")


class LetterKind(models.TextChoices):
    APPROVED = "approved", _("批准函")
    PARTLY_APPROVED = "partly_approved", _("部分批准函")
    REJECTED = "rejected", _("拒绝函")
    MORE_INFO = "more_info", _("补充资料函")


class LineStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    SUPERSEDED = "superseded", _("已被替代")
    EXPIRED = "expired", _("已到期")
    REVOKED = "revoked", _("已撤销")


class SecurityKind(models.TextChoices):
    GUARANTEE = "guarantee", _("保证担保")
    COLLATERAL = "collateral", _("抵押/质押")
    DEPOSIT = "deposit", _("保证金")
    INSURANCE = "insurance", _("信用保险")


class ReviewKind(models.TextChoices):
    ANNUAL = "annual", _("年度复评")
    QUARTERLY = "quarterly", _("季度监控复核")
    ON_DEMAND = "on_demand", _("临时复评")


class ReviewState(models.TextChoices):
    DUE = "due", _("待复评")
    IN_PROGRESS = "in_progress", _("进行中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class SanctionTrigger(models.TextChoices):
    DAYS_LATE = "days_late", _("逾期天数超过")
    MALICIOUS_DEFAULT = "malicious_default", _("恶意拖欠")


class SanctionAction(models.TextChoices):
    DOWNGRADE = "downgrade", _("降级")
    SET_GRADE = "set_grade", _("降为指定等级")
    LIMIT_ZERO = "limit_zero", _("额度降为0")
    CASH_ON_DELIVERY = "cash_on_delivery", _("即时清结（现款现货）")
    PROPOSE_BLACKLIST = "propose_blacklist", _("建议列入黑名单")


class MeasureKind(models.TextChoices):
    """Measures against a defaulting customer (seed 001 篇9 三.1)."""

    STOP_CREDIT_SALES = "stop_credit_sales", _("取消赊销条件")
    STOP_SUPPLY = "stop_supply", _("停止供货")
    REVOKE_SUPPLIER_STATUS = "revoke_supplier", _("取消供货资格")
    LEGAL_ACTION = "legal_action", _("诉诸法律")
    CASH_ON_DELIVERY = "cash_on_delivery", _("即时清结")


class ProposalState(models.TextChoices):
    PROPOSED = "proposed", _("待处理")
    ACCEPTED = "accepted", _("已采纳")
    DISMISSED = "dismissed", _("已驳回")


class BlacklistState(models.TextChoices):
    PROPOSED = "proposed", _("已提议")
    LISTED = "listed", _("已列入黑名单")
    REJECTED = "rejected", _("提议被驳回")
    LIFT_PROPOSED = "lift_proposed", _("申请解除")
    LIFTED = "lifted", _("已解除")


class BreachKind(models.TextChoices):
    """Our own breaches of trust (R-28; seed 001 篇9 三.2)."""

    UNAUTHORISED_CONTRACT = "unauthorised_contract", _("个人擅自以企业名义签订合同")
    QUALITY = "quality", _("产品合格率未达标")
    OUR_ARREARS = "our_arrears", _("拖欠货款")
    OTHER = "other", _("其他")
