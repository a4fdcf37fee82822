"""The credit check on every order: released or blocked with every reason (R-19)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from creditfile.core.models import Company
from creditfile.credit.choices import LineStatus, MeasureKind
from creditfile.credit.models import CreditLine, Measure
from creditfile.customers.choices import Lifecycle
from creditfile.receivables.choices import OrderStatus, ReceivablesCounted
from creditfile.receivables.models import CreditControl, Exposure, SalesOrder
from creditfile.receivables.services.checks import (
    check_credit,
    recheck,
    reject_blocked,
    release_blocked,
)
from creditfile.receivables.services.ledger import LedgerError, post_invoice, post_payment
from creditfile.receivables.testing import TODAY, credit_customer

D = datetime.date


@pytest.fixture
def customer(org):
    return credit_customer(org.cathy, "100000", term_days=30)


def codes(result):
    return [reason.code for reason in result.reasons]


def open_orders(customer):
    return Exposure.objects.get(customer=customer).open_orders


def test_an_order_within_the_limit_is_released_and_reserves_its_amount(customer):
    result = check_credit(customer, "60000", "SO-1", on_date=TODAY)

    assert result.released and result.reasons == []
    assert result.order.status == OrderStatus.RELEASED
    assert (result.limit, result.open_orders) == (Decimal("100000.00"), Decimal("60000.00"))
    assert result.utilisation_percent == Decimal("60.0")
    assert open_orders(customer) == Decimal("60000.00")


def test_an_order_over_the_limit_is_blocked_saying_by_how_much(customer):
    check_credit(customer, "60000", "SO-1", on_date=TODAY)
    post_invoice(customer, "INV-1", TODAY, "30000")

    result = check_credit(customer, "15000", "SO-2", on_date=TODAY)

    assert result.released is False and codes(result) == ["over_limit"]
    assert result.reasons[0].amount == Decimal("5000.00")
    assert "5,000.00" in result.reasons[0].message
    assert result.order.status == OrderStatus.BLOCKED
    assert result.order.check_reasons[0]["code"] == "over_limit"
    assert open_orders(customer) == Decimal("60000.00")  # nothing reserved for SO-2


def test_a_customer_without_a_line_or_with_an_expired_one_is_blocked(org):
    from creditfile.customers.testing import make_customer

    newcomer = make_customer("新客户有限公司")
    assert codes(check_credit(newcomer, "1", "SO-1", on_date=TODAY)) == ["no_line"]
    lapsed = credit_customer(org.cathy, name="过期客户有限公司", valid_until=D(2026, 3, 31))
    assert codes(check_credit(lapsed, "1", "SO-2", on_date=TODAY)) == ["line_expired"]


def test_overdue_beyond_the_tolerance_blocks_even_within_the_limit(customer):
    CreditControl.objects.create(
        company=Company.default(), overdue_tolerance_days=10, overdue_tolerance_amount=500
    )
    post_invoice(customer, "INV-1", D(2026, 5, 1), "2000")  # due 31 May
    assert check_credit(customer, "100", "SO-1", on_date=D(2026, 6, 10)).released  # 10 days

    result = check_credit(customer, "100", "SO-2", on_date=D(2026, 6, 11))
    assert codes(result) == ["overdue"]
    assert result.reasons[0].amount == Decimal("2000.00")
    assert result.oldest_overdue_days == 11

    post_payment(customer, "PAY-1", D(2026, 6, 11), "1600")  # 400 left: within 500
    assert recheck(result.order, on_date=D(2026, 6, 11)).released


def test_every_reason_is_given_at_once(customer, org):
    customer.lifecycle = Lifecycle.BLACKLISTED
    customer.save()
    Measure.objects.create(
        customer=customer,
        kind=MeasureKind.STOP_SUPPLY,
        reason="恶意拖欠",
        decided_by=org.cathy,
        decided_on=D(2026, 6, 1),
        effective_from=D(2026, 6, 1),
    )
    CreditLine.objects.filter(customer=customer).update(cash_on_delivery=True)

    result = check_credit(customer, "1", "SO-1", on_date=TODAY)

    assert codes(result) == ["blacklisted", "sanction", "cash_on_delivery"]


def test_a_lifted_measure_no_longer_blocks(customer, org):
    Measure.objects.create(
        customer=customer,
        kind=MeasureKind.STOP_CREDIT_SALES,
        reason="逾期",
        decided_by=org.cathy,
        decided_on=D(2026, 5, 1),
        effective_from=D(2026, 5, 1),
        ended_on=D(2026, 6, 1),
    )
    assert check_credit(customer, "1", "SO-1", on_date=TODAY).released


def test_raising_an_orders_amount_checks_the_increase_and_lowering_frees_it(customer):
    check_credit(customer, "90000", "SO-1", on_date=TODAY)
    assert check_credit(customer, "95000", "SO-1", on_date=TODAY).released
    assert open_orders(customer) == Decimal("95000.00")

    raised = check_credit(customer, "120000", "SO-1", on_date=TODAY)
    assert not raised.released and raised.reasons[0].amount == Decimal("20000.00")
    assert open_orders(customer) == 0  # the order as it now stands is blocked whole

    assert check_credit(customer, "30000", "SO-1", on_date=TODAY).released
    assert open_orders(customer) == Decimal("30000.00")
    assert SalesOrder.objects.count() == 1


def test_what_counts_against_the_limit_is_the_companys_choice(customer):
    post_invoice(customer, "INV-1", TODAY, "90000")  # not yet due
    assert codes(check_credit(customer, "20000", "SO-1", on_date=TODAY)) == ["over_limit"]

    CreditControl.objects.create(
        company=Company.default(), receivables_counted=ReceivablesCounted.OVERDUE_ONLY
    )
    assert check_credit(customer, "20000", "SO-1", on_date=TODAY).released


def test_a_blocked_order_is_released_only_by_an_authorised_person_with_a_reason(customer, org):
    blocked = check_credit(customer, "150000", "SO-1", on_date=TODAY).order

    with pytest.raises(PermissionDenied):
        release_blocked(blocked, org.alice, "老客户")  # a sales rep
    with pytest.raises(LedgerError) as error:
        release_blocked(blocked, org.cathy, "  ")
    assert error.value.field == "reason"

    released = release_blocked(blocked, org.cathy, "总经理同意，一周内回款")
    assert released.status == OrderStatus.RELEASED and released.decided_by == org.cathy
    assert released.check_reasons[0]["code"] == "over_limit"  # why it was blocked stays
    assert open_orders(customer) == Decimal("150000.00")
    with pytest.raises(LedgerError):
        reject_blocked(released, org.cathy, "重复")
    with pytest.raises(LedgerError, match="不在冻结状态"):
        recheck(released, on_date=TODAY)


def test_a_rejected_order_reserves_nothing(customer, org):
    blocked = check_credit(customer, "150000", "SO-1", on_date=TODAY).order
    assert reject_blocked(blocked, org.cathy, "超额").status == OrderStatus.REJECTED
    assert open_orders(customer) == 0


def test_an_order_number_belongs_to_one_customer(customer, org):
    other = credit_customer(org.cathy, name="另一客户有限公司")
    check_credit(customer, "1", "SO-1", on_date=TODAY)
    with pytest.raises(LedgerError) as error:
        check_credit(other, "1", "SO-1", on_date=TODAY)
    assert error.value.field == "order_ref"


def test_a_group_line_caps_the_sum_over_our_companies(customer, org):
    sister = Company.objects.create(name="华南子公司")
    CreditLine.objects.create(
        customer=customer,
        company=sister,
        status=LineStatus.ACTIVE,
        grade="B",
        limit=Decimal("100000"),
        term_days=30,
        granted_by=org.cathy,
        valid_from=D(2026, 1, 1),
    )
    CreditLine.objects.create(
        customer=customer,
        company=None,
        status=LineStatus.ACTIVE,
        grade="B",
        limit=Decimal("120000"),
        term_days=30,
        granted_by=org.cathy,
        valid_from=D(2026, 1, 1),
    )
    assert check_credit(customer, "80000", "SO-1", on_date=TODAY).released
    result = check_credit(customer, "50000", "SO-2", company=sister, on_date=TODAY)
    assert codes(result) == ["over_group_limit"]
    assert result.reasons[0].amount == Decimal("10000.00")
