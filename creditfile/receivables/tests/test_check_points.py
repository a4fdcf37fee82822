"""Where the check runs (order entry, release, delivery, invoice) and every path that
creates or revives exposure: copying, reopening, raising the amount (issue 4, R-19)."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError

from creditfile.core.models import Company
from creditfile.receivables.choices import CheckPoint, OrderStatus
from creditfile.receivables.models import CreditControl, Exposure, SalesOrder
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.ledger import LedgerError, post_invoice
from creditfile.receivables.services.orders import cancel_order, copy_order, reopen_order
from creditfile.receivables.testing import TODAY, credit_customer

E, R, D, INV = CheckPoint.ENTRY, CheckPoint.RELEASE, CheckPoint.DELIVERY, CheckPoint.INVOICE
EARLY = datetime.date(2026, 5, 1)


def control(*points, **counting):
    return CreditControl.objects.create(
        company=Company.default(),
        **{f"check_on_{p}": p in points for p in CheckPoint.values},
        **counting,
    )


def held(customer):
    row = Exposure.objects.get(customer=customer)
    return row.open_orders, row.delivered_orders


@pytest.fixture
def customer(org):
    return credit_customer(org.cathy, "100000", owner=org.alice)


def overdue_invoice(customer, amount="5000"):
    """An invoice due 31 May: overdue on TODAY, with a tolerance of 0."""
    post_invoice(customer, "INV-OLD", datetime.date(2026, 5, 1), amount)


def test_by_default_the_check_runs_at_entry_only(customer):
    check_credit(customer, "40000", "SO-1", on_date=EARLY)
    overdue_invoice(customer)
    for point in (R, D, INV):  # overdue now, but these steps do not check
        result = check_credit(customer, "40000", "SO-1", point=point, on_date=TODAY)
        assert result.released and not result.checked
    assert SalesOrder.objects.get().stage == INV
    assert held(customer) == (Decimal("40000"), Decimal("40000"))


def test_before_the_first_check_point_an_order_is_recorded_and_holds_nothing(customer):
    control(R)
    result = check_credit(customer, "150000", "SO-1", point=E, on_date=TODAY)
    assert result.released and not result.checked
    assert result.order.status == OrderStatus.ENTERED and held(customer) == (0, 0)

    result = check_credit(customer, "150000", "SO-1", point=R, on_date=TODAY)
    assert not result.released and [r.code for r in result.reasons] == ["over_limit"]
    assert held(customer) == (0, 0)


def test_an_order_that_skips_the_checking_step_is_checked_where_it_turns_up(customer):
    control(R)
    check_credit(customer, "150000", "SO-1", point=E, on_date=TODAY)
    result = check_credit(customer, "150000", "SO-1", point=D, on_date=TODAY)  # no release
    assert result.checked and not result.released and result.order.stage == D


def test_a_later_checking_step_checks_a_held_order_again_and_frees_it_when_blocked(customer):
    control(E, D)
    check_credit(customer, "40000", "SO-1", on_date=EARLY)
    overdue_invoice(customer)
    assert check_credit(customer, "40000", "SO-1", point=R, on_date=TODAY).released  # not here
    result = check_credit(customer, "40000", "SO-1", point=D, on_date=TODAY)
    assert result.checked and not result.released
    assert [r.code for r in result.reasons] == ["overdue"]
    assert held(customer) == (0, 0)  # the blocked order holds nothing

    again = check_credit(customer, "40000", "SO-1", point=D, on_date=TODAY)  # same step
    assert again.checked and not again.released  # still blocked: checked until it passes


def test_a_raised_amount_is_checked_at_any_step(customer):
    control(E)
    check_credit(customer, "60000", "SO-1", on_date=TODAY)
    result = check_credit(customer, "120000", "SO-1", point=D, on_date=TODAY)
    assert result.checked and not result.released
    assert result.reasons[0].code == "over_limit" and result.reasons[0].amount == 20000


def test_delivered_not_invoiced_is_its_own_category(customer):
    control(E, count_open_orders=False, count_delivered=True)
    check_credit(customer, "70000", "SO-1", on_date=TODAY)
    # Not delivered, so not counted: a second order of 70,000 still fits.
    assert check_credit(customer, "70000", "SO-2", on_date=TODAY).released
    check_credit(customer, "70000", "SO-1", point=D, on_date=TODAY)
    assert held(customer) == (Decimal("140000"), Decimal("70000"))
    result = check_credit(customer, "40000", "SO-3", on_date=TODAY)
    assert not result.released and result.reasons[0].amount == 10000  # 70,000 + 40,000

    post_invoice(customer, "INV-1", TODAY, "30000", order_number="SO-1")
    assert held(customer) == (Decimal("110000"), Decimal("40000"))
    customer_id, company_id = customer.pk, Company.default().pk
    assert held(customer)[1] == exposures.recompute_delivered(customer_id, company_id)


def test_cancelling_frees_the_reservation_and_reopening_checks_again(customer):
    order = check_credit(customer, "80000", "SO-1", on_date=TODAY).order
    cancel_order(order, "客户取消")
    assert held(customer) == (0, 0)
    check_credit(customer, "50000", "SO-2", on_date=TODAY)  # the room is taken meanwhile

    result = reopen_order(order, on_date=TODAY)
    assert not result.released and result.reasons[0].amount == 30000
    assert held(customer) == (Decimal("50000"), 0)

    with pytest.raises(LedgerError):
        reopen_order(result.order)  # blocked is not closed: re-check it instead


def test_a_fully_invoiced_order_reopens_only_with_a_larger_amount(customer):
    order = check_credit(customer, "30000", "SO-1", on_date=TODAY).order
    post_invoice(customer, "INV-1", TODAY, "30000", order_number="SO-1")
    order.refresh_from_db()
    assert order.status == OrderStatus.INVOICED
    with pytest.raises(LedgerError) as refused:
        reopen_order(order, on_date=TODAY)
    assert refused.value.field == "amount"
    result = reopen_order(order, amount="45000", on_date=TODAY)
    assert result.released and held(customer) == (Decimal("15000"), 0)


def test_a_copy_is_a_new_order_checked_in_full(customer):
    order = check_credit(customer, "60000", "SO-1", on_date=TODAY).order
    copy = copy_order(order, "SO-1-COPY", on_date=TODAY)
    assert not copy.released and copy.order.copied_from == order
    assert [r.code for r in copy.reasons] == ["over_limit"]
    with pytest.raises(LedgerError):
        copy_order(order, "SO-1-COPY")  # the number is taken


def test_a_company_must_check_somewhere(db):
    with pytest.raises(IntegrityError):
        CreditControl.objects.create(
            company=Company.default(),
            check_on_entry=False,
            check_on_release=False,
            check_on_delivery=False,
            check_on_invoice=False,
        )


def test_an_unknown_step_names_the_field(customer):
    with pytest.raises(LedgerError) as refused:
        check_credit(customer, "1000", "SO-1", point="shipping", on_date=TODAY)
    assert refused.value.field == "point"


def test_utilisation_is_what_counts_under_the_companys_settings(customer):
    control(E, receivables_counted="overdue_only")
    post_invoice(customer, "INV-1", TODAY, "50000")  # not due: does not count
    result = check_credit(customer, "20000", "SO-1", on_date=TODAY)
    assert result.released and result.utilisation_percent == Decimal("20.0")
