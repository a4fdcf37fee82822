"""Small builders for the review tests: lines, evaluations and payment summaries."""

import datetime
from decimal import Decimal

from creditfile.core.models import Company
from creditfile.credit.models import CreditLine, Evaluation, PaymentSummary
from creditfile.credit.services.policy import policy_in_force, scorecard_in_force


def make_line(customer, granted_by, valid_from, valid_until=None, grade="B", limit="300000"):
    return CreditLine.objects.create(
        customer=customer,
        company=Company.default(),
        grade=grade,
        limit=Decimal(limit),
        term_days=45,
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by=granted_by,
    )


def make_evaluation(customer, as_of: datetime.date, kind="application", grade="B"):
    return Evaluation.objects.create(
        customer=customer,
        kind=kind,
        scorecard=scorecard_in_force(as_of),
        policy=policy_in_force(as_of),
        as_of=as_of,
        sales_form={"industry_reputation": "good"},
        inputs={"industry_reputation": "good", "cooperation_attitude": "fair"},
        total_score=Decimal("70"),
        grade=grade,
        recommended_limit=Decimal("300000"),
    )


def make_summary(customer, period_end: datetime.date, **fields):
    fields.setdefault("sales_amount", Decimal("1200000"))
    fields.setdefault("payments_amount", Decimal("1100000"))
    fields.setdefault("invoices_settled", 40)
    fields.setdefault("invoices_paid_on_time", 36)
    fields.setdefault("average_days_late", Decimal("4.5"))
    fields.setdefault("max_days_late", 21)
    return PaymentSummary.objects.create(customer=customer, period_end=period_end, **fields)
