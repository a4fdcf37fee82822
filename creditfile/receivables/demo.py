"""Demo receivables: a few dozen customers with invoices, payments and checked orders.

Written through the ledger and check services, so the exposure, the blocked-orders queue
and the days late are what real postings would give. Each customer draws from its own
generator seeded with (seed, credit code): the same demo every time.
"""

import datetime
import random
from decimal import Decimal

from creditfile.core.models import Company
from creditfile.credit.choices import LineStatus
from creditfile.credit.models import CreditLine
from creditfile.receivables.models import CreditControl
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.ledger import post_invoice, post_payment

CUSTOMERS = 40


def write_receivables_examples(seed: int, today: datetime.date, first_id: int) -> dict:
    """Ledgers for the first customers (from `first_id`) with an active line; returns counts."""
    company = Company.default()
    # A company tolerates a little overdue before it holds orders (R-19 during-deal control).
    CreditControl.objects.get_or_create(
        company=company,
        defaults={"overdue_tolerance_days": 15, "overdue_tolerance_amount": Decimal(20000)},
    )
    lines = (
        CreditLine.objects.filter(
            status=LineStatus.ACTIVE,
            company=company,
            customer_id__gte=first_id,
            cash_on_delivery=False,
            limit__gt=0,
        )
        .select_related("customer")
        .order_by("customer_id")[:CUSTOMERS]
    )
    counts = {"invoices": 0, "payments": 0, "released": 0, "blocked": 0}
    for line in lines:
        customer = line.customer
        dice = random.Random(f"{seed}-receivables-{customer.uscc}")
        invoices = []
        for number in range(dice.randint(3, 8)):
            day = today - datetime.timedelta(days=dice.randint(5, 180))
            amount = (line.limit * Decimal(dice.randint(5, 25)) / 100).quantize(Decimal(1))
            invoices.append((day, amount, f"DEMO-{customer.pk}-{number + 1}"))
        invoices.sort()
        for day, amount, number in invoices:
            post_invoice(customer, number, day, amount, company=company, source="demo")
            counts["invoices"] += 1
        habit = dice.random()  # most pay on time, some late, a few leave invoices open
        for index, (day, amount, number) in enumerate(invoices):
            due = day + datetime.timedelta(days=line.term_days)
            late = 0 if habit < 0.6 else dice.randint(1, 20 if habit < 0.85 else 75)
            paid_on = due + datetime.timedelta(days=late - dice.randint(0, 5))
            if paid_on > today or (habit > 0.95 and index == len(invoices) - 1):
                continue
            paid_on = max(paid_on, day)
            # Most pay in one go; some pay half first and the rest weeks later.
            instalments = [(paid_on, amount)]
            if dice.random() > 0.85:
                half = (amount / 2).quantize(Decimal(1))
                rest_on = paid_on + datetime.timedelta(days=dice.randint(15, 40))
                instalments = [(paid_on, half)] + (
                    [(rest_on, amount - half)] if rest_on <= today else []
                )
            for part, (on, paid) in enumerate(instalments):
                post_payment(
                    customer,
                    f"DEMO-PAY-{customer.pk}-{index + 1}-{part + 1}",
                    on,
                    paid,
                    reference=number,
                    company=company,
                    source="demo",
                )
                counts["payments"] += 1
        for index in range(dice.randint(1, 2)):
            size = dice.choice((Decimal("0.1"), Decimal("0.2"), Decimal("0.3"), Decimal("1.3")))
            result = check_credit(
                customer,
                (line.limit * size).quantize(Decimal(1)),
                f"DEMO-SO-{customer.pk}-{index + 1}",
                on_date=today,
                company=company,
                source="demo",
            )
            counts["released" if result.released else "blocked"] += 1
    return counts
