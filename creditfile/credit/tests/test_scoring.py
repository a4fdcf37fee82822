"""The scorecard (R-23): points, totals, grades, standards, limits and saved evaluations."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from creditfile.credit.choices import Direction, LimitBasis, VersionStatus
from creditfile.credit.defaults import policy as default_policy
from creditfile.credit.defaults import scorecard as default_scorecard
from creditfile.credit.models import (
    CreditSecurity,
    Evaluation,
    ExternalRating,
    GradeTerms,
    PaymentSummary,
    Scorecard,
    ScorecardFactor,
)
from creditfile.credit.services import policy as policy_service
from creditfile.credit.services import scoring
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.services.scoring_inputs import gather_inputs
from creditfile.customers.models import FinancialStatement, Guarantee
from creditfile.customers.testing import make_customer

AS_OF = datetime.date(2026, 6, 30)


def default_terms():
    return [GradeTerms(**terms) for terms in default_policy.GRADES]


def default_engine():
    return scoring.Engine(
        default_scorecard.factor_objects(), default_scorecard.GRADE_BANDS, default_terms()
    )


def example_inputs(**changes):
    """The worked example of docs/credit-policy.md."""
    inputs = {
        "average_days_late": "5.0",
        "on_time_share": "90.0",
        "times_late_over_30": 0,
        "external_rating_score": None,
        "current_ratio": "1.60",
        "debt_ratio": "58.30",
        "net_margin": "6.00",
        "equity": "8000000.00",
        "registered_capital": "5000000.00",
        "security_total": "0.00",
        "industry_reputation": "good",
        "cooperation_attitude": "fair",
        "management_quality": None,
        "years_in_business": "6.5",
        "months_trading": 30,
        "annual_sales": "12000000.00",
        "statement_audited": False,
        "expected_annual_purchases": None,
    }
    inputs.update(changes)
    return inputs


def by_code(rows):
    return {row.code: row for row in rows}


# --- the default scorecard, by hand ----------------------------------------------------


def test_it_scores_the_worked_example_as_computed_by_hand():
    # points × weight / 100, factor by factor:
    #   average_days_late 5.0 → 1–10 band 85 × 14% = 11.90
    #   on_time_share 90%     → 85–95   80 × 10% =  8.00
    #   times_late_over_30 0  → <1     100 ×  8% =  8.00
    #   external rating none  → missing 50 ×  3% =  1.50
    #   current_ratio 1.60    → 1.5–2   80 ×  6% =  4.80
    #   debt_ratio 58.3%      → 50–60   60 ×  7% =  4.20
    #   net_margin 6%         → 5–10    80 ×  5% =  4.00
    #   equity 800万          → 500–1000万 85 × 8% = 6.80
    #   registered capital 500万 → 500–1000万 80 × 4% = 3.20
    #   security 0            → <0.01    0 ×  5% =  0.00
    #   industry reputation good        100 ×  6% =  6.00
    #   cooperation fair                 60 ×  5% =  3.00
    #   management quality none → missing 50 × 4% =  2.00
    #   years 6.5             → 5–10    80 ×  6% =  4.80
    #   months trading 30     → 24–36   80 ×  4% =  3.20
    #   annual sales 1200万   → 1000–5000万 80 × 5% = 4.00
    #   total 75.40 → B (65 ≤ 75.40 < 80)
    rows, total, grade = default_engine().score(example_inputs())

    assert total == Decimal("75.40")
    assert grade == "B"
    debt = by_code(rows)["debt_ratio"]
    assert (debt.points, debt.weighted) == (Decimal(60), Decimal("4.20"))
    assert debt.reason == "资产负债率 58.3%，落在 50–60% 档，得 60 分"
    assert by_code(rows)["equity"].reason == "净资产 800万元，落在 500万–1000万元 档，得 85 分"
    assert by_code(rows)["cooperation_attitude"].reason == "合作态度 一般，得 60 分"
    assert sum(row.weight for row in rows) == 100


def test_it_gives_missing_points_and_says_so_when_an_input_is_missing():
    rows, total, _grade = default_engine().score(example_inputs(debt_ratio=None))

    debt = by_code(rows)["debt_ratio"]
    assert debt.missing
    assert debt.points == Decimal(30)
    assert debt.reason == "缺少资料"
    assert debt.input_value == "缺少资料"
    # 75.40 − 4.20 + 30 × 7% = 73.30
    assert total == Decimal("73.30")


def test_it_scores_a_customer_with_no_facts_at_all_from_missing_points():
    rows, total, grade = default_engine().score({})

    # Σ missing_points × weight / 100 = 50×14 + 50×10 + 50×8 + 50×3 + 30×6 + 30×7 + 30×5
    #   + 20×8 + 20×4 + 0×5 + 50×6 + 50×5 + 50×4 + 0×6 + 20×4 + 20×5, / 100
    #   = (700+500+400+150+180+210+150+160+80+0+300+250+200+0+80+100) / 100 = 34.60
    assert total == Decimal("34.60")
    assert grade == "D"
    assert all(row.missing for row in rows)


@pytest.mark.parametrize(
    ("total", "grade"),
    [("100", "A"), ("80.00", "A"), ("79.99", "B"), ("65", "B"), ("64.99", "C"), ("50", "C")]
    + [("49.99", "D"), ("0", "D")],
)
def test_it_maps_the_total_to_the_grade_bands(total, grade):
    assert default_engine().grade_for(Decimal(total)) == grade


def test_it_gives_the_lowest_grade_below_every_band():
    engine = scoring.Engine([], [{"grade": "A", "min_score": 80}, {"grade": "B", "min_score": 40}])

    assert engine.grade_for(Decimal("12")) == "B"


# --- standards -----------------------------------------------------------------------------


def test_it_moves_down_to_the_best_grade_whose_standard_is_met():
    # The example improved: rating 90 (+1.50), security 150万 (+5.00), management good
    # (+2.00), cooperation good (+2.00): 75.40 + 10.50 = 85.90 → A by score. A needs an
    # audited statement; B's standard (2 years, debt ≤ 70%) is met → B.
    inputs = example_inputs(
        external_rating_score="90",
        security_total="1500000.00",
        management_quality="good",
        cooperation_attitude="good",
    )
    outcome = default_engine().evaluate(inputs)

    assert outcome.total_score == Decimal("85.90")
    assert outcome.scored_grade == "A"
    assert outcome.grade == "B"
    assert [(f["grade"], f["condition"]) for f in outcome.standard_failures] == [
        ("A", "requires_audited_statement")
    ]
    assert "未达到信用标准" in outcome.limit_explanation
    # B: 20% of net worth 800万 = 160万 (cap 200万)
    assert outcome.recommended_limit == Decimal("1600000.00")


def test_it_lists_every_failed_standard_on_the_way_down():
    # debt 75% scores 20 × 7% = 1.40 instead of 4.20: 85.90 − 2.80 = 83.10 → A by score;
    # A fails (debt > 60, not audited), B fails (debt > 70), C (1 year) is met.
    inputs = example_inputs(
        external_rating_score="90",
        security_total="1500000.00",
        management_quality="good",
        cooperation_attitude="good",
        debt_ratio="75.00",
    )
    outcome = default_engine().evaluate(inputs)

    assert outcome.total_score == Decimal("83.10")
    assert outcome.grade == "C"
    assert [(f["grade"], f["condition"]) for f in outcome.standard_failures] == [
        ("A", "max_debt_ratio"),
        ("A", "requires_audited_statement"),
        ("B", "max_debt_ratio"),
    ]
    assert outcome.standard_failures[0]["text"] == "A级标准：资产负债率不高于 60%；实际：75%"
    assert outcome.recommended_limit == Decimal("200000.00")  # C: fixed


def test_it_counts_a_missing_fact_as_a_standard_not_met():
    terms = [
        GradeTerms(grade="A", rank=1, conditions={"max_average_days_late": 10}),
        GradeTerms(grade="B", rank=2, conditions={}),
    ]
    engine = scoring.Engine([], [{"grade": "A", "min_score": 0}], terms)

    assert engine.apply_standards("A", {"average_days_late": None})[0] == "B"
    assert engine.apply_standards("A", {"average_days_late": "10"})[0] == "A"
    assert engine.apply_standards("A", {"average_days_late": "10.1"})[0] == "B"


# --- limits --------------------------------------------------------------------------------


def limit_for(grade, **inputs):
    return default_engine().recommended_limit(grade, inputs)


def test_it_computes_a_net_worth_limit_rounded_down_to_thousands():
    limit, explanation = limit_for("A", equity="3333333.33")

    # 30% × 3,333,333.33 = 999,999.999 (shown to the cent, rounded down) → 999,000
    assert limit == Decimal("999000.00")
    assert "3,333,333.33 元 × 30% = 999,999.99 元" in explanation
    assert explanation.endswith("按千元向下取整：999,000 元")


def test_it_caps_the_limit_at_the_grade_maximum():
    limit, explanation = limit_for("A", equity="20000000.00")

    # 30% × 2,000万 = 600万 > cap 500万
    assert limit == Decimal("5000000.00")
    assert "不超过上限 5,000,000.00 元" in explanation


def test_it_falls_back_to_the_default_limit_when_the_basis_is_missing():
    limit, explanation = limit_for("B", equity=None)

    assert limit == Decimal("500000.00")
    assert "缺少该资料" in explanation


def test_it_gives_no_credit_to_a_negative_net_worth_or_a_cash_on_delivery_grade():
    assert limit_for("A", equity="-100000.00")[0] == Decimal("0.00")
    assert limit_for("D", equity="90000000.00")[0] == Decimal("0")


def test_it_computes_a_share_of_expected_purchases():
    terms = GradeTerms(
        grade="E",
        rank=1,
        limit_basis=LimitBasis.EXPECTED_PURCHASES,
        limit_rate=Decimal("25"),
        default_limit=Decimal("100000"),
        max_limit=None,
    )
    engine = scoring.Engine([], [], [terms])

    # 25% × 1,234,567.00 = 308,641.75 → 308,000; no cap
    assert engine.recommended_limit("E", {"expected_annual_purchases": "1234567.00"})[0] == (
        Decimal("308000.00")
    )
    assert engine.recommended_limit("E", {})[0] == Decimal("100000.00")


# --- monotone factors ----------------------------------------------------------------------

MONOTONE = [f for f in default_scorecard.factor_objects() if f.direction != Direction.CATEGORY]
VALUES = st.decimals(min_value=-1000, max_value=200_000_000, places=2)


@settings(max_examples=300, deadline=None)
@given(
    factor_index=st.integers(min_value=0, max_value=len(MONOTONE) - 1),
    a=VALUES,
    b=VALUES,
    others=st.dictionaries(st.sampled_from([f.input_key for f in MONOTONE]), VALUES),
)
def test_it_never_scores_a_better_input_lower(factor_index, a, b, others):
    factor = MONOTONE[factor_index]
    worse, better = sorted([a, b])
    if factor.direction == Direction.LOWER_BETTER:
        worse, better = better, worse
    engine = default_engine()
    compiled = scoring.CompiledFactor(factor)

    assert compiled.score(better)[0].points >= compiled.score(worse)[0].points
    base = example_inputs(**{key: str(value) for key, value in others.items()})
    total_worse = engine.score({**base, factor.input_key: str(worse)})[1]
    total_better = engine.score({**base, factor.input_key: str(better)})[1]
    assert total_better >= total_worse


def test_the_default_scorecard_is_valid_and_its_bands_move_one_way():
    class Version:
        grade_bands = default_scorecard.GRADE_BANDS

        class factors:  # noqa: N801 – stands in for the related manager
            @staticmethod
            def all():
                return default_scorecard.factor_objects()

    scoring.validate_scorecard(Version)


# --- validation on activation --------------------------------------------------------------


@pytest.fixture
def draft(db):
    current = Scorecard.objects.get(version=1)
    return policy_service.new_draft_from(current, None)


def test_it_refuses_to_activate_a_scorecard_whose_weights_do_not_sum_to_100(org, draft):
    draft.factors.filter(code="debt_ratio").update(weight=Decimal("8"))

    with pytest.raises(WorkflowError, match="权重之和应为100，现为 101"):
        policy_service.activate(draft, org.cathy, AS_OF)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_it_refuses_bands_that_score_a_better_value_lower(org, draft):
    factor = draft.factors.get(code="current_ratio")
    factor.bands = [{"min": None, "max": 1, "points": 100}, {"min": 1, "max": None, "points": 50}]
    factor.save()

    with pytest.raises(WorkflowError, match="越高越好"):
        policy_service.activate(draft, org.cathy, AS_OF)


def test_it_refuses_bands_with_a_gap(org, draft):
    factor = draft.factors.get(code="current_ratio")
    factor.bands = [{"min": None, "max": 1, "points": 0}, {"min": 2, "max": None, "points": 50}]
    factor.save()

    with pytest.raises(WorkflowError, match="首尾相接"):
        policy_service.activate(draft, org.cathy, AS_OF)


def test_it_activates_a_valid_draft(org, draft):
    policy_service.activate(draft, org.cathy, AS_OF)

    assert policy_service.scorecard_in_force(AS_OF) == draft


# --- gathering and saving -------------------------------------------------------------------


def example_customer(org):
    customer = make_customer(
        registered_capital=Decimal("5000000"),
        employees=80,
        annual_sales=Decimal("12000000"),
        established_on=datetime.date(2019, 12, 31),  # 6 years 6 months before AS_OF
        first_trade_on=datetime.date(2023, 12, 15),  # 30 whole months
    )
    common = {"customer": customer, "source": "customer"}
    FinancialStatement.objects.create(
        period_end=datetime.date(2025, 12, 31),
        audited=False,
        current_assets=Decimal("8000000"),
        current_liabilities=Decimal("5000000"),
        inventory=Decimal("1000000"),
        total_assets=Decimal("20000000"),
        total_liabilities=Decimal("11660000"),
        equity=Decimal("8340000"),
        revenue=Decimal("12000000"),
        net_profit=Decimal("720000"),
        **common,
    )
    FinancialStatement.objects.create(  # after as_of: not yet known then
        period_end=datetime.date(2026, 12, 31),
        audited=True,
        current_assets=Decimal("1"),
        current_liabilities=Decimal("1"),
        total_assets=Decimal("10"),
        total_liabilities=Decimal("9"),
        equity=Decimal("1"),
        revenue=Decimal("1"),
        net_profit=Decimal("0"),
        **common,
    )
    PaymentSummary.objects.create(
        customer=customer,
        period_end=datetime.date(2026, 5, 31),
        invoices_settled=20,
        invoices_paid_on_time=18,
        average_days_late=Decimal("5.0"),
        max_days_late=25,
    )
    PaymentSummary.objects.create(  # older: not the latest
        customer=customer,
        period_end=datetime.date(2026, 4, 30),
        invoices_settled=20,
        invoices_paid_on_time=2,
        average_days_late=Decimal("80"),
    )
    ExternalRating.objects.create(  # older than 18 months: ignored
        customer=customer, agency="某资信", rated_on=datetime.date(2024, 12, 29), score=95
    )
    return customer


JUDGEMENT = {"industry_reputation": "good", "cooperation_attitude": "fair"}


def test_it_gathers_the_inputs_as_of_a_date(org):
    customer = example_customer(org)
    Guarantee.objects.create(customer=customer, source="customer", kind="deposit", value=1000)
    Guarantee.objects.create(
        customer=customer,
        source="customer",
        kind="guarantee",
        value=5000,
        valid_until=datetime.date(2026, 6, 29),  # expired the day before
    )
    CreditSecurity.objects.create(
        customer=customer,
        kind="insurance",
        provider="某保险公司",
        amount=Decimal("10000"),
        coverage_percent=Decimal("90"),
        valid_from=datetime.date(2026, 1, 1),
    )

    inputs = gather_inputs(customer, AS_OF, JUDGEMENT, {"management_quality": "poor"})

    assert inputs["years_in_business"] == "6.5"
    assert inputs["months_trading"] == 30
    assert inputs["debt_ratio"] == "58.30"
    assert inputs["current_ratio"] == "1.60"
    assert inputs["quick_ratio"] == "1.40"
    assert inputs["net_margin"] == "6.00"
    assert inputs["equity"] == "8340000.00"
    assert inputs["statement_period_end"] == "2025-12-31"
    assert inputs["statement_audited"] is False
    assert inputs["average_days_late"] == "5.0"
    assert inputs["on_time_share"] == "90.0"
    assert inputs["external_rating_score"] is None
    assert inputs["security_total"] == "10000.00"  # 1,000 + 90% × 10,000
    assert inputs["management_quality"] == "poor"  # from the sales form
    assert inputs["industry_reputation"] == "good"


def test_it_refuses_a_judgement_outside_the_bands(org):
    customer = make_customer()

    with pytest.raises(WorkflowError) as error:
        gather_inputs(customer, AS_OF, {"industry_reputation": "excellent"})
    assert error.value.field == "industry_reputation"


@time_machine.travel(datetime.datetime(2026, 6, 30, 10, 0), tick=False)
def test_it_saves_the_evaluation_with_inputs_factors_and_versions(org):
    customer = example_customer(org)

    evaluation = scoring.evaluate_and_save(
        customer,
        kind="application",
        sales_form={"notes": "客户经营稳定"},
        judgement=JUDGEMENT,
        filled_by=org.alice,
        scored_by=org.fiona,
        review_comment="同意",
    )

    # Same points as the worked example (净资产 834万 is in the same band): 75.40 → B;
    # B limit 20% × 8,340,000 = 1,668,000.
    evaluation.refresh_from_db()
    assert evaluation.as_of == AS_OF
    assert evaluation.total_score == Decimal("75.40")
    assert evaluation.grade == "B"
    assert evaluation.recommended_limit == Decimal("1668000.00")
    assert evaluation.scorecard.version == 1
    assert evaluation.policy.version == 1
    assert evaluation.inputs["debt_ratio"] == "58.30"
    assert evaluation.sales_form == {"notes": "客户经营稳定"}
    assert evaluation.standard_failures == []
    factors = {f.code: f for f in scoring.stored_factors(evaluation)}
    assert len(factors) == 16
    assert factors["debt_ratio"].weighted == Decimal("4.20")
    assert factors["debt_ratio"].input_value == "58.3%"
    assert sum(f.weighted for f in factors.values()) == Decimal("75.40")


@time_machine.travel(datetime.datetime(2026, 6, 30, 10, 0), tick=False)
def test_an_old_evaluation_keeps_its_scorecard_version_after_a_new_one(org):
    customer = example_customer(org)
    first = scoring.evaluate_and_save(
        customer, kind="application", judgement=JUDGEMENT, sales_form={}
    )
    draft = policy_service.new_draft_from(Scorecard.objects.get(version=1), org.cathy)
    draft.factors.filter(code="debt_ratio").update(weight=Decimal("17"))
    draft.factors.filter(code="average_days_late").update(weight=Decimal("4"))
    policy_service.activate(draft, org.cathy, AS_OF)

    second = scoring.evaluate_and_save(
        customer, kind="application", judgement=JUDGEMENT, sales_form={}
    )

    # v2: debt 60 × 17% = 10.20 (was 4.20), days late 85 × 4% = 3.40 (was 11.90):
    # 75.40 + 6.00 − 8.50 = 72.90
    assert second.scorecard == draft
    assert second.total_score == Decimal("72.90")
    first.refresh_from_db()
    assert first.scorecard.version == 1
    assert first.total_score == Decimal("75.40")
    assert {f.code: f for f in scoring.stored_factors(first)}["debt_ratio"].weight == 7
    assert ScorecardFactor.objects.get(scorecard__version=1, code="debt_ratio").weight == 7


@time_machine.travel(datetime.datetime(2026, 6, 30, 10, 0), tick=False)
def test_a_saved_evaluation_reads_back_exactly_the_rows_it_was_scored_with(org):
    customer = example_customer(org)
    scored = scoring.evaluate(customer, judgement=JUDGEMENT, sales_form={})

    saved = scoring.evaluate_and_save(customer, kind="application", judgement=JUDGEMENT)
    saved = Evaluation.objects.get(pk=saved.pk)

    assert saved.factor_scores == scoring.stored_scores(scored.factors)
    assert saved.factor_scores[0] == ["average_days_late", 1, "85"]  # 5 days: 0–10, 2nd band
    assert scoring.stored_factors(saved) == scored.factors
    reasons = [row.reason for row in scoring.stored_factors(saved)]
    assert "资产负债率 58.3%，落在 50–60% 档，得 60 分" in reasons


@time_machine.travel(datetime.datetime(2026, 6, 30, 10, 0), tick=False)
def test_the_stored_band_and_points_stand_whatever_the_bands_say_now(org):
    saved = scoring.evaluate_and_save(example_customer(org), kind="application")
    scores = [list(entry) for entry in saved.factor_scores]
    debt = next(entry for entry in scores if entry[0] == "debt_ratio")
    debt[1:] = [4, "20"]  # as if scored in the 70–80% band: a stored fact, not re-derived
    Evaluation.objects.filter(pk=saved.pk).update(factor_scores=scores)

    rows = {row.code: row for row in scoring.stored_factors(Evaluation.objects.get(pk=saved.pk))}

    assert (rows["debt_ratio"].points, rows["debt_ratio"].weighted) == (20, Decimal("1.40"))
    assert rows["debt_ratio"].band == "70–80%"
    assert rows["debt_ratio"].reason == "资产负债率 58.3%，落在 70–80% 档，得 20 分"


@time_machine.travel(datetime.datetime(2026, 6, 30, 10, 0), tick=False)
def test_an_evaluation_with_odd_stored_data_still_shows_its_points(org):
    saved = scoring.evaluate_and_save(example_customer(org), kind="application")
    inputs = dict(saved.inputs, debt_ratio="n/a")
    scores = [*saved.factor_scores, ["retired_factor", 0, "50"]]
    Evaluation.objects.filter(pk=saved.pk).update(inputs=inputs, factor_scores=scores)

    rows = {row.code: row for row in scoring.stored_factors(Evaluation.objects.get(pk=saved.pk))}

    assert (rows["debt_ratio"].points, rows["debt_ratio"].input_value) == (60, "n/a")
    assert rows["debt_ratio"].weighted == Decimal("4.20")
    assert (rows["retired_factor"].label, rows["retired_factor"].points) == ("retired_factor", 50)


def test_a_draft_that_has_scored_an_evaluation_can_no_longer_be_edited(org, draft):
    scoring.evaluate_and_save(example_customer(org), kind="application", as_of=AS_OF)
    assert policy_service.ensure_editable(draft) is None
    Evaluation.objects.update(scorecard=draft)

    with pytest.raises(WorkflowError, match="已有信用评估使用此版本"):
        policy_service.ensure_editable(draft)


def test_it_refuses_to_score_without_a_scorecard_in_force(org):
    Scorecard.objects.update(status=VersionStatus.RETIRED)

    with pytest.raises(WorkflowError) as error:
        scoring.evaluate(make_customer(), as_of=AS_OF)
    assert error.value.code == "config"
    assert not Evaluation.objects.exists()
