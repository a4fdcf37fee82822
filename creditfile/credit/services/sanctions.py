"""Sanctions (R-27), the blacklist and our own breaches (R-28).

Sanction rules only ever *propose*: a grade or limit cut is a GradeChangeProposal that
credit staff accept or dismiss, and a blacklisting needs a second person's approval,
as does lifting it. Payment facts come only from credit.PaymentSummary (the latest row
per customer), so the batch rescore, the daily job and the screens judge alike.

`evaluate_rules` is pure and works on plain mappings, so the batch rescore can feed it
set-based reads for 200,000 customers; everything else here reads and writes rows.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from creditfile.core.models import Company
from creditfile.credit.choices import (
    BlacklistState,
    LineStatus,
    MeasureKind,
    ProposalState,
    SanctionAction,
    SanctionTrigger,
)
from creditfile.credit.models import (
    BlacklistEntry,
    CreditLine,
    GradeChangeProposal,
    Measure,
    OwnBreach,
    PaymentSummary,
    SanctionRule,
)
from creditfile.credit.services.errors import (
    WorkflowError,
    forbidden,
    require_perm,
    require_visible,
)

SOURCE = "sanction"
# A rule punishes the facts of one 12-month window once: after its proposal was
# accepted or dismissed, it stays quiet for this long unless a harsher rule applies.
QUIET_DAYS = 365
OPEN_BLACKLIST_STATES = (
    BlacklistState.PROPOSED,
    BlacklistState.LISTED,
    BlacklistState.LIFT_PROPOSED,
)
LISTED_STATES = (BlacklistState.LISTED, BlacklistState.LIFT_PROPOSED)
# Measures that mean "no sale on credit", for the order check.
CREDIT_STOPPING_MEASURES = (MeasureKind.STOP_CREDIT_SALES, MeasureKind.CASH_ON_DELIVERY)
SUMMARY_FACTS = (
    "customer_id",
    "period_end",
    "times_late_over_30",
    "times_late_over_90",
    "max_days_late",
    "malicious_default",
)


# Rule evaluation (pure) -----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the rules say about one customer: every dimension at its harshest.

    `rule` is the harshest single rule that applied (the one a proposal names);
    `rules` all of them, best priority first.
    """

    customer_id: int
    rule: object
    rules: tuple = field(default=())
    from_grade: str = ""
    to_grade: str = ""
    from_limit: Decimal | None = None
    to_limit: Decimal | None = None
    limit_zero: bool = False
    cash_on_delivery: bool = False
    propose_blacklist: bool = False
    reason: str = ""

    @property
    def rule_id(self):
        return getattr(self.rule, "pk", None)

    @property
    def changes_line(self) -> bool:
        """Whether accepting it would change a grade, limit or payment terms."""
        return (
            self.to_grade != self.from_grade
            or (self.from_limit is not None and self.to_limit != self.from_limit)
            or self.cash_on_delivery
        )


def _fact(summary, name: str):
    value = summary[name] if isinstance(summary, Mapping) else getattr(summary, name, None)
    return value or 0


def times_late_over(summary, days: int) -> int:
    """How many lates over `days` the summary *proves* (a lower bound).

    PaymentSummary counts lates over 30 and over 90 days and keeps the longest; a
    threshold in between is proven only by the 90-day count or the longest late.
    A sanction never rests on a guess.
    """
    longest = _fact(summary, "max_days_late")
    if days <= 30:
        proven = _fact(summary, "times_late_over_30")
    elif days <= 90:
        proven = _fact(summary, "times_late_over_90")
    else:
        proven = 0
    if longest > days:
        proven = max(proven, 1)
    return proven


def rule_applies(rule, summary) -> bool:
    if rule.trigger == SanctionTrigger.MALICIOUS_DEFAULT:
        return bool(_fact(summary, "malicious_default"))
    if rule.trigger == SanctionTrigger.DAYS_LATE:
        if rule.days_late_over is None:
            return False  # misconfigured: a days-late rule without days never fires
        return times_late_over(summary, rule.days_late_over) >= max(rule.occurrences or 1, 1)
    return False


_TAKES_CREDIT = (
    SanctionAction.LIMIT_ZERO,
    SanctionAction.CASH_ON_DELIVERY,
    SanctionAction.PROPOSE_BLACKLIST,
)
_CASH_ONLY = (SanctionAction.CASH_ON_DELIVERY, SanctionAction.PROPOSE_BLACKLIST)


def _rank(grades: Sequence[str], grade: str) -> int:
    """Position in the policy, best = 0; a grade the policy lacks ranks as the worst."""
    return grades.index(grade) if grade in grades else len(grades) - 1


def _rule_grade(rule, grade: str, grades: Sequence[str]) -> str:
    """The grade one rule asks for; a rule never raises a grade."""
    if not grade:
        return grade  # no grade, no credit: nothing to downgrade
    if rule.action == SanctionAction.DOWNGRADE:
        if grade not in grades:
            return grades[-1]
        return grades[min(grades.index(grade) + max(rule.steps or 1, 1), len(grades) - 1)]
    target = rule.target_grade
    if (
        target
        and target in grades
        and (grade not in grades or _rank(grades, target) > _rank(grades, grade))
    ):
        return target
    return grade


def _severity(rule, grade: str, grades: Sequence[str]) -> tuple:
    return (
        rule.action == SanctionAction.PROPOSE_BLACKLIST,
        rule.action in _CASH_ONLY,
        rule.action in _TAKES_CREDIT,
        _rank(grades, _rule_grade(rule, grade, grades)) if grade else -1,
    )


def _describe(summary, rules) -> str:
    facts = gettext("逾期超过30天%(over30)s次、超过90天%(over90)s次、最长逾期%(longest)s天") % {
        "over30": _fact(summary, "times_late_over_30"),
        "over90": _fact(summary, "times_late_over_90"),
        "longest": _fact(summary, "max_days_late"),
    }
    if _fact(summary, "malicious_default"):
        facts += gettext("、恶意拖欠")
    period_end = summary.get("period_end") if isinstance(summary, Mapping) else None
    period_end = period_end or getattr(summary, "period_end", None)
    if period_end:
        facts = gettext("截至%(date)s的12个月：") % {"date": period_end} + facts
    names = "；".join(str(rule.name) for rule in rules)
    return f"{names}（{facts}）"[:300]


def evaluate_rules(
    summaries_by_customer: Mapping[int, object],
    current: Mapping[int, tuple],
    rules: Iterable,
    grades_best_first: Sequence[str],
    *,
    limit_caps: Mapping[str, Decimal] | None = None,
    cash_grades: Iterable[str] = (),
    already_applied: set | frozenset = frozenset(),
) -> dict[int, Outcome]:
    """Apply the sanction rules to each customer's latest payment summary.

    `current[customer_id]` is `(grade, limit)` or `(grade, limit, cash_on_delivery)` of
    the customer's line (limit None when there is no line); a customer missing from it
    has no credit, so only a blacklist proposal can follow. Every applicable rule counts
    and each dimension takes its harshest value (worst grade, limit 0, cash on delivery,
    blacklist). A lower grade is capped by `limit_caps[grade]` and turns cash on
    delivery when the policy says so (`cash_grades`). Pairs (customer_id, rule_id) in
    `already_applied` are skipped. Customers whose outcome would change nothing are left out.
    """
    grades = list(grades_best_first)
    if not grades:
        raise WorkflowError(_("等级政策中没有等级。"), "config")
    rules = [r for r in rules if getattr(r, "is_active", True)]
    rules.sort(key=lambda r: (r.priority, r.pk or 0))
    caps = limit_caps or {}
    cash_grades = set(cash_grades)
    outcomes: dict[int, Outcome] = {}
    for customer_id, summary in summaries_by_customer.items():
        if summary is None:
            continue
        applicable = [
            r
            for r in rules
            if (customer_id, r.pk) not in already_applied and rule_applies(r, summary)
        ]
        if not applicable:
            continue
        line = current.get(customer_id)
        if line is None:
            grade, limit, was_cash = "", None, False
        else:
            grade, limit = line[0] or "", line[1]
            was_cash = bool(line[2]) if len(line) > 2 else False
        new_grade = grade
        for rule in applicable:
            asked = _rule_grade(rule, grade, grades)
            if asked != new_grade and _rank(grades, asked) >= _rank(grades, new_grade):
                new_grade = asked
        limit_zero = any(r.action in _TAKES_CREDIT for r in applicable)
        cash = any(r.action in _CASH_ONLY for r in applicable)
        blacklist = any(r.action == SanctionAction.PROPOSE_BLACKLIST for r in applicable)
        new_limit = limit
        if limit is not None:
            if limit_zero:
                new_limit = Decimal("0")
            elif new_grade != grade and caps.get(new_grade) is not None:
                new_limit = min(limit, caps[new_grade])
        if new_grade != grade and new_grade in cash_grades and line is not None:
            cash = True
        if line is None:
            cash = False
            limit_zero = False
        cash = cash and not was_cash
        changed = (
            new_grade != grade or (limit is not None and new_limit < limit) or cash or blacklist
        )
        if not changed:
            continue
        harshest = max(applicable, key=lambda r: _severity(r, grade, grades))
        # max() keeps the first of equals, and `applicable` is in priority order
        outcomes[customer_id] = Outcome(
            customer_id=customer_id,
            rule=harshest,
            rules=tuple(applicable),
            from_grade=grade,
            to_grade=new_grade,
            from_limit=limit,
            to_limit=new_limit,
            limit_zero=limit_zero and limit is not None,
            cash_on_delivery=cash,
            propose_blacklist=blacklist,
            reason=_describe(summary, applicable),
        )
    return outcomes


# Reading the facts, set-based -----------------------------------------------------------


def latest_summaries(as_of: datetime.date, customer_ids=None) -> dict[int, dict]:
    """The latest PaymentSummary on or before `as_of` per customer, as plain dicts.

    Only rows showing any late or a malicious default come back: the others cannot
    trigger a rule, and leaving them in the database keeps the batch fast.
    """
    newest = (
        PaymentSummary.objects.filter(customer=OuterRef("customer"), period_end__lte=as_of)
        .order_by("-period_end")
        .values("period_end")[:1]
    )
    rows = PaymentSummary.objects.filter(period_end=Subquery(newest)).filter(
        Q(times_late_over_30__gt=0)
        | Q(times_late_over_90__gt=0)
        | Q(max_days_late__gt=0)
        | Q(malicious_default=True)
    )
    if customer_ids is None:
        return {row["customer_id"]: row for row in rows.values(*SUMMARY_FACTS)}
    ids = list(customer_ids)
    found: dict[int, dict] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = rows.filter(customer_id__in=ids[start : start + ID_CHUNK])
        found.update({row["customer_id"]: row for row in chunk.values(*SUMMARY_FACTS)})
    return found


# PostgreSQL takes at most 65,535 parameters in one statement; lists of ids go in chunks.
ID_CHUNK = 10_000


def _by_ids(queryset: QuerySet, field: str, ids, *values, flat: bool = False) -> list:
    ids = list(ids)
    rows: list = []
    for start in range(0, len(ids), ID_CHUNK):
        chunk = queryset.filter(**{f"{field}__in": ids[start : start + ID_CHUNK]})
        rows += list(chunk.values_list(*values, flat=flat))
    return rows


def current_terms(customer_ids, company: Company | None = None) -> dict[int, tuple]:
    """(grade, limit, cash_on_delivery) per customer from its line with `company`.

    A customer without such a line but with a grade on file counts with limit None.
    """
    from creditfile.customers.models import Customer

    company = company or Company.default()
    ids = list(customer_ids)
    result: dict[int, tuple] = {}
    graded = Customer.objects.exclude(credit_grade="")
    for customer_id, grade in _by_ids(graded, "pk", ids, "pk", "credit_grade"):
        result[customer_id] = (grade, None, False)
    lines = CreditLine.objects.filter(company=company, status=LineStatus.ACTIVE)
    for customer_id, grade, limit, cash in _by_ids(
        lines, "customer_id", ids, "customer_id", "grade", "limit", "cash_on_delivery"
    ):
        result[customer_id] = (grade, limit, cash)
    return result


def recently_applied(customer_ids, as_of: datetime.date) -> set[tuple[int, int]]:
    """(customer_id, rule_id) pairs a person already decided in the quiet period."""
    since = as_of - datetime.timedelta(days=QUIET_DAYS)
    decided = GradeChangeProposal.objects.filter(
        source=SOURCE,
        rule__isnull=False,
        decided_by__isnull=False,
        decided_at__date__gt=since,
        state__in=(ProposalState.ACCEPTED, ProposalState.DISMISSED),
    )
    return set(_by_ids(decided, "customer_id", customer_ids, "customer_id", "rule_id"))


def _policy_shape(as_of):
    from creditfile.credit.services.policy import grades_best_first, policy_in_force

    policy = policy_in_force(as_of)
    terms = list(policy.grades.order_by("rank"))
    grades = grades_best_first(policy)
    caps = {t.grade: (t.max_limit if t.max_limit is not None else t.default_limit) for t in terms}
    cash = {t.grade for t in terms if t.cash_on_delivery}
    return policy, grades, caps, cash


def _customer_ids(customers) -> list[int] | None:
    if customers is None:
        return None
    if isinstance(customers, QuerySet):
        return list(customers.values_list("pk", flat=True))
    return [getattr(c, "pk", c) for c in customers]


def propose_sanctions(as_of: datetime.date | None = None, customers=None, user=None) -> dict:
    """Run the active rules and file what they say as proposals; safe to run twice.

    A grade/limit proposal is filed once per customer, rule and target while open; a
    newer target for the same rule replaces the open one. A blacklist proposal needs a
    proposer (a person): run by a user, it is filed at once; run by the daily job, it
    is filed when a person accepts the sanction proposal that asks for it.
    """
    as_of = as_of or timezone.localdate()
    if user is not None:
        require_perm(user, "credit.add_gradechangeproposal", _("运行惩戒规则"))
        require_perm(user, "credit.add_blacklistentry", _("提议列入黑名单"))
    rules = list(SanctionRule.objects.filter(is_active=True))
    counts = {"proposals": 0, "blacklist": 0}
    if not rules:
        return counts
    _policy, grades, caps, cash = _policy_shape(as_of)
    summaries = latest_summaries(as_of, _customer_ids(customers))
    if not summaries:
        return counts
    ids = list(summaries)
    outcomes = evaluate_rules(
        summaries,
        current_terms(ids),
        rules,
        grades,
        limit_caps=caps,
        cash_grades=cash,
        already_applied=recently_applied(ids, as_of),
    )
    with transaction.atomic():
        open_rows = _by_ids(
            GradeChangeProposal.objects.filter(source=SOURCE, state=ProposalState.PROPOSED),
            "customer_id",
            outcomes,
            "pk",
            "customer_id",
            "rule_id",
            "to_grade",
            "to_limit",
            "cash_on_delivery",
        )
        open_keys = {}
        for pk, customer_id, rule_id, grade, limit, cod in open_rows:
            open_keys.setdefault((customer_id, rule_id), []).append((pk, (grade, limit, cod)))
        listed = set(
            _by_ids(
                BlacklistEntry.objects.filter(state__in=OPEN_BLACKLIST_STATES),
                "customer_id",
                outcomes,
                "customer_id",
                flat=True,
            )
        )
        new_rows, replaced = [], []
        for outcome in outcomes.values():
            target = (outcome.to_grade, outcome.to_limit, outcome.cash_on_delivery)
            existing = open_keys.get((outcome.customer_id, outcome.rule_id), [])
            if any(_same_target(t, target) for _pk, t in existing):
                continue
            carries_blacklist = (
                outcome.propose_blacklist and user is None and outcome.customer_id not in listed
            )
            if not outcome.changes_line and not carries_blacklist:
                continue
            replaced += [pk for pk, _t in existing]
            new_rows.append(
                GradeChangeProposal(
                    customer_id=outcome.customer_id,
                    source=SOURCE,
                    rule=outcome.rule,
                    from_grade=outcome.from_grade,
                    to_grade=outcome.to_grade,
                    from_limit=outcome.from_limit,
                    to_limit=outcome.to_limit,
                    cash_on_delivery=outcome.cash_on_delivery,
                    reason=outcome.reason,
                )
            )
        for start in range(0, len(replaced), ID_CHUNK):
            GradeChangeProposal.objects.filter(
                pk__in=replaced[start : start + ID_CHUNK], state=ProposalState.PROPOSED
            ).update(
                state=ProposalState.DISMISSED,
                decided_at=timezone.now(),
                decision_note=gettext("已被新的惩戒建议取代。"),
            )
        GradeChangeProposal.objects.bulk_create(new_rows)
        counts["proposals"] = len(new_rows)
        if user is not None:
            for outcome in outcomes.values():
                if outcome.propose_blacklist and outcome.customer_id not in listed:
                    _file_blacklist_proposal(outcome.customer_id, user, outcome.reason)
                    counts["blacklist"] += 1
    return counts


def _same_target(a, b) -> bool:
    grade_a, limit_a, cod_a = a
    grade_b, limit_b, cod_b = b
    same_limit = (limit_a is None and limit_b is None) or (
        limit_a is not None and limit_b is not None and Decimal(limit_a) == Decimal(limit_b)
    )
    return grade_a == grade_b and same_limit and bool(cod_a) == bool(cod_b)


# Accepting and dismissing proposals -----------------------------------------------------


def _claim(model, pk, state, **claim):
    """Take the row for this decision, or fail if someone else was faster."""
    row = model.objects.select_for_update().get(pk=pk)
    if row.state != state:
        raise WorkflowError(
            _("当前状态为“%(state)s”，不能执行此操作（可能刚被他人处理，请刷新）。")
            % {"state": row.get_state_display()}
        )
    if not model.objects.filter(pk=pk, state=state).update(**claim):
        raise WorkflowError(_("该记录刚被他人处理，请刷新后查看。"))
    for name, value in claim.items():
        setattr(row, name, value)
    return row


def _raise_refusal(proposal, grades, lines, customer) -> None:
    """A sanction can only take credit away; more credit needs an application (code state)."""
    refused = _("提高信用等级或额度须提交信用申请并经审批，不能通过采纳建议完成。")
    targets = [(line.grade, line.limit) for line in lines] or [(customer.credit_grade, None)]
    for grade, limit in targets:
        if grade and proposal.to_grade and proposal.to_grade != grade:
            if grade in grades and proposal.to_grade in grades:
                if grades.index(proposal.to_grade) < grades.index(grade):
                    raise WorkflowError(refused)
            elif proposal.to_grade in grades and grade not in grades:
                raise WorkflowError(refused)
        if limit is not None and proposal.to_limit is not None and proposal.to_limit > limit:
            raise WorkflowError(refused)
    if not lines and not customer.credit_grade and proposal.to_grade:
        raise WorkflowError(refused)


def accept_proposal(proposal: GradeChangeProposal, user, note: str = "") -> GradeChangeProposal:
    """Apply a downgrade: every active line is superseded by a lower one (history kept)."""
    from creditfile.credit.services.policy import grades_best_first, policy_in_force, terms_for

    require_perm(user, "credit.grant_credit", _("调整授信"))
    require_visible(user, proposal.customer_id)
    today = timezone.localdate()
    with transaction.atomic():
        policy = policy_in_force(today)
        grades = grades_best_first(policy)
        customer = proposal.customer
        lines = list(
            CreditLine.objects.select_for_update()
            .filter(customer=customer, status=LineStatus.ACTIVE)
            .order_by("pk")
        )
        _raise_refusal(proposal, grades, lines, customer)
        now = timezone.now()
        fresh = _claim(GradeChangeProposal, proposal.pk, ProposalState.PROPOSED, decided_at=now)
        reason = gettext("被等级调整建议 #%(pk)s 替代：%(reason)s") % {
            "pk": fresh.pk,
            "reason": fresh.reason,
        }
        terms = None
        if fresh.to_grade:
            try:
                terms = terms_for(policy, fresh.to_grade)
            except WorkflowError:
                terms = None
        cash = fresh.cash_on_delivery or bool(terms and terms.cash_on_delivery)
        for old in lines:
            _supersede(old, user, reason[:300], policy, terms, fresh.to_grade, fresh.to_limit, cash)
        if fresh.to_grade and customer.credit_grade != fresh.to_grade:
            customer.credit_grade = fresh.to_grade
            customer.save(update_fields=["credit_grade"])
        if (
            cash
            and not measures_in_force(customer, today)
            .filter(kind=MeasureKind.CASH_ON_DELIVERY)
            .exists()
        ):
            Measure.objects.create(
                customer=customer,
                kind=MeasureKind.CASH_ON_DELIVERY,
                reason=gettext("采纳等级调整建议 #%(pk)s：%(reason)s")
                % {"pk": fresh.pk, "reason": fresh.reason},
                decided_by=user,
                decided_on=today,
                effective_from=today,
            )
        fresh.state = ProposalState.ACCEPTED
        fresh.decided_by = user
        fresh.decision_note = note or ""
        fresh.save()
        if fresh.rule_id and fresh.rule.action == SanctionAction.PROPOSE_BLACKLIST:
            if not BlacklistEntry.objects.filter(
                customer=customer, state__in=OPEN_BLACKLIST_STATES
            ).exists():
                _file_blacklist_proposal(customer.pk, user, fresh.reason)
    proposal.refresh_from_db()
    return proposal


def _supersede(old, user, reason, policy, terms, to_grade, to_limit, cash) -> CreditLine | None:
    """End `old` and put a line with the lower grade/limit in its place, from today.

    The old line stays as history (superseded, with the reason); application is empty
    because a sanction, not an approval, made the new one. Nothing changes → None.
    """
    grade = old.grade
    if to_grade and to_grade != old.grade:
        grade = to_grade
    limit = old.limit if to_limit is None else min(old.limit, to_limit)
    term_days, discount_percent, discount_days = (
        old.term_days,
        old.discount_percent,
        old.discount_days,
    )
    if terms is not None and grade != old.grade:
        term_days = min(old.term_days, terms.credit_term_days)
        discount_percent = min(old.discount_percent, terms.discount_percent)
        discount_days = min(old.discount_days, terms.discount_days)
    cash_on_delivery = cash or old.cash_on_delivery
    unchanged = (
        grade == old.grade
        and limit == old.limit
        and term_days == old.term_days
        and cash_on_delivery == old.cash_on_delivery
    )
    if unchanged:
        return None
    old.status = LineStatus.SUPERSEDED
    old.ended_at = timezone.now()
    old.end_reason = reason
    old.save(update_fields=["status", "ended_at", "end_reason", "scope"])
    today = timezone.localdate()
    return CreditLine.objects.create(
        customer_id=old.customer_id,
        company_id=old.company_id,
        grade=grade,
        limit=limit,
        term_days=term_days,
        discount_percent=discount_percent,
        discount_days=discount_days,
        cash_on_delivery=cash_on_delivery,
        valid_from=max(today, old.valid_from),
        valid_until=old.valid_until,
        application=None,
        policy=policy or old.policy,
        granted_by=user,
    )


def dismiss_proposal(proposal: GradeChangeProposal, user, note: str) -> GradeChangeProposal:
    require_perm(user, "credit.grant_credit", _("处理等级调整建议"))
    require_visible(user, proposal.customer_id)
    note = (note or "").strip()
    if not note:
        raise WorkflowError(_("驳回建议时必须说明理由。"), "invalid", "note")
    with transaction.atomic():
        fresh = _claim(
            GradeChangeProposal, proposal.pk, ProposalState.PROPOSED, decided_at=timezone.now()
        )
        fresh.state = ProposalState.DISMISSED
        fresh.decided_by = user
        fresh.decision_note = note
        fresh.save()
    proposal.refresh_from_db()
    return proposal


def open_proposals(customer=None) -> QuerySet:
    rows = GradeChangeProposal.objects.filter(state=ProposalState.PROPOSED)
    if customer is not None:
        rows = rows.filter(customer=customer)
    return rows.select_related("customer", "rule")


# Measures -------------------------------------------------------------------------------


def _in_force_q(on_date: datetime.date) -> Q:
    return Q(effective_from__lte=on_date) & (Q(ended_on__isnull=True) | Q(ended_on__gt=on_date))


def measures_in_force(customer, on_date: datetime.date | None = None) -> QuerySet:
    """Measures effective on `on_date`; a measure ended on a day no longer holds that day."""
    on_date = on_date or timezone.localdate()
    return Measure.objects.filter(customer=customer).filter(_in_force_q(on_date))


def impose_measure(
    customer,
    user,
    kind: str,
    reason: str,
    effective_from: datetime.date | None = None,
) -> Measure:
    require_perm(user, "credit.add_measure", _("采取惩戒措施"))
    require_visible(user, customer.pk)
    if kind not in MeasureKind.values:
        raise WorkflowError(_("无效的措施类型。"), "invalid", "kind")
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("必须说明采取措施的原因。"), "invalid", "reason")
    today = timezone.localdate()
    effective_from = effective_from or today
    with transaction.atomic():
        pending = Measure.objects.select_for_update().filter(
            customer=customer, kind=kind, ended_on__isnull=True
        )
        if pending.exists():
            raise WorkflowError(
                _("该客户已有未解除的“%(kind)s”措施。") % {"kind": MeasureKind(kind).label},
                "state",
                "kind",
            )
        return Measure.objects.create(
            customer=customer,
            kind=kind,
            reason=reason,
            decided_by=user,
            decided_on=today,
            effective_from=effective_from,
        )


def end_measure(
    measure: Measure, user, reason: str, ended_on: datetime.date | None = None
) -> Measure:
    require_perm(user, "credit.change_measure", _("解除惩戒措施"))
    require_visible(user, measure.customer_id)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("必须说明解除措施的理由。"), "invalid", "reason")
    ended_on = ended_on or timezone.localdate()
    with transaction.atomic():
        fresh = Measure.objects.select_for_update().get(pk=measure.pk)
        if fresh.ended_on is not None:
            raise WorkflowError(_("该措施已于 %(date)s 解除。") % {"date": fresh.ended_on})
        if ended_on < fresh.decided_on:
            raise WorkflowError(_("解除日期不能早于决定日期。"), "invalid", "ended_on")
        if (
            fresh.kind == MeasureKind.STOP_CREDIT_SALES
            and fresh.reason.startswith(_blacklist_marker_prefix())
            and is_blacklisted(fresh.customer)
        ):
            raise WorkflowError(_("客户仍在黑名单上：须先经审批解除黑名单。"))
        fresh.ended_on = ended_on
        fresh.ended_by = user
        fresh.end_reason = reason
        fresh.save()
    measure.refresh_from_db()
    return measure


def credit_stop_reasons(customer, on_date: datetime.date | None = None) -> list[str]:
    """Why no order may go out on credit, in words for the order check's message."""
    on_date = on_date or timezone.localdate()
    reasons = [
        str(m.get_kind_display())
        for m in measures_in_force(customer, on_date).filter(kind__in=CREDIT_STOPPING_MEASURES)
    ]
    if is_blacklisted(customer):
        reasons.append(str(_("已列入黑名单")))
    return reasons


def is_credit_stopped(customer, on_date: datetime.date | None = None) -> bool:
    """True if credit sales are stopped, cash on delivery applies or the customer is listed."""
    on_date = on_date or timezone.localdate()
    stopping = measures_in_force(customer, on_date).filter(kind__in=CREDIT_STOPPING_MEASURES)
    return stopping.exists() or is_blacklisted(customer)


# Blacklist ------------------------------------------------------------------------------


def is_blacklisted(customer) -> bool:
    """Listed until a lift is approved; a lift only proposed changes nothing yet."""
    return BlacklistEntry.objects.filter(customer=customer, state__in=LISTED_STATES).exists()


def open_blacklist_entry(customer) -> BlacklistEntry | None:
    return BlacklistEntry.objects.filter(customer=customer, state__in=OPEN_BLACKLIST_STATES).first()


def _blacklist_marker_prefix() -> str:
    return "【黑名单#"


def _blacklist_marker(entry) -> str:
    return f"{_blacklist_marker_prefix()}{entry.pk}】"


def _file_blacklist_proposal(customer_id, user, reason, evidence="") -> BlacklistEntry:
    try:
        with transaction.atomic():
            return BlacklistEntry.objects.create(
                customer_id=customer_id,
                state=BlacklistState.PROPOSED,
                reason=reason,
                evidence=evidence,
                proposed_by=user,
            )
    except IntegrityError as exc:
        raise WorkflowError(_("该客户已有未结的黑名单记录。")) from exc


def propose_blacklist(
    customer, user, reason: str, evidence: str = "", evidence_files=()
) -> BlacklistEntry:
    require_perm(user, "credit.add_blacklistentry", _("提议列入黑名单"))
    require_visible(user, customer.pk)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("必须说明列入黑名单的原因。"), "invalid", "reason")
    if open_blacklist_entry(customer) is not None:
        raise WorkflowError(_("该客户已有未结的黑名单记录。"))
    if any(getattr(f, "customer_id", None) != customer.pk for f in evidence_files):
        raise WorkflowError(_("证据文件须为该客户档案中的附件。"), "invalid", "evidence_files")
    entry = _file_blacklist_proposal(customer.pk, user, reason, (evidence or "").strip())
    if evidence_files:
        entry.evidence_files.set(evidence_files)
    return entry


def _check_second_person(user, other_id, message) -> None:
    require_perm(user, "credit.approve_application", _("审批黑名单"))
    if other_id is not None and user.pk == other_id:
        raise forbidden(message)


def approve_blacklist(entry: BlacklistEntry, user, note: str = "") -> BlacklistEntry:
    """List the customer: credit sales stop and every active line turns cash on delivery."""
    _check_second_person(user, entry.proposed_by_id, _("列入黑名单须由提议人以外的人批准。"))
    require_visible(user, entry.customer_id)
    today = timezone.localdate()
    with transaction.atomic():
        fresh = _claim(
            BlacklistEntry, entry.pk, BlacklistState.PROPOSED, approved_at=timezone.now()
        )
        if fresh.proposed_by_id == user.pk:
            raise forbidden(_("列入黑名单须由提议人以外的人批准。"))
        fresh.state = BlacklistState.LISTED
        fresh.approved_by = user
        fresh.decision_note = (note or "").strip()
        fresh.save()
        customer = fresh.customer
        if (
            not measures_in_force(customer, today)
            .filter(kind=MeasureKind.STOP_CREDIT_SALES)
            .exists()
        ):
            Measure.objects.create(
                customer=customer,
                kind=MeasureKind.STOP_CREDIT_SALES,
                reason=f"{_blacklist_marker(fresh)}{fresh.reason}",
                decided_by=user,
                decided_on=today,
                effective_from=today,
            )
        lines = CreditLine.objects.select_for_update().filter(
            customer=customer, status=LineStatus.ACTIVE, cash_on_delivery=False
        )
        reason = gettext("列入黑名单 #%(pk)s，改为即时清结") % {"pk": fresh.pk}
        for old in lines:
            _supersede(old, user, reason, None, None, "", None, True)
    entry.refresh_from_db()
    return entry


def reject_blacklist(entry: BlacklistEntry, user, note: str) -> BlacklistEntry:
    _check_second_person(user, entry.proposed_by_id, _("黑名单提议须由提议人以外的人审批。"))
    require_visible(user, entry.customer_id)
    note = (note or "").strip()
    if not note:
        raise WorkflowError(_("驳回时必须说明理由。"), "invalid", "note")
    with transaction.atomic():
        fresh = _claim(
            BlacklistEntry, entry.pk, BlacklistState.PROPOSED, approved_at=timezone.now()
        )
        if fresh.proposed_by_id == user.pk:
            raise forbidden(_("黑名单提议须由提议人以外的人审批。"))
        fresh.state = BlacklistState.REJECTED
        fresh.approved_by = user
        fresh.decision_note = note
        fresh.save()
    entry.refresh_from_db()
    return entry


def propose_lift(entry: BlacklistEntry, user, reason: str) -> BlacklistEntry:
    require_perm(user, "credit.change_blacklistentry", _("申请解除黑名单"))
    require_visible(user, entry.customer_id)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("申请解除黑名单必须说明理由。"), "invalid", "reason")
    with transaction.atomic():
        fresh = _claim(
            BlacklistEntry, entry.pk, BlacklistState.LISTED, lift_proposed_at=timezone.now()
        )
        fresh.state = BlacklistState.LIFT_PROPOSED
        fresh.lift_reason = reason
        fresh.lift_proposed_by = user
        fresh.save()
    entry.refresh_from_db()
    return entry


def approve_lift(entry: BlacklistEntry, user, note: str = "") -> BlacklistEntry:
    """Lift the listing and end its stop on credit sales; credit itself needs a new application."""
    _check_second_person(user, entry.lift_proposed_by_id, _("解除黑名单须由申请人以外的人批准。"))
    require_visible(user, entry.customer_id)
    today = timezone.localdate()
    with transaction.atomic():
        fresh = _claim(
            BlacklistEntry, entry.pk, BlacklistState.LIFT_PROPOSED, lifted_at=timezone.now()
        )
        if fresh.lift_proposed_by_id == user.pk:
            raise forbidden(_("解除黑名单须由申请人以外的人批准。"))
        fresh.state = BlacklistState.LIFTED
        fresh.lifted_by = user
        if note:
            fresh.decision_note = "\n".join(filter(None, [fresh.decision_note, note.strip()]))
        fresh.save()
        marker = _blacklist_marker(fresh)
        for measure in Measure.objects.filter(
            customer=fresh.customer, ended_on__isnull=True, reason__startswith=marker
        ):
            measure.ended_on = today
            measure.ended_by = user
            measure.end_reason = gettext("黑名单已解除：%(reason)s") % {"reason": fresh.lift_reason}
            measure.save()
    entry.refresh_from_db()
    return entry


def reject_lift(entry: BlacklistEntry, user, note: str) -> BlacklistEntry:
    _check_second_person(user, entry.lift_proposed_by_id, _("解除申请须由申请人以外的人审批。"))
    require_visible(user, entry.customer_id)
    note = (note or "").strip()
    if not note:
        raise WorkflowError(_("驳回时必须说明理由。"), "invalid", "note")
    with transaction.atomic():
        fresh = _claim(BlacklistEntry, entry.pk, BlacklistState.LIFT_PROPOSED, lifted_at=None)
        if fresh.lift_proposed_by_id == user.pk:
            raise forbidden(_("解除申请须由申请人以外的人审批。"))
        fresh.state = BlacklistState.LISTED
        fresh.decision_note = "\n".join(
            filter(
                None, [fresh.decision_note, gettext("解除申请被驳回：%(note)s") % {"note": note}]
            )
        )
        fresh.save()
    entry.refresh_from_db()
    return entry


# Our own breaches (R-28) ------------------------------------------------------------------

BREACH_FIELDS = (
    "kind",
    "customer",
    "occurred_on",
    "description",
    "amount",
    "responsible_person",
    "responsible_department",
    "counterparty_notified_on",
    "compensation",
    "corrective_action",
    "disciplinary_action",
)


def _validate_breach(breach: OwnBreach) -> None:
    from django.core.exceptions import ValidationError

    from creditfile.credit.choices import BreachKind

    errors: dict[str, list] = {}
    today = timezone.localdate()
    if breach.kind not in BreachKind.values:
        errors.setdefault("kind", []).append(_("请选择表现形式。"))
    if not (breach.description or "").strip():
        errors.setdefault("description", []).append(_("请填写情况说明。"))
    if breach.occurred_on is None:
        errors.setdefault("occurred_on", []).append(_("请填写发生日期。"))
    elif breach.occurred_on > today:
        errors.setdefault("occurred_on", []).append(_("发生日期不能晚于今天。"))
    for name in ("amount", "compensation"):
        value = getattr(breach, name)
        if value is not None and value < 0:
            errors.setdefault(name, []).append(_("金额不能为负数。"))
    notified = breach.counterparty_notified_on
    if notified and breach.occurred_on and notified < breach.occurred_on:
        errors.setdefault("counterparty_notified_on", []).append(_("告知日期不能早于发生日期。"))
    if errors:
        raise ValidationError(errors)


def record_breach(user, **fields) -> OwnBreach:
    """Record one of our own breaches (本企业失信); raises ValidationError keyed by field."""
    require_perm(user, "credit.add_ownbreach", _("登记本企业失信"))
    unknown = set(fields) - set(BREACH_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if fields.get("customer") is not None:
        require_visible(user, fields["customer"].pk)
    breach = OwnBreach(recorded_by=user, **fields)
    _validate_breach(breach)
    breach.save()
    return breach


def update_breach(breach: OwnBreach, user, **fields) -> OwnBreach:
    require_perm(user, "credit.change_ownbreach", _("修改本企业失信记录"))
    if breach.closed_on is not None:
        raise WorkflowError(_("已结案的记录不能修改。"))
    unknown = set(fields) - set(BREACH_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if fields.get("customer") is not None:
        require_visible(user, fields["customer"].pk)
    for name, value in fields.items():
        setattr(breach, name, value)
    _validate_breach(breach)
    breach.save()
    return breach


def close_breach(
    breach: OwnBreach,
    user,
    closed_on: datetime.date | None = None,
    corrective_action: str | None = None,
) -> OwnBreach:
    """Close only with a corrective action and someone answering for the breach (R-28)."""
    require_perm(user, "credit.change_ownbreach", _("结案本企业失信记录"))
    closed_on = closed_on or timezone.localdate()
    with transaction.atomic():
        fresh = OwnBreach.objects.select_for_update().get(pk=breach.pk)
        if fresh.closed_on is not None:
            raise WorkflowError(_("该记录已于 %(date)s 结案。") % {"date": fresh.closed_on})
        if corrective_action is not None:
            fresh.corrective_action = corrective_action.strip()
        if not (fresh.corrective_action or "").strip():
            raise WorkflowError(_("结案前必须填写纠正措施。"), "invalid", "corrective_action")
        if fresh.responsible_person_id is None and fresh.responsible_department_id is None:
            raise WorkflowError(
                _("结案前必须指明责任人或责任部门。"), "invalid", "responsible_person"
            )
        if closed_on < fresh.occurred_on:
            raise WorkflowError(_("结案日期不能早于发生日期。"), "invalid", "closed_on")
        if closed_on > timezone.localdate():
            raise WorkflowError(_("结案日期不能晚于今天。"), "invalid", "closed_on")
        fresh.closed_on = closed_on
        fresh.save()
    breach.refresh_from_db()
    return breach
