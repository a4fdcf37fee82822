"""Credit applications, evaluations, lines and reviews over the REST API (/api/v1/credit).

Another door to the same workflow as the screens: every step calls services/workflow.py or
services/approval.py, which check state, role and segregation of duties; this module only
translates JSON. A WorkflowError becomes 403 (forbidden), 409 (state, config) or 422
(invalid, naming the field) through `workflow_error_response`, registered in creditfile/api.py.
What a user may see follows the customer: an application of a hidden customer is a 404.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

from creditfile.access.services import audit
from creditfile.core.history import acting_as
from creditfile.core.models import Company
from creditfile.core.roles import ROLE_LABELS
from creditfile.credit.choices import (
    ApplicationKind,
    ApplicationState,
    BlacklistState,
    Decision,
    LetterKind,
    LineStatus,
    RefusalDecision,
    ReviewKind,
    ReviewState,
)
from creditfile.credit.models import (
    BlacklistEntry,
    CreditApplication,
    CreditGroup,
    CreditLine,
    Evaluation,
    ReplyLetter,
    TemporaryLimit,
)
from creditfile.credit.services import approval, letters, lines, reviews, sanctions, workflow
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.api import MessageOut, Money, ValidationErrorOut
from creditfile.customers.models import Attachment
from creditfile.customers.services.visibility import get_customer_for, visible_customers

router = Router()

# Where creditfile/api.py mounts this router; download links in answers start here.
API_PREFIX = "/api/v1/credit"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# How a refused workflow step is answered; "invalid" names the field like other 422s.
WORKFLOW_STATUS = {"forbidden": 403, "state": 409, "config": 409, "invalid": 422}


def workflow_error_response(exc: WorkflowError) -> tuple[int, dict]:
    """(status, body) for a refused step, in the API's one error shape."""
    status = WORKFLOW_STATUS.get(exc.code, 409)
    message = str(exc.message)
    if status == 422:
        return status, {"detail": [{"field": exc.field or "__all__", "message": message}]}
    return status, {"detail": message}


# Scores and percentages are exact decimals like money, but not rounded to cents.
DecimalText = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(value), return_type=str),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["72.50"]}),
]

ERRORS = {403: MessageOut, 404: MessageOut, 409: MessageOut, 422: ValidationErrorOut}


def _username(user) -> str | None:
    return user.username if user is not None else None


# -- schemas: output ----------------------------------------------------------------------


class StepOut(Schema):
    id: int
    action: str = Field(..., description="操作代码，如 submit、investigate、decide:approve")
    from_state: str
    to_state: str
    actor: str = Field(..., description="操作人用户名")
    at: datetime
    comment: str
    attachment_ids: list[int]

    @staticmethod
    def resolve_actor(obj):
        return obj.actor.username

    @staticmethod
    def resolve_attachment_ids(obj):
        return [a.pk for a in obj.attachments.all()]


class DecisionOut(Schema):
    id: int
    round: int = Field(..., description="审批轮次（补充资料后重新审批为新一轮）")
    level: int
    role: str
    approver: str
    decision: Decision
    limit: Money | None
    grade: str
    term_days: int | None
    reason: str
    decided_at: datetime

    @staticmethod
    def resolve_approver(obj):
        return obj.approver.username


class PendingLevelOut(Schema):
    level: int = Field(..., description="待审批层级")
    role: str = Field(..., description="该层级的审批角色代码")
    role_label: str
    above_amount: Money


class EvaluationSummaryOut(Schema):
    id: int
    kind: str
    as_of: date
    total_score: DecimalText
    grade: str
    recommended_limit: Money
    scorecard_version: int
    policy_version: int
    scored_by: str | None
    created_at: datetime

    @staticmethod
    def resolve_scorecard_version(obj):
        return obj.scorecard.version

    @staticmethod
    def resolve_policy_version(obj):
        return obj.policy.version

    @staticmethod
    def resolve_scored_by(obj):
        return _username(obj.scored_by)


class FactorOut(Schema):
    code: str
    label: str
    group: str
    input_value: str = Field(..., description="当时的取值（显示文本）")
    points: DecimalText
    weight: DecimalText = Field(..., description="权重（%）")
    weighted: DecimalText
    reason: str


class EvaluationOut(EvaluationSummaryOut):
    customer_id: int
    application_id: int | None
    scorecard_name: str
    inputs: dict[str, Any] = Field(..., description="评估当时的输入数据")
    sales_form: dict[str, Any]
    limit_explanation: str
    standard_failures: list[Any] = Field(..., description="未达到的信用标准")
    filled_by: str | None
    review_comment: str
    factors: list[FactorOut]

    @staticmethod
    def resolve_scorecard_name(obj):
        return obj.scorecard.name

    @staticmethod
    def resolve_filled_by(obj):
        return _username(obj.filled_by)

    @staticmethod
    def resolve_factors(obj):
        from creditfile.credit.services.scoring import stored_factors

        return stored_factors(obj)


class RefusalOut(Schema):
    id: int
    refused_by_person: str
    refused_by_title: str
    reason: str
    how_policy_explained: str
    sales_manager_view: str
    verified_with_customer: str
    recorded_by: str
    decision: str = Field(..., description="信用经理处理意见：explain、collect、drop；空为未决定")
    decision_reason: str
    follow_up: str
    follow_up_due: date | None
    decided_by: str | None
    decided_at: datetime | None

    @staticmethod
    def resolve_recorded_by(obj):
        return obj.recorded_by.username

    @staticmethod
    def resolve_decided_by(obj):
        return _username(obj.decided_by)


class SiteSurveyIn(Schema):
    """现场调查表 (R-21). The whole form each time: fields not sent are cleared."""

    visited_on: date = Field(..., description="调查日期")
    people_met: str = Field("", description="接待人员")
    financial_condition: str = Field("", description="财务状况")
    willingness_to_pay: str = Field("", description="偿付意愿（管理者品格）")
    ability_to_pay: str = Field("", description="偿付能力（领导者能力）")
    strategy: str = Field("", description="企业战略经营方针")
    resources: str = Field("", description="企业资源优势")
    board_relations: str = Field("", description="董事会和管理层关系")
    use_of_funds: str = Field("", description="企业资金运用")
    guarantees: str = Field("", description="担保和抵押情况")
    main_business: str = Field("", description="主营业务")
    purchasing: str = Field("", description="原材料采购")
    sales_area_and_settlement: str = Field("", description="销售区域与结算方式")
    import_export_rights: bool = Field(False, description="有进出口权")
    premises: str = Field("", description="经营场地")
    staff: str = Field("", description="人力资源")
    production_capacity: str = Field("", description="生产能力")
    identity_and_purpose: str = Field("", description="客户身份与申请目的")
    impression: str = Field("", description="总体印象与建议")


class SiteSurveyOut(SiteSurveyIn):
    visited_by: str
    updated_at: datetime

    @staticmethod
    def resolve_visited_by(obj):
        return obj.visited_by.username


class PreContractReviewIn(Schema):
    """R-22: four checks before a contract is signed; all four true means passed."""

    legal_standing_ok: bool | None = Field(None, description="主体资格合格")
    legal_standing_note: str = ""
    agent_authority_ok: bool | None = Field(None, description="代理人身份与资格合格")
    agent_authority_note: str = ""
    capacity_ok: bool | None = Field(None, description="履约能力合格")
    capacity_note: str = ""
    documents_authentic: bool | None = Field(None, description="证明材料真实")
    documents_note: str = ""


class PreContractReviewOut(PreContractReviewIn):
    passed: bool
    reviewed_by: str | None
    reviewed_at: datetime | None

    @staticmethod
    def resolve_reviewed_by(obj):
        return _username(obj.reviewed_by)


class GrantedLineOut(Schema):
    id: int
    company_id: int | None = Field(None, description="销售公司；空表示集团总额度")
    status: LineStatus
    grade: str
    limit: Money
    term_days: int
    discount_percent: DecimalText
    discount_days: int
    cash_on_delivery: bool
    valid_from: date
    valid_until: date | None
    application_id: int | None
    granted_by: str
    granted_at: datetime
    ended_at: datetime | None
    end_reason: str

    @staticmethod
    def resolve_granted_by(obj):
        return obj.granted_by.username


class TemporaryLimitOut(Schema):
    id: int
    line_id: int
    amount: Money
    valid_from: date
    valid_until: date
    application_id: int


def _url(name: str, pk: int, fallback: str) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return fallback


class LetterOut(Schema):
    id: int
    kind: LetterKind
    subject: str
    generated_by: str
    generated_at: datetime
    pdf_url: str = Field(..., description="PDF 下载地址（本 API，同样的令牌）")
    docx_url: str = Field(..., description="DOCX 下载地址（本 API，同样的令牌）")
    web_url: str = Field(..., description="网页端回复函页面")

    @staticmethod
    def resolve_generated_by(obj):
        return obj.generated_by.username

    @staticmethod
    def resolve_pdf_url(obj):
        return f"{API_PREFIX}/letters/{obj.pk}/pdf"

    @staticmethod
    def resolve_docx_url(obj):
        return f"{API_PREFIX}/letters/{obj.pk}/docx"

    @staticmethod
    def resolve_web_url(obj):
        fallback = f"/credit/applications/{obj.application_id}/letters/"
        return _url("credit:letters", obj.application_id, fallback)


class LetterDetailOut(LetterOut):
    application_id: int
    body: str = Field(..., description="发出时的正文（生成后不再改变）")


class ApplicationOut(Schema):
    id: int
    number: str = Field(..., description="申请编号")
    customer_id: int
    customer_name: str
    company_id: int = Field(..., description="销售公司")
    kind: ApplicationKind
    state: ApplicationState
    state_label: str
    requested_limit: Money
    requested_term_days: int
    temporary_until: date | None
    expected_annual_purchases: Money | None
    purpose: str
    from_customer_form: bool
    requested_by: str = Field(..., description="申请人用户名")
    approved_grade: str
    approved_limit: Money | None
    approved_term_days: int | None
    approval_round: int
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_customer_name(obj):
        return obj.customer.name

    @staticmethod
    def resolve_state_label(obj):
        return str(obj.get_state_display())

    @staticmethod
    def resolve_requested_by(obj):
        return obj.requested_by.username


class ApplicationDetailOut(ApplicationOut):
    evaluation_form: dict[str, Any] = Field(..., description="客户信用评估表（销售填写）")
    evaluation_form_by: str | None
    scored_by: str | None
    evaluation: EvaluationSummaryOut | None = Field(None, description="最近一次评估")
    pending_level: PendingLevelOut | None = Field(None, description="审批中：待哪一级审批")
    can_decide: bool = Field(..., description="调用者现在能否审批此申请")
    steps: list[StepOut]
    decisions: list[DecisionOut] = Field(..., description="各轮次的审批意见")
    refusal: RefusalOut | None
    site_survey: SiteSurveyOut | None
    pre_contract_review: PreContractReviewOut | None
    granted_lines: list[GrantedLineOut]
    temporary_limits: list[TemporaryLimitOut]
    letters: list[LetterOut]

    @staticmethod
    def resolve_evaluation_form_by(obj):
        return _username(obj.evaluation_form_by)

    @staticmethod
    def resolve_scored_by(obj):
        return _username(obj.scored_by)

    @staticmethod
    def resolve_evaluation(obj):
        return (
            obj.evaluations.select_related("scorecard", "policy", "scored_by")
            .order_by("-created_at", "-id")
            .first()
        )

    @staticmethod
    def resolve_pending_level(obj):
        if obj.state != ApplicationState.APPROVING:
            return None
        try:
            rule = approval.pending_rule(obj)
        except WorkflowError:
            return None
        if rule is None:
            return None
        return {
            "level": rule.level,
            "role": rule.role,
            "role_label": str(ROLE_LABELS.get(rule.role, rule.role)),
            "above_amount": rule.above_amount,
        }

    @staticmethod
    def resolve_can_decide(obj, context):
        return approval.can_decide(context["request"].user, obj)

    @staticmethod
    def resolve_steps(obj):
        return list(obj.steps.select_related("actor").prefetch_related("attachments"))

    @staticmethod
    def resolve_decisions(obj):
        return list(obj.decisions.select_related("approver").order_by("round", "level"))

    @staticmethod
    def resolve_refusal(obj):
        return _related_or_none(obj, "refusal")

    @staticmethod
    def resolve_site_survey(obj):
        return _related_or_none(obj, "site_survey")

    @staticmethod
    def resolve_pre_contract_review(obj):
        return _related_or_none(obj, "pre_contract_review")

    @staticmethod
    def resolve_granted_lines(obj):
        return list(obj.lines.select_related("granted_by").order_by("granted_at", "id"))

    @staticmethod
    def resolve_temporary_limits(obj):
        return list(obj.temporary_limits.order_by("valid_from", "id"))

    @staticmethod
    def resolve_letters(obj):
        return list(obj.letters.select_related("generated_by"))


def _related_or_none(obj, name):
    """The reverse one-to-one (refusal, survey, review) if it has been filled in yet."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


class LineOut(GrantedLineOut):
    customer_id: int
    temporary_limits: list[TemporaryLimitOut] = Field(..., description="该额度下的临时额度")

    @staticmethod
    def resolve_temporary_limits(obj):
        return list(obj.temporary_limits.all())


class CompanyLineOut(Schema):
    company_id: int
    company_name: str
    line: LineOut | None = Field(None, description="今天有效的授信额度；无则不能赊销")
    temporary_amount: Money = Field(..., description="今天有效的临时额度合计")
    available_limit: Money = Field(..., description="可用额度：额度 + 临时额度（+ 政策允许的增信）")


class GroupOut(Schema):
    id: int
    name: str
    relation: str
    limit: Money
    valid_until: date | None
    member_ids: list[int]


class CustomerCreditOut(Schema):
    customer_id: int
    credit_grade: str
    on_date: date
    companies: list[CompanyLineOut] = Field(..., description="各销售公司的授信")
    group_line: LineOut | None = Field(None, description="集团总额度（各公司合计不得超过）")
    groups: list[GroupOut] = Field(..., description="所属关联客户组（共享额度）")
    latest_evaluation: EvaluationSummaryOut | None


# -- schemas: input -----------------------------------------------------------------------


class ApplicationIn(Schema):
    customer_id: int
    requested_limit: Money = Field(..., description="申请额度（元）")
    requested_term_days: int = Field(..., ge=0, le=3650, description="申请信用期限（天）")
    purpose: str = Field("", description="申请用途/理由")
    kind: ApplicationKind = ApplicationKind.NEW
    company_id: int | None = Field(None, description="销售公司；默认本公司")
    expected_annual_purchases: Money | None = None
    from_customer_form: bool = Field(False, description="依据客户签署的申请表（须附扫描件）")
    temporary_until: date | None = Field(None, description="临时授信有效期至")
    attachment_ids: list[int] = Field([], description="该客户附件目录中的附件")


class ApplicationFilters(Schema):
    state: ApplicationState | None = None
    kind: ApplicationKind | None = None
    customer_id: int | None = None


class CommentIn(Schema):
    comment: str = Field("", description="意见")


class SubmitIn(CommentIn):
    attachment_ids: list[int] = Field([], description="该客户附件目录中的附件")


class ReasonIn(Schema):
    reason: str = Field(..., description="原因（必填）")


class RefusalIn(Schema):
    """R-20: the customer will not file; who refused, why, and the sales manager's view."""

    refused_by_person: str = Field(..., description="拒绝人（客户方）")
    refused_by_title: str = Field("", description="拒绝人职位")
    reason: str = Field(..., description="拒绝理由")
    how_policy_explained: str = Field("", description="销售人员如何说明信用政策")
    sales_manager_view: str = Field("", description="销售主管的评价和依据")
    verified_with_customer: str = Field("", description="与客户核实情况")


class RefusalDecisionIn(Schema):
    decision: RefusalDecision = Field(
        ..., description="explain 解释说服并指导填写；collect 全面采集；drop 建议放弃"
    )
    reason: str = Field(..., description="处理理由/证据")
    follow_up: str = Field("", description="后续行动")
    follow_up_due: date | None = Field(None, description="跟进期限")


Judgement = Literal["good", "fair", "poor"]


class EvaluationFormIn(BaseModel):
    """客户信用评估表 filled by sales; keys beyond these are kept as they are sent.

    A plain pydantic model: Ninja's Schema drops keys it does not declare.
    """

    model_config = ConfigDict(extra="allow")

    industry_reputation: Judgement | None = Field(None, description="行业信誉：好/一般/差")
    cooperation_attitude: Judgement | None = Field(None, description="合作态度：好/一般/差")
    management_quality: Judgement | None = Field(None, description="经营管理者素质：好/一般/差")
    expected_annual_purchases: Money | None = Field(None, description="预计年采购额（元）")
    remarks: str = Field("", description="销售说明")


class JudgementIn(Schema):
    industry_reputation: Judgement | None = None
    cooperation_attitude: Judgement | None = None
    management_quality: Judgement | None = None


class ScoreIn(Schema):
    judgement: JudgementIn = Field(
        default_factory=JudgementIn, description="财务的判断项，覆盖评估表中的同名项"
    )
    comment: str = Field("", description="财务审核意见")


class DecideIn(Schema):
    decision: Decision = Field(..., description="approve 批准；approve_lower 批准较低额度；reject")
    limit: Money | None = Field(None, description="批准较低额度时的额度（元）")
    reason: str = Field("", description="理由；拒绝或降低额度时必填")
    term_days: int | None = Field(None, ge=0, le=3650, description="批准信用期限（天）")


class GrantIn(Schema):
    valid_from: date | None = Field(None, description="生效日期；默认今天")
    valid_until: date | None = Field(None, description="有效期至")
    comment: str = ""


# -- helpers ------------------------------------------------------------------------------


def _require_perm(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _acting(request):
    return acting_as(user=request.user, label="api", request_id=getattr(request, "id", ""))


def visible_applications(user) -> QuerySet:
    return CreditApplication.objects.filter(customer__in=visible_customers(user))


def _application_for(user, pk: int) -> CreditApplication:
    """The application if its customer is visible to `user`; otherwise it does not exist."""
    _require_perm(user, "credit.view_creditapplication")
    application = (
        visible_applications(user)
        .select_related("customer", "requested_by", "evaluation_form_by", "scored_by")
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise Http404
    return application


def _attachments(customer, ids: list[int], field: str = "attachment_ids") -> list[Attachment]:
    """Attachments named by id must be in this customer's catalogue."""
    if not ids:
        return []
    found = list(Attachment.objects.filter(customer=customer, pk__in=ids))
    if len(found) != len(set(ids)):
        raise WorkflowError(_("附件不存在或不属于该客户。"), "invalid", field)
    return found


def _plain(data: dict) -> dict:
    """JSON-safe values (money as decimal text) for a form stored in a JSONField."""
    out = {}
    for key, value in data.items():
        if isinstance(value, Decimal):
            value = f"{value:.2f}"
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, date):
            value = value.isoformat()
        out[key] = value
    return out


def _run(request, application_id: int, action) -> CreditApplication:
    """Find the application as the caller sees it, run one workflow step, answer the detail."""
    application = _application_for(request.user, application_id)
    with _acting(request):
        action(application)
    return _application_for(request.user, application_id)


ACTION_RESPONSES = {200: ApplicationDetailOut, **ERRORS}


# -- applications -------------------------------------------------------------------------


@router.get(
    "/applications",
    response=list[ApplicationOut],
    summary="信用申请一览 · List credit applications",
    description="Applications of customers the caller may see; filter by state, kind, customer.",
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_applications(request, filters: Query[ApplicationFilters]):
    _require_perm(request.user, "credit.view_creditapplication")
    queryset = visible_applications(request.user).select_related("customer", "requested_by")
    if filters.state:
        queryset = queryset.filter(state=filters.state.value)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind.value)
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    return queryset.order_by("-created_at", "-id")


@router.post(
    "/applications",
    response={201: ApplicationDetailOut, **ERRORS},
    summary="新建信用申请（草稿） · Create a credit application (draft)",
    description="Step 1 信用申请. Submit it with POST …/submit.",
)
def create_application(request, payload: ApplicationIn):
    user = request.user
    customer = get_customer_for(user, payload.customer_id)
    company = None
    if payload.company_id is not None:
        company = Company.objects.filter(pk=payload.company_id, is_active=True).first()
        if company is None:
            raise WorkflowError(_("销售公司不存在或已停用。"), "invalid", "company_id")
    with _acting(request):
        application = workflow.create_application(
            customer,
            user,
            requested_limit=payload.requested_limit,
            requested_term_days=payload.requested_term_days,
            purpose=payload.purpose,
            kind=payload.kind.value,
            company=company,
            expected_annual_purchases=payload.expected_annual_purchases,
            from_customer_form=payload.from_customer_form,
            temporary_until=payload.temporary_until,
            attachments=_attachments(customer, payload.attachment_ids),
        )
    return Status(201, _application_for(user, application.pk))


@router.get(
    "/applications/{int:application_id}",
    response={200: ApplicationDetailOut, 403: MessageOut, 404: MessageOut},
    summary="信用申请详情 · Application with steps, decisions, evaluation, pending level",
)
def get_application(request, application_id: int):
    return _application_for(request.user, application_id)


@router.post(
    "/applications/{int:application_id}/submit",
    response=ACTION_RESPONSES,
    summary="提交申请 · Submit (draft → submitted)",
)
def submit_application(request, application_id: int, payload: SubmitIn):
    def act(application):
        files = _attachments(application.customer, payload.attachment_ids)
        workflow.submit(application, request.user, payload.comment, files)

    return _run(request, application_id, act)


@router.post(
    "/applications/{int:application_id}/refuse",
    response=ACTION_RESPONSES,
    summary="客户拒绝申请 · Customer refuses to file (R-20; → refused)",
)
def refuse_application(request, application_id: int, payload: RefusalIn):
    def act(application):
        workflow.record_refusal(
            application.customer, request.user, application=application, **payload.model_dump()
        )

    return _run(request, application_id, act)


@router.post(
    "/applications/{int:application_id}/refusal-decision",
    response=ACTION_RESPONSES,
    summary="信用经理处理客户拒绝 · Credit manager decides on a refusal",
    description="explain → back to draft; collect → investigating; drop → withdrawn.",
)
def decide_refusal(request, application_id: int, payload: RefusalDecisionIn):
    def act(application):
        refusal = _related_or_none(application, "refusal")
        if refusal is None:
            raise WorkflowError(_("该申请没有客户拒绝记录。"))
        workflow.decide_refusal(
            refusal,
            request.user,
            payload.decision.value,
            reason=payload.reason,
            follow_up=payload.follow_up,
            follow_up_due=payload.follow_up_due,
        )

    return _run(request, application_id, act)


@router.post(
    "/applications/{int:application_id}/investigate",
    response=ACTION_RESPONSES,
    summary="开始信用调查 · Start the investigation (submitted → investigating)",
)
def start_investigation(request, application_id: int, payload: CommentIn):
    return _run(
        request,
        application_id,
        lambda application: workflow.start_investigation(
            application, request.user, payload.comment
        ),
    )


@router.post(
    "/applications/{int:application_id}/site-survey",
    response=ACTION_RESPONSES,
    summary="现场调查表 · Save the on-site survey (whole form, replaces the last one)",
)
def save_site_survey(request, application_id: int, payload: SiteSurveyIn):
    fields = payload.model_dump()
    return _run(
        request,
        application_id,
        lambda application: workflow.save_site_survey(application, request.user, **fields),
    )


@router.post(
    "/applications/{int:application_id}/pre-contract-review",
    response=ACTION_RESPONSES,
    summary="合同签订前评审 · Pre-contract review (R-22, whole form)",
)
def save_pre_contract_review(request, application_id: int, payload: PreContractReviewIn):
    return _run(
        request,
        application_id,
        lambda application: workflow.save_pre_contract_review(
            application, request.user, **payload.model_dump()
        ),
    )


@router.post(
    "/applications/{int:application_id}/complete-investigation",
    response=ACTION_RESPONSES,
    summary="完成信用调查 · Complete the investigation (investigating → evaluating)",
)
def complete_investigation(request, application_id: int, payload: CommentIn):
    return _run(
        request,
        application_id,
        lambda application: workflow.complete_investigation(
            application, request.user, payload.comment
        ),
    )


@router.post(
    "/applications/{int:application_id}/evaluation-form",
    response=ACTION_RESPONSES,
    summary="客户信用评估表（销售填写） · Sales fills the evaluation form",
)
def save_evaluation_form(request, application_id: int, payload: EvaluationFormIn):
    form = _plain(payload.model_dump(exclude_none=True))
    return _run(
        request,
        application_id,
        lambda application: workflow.save_evaluation_form(application, request.user, form),
    )


@router.post(
    "/applications/{int:application_id}/score",
    response={201: EvaluationOut, **ERRORS},
    summary="财务审核评分 · Finance scores the application (→ evaluation)",
)
def score_application(request, application_id: int, payload: ScoreIn):
    application = _application_for(request.user, application_id)
    judgement = _plain(payload.judgement.model_dump(exclude_none=True))
    with _acting(request):
        evaluation = workflow.score(
            application, request.user, judgement=judgement, review_comment=payload.comment
        )
    return Status(201, _evaluation_for(request.user, evaluation.pk))


@router.post(
    "/applications/{int:application_id}/submit-for-approval",
    response=ACTION_RESPONSES,
    summary="提交审批 · Submit for approval (evaluating → approving)",
)
def submit_for_approval(request, application_id: int, payload: CommentIn):
    return _run(
        request,
        application_id,
        lambda application: workflow.submit_for_approval(
            application, request.user, payload.comment
        ),
    )


@router.post(
    "/applications/{int:application_id}/decide",
    response=ACTION_RESPONSES,
    summary="审批 · Approve, approve a lower limit, or reject (one level)",
    description="The level follows the approval matrix; the requester, scorer and form filler "
    "may not decide, nor may one person sign two levels.",
)
def decide(request, application_id: int, payload: DecideIn):
    return _run(
        request,
        application_id,
        lambda application: approval.decide(
            application,
            request.user,
            payload.decision.value,
            reason=payload.reason,
            limit=payload.limit,
            term_days=payload.term_days,
        ),
    )


@router.post(
    "/applications/{int:application_id}/request-info",
    response=ACTION_RESPONSES,
    summary="要求补充资料 · Approver asks for more information (→ info_requested)",
)
def request_info(request, application_id: int, payload: ReasonIn):
    return _run(
        request,
        application_id,
        lambda application: workflow.request_more_info(application, request.user, payload.reason),
    )


@router.post(
    "/applications/{int:application_id}/resume",
    response=ACTION_RESPONSES,
    summary="补充调查 · Resume the investigation (info_requested → investigating)",
)
def resume(request, application_id: int, payload: CommentIn):
    return _run(
        request,
        application_id,
        lambda application: workflow.resume(application, request.user, payload.comment),
    )


@router.post(
    "/applications/{int:application_id}/grant",
    response=ACTION_RESPONSES,
    summary="授信生效 · Grant: the approved line takes effect (→ granted)",
)
def grant(request, application_id: int, payload: GrantIn):
    return _run(
        request,
        application_id,
        lambda application: workflow.grant(
            application,
            request.user,
            valid_from=payload.valid_from,
            valid_until=payload.valid_until,
            comment=payload.comment,
        ),
    )


@router.post(
    "/applications/{int:application_id}/withdraw",
    response=ACTION_RESPONSES,
    summary="撤回申请 · Withdraw (any open state → withdrawn)",
)
def withdraw(request, application_id: int, payload: ReasonIn):
    return _run(
        request,
        application_id,
        lambda application: workflow.withdraw(application, request.user, payload.reason),
    )


class LetterIn(Schema):
    kind: LetterKind | None = Field(None, description="函件类型；默认按申请结果选择")


@router.post(
    "/applications/{int:application_id}/letter",
    response={201: LetterDetailOut, **ERRORS},
    summary="生成回复函 · Generate the reply letter (PDF and DOCX links)",
    description="The letter's text is frozen when generated; download it as PDF or DOCX "
    "from pdf_url / docx_url with the same session or token.",
)
def generate_letter(request, application_id: int, payload: LetterIn):
    application = _application_for(request.user, application_id)
    kind = payload.kind.value if payload.kind else None
    with _acting(request):
        letter = letters.generate_letter(application, request.user, kind)
    return Status(201, letter)


def _letter_for(user, pk: int) -> ReplyLetter:
    _require_perm(user, "credit.view_replyletter")
    letter = (
        ReplyLetter.objects.filter(application__customer__in=visible_customers(user), pk=pk)
        .select_related("application", "generated_by")
        .first()
    )
    if letter is None:
        raise Http404
    return letter


@router.get(
    "/letters/{int:letter_id}",
    response={200: LetterDetailOut, 403: MessageOut, 404: MessageOut},
    summary="回复函 · A reply letter as sent",
)
def get_letter(request, letter_id: int):
    return _letter_for(request.user, letter_id)


@router.get(
    "/letters/{int:letter_id}/pdf",
    response={200: None, 403: MessageOut, 404: MessageOut},
    summary="回复函 PDF · Download the reply letter as PDF",
)
def letter_pdf(request, letter_id: int):
    return letters.send_letter(request, _letter_for(request.user, letter_id), "pdf")


@router.get(
    "/letters/{int:letter_id}/docx",
    response={200: None, 403: MessageOut, 404: MessageOut},
    summary="回复函 DOCX · Download the reply letter as DOCX",
)
def letter_docx(request, letter_id: int):
    return letters.send_letter(request, _letter_for(request.user, letter_id), "docx")


# -- evaluations and lines ----------------------------------------------------------------


def _evaluation_for(user, pk: int) -> Evaluation:
    _require_perm(user, "credit.view_evaluation")
    evaluation = (
        Evaluation.objects.filter(customer__in=visible_customers(user), pk=pk)
        .select_related("scorecard", "policy", "scored_by", "filled_by")
        .first()
    )
    if evaluation is None:
        raise Http404
    return evaluation


@router.get(
    "/evaluations/{int:evaluation_id}",
    response={200: EvaluationOut, 403: MessageOut, 404: MessageOut},
    summary="信用评估（逐项说明） · An evaluation, factor by factor",
)
def get_evaluation(request, evaluation_id: int):
    return _evaluation_for(request.user, evaluation_id)


def _lines_query() -> QuerySet:
    return CreditLine.objects.select_related("granted_by").prefetch_related(
        Prefetch("temporary_limits", queryset=TemporaryLimit.objects.order_by("valid_from", "id"))
    )


@router.get(
    "/customers/{int:customer_id}/credit",
    response={200: CustomerCreditOut, 403: MessageOut, 404: MessageOut},
    summary="客户授信概况 · A customer's credit today",
    description="Per selling company: the line in force, temporary limits and available limit; "
    "the group-wide line, shared group limits and the latest evaluation.",
)
def customer_credit(request, customer_id: int, on_date: date | None = None):
    user = request.user
    customer = get_customer_for(user, customer_id)
    _require_perm(user, "credit.view_creditline")
    audit.record_view(customer, request=request, section="api:credit")
    on_date = on_date or timezone.localdate()
    Company.default()  # a fresh installation has its one company from the first question on
    with_lines = CreditLine.objects.filter(
        customer=customer, status=LineStatus.ACTIVE, company__isnull=False
    ).values("company_id")
    companies = []
    for company in Company.objects.filter(Q(is_active=True) | Q(pk__in=with_lines)):
        line = lines.credit_line_for(customer, on_date, company)
        if line is not None:
            line = _lines_query().get(pk=line.pk)
        companies.append(
            {
                "company_id": company.pk,
                "company_name": str(company),
                "line": line,
                "temporary_amount": lines.temporary_amount(line, on_date) if line else Decimal(0),
                "available_limit": lines.available_limit(line, on_date) if line else Decimal(0),
            }
        )
    group_line = lines.group_line_for(customer, on_date)
    latest = (
        Evaluation.objects.filter(customer=customer)
        .select_related("scorecard", "policy", "scored_by")
        .order_by("-created_at", "-id")
        .first()
    )
    groups = [
        {
            "id": group.pk,
            "name": group.name,
            "relation": group.relation,
            "limit": group.limit,
            "valid_until": group.valid_until,
            "member_ids": [member.pk for member in group.members.all()],
        }
        for group in CreditGroup.objects.filter(members=customer).prefetch_related("members")
    ]
    return {
        "customer_id": customer.pk,
        "credit_grade": customer.credit_grade,
        "on_date": on_date,
        "companies": companies,
        "group_line": _lines_query().get(pk=group_line.pk) if group_line else None,
        "groups": groups,
        "latest_evaluation": latest,
    }


class LineFilters(Schema):
    customer_id: int | None = None
    status: LineStatus | None = None
    company_id: int | None = None


@router.get(
    "/lines",
    response=list[LineOut],
    summary="授信额度历史 · Credit lines, newest first (history included)",
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_lines(request, filters: Query[LineFilters]):
    _require_perm(request.user, "credit.view_creditline")
    queryset = _lines_query().filter(customer__in=visible_customers(request.user))
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    if filters.status:
        queryset = queryset.filter(status=filters.status.value)
    if filters.company_id is not None:
        queryset = queryset.filter(company_id=filters.company_id)
    return queryset.order_by("-granted_at", "-id")


# -- reviews ------------------------------------------------------------------------------


class ReviewOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    kind: ReviewKind
    period: str = Field(..., description="期间，如 2026、2026Q4")
    due_on: date
    overdue: bool
    state: ReviewState
    reason: str
    assigned_to: str | None
    outcome: str
    completed_by: str | None
    completed_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_customer_name(obj):
        return obj.customer.name

    @staticmethod
    def resolve_overdue(obj):
        return obj.state in reviews.OPEN and obj.due_on < timezone.localdate()

    @staticmethod
    def resolve_assigned_to(obj):
        return _username(obj.assigned_to)

    @staticmethod
    def resolve_completed_by(obj):
        return _username(obj.completed_by)


class ReviewFilters(Schema):
    overdue: bool = Field(False, description="true：只列出已逾期的复评")
    kind: ReviewKind | None = None
    customer_id: int | None = None


class ReviewRequestIn(Schema):
    reason: str = Field(..., description="复评原因")
    due_on: date | None = Field(None, description="到期日；默认14天后")


@router.get(
    "/reviews",
    response=list[ReviewOut],
    summary="待复评/逾期复评 · Reviews due or overdue, soonest first",
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_reviews(request, filters: Query[ReviewFilters]):
    _require_perm(request.user, "credit.view_creditreview")
    user = request.user
    queryset = reviews.overdue_reviews(user) if filters.overdue else reviews.reviews_due(user)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind.value)
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    return queryset.select_related("completed_by")


@router.post(
    "/customers/{int:customer_id}/reviews",
    response={201: ReviewOut, **ERRORS},
    summary="申请临时复评 · Ask for an on-demand review",
)
def request_review(request, customer_id: int, payload: ReviewRequestIn):
    customer = get_customer_for(request.user, customer_id)
    with _acting(request):
        review = reviews.request_review(customer, request.user, payload.reason, payload.due_on)
    return Status(201, review)


# -- blacklist ----------------------------------------------------------------------------


class BlacklistOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    state: BlacklistState
    reason: str
    evidence: str
    evidence_attachment_ids: list[int]
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    decision_note: str
    lift_reason: str
    lift_proposed_by: str | None
    lift_proposed_at: datetime | None
    lifted_by: str | None
    lifted_at: datetime | None

    @staticmethod
    def resolve_customer_name(obj):
        return obj.customer.name

    @staticmethod
    def resolve_evidence_attachment_ids(obj):
        return [a.pk for a in obj.evidence_files.all()]

    @staticmethod
    def resolve_proposed_by(obj):
        return obj.proposed_by.username

    @staticmethod
    def resolve_approved_by(obj):
        return _username(obj.approved_by)

    @staticmethod
    def resolve_lift_proposed_by(obj):
        return _username(obj.lift_proposed_by)

    @staticmethod
    def resolve_lifted_by(obj):
        return _username(obj.lifted_by)


class BlacklistFilters(Schema):
    state: BlacklistState | None = None
    customer_id: int | None = None


class BlacklistProposalIn(Schema):
    reason: str = Field(..., description="列入黑名单的原因")
    evidence: str = Field("", description="证据说明")
    evidence_attachment_ids: list[int] = Field([], description="该客户附件目录中的证据文件")


class NoteIn(Schema):
    note: str = Field("", description="审批意见；驳回时必填")


def _blacklist_query(user) -> QuerySet:
    return (
        BlacklistEntry.objects.filter(customer__in=visible_customers(user))
        .select_related("customer", "proposed_by", "approved_by", "lift_proposed_by", "lifted_by")
        .prefetch_related("evidence_files")
    )


def _blacklist_entry_for(user, pk: int) -> BlacklistEntry:
    _require_perm(user, "credit.view_blacklistentry")
    entry = _blacklist_query(user).filter(pk=pk).first()
    if entry is None:
        raise Http404
    return entry


def _run_blacklist(request, entry_id: int, action) -> BlacklistEntry:
    entry = _blacklist_entry_for(request.user, entry_id)
    with _acting(request):
        action(entry)
    return _blacklist_entry_for(request.user, entry_id)


BLACKLIST_RESPONSES = {200: BlacklistOut, **ERRORS}


@router.get(
    "/blacklist",
    response=list[BlacklistOut],
    summary="黑名单 · Blacklist entries (proposed, listed, lifted …)",
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_blacklist(request, filters: Query[BlacklistFilters]):
    _require_perm(request.user, "credit.view_blacklistentry")
    queryset = _blacklist_query(request.user)
    if filters.state:
        queryset = queryset.filter(state=filters.state.value)
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    return queryset.order_by("-proposed_at", "-id")


@router.post(
    "/customers/{int:customer_id}/blacklist",
    response={201: BlacklistOut, **ERRORS},
    summary="提议列入黑名单 · Propose blacklisting a customer",
    description="Listing takes effect only when someone other than the proposer approves it.",
)
def propose_blacklist(request, customer_id: int, payload: BlacklistProposalIn):
    customer = get_customer_for(request.user, customer_id)
    files = _attachments(customer, payload.evidence_attachment_ids, "evidence_attachment_ids")
    with _acting(request):
        entry = sanctions.propose_blacklist(
            customer, request.user, payload.reason, payload.evidence, files
        )
    return Status(201, _blacklist_entry_for(request.user, entry.pk))


@router.post(
    "/blacklist/{int:entry_id}/approve",
    response=BLACKLIST_RESPONSES,
    summary="批准列入黑名单 · Approve the listing (stops credit sales)",
)
def approve_blacklist(request, entry_id: int, payload: NoteIn):
    return _run_blacklist(
        request,
        entry_id,
        lambda entry: sanctions.approve_blacklist(entry, request.user, payload.note),
    )


@router.post(
    "/blacklist/{int:entry_id}/reject",
    response=BLACKLIST_RESPONSES,
    summary="驳回黑名单提议 · Reject the proposal (note required)",
)
def reject_blacklist(request, entry_id: int, payload: NoteIn):
    return _run_blacklist(
        request,
        entry_id,
        lambda entry: sanctions.reject_blacklist(entry, request.user, payload.note),
    )


@router.post(
    "/blacklist/{int:entry_id}/propose-lift",
    response=BLACKLIST_RESPONSES,
    summary="申请解除黑名单 · Propose lifting a listing",
)
def propose_lift(request, entry_id: int, payload: ReasonIn):
    return _run_blacklist(
        request,
        entry_id,
        lambda entry: sanctions.propose_lift(entry, request.user, payload.reason),
    )


@router.post(
    "/blacklist/{int:entry_id}/approve-lift",
    response=BLACKLIST_RESPONSES,
    summary="批准解除黑名单 · Approve the lift (ends the listing's stop on credit sales)",
)
def approve_lift(request, entry_id: int, payload: NoteIn):
    return _run_blacklist(
        request,
        entry_id,
        lambda entry: sanctions.approve_lift(entry, request.user, payload.note),
    )


@router.post(
    "/blacklist/{int:entry_id}/reject-lift",
    response=BLACKLIST_RESPONSES,
    summary="驳回解除申请 · Reject the lift (note required)",
)
def reject_lift(request, entry_id: int, payload: NoteIn):
    return _run_blacklist(
        request,
        entry_id,
        lambda entry: sanctions.reject_lift(entry, request.user, payload.note),
    )
