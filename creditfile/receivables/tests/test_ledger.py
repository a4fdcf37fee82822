"""Invoices, payments, credit notes and allocations, on hand-made cases (R-30)."""

import datetime
from decimal import Decimal

import pytest

from creditfile.receivables.choices import OrderStatus, PaymentKind
from creditfile.receivables.models import Allocation, Exposure, Invoice, Payment
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.ledger import (
    LedgerError,
    days_late,
    post_invoice,
    post_payment,
)
from creditfile.receivables.testing import TODAY, credit_customer

D = datetime.date


@pytest.fixture
def customer(org):
    return credit_customer(org.cathy, "500000", term_days=30)


def exposure_of(customer):
    return Exposure.objects.get(customer=customer)


def assert_matches_ledger(customer):
    row = exposure_of(customer)
    assert (row.open_receivables, row.open_orders) == exposures.recompute(
        customer.pk, row.company_id
    )


def test_an_invoice_is_due_after_the_lines_credit_term(customer):
    invoice = post_invoice(customer, "INV-1", D(2026, 6, 1), "1000")
    assert invoice.due_date == D(2026, 7, 1)
    assert (invoice.base_amount, invoice.open_base) == (Decimal("1000.00"), Decimal("1000.00"))
    assert exposure_of(customer).open_receivables == Decimal("1000.00")


def test_a_given_due_date_wins_and_may_not_come_before_the_invoice(customer):
    assert post_invoice(
        customer, "INV-1", D(2026, 6, 1), "1", due_date=D(2026, 6, 10)
    ).due_date == D(2026, 6, 10)
    with pytest.raises(LedgerError) as error:
        post_invoice(customer, "INV-2", D(2026, 6, 1), "1", due_date=D(2026, 5, 1))
    assert error.value.field == "due_date"


def test_a_customer_without_a_line_owes_at_once(org):
    from creditfile.customers.testing import make_customer

    customer = make_customer("现款客户有限公司")
    assert post_invoice(customer, "INV-9", D(2026, 6, 1), "10").due_date == D(2026, 6, 1)


def test_a_payment_settles_the_invoice_it_names_first_then_the_oldest(customer):
    old = post_invoice(customer, "INV-1", D(2026, 5, 1), "300")
    named = post_invoice(customer, "INV-2", D(2026, 6, 1), "200")
    young = post_invoice(customer, "INV-3", D(2026, 6, 10), "400")

    post_payment(customer, "PAY-1", D(2026, 6, 20), "350", reference="INV-2")

    old.refresh_from_db(), named.refresh_from_db(), young.refresh_from_db()
    assert named.open_base == 0 and named.settled_on == D(2026, 6, 20)
    assert old.open_base == Decimal("150.00") and old.settled_on is None
    assert young.open_base == Decimal("400.00")
    assert exposure_of(customer).open_receivables == Decimal("550.00")
    assert [a.base_amount for a in Allocation.objects.order_by("id")] == [200, 150]
    assert_matches_ledger(customer)


def test_what_a_payment_leaves_over_settles_the_next_invoice(customer):
    post_invoice(customer, "INV-1", D(2026, 5, 1), "100")
    payment = post_payment(customer, "PAY-1", D(2026, 5, 20), "160")
    assert Payment.objects.get(pk=payment.pk).unallocated_base == Decimal("60.00")

    later = post_invoice(customer, "INV-2", D(2026, 6, 1), "100")

    later.refresh_from_db()
    assert later.open_base == Decimal("40.00")
    assert Payment.objects.get(pk=payment.pk).unallocated_base == 0
    assert exposure_of(customer).open_receivables == Decimal("40.00")
    assert_matches_ledger(customer)


def test_a_credit_note_settles_like_a_payment_and_keeps_its_own_number(customer):
    invoice = post_invoice(customer, "INV-1", D(2026, 5, 1), "100")
    post_payment(customer, "X-1", D(2026, 5, 5), "30", kind=PaymentKind.CREDIT_NOTE)
    post_payment(customer, "X-1", D(2026, 5, 6), "70")  # a payment with the same number

    invoice.refresh_from_db()
    assert invoice.open_base == 0
    assert Payment.objects.filter(number="X-1").count() == 2


def test_foreign_currency_counts_in_cny_at_the_documents_rate(customer):
    invoice = post_invoice(
        customer, "INV-USD", D(2026, 6, 1), "1000", currency="usd", rate="7.1234"
    )
    post_payment(customer, "PAY-USD", D(2026, 6, 5), "500", currency="USD", rate="7.2")

    invoice.refresh_from_db()
    assert (invoice.currency, invoice.amount, invoice.base_amount) == (
        "USD",
        1000,
        Decimal("7123.40"),
    )
    assert invoice.open_base == Decimal("3523.40")  # 7,123.40 − 500 × 7.2
    with pytest.raises(LedgerError) as error:
        post_invoice(customer, "INV-CNY", D(2026, 6, 1), "1", rate="7")
    assert error.value.field == "rate"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("amount", {"amount": "-5"}),
        ("amount", {"amount": "abc"}),
        ("rate", {"currency": "USD", "rate": "0"}),
        ("rate", {"currency": "USD", "rate": "abc"}),
        ("rate", {"rate": "x"}),
        ("currency", {"currency": "美元"}),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(customer, field, kwargs):
    args = {"amount": "10", **kwargs}
    amount = args.pop("amount")
    with pytest.raises(LedgerError) as error:
        post_invoice(customer, "INV-BAD", D(2026, 6, 1), amount, **args)
    assert error.value.field == field
    assert not Invoice.objects.exists()


def test_posting_the_same_documents_again_updates_them(customer):
    post_invoice(customer, "INV-1", D(2026, 5, 1), "100")
    post_payment(customer, "PAY-1", D(2026, 5, 20), "60")

    post_invoice(customer, "INV-1", D(2026, 5, 1), "120")  # corrected in the ERP
    post_payment(customer, "PAY-1", D(2026, 5, 20), "50")

    invoice = Invoice.objects.get()
    assert invoice.open_base == Decimal("70.00")
    assert Payment.objects.count() == 1 and Allocation.objects.count() == 1
    assert exposure_of(customer).open_receivables == Decimal("70.00")
    with pytest.raises(LedgerError) as error:
        post_invoice(customer, "INV-1", D(2026, 5, 1), "40")  # less than was paid
    assert error.value.field == "amount"
    assert_matches_ledger(customer)


def test_an_invoice_turns_its_orders_reservation_into_a_receivable(customer):
    assert check_credit(customer, "1000", "SO-1", on_date=TODAY).released
    assert exposure_of(customer).open_orders == Decimal("1000.00")

    post_invoice(customer, "INV-1", TODAY, "600", order_number="SO-1")
    row = exposure_of(customer)
    assert (row.open_orders, row.open_receivables) == (Decimal("400.00"), Decimal("600.00"))

    invoice = post_invoice(customer, "INV-2", TODAY, "500", order_number="SO-1")
    row = exposure_of(customer)
    assert (row.open_orders, row.open_receivables) == (0, Decimal("1100.00"))
    assert invoice.order.status == OrderStatus.INVOICED and invoice.order_base == 400
    assert_matches_ledger(customer)


def test_days_late_is_settled_minus_due_and_never_negative(customer):
    late = post_invoice(customer, "INV-1", D(2026, 4, 1), "100")  # due 1 May
    early = post_invoice(customer, "INV-2", D(2026, 5, 1), "100")  # due 31 May
    post_payment(customer, "PAY-1", D(2026, 5, 13), "200")
    late.refresh_from_db(), early.refresh_from_db()
    assert (days_late(late), days_late(early)) == (12, 0)
    assert days_late(post_invoice(customer, "INV-3", D(2026, 6, 1), "1")) is None


def test_reposting_a_payment_gives_back_every_allocation_to_one_invoice(customer):
    """Found by the property test: a raised invoice takes a second allocation of the same
    payment, and undoing them must add both back to the invoice, not the last one only."""
    post_payment(customer, "PAY-1", D(2026, 5, 20), "38.82")
    post_invoice(customer, "INV-1", D(2026, 5, 1), "0.01")
    post_invoice(customer, "INV-1", D(2026, 5, 1), "1.08")  # takes 1.07 more of PAY-1
    assert Allocation.objects.count() == 2

    post_payment(customer, "PAY-1", D(2026, 5, 20), "0.50")

    invoice = Invoice.objects.get()
    assert invoice.open_base == Decimal("0.58") and invoice.settled_on is None
    assert exposure_of(customer).open_receivables == Decimal("0.58")
    assert_matches_ledger(customer)


def test_posting_documents_does_not_count_as_updating_the_credit_file(customer):
    """An invoice is the ERP's record, not new information on file: a stale file stays stale."""
    from creditfile.core.models import ObjectChange
    from creditfile.customers.models import Customer

    before = Customer.objects.values_list("file_updated_at", flat=True).get(pk=customer.pk)
    changes = ObjectChange.objects.count()
    post_invoice(customer, "INV-1", D(2026, 6, 1), "100")
    post_payment(customer, "PAY-1", D(2026, 6, 5), "100")
    check_credit(customer, "10", "SO-1", on_date=TODAY)

    assert Customer.objects.values_list("file_updated_at", flat=True).get(pk=customer.pk) == before
    assert ObjectChange.objects.count() == changes


def test_posting_the_same_payment_again_unchanged_keeps_the_invoice_within_its_amount(org):
    """Found by the property test: re-posting a payment undid its allocation twice."""
    from creditfile.receivables.models import Exposure, Invoice
    from creditfile.receivables.services.ledger import post_invoice, post_payment
    from creditfile.receivables.testing import credit_customer

    customer = credit_customer(org.cathy, "200000", name="重复回款有限公司")
    day = datetime.date(2026, 1, 1)
    post_invoice(customer, "INV-1", day, "0.41")
    post_payment(customer, "P-2", day, "0.01")
    post_payment(customer, "P-2", day, "0.01")
    invoice = Invoice.objects.get()
    assert invoice.open_base == Decimal("0.40")
    assert Exposure.objects.get().open_receivables == Decimal("0.40")
