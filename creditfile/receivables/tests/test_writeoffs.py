"""Bad-debt write-offs: who may propose and approve, what they change, and reversal."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from creditfile.core.models import Company
from creditfile.receivables.choices import WriteOffStatus
from creditfile.receivables.models import Exposure, Invoice, WriteOff
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services.habits import payment_habit
from creditfile.receivables.services.ledger import LedgerError, post_invoice, post_payment
from creditfile.receivables.services.writeoffs import (
    approve_write_off,
    propose_write_off,
    reject_write_off,
    reverse_write_off,
)
from creditfile.receivables.testing import TODAY, credit_customer

D = datetime.date


@pytest.fixture
def invoice(org):
    customer = credit_customer(org.cathy, "100000", name="坏账客户有限公司")
    post_invoice(customer, "INV-BAD", D(2026, 1, 5), "8000", due_date=D(2026, 2, 4))
    post_invoice(customer, "INV-OK", D(2026, 3, 1), "2000", due_date=D(2026, 3, 31))
    return Invoice.objects.get(number="INV-BAD")


def stored(customer_id):
    return Exposure.objects.get(customer_id=customer_id).open_receivables


def assert_exposure_is_the_ledger(customer_id):
    row = Exposure.objects.get(customer_id=customer_id)
    assert (row.open_receivables, row.open_orders) == exposures.recompute(
        customer_id, Company.default().pk
    )


def test_an_approved_write_off_lowers_the_invoice_and_the_exposure(org, invoice):
    proposal = propose_write_off(invoice, "5000", "客户已注销，无财产可执行", org.carl)
    assert stored(invoice.customer_id) == Decimal("10000.00")  # nothing yet

    approve_write_off(proposal, org.cathy, "同意核销", on_date=TODAY)

    invoice.refresh_from_db()
    proposal.refresh_from_db()
    assert invoice.open_base == Decimal("3000.00") and invoice.settled_on is None
    assert stored(invoice.customer_id) == Decimal("5000.00")
    assert proposal.status == WriteOffStatus.APPROVED and proposal.decided_by == org.cathy
    assert proposal.written_off_on == TODAY and proposal.decision_reason == "同意核销"
    assert_exposure_is_the_ledger(invoice.customer_id)


def test_writing_off_the_whole_rest_settles_the_invoice_that_day(org, invoice):
    approve_write_off(
        propose_write_off(invoice, "8000", "破产", org.fiona), org.victor, "同意", TODAY
    )
    invoice.refresh_from_db()
    assert (invoice.open_base, invoice.settled_on) == (Decimal("0.00"), TODAY)
    assert_exposure_is_the_ledger(invoice.customer_id)


@pytest.mark.parametrize("person", ["alice", "mary", "dora", "arthur", "audrey"])
def test_only_credit_and_finance_staff_propose(org, invoice, person):
    with pytest.raises(PermissionDenied):
        propose_write_off(invoice, "100", "理由", getattr(org, person))


@pytest.mark.parametrize("person", ["carl", "fiona", "alice", "dora"])
def test_only_a_credit_manager_vp_or_gm_approves(org, invoice, person):
    proposal = propose_write_off(invoice, "100", "理由", org.cathy)
    with pytest.raises(PermissionDenied):
        approve_write_off(proposal, getattr(org, person), "同意")
    assert stored(invoice.customer_id) == Decimal("10000.00")


def test_the_proposer_cannot_approve_her_own_write_off(org, invoice):
    proposal = propose_write_off(invoice, "100", "理由", org.cathy)
    with pytest.raises(LedgerError, match="提出人不能审批"):
        approve_write_off(proposal, org.cathy, "同意")
    approve_write_off(proposal, org.george, "同意")  # the GM may


def test_a_reason_is_needed_to_propose_and_to_decide(org, invoice):
    with pytest.raises(LedgerError) as refused:
        propose_write_off(invoice, "100", "  ", org.carl)
    assert refused.value.field == "reason"
    proposal = propose_write_off(invoice, "100", "理由", org.carl)
    with pytest.raises(LedgerError, match="必须说明理由"):
        approve_write_off(proposal, org.cathy, "")
    with pytest.raises(LedgerError, match="必须说明理由"):
        reject_write_off(proposal, org.cathy, " ")


def test_proposals_together_may_not_exceed_what_is_open(org, invoice):
    propose_write_off(invoice, "6000", "理由", org.carl)
    with pytest.raises(LedgerError) as refused:
        propose_write_off(invoice, "2000.01", "理由", org.carl)
    assert refused.value.field == "amount" and "2,000.00" in str(refused.value)
    with pytest.raises(LedgerError):
        propose_write_off(invoice, "0", "理由", org.carl)


def test_a_payment_after_the_proposal_can_make_it_too_large(org, invoice):
    proposal = propose_write_off(invoice, "8000", "理由", org.carl)
    post_payment(invoice.customer, "PAY-1", TODAY, "1000", reference="INV-BAD")
    with pytest.raises(LedgerError, match="少于核销金额"):
        approve_write_off(proposal, org.cathy, "同意")
    reject_write_off(proposal, org.cathy, "客户已部分回款，重新提出")
    assert WriteOff.objects.get().status == WriteOffStatus.REJECTED
    assert_exposure_is_the_ledger(invoice.customer_id)


def test_a_decided_write_off_cannot_be_decided_again(org, invoice):
    proposal = propose_write_off(invoice, "100", "理由", org.carl)
    reject_write_off(proposal, org.cathy, "继续追讨")
    with pytest.raises(LedgerError, match="不能再处理"):
        approve_write_off(proposal, org.victor, "同意")
    assert stored(invoice.customer_id) == Decimal("10000.00")


def test_a_reversal_reopens_the_amount_and_waiting_payments_settle_it(org, invoice):
    proposal = propose_write_off(invoice, "8000", "破产", org.carl)
    approve_write_off(proposal, org.cathy, "同意", on_date=D(2026, 6, 1))
    # The liquidator pays after all: with INV-BAD closed, the payment settles INV-OK and
    # waits with the rest.
    post_payment(invoice.customer, "PAY-LIQ", D(2026, 6, 20), "5000")
    assert stored(invoice.customer_id) == Decimal("0.00")

    reverse_write_off(proposal, org.cathy, "清算组已回款", on_date=TODAY)

    invoice.refresh_from_db()
    proposal.refresh_from_db()
    assert proposal.status == WriteOffStatus.REVERSED and proposal.reversed_on == TODAY
    assert invoice.open_base == Decimal("5000.00")  # 8,000 reopened, 3,000 paid at once
    assert stored(invoice.customer_id) == Decimal("5000.00")
    assert_exposure_is_the_ledger(invoice.customer_id)
    with pytest.raises(LedgerError):
        reverse_write_off(proposal, org.cathy, "再次冲回")


def test_a_written_off_invoice_is_not_paid_on_time(org):
    customer = credit_customer(org.cathy, "100000", name="习惯客户有限公司")
    post_invoice(customer, "INV-1", D(2026, 5, 1), "1000", due_date=D(2026, 5, 31))
    post_invoice(customer, "INV-2", D(2026, 5, 1), "1000", due_date=D(2026, 5, 31))
    post_payment(customer, "PAY-1", D(2026, 5, 20), "1000", reference="INV-1")
    bad = Invoice.objects.get(number="INV-2")
    # Written off before it was even due: settled, but not paid, so not on time.
    approve_write_off(
        propose_write_off(bad, "1000", "客户失联", org.carl), org.cathy, "同意", D(2026, 5, 25)
    )

    habit = payment_habit(customer.pk, Company.default().pk, TODAY)
    assert (habit.invoices_settled, habit.paid_on_time) == (2, 1)
    assert habit.on_time_share == Decimal("50.0")
    assert habit.open_receivables == Decimal("0.00")
    earlier = payment_habit(customer.pk, Company.default().pk, D(2026, 5, 24))
    assert earlier.open_receivables == Decimal("1000.00")  # the write-off came later
