"""The credit application's state machine (R-20…R-22, R-25): every step, who may take it.

Only these functions change `CreditApplication.state`. Each checks the state it
starts from, the actor's permission and the segregation of duties, then claims the
application with a conditional update of its version (so two people acting at once
cannot both move it) and records an ApplicationStep with comment and attachments.

    draft → submitted → investigating → evaluating → approving → approved / partly
      ↘ refused (R-20)                       ↑            ↘ rejected, info_requested
                                             └── resume ←──┘
    approved / partly → granted;  any open state → withdrawn
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.core.choices import Source
from creditfile.core.models import Company
from creditfile.credit.choices import (
    ApplicationKind,
    ApplicationState,
    CollectionSource,
    RefusalDecision,
)
from creditfile.credit.models import (
    ApplicationStep,
    CollectionItem,
    CreditApplication,
    CustomerRefusal,
    PreContractReview,
    SiteSurvey,
)
from creditfile.credit.services.errors import (
    WorkflowError,
    forbidden,
    require_perm,
    require_visible,
)

S = ApplicationState
OPEN_STATES = (
    S.DRAFT,
    S.SUBMITTED,
    S.REFUSED,
    S.INVESTIGATING,
    S.EVALUATING,
    S.APPROVING,
    S.INFO_REQUESTED,
)
DECIDED_STATES = (S.APPROVED, S.PARTLY_APPROVED, S.REJECTED)
# Credit staff collect (checklist, site survey, pre-contract review) in these states only.
COLLECTION_STATES = (S.SUBMITTED, S.INVESTIGATING)
COLLECTION_FIELDS = ("channel", "topic", "content", "obtained", "source", "source_date")
LETTER_STATES = (S.APPROVED, S.PARTLY_APPROVED, S.REJECTED, S.INFO_REQUESTED, S.GRANTED)


def _transition(
    application: CreditApplication,
    user,
    action: str,
    allowed_from,
    to_state: str,
    comment: str = "",
    attachments=(),
    **changes,
) -> CreditApplication:
    """Move the application if it is still where the caller saw it; record the step."""
    with transaction.atomic():
        fresh = CreditApplication.objects.select_for_update().get(pk=application.pk)
        if fresh.state not in allowed_from:
            raise WorkflowError(
                _("申请当前状态为“%(state)s”，不能执行此操作。")
                % {"state": fresh.get_state_display()}
            )
        claimed = CreditApplication.objects.filter(
            pk=fresh.pk, version=fresh.version, state=fresh.state
        ).update(version=fresh.version + 1)
        if not claimed:
            raise WorkflowError(_("该申请刚被他人处理，请刷新后查看。"))
        before = fresh.state
        fresh.version += 1
        fresh.state = to_state
        for name, value in changes.items():
            setattr(fresh, name, value)
        fresh.save()
        step = ApplicationStep.objects.create(
            application=fresh,
            action=action,
            from_state=before,
            to_state=to_state,
            actor=user,
            comment=comment or "",
        )
        if attachments:
            step.attachments.set(attachments)
    application.refresh_from_db()
    return application


def _require_state(application, *states) -> None:
    """Refuse early, before other preconditions, when the step is not due yet (or any more)."""
    if application.state not in states:
        raise WorkflowError(
            _("申请当前状态为“%(state)s”，不能执行此操作。")
            % {"state": application.get_state_display()}
        )


def _next_number() -> str:
    year = timezone.localdate().year
    prefix = f"XS{year}-"
    last = (
        CreditApplication.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{sequence:05d}"


def create_application(
    customer,
    user,
    *,
    requested_limit: Decimal,
    requested_term_days: int,
    purpose: str = "",
    kind: str = ApplicationKind.NEW,
    company: Company | None = None,
    expected_annual_purchases: Decimal | None = None,
    from_customer_form: bool = False,
    temporary_until: datetime.date | None = None,
    review=None,
    attachments=(),
) -> CreditApplication:
    """Step 1 信用申请, as a draft the requester can still correct before submitting."""
    require_perm(user, "credit.add_creditapplication", _("提交信用申请"))
    require_visible(user, customer.pk)
    if requested_limit is None or requested_limit <= 0:
        raise WorkflowError(_("申请额度必须大于0。"), "invalid", "requested_limit")
    if kind == ApplicationKind.TEMPORARY and not temporary_until:
        raise WorkflowError(_("临时授信必须填写有效期至。"), "invalid", "temporary_until")
    if temporary_until and temporary_until < timezone.localdate():
        raise WorkflowError(_("临时额度有效期不能早于今天。"), "invalid", "temporary_until")
    if from_customer_form and not attachments:
        raise WorkflowError(
            _("依据客户签署的申请表时，请附上申请表扫描件。"), "invalid", "attachments"
        )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                application = CreditApplication.objects.create(
                    number=_next_number(),
                    customer=customer,
                    company=company or Company.default(),
                    kind=kind,
                    requested_limit=requested_limit,
                    requested_term_days=requested_term_days,
                    purpose=purpose,
                    expected_annual_purchases=expected_annual_purchases,
                    from_customer_form=from_customer_form,
                    temporary_until=temporary_until,
                    review=review,
                    requested_by=user,
                )
            break
        except IntegrityError:  # a concurrent request took the number; take the next one
            continue
    else:
        raise WorkflowError(_("申请编号冲突，请重试。"))
    step = ApplicationStep.objects.create(
        application=application,
        action="create",
        from_state=S.DRAFT,
        to_state=S.DRAFT,
        actor=user,
        comment=purpose,
    )
    if attachments:
        step.attachments.set(attachments)
    return application


def _require_requester_side(user, application) -> None:
    if not is_requester_side(user, application):
        raise forbidden(_("只有申请人或信用管理部门可以执行此操作。"))


def submit(application, user, comment: str = "", attachments=()) -> CreditApplication:
    require_perm(user, "credit.change_creditapplication", _("提交信用申请"))
    _require_requester_side(user, application)
    return _transition(application, user, "submit", (S.DRAFT,), S.SUBMITTED, comment, attachments)


def record_refusal(customer, user, *, application=None, **fields) -> CustomerRefusal:
    """R-20: the customer refused to file; sales records who and why, with their manager's view."""
    require_perm(user, "credit.add_customerrefusal", _("记录客户拒绝申请"))
    require_visible(user, customer.pk)
    if not (fields.get("refused_by_person") or "").strip():
        raise WorkflowError(_("请填写客户方拒绝人。"), "invalid", "refused_by_person")
    if not (fields.get("reason") or "").strip():
        raise WorkflowError(_("请填写拒绝理由。"), "invalid", "reason")
    with transaction.atomic():
        refusal = CustomerRefusal.objects.create(
            customer=customer, application=application, recorded_by=user, **fields
        )
        if application is not None:
            _transition(
                application, user, "refuse", (S.DRAFT, S.SUBMITTED), S.REFUSED, fields["reason"]
            )
    return refusal


def decide_refusal(
    refusal: CustomerRefusal,
    user,
    decision: str,
    *,
    reason: str,
    follow_up: str = "",
    follow_up_due: datetime.date | None = None,
) -> CustomerRefusal:
    """The credit manager's decision: explain and help, collect fully, or drop (seed 002)."""
    require_perm(user, "credit.approve_application", _("决定客户拒绝申请的处理意见"))
    if decision not in RefusalDecision.values:
        raise WorkflowError(_("无效的处理意见。"), "invalid", "decision")
    if not (reason or "").strip():
        raise WorkflowError(_("请说明处理理由或证据。"), "invalid", "decision_reason")
    if refusal.decided_at:
        raise WorkflowError(_("该记录已有处理意见。"))
    with transaction.atomic():
        refusal.decision = decision
        refusal.decision_reason = reason
        refusal.follow_up = follow_up
        refusal.follow_up_due = follow_up_due
        refusal.decided_by = user
        refusal.decided_at = timezone.now()
        refusal.save()
        application = refusal.application
        if application is not None:
            label = RefusalDecision(decision).label
            if decision == RefusalDecision.EXPLAIN_AND_HELP:
                _transition(application, user, "refusal:explain", (S.REFUSED,), S.DRAFT, label)
            elif decision == RefusalDecision.COLLECT_FULLY:
                _transition(
                    application, user, "refusal:collect", (S.REFUSED,), S.INVESTIGATING, label
                )
            else:
                _transition(application, user, "refusal:drop", (S.REFUSED,), S.WITHDRAWN, label)
    return refusal


def open_refusals():
    """Refusals still needing someone: no decision yet, or a follow-up due and not done."""
    from django.db.models import Q

    return CustomerRefusal.objects.filter(
        Q(decided_at__isnull=True) | Q(follow_up_due__isnull=False, follow_up_done_on__isnull=True)
    )


def complete_refusal_follow_up(
    refusal: CustomerRefusal, user, done_on: datetime.date | None = None
) -> CustomerRefusal:
    """The follow-up the credit manager asked for is done; the refusal leaves the work queue."""
    require_perm(user, "credit.change_customerrefusal", _("记录跟进完成"))
    require_visible(user, refusal.customer_id)
    done_on = done_on or timezone.localdate()
    if not refusal.decided_at or not refusal.follow_up_due:
        raise WorkflowError(_("该记录没有待跟进的后续行动。"))
    if refusal.follow_up_done_on:
        raise WorkflowError(_("该记录的跟进已完成。"))
    if done_on > timezone.localdate():
        raise WorkflowError(_("完成日期不能晚于今天。"), "invalid", "done_on")
    refusal.follow_up_done_on = done_on
    refusal.save(update_fields=["follow_up_done_on"])
    return refusal


def start_investigation(application, user, comment: str = "") -> CreditApplication:
    require_perm(user, "credit.change_collectionitem", _("开展信用调查"))
    return _transition(application, user, "investigate", (S.SUBMITTED,), S.INVESTIGATING, comment)


def save_site_survey(application, user, **fields) -> SiteSurvey:
    """The sales rep's 现场调查表; editable while the investigation is open."""
    require_perm(user, "credit.change_sitesurvey", _("填写现场调查表"))
    if application.state not in (S.SUBMITTED, S.INVESTIGATING):
        raise WorkflowError(_("只有在申请或调查阶段才能填写现场调查表。"))
    if not fields.get("visited_on"):
        raise WorkflowError(_("请填写调查日期。"), "invalid", "visited_on")
    with transaction.atomic():
        survey, created = SiteSurvey.objects.update_or_create(
            application=application, defaults={**fields, "visited_by": user}
        )
        record_step_note(
            application,
            user,
            "site_survey",
            str(_("填写现场调查表") if created else _("修改现场调查表")),
        )
    return survey


def save_pre_contract_review(application, user, **fields) -> PreContractReview:
    """R-22: legal standing, agent's authority, capacity, authentic documents."""
    require_perm(user, "credit.change_precontractreview", _("合同签订前评审"))
    if application.state not in (S.SUBMITTED, S.INVESTIGATING):
        raise WorkflowError(_("只有在申请或调查阶段才能进行合同签订前评审。"))
    with transaction.atomic():
        review, _created = PreContractReview.objects.update_or_create(
            application=application,
            defaults={**fields, "reviewed_by": user, "reviewed_at": timezone.now()},
        )
        record_step_note(
            application,
            user,
            "pre_contract_review",
            str(_("合同签订前评审：通过") if review.passed else _("合同签订前评审：未通过")),
        )
    return review


def save_collection_item(
    application, user, *, item: CollectionItem | None = None, file=None, **fields
) -> CollectionItem:
    """One item of credit staff's collection checklist (R-21) with its provenance (R-10).

    Collected while the application is submitted or under investigation, like the survey and
    the review, so nothing is added behind a scored or decided application. The person who
    first entered the item stays its 录入人; an uploaded document goes into the customer's
    attachment catalogue. Every save is a "collection" step on the application's record.
    """
    adding = item is None
    require_perm(
        user,
        "credit.add_collectionitem" if adding else "credit.change_collectionitem",
        _("信用信息采集"),
    )
    require_visible(user, application.customer_id)
    if not adding and item.application_id != application.pk:
        raise WorkflowError(_("该采集项不属于此申请。"), "invalid")
    unknown = set(fields) - set(COLLECTION_FIELDS)
    if unknown:
        raise TypeError(f"save_collection_item() got unknown fields: {sorted(unknown)}")
    if application.state not in COLLECTION_STATES:
        raise WorkflowError(_("只有在申请或调查阶段才能采集信用信息。"))
    if "topic" in fields or adding:
        fields["topic"] = (fields.get("topic") or "").strip()
        if not fields["topic"]:
            raise WorkflowError(_("请填写采集内容。"), "invalid", "topic")
    if (adding or "channel" in fields) and fields.get("channel") not in CollectionSource.values:
        raise WorkflowError(_("请选择采集渠道。"), "invalid", "channel")
    if fields.get("source") is not None and fields["source"] not in Source.values:
        raise WorkflowError(_("无效的信息来源。"), "invalid", "source")
    if adding:
        item = CollectionItem(application=application, entered_by=user)
        fields["source"] = fields.get("source") or Source.CREDIT_DEPT
        fields["source_date"] = fields.get("source_date") or timezone.localdate()
    for name, value in fields.items():
        setattr(item, name, value)
    with transaction.atomic():
        attachments = []
        if file:
            item.attachment = _collection_attachment(application, user, file, item.topic)
            attachments.append(item.attachment)
        item.save()
        record_step_note(
            application,
            user,
            "collection",
            _("采集：%(topic)s（%(channel)s）%(state)s")
            % {
                "topic": item.topic,
                "channel": item.get_channel_display(),
                "state": _("已取得") if item.obtained else _("未取得"),
            },
            attachments,
        )
    return item


def _collection_attachment(application, user, uploaded, title: str):
    from creditfile.customers.choices import AttachmentCategory
    from creditfile.customers.services.attachments import add_attachment

    try:
        return add_attachment(
            application.customer,
            uploaded,
            category=AttachmentCategory.INVESTIGATION,
            title=title,
            document_date=timezone.localdate(),
            user=user,
        )
    except ValidationError as exc:
        found = exc.message_dict.get("file") if hasattr(exc, "error_dict") else None
        raise WorkflowError((found or exc.messages)[0], "invalid", "file") from exc


def complete_investigation(application, user, comment: str = "") -> CreditApplication:
    """Investigation done: a new customer needs the site survey and a passed pre-contract review."""
    require_perm(user, "credit.change_collectionitem", _("完成信用调查"))
    _require_state(application, S.INVESTIGATING)
    if application.kind == ApplicationKind.NEW:
        if not SiteSurvey.objects.filter(application=application).exists():
            raise WorkflowError(_("新客户须先由销售完成现场调查表。"), "invalid", "site_survey")
        review = PreContractReview.objects.filter(application=application).first()
        if review is None or not review.passed:
            raise WorkflowError(
                _("合同签订前评审未完成或未通过（主体资格、代理资格、履约能力、材料真实性）。"),
                "invalid",
                "pre_contract_review",
            )
    return _transition(
        application, user, "complete_investigation", (S.INVESTIGATING,), S.EVALUATING, comment
    )


def save_evaluation_form(application, user, form: dict) -> CreditApplication:
    """Sales fills the 客户信用评估表; finance scores it afterwards (R-23, seed 003 §3.1)."""
    require_perm(user, "credit.change_creditapplication", _("填写客户信用评估表"))
    if application.state != S.EVALUATING:
        raise WorkflowError(_("只有在评估阶段才能填写评估表。"))
    if user.has_perm("credit.score_application") and not user.has_perm(
        "credit.add_creditapplication"
    ):
        raise forbidden(_("评估表由销售填写，财务负责审核评分。"))
    CreditApplication.objects.filter(pk=application.pk).update(
        evaluation_form=form, evaluation_form_by=user, updated_at=timezone.now()
    )
    ApplicationStep.objects.create(
        application=application,
        action="evaluation_form",
        from_state=application.state,
        to_state=application.state,
        actor=user,
    )
    application.refresh_from_db()
    return application


def score(application, user, *, judgement: dict | None = None, review_comment: str = ""):
    """Finance reviews the form and scores it with the scorecard in force (step 3)."""
    from creditfile.credit.services import scoring

    require_perm(user, "credit.score_application", _("审核评分"))
    if application.state != S.EVALUATING:
        raise WorkflowError(_("只有在评估阶段才能评分。"))
    if not application.evaluation_form:
        raise WorkflowError(_("销售尚未填写客户信用评估表。"), "invalid", "evaluation_form")
    if user.pk in (application.requested_by_id, application.evaluation_form_by_id):
        raise forbidden(_("申请人或评估表填写人不能为同一申请评分。"))
    with transaction.atomic():
        evaluation = scoring.evaluate_and_save(
            application.customer,
            kind="application",
            application=application,
            sales_form=application.evaluation_form,
            judgement=judgement or {},
            filled_by=application.evaluation_form_by,
            scored_by=user,
            review_comment=review_comment,
        )
        CreditApplication.objects.filter(pk=application.pk).update(
            scored_by=user, approved_grade=evaluation.grade, updated_at=timezone.now()
        )
        ApplicationStep.objects.create(
            application=application,
            action="score",
            from_state=application.state,
            to_state=application.state,
            actor=user,
            comment=_("评分 %(score)s，等级 %(grade)s，建议额度 %(limit)s 元")
            % {
                "score": evaluation.total_score,
                "grade": evaluation.grade,
                "limit": evaluation.recommended_limit,
            },
        )
    application.refresh_from_db()
    return evaluation


def submit_for_approval(application, user, comment: str = "") -> CreditApplication:
    """Step 4 begins: the chain of approvers follows from the amount and the scored grade."""
    from creditfile.credit.services.approval import required_rules
    from creditfile.credit.services.policy import terms_for

    if not (user.has_perm("credit.score_application") or user.has_perm("credit.grant_credit")):
        raise forbidden(_("只有财务或信用管理部门可以提交审批。"))
    _require_state(application, S.EVALUATING)
    evaluation = application.evaluations.order_by("-created_at", "-id").first()
    if evaluation is None or not application.scored_by_id:
        raise WorkflowError(_("申请尚未经财务评分，不能提交审批。"), "invalid", "evaluation")
    required_rules(
        application.requested_limit,
        evaluation.grade,
        application.kind == ApplicationKind.TEMPORARY,
    )
    terms = terms_for(evaluation.policy, evaluation.grade)
    return _transition(
        application,
        user,
        "submit_for_approval",
        (S.EVALUATING,),
        S.APPROVING,
        comment,
        approved_grade=evaluation.grade,
        approved_term_days=min(application.requested_term_days, terms.credit_term_days)
        if terms.credit_term_days
        else application.requested_term_days,
        approved_limit=None,
        approval_round=application.approval_round + 1,
    )


def request_more_info(application, user, reason: str) -> CreditApplication:
    """An approver sends it back: the customer or the investigation must supply more."""
    from creditfile.credit.services.approval import _check_approver

    _check_approver(user, application)
    if not (reason or "").strip():
        raise WorkflowError(_("请说明需要补充的资料。"), "invalid", "reason")
    return _transition(application, user, "request_info", (S.APPROVING,), S.INFO_REQUESTED, reason)


def resume(application, user, comment: str = "") -> CreditApplication:
    require_perm(user, "credit.change_collectionitem", _("补充调查"))
    return _transition(
        application,
        user,
        "resume",
        (S.INFO_REQUESTED,),
        S.INVESTIGATING,
        comment,
        approved_limit=None,
        scored_by=None,
    )


def grant(
    application,
    user,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    comment: str = "",
):
    """Step 6 授信: the approved line becomes effective; the old one becomes history."""
    from creditfile.credit.services.lines import grant_line
    from creditfile.credit.services.reviews import on_granted

    require_perm(user, "credit.grant_credit", _("授信生效"))
    try:
        with transaction.atomic():
            # Lock the application first: of two people granting at once, the second
            # waits here and then finds it granted, instead of racing to a second line.
            fresh = CreditApplication.objects.select_for_update().get(pk=application.pk)
            _require_state(fresh, S.APPROVED, S.PARTLY_APPROVED)
            created = grant_line(fresh, user, valid_from, valid_until)
            _transition(
                application, user, "grant", (S.APPROVED, S.PARTLY_APPROVED), S.GRANTED, comment
            )
            on_granted(application)
    except IntegrityError as exc:
        raise WorkflowError(_("该客户的授信刚被他人修改，请刷新后重试。")) from exc
    return created


def create_review_application(
    review,
    user,
    *,
    requested_limit: Decimal,
    requested_term_days: int,
    evaluation_form: dict,
    purpose: str = "",
    company: Company | None = None,
) -> CreditApplication:
    """A review's proposal enters the workflow at 信用评估 (R-23, R-26).

    The customer's file is already known, so the investigation is optional for reviews;
    the review's report stands in for the sales evaluation form, and finance scores next.
    The skipped steps are still recorded, so the trail reads like any application's.
    """
    require_perm(user, "credit.change_creditreview", _("提交复评"))
    if not evaluation_form:
        raise WorkflowError(_("缺少复评的评估表。"), "invalid", "evaluation_form")
    kind = ApplicationKind.ANNUAL_REVIEW if review.kind == "annual" else ApplicationKind.REVIEW
    with transaction.atomic():
        application = create_application(
            review.customer,
            user,
            requested_limit=requested_limit,
            requested_term_days=requested_term_days,
            purpose=purpose,
            kind=kind,
            company=company,
            review=review,
        )
        _transition(application, user, "submit", (S.DRAFT,), S.SUBMITTED, purpose)
        _transition(
            application,
            user,
            "skip_investigation",
            (S.SUBMITTED,),
            S.EVALUATING,
            _("复评：客户档案已有，免于信用调查，直接进入信用评估。"),
            evaluation_form=evaluation_form,
            evaluation_form_by=user,
        )
    return application


def withdraw(application, user, reason: str) -> CreditApplication:
    _require_requester_side(user, application)
    if not (reason or "").strip():
        raise WorkflowError(_("请说明撤回原因。"), "invalid", "reason")
    return _transition(application, user, "withdraw", OPEN_STATES, S.WITHDRAWN, reason)


def record_step_note(application, user, action: str, comment: str, attachments=()) -> None:
    """A step that changes no state (a letter sent, a document added) still goes on record."""
    step = ApplicationStep.objects.create(
        application=application,
        action=action,
        from_state=application.state,
        to_state=application.state,
        actor=user,
        comment=comment,
    )
    if attachments:
        step.attachments.set(attachments)


# Which step is open to whom ---------------------------------------------------------------


def is_requester_side(user, application) -> bool:
    return user.pk == application.requested_by_id or user.has_perm("credit.grant_credit")


def _has_any_perm(user, *perms: str) -> bool:
    return any(user.has_perm(p) for p in perms)


def _can_decide(user, application) -> bool:
    from creditfile.credit.services.approval import can_decide

    return can_decide(user, application)


def may_fill_evaluation_form(user, application) -> bool:
    if application.state != S.EVALUATING or not user.has_perm("credit.change_creditapplication"):
        return False
    # Sales fill the form; finance only reviews it.
    return not (
        user.has_perm("credit.score_application")
        and not user.has_perm("credit.add_creditapplication")
    )


def may_score(user, application) -> bool:
    return (
        application.state == S.EVALUATING
        and user.has_perm("credit.score_application")
        and bool(application.evaluation_form)
        and user.pk not in (application.requested_by_id, application.evaluation_form_by_id)
    )


# The screens offer a step only when its guard holds; the step's function re-checks
# everything itself (and says why when refused), so a stale page cannot slip past.
STEP_GUARDS = {
    "submit": lambda u, a: (
        a.state == S.DRAFT
        and u.has_perm("credit.change_creditapplication")
        and is_requester_side(u, a)
    ),
    "refuse": lambda u, a: (
        a.state in (S.DRAFT, S.SUBMITTED) and u.has_perm("credit.add_customerrefusal")
    ),
    "decide-refusal": lambda u, a: (
        a.state == S.REFUSED and u.has_perm("credit.approve_application")
    ),
    "investigate": lambda u, a: (
        a.state == S.SUBMITTED and u.has_perm("credit.change_collectionitem")
    ),
    "site-survey": lambda u, a: (
        a.state in COLLECTION_STATES and u.has_perm("credit.change_sitesurvey")
    ),
    "pre-contract": lambda u, a: (
        a.state in COLLECTION_STATES and u.has_perm("credit.change_precontractreview")
    ),
    "complete-investigation": lambda u, a: (
        a.state == S.INVESTIGATING and u.has_perm("credit.change_collectionitem")
    ),
    "evaluation-form": may_fill_evaluation_form,
    "score": may_score,
    "submit-for-approval": lambda u, a: (
        a.state == S.EVALUATING
        and bool(a.scored_by_id)
        and _has_any_perm(u, "credit.score_application", "credit.grant_credit")
    ),
    "decide": lambda u, a: a.state == S.APPROVING and _can_decide(u, a),
    "request-info": lambda u, a: a.state == S.APPROVING and _can_decide(u, a),
    "resume": lambda u, a: (
        a.state == S.INFO_REQUESTED and u.has_perm("credit.change_collectionitem")
    ),
    "grant": lambda u, a: (
        a.state in (S.APPROVED, S.PARTLY_APPROVED) and u.has_perm("credit.grant_credit")
    ),
    "note": lambda u, a: u.has_perm("credit.change_creditapplication"),
    "withdraw": lambda u, a: a.state in OPEN_STATES and is_requester_side(u, a),
}


def may_take(user, application, step: str) -> bool:
    guard = STEP_GUARDS.get(step)
    return bool(guard and guard(user, application))
