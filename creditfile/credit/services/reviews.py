"""Reviews (R-23, R-26): yearly re-evaluation, quarterly monitoring, on demand.

`creditfile daily` calls `create_due_reviews`; it must be safe to run twice and cheap
for tens of thousands of customers, so it reads with a few set-based queries and writes
with `bulk_create(ignore_conflicts=True)` against the one-review-per-period constraint.

An annual review ends through the ordinary workflow: the 年审评价报告 proposes a grade
and limit, `submit_annual_report` turns it into a CreditApplication of kind
annual_review that finance scores and approvers decide, and `workflow.grant` calls
`on_granted`, which marks the review done. Monitoring and on-demand reviews end with a
written outcome (`complete_monitoring_review`).
"""

import calendar
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.fields import ZERO
from creditfile.core.history import current_actor
from creditfile.core.models import Company, ObjectChange
from creditfile.credit.choices import (
    ApplicationState,
    LineStatus,
    ReviewKind,
    ReviewState,
)
from creditfile.credit.models import (
    AnnualReviewReport,
    CreditApplication,
    CreditLine,
    CreditReview,
    Evaluation,
    PaymentSummary,
)
from creditfile.credit.services.errors import (
    WorkflowError,
    forbidden,
    require_perm,
    require_visible,
)

OPEN = (ReviewState.DUE, ReviewState.IN_PROGRESS)
CLOSED = (ReviewState.DONE, ReviewState.CANCELLED)
FULL_EVALUATION_KINDS = ("application", "annual_review")
EXPIRY_WARNING_DAYS = 30
BATCH = 1000
OPEN_APPLICATION_STATES = (
    ApplicationState.DRAFT,
    ApplicationState.SUBMITTED,
    ApplicationState.INVESTIGATING,
    ApplicationState.EVALUATING,
    ApplicationState.APPROVING,
    ApplicationState.INFO_REQUESTED,
    ApplicationState.APPROVED,
    ApplicationState.PARTLY_APPROVED,
)


# --- Dates and periods ------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Same day `months` later; the 29th–31st fall back to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last_day))


def quarter_of(day: datetime.date) -> tuple[str, datetime.date]:
    """The quarter's period name ("2026Q4") and its last day, when its review falls due."""
    quarter = (day.month - 1) // 3 + 1
    last_month = quarter * 3
    end = datetime.date(day.year, last_month, calendar.monthrange(day.year, last_month)[1])
    return f"{day.year}Q{quarter}", end


def expiry_period(valid_until: datetime.date) -> str:
    """One expiry review per customer and expiry date, however many lines end that day."""
    return f"E{valid_until:%Y%m%d}"


# --- The daily job ----------------------------------------------------------------------------


def _line_customers(today: datetime.date) -> QuerySet:
    """Customers holding a line in force today: only they need reviewing."""
    return CreditLine.objects.filter(status=LineStatus.ACTIVE, valid_from__lte=today).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


def _annual_candidates(today: datetime.date) -> list[CreditReview]:
    """Annual reviews that are due and do not exist yet.

    Due 12 months after the last full evaluation (application or annual review), or
    12 months after the line started when the customer was never evaluated; a customer
    never reviewed and never evaluated gets its review at once so it shows up in the
    queue. A cancelled (or done) review for a due date skips that cycle: the next one
    falls 12 months later. The period names the review ("2026"): the due date's year, but
    never a year already past (a review found overdue today is this year's review), and
    the next free year when a closed review already holds that one.
    """
    starts = dict(
        _line_customers(today)
        .values("customer_id")
        .annotate(start=Min("valid_from"))
        .values_list("customer_id", "start")
    )
    if not starts:
        return []
    line_customer_ids = _line_customers(today).values("customer_id")
    evaluated = dict(
        Evaluation.objects.filter(kind__in=FULL_EVALUATION_KINDS, customer_id__in=line_customer_ids)
        .values("customer_id")
        .annotate(last=Max("as_of"))
        .values_list("customer_id", "last")
    )
    reviews: dict[int, list[tuple[str, str, datetime.date]]] = {}
    for customer_id, period, state, due_on in CreditReview.objects.filter(
        kind=ReviewKind.ANNUAL, customer_id__in=line_customer_ids
    ).values_list("customer_id", "period", "state", "due_on"):
        reviews.setdefault(customer_id, []).append((period, state, due_on))

    new = []
    for customer_id, start in starts.items():
        existing = reviews.get(customer_id, [])
        if any(state in OPEN for _period, state, _due in existing):
            continue
        last = evaluated.get(customer_id)
        due = add_months(last or start, 12)
        if existing:
            latest_due = max(due_on for _period, _state, due_on in existing)
            while latest_due >= due:
                due = add_months(due, 12)
        if due > today and (existing or last is not None):
            continue  # not due yet (a never-evaluated, never-reviewed customer is queued now)
        taken = {period for period, _s, _d in existing}
        year = max(due.year, today.year)
        while str(year) in taken:
            year += 1
        new.append(
            CreditReview(
                customer_id=customer_id,
                kind=ReviewKind.ANNUAL,
                period=str(year),
                due_on=due,
                reason=_("年度信用复评（距上次评估满12个月）")
                if last
                else _("年度信用复评（尚无信用评估记录）"),
            )
        )
    return new


def _quarterly_candidates(today: datetime.date) -> list[CreditReview]:
    period, quarter_end = quarter_of(today)
    have = set(
        CreditReview.objects.filter(kind=ReviewKind.QUARTERLY, period=period).values_list(
            "customer_id", flat=True
        )
    )
    customer_ids = set(_line_customers(today).values_list("customer_id", flat=True))
    return [
        CreditReview(
            customer_id=customer_id,
            kind=ReviewKind.QUARTERLY,
            period=period,
            due_on=quarter_end,
            reason=_("季度监控复核"),
        )
        for customer_id in sorted(customer_ids - have)
    ]


def _expiry_candidates(today: datetime.date) -> list[CreditReview]:
    horizon = today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
    ending = dict(
        CreditLine.objects.filter(
            status=LineStatus.ACTIVE, valid_until__gte=today, valid_until__lte=horizon
        )
        .values("customer_id")
        .annotate(until=Min("valid_until"))
        .values_list("customer_id", "until")
    )
    if not ending:
        return []
    have = set(
        CreditReview.objects.filter(
            kind=ReviewKind.ON_DEMAND,
            period__in={expiry_period(until) for until in ending.values()},
        ).values_list("customer_id", "period")
    )
    return [
        CreditReview(
            customer_id=customer_id,
            kind=ReviewKind.ON_DEMAND,
            period=expiry_period(until),
            due_on=until,
            reason=_("额度即将到期"),
        )
        for customer_id, until in sorted(ending.items())
        if (customer_id, expiry_period(until)) not in have
    ]


def _log_created(reviews: QuerySet) -> None:
    """Bulk inserts bypass the history signals; write the same 'create' rows ourselves,
    attributed to whoever runs the job (`acting_as`), so the customer timeline shows them."""
    actor = current_actor()
    review_type = ContentType.objects.get_for_model(CreditReview)
    from creditfile.customers.models import Customer

    customer_type = ContentType.objects.get_for_model(Customer)
    now = timezone.now()
    kinds = dict(ReviewKind.choices)
    user = actor.user if getattr(actor.user, "pk", None) else None
    rows: list[ObjectChange] = []
    # Streamed in batches of plain values: the first daily run on a large book creates
    # hundreds of thousands of reviews, and whole model instances would not fit in memory.
    fields = ("pk", "customer_id", "customer__name", "kind", "period")
    for pk, customer_id, name, kind, period in reviews.values_list(*fields).iterator(
        chunk_size=BATCH
    ):
        text = f"{name} {kinds.get(kind, kind)} {period}"
        rows.append(
            ObjectChange(
                time=now,
                user=user,
                actor=actor.label,
                request_id=actor.request_id,
                action=ObjectChange.Action.CREATE,
                content_type=review_type,
                object_id=pk,
                object_repr=text[:200],
                root_type=customer_type,
                root_id=customer_id,
                new_value=text[:1000],
            )
        )
        if len(rows) >= BATCH:
            ObjectChange.objects.bulk_create(rows)
            rows = []
    ObjectChange.objects.bulk_create(rows)


def create_due_reviews(today: datetime.date | None = None) -> dict[str, int]:
    """Create every review that is due and missing; returns how many of each were created.

    Idempotent: each candidate is checked against what exists, and the unique
    (customer, kind, period) constraint absorbs a second job running at the same time.
    """
    today = today or timezone.localdate()
    before = CreditReview.objects.aggregate(last=Max("id"))["last"] or 0
    counts = {}
    for name, candidates in (
        ("annual", _annual_candidates(today)),
        ("quarterly", _quarterly_candidates(today)),
        ("expiring", _expiry_candidates(today)),
    ):
        CreditReview.objects.bulk_create(candidates, batch_size=BATCH, ignore_conflicts=True)
        counts[name] = len(candidates)
    _log_created(CreditReview.objects.filter(id__gt=before))
    return counts


# --- Queues -----------------------------------------------------------------------------------


def visible_reviews(user) -> QuerySet:
    from creditfile.customers.services.visibility import visible_customers

    return CreditReview.objects.filter(customer__in=visible_customers(user)).select_related(
        "customer", "assigned_to"
    )


def reviews_due(user, today: datetime.date | None = None) -> QuerySet:
    """Open reviews the user may see, soonest first (overdue ones lead)."""
    return visible_reviews(user).filter(state__in=OPEN).order_by("due_on", "id")


def overdue_reviews(user, today: datetime.date | None = None) -> QuerySet:
    today = today or timezone.localdate()
    return reviews_due(user).filter(due_on__lt=today)


def get_review_for(user, pk) -> CreditReview:
    """A review of a customer the user cannot see does not exist for them (404)."""
    from django.http import Http404

    review = visible_reviews(user).filter(pk=pk).first()
    if review is None:
        raise Http404
    return review


# --- Single reviews ---------------------------------------------------------------------------


def can_request(user) -> bool:
    """Credit staff, and the sales side who know the customer best, may ask for a review."""
    return user.has_perm("credit.add_creditreview") or user.has_perm("credit.add_creditapplication")


def request_review(customer, user, reason: str, due_on: datetime.date | None = None):
    """临时复评 on demand (R-23 'any time'): one per customer and day."""
    if not can_request(user):
        raise forbidden(_("您没有权限：申请临时复评。"))
    require_visible(user, customer.pk)
    if not (reason or "").strip():
        raise WorkflowError(_("请说明复评原因。"), "invalid", "reason")
    today = timezone.localdate()
    period = f"D{today:%Y%m%d}"
    if CreditReview.objects.filter(
        customer=customer, kind=ReviewKind.ON_DEMAND, period=period
    ).exists():
        raise WorkflowError(_("该客户今天已申请过临时复评。"))
    return CreditReview.objects.create(
        customer=customer,
        kind=ReviewKind.ON_DEMAND,
        period=period,
        due_on=due_on or today + datetime.timedelta(days=14),
        reason=reason.strip()[:300],
        assigned_to=user if user.has_perm("credit.change_creditreview") else None,
    )


def open_application(review) -> CreditApplication | None:
    return review.applications.filter(state__in=OPEN_APPLICATION_STATES).first()


def complete_monitoring_review(review: CreditReview, user, outcome: str) -> CreditReview:
    """Quarterly monitoring and on-demand reviews end with the credit staff's written finding."""
    require_perm(user, "credit.change_creditreview", _("完成复评"))
    if review.kind == ReviewKind.ANNUAL:
        raise WorkflowError(_("年度复评须编制年审评价报告并经审批授信后完成。"))
    if not (outcome or "").strip():
        raise WorkflowError(_("请填写复核结论。"), "invalid", "outcome")
    with transaction.atomic():
        fresh = CreditReview.objects.select_for_update().get(pk=review.pk)
        if fresh.state not in OPEN:
            raise WorkflowError(_("该复评已完成或已取消。"))
        if open_application(fresh):
            raise WorkflowError(_("该复评还有未结束的信用申请。"))
        fresh.state = ReviewState.DONE
        fresh.outcome = outcome.strip()
        fresh.completed_by = user
        fresh.completed_at = timezone.now()
        fresh.assigned_to = fresh.assigned_to or user
        fresh.save()
    return fresh


def cancel_review(review: CreditReview, user, reason: str) -> CreditReview:
    require_perm(user, "credit.change_creditreview", _("取消复评"))
    if not (reason or "").strip():
        raise WorkflowError(_("请说明取消原因。"), "invalid", "reason")
    with transaction.atomic():
        fresh = CreditReview.objects.select_for_update().get(pk=review.pk)
        if fresh.state not in OPEN:
            raise WorkflowError(_("该复评已完成或已取消。"))
        if open_application(fresh):
            raise WorkflowError(_("该复评还有未结束的信用申请，请先撤回申请。"))
        fresh.state = ReviewState.CANCELLED
        fresh.outcome = _("已取消：%(reason)s") % {"reason": reason.strip()}
        fresh.completed_by = user
        fresh.completed_at = timezone.now()
        fresh.save()
    return fresh


# --- Annual review report 年审评价报告 ---------------------------------------------------------


@dataclass
class YearFacts:
    """What one customer's year looked like, read from the sources of record."""

    sales_amount: Decimal = ZERO
    payments_amount: Decimal = ZERO
    average_days_late: Decimal | None = None
    max_days_late: int | None = None
    incidents: int = 0
    file_changes: int = 0
    facts: dict | None = None


def _year_bounds(year: int):
    tz = timezone.get_current_timezone()
    start = datetime.datetime(year, 1, 1, tzinfo=tz)
    return (
        datetime.date(year, 1, 1),
        datetime.date(year, 12, 31),
        start,
        start.replace(year=year + 1),
    )


def gather_year_facts(customer_ids, year: int) -> dict[int, YearFacts]:
    """The year's facts for many customers in a handful of queries (the year-end batch).

    Payments come only from credit.PaymentSummary (its latest row of the year covers the
    12 months to that month-end); incidents are the file's 重大事项 of the year; changes
    are the central change log's rows for the customer's file (credit records excluded:
    the review and its workflow are not changes of the file). Complaints have no source
    yet; the customer-service app will supply them, until then they are None ("—").
    """
    from creditfile.customers.models import Customer, FileEvent

    customer_ids = list(customer_ids)
    first_day, last_day, start, end = _year_bounds(year)
    result = {cid: YearFacts(facts={"year": year, "complaints": None}) for cid in customer_ids}
    for start_at in range(0, len(customer_ids), BATCH):
        chunk = customer_ids[start_at : start_at + BATCH]
        summaries = PaymentSummary.objects.filter(
            customer_id__in=chunk, period_end__gte=first_day, period_end__lte=last_day
        ).order_by("customer_id", "period_end")
        for summary in summaries:  # ascending, so the last one of the year wins
            item = result[summary.customer_id]
            item.sales_amount = summary.sales_amount
            item.payments_amount = summary.payments_amount
            item.average_days_late = summary.average_days_late
            item.max_days_late = summary.max_days_late
            item.facts["payment_summary"] = {
                "period_end": summary.period_end.isoformat(),
                "invoices_settled": summary.invoices_settled,
                "invoices_paid_on_time": summary.invoices_paid_on_time,
                "times_late_over_30": summary.times_late_over_30,
                "times_late_over_90": summary.times_late_over_90,
                "overdue_amount": str(summary.overdue_amount),
                "malicious_default": summary.malicious_default,
            }
        events = FileEvent.objects.filter(
            customer_id__in=chunk, occurred_on__gte=first_day, occurred_on__lte=last_day
        ).order_by("customer_id", "occurred_on", "id")
        for event in events:
            item = result[event.customer_id]
            item.incidents += 1
            item.facts.setdefault("incidents", []).append(
                {
                    "date": event.occurred_on.isoformat(),
                    "severity": event.get_severity_display(),
                    "title": event.title,
                }
            )
        credit_types = ContentType.objects.filter(app_label="credit")
        changes = (
            ObjectChange.objects.filter(
                root_type=ContentType.objects.get_for_model(Customer),
                root_id__in=chunk,
                time__gte=start,
                time__lt=end,
            )
            .exclude(content_type__in=credit_types)
            .values("root_id", "content_type")
            .annotate(n=Count("id"))
        )
        for row in changes:
            item = result[row["root_id"]]
            item.file_changes += row["n"]
            model = ContentType.objects.get_for_id(row["content_type"]).model_class()
            label = str(model._meta.verbose_name) if model else str(row["content_type"])
            by_section = item.facts.setdefault("file_changes_by_section", {})
            by_section[label] = by_section.get(label, 0) + row["n"]
    return result


def _carried_forward(customer_ids) -> dict[int, tuple[dict, dict]]:
    """Each customer's last full evaluation: its sales form and the judgement it was scored
    with (finance's word over the form). The year-end proposal starts from them; finance
    scores the application afresh anyway."""
    from creditfile.credit.services.scoring_inputs import JUDGEMENT_KEYS

    carried = {}
    customer_ids = list(customer_ids)
    for start_at in range(0, len(customer_ids), BATCH):
        rows = (
            Evaluation.objects.filter(
                customer_id__in=customer_ids[start_at : start_at + BATCH],
                kind__in=FULL_EVALUATION_KINDS,
            )
            .order_by("customer_id", "created_at", "id")
            .values_list("customer_id", "sales_form", "inputs")
        )
        for customer_id, form, inputs in rows:
            judgement = {
                key: (inputs or {}).get(key) for key in JUDGEMENT_KEYS if (inputs or {}).get(key)
            }
            carried[customer_id] = (form or {}, judgement)
    return carried


def _current_lines(customer_ids, on_date, company) -> dict[int, CreditLine]:
    """`lines.credit_line_for` for many customers at once (same rule, one query per chunk)."""
    from creditfile.credit.services.lines import _valid_on

    lines = {}
    customer_ids = list(customer_ids)
    for start_at in range(0, len(customer_ids), BATCH):
        for line in CreditLine.objects.filter(
            customer_id__in=customer_ids[start_at : start_at + BATCH],
            company=company,
            status=LineStatus.ACTIVE,
        ).filter(_valid_on(on_date)):
            lines[line.customer_id] = line
    return lines


def _as_of(year: int) -> datetime.date:
    return min(timezone.localdate(), datetime.date(year, 12, 31))


def _score_one(review, year, facts: YearFacts, carried):
    """One customer scored as the year left it: the scorecard and policy in force then,
    the judgement carried forward, the year's sales as next year's expected purchases."""
    from creditfile.credit.services import scoring

    sales_form, judgement = carried or ({}, {})
    return scoring.evaluate(
        review.customer,
        judgement=judgement,
        sales_form=sales_form,
        as_of=_as_of(year),
        expected_annual_purchases=facts.sales_amount or None,
    )


def _build_report(year, facts: YearFacts, line, result, user, summary="") -> dict:
    """The report's fields from the year's facts and a scoring result (grade, limit)."""
    report_facts = dict(facts.facts or {})
    report_facts["score"] = str(result.total_score)
    if result.limit_explanation:
        report_facts["limit_explanation"] = str(result.limit_explanation)
    if result.standard_failures:
        report_facts["standard_failures"] = [f.get("text", "") for f in result.standard_failures]
    return {
        "year": year,
        "sales_amount": facts.sales_amount,
        "payments_amount": facts.payments_amount,
        "average_days_late": facts.average_days_late,
        "max_days_late": facts.max_days_late,
        "incidents": facts.incidents,
        "complaints": None,  # no source until the service app; the page shows "—"
        "file_changes": facts.file_changes,
        "facts": report_facts,
        "current_grade": line.grade if line else "",
        "current_limit": line.limit if line else None,
        "proposed_grade": result.grade,
        "proposed_limit": result.recommended_limit,
        "summary": summary,
        "prepared_by": user,
    }


def _check_preparable(review) -> None:
    if review.kind != ReviewKind.ANNUAL:
        raise WorkflowError(_("只有年度复评需要年审评价报告。"))
    if review.state not in OPEN:
        raise WorkflowError(_("该复评已完成或已取消。"))
    if open_application(review):
        raise WorkflowError(_("年审报告已提交审批，不能再修改。"))


def prepare_annual_report(
    review: CreditReview, user, year: int | None = None, summary: str = ""
) -> AnnualReviewReport:
    """Gather the year's facts and propose a grade and limit; may be redone until submitted."""
    from creditfile.credit.services.lines import credit_line_for

    require_perm(user, "credit.add_annualreviewreport", _("编制年审评价报告"))
    require_visible(user, review.customer_id)
    _check_preparable(review)
    year = year or int(review.period[:4])
    facts = gather_year_facts([review.customer_id], year)[review.customer_id]
    line = credit_line_for(review.customer)
    carried = _carried_forward([review.customer_id]).get(review.customer_id)
    result = _score_one(review, year, facts, carried)
    fields = _build_report(year, facts, line, result, user, summary)
    with transaction.atomic():
        report, _created = AnnualReviewReport.objects.update_or_create(
            review=review, defaults=fields
        )
        if review.state == ReviewState.DUE or review.assigned_to_id is None:
            review.state = ReviewState.IN_PROGRESS
            review.assigned_to = review.assigned_to or user
            review.save()
    return report


def prepare_all_annual_reports(year: int, user) -> dict:
    """Year-end batch: a report for every annual review of `year` nobody has started.

    Set-based like the rescore batch, whose reader it shares: the scoring inputs of all
    customers come from `rescore.read_facts` in about ten queries, the year's facts from
    `gather_year_facts`, and one compiled scorecard scores them in memory. A customer
    the reader does not cover (no active line or status any more) is scored singly.
    """
    from creditfile.credit.services.policy import policy_in_force, scorecard_in_force
    from creditfile.credit.services.rescore import read_facts
    from creditfile.credit.services.scoring import Engine
    from creditfile.credit.services.scoring_inputs import build_inputs, clean_judgement

    require_perm(user, "credit.add_annualreviewreport", _("编制年审评价报告"))
    reviews = list(
        CreditReview.objects.filter(
            kind=ReviewKind.ANNUAL,
            period=str(year),
            state=ReviewState.DUE,
            annual_report__isnull=True,
        ).select_related("customer")
    )
    counts = {"prepared": 0, "failed": 0, "errors": []}
    if not reviews:
        return counts
    as_of = _as_of(year)
    engine = Engine.for_versions(scorecard_in_force(as_of), policy_in_force(as_of))
    inputs_of = read_facts(as_of)
    rows = {row["id"]: row for row in inputs_of.customers}
    company = Company.default()
    today = timezone.localdate()
    for start_at in range(0, len(reviews), BATCH):
        chunk = reviews[start_at : start_at + BATCH]
        ids = [review.customer_id for review in chunk]
        facts = gather_year_facts(ids, year)
        lines = _current_lines(ids, today, company)
        carried = _carried_forward(ids)
        reports, started = [], []
        for review in chunk:
            customer_id = review.customer_id
            year_facts = facts[customer_id]
            try:
                if customer_id in rows:
                    sales_form, judgement = carried.get(customer_id, ({}, {}))
                    on_file = inputs_of.attitude.get(customer_id)
                    judgement = clean_judgement(  # the same precedence as a single evaluation
                        judgement,
                        sales_form,
                        {"cooperation_attitude": on_file} if on_file else None,
                    )
                    result = engine.evaluate(
                        build_inputs(
                            as_of=as_of,
                            customer=rows[customer_id],
                            statement=inputs_of.statements.get(customer_id),
                            payment=inputs_of.payments.get(customer_id),
                            security_total=inputs_of.security.get(customer_id, ZERO),
                            rating=inputs_of.ratings.get(customer_id),
                            judgement=judgement,
                            expected_annual_purchases=year_facts.sales_amount or None,
                        )
                    )
                else:
                    result = _score_one(review, year, year_facts, carried.get(customer_id))
            except WorkflowError as error:
                counts["failed"] += 1
                counts["errors"].append(f"{review.customer}: {error.message}")
                continue
            fields = _build_report(year, year_facts, lines.get(customer_id), result, user)
            reports.append(AnnualReviewReport(review=review, **fields))
            started.append(review.pk)
        with transaction.atomic():
            AnnualReviewReport.objects.bulk_create(reports, batch_size=BATCH)
            CreditReview.objects.filter(pk__in=started, state=ReviewState.DUE).update(
                state=ReviewState.IN_PROGRESS
            )
            CreditReview.objects.filter(pk__in=started, assigned_to__isnull=True).update(
                assigned_to=user
            )
        counts["prepared"] += len(reports)
    return counts


def _requested_term_days(report: AnnualReviewReport, line: CreditLine | None) -> int:
    from creditfile.credit.services.policy import policy_in_force, terms_for

    try:
        terms = terms_for(policy_in_force(), report.proposed_grade)
    except WorkflowError:
        terms = None
    if terms is not None and terms.credit_term_days:
        return terms.credit_term_days
    return line.term_days if line else 30


def submit_annual_report(report: AnnualReviewReport, user, comment: str = "") -> CreditApplication:
    """The proposal goes through the same evaluation, approval and grant as any application.

    The application starts at 信用评估 with the report as its evaluation form (the
    customer's file is known; an investigation is optional for reviews), so finance
    scores it next. Its requested limit is the proposed limit.
    """
    from creditfile.credit.services import workflow
    from creditfile.credit.services.lines import credit_line_for

    review = report.review
    require_perm(user, "credit.change_creditreview", _("提交年审评价报告"))
    _check_preparable(review)
    if not report.proposed_limit or report.proposed_limit <= 0:
        raise WorkflowError(
            _("建议额度为0，无法提交授信申请；如需停止赊销，请走信用制裁。"),
            "invalid",
            "proposed_limit",
        )
    line = credit_line_for(review.customer)
    sales_form, judgement = _carried_forward([review.customer_id]).get(review.customer_id, ({}, {}))
    form = {**sales_form, **judgement}
    if report.sales_amount:  # the year's sales are the best forecast of next year's purchases
        form["expected_annual_purchases"] = str(report.sales_amount)
    form["annual_review_report"] = {
        "id": report.pk,
        "year": report.year,
        "proposed_grade": report.proposed_grade,
        "proposed_limit": str(report.proposed_limit),
    }
    purpose = _("%(year)s年度年审：建议等级 %(grade)s，建议额度 %(limit)s 元。") % {
        "year": report.year,
        "grade": report.proposed_grade,
        "limit": report.proposed_limit,
    }
    if comment.strip():
        purpose = f"{purpose}\n{comment.strip()}"
    return workflow.create_review_application(
        review,
        user,
        requested_limit=report.proposed_limit,
        requested_term_days=_requested_term_days(report, line),
        evaluation_form=form,
        purpose=purpose,
        company=line.company if line else None,
    )


def on_granted(application: CreditApplication) -> None:
    """Called at the end of `workflow.grant`: a review's granted application completes it."""
    if not application.review_id:
        return
    review = CreditReview.objects.select_for_update().get(pk=application.review_id)
    if review.state in CLOSED:
        return
    step = application.steps.filter(action="grant").order_by("-at", "-id").first()
    review.state = ReviewState.DONE
    review.completed_by = step.actor if step else None
    review.completed_at = timezone.now()
    review.outcome = _("经申请 %(number)s 授信：等级 %(grade)s，额度 %(limit)s 元。") % {
        "number": application.number,
        "grade": application.approved_grade,
        "limit": application.approved_limit,
    }
    review.save()
    evaluation = application.evaluations.order_by("-created_at", "-id").first()
    report = AnnualReviewReport.objects.filter(review=review).first()
    if report is not None and evaluation is not None and report.evaluation_id is None:
        report.evaluation = evaluation
        report.save()
