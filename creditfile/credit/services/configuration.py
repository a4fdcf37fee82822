"""Editing the credit configuration: grade policy drafts, scorecard drafts, approval matrix.

The version rules themselves (in force, frozen, copy to draft) live in services/policy.py;
this module adds what an editor needs on top: checking a draft's grades or factors
as a whole before they are saved or activated, and refusing an effective date in the
past, since backdating a version would change which terms applied to decisions
already made.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.roles import ROLE_LABELS
from creditfile.credit.choices import LimitBasis, VersionStatus
from creditfile.credit.models import ApprovalRule, GradePolicy, GradeTerms, Scorecard
from creditfile.credit.services import policy as versions
from creditfile.credit.services.errors import WorkflowError, require_perm

MANAGE = "credit.manage_policy"
HUNDRED = Decimal(100)
KNOWN_CONDITIONS = {
    "min_years_in_business": "number",
    "min_registered_capital": "number",
    "max_debt_ratio": "number",
    "max_average_days_late": "number",
    "requires_audited_statement": "flag",
}


def require_manage(user) -> None:
    require_perm(user, MANAGE, _("维护信用政策与评分卡"))


# --- grade policy -----------------------------------------------------------------------


@dataclass
class GradeProblem:
    index: int | None  # position of the grade among those checked; None: the whole set
    field: str | None
    message: str


def grade_problems(grades: Iterable) -> list[GradeProblem]:
    """What is wrong with a policy's grades taken together (objects with GradeTerms fields).

    Grades and ranks unique, rates and discounts 0–100, a maximum not below the default,
    a percentage basis with a rate, conditions only of the kinds the scorer checks.
    """
    problems: list[GradeProblem] = []
    grades = list(grades)
    if not grades:
        problems.append(GradeProblem(None, None, _("政策至少需要一个等级。")))
    seen_grade: dict[str, int] = {}
    seen_rank: dict[int, int] = {}
    for index, terms in enumerate(grades):

        def bad(field_name, message, index=index):
            problems.append(GradeProblem(index, field_name, message))

        code = (terms.grade or "").strip().upper()
        if not code:
            bad("grade", _("请填写等级。"))
        elif code in seen_grade:
            bad("grade", _("等级 %(g)s 重复。") % {"g": code})
        seen_grade.setdefault(code, index)
        if terms.rank in seen_rank:
            bad("rank", _("排序 %(r)s 重复，每个等级的排序须不同。") % {"r": terms.rank})
        seen_rank.setdefault(terms.rank, index)
        for name in ("limit_rate", "discount_percent"):
            value = getattr(terms, name)
            if value is not None and not Decimal(0) <= value <= HUNDRED:
                bad(name, _("比例应在0–100之间。"))
        if terms.default_limit is not None and terms.default_limit < 0:
            bad("default_limit", _("额度不能为负数。"))
        if terms.max_limit is not None and terms.default_limit is not None:
            if terms.max_limit < terms.default_limit:
                bad("max_limit", _("额度上限不能低于默认信用额度。"))
        if terms.limit_basis != LimitBasis.FIXED and not terms.limit_rate:
            bad("limit_rate", _("按比例计算额度时须填写比例。"))
        if terms.discount_percent and not terms.discount_days:
            bad("discount_days", _("有现金折扣时须填写折扣期。"))
        if terms.discount_days and terms.discount_days > terms.credit_term_days:
            bad("discount_days", _("折扣期不能长于信用期限。"))
        for message in condition_problems(terms.conditions):
            bad("conditions", message)
    return problems


def condition_problems(conditions) -> list[str]:
    if conditions in (None, ""):
        return []
    if not isinstance(conditions, dict):
        return [_('可机检条件应为JSON对象，例如 {"min_years_in_business": 3}。')]
    problems = []
    for key, value in conditions.items():
        kind = KNOWN_CONDITIONS.get(key)
        if kind is None:
            problems.append(
                _("未知的条件“%(k)s”；可用：%(all)s。")
                % {"k": key, "all": "、".join(sorted(KNOWN_CONDITIONS))}
            )
        elif kind == "flag" and not isinstance(value, bool):
            problems.append(_("条件“%(k)s”应为 true 或 false。") % {"k": key})
        elif kind == "number" and (
            isinstance(value, bool) or not isinstance(value, int | float) or value < 0
        ):
            problems.append(_("条件“%(k)s”应为非负数字。") % {"k": key})
    return problems


@transaction.atomic
def save_policy_grades(policy: GradePolicy, user, grades: list[GradeTerms], removed=()) -> None:
    """Replace a draft's grades with `grades` (unsaved or changed rows); all checked first."""
    require_manage(user)
    policy = GradePolicy.objects.select_for_update().get(pk=policy.pk)
    versions.ensure_editable(policy)
    problems = grade_problems(grades)
    if problems:
        raise WorkflowError("；".join(p.message for p in problems), "invalid")
    removed_ids = [terms.pk for terms in removed if terms.pk]
    policy.grades.filter(pk__in=removed_ids).delete()
    # Ranks and grades may swap between rows; park them first so the unique
    # constraints never see two rows with the same value halfway through.
    kept = [terms for terms in grades if terms.pk]
    for offset, terms in enumerate(kept, start=1):
        GradeTerms.objects.filter(pk=terms.pk).update(rank=30000 + offset, grade=f"~{offset}")
    for terms in grades:
        terms.policy = policy
        terms.grade = terms.grade.strip().upper()
        terms.conditions = terms.conditions or {}
        terms.save()


def activate_version(version, user, effective_from: datetime.date):
    """Put a draft policy or scorecard in force, after checking it is complete."""
    require_manage(user)
    if effective_from is None:
        raise WorkflowError(_("请填写生效日期。"), "invalid", "effective_from")
    if effective_from < timezone.localdate():
        raise WorkflowError(
            _("生效日期不能早于今天：已作出的决定须保留当时适用的版本。"),
            "invalid",
            "effective_from",
        )
    versions.ensure_editable(version)
    if isinstance(version, GradePolicy):
        problems = grade_problems(version.grades.all())
        if problems:
            raise WorkflowError("；".join(p.message for p in problems), "invalid")
    else:
        check_scorecard(version)
        _check_scorecard_grades(version, effective_from)
    return versions.activate(version, user, effective_from)


def copy_to_draft(version, user):
    """A new draft; `new_draft_from` reuses the object it is given, so give it a fresh one."""
    require_manage(user)
    return versions.new_draft_from(type(version).objects.get(pk=version.pk), user)


@transaction.atomic
def update_version_notes(version, user, name: str, notes: str) -> None:
    require_manage(user)
    versions.ensure_editable(version)
    version.name = name.strip() or version.name
    version.notes = notes
    version.save(update_fields=["name", "notes"])


# --- scorecard --------------------------------------------------------------------------


def check_scorecard(scorecard: Scorecard) -> None:
    """The colleague's rules in services/scoring.py: bands, points, weights, grade bands."""
    from creditfile.credit.services.scoring import validate_scorecard

    validate_scorecard(scorecard)


def _check_scorecard_grades(scorecard: Scorecard, on_date: datetime.date) -> None:
    """A scorecard may only hand out grades the policy in force defines."""
    try:
        policy = versions.policy_in_force(on_date)
    except WorkflowError:
        return
    known = set(versions.grades_best_first(policy))
    unknown = [b.get("grade") for b in scorecard.grade_bands if b.get("grade") not in known]
    if unknown:
        raise WorkflowError(
            _("评分卡中的等级 %(g)s 不在生效的等级政策 %(p)s 中。")
            % {"g": "、".join(map(str, unknown)), "p": policy},
            "invalid",
        )


@transaction.atomic
def save_scorecard(scorecard: Scorecard, user, factors: list, removed=(), grade_bands=None):
    """Save a draft's factors and grade bands; refused (and rolled back) unless valid."""
    require_manage(user)
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    versions.ensure_editable(scorecard)
    codes = [factor.code for factor in factors]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise WorkflowError(
            _("因素代码重复：%(c)s。") % {"c": "、".join(duplicates)}, "invalid", "code"
        )
    scorecard.factors.filter(pk__in=[f.pk for f in removed if f.pk]).delete()
    kept = [factor for factor in factors if factor.pk]
    for offset, factor in enumerate(kept, start=1):
        type(factor).objects.filter(pk=factor.pk).update(code=f"~tmp-{offset}")
    for factor in factors:
        factor.scorecard = scorecard
        factor.save()
    if grade_bands is not None:
        scorecard.grade_bands = grade_bands
        scorecard.save(update_fields=["grade_bands"])
    check_scorecard(scorecard)
    return scorecard


# --- approval matrix ----------------------------------------------------------------------


def rule_problems(rule: ApprovalRule) -> dict[str, str]:
    problems = {}
    if rule.role not in ROLE_LABELS:
        problems["role"] = _("未知的角色。")
    if rule.level is None or rule.level < 1:
        problems["level"] = _("审批层级从1开始。")
    if rule.above_amount is not None and rule.above_amount < 0:
        problems["above_amount"] = _("金额不能为负数。")
    grades = [g.strip() for g in (rule.grades or "").split(",") if g.strip()]
    known = set(
        GradeTerms.objects.exclude(policy__status=VersionStatus.RETIRED).values_list(
            "grade", flat=True
        )
    )
    unknown = [g for g in grades if g not in known]
    if unknown:
        problems["grades"] = _("未知的等级：%(g)s。") % {"g": "、".join(unknown)}
    return problems


@transaction.atomic
def save_approval_rule(rule: ApprovalRule, user) -> ApprovalRule:
    require_manage(user)
    rule.grades = ",".join(g.strip().upper() for g in (rule.grades or "").split(",") if g.strip())
    problems = rule_problems(rule)
    if problems:
        field_name, message = next(iter(problems.items()))
        raise WorkflowError(message, "invalid", field_name)
    rule.save()
    return rule


def preview_approval(amount: Decimal, grade: str, temporary: bool = False) -> list[ApprovalRule]:
    """Who must sign for `amount` at `grade` under the active matrix (approval.required_rules)."""
    from creditfile.credit.services.approval import required_rules

    return required_rules(amount, grade, temporary)
