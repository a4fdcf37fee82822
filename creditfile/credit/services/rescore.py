"""Rescoring every customer (R-23 monitoring, R-27): `creditfile bench rescore` times it.

Every active customer and every customer with an active line is scored again with the
scorecard and policy in force and checked against the sanction rules. Nothing changes a
grade or a line by itself: the batch writes an Evaluation (kind "rescore") with its
factor scores for each customer, and a GradeChangeProposal where the grade or the limit
should change, for a credit manager to accept or dismiss.

It must handle 200,000 customers in a minute, so it never loops over customers with
per-customer queries: a handful of set-based queries read every input into memory, the
scoring engine works on plain dicts (the same `build_inputs` and `Engine` a single
evaluation uses), and rows are written in batches.
"""

import datetime
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from creditfile.core.models import Company
from creditfile.core.services.bulk import BackgroundWriter, reserve_ids
from creditfile.credit.choices import LineStatus, ProposalState
from creditfile.credit.models import (
    CreditLine,
    CreditSecurity,
    Evaluation,
    ExternalRating,
    GradeChangeProposal,
    PaymentSummary,
)
from creditfile.credit.services.policy import policy_in_force, scorecard_in_force
from creditfile.credit.services.scoring import Engine
from creditfile.credit.services.scoring_inputs import (
    CUSTOMER_FIELDS,
    JUDGEMENT_KEYS,
    PAYMENT_FIELDS,
    RATING_MONTHS,
    STATEMENT_FIELDS,
    build_inputs,
    months_before,
    security_in_force,
    security_value,
)
from creditfile.customers.choices import Lifecycle
from creditfile.customers.models import BusinessStatus, Customer, FinancialStatement, Guarantee

BATCH = 2000
# A recommended limit within 10% of the line in force is not worth a proposal: granted
# limits are round figures chosen by people, recommended ones follow the balance sheet.
LIMIT_TOLERANCE = Decimal("0.10")
FULL_EVALUATION_KINDS = ("application", "annual_review")
RESCORE_REASON = gettext_noop("重新评分 %(score)s 分，等级 %(from)s→%(to)s，建议额度 %(limit)s 元")


@dataclass
class RescoreResult:
    as_of: datetime.date
    customers: int = 0
    evaluations: int = 0
    factors: int = 0
    proposals: int = 0
    sanction_proposals: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process only (on PostgreSQL the server's work is not in it)
    grades: dict = field(default_factory=dict)
    # Where the time went: reading, sanction rules, scoring, writing (seconds).
    phases: dict = field(default_factory=dict)


# --- reading -----------------------------------------------------------------------------


def customers_in_scope(as_of: datetime.date) -> QuerySet:
    """Active customers and customers with an active line: the ones we give credit to."""
    active_line = CreditLine.objects.filter(customer=OuterRef("pk"), status=LineStatus.ACTIVE)
    return Customer.objects.filter(Q(lifecycle=Lifecycle.ACTIVE) | Q(Exists(active_line)))


def _latest(model, date_field: str, scope: QuerySet, as_of, since=None, **filters) -> QuerySet:
    """Each in-scope customer's latest row of `model` on or before `as_of`, one query.

    PostgreSQL reads it with DISTINCT ON, one pass over the (customer, date) index.
    SQLite has no DISTINCT ON: there it is driven from the customers, a correlated
    subquery giving one index probe per customer whatever the history length (twelve
    month-ends of payment summaries, years of statements).
    """
    rows = model.objects.filter(**{f"{date_field}__lte": as_of}, **filters)
    if since is not None:
        rows = rows.filter(**{f"{date_field}__gte": since})
    if connection.vendor == "postgresql":
        return (
            rows.filter(customer__in=scope.values("pk"))
            .order_by("customer_id", f"-{date_field}", "-id")
            .distinct("customer_id")
        )
    latest = rows.filter(customer=OuterRef("pk")).order_by(f"-{date_field}", "-id").values("id")
    return model.objects.filter(
        id__in=scope.order_by().values(latest_id=Subquery(latest[:1]))
    ).order_by()


@dataclass
class Facts:
    customers: list
    statements: dict
    payments: dict
    ratings: dict
    security: dict
    attitude: dict
    carried: dict
    lines: dict


def read_facts(as_of: datetime.date) -> Facts:
    """Every input of every in-scope customer, in about ten queries."""
    scope = customers_in_scope(as_of)
    customers = list(scope.order_by("pk").values("id", "credit_grade", *CUSTOMER_FIELDS))
    statements = {
        row["customer_id"]: row
        for row in _latest(FinancialStatement, "period_end", scope, as_of).values(
            "customer_id", *STATEMENT_FIELDS
        )
    }
    payments = {
        row["customer_id"]: row
        for row in _latest(PaymentSummary, "period_end", scope, as_of).values(
            "customer_id", *PAYMENT_FIELDS
        )
    }
    ratings = {
        row["customer_id"]: row
        for row in _latest(
            ExternalRating,
            "rated_on",
            scope,
            as_of,
            since=months_before(as_of, RATING_MONTHS),
            score__isnull=False,
        ).values("customer_id", "score", "rating", "agency", "rated_on")
    }
    security: dict[int, Decimal] = defaultdict(Decimal)
    guarantees = (
        Guarantee.objects.filter(security_in_force(as_of))
        .values("customer_id")
        .annotate(total=Sum("value"))
        .values_list("customer_id", "total")
    )
    for customer_id, total in guarantees:
        security[customer_id] += total
    securities = CreditSecurity.objects.filter(security_in_force(as_of)).values_list(
        "customer_id", "amount", "coverage_percent"
    )
    for customer_id, amount, coverage in securities:
        security[customer_id] += security_value(amount, coverage)
    attitude = dict(
        BusinessStatus.objects.exclude(cooperation_attitude="").values_list(
            "customer_id", "cooperation_attitude"
        )
    )
    # Only the carried keys are read out of the JSON, by the database: decoding each
    # evaluation's whole input dict in Python was a quarter of the reading time.
    carried_keys = (*JUDGEMENT_KEYS, "expected_annual_purchases")
    last_full = (
        _latest(Evaluation, "as_of", scope, as_of, kind__in=FULL_EVALUATION_KINDS)
        .annotate(**{f"carried_{key}": KT(f"inputs__{key}") for key in carried_keys})
        .values_list("customer_id", *(f"carried_{key}" for key in carried_keys))
    )
    carried = {
        customer_id: {
            key: value
            for key, value in zip(carried_keys, values, strict=True)
            if value not in (None, "")
        }
        for customer_id, *values in last_full
    }
    return Facts(
        customers=customers,
        statements=statements,
        payments=payments,
        ratings=ratings,
        security=security,
        attitude=attitude,
        carried=carried,
        lines=_current_lines(as_of),
    )


def _current_lines(as_of: datetime.date) -> dict:
    """customer id → (grade, limit, cash_on_delivery) of the line in force with our default
    company, else of the group-wide line."""
    company = Company.default()
    rows = (
        CreditLine.objects.filter(status=LineStatus.ACTIVE, valid_from__lte=as_of)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=as_of))
        .filter(Q(company=company) | Q(company__isnull=True))
        .values_list("customer_id", "company_id", "grade", "limit", "cash_on_delivery")
    )
    lines = {}
    for customer_id, company_id, grade, limit, cash in rows:
        if company_id is not None or customer_id not in lines:
            lines[customer_id] = (grade, limit, cash)
    return lines


def _open_proposals() -> set:
    """Rescore targets already proposed and undecided, so a nightly run does not repeat them."""
    rows = GradeChangeProposal.objects.filter(
        state=ProposalState.PROPOSED, source="rescore"
    ).values_list("customer_id", "to_grade", "to_limit")
    return {(c, g, None if limit is None else Decimal(limit)) for c, g, limit in rows}


# --- sanctions ---------------------------------------------------------------------------


@dataclass
class SanctionFiling:
    """The sanction rules' outcomes and what is already on file about them."""

    outcomes: dict
    open_by_rule: dict
    listed: set


def _sanctions(as_of, facts: Facts, current_grades: dict, policy) -> SanctionFiling:
    """Apply the active sanction rules (services.sanctions.evaluate_rules, pure) to the
    payment summaries already read, with the same inputs `propose_sanctions` gives it.

    `propose_sanctions` itself is not called: it filters by lists of customer ids, which
    PostgreSQL refuses past 65,535 parameters; the reads here are whole-table.
    """
    from creditfile.credit.models import BlacklistEntry, SanctionRule
    from creditfile.credit.services import sanctions

    rules = list(SanctionRule.objects.filter(is_active=True))
    if not rules:
        return SanctionFiling({}, {}, set())
    terms = list(policy.grades.order_by("rank"))
    current = {}
    for customer_id, grade in current_grades.items():
        line = facts.lines.get(customer_id)
        if line is not None:
            current[customer_id] = line
        elif grade:
            current[customer_id] = (grade, None, False)
    since = as_of - datetime.timedelta(days=sanctions.QUIET_DAYS)
    already = set(
        GradeChangeProposal.objects.filter(
            source=sanctions.SOURCE,
            rule__isnull=False,
            decided_by__isnull=False,
            decided_at__date__gt=since,
            state__in=(ProposalState.ACCEPTED, ProposalState.DISMISSED),
        ).values_list("customer_id", "rule_id")
    )
    # Only summaries showing a late or a default can trigger a rule (as in latest_summaries).
    summaries = {}
    for customer_id in current_grades:
        summary = facts.payments.get(customer_id)
        if summary is not None and (
            summary["max_days_late"]
            or summary["times_late_over_30"]
            or summary["times_late_over_90"]
            or summary["malicious_default"]
        ):
            summaries[customer_id] = summary
    outcomes = sanctions.evaluate_rules(
        summaries,
        current,
        rules,
        [t.grade for t in terms],
        limit_caps={
            t.grade: (t.max_limit if t.max_limit is not None else t.default_limit) for t in terms
        },
        cash_grades={t.grade for t in terms if t.cash_on_delivery},
        already_applied=already,
    )
    open_by_rule: dict = defaultdict(list)
    for pk, customer_id, rule_id, grade, limit, cash in GradeChangeProposal.objects.filter(
        source=sanctions.SOURCE, state=ProposalState.PROPOSED
    ).values_list("pk", "customer_id", "rule_id", "to_grade", "to_limit", "cash_on_delivery"):
        open_by_rule[(customer_id, rule_id)].append((pk, (grade, limit, cash)))
    listed = set(
        BlacklistEntry.objects.filter(state__in=sanctions.OPEN_BLACKLIST_STATES).values_list(
            "customer_id", flat=True
        )
    )
    return SanctionFiling(outcomes, open_by_rule, listed)


def _sanction_proposal(evaluation_id, outcome, filing: SanctionFiling, replaced: list):
    """The proposal `propose_sanctions` would file for this outcome, or None.

    Same rules: an open proposal with the same target stands; a new target replaces it;
    a blacklist proposal rides on the sanction proposal until a person accepts it.
    """
    from creditfile.credit.services import sanctions

    target = (outcome.to_grade, outcome.to_limit, outcome.cash_on_delivery)
    existing = filing.open_by_rule.get((outcome.customer_id, outcome.rule_id), [])
    if any(sanctions._same_target(t, target) for _pk, t in existing):
        return None
    carries_blacklist = outcome.propose_blacklist and outcome.customer_id not in filing.listed
    if not outcome.changes_line and not carries_blacklist:
        return None
    replaced.extend(pk for pk, _t in existing)
    return (
        outcome.customer_id,
        sanctions.SOURCE,
        outcome.rule_id,
        evaluation_id,
        outcome.from_grade,
        outcome.to_grade,
        outcome.from_limit,
        outcome.to_limit,
        outcome.cash_on_delivery,
        str(outcome.reason)[:300],
        ProposalState.PROPOSED.value,
        "",
    )


# --- writing -----------------------------------------------------------------------------


def _limit_changed(current: Decimal | None, recommended: Decimal) -> bool:
    if current is None:
        return False
    if current == 0:
        return recommended > 0
    return abs(recommended - current) > current * LIMIT_TOLERANCE


EVALUATION_COLUMNS = (
    "id",
    "customer",
    "kind",
    "scorecard",
    "policy",
    "as_of",
    "sales_form",
    "inputs",
    "total_score",
    "grade",
    "recommended_limit",
    "limit_explanation",
    "standard_failures",
    "factor_scores",
    "scored_by",
    "review_comment",
    "created_at",
)
PROPOSAL_COLUMNS = (
    "customer",
    "source",
    "rule",
    "evaluation",
    "from_grade",
    "to_grade",
    "from_limit",
    "to_limit",
    "cash_on_delivery",
    "reason",
    "state",
    "decision_note",
    "created_at",
)


def rescore_all(as_of: datetime.date | None = None, user=None) -> RescoreResult:
    """Score every in-scope customer again; write evaluations and proposals (all or none)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    as_of = as_of or timezone.localdate()
    scorecard = scorecard_in_force(as_of)
    policy = policy_in_force(as_of)
    engine = Engine.for_versions(scorecard, policy)
    facts = read_facts(as_of)
    open_proposals = _open_proposals()
    clock = time.perf_counter()
    phases = {"read": clock - started, "sanctions": 0.0, "score": 0.0, "write": 0.0}
    current_grades = {}
    for row in facts.customers:
        line = facts.lines.get(row["id"])
        current_grades[row["id"]] = row["credit_grade"] or (line[0] if line else "")
    filing = _sanctions(as_of, facts, current_grades, policy)
    phases["sanctions"], clock = time.perf_counter() - clock, time.perf_counter()
    result = RescoreResult(as_of=as_of, customers=len(facts.customers))
    grades: dict[str, int] = defaultdict(int)
    no_judgement: dict = {}
    user_id = getattr(user, "pk", None)
    replaced: list[int] = []

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    as_of_value = connection.ops.adapt_datefield_value(as_of)
    empty = json.dumps({})
    reason_text = _(RESCORE_REASON)

    with transaction.atomic():
        evaluation_ids = iter(reserve_ids(Evaluation, len(facts.customers)))
        with BackgroundWriter() as writer:
            for start in range(0, len(facts.customers), BATCH):
                evaluations, proposals = [], []
                for row in facts.customers[start : start + BATCH]:
                    customer_id = row["id"]
                    carried = facts.carried.get(customer_id, no_judgement)
                    judgement = dict(carried)
                    if "cooperation_attitude" not in judgement and customer_id in facts.attitude:
                        judgement["cooperation_attitude"] = facts.attitude[customer_id]
                    inputs = build_inputs(
                        as_of=as_of,
                        customer=row,
                        statement=facts.statements.get(customer_id),
                        payment=facts.payments.get(customer_id),
                        security_total=facts.security.get(customer_id, Decimal(0)),
                        rating=facts.ratings.get(customer_id),
                        judgement=judgement,
                        expected_annual_purchases=carried.get("expected_annual_purchases"),
                    )
                    outcome = engine.evaluate(inputs, worded=False)
                    grades[outcome.grade] += 1
                    evaluation_id = next(evaluation_ids)
                    evaluations.append(
                        (
                            evaluation_id,
                            customer_id,
                            "rescore",
                            scorecard.pk,
                            policy.pk,
                            as_of_value,
                            empty,
                            json.dumps(inputs),
                            outcome.total_score,
                            outcome.grade,
                            outcome.recommended_limit,
                            outcome.limit_explanation,
                            _json_list(outcome.standard_failures),
                            outcome.factor_scores_json,
                            user_id,
                            "",
                            now,
                        )
                    )
                    proposal = _rescore_proposal(
                        customer_id,
                        evaluation_id,
                        outcome,
                        current_grades[customer_id],
                        facts.lines.get(customer_id),
                        open_proposals,
                        reason_text,
                    )
                    if proposal is not None:
                        proposals.append((*proposal, now))
                        result.proposals += 1
                    sanction = filing.outcomes.get(customer_id)
                    if sanction is not None:
                        proposal = _sanction_proposal(evaluation_id, sanction, filing, replaced)
                        if proposal is not None:
                            proposals.append((*proposal, now))
                            result.proposals += 1
                            result.sanction_proposals += 1
                phases["score"] += time.perf_counter() - clock
                clock = time.perf_counter()
                writer.write(Evaluation, EVALUATION_COLUMNS, evaluations)
                writer.write(GradeChangeProposal, PROPOSAL_COLUMNS, proposals)
                phases["write"] += time.perf_counter() - clock  # waiting for the writer
                clock = time.perf_counter()
                result.evaluations += len(evaluations)
                result.factors += len(evaluations) * len(engine.factors)
        if replaced:
            GradeChangeProposal.objects.filter(
                pk__in=replaced, state=ProposalState.PROPOSED
            ).update(
                state=ProposalState.DISMISSED,
                decided_at=timezone.now(),
                decision_note=_("已被新的惩戒建议取代。"),
            )
    result.grades = dict(sorted(grades.items()))
    result.seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - cpu_started
    phases["write"] += time.perf_counter() - clock  # the last batches, dismissals, commit
    result.phases = {name: round(seconds, 2) for name, seconds in phases.items()}
    return result


def _json_list(items: list) -> str:
    return json.dumps(items) if items else "[]"


def _rescore_proposal(
    customer_id, evaluation_id, outcome, current_grade, line, open_proposals, reason_text
):
    """A proposal (PROPOSAL_COLUMNS without created_at) when the grade changes or the limit
    moves by more than the tolerance; `reason_text` is RESCORE_REASON, translated."""
    current_limit = line[1] if line else None
    grade_changed = outcome.grade != current_grade
    limit_changed = _limit_changed(current_limit, outcome.recommended_limit)
    if not (grade_changed or limit_changed):
        return None
    if (customer_id, outcome.grade, outcome.recommended_limit) in open_proposals:
        return None
    reason = reason_text % {
        "score": outcome.total_score,
        "from": current_grade or "—",
        "to": outcome.grade,
        "limit": f"{outcome.recommended_limit:,.0f}",
    }
    return (
        customer_id,
        "rescore",
        None,
        evaluation_id,
        current_grade,
        outcome.grade,
        current_limit,
        outcome.recommended_limit,
        outcome.cash_on_delivery,
        reason[:300],
        ProposalState.PROPOSED.value,
        "",
    )
