"""Payment habits 付款习惯 (R-30): days late, share paid on time, DSO, the 12-month trend.

Computed from the ledger: an invoice's days late = settled date − due date (0 when on
time); averages are weighted by the invoice's amount, so one small late invoice does not
outweigh a large one paid on time. `summarise_month` writes the same figures as the
month's PaymentSummary, which scoring, sanction rules and annual reviews read (R-23, R-27):
the ledger replaces the ERP's aging import for every customer it has invoices for.

An invoice with a bad-debt write-off in force was not paid: it counts among the settled
invoices (settled the day it was written off, with the days late up to then) but never as
paid on time, so writing a debt off cannot improve the customer's record.
"""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Sum

from creditfile.core.fields import ZERO
from creditfile.core.models import Company
from creditfile.credit.models import PaymentSummary
from creditfile.receivables.choices import WriteOffStatus
from creditfile.receivables.models import Invoice, Payment, WriteOff
from creditfile.receivables.services.aging import open_on

TENTH = Decimal("0.1")


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_back(day: datetime.date, months: int) -> datetime.date:
    """The month end `months` before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return month_end(datetime.date(index // 12, index % 12 + 1, 1))


@dataclass
class Habit:
    period_start: datetime.date
    as_of: datetime.date
    invoices_settled: int = 0
    paid_on_time: int = 0
    weighted_days_late: Decimal | None = None
    max_days_late: int = 0
    times_late_over_30: int = 0
    times_late_over_90: int = 0
    sales: Decimal = ZERO
    payments: Decimal = ZERO
    open_receivables: Decimal = ZERO
    overdue: Decimal = ZERO
    dso: Decimal | None = None
    trend: list[tuple[datetime.date, Decimal | None, int]] = field(default_factory=list)

    @property
    def on_time_share(self) -> Decimal | None:
        if not self.invoices_settled:
            return None
        return (Decimal(self.paid_on_time) * 100 / self.invoices_settled).quantize(TENTH)


def _weighted(rows) -> Decimal | None:
    total = sum((amount for amount, _late in rows), ZERO)
    if not total:
        return None
    return (sum((amount * late for amount, late in rows), ZERO) / total).quantize(
        TENTH, ROUND_HALF_UP
    )


def payment_habit(customer_id: int, company_id: int, as_of: datetime.date, months=12) -> Habit:
    """The customer's habits over the `months` whole months up to `as_of`'s month end."""
    start = months_back(as_of, months) + datetime.timedelta(days=1)
    habit = Habit(period_start=start, as_of=as_of)
    invoices = Invoice.objects.filter(customer_id=customer_id, company_id=company_id)
    written_off = WriteOff.objects.filter(invoice=OuterRef("pk"), status=WriteOffStatus.APPROVED)
    settled = list(
        invoices.filter(settled_on__gte=start, settled_on__lte=as_of)
        .annotate(written_off=Exists(written_off))
        .values_list("base_amount", "due_date", "settled_on", "written_off")
    )
    by_month: dict = {}
    rows = []
    for amount, due, paid, bad_debt in settled:
        late = max((paid - due).days, 0)
        rows.append((amount, late))
        by_month.setdefault(month_end(paid), []).append((amount, late))
        habit.paid_on_time += late == 0 and not bad_debt
        habit.max_days_late = max(habit.max_days_late, late)
        habit.times_late_over_30 += late > 30
        habit.times_late_over_90 += late > 90
    habit.invoices_settled = len(rows)
    habit.weighted_days_late = _weighted(rows)
    habit.sales = (
        invoices.filter(invoice_date__gte=start, invoice_date__lte=as_of).aggregate(
            total=Sum("base_amount")
        )["total"]
        or ZERO
    )
    habit.payments = (
        Payment.objects.filter(
            customer_id=customer_id,
            company_id=company_id,
            received_on__gte=start,
            received_on__lte=as_of,
        ).aggregate(total=Sum("base_amount"))["total"]
        or ZERO
    )
    still_open = _open_on(customer_id, company_id, as_of)
    habit.open_receivables = sum((amount for amount, _due in still_open), ZERO)
    habit.overdue = sum((amount for amount, due in still_open if due < as_of), ZERO)
    days = (as_of - start).days + 1
    if habit.sales:
        habit.dso = (habit.open_receivables * days / habit.sales).quantize(TENTH, ROUND_HALF_UP)
    for back in range(months - 1, -1, -1):
        end = months_back(as_of, back)
        month = by_month.get(end, [])
        habit.trend.append((end, _weighted(month), len(month)))
    return habit


def _open_on(customer_id: int, company_id: int, as_of: datetime.date) -> list:
    """(amount still open on `as_of`, due date) of every invoice issued by then."""
    invoices = Invoice.objects.filter(customer_id=customer_id, company_id=company_id)
    return [
        (open_at, due)
        for open_at, due in open_on(invoices, as_of).values_list("open_at", "due_date")
        if open_at > 0
    ]


@transaction.atomic
def summarise_month(period_end: datetime.date, company: Company | None = None) -> int:
    """The month's PaymentSummary (source "ledger") for every customer with invoices in
    the ledger; run again, it updates the same rows. Returns how many were written."""
    company = company or Company.default()
    customers = (
        Invoice.objects.filter(company=company, invoice_date__lte=period_end)
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()
    )
    written = 0
    for customer_id in customers:
        habit = payment_habit(customer_id, company.pk, period_end)
        PaymentSummary.objects.update_or_create(
            customer_id=customer_id,
            period_end=period_end,
            defaults={
                "sales_amount": habit.sales,
                "payments_amount": habit.payments,
                "invoices_settled": habit.invoices_settled,
                "invoices_paid_on_time": habit.paid_on_time,
                "average_days_late": habit.weighted_days_late or ZERO,
                "max_days_late": habit.max_days_late,
                "times_late_over_30": habit.times_late_over_30,
                "times_late_over_90": habit.times_late_over_90,
                "overdue_amount": habit.overdue,
                "source": "ledger",
            },
        )
        written += 1
    return written
