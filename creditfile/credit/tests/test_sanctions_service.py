"""Sanction proposals, accepting and dismissing them, measures (R-27) and the default rules."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from creditfile.core.models import Company
from creditfile.credit.choices import (
    LineStatus,
    MeasureKind,
    ProposalState,
    SanctionAction,
    SanctionTrigger,
)
from creditfile.credit.models import (
    BlacklistEntry,
    CreditLine,
    GradeChangeProposal,
    PaymentSummary,
    SanctionRule,
)
from creditfile.credit.services import sanctions
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.testing import make_customer

NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 2)
PERIOD_END = datetime.date(2026, 2, 28)


def _line(customer, user, grade="A", limit="1000000", **fields):
    fields.setdefault("company", Company.default())
    fields.setdefault("term_days", 60)
    fields.setdefault("valid_from", datetime.date(2025, 1, 1))
    line = CreditLine.objects.create(
        customer=customer, grade=grade, limit=Decimal(limit), granted_by=user, **fields
    )
    customer.credit_grade = grade
    customer.save(update_fields=["credit_grade"])
    return line


def _summary(customer, period_end=PERIOD_END, **facts):
    return PaymentSummary.objects.create(customer=customer, period_end=period_end, **facts)


@pytest.fixture
def late_customer(org):
    customer = make_customer("迟付商贸有限公司", owner=org.alice)
    _line(customer, org.cathy)
    _summary(customer, times_late_over_30=1, max_days_late=40)
    return customer


def test_it_installs_the_default_rules_once(db):
    names = list(SanctionRule.objects.values_list("name", flat=True))
    assert len(names) == 4
    assert any("恶意拖欠" in name for name in names)
    SanctionRule.objects.filter(trigger=SanctionTrigger.MALICIOUS_DEFAULT).update(is_active=False)
    from creditfile.credit.defaults import sanctions as defaults

    defaults.install()
    assert SanctionRule.objects.count() == 4
    assert not SanctionRule.objects.get(trigger=SanctionTrigger.MALICIOUS_DEFAULT).is_active


@time_machine.travel(NOW, tick=False)
def test_it_proposes_a_downgrade_once_however_often_it_runs(late_customer):
    assert sanctions.propose_sanctions(TODAY) == {"proposals": 1, "blacklist": 0}
    assert sanctions.propose_sanctions(TODAY) == {"proposals": 0, "blacklist": 0}
    proposal = GradeChangeProposal.objects.get(customer=late_customer)
    assert proposal.source == "sanction"
    assert (proposal.from_grade, proposal.to_grade) == ("A", "B")
    assert proposal.state == ProposalState.PROPOSED
    assert proposal.rule.days_late_over == 30 and proposal.rule.occurrences == 1


@time_machine.travel(NOW, tick=False)
def test_it_reads_only_the_latest_summary_on_or_before_the_date(org):
    customer = make_customer(owner=org.alice)
    _line(customer, org.cathy)
    _summary(
        customer, period_end=datetime.date(2026, 1, 31), times_late_over_90=1, max_days_late=99
    )
    _summary(customer, period_end=PERIOD_END)  # paid on time since: no facts any more
    assert sanctions.propose_sanctions(TODAY)["proposals"] == 0
    assert sanctions.propose_sanctions(datetime.date(2026, 2, 15))["proposals"] == 1


@time_machine.travel(NOW, tick=False)
def test_it_replaces_an_open_proposal_whose_target_changed(late_customer, org):
    sanctions.propose_sanctions(TODAY)
    first = GradeChangeProposal.objects.get(customer=late_customer)
    CreditLine.objects.filter(customer=late_customer).update(limit=Decimal("600000"), grade="B")
    sanctions.propose_sanctions(TODAY)
    first.refresh_from_db()
    assert first.state == ProposalState.DISMISSED and first.decided_by is None
    newest = GradeChangeProposal.objects.get(customer=late_customer, state=ProposalState.PROPOSED)
    assert (newest.from_grade, newest.to_grade) == ("B", "C")


@time_machine.travel(NOW, tick=False)
def test_it_does_not_punish_the_same_facts_twice_after_a_decision(late_customer, org):
    sanctions.propose_sanctions(TODAY)
    sanctions.accept_proposal(GradeChangeProposal.objects.get(), org.carl, "")
    assert sanctions.propose_sanctions(TODAY)["proposals"] == 0
    assert late_customer.credit_lines.get(status=LineStatus.ACTIVE).grade == "B"


@time_machine.travel(NOW, tick=False)
def test_it_limits_the_run_to_the_customers_given(late_customer, org):
    other = make_customer(owner=org.bob)
    _line(other, org.cathy)
    _summary(other, times_late_over_30=1, max_days_late=33)
    assert sanctions.propose_sanctions(TODAY, customers=[other])["proposals"] == 1
    assert list(GradeChangeProposal.objects.values_list("customer", flat=True)) == [other.pk]


@time_machine.travel(NOW, tick=False)
def test_it_accepts_a_downgrade_by_superseding_the_line_and_keeping_history(late_customer, org):
    old = late_customer.credit_lines.get()
    sanctions.propose_sanctions(TODAY)
    proposal = GradeChangeProposal.objects.get()
    sanctions.accept_proposal(proposal, org.carl, "同意降级")
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.ACCEPTED
    assert proposal.decided_by == org.carl and proposal.decision_note == "同意降级"
    old.refresh_from_db()
    assert old.status == LineStatus.SUPERSEDED
    assert f"#{proposal.pk}" in old.end_reason
    new = late_customer.credit_lines.get(status=LineStatus.ACTIVE)
    assert (new.grade, new.limit, new.application) == ("B", Decimal("1000000.00"), None)
    assert new.term_days == 45  # B's term under the default policy
    assert new.valid_from == TODAY and new.granted_by == org.carl
    late_customer.refresh_from_db()
    assert late_customer.credit_grade == "B"


@time_machine.travel(NOW, tick=False)
def test_it_refuses_to_raise_a_grade_or_limit_through_a_proposal(org):
    customer = make_customer(owner=org.alice)
    _line(customer, org.cathy, grade="C", limit="100000")
    up = GradeChangeProposal.objects.create(
        customer=customer, source="rescore", from_grade="C", to_grade="B", reason="重新评分"
    )
    more = GradeChangeProposal.objects.create(
        customer=customer,
        source="rescore",
        from_grade="C",
        to_grade="C",
        from_limit=Decimal("100000"),
        to_limit=Decimal("200000"),
        reason="重新评分",
    )
    for proposal in (up, more):
        with pytest.raises(WorkflowError, match="信用申请") as refused:
            sanctions.accept_proposal(proposal, org.cathy, "")
        assert refused.value.code == "state"
        proposal.refresh_from_db()
        assert proposal.state == ProposalState.PROPOSED
    assert customer.credit_lines.get().grade == "C"


@time_machine.travel(NOW, tick=False)
def test_it_lets_only_credit_grantors_decide_and_asks_a_reason_to_dismiss(late_customer, org):
    sanctions.propose_sanctions(TODAY)
    proposal = GradeChangeProposal.objects.get()
    for user in (org.alice, org.mary, org.fiona, org.victor):
        with pytest.raises(WorkflowError) as refused:
            sanctions.accept_proposal(proposal, user, "")
        assert refused.value.code == "forbidden"
    with pytest.raises(WorkflowError, match="理由"):
        sanctions.dismiss_proposal(proposal, org.carl, " ")
    sanctions.dismiss_proposal(proposal, org.carl, "客户已补足款项")
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.DISMISSED
    with pytest.raises(WorkflowError, match="已驳回"):
        sanctions.accept_proposal(proposal, org.cathy, "")
    assert late_customer.credit_lines.get().status == LineStatus.ACTIVE


@time_machine.travel(NOW, tick=False)
def test_it_files_the_blacklist_proposal_when_a_person_accepts_a_malicious_default(org):
    customer = make_customer(owner=org.alice)
    _line(customer, org.cathy, grade="B", limit="300000")
    _summary(customer, malicious_default=True, max_days_late=200, times_late_over_90=1)
    assert sanctions.propose_sanctions(TODAY) == {"proposals": 1, "blacklist": 0}
    proposal = GradeChangeProposal.objects.get()
    assert proposal.rule.action == SanctionAction.PROPOSE_BLACKLIST
    assert (proposal.to_grade, proposal.to_limit, proposal.cash_on_delivery) == ("D", 0, True)
    sanctions.accept_proposal(proposal, org.carl, "")
    line = customer.credit_lines.get(status=LineStatus.ACTIVE)
    assert (line.grade, line.limit, line.cash_on_delivery) == ("D", 0, True)
    entry = BlacklistEntry.objects.get(customer=customer)
    assert entry.proposed_by == org.carl and entry.state == "proposed"
    assert sanctions.measures_in_force(customer, TODAY).get().kind == MeasureKind.CASH_ON_DELIVERY
    assert sanctions.is_credit_stopped(customer, TODAY)


@time_machine.travel(NOW, tick=False)
def test_it_proposes_blacklisting_at_once_when_a_person_runs_the_rules(org):
    customer = make_customer(owner=org.alice)
    _summary(customer, malicious_default=True)
    assert sanctions.propose_sanctions(TODAY, user=org.carl) == {"proposals": 0, "blacklist": 1}
    assert sanctions.propose_sanctions(TODAY, user=org.carl) == {"proposals": 0, "blacklist": 0}
    assert BlacklistEntry.objects.get(customer=customer).proposed_by == org.carl
    with pytest.raises(WorkflowError):
        sanctions.propose_sanctions(TODAY, user=org.alice)


@time_machine.travel(NOW, tick=False)
def test_it_imposes_and_ends_measures_with_dates_and_who_decided(org):
    customer = make_customer(owner=org.alice)
    measure = sanctions.impose_measure(
        customer, org.carl, MeasureKind.STOP_SUPPLY, "拖欠货款", datetime.date(2026, 3, 5)
    )
    assert measure.decided_by == org.carl and measure.decided_on == TODAY
    assert not sanctions.measures_in_force(customer, TODAY).exists()
    assert sanctions.measures_in_force(customer, datetime.date(2026, 3, 5)).get() == measure
    assert not sanctions.is_credit_stopped(customer, datetime.date(2026, 3, 5))
    with pytest.raises(WorkflowError, match="未解除"):
        sanctions.impose_measure(customer, org.cathy, MeasureKind.STOP_SUPPLY, "再次", None)
    with pytest.raises(WorkflowError, match="原因"):
        sanctions.impose_measure(customer, org.carl, MeasureKind.LEGAL_ACTION, "", None)
    with pytest.raises(WorkflowError) as refused:
        sanctions.impose_measure(customer, org.alice, MeasureKind.LEGAL_ACTION, "起诉", None)
    assert refused.value.code == "forbidden"
    with pytest.raises(WorkflowError, match="理由"):
        sanctions.end_measure(measure, org.cathy, "")
    sanctions.end_measure(measure, org.cathy, "已付清", datetime.date(2026, 3, 10))
    measure.refresh_from_db()
    assert (measure.ended_on, measure.ended_by) == (datetime.date(2026, 3, 10), org.cathy)
    assert not sanctions.measures_in_force(customer, datetime.date(2026, 3, 10)).exists()
    with pytest.raises(WorkflowError, match="已于"):
        sanctions.end_measure(measure, org.cathy, "再次")


@time_machine.travel(NOW, tick=False)
def test_it_stops_credit_for_stop_credit_sales_and_cash_on_delivery_measures(org):
    customer = make_customer(owner=org.alice)
    sanctions.impose_measure(customer, org.carl, MeasureKind.STOP_CREDIT_SALES, "逾期", None)
    assert sanctions.is_credit_stopped(customer, TODAY)
    assert sanctions.credit_stop_reasons(customer, TODAY) == ["取消赊销条件"]
    assert not sanctions.is_credit_stopped(customer, datetime.date(2026, 3, 1))


@time_machine.travel(NOW, tick=False)
def test_it_runs_from_the_daily_job_without_a_person(late_customer):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("daily", today=TODAY, stdout=out)
    call_command("daily", today=TODAY, stdout=out)
    lines = [line.split() for line in out.getvalue().splitlines() if "Sanction proposals" in line]
    assert [line[-1] for line in lines] == ["1", "0"]
    assert GradeChangeProposal.objects.filter(customer=late_customer).count() == 1
