"""The blacklist (R-27): listing and lifting each need a second person's approval."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from creditfile.core.models import Company
from creditfile.credit.choices import BlacklistState, LineStatus, MeasureKind
from creditfile.credit.models import BlacklistEntry, CreditLine, Measure
from creditfile.credit.services import sanctions
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.testing import make_customer

NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 2)


@pytest.fixture
def customer(org):
    customer = make_customer("失信贸易有限公司", owner=org.alice)
    CreditLine.objects.create(
        customer=customer,
        company=Company.default(),
        grade="B",
        limit=Decimal("300000"),
        term_days=45,
        valid_from=datetime.date(2025, 1, 1),
        granted_by=org.cathy,
    )
    return customer


@pytest.fixture
def proposed(customer, org):
    return sanctions.propose_blacklist(customer, org.carl, "恶意拖欠货款", "催收函三封未复")


def test_it_lets_credit_staff_propose_with_a_reason_and_refuses_sales(customer, org):
    with pytest.raises(WorkflowError) as refused:
        sanctions.propose_blacklist(customer, org.alice, "拖欠")
    assert refused.value.code == "forbidden"
    with pytest.raises(WorkflowError, match="原因"):
        sanctions.propose_blacklist(customer, org.carl, "  ")
    entry = sanctions.propose_blacklist(customer, org.carl, "拖欠", "对账单")
    assert (entry.state, entry.proposed_by, entry.evidence) == ("proposed", org.carl, "对账单")
    assert not sanctions.is_blacklisted(customer)
    with pytest.raises(WorkflowError, match="未结"):
        sanctions.propose_blacklist(customer, org.cathy, "再次")


def test_it_refuses_approval_by_the_proposer_or_without_the_approval_right(proposed, org):
    own = sanctions.propose_blacklist(make_customer(owner=org.bob), org.cathy, "拖欠")
    with pytest.raises(WorkflowError, match="提议人以外") as refused:
        sanctions.approve_blacklist(own, org.cathy)
    assert refused.value.code == "forbidden"
    with pytest.raises(WorkflowError) as refused:
        sanctions.approve_blacklist(proposed, org.carl)  # proposer, and no approval right
    assert refused.value.code == "forbidden"
    with pytest.raises(WorkflowError) as refused:
        sanctions.reject_blacklist(own, org.cathy, "不同意")
    assert refused.value.code == "forbidden"
    own.refresh_from_db()
    assert own.state == BlacklistState.PROPOSED


@time_machine.travel(NOW, tick=False)
def test_it_lists_the_customer_stopping_credit_sales_and_turning_lines_cash(
    customer, proposed, org
):
    old = customer.credit_lines.get()
    sanctions.approve_blacklist(proposed, org.cathy, "同意")
    proposed.refresh_from_db()
    assert proposed.state == BlacklistState.LISTED and proposed.approved_by == org.cathy
    assert sanctions.is_blacklisted(customer)
    measure = sanctions.measures_in_force(customer, TODAY).get()
    assert measure.kind == MeasureKind.STOP_CREDIT_SALES and measure.decided_by == org.cathy
    old.refresh_from_db()
    assert old.status == LineStatus.SUPERSEDED
    new = customer.credit_lines.get(status=LineStatus.ACTIVE)
    assert new.cash_on_delivery and (new.grade, new.limit) == ("B", Decimal("300000.00"))
    assert sanctions.is_credit_stopped(customer, TODAY)
    with pytest.raises(WorkflowError, match="黑名单"):
        sanctions.end_measure(measure, org.cathy, "想提前恢复")


def test_it_gives_exactly_one_decision_when_two_approvers_act_on_the_same_entry(proposed, org):
    stale_copy = BlacklistEntry.objects.get(pk=proposed.pk)
    sanctions.approve_blacklist(proposed, org.cathy)
    with pytest.raises(WorkflowError, match="已列入黑名单"):
        sanctions.reject_blacklist(stale_copy, org.victor, "证据不足")
    with pytest.raises(WorkflowError):
        sanctions.approve_blacklist(stale_copy, org.george)
    entry = BlacklistEntry.objects.get(pk=proposed.pk)
    assert (entry.state, entry.approved_by) == (BlacklistState.LISTED, org.cathy)
    assert Measure.objects.filter(kind=MeasureKind.STOP_CREDIT_SALES).count() == 1


def test_it_rejects_a_proposal_with_a_reason(customer, proposed, org):
    with pytest.raises(WorkflowError, match="理由"):
        sanctions.reject_blacklist(proposed, org.victor, "")
    sanctions.reject_blacklist(proposed, org.victor, "证据不足")
    proposed.refresh_from_db()
    assert proposed.state == BlacklistState.REJECTED and proposed.decision_note == "证据不足"
    assert not sanctions.is_blacklisted(customer)
    assert customer.credit_lines.get().status == LineStatus.ACTIVE
    # a rejected entry is closed: a new proposal may follow
    assert sanctions.propose_blacklist(customer, org.carl, "新证据").state == "proposed"


@time_machine.travel(NOW, tick=False)
def test_it_lifts_only_with_a_reason_and_a_different_approver(customer, proposed, org):
    sanctions.approve_blacklist(proposed, org.cathy)
    with pytest.raises(WorkflowError, match="理由"):
        sanctions.propose_lift(proposed, org.carl, "")
    with pytest.raises(WorkflowError) as refused:
        sanctions.propose_lift(proposed, org.alice, "已还款")
    assert refused.value.code == "forbidden"
    sanctions.propose_lift(proposed, org.carl, "已全部还清欠款")
    proposed.refresh_from_db()
    assert proposed.state == BlacklistState.LIFT_PROPOSED
    assert sanctions.is_blacklisted(customer)  # still listed until the lift is approved
    with pytest.raises(WorkflowError):
        sanctions.approve_lift(proposed, org.carl)
    lifter_self = sanctions.propose_blacklist(make_customer(owner=org.bob), org.carl, "拖欠")
    sanctions.approve_blacklist(lifter_self, org.victor)
    sanctions.propose_lift(lifter_self, org.cathy, "已还款")
    with pytest.raises(WorkflowError, match="申请人以外") as refused:
        sanctions.approve_lift(lifter_self, org.cathy)
    assert refused.value.code == "forbidden"

    sanctions.approve_lift(proposed, org.victor, "同意解除")
    proposed.refresh_from_db()
    assert proposed.state == BlacklistState.LIFTED and proposed.lifted_by == org.victor
    assert not sanctions.is_blacklisted(customer)
    stop = Measure.objects.get(customer=customer, kind=MeasureKind.STOP_CREDIT_SALES)
    assert stop.ended_on == TODAY and stop.ended_by == org.victor
    assert not sanctions.is_credit_stopped(customer, TODAY)
    # credit itself comes back only through a new application
    assert customer.credit_lines.get(status=LineStatus.ACTIVE).cash_on_delivery


def test_it_returns_a_rejected_lift_to_listed(proposed, org):
    sanctions.approve_blacklist(proposed, org.cathy)
    sanctions.propose_lift(proposed, org.carl, "已还款")
    sanctions.reject_lift(proposed, org.victor, "仍有欠款")
    proposed.refresh_from_db()
    assert proposed.state == BlacklistState.LISTED
    assert "仍有欠款" in proposed.decision_note
