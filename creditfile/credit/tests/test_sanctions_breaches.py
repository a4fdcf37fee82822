"""Our own breaches 本企业失信 (R-28): recorded, corrected, someone answers for them."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from creditfile.credit.choices import BreachKind
from creditfile.credit.services import sanctions
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.testing import make_customer

NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 2)


def _record(user, **fields):
    fields.setdefault("kind", BreachKind.OUR_ARREARS)
    fields.setdefault("occurred_on", datetime.date(2026, 2, 1))
    fields.setdefault("description", "未按合同约定期限支付供应商货款")
    return sanctions.record_breach(user, **fields)


@time_machine.travel(NOW, tick=False)
def test_it_records_a_breach_with_who_recorded_it(org):
    customer = make_customer(owner=org.alice)
    breach = _record(org.carl, customer=customer, amount=Decimal("12000"))
    assert breach.recorded_by == org.carl and breach.closed_on is None
    assert breach.customer == customer


@time_machine.travel(NOW, tick=False)
def test_it_validates_the_record_field_by_field(org):
    with pytest.raises(ValidationError) as invalid:
        _record(
            org.carl,
            description=" ",
            occurred_on=datetime.date(2026, 3, 3),
            amount=Decimal("-1"),
        )
    assert set(invalid.value.message_dict) == {"description", "occurred_on", "amount"}
    with pytest.raises(ValidationError) as invalid:
        _record(org.carl, counterparty_notified_on=datetime.date(2026, 1, 1))
    assert "counterparty_notified_on" in invalid.value.message_dict


def test_it_refuses_people_without_the_right(org):
    for user in (org.alice, org.fiona, org.audrey):
        with pytest.raises(WorkflowError) as refused:
            _record(user)
        assert refused.value.code == "forbidden"


@time_machine.travel(NOW, tick=False)
def test_it_closes_only_with_corrective_action_and_someone_responsible(org):
    breach = _record(org.carl)
    with pytest.raises(WorkflowError, match="纠正措施"):
        sanctions.close_breach(breach, org.cathy)
    with pytest.raises(WorkflowError, match="责任"):
        sanctions.close_breach(breach, org.cathy, corrective_action="补付货款并致歉")
    sanctions.update_breach(breach, org.carl, responsible_person=org.fiona)
    with pytest.raises(WorkflowError, match="早于"):
        sanctions.close_breach(
            breach, org.cathy, datetime.date(2026, 1, 1), corrective_action="补付货款"
        )
    sanctions.close_breach(breach, org.cathy, corrective_action="补付货款并致歉")
    breach.refresh_from_db()
    assert breach.closed_on == TODAY and breach.corrective_action == "补付货款并致歉"
    with pytest.raises(WorkflowError, match="已于"):
        sanctions.close_breach(breach, org.cathy)
    with pytest.raises(WorkflowError, match="已结案"):
        sanctions.update_breach(breach, org.carl, description="改写")
