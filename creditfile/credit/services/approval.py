"""The approval matrix and approvers' decisions (R-25, segregation of duties).

Which levels an application needs follows from the amount still on the table and
the grade: every active rule whose threshold the amount exceeds (and whose grades
include it), one per level. After an approver lowers the amount, the chain is
worked out again, so a limit cut back within one's own authority ends the approval.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.core.roles import ROLE_LABELS
from creditfile.credit.choices import ApplicationKind, ApplicationState, Decision
from creditfile.credit.models import (
    ApplicationStep,
    ApprovalDecision,
    ApprovalRule,
    CreditApplication,
)
from creditfile.credit.services.errors import WorkflowError, forbidden, require_perm


def required_rules(amount: Decimal, grade: str, temporary: bool = False) -> list[ApprovalRule]:
    rules = ApprovalRule.objects.filter(is_active=True, above_amount__lt=amount)
    if temporary:
        rules = rules.filter(applies_to_temporary=True)
    chosen: dict[int, ApprovalRule] = {}
    for rule in rules.order_by("level", "above_amount"):
        grades = {g.strip() for g in rule.grades.split(",") if g.strip()}
        if grades and grade not in grades:
            continue
        chosen[rule.level] = rule  # the highest threshold of a level wins
    if not chosen:
        raise WorkflowError(_("审批权限表中没有适用于该金额的审批人，请先设置审批权限。"), "config")
    return [chosen[level] for level in sorted(chosen)]


def amount_on_table(application: CreditApplication) -> Decimal:
    if application.approved_limit is not None:
        return application.approved_limit
    return application.requested_limit


def pending_rule(application: CreditApplication) -> ApprovalRule | None:
    """The level that must decide next, or None when the chain is complete."""
    decided = set(current_decisions(application).values_list("level", flat=True))
    rules = required_rules(
        amount_on_table(application),
        application.approved_grade,
        application.kind == ApplicationKind.TEMPORARY,
    )
    for rule in rules:
        if rule.level not in decided:
            if decided and rule.level < max(decided):
                continue  # a lower level that the amount did not need when it was decided
            return rule
    return None


def current_decisions(application: CreditApplication):
    """Decisions of this approval round; an earlier round ended with a request for info."""
    return application.decisions.filter(round=application.approval_round)


def can_decide(user, application: CreditApplication) -> bool:
    try:
        _check_approver(user, application)
    except WorkflowError:
        return False
    return True


def _check_approver(user, application: CreditApplication) -> ApprovalRule:
    if application.state != ApplicationState.APPROVING:
        raise WorkflowError(_("申请不在审批阶段。"))
    require_perm(user, "credit.approve_application", _("审批信用申请"))
    if user.pk == application.requested_by_id:
        raise forbidden(_("不能审批自己提交的申请。"))
    if user.pk == application.scored_by_id:
        raise forbidden(_("评分人不能同时审批该申请。"))
    if user.pk == application.evaluation_form_by_id:
        raise forbidden(_("评估表填写人不能同时审批该申请。"))
    if current_decisions(application).filter(approver=user).exists():
        raise forbidden(_("您已在前一审批层级签署，同一申请的各级审批须由不同的人完成。"))
    rule = pending_rule(application)
    if rule is None:
        raise WorkflowError(_("该申请已审批完毕。"))
    if not user.has_role(rule.role):
        raise forbidden(
            _("当前审批层级需要“%(role)s”审批，超出您的审批权限。")
            % {"role": ROLE_LABELS.get(rule.role, rule.role)}
        )
    return rule


def decide(
    application: CreditApplication,
    user,
    decision: str,
    *,
    reason: str = "",
    limit: Decimal | None = None,
    term_days: int | None = None,
) -> ApprovalDecision:
    """Record one approver's decision; of two approvers acting at once exactly one wins."""
    if decision not in Decision.values:
        raise WorkflowError(_("无效的审批决定。"), "invalid", "decision")
    try:
        with transaction.atomic():
            return _decide(application.pk, user, decision, reason, limit, term_days)
    except IntegrityError as exc:
        raise WorkflowError(_("该审批层级已由他人签署，请刷新后查看。")) from exc


def _decide(pk, user, decision, reason, limit, term_days) -> ApprovalDecision:
    application = CreditApplication.objects.select_for_update().get(pk=pk)
    rule = _check_approver(user, application)
    current = amount_on_table(application)
    reason = (reason or "").strip()
    if decision == Decision.APPROVE_LOWER:
        if limit is None or limit <= 0 or limit >= current:
            raise WorkflowError(
                _("批准较低额度时，额度须大于0且低于 %(current)s 元。") % {"current": current},
                "invalid",
                "limit",
            )
    else:
        limit = current if decision == Decision.APPROVE else None
    if decision != Decision.APPROVE and not reason:
        raise WorkflowError(_("拒绝或降低额度时必须说明理由。"), "invalid", "reason")
    claimed = CreditApplication.objects.filter(pk=pk, version=application.version).update(
        version=application.version + 1
    )
    if not claimed:
        raise WorkflowError(_("该申请刚被他人处理，请刷新后查看。"))
    application.version += 1
    made = ApprovalDecision.objects.create(
        application=application,
        round=application.approval_round,
        level=rule.level,
        role=rule.role,
        approver=user,
        decision=decision,
        limit=limit,
        grade=application.approved_grade,
        term_days=term_days or application.approved_term_days,
        reason=reason,
    )
    before = application.state
    if decision == Decision.REJECT:
        application.state = ApplicationState.REJECTED
        application.decided_at = timezone.now()
    else:
        application.approved_limit = limit
        if term_days:
            application.approved_term_days = term_days
        if pending_rule(application) is None:
            lowered = application.approved_limit < application.requested_limit
            application.state = (
                ApplicationState.PARTLY_APPROVED if lowered else ApplicationState.APPROVED
            )
            application.decided_at = timezone.now()
    application.save(
        update_fields=["state", "approved_limit", "approved_term_days", "decided_at", "updated_at"]
    )
    ApplicationStep.objects.create(
        application=application,
        action=f"decide:{decision}",
        from_state=before,
        to_state=application.state,
        actor=user,
        comment=_step_comment(rule, made),
    )
    return made


def _step_comment(rule: ApprovalRule, made: ApprovalDecision) -> str:
    text = _("第%(level)s级 %(role)s：%(decision)s") % {
        "level": rule.level,
        "role": ROLE_LABELS.get(rule.role, rule.role),
        "decision": made.get_decision_display(),
    }
    if made.limit is not None:
        text += " " + _("%(amount)s 元") % {"amount": made.limit}
    if made.reason:
        text += " — " + made.reason
    return str(text)
