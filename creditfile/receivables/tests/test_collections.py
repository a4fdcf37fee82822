"""Collection cases: opening, actions filed in the customer file, promises against the
ledger, closing with an outcome."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine

from creditfile.core.models import Company
from creditfile.customers.models import Correspondence, FileEvent
from creditfile.receivables.choices import ActionKind, CaseOutcome, CaseStatus, PromiseStatus
from creditfile.receivables.models import CollectionCase
from creditfile.receivables.services import collections
from creditfile.receivables.services.collections import CollectionError, judge_promises
from creditfile.receivables.services.ledger import post_invoice, post_payment
from creditfile.receivables.testing import TODAY, credit_customer

D = datetime.date


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 6, 30, 10, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def overdue(org):
    customer = credit_customer(org.cathy, "500000", owner=org.alice, name="逾期客户有限公司")
    post_invoice(customer, "INV-1", D(2026, 4, 1), "30000", due_date=D(2026, 5, 1))
    post_invoice(customer, "INV-2", D(2026, 5, 1), "20000", due_date=D(2026, 6, 1))
    return customer


def test_it_opens_one_case_per_customer_owned_by_the_sales_rep(org, overdue):
    case, created = collections.open_case(overdue, Company.default(), org.carl, TODAY)
    again, created_again = collections.open_case(overdue, Company.default(), org.cathy, TODAY)
    assert created and not created_again and again.pk == case.pk
    assert case.owner == org.alice and case.opened_overdue == Decimal("50000.00")
    assert case.next_action_on == TODAY


def test_a_call_is_filed_in_the_correspondence_log(org, overdue):
    case, _ = collections.open_case(overdue, Company.default(), org.carl, TODAY)
    invoice = overdue_invoice(overdue, "INV-1")
    action = collections.record_action(
        case,
        org.alice,
        ActionKind.CALL,
        contact_person="王会计",
        note="答应下周付一半",
        invoices=[invoice],
        next_action_on=D(2026, 7, 7),
        next_action_note="再打电话",
    )
    entry = Correspondence.objects.get(customer=overdue)
    assert action.correspondence == entry
    assert entry.channel == "call" and entry.direction == "out"
    assert entry.their_person == "王会计" and "INV-1" in entry.summary
    case.refresh_from_db()
    assert case.next_action_on == D(2026, 7, 7) and case.next_action_note == "再打电话"


def test_a_lawsuit_is_a_significant_event_of_the_file(org, overdue):
    case, _ = collections.open_case(overdue, Company.default(), org.carl, TODAY)
    collections.record_action(case, org.cathy, ActionKind.LAWSUIT, note="已向法院起诉")
    event = FileEvent.objects.get(customer=overdue)
    assert "提起诉讼" in event.title and "已向法院起诉" in event.description


def test_an_action_in_the_future_or_on_another_customers_invoice_is_refused(org, overdue):
    case, _ = collections.open_case(overdue, Company.default(), org.carl, TODAY)
    with pytest.raises(CollectionError) as future:
        collections.record_action(case, org.alice, ActionKind.CALL, done_on=D(2026, 7, 1))
    assert future.value.field == "done_on"
    other = credit_customer(org.cathy, "1000", name="别家有限公司")
    post_invoice(other, "X-1", D(2026, 4, 1), "100", due_date=D(2026, 5, 1))
    with pytest.raises(CollectionError) as foreign:
        collections.record_action(
            case, org.alice, ActionKind.CALL, invoices=[overdue_invoice(other, "X-1")]
        )
    assert foreign.value.field == "invoices" and not Correspondence.objects.exists()


def overdue_invoice(customer, number):
    return collections.overdue_invoices(customer.pk, Company.default().pk, TODAY).get(number=number)


# --- Promises --------------------------------------------------------------------------------


def test_a_promise_is_kept_by_payments_received_by_its_date(org, overdue):
    case, _ = collections.open_case(overdue, Company.default(), org.carl, D(2026, 6, 10))
    with time_machine.travel(datetime.datetime(2026, 6, 10, 10, tzinfo=datetime.UTC), tick=False):
        promise = collections.add_promise(case, org.alice, D(2026, 6, 20), "30000")
    assert promise.status == PromiseStatus.PENDING
    post_payment(overdue, "P-1", D(2026, 6, 15), "10000")
    post_payment(overdue, "P-2", D(2026, 6, 20), "20000")
    collections.evaluate_promises(case, TODAY)
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.KEPT and promise.kept_on == D(2026, 6, 20)


def test_a_promise_not_covered_by_its_date_is_broken_and_comes_back_for_follow_up(org, overdue):
    case, _ = collections.open_case(overdue, Company.default(), org.carl, D(2026, 6, 10))
    with time_machine.travel(datetime.datetime(2026, 6, 10, 10, tzinfo=datetime.UTC), tick=False):
        promise = collections.add_promise(case, org.alice, D(2026, 6, 20), "30000")
    post_payment(overdue, "P-1", D(2026, 6, 18), "29999.99")
    post_payment(overdue, "P-LATE", D(2026, 6, 25), "5000")  # after the promised date
    assert collections.mark_broken_promises(TODAY) == 1
    promise.refresh_from_db()
    case.refresh_from_db()
    assert promise.status == PromiseStatus.BROKEN
    assert case.next_action_on <= TODAY and "未按承诺付款" in case.next_action_note
    assert collections.mark_broken_promises(TODAY) == 0  # a rerun changes nothing


def test_a_payment_before_the_promise_was_made_does_not_count(org, overdue):
    case, _ = collections.open_case(overdue, Company.default(), org.carl, D(2026, 6, 1))
    post_payment(overdue, "P-0", D(2026, 6, 5), "30000")
    with time_machine.travel(datetime.datetime(2026, 6, 10, 10, tzinfo=datetime.UTC), tick=False):
        collections.add_promise(case, org.alice, D(2026, 6, 20), "10000")
    collections.evaluate_promises(case, TODAY)
    assert case.promises.get().status == PromiseStatus.BROKEN


def test_credit_notes_are_not_payments(org, overdue):
    case, _ = collections.open_case(overdue, Company.default(), org.carl, TODAY)
    collections.add_promise(case, org.alice, TODAY, "1000")
    post_payment(overdue, "CN-1", TODAY, "5000", kind="credit_note")
    collections.evaluate_promises(case, D(2026, 7, 1))
    assert case.promises.get().status == PromiseStatus.BROKEN


class _P:
    def __init__(self, pk, made_on, promised_date, amount):
        self.pk, self.made_on, self.promised_date = pk, made_on, promised_date
        self.amount = Decimal(amount)


def test_instalments_each_need_their_own_payment():
    promises = [
        _P(1, D(2026, 6, 1), D(2026, 6, 10), "100"),
        _P(2, D(2026, 6, 1), D(2026, 6, 20), "100"),
        _P(3, D(2026, 6, 1), D(2026, 6, 30), "100"),
    ]
    payments = [(D(2026, 6, 9), Decimal("100")), (D(2026, 6, 15), Decimal("150"))]
    result = judge_promises(promises, payments, D(2026, 7, 1))
    assert [result[p].status for p in (1, 2, 3)] == ["kept", "kept", "broken"]
    assert result[2].kept_on == D(2026, 6, 15)
    early = judge_promises(promises, [(D(2026, 6, 2), Decimal("300"))], D(2026, 7, 1))
    assert {r.status for r in early.values()} == {"kept"}


def test_a_promise_must_be_a_positive_amount_on_a_later_date(org, overdue):
    case, _ = collections.open_case(overdue, Company.default(), org.carl, D(2026, 6, 1))
    with pytest.raises(CollectionError) as zero:
        collections.add_promise(case, org.alice, D(2026, 7, 10), "0")
    assert zero.value.field == "amount"
    with pytest.raises(CollectionError) as before:
        collections.add_promise(case, org.alice, D(2026, 6, 29), "10")
    assert before.value.field == "promised_date"
    assert not case.promises.exists()


# --- Closing ---------------------------------------------------------------------------------


def test_paid_in_full_needs_nothing_overdue_left(org, overdue):
    case, _ = collections.open_case(overdue, Company.default(), org.carl, D(2026, 6, 1))
    with pytest.raises(CollectionError) as refused:
        collections.close_case(case, org.alice, CaseOutcome.PAID)
    assert "仍有逾期 50,000.00 元" in refused.value.message
    post_payment(overdue, "P-1", TODAY, "50000")
    collections.close_case(case, org.alice, CaseOutcome.PAID)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_by == org.alice
    assert case.next_action_on is None
    figures = collections.case_figures(case, TODAY)
    assert figures["overdue_now"] == 0 and figures["received"] == Decimal("50000.00")


def test_other_outcomes_need_a_note_and_a_closed_case_is_final(org, overdue):
    case, _ = collections.open_case(overdue, Company.default(), org.carl, TODAY)
    with pytest.raises(CollectionError) as no_note:
        collections.close_case(case, org.cathy, CaseOutcome.WRITE_OFF_PROPOSED)
    assert no_note.value.field == "outcome_note"
    collections.close_case(case, org.cathy, CaseOutcome.WRITE_OFF_PROPOSED, "客户已注销")
    with pytest.raises(CollectionError):
        collections.record_action(case, org.alice, ActionKind.CALL)
    new_case, created = collections.open_case(overdue, Company.default(), org.carl, TODAY)
    assert created and CollectionCase.objects.count() == 2


# --- The daily job ---------------------------------------------------------------------------


def test_the_daily_job_opens_cases_for_newly_overdue_customers_once(org, overdue):
    from io import StringIO

    from django.core.management import call_command

    from creditfile.customers.models import Customer

    fresh = credit_customer(org.cathy, "1000", owner=org.bob, name="刚到期有限公司")
    post_invoice(fresh, "NEW-1", D(2026, 6, 1), "100", due_date=TODAY)  # not overdue yet
    stamped = Customer.objects.get(pk=overdue.pk).file_updated_at
    out = StringIO()
    call_command("daily", "--today", "2026-06-30", stdout=out)
    case = CollectionCase.objects.get()
    assert case.customer == overdue and case.opened_by is None and case.owner == org.alice
    assert re.search(r"Collection cases opened\s+1\n", out.getvalue())
    assert Customer.objects.get(pk=overdue.pk).file_updated_at == stamped  # bookkeeping only
    call_command("daily", "--today", "2026-06-30", stdout=StringIO())
    assert CollectionCase.objects.count() == 1

    collections.close_case(case, org.cathy, CaseOutcome.LAWSUIT, "已起诉")
    call_command("daily", "--today", "2026-06-30", stdout=StringIO())
    assert CollectionCase.objects.count() == 1  # the same invoices do not reopen it
    post_invoice(overdue, "INV-3", D(2026, 6, 1), "100", due_date=TODAY)  # overdue tomorrow
    call_command("daily", "--today", "2026-07-01", stdout=StringIO())
    opened = CollectionCase.objects.filter(status=CaseStatus.OPEN)
    assert sorted(c.customer.name for c in opened) == ["刚到期有限公司", "逾期客户有限公司"]
