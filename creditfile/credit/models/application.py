"""The credit application and the steps it goes through (R-20…R-22, R-25).

Every transition writes an ApplicationStep (who, when, comment, attachments);
the state field is only ever changed by services/workflow.py, which checks roles,
segregation of duties and the order of steps in one place.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.core.models import ProvenanceModel
from creditfile.credit.choices import (
    ApplicationKind,
    ApplicationState,
    CollectionSource,
    Decision,
    LetterKind,
    RefusalDecision,
)

_USER = settings.AUTH_USER_MODEL


class CreditApplication(models.Model):
    HISTORY_ROOT = "customer"
    HISTORY_EXCLUDE = ("version",)

    number = models.CharField(_("申请编号"), max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="credit_applications",
    )
    company = models.ForeignKey(
        "core.Company", verbose_name=_("销售公司"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(
        _("申请类型"), max_length=20, choices=ApplicationKind.choices, default=ApplicationKind.NEW
    )
    state = models.CharField(
        _("状态"),
        max_length=20,
        choices=ApplicationState.choices,
        default=ApplicationState.DRAFT,
        db_index=True,
    )
    requested_limit = MoneyField(_("申请额度（元）"))
    requested_term_days = models.PositiveSmallIntegerField(_("申请信用期限（天）"))
    temporary_until = models.DateField(_("临时额度有效期至"), null=True, blank=True)
    expected_annual_purchases = MoneyField(_("预计年采购额（元）"), null=True, blank=True)
    purpose = models.TextField(_("申请用途/理由"), blank=True)
    from_customer_form = models.BooleanField(_("依据客户签署的申请表"), default=False)
    review = models.ForeignKey(
        "credit.CreditReview",
        verbose_name=_("复评"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
    )
    requested_by = models.ForeignKey(
        _USER, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    evaluation_form = models.JSONField(_("客户信用评估表（销售填写）"), default=dict, blank=True)
    evaluation_form_by = models.ForeignKey(
        _USER,
        verbose_name=_("评估表填写人"),
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
    approved_limit = MoneyField(_("批准额度（元）"), null=True, blank=True)
    approved_grade = models.CharField(_("批准等级"), max_length=2, blank=True)
    approved_term_days = models.PositiveSmallIntegerField(
        _("批准信用期限（天）"), null=True, blank=True
    )
    decided_at = models.DateTimeField(_("审批完成时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    approval_round = models.PositiveSmallIntegerField(_("审批轮次"), default=0)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("信用申请")
        verbose_name_plural = _("信用申请")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("score_application", _("评分信用评估")),
            ("approve_application", _("审批信用申请")),
            ("grant_credit", _("授信生效")),
            ("manage_policy", _("维护信用政策与评分卡")),
        ]

    def __str__(self):
        return self.number


class ApplicationStep(models.Model):
    """One recorded transition: the application's own audit trail."""

    application = models.ForeignKey(
        CreditApplication,
        verbose_name=_("信用申请"),
        on_delete=models.CASCADE,
        related_name="steps",
    )
    action = models.CharField(_("操作"), max_length=30)
    from_state = models.CharField(_("原状态"), max_length=20, choices=ApplicationState.choices)
    to_state = models.CharField(_("新状态"), max_length=20, choices=ApplicationState.choices)
    actor = models.ForeignKey(
        _USER, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    comment = models.TextField(_("意见"), blank=True)
    attachments = models.ManyToManyField(
        "customers.Attachment", verbose_name=_("附件"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("申请步骤")
        verbose_name_plural = _("申请步骤")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.application} {self.action}"


class CustomerRefusal(models.Model):
    """R-20: the customer will not file an application; what we found and decided."""

    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="credit_refusals",
    )
    application = models.OneToOneField(
        CreditApplication,
        verbose_name=_("信用申请"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refusal",
    )
    refused_by_person = models.CharField(_("拒绝人（客户方）"), max_length=100)
    refused_by_title = models.CharField(_("拒绝人职位"), max_length=100, blank=True)
    reason = models.TextField(_("拒绝理由"))
    how_policy_explained = models.TextField(_("销售人员如何说明信用政策"), blank=True)
    sales_manager_view = models.TextField(_("销售主管的评价和依据"), blank=True)
    verified_with_customer = models.TextField(_("与客户核实情况"), blank=True)
    decision = models.CharField(
        _("信用经理处理意见"), max_length=10, choices=RefusalDecision.choices, blank=True
    )
    decision_reason = models.TextField(_("处理理由/证据"), blank=True)
    follow_up = models.TextField(_("后续行动"), blank=True)
    follow_up_due = models.DateField(_("跟进期限"), null=True, blank=True)
    follow_up_done_on = models.DateField(_("跟进完成日期"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        _USER, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        _USER,
        verbose_name=_("决定人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("客户拒绝信用申请记录")
        verbose_name_plural = _("客户拒绝信用申请记录")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.customer} {self.refused_by_person}"


class SiteSurvey(models.Model):
    """现场调查表: what the sales rep saw on site (R-21 content list)."""

    HISTORY_ROOT = "application.customer"

    application = models.OneToOneField(
        CreditApplication,
        verbose_name=_("信用申请"),
        on_delete=models.CASCADE,
        related_name="site_survey",
    )
    visited_on = models.DateField(_("调查日期"))
    visited_by = models.ForeignKey(
        _USER, verbose_name=_("调查人"), on_delete=models.PROTECT, related_name="+"
    )
    people_met = models.CharField(_("接待人员"), max_length=200, blank=True)
    financial_condition = models.TextField(_("财务状况"), blank=True)
    willingness_to_pay = models.TextField(_("偿付意愿（管理者品格）"), blank=True)
    ability_to_pay = models.TextField(_("偿付能力（领导者能力）"), blank=True)
    strategy = models.TextField(_("企业战略经营方针"), blank=True)
    resources = models.TextField(_("企业资源优势"), blank=True)
    board_relations = models.TextField(_("董事会和管理层关系"), blank=True)
    use_of_funds = models.TextField(_("企业资金运用"), blank=True)
    guarantees = models.TextField(_("担保和抵押情况"), blank=True)
    main_business = models.TextField(_("主营业务"), blank=True)
    purchasing = models.TextField(_("原材料采购"), blank=True)
    sales_area_and_settlement = models.TextField(_("销售区域与结算方式"), blank=True)
    import_export_rights = models.BooleanField(_("有进出口权"), default=False)
    premises = models.TextField(_("经营场地"), blank=True)
    staff = models.TextField(_("人力资源"), blank=True)
    production_capacity = models.TextField(_("生产能力"), blank=True)
    identity_and_purpose = models.TextField(_("客户身份与申请目的"), blank=True)
    impression = models.TextField(_("总体印象与建议"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("现场调查表")
        verbose_name_plural = _("现场调查表")

    def __str__(self):
        return f"{self.application} {self.visited_on}"


class CollectionItem(ProvenanceModel):
    """One item of credit staff's collection checklist, with its source (R-10, R-21)."""

    HISTORY_ROOT = "application.customer"

    application = models.ForeignKey(
        CreditApplication,
        verbose_name=_("信用申请"),
        on_delete=models.CASCADE,
        related_name="collection_items",
    )
    channel = models.CharField(_("采集渠道"), max_length=20, choices=CollectionSource.choices)
    topic = models.CharField(_("内容"), max_length=100)
    content = models.TextField(_("采集结果"), blank=True)
    obtained = models.BooleanField(_("已取得"), default=False)
    attachment = models.ForeignKey(
        "customers.Attachment",
        verbose_name=_("附件"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("信用信息采集项")
        verbose_name_plural = _("信用信息采集项")
        ordering = ["application", "channel", "id"]


class PreContractReview(models.Model):
    """R-22 / seed 001 篇9 一: four checks before a contract is signed."""

    HISTORY_ROOT = "application.customer"

    application = models.OneToOneField(
        CreditApplication,
        verbose_name=_("信用申请"),
        on_delete=models.CASCADE,
        related_name="pre_contract_review",
    )
    legal_standing_ok = models.BooleanField(_("主体资格合格"), null=True)
    legal_standing_note = models.TextField(_("主体资格审查说明"), blank=True)
    agent_authority_ok = models.BooleanField(_("代理人身份与资格合格"), null=True)
    agent_authority_note = models.TextField(_("代理资格审查说明"), blank=True)
    capacity_ok = models.BooleanField(_("履约能力合格"), null=True)
    capacity_note = models.TextField(_("履约能力审查说明"), blank=True)
    documents_authentic = models.BooleanField(_("证明材料真实"), null=True)
    documents_note = models.TextField(_("证明材料核验说明（必要时到签发部门验证）"), blank=True)
    reviewed_by = models.ForeignKey(
        _USER,
        verbose_name=_("审查人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审查时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("合同签订前评审")
        verbose_name_plural = _("合同签订前评审")

    def __str__(self):
        return str(self.application)

    @property
    def passed(self) -> bool:
        return all(
            (
                self.legal_standing_ok,
                self.agent_authority_ok,
                self.capacity_ok,
                self.documents_authentic,
            )
        )


class ApprovalRule(models.Model):
    """A row of the approval matrix: above this amount (and for these grades) this role signs.

    The levels an application needs are every active rule its amount exceeds and its
    grade matches, in `level` order; the last level's role has the final word.
    """

    HISTORY_ROOT = ""

    level = models.PositiveSmallIntegerField(_("审批层级"))
    role = models.CharField(_("审批角色"), max_length=30)
    above_amount = MoneyField(_("金额超过（元）"), default=0)
    grades = models.CharField(
        _("适用等级"), max_length=20, blank=True, help_text=_("逗号分隔，留空表示全部等级")
    )
    applies_to_temporary = models.BooleanField(_("也适用于临时授信"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("审批权限")
        verbose_name_plural = _("审批权限")
        ordering = ["level", "above_amount"]

    def __str__(self):
        return f"L{self.level} {self.role} > {self.above_amount}"


class ApprovalDecision(models.Model):
    """One approver's decision at one level; the unique constraint lets only one win."""

    application = models.ForeignKey(
        CreditApplication,
        verbose_name=_("信用申请"),
        on_delete=models.CASCADE,
        related_name="decisions",
    )
    round = models.PositiveSmallIntegerField(_("审批轮次"), default=1)
    level = models.PositiveSmallIntegerField(_("审批层级"))
    role = models.CharField(_("审批角色"), max_length=30)
    approver = models.ForeignKey(
        _USER, verbose_name=_("审批人"), on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(_("决定"), max_length=20, choices=Decision.choices)
    limit = MoneyField(_("批准额度（元）"), null=True, blank=True)
    grade = models.CharField(_("批准等级"), max_length=2, blank=True)
    term_days = models.PositiveSmallIntegerField(_("批准信用期限（天）"), null=True, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    decided_at = models.DateTimeField(_("审批时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审批意见")
        verbose_name_plural = _("审批意见")
        ordering = ["application", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "round", "level"], name="one_decision_per_level"
            ),
        ]

    def __str__(self):
        return f"{self.application} L{self.level} {self.get_decision_display()}"


class LetterTemplate(models.Model):
    """Editable text of the standard reply letter 回复客户的标准函 (R-25)."""

    HISTORY_ROOT = ""

    kind = models.CharField(_("函件类型"), max_length=20, choices=LetterKind.choices, unique=True)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(
        _("正文"),
        help_text=_(
            "可用占位符：{客户名称} {申请额度} {批准额度} {信用等级} {信用期限} "
            "{付款条件} {有效期至} {理由} {需补充资料} {申请编号} {日期} {公司名称} {落款}"
        ),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        _USER,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("回复函模板")
        verbose_name_plural = _("回复函模板")
        ordering = ["kind"]

    def __str__(self):
        return self.get_kind_display()


class ReplyLetter(models.Model):
    """A letter as it was sent: its text is frozen when generated."""

    HISTORY_ROOT = "application.customer"

    application = models.ForeignKey(
        CreditApplication,
        verbose_name=_("信用申请"),
        on_delete=models.CASCADE,
        related_name="letters",
    )
    kind = models.CharField(_("函件类型"), max_length=20, choices=LetterKind.choices)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    generated_by = models.ForeignKey(
        _USER, verbose_name=_("生成人"), on_delete=models.PROTECT, related_name="+"
    )
    generated_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("回复函")
        verbose_name_plural = _("回复函")
        ordering = ["-generated_at"]

    def __str__(self):
        return self.subject
