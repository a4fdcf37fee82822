"""Completeness, staleness, lifecycle and history of a customer file (R-11, R-12)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from creditfile.core.history import acting_as
from creditfile.core.models import ObjectChange
from creditfile.customers.models import Contact, Customer, Visit
from creditfile.customers.services.completeness import completeness
from creditfile.customers.services.freshness import is_stale, stale_filter
from creditfile.customers.services.lifecycle import allowed_targets, change_lifecycle
from creditfile.customers.services.timeline import timeline
from creditfile.customers.testing import make_customer

SHANGHAI = ZoneInfo("Asia/Shanghai")


def changes_of(customer):
    return ObjectChange.objects.filter(
        root_type=ContentType.objects.get_for_model(Customer), root_id=customer.pk
    )


def test_it_scores_completeness_and_names_what_is_missing(org):
    customer = make_customer(owner=org.alice)
    score, missing = completeness(customer)
    assert "联系人" in missing and "往来银行" in missing
    before = score
    Contact.objects.create(customer=customer, name="王芳", mobile="13800000001", source="sales")
    customer.refresh_from_db()
    score, missing = completeness(customer)
    assert score > before
    assert "联系人" not in missing
    assert customer.completeness == score  # kept on the record for the list


def test_it_records_who_changed_which_field_from_what_to_what(org):
    customer = make_customer(owner=org.alice, legal_representative="张三")
    with acting_as(user=org.carl, label="web", request_id="req-1"):
        customer.legal_representative = "李四"
        customer.registered_capital = Decimal("5000000.00")
        customer.save()
    rows = {c.field: c for c in changes_of(customer).filter(action="update")}
    assert rows["legal_representative"].old_value == "张三"
    assert rows["legal_representative"].new_value == "李四"
    assert rows["legal_representative"].user == org.carl
    assert rows["legal_representative"].request_id == "req-1"
    assert rows["registered_capital"].new_value == "5000000.00"
    assert "name_pinyin" not in rows


def test_it_files_section_changes_under_the_customer(org):
    customer = make_customer(owner=org.alice)
    with acting_as(user=org.alice):
        contact = Contact.objects.create(
            customer=customer, name="王芳", mobile="13800000001", source="customer"
        )
        contact.mobile = "13900000002"
        contact.save()
        contact.delete()
    actions = list(
        changes_of(customer)
        .filter(content_type=ContentType.objects.get_for_model(Contact))
        .values_list("action", "field", "old_value", "new_value")
        .order_by("id")
    )
    assert actions[0][0] == "create"
    assert ("update", "mobile", "13800000001", "13900000002") in actions
    assert actions[-1][0] == "delete"
    entries = timeline(customer)
    assert any(
        e.kind == "change" and ("手机", "13800000001", "13900000002") in e.changes for e in entries
    )


def test_it_flags_a_file_not_updated_for_thirty_days(org):
    with time_machine.travel(datetime(2026, 1, 1, 10, tzinfo=SHANGHAI), tick=False):
        customer = make_customer(owner=org.alice)
    customer.refresh_from_db()
    with time_machine.travel(datetime(2026, 1, 30, 10, tzinfo=SHANGHAI), tick=False):
        assert not is_stale(customer)
        assert not Customer.objects.filter(stale_filter(), pk=customer.pk).exists()
    with time_machine.travel(datetime(2026, 2, 1, 10, tzinfo=SHANGHAI), tick=False):
        assert is_stale(customer)
        assert Customer.objects.filter(stale_filter(), pk=customer.pk).exists()


def test_it_flags_a_file_not_updated_on_the_day_of_a_visit(org):
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=SHANGHAI), tick=False):
        customer = make_customer(owner=org.alice)
    with time_machine.travel(datetime(2026, 3, 5, 18, tzinfo=SHANGHAI), tick=False):
        Visit.objects.create(customer=customer, visit_date=date(2026, 3, 5), purpose="例行拜访")
        customer.refresh_from_db()
        assert customer.last_visit_on == date(2026, 3, 5)
        assert is_stale(customer)
        assert Customer.objects.filter(stale_filter(), pk=customer.pk).exists()
        # Bringing the file up to date the same day clears the flag.
        Contact.objects.create(customer=customer, name="赵六", mobile="13700000003", source="sales")
        customer.refresh_from_db()
        assert not is_stale(customer)
        assert not Customer.objects.filter(stale_filter(), pk=customer.pk).exists()


def test_it_moves_through_the_lifecycle_and_records_each_move(org):
    customer = make_customer(owner=org.alice)
    assert customer.lifecycle == "prospect"
    change_lifecycle(customer, "new", "", org.alice)
    change_lifecycle(customer, "active", "首单已签", org.alice)
    customer = change_lifecycle(customer, "lost", "被竞争对手以更长账期挖走", org.mary)
    moves = list(
        customer.lifecycle_transitions.order_by("changed_at", "id").values_list(
            "from_state", "to_state", "changed_by__username"
        )
    )
    assert moves == [
        ("prospect", "new", "alice"),
        ("new", "active", "alice"),
        ("active", "lost", "mary"),
    ]
    assert customer.lifecycle_reason == "被竞争对手以更长账期挖走"


def test_it_requires_a_reason_to_lose_or_blacklist_a_customer(org):
    customer = make_customer(owner=org.alice, lifecycle="active")
    for target in ("lost", "blacklisted"):
        with pytest.raises(ValidationError) as exc:
            change_lifecycle(customer, target, "  ", org.alice)
        assert "reason" in exc.value.message_dict
    customer.refresh_from_db()
    assert customer.lifecycle == "active"
    assert not customer.lifecycle_transitions.exists()


def test_it_refuses_moves_the_lifecycle_does_not_allow(org):
    customer = make_customer(owner=org.alice)
    assert "dormant" not in allowed_targets(customer)
    with pytest.raises(ValidationError) as exc:
        change_lifecycle(customer, "dormant", "无交易", org.alice)
    assert "不能从" in exc.value.message_dict["to_state"][0]


def test_it_validates_dates_in_order_and_the_credit_code(org):
    customer = Customer(
        name="测试有限公司",
        uscc="914403001922038217",
        source="sales",
        established_on=date(2020, 5, 1),
        first_trade_on=date(2019, 1, 1),
    )
    with pytest.raises(ValidationError) as exc:
        customer.full_clean()
    errors = exc.value.message_dict
    assert "校验位" in errors["uscc"][0]
    assert "首次交易日期不能早于成立日期" in errors["first_trade_on"][0]


def test_it_requires_a_credit_code_for_domestic_companies_only(org):
    domestic = Customer(name="某某有限公司", source="sales")
    with pytest.raises(ValidationError) as exc:
        domestic.full_clean()
    assert "uscc" in exc.value.message_dict
    foreign = Customer(name="ACME GmbH", source="sales", is_international=True, country="德国")
    foreign.full_clean()


def test_it_keeps_the_credit_code_unique(org):
    customer = make_customer(owner=org.alice)
    clash = Customer(name="另一家公司", uscc=customer.uscc, source="sales")
    with pytest.raises(ValidationError) as exc:
        clash.full_clean()
    assert "uscc" in exc.value.message_dict


def test_it_does_not_count_the_visit_itself_as_an_update(org):
    customer = make_customer(owner=org.alice)
    customer.refresh_from_db()
    updated = customer.file_updated_at
    Visit.objects.create(
        customer=customer, visit_date=date.today() - timedelta(days=0), purpose="回访"
    )
    customer.refresh_from_db()
    assert customer.file_updated_at == updated


def test_an_observation_counts_as_a_visit_record_for_completeness(org):
    from creditfile.customers.models import Observation

    customer = make_customer(owner=org.alice)
    assert "拜访或观察记录" in completeness(customer)[1]
    with acting_as(user=org.alice):
        Observation.objects.create(
            customer=customer, channel="call", answer_speed="good", payment_habits="月底前付款"
        )
    customer.refresh_from_db()
    assert "拜访或观察记录" not in completeness(customer)[1]
    assert (
        changes_of(customer)
        .filter(
            content_type=ContentType.objects.get_for_model(Observation),
            action="create",
            user=org.alice,
        )
        .exists()
    )
