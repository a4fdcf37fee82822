"""Payment habits from the ledger, and the monthly summary the sanction rules read."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from creditfile.core.models import Company
from creditfile.credit.models import PaymentSummary
from creditfile.receivables.services.habits import months_back, payment_habit, summarise_month
from creditfile.receivables.services.ledger import post_invoice, post_payment
from creditfile.receivables.testing import credit_customer

D = datetime.date


@pytest.fixture
def customer(org):
    """Three invoices due 31 Mar, 30 Apr and 31 May: paid 0, 12 and 45 days late; one open."""
    customer = credit_customer(org.cathy, "500000", term_days=30)
    post_invoice(customer, "INV-1", D(2026, 3, 1), "1000", due_date=D(2026, 3, 31))
    post_invoice(customer, "INV-2", D(2026, 3, 31), "3000", due_date=D(2026, 4, 30))
    post_invoice(customer, "INV-3", D(2026, 5, 1), "1000", due_date=D(2026, 5, 31))
    post_invoice(customer, "INV-4", D(2026, 6, 1), "2000", due_date=D(2026, 6, 20))
    post_payment(customer, "P-1", D(2026, 3, 31), "1000", reference="INV-1")
    post_payment(customer, "P-2", D(2026, 5, 12), "3000", reference="INV-2")
    post_payment(customer, "P-3", D(2026, 7, 15), "1000", reference="INV-3")
    return customer


def test_the_habit_weighs_days_late_by_amount(customer):
    habit = payment_habit(customer.pk, Company.default().pk, D(2026, 7, 31))

    assert (habit.invoices_settled, habit.paid_on_time) == (3, 1)
    # (1000 × 0 + 3000 × 12 + 1000 × 45) / 5000 = 16.2
    assert habit.weighted_days_late == Decimal("16.2")
    assert habit.on_time_share == Decimal("33.3")
    assert (habit.max_days_late, habit.times_late_over_30, habit.times_late_over_90) == (45, 1, 0)
    assert (habit.sales, habit.payments) == (Decimal("7000.00"), Decimal("5000.00"))
    assert (habit.open_receivables, habit.overdue) == (Decimal("2000.00"), Decimal("2000.00"))
    # DSO: 2,000 open / 7,000 sales × 365 days (Aug 2025 – Jul 2026)
    assert habit.dso == Decimal("104.3")
    assert habit.trend[-1] == (D(2026, 7, 31), Decimal("45.0"), 1)
    assert habit.trend[-3] == (D(2026, 5, 31), Decimal("12.0"), 1)
    assert habit.trend[-4] == (D(2026, 4, 30), None, 0)


def test_it_sees_the_ledger_as_it_was_on_an_earlier_date(customer):
    habit = payment_habit(customer.pk, Company.default().pk, D(2026, 6, 30))
    assert habit.invoices_settled == 2
    # INV-3 (paid only in July) and INV-4 were open and overdue at 30 June
    assert (habit.open_receivables, habit.overdue) == (Decimal("3000.00"), Decimal("3000.00"))


def test_the_monthly_summary_is_written_once_per_customer_and_month(customer):
    assert summarise_month(D(2026, 7, 31)) == 1
    post_payment(customer, "P-4", D(2026, 7, 20), "2000", reference="INV-4")  # 30 days late
    assert summarise_month(D(2026, 7, 31)) == 1

    summary = PaymentSummary.objects.get(customer=customer, period_end=D(2026, 7, 31))
    assert summary.source == "ledger"
    assert (summary.invoices_settled, summary.invoices_paid_on_time) == (4, 1)
    assert summary.average_days_late == Decimal("20.1")  # (36,000 + 45,000 + 60,000) / 7,000
    assert (summary.max_days_late, summary.times_late_over_30) == (45, 1)
    assert summary.overdue_amount == 0


def test_the_daily_job_summarises_last_month_before_the_sanction_rules(customer, capsys):
    call_command("daily", today=D(2026, 8, 3))
    assert PaymentSummary.objects.filter(
        customer=customer, period_end=months_back(D(2026, 8, 3), 1), source="ledger"
    ).exists()
    line = next(x for x in capsys.readouterr().out.splitlines() if "from the ledger" in x)
    assert line.startswith("付款记录汇总 Payment summaries from the ledger (2026-07-31)")
    assert line.split()[-1] == "1"
