"""The rescore batch: every customer we give credit to, scored again in bulk."""

import datetime
import types
from decimal import Decimal

import pytest

from creditfile.core.models import Company
from creditfile.credit.models import (
    CreditLine,
    Evaluation,
    GradeChangeProposal,
    PaymentSummary,
    SanctionRule,
)
from creditfile.credit.services import rescore, scoring
from creditfile.credit.services.scoring import stored_factors
from creditfile.credit.services.scoring_inputs import gather_inputs
from creditfile.credit.tests.test_scoring import AS_OF, JUDGEMENT, example_customer
from creditfile.customers.testing import make_customer


def line(customer, org, grade, limit):
    return CreditLine.objects.create(
        customer=customer,
        company=Company.default(),
        grade=grade,
        limit=Decimal(limit),
        term_days=30,
        valid_from=datetime.date(2026, 1, 1),
        granted_by=org.cathy,
    )


@pytest.fixture
def book(org):
    """Five customers: two active without a line, a dormant one with a line, a prospect."""
    bare = make_customer("空白商贸有限公司", lifecycle="active")
    steady = example_customer(org)
    steady.lifecycle = "active"
    steady.credit_grade = "B"
    steady.save()
    line(steady, org, "B", "1668000")
    dormant = make_customer("沉睡实业有限公司", lifecycle="dormant", credit_grade="A")
    line(dormant, org, "A", "3000000")
    grown = example_customer(org)
    grown.lifecycle = "active"
    grown.credit_grade = "B"
    grown.save()
    line(grown, org, "B", "1000000")
    prospect = make_customer("潜在客户有限公司", lifecycle="prospect")
    return types.SimpleNamespace(
        bare=bare, steady=steady, dormant=dormant, grown=grown, prospect=prospect
    )


def proposals_by_customer():
    return {p.customer_id: p for p in GradeChangeProposal.objects.all()}


def test_it_scores_every_customer_we_give_credit_to_and_proposes_the_changes(org, book):
    result = rescore.rescore_all(AS_OF, org.cathy)

    assert result.customers == result.evaluations == 4
    evaluations = {e.customer_id: e for e in Evaluation.objects.filter(kind="rescore")}
    assert set(evaluations) == {book.bare.pk, book.steady.pk, book.dormant.pk, book.grown.pk}
    # The worked example without judgement inputs: 75.40 − 6.00 − 3.00 + 2×50×… → see below.
    steady = evaluations[book.steady.pk]
    # industry reputation and cooperation missing: 6.00 → 50×6% = 3.00, 3.00 → 50×5% = 2.50
    # 75.40 − 3.00 − 0.50 = 71.90 → B, limit 20% × 8,340,000 = 1,668,000
    assert (steady.total_score, steady.grade) == (Decimal("71.90"), "B")
    assert steady.recommended_limit == Decimal("1668000.00")
    assert steady.scored_by == org.cathy
    assert steady.scorecard.version == 1
    assert len(steady.factor_scores) == 16
    assert sum(f.weighted for f in stored_factors(steady)) == Decimal("71.90")
    assert evaluations[book.bare.pk].grade == "D"  # nothing on file: 34.60

    proposals = proposals_by_customer()
    assert set(proposals) == {book.bare.pk, book.dormant.pk, book.grown.pk}
    assert result.proposals == 3
    dormant = proposals[book.dormant.pk]
    assert (dormant.from_grade, dormant.to_grade) == ("A", "D")
    assert (dormant.from_limit, dormant.to_limit) == (Decimal("3000000.00"), Decimal("0.00"))
    assert dormant.cash_on_delivery
    assert dormant.source == "rescore"
    assert dormant.evaluation == evaluations[book.dormant.pk]
    grown = proposals[book.grown.pk]  # same grade, limit 1,668,000 vs 1,000,000 (> 10%)
    assert (grown.from_grade, grown.to_grade) == ("B", "B")
    assert grown.to_limit == Decimal("1668000.00")
    bare = proposals[book.bare.pk]  # never graded, no line
    assert (bare.from_grade, bare.to_grade, bare.from_limit) == ("", "D", None)


def test_it_reads_the_same_inputs_as_a_single_evaluation(org, book):
    rescore.rescore_all(AS_OF)

    for customer in (book.steady, book.bare, book.dormant):
        saved = Evaluation.objects.get(customer=customer, kind="rescore")
        assert saved.inputs == gather_inputs(customer, AS_OF)


def test_it_carries_forward_finances_judgement_from_the_last_full_evaluation(org, book):
    scoring.evaluate_and_save(
        book.steady, kind="application", judgement=JUDGEMENT, sales_form={}, as_of=AS_OF
    )

    rescore.rescore_all(AS_OF)

    saved = Evaluation.objects.get(customer=book.steady, kind="rescore")
    assert saved.inputs["industry_reputation"] == "good"
    assert saved.total_score == Decimal("75.40")  # the worked example exactly


def test_it_does_not_repeat_an_undecided_proposal(org, book):
    rescore.rescore_all(AS_OF)

    again = rescore.rescore_all(AS_OF)

    assert again.evaluations == 4
    assert again.proposals == 0
    assert GradeChangeProposal.objects.count() == 3
    assert Evaluation.objects.filter(kind="rescore").count() == 8


def test_it_proposes_what_the_sanction_rules_say(org, book):
    PaymentSummary.objects.filter(
        customer=book.steady, period_end=datetime.date(2026, 5, 31)
    ).update(times_late_over_90=1, max_days_late=120)

    result = rescore.rescore_all(AS_OF)

    # Default rules: > 90 days → D (and > 30 days once → one grade down; D is harsher).
    # D is cash on delivery with a cap of 0.
    assert result.sanction_proposals == 1
    proposal = GradeChangeProposal.objects.get(source="sanction")
    assert proposal.customer == book.steady
    assert proposal.rule == SanctionRule.objects.get(days_late_over=90)
    assert (proposal.from_grade, proposal.to_grade) == ("B", "D")
    assert (proposal.from_limit, proposal.to_limit) == (Decimal("1668000.00"), Decimal("0.00"))
    assert proposal.cash_on_delivery
    assert proposal.evaluation == Evaluation.objects.get(customer=book.steady)
    # The scorecard alone keeps B: the sanction is a separate proposal.
    assert not GradeChangeProposal.objects.filter(customer=book.steady, source="rescore").exists()

    again = rescore.rescore_all(AS_OF)

    assert again.sanction_proposals == 0
    assert GradeChangeProposal.objects.filter(source="sanction").count() == 1
