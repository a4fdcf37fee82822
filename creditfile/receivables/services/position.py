"""A customer's credit position 信用状况 with each selling company: what the credit check
would compare today, shown on the customer file before anyone enters an order.

The figures come from the same exposure rows and settings as `check_credit`, read
without the lock: a screen may be a moment old, a check never is.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from creditfile.core.fields import ZERO
from creditfile.core.models import Company
from creditfile.credit.models import CreditLine
from creditfile.credit.services.lines import available_limit, credit_line_for
from creditfile.receivables.models import Exposure, Invoice
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services.checks import control_for, counted_exposure, utilisation
from creditfile.receivables.services.habits import Habit, payment_habit


@dataclass
class Position:
    company: Company
    line: CreditLine | None
    limit: Decimal
    open_receivables: Decimal
    open_orders: Decimal
    overdue: exposures.Overdue
    counted: Decimal
    habit: Habit
    on_date: datetime.date

    @property
    def headroom(self) -> Decimal:
        return self.limit - self.counted

    @property
    def utilisation_percent(self) -> Decimal | None:
        return utilisation(self.counted, self.limit)

    @property
    def oldest_overdue_days(self) -> int:
        return self.overdue.days(self.on_date)


def companies_of(customer) -> list[Company]:
    """The selling companies the customer has a ledger or a line with, ours first."""
    with_ledger = Exposure.objects.filter(customer=customer).values("company_id")
    with_line = CreditLine.objects.filter(customer=customer).values("company_id")
    return list(Company.objects.filter(Q(pk__in=with_ledger) | Q(pk__in=with_line)))


def credit_position(customer, company: Company, on_date: datetime.date) -> Position:
    exposure = Exposure.objects.filter(customer=customer, company=company).first() or Exposure(
        customer=customer, company=company
    )
    line = credit_line_for(customer, on_date, company)
    overdue = exposures.overdue(customer.pk, company.pk, on_date)
    return Position(
        company=company,
        line=line,
        limit=available_limit(line, on_date) if line is not None else ZERO,
        open_receivables=exposure.open_receivables,
        open_orders=exposure.open_orders,
        overdue=overdue,
        counted=counted_exposure(exposure, control_for(company), overdue.amount),
        habit=payment_habit(customer.pk, company.pk, on_date),
        on_date=on_date,
    )


def open_invoices(customer, company: Company):
    return Invoice.objects.filter(customer=customer, company=company, open_base__gt=0).order_by(
        "due_date", "id"
    )
