"""Sanction rule evaluation (R-27): the pure part, on plain objects, no database."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from creditfile.credit.choices import SanctionAction, SanctionTrigger
from creditfile.credit.defaults.sanctions import DEFAULT_RULES
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.services.sanctions import evaluate_rules, times_late_over

GRADES = ["A", "B", "C", "D"]
CAPS = {"A": Decimal("5000000"), "B": Decimal("2000000"), "C": Decimal("500000"), "D": Decimal(0)}


def _rule(pk, **fields):
    values = dict(
        name=f"rule {pk}",
        days_late_over=None,
        occurrences=1,
        steps=1,
        target_grade="",
        priority=10,
        is_active=True,
    )
    values.update(fields)
    return SimpleNamespace(pk=pk, **values)


DEFAULTS = [_rule(pk, **fields) for pk, fields in enumerate(DEFAULT_RULES, start=1)]
MALICIOUS, OVER_90, TWICE_30, ONCE_30 = DEFAULTS


def _summary(over30=0, over90=0, longest=0, malicious=False):
    return {
        "times_late_over_30": over30,
        "times_late_over_90": over90,
        "max_days_late": longest,
        "malicious_default": malicious,
    }


def _one(summary, current=("A", Decimal("1000000")), rules=DEFAULTS, **kwargs):
    currents = {} if current is None else {1: current}
    kwargs.setdefault("limit_caps", CAPS)
    kwargs.setdefault("cash_grades", {"D"})
    return evaluate_rules({1: summary}, currents, rules, GRADES, **kwargs).get(1)


def test_it_downgrades_one_grade_for_one_late_over_30_days():
    outcome = _one(_summary(over30=1, longest=35))
    assert (outcome.from_grade, outcome.to_grade) == ("A", "B")
    assert outcome.rule is ONCE_30
    assert outcome.to_limit == Decimal("1000000")  # within B's cap
    assert not outcome.cash_on_delivery and not outcome.propose_blacklist
    assert "逾期超过30天1次" in outcome.reason and ONCE_30.name in outcome.reason


def test_it_downgrades_two_grades_for_two_lates_over_30_days():
    outcome = _one(_summary(over30=2, longest=40))
    assert outcome.to_grade == "C"
    assert outcome.rule is TWICE_30
    assert outcome.to_limit == Decimal("500000")  # capped by C's maximum


def test_it_sets_grade_d_and_cash_on_delivery_for_a_late_over_90_days():
    outcome = _one(_summary(over30=1, over90=1, longest=120))
    assert outcome.to_grade == "D"
    assert outcome.rule is OVER_90
    assert outcome.to_limit == 0
    assert outcome.cash_on_delivery  # grade D trades cash on delivery under the policy
    assert not outcome.propose_blacklist


def test_it_takes_credit_away_and_proposes_blacklist_for_malicious_default():
    outcome = _one(_summary(malicious=True), current=("B", Decimal("300000")))
    assert outcome.rule is MALICIOUS
    assert outcome.to_grade == "D"
    assert outcome.limit_zero and outcome.to_limit == 0
    assert outcome.cash_on_delivery and outcome.propose_blacklist
    assert "恶意拖欠" in outcome.reason


def test_it_lets_the_harshest_rule_win_when_several_apply():
    outcome = _one(_summary(over30=3, over90=1, longest=95), current=("A", Decimal("800000")))
    assert outcome.to_grade == "D"
    assert outcome.rule is OVER_90
    assert [r.pk for r in outcome.rules] == [OVER_90.pk, TWICE_30.pk, ONCE_30.pk]


def test_it_merges_a_grade_rule_with_a_cash_rule_taking_each_at_its_harshest():
    cash_only = _rule(
        9,
        trigger=SanctionTrigger.DAYS_LATE,
        days_late_over=30,
        action=SanctionAction.CASH_ON_DELIVERY,
        priority=50,
    )
    outcome = _one(_summary(over30=2, longest=50), rules=[TWICE_30, cash_only], cash_grades=set())
    assert outcome.to_grade == "C"
    assert outcome.to_limit == 0 and outcome.cash_on_delivery
    assert outcome.rule is cash_only  # cash on delivery is harsher than a downgrade


def test_it_never_goes_below_the_worst_grade_and_drops_outcomes_that_change_nothing():
    assert _one(_summary(over30=1, longest=40), current=("D", Decimal(0), True)) is None
    outcome = _one(_summary(over30=2, longest=40), current=("C", Decimal("100000")))
    assert outcome.to_grade == "D"


def test_it_treats_a_grade_unknown_to_the_policy_as_the_worst():
    outcome = _one(_summary(over30=1, longest=31), current=("E", Decimal("50000")))
    assert (outcome.from_grade, outcome.to_grade) == ("E", "D")


def test_it_only_proposes_blacklist_for_a_customer_without_credit():
    assert _one(_summary(over90=1, longest=100), current=None) is None
    outcome = _one(_summary(malicious=True), current=None)
    assert outcome.propose_blacklist
    assert outcome.to_grade == "" and outcome.to_limit is None
    assert not outcome.cash_on_delivery and not outcome.changes_line


def test_it_ignores_clean_summaries_inactive_rules_and_already_applied_rules():
    assert _one(_summary(longest=20)) is None
    inactive = _rule(
        5,
        trigger=SanctionTrigger.DAYS_LATE,
        days_late_over=10,
        action=SanctionAction.DOWNGRADE,
        is_active=False,
    )
    assert _one(_summary(longest=20), rules=[inactive]) is None
    outcome = _one(_summary(over30=2, longest=40), already_applied={(1, TWICE_30.pk)})
    assert outcome.rule is ONCE_30 and outcome.to_grade == "B"


def test_it_accepts_model_like_objects_as_well_as_mappings():
    summary = SimpleNamespace(
        times_late_over_30=1, times_late_over_90=0, max_days_late=45, malicious_default=False
    )
    assert _one(summary).to_grade == "B"


def test_it_counts_only_what_the_summary_proves():
    summary = _summary(over30=2, over90=0, longest=70)
    assert times_late_over(summary, 30) == 2
    assert times_late_over(summary, 60) == 1  # the longest late proves one, not two
    assert times_late_over(summary, 90) == 0
    assert times_late_over(_summary(over30=3, over90=2, longest=200), 60) == 2
    assert times_late_over(_summary(over30=3, over90=2, longest=200), 180) == 1


def test_it_refuses_an_empty_grade_list():
    with pytest.raises(WorkflowError):
        evaluate_rules({1: _summary(over30=1)}, {}, DEFAULTS, [])
