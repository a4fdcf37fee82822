"""Credit lines: the one question every later control asks, `credit_line_for`.

The receivables issue's order check calls `available_limit`; nothing else should read
CreditLine rows to decide whether credit exists — except that check's one-query read
(receivables/services/check_facts.py), which spells out `lines_in_force`'s rule in SQL for
the hottest path and is held equal to it by its tests: change both together.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import ZERO
from creditfile.core.models import Company
from creditfile.credit.choices import ApplicationKind, ApplicationState, LineStatus
from creditfile.credit.models import CreditLine, CreditSecurity, TemporaryLimit
from creditfile.credit.services.errors import WorkflowError


def _valid_on(on_date: datetime.date) -> Q:
    return Q(valid_from__lte=on_date) & (Q(valid_until__isnull=True) | Q(valid_until__gte=on_date))


def credit_line_for(
    customer, on_date: datetime.date | None = None, company: Company | None = None
) -> CreditLine | None:
    """The customer's line with `company` (default: ours) in force on `on_date`, or None.

    A line that has expired, been revoked or superseded, or starts later, is no line:
    an order on credit must be refused (R-19 during-deal control, R-23 new customers).
    """
    on_date = on_date or timezone.localdate()
    company = company or Company.default()
    return (
        CreditLine.objects.filter(customer=customer, company=company, status=LineStatus.ACTIVE)
        .filter(_valid_on(on_date))
        .first()
    )


def group_line_for(customer, on_date: datetime.date | None = None) -> CreditLine | None:
    """The group-wide line over all our companies, if one is set."""
    on_date = on_date or timezone.localdate()
    return (
        CreditLine.objects.filter(customer=customer, company=None, status=LineStatus.ACTIVE)
        .filter(_valid_on(on_date))
        .first()
    )


def lines_in_force(
    customer, company: Company, on_date: datetime.date
) -> tuple[CreditLine | None, CreditLine | None]:
    """(the line with `company`, the group-wide line) in force, in one query: the same
    rule as `credit_line_for` and `group_line_for`, for the order check that asks both
    on every order. Each line comes with its temporary amount on that date."""
    line = group = None
    rows = (
        CreditLine.objects.filter(customer=customer, status=LineStatus.ACTIVE)
        .filter(Q(company=company) | Q(company__isnull=True))
        .filter(_valid_on(on_date))
        .annotate(temporary_on_date=_temporary_sum(on_date))
        .order_by("id")  # as .first() does, should two lines ever overlap
    )
    for row in rows:
        if row.company_id is None:
            group = group or row
        else:
            line = line or row
    return line, group


def _temporary_sum(on_date: datetime.date):
    return Subquery(
        TemporaryLimit.objects.filter(
            line=OuterRef("pk"), valid_from__lte=on_date, valid_until__gte=on_date
        )
        .order_by()
        .values("line")
        .annotate(total=Sum("amount"))
        .values("total")
    )


def temporary_amount(line: CreditLine, on_date: datetime.date) -> Decimal:
    """Temporary limits count only inside their period, so they expire by themselves."""
    if hasattr(line, "temporary_on_date"):  # read with the line (lines_in_force)
        return line.temporary_on_date or ZERO
    total = line.temporary_limits.filter(
        valid_from__lte=on_date, valid_until__gte=on_date
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def security_headroom(customer, on_date: datetime.date) -> Decimal:
    """What deposits, guarantees and insurance add, weighted by their coverage.
    `customer` may be the customer or its id."""
    securities = CreditSecurity.objects.filter(customer=customer).filter(_valid_on(on_date))
    return headroom_of((security.amount, security.coverage_percent) for security in securities)


def headroom_of(securities) -> Decimal:
    """The headroom of securities given as (amount, coverage percent) pairs."""
    total = ZERO
    for amount, coverage_percent in securities:
        total += (amount * coverage_percent / 100).quantize(Decimal("0.01"))
    return total


def available_limit(line: CreditLine, on_date: datetime.date | None = None) -> Decimal:
    """The limit the order check compares exposure with: line + temporary (+ security)."""
    from creditfile.credit.services.policy import terms_for

    on_date = on_date or timezone.localdate()
    if line.cash_on_delivery:
        return ZERO
    total = line.limit + temporary_amount(line, on_date)
    if line.policy_id:
        if hasattr(line, "security_counts_on_date"):  # read with the line (order check)
            counts = bool(line.security_counts_on_date)
        else:
            try:
                counts = terms_for(line.policy_id, line.grade).security_counts_as_headroom
            except WorkflowError:
                counts = False
        if counts:
            total += (
                line.security_headroom_on_date
                if hasattr(line, "security_headroom_on_date")
                else security_headroom(line.customer_id, on_date)
            )
    return total


@transaction.atomic
def grant_line(
    application,
    user,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
) -> CreditLine | TemporaryLimit:
    """Make an approved application's credit effective (step 6, 授信).

    The customer's previous line with the same company is superseded and kept as
    history; a temporary application adds a TemporaryLimit to the line in force.
    """
    from creditfile.credit.services.policy import policy_in_force, terms_for

    if application.state not in (ApplicationState.APPROVED, ApplicationState.PARTLY_APPROVED):
        raise WorkflowError(_("只有已批准的申请才能授信。"))
    valid_from = valid_from or timezone.localdate()
    if valid_until and valid_until < valid_from:
        raise WorkflowError(_("有效期至不能早于生效日期。"), "invalid", "valid_until")
    customer = application.customer
    if application.kind == ApplicationKind.TEMPORARY:
        line = credit_line_for(customer, valid_from, application.company)
        if line is None:
            raise WorkflowError(_("客户没有有效的授信额度，不能增加临时额度。"))
        until = valid_until or application.temporary_until
        if until is None:
            raise WorkflowError(_("临时额度必须有到期日期。"), "invalid", "valid_until")
        return TemporaryLimit.objects.create(
            line=line,
            amount=application.approved_limit,
            valid_from=valid_from,
            valid_until=until,
            application=application,
        )
    policy = policy_in_force(valid_from)
    terms = terms_for(policy, application.approved_grade)
    now = timezone.now()
    previous = CreditLine.objects.select_for_update().filter(
        customer=customer, company=application.company, status=LineStatus.ACTIVE
    )
    for old in previous:
        old.status = LineStatus.SUPERSEDED
        old.ended_at = now
        old.end_reason = str(_("被申请 %(number)s 的授信替代") % {"number": application.number})
        old.save(update_fields=["status", "ended_at", "end_reason", "scope"])
    line = CreditLine.objects.create(
        customer=customer,
        company=application.company,
        grade=application.approved_grade,
        limit=application.approved_limit,
        term_days=application.approved_term_days or terms.credit_term_days,
        discount_percent=terms.discount_percent,
        discount_days=terms.discount_days,
        cash_on_delivery=terms.cash_on_delivery,
        valid_from=valid_from,
        valid_until=valid_until,
        application=application,
        policy=policy,
        granted_by=user,
    )
    if customer.credit_grade != line.grade:
        customer.credit_grade = line.grade
        customer.save(update_fields=["credit_grade"])
    return line


def expire_lines(today: datetime.date | None = None) -> int:
    """Mark lines whose validity ended as expired (the daily job); returns how many."""
    today = today or timezone.localdate()
    lines = CreditLine.objects.filter(status=LineStatus.ACTIVE, valid_until__lt=today)
    count = 0
    for line in lines:
        line.status = LineStatus.EXPIRED
        line.ended_at = timezone.now()
        line.end_reason = str(_("有效期届满"))
        line.save(update_fields=["status", "ended_at", "end_reason", "scope"])
        count += 1
    return count
