"""The timeline tab (R-11): history of every change, lifecycle moves, events by hand."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from creditfile.customers.models import Contact, FileEvent, KeyPerson
from creditfile.customers.testing import make_customer

NOW = datetime(2026, 3, 16, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = "2026-03-16"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def customer(org):
    return make_customer("华信科技有限公司", owner=org.alice, legal_representative="张三")


def timeline_page(client, customer):
    return client.get(reverse("customers:timeline", args=[customer.pk]))


def changes_on(response) -> list[tuple]:
    """(who, field label, old, new) of every change shown."""
    return [
        (entry.who, *change)
        for entry, _kind, changes in response.context["entries"]
        for change in changes
    ]


def test_it_shows_who_changed_which_field_from_what_to_what(client, org, customer):
    client.force_login(org.alice)
    data = {
        "name": customer.name,
        "uscc": customer.uscc,
        "kind": customer.kind,
        "country": "中国",
        "currency": "CNY",
        "owner": org.alice.pk,
        "department": customer.department_id,
        "legal_representative": "李四",
        "source": "sales",
        "source_date": TODAY,
    }
    assert client.post(reverse("customers:edit", args=[customer.pk]), data).status_code == 302

    response = timeline_page(client, customer)

    assert ("Alice", "法定代表人", "张三", "李四") in changes_on(response)
    html = response.content.decode()
    assert "法定代表人" in html and "张三" in html and "李四" in html


def test_it_shows_section_changes_on_the_customers_timeline(client, org, customer):
    contact = Contact.objects.create(
        customer=customer, name="王芳", mobile="13800000001", source="sales"
    )
    client.force_login(org.alice)
    client.post(
        reverse("customers:section_edit", args=[customer.pk, "contacts", contact.pk]),
        {"name": "王芳", "mobile": "13900000002", "source": "sales", "source_date": TODAY},
    )
    assert ("Alice", "手机", "13800000001", "13900000002") in changes_on(
        timeline_page(client, customer)
    )


def test_it_logs_a_significant_event_by_hand(client, org, customer):
    client.force_login(org.alice)
    page = timeline_page(client, customer)
    assert 'id="event-form"' in page.content.decode()

    url = reverse("customers:section_add", args=[customer.pk, "events"])
    missing = client.post(url, {"occurred_on": TODAY, "severity": "critical", "title": ""})
    assert "title" in {bf.name for bf, errors in missing.context["f"]["rows"] if errors}

    response = client.post(
        url,
        {"occurred_on": "2026-03-10", "severity": "critical", "title": "法定代表人变更"},
    )
    assert response["Location"] == reverse("customers:timeline", args=[customer.pk])
    event = FileEvent.objects.get()
    assert event.recorded_by == org.alice
    titles = [entry.title for entry, _k, _c in timeline_page(client, customer).context["entries"]]
    assert "重大：法定代表人变更" in titles


def test_it_checks_the_event_form_inline(client, org, customer):
    client.force_login(org.alice)
    response = client.post(
        reverse("customers:section_validate", args=[customer.pk, "events"]),
        {"occurred_on": "not-a-date", "severity": "critical", "title": "x"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER_NAME="occurred_on",
    )
    errors = {bf.name: e for bf, e in response.context["f"]["rows"] if e}
    assert list(errors) == ["occurred_on"]
    assert 'id="event-form_nonfield_errors" hx-swap-oob="true"' in response.content.decode()


def test_it_shows_lifecycle_moves_with_their_reason(client, org, customer):
    client.force_login(org.alice)
    client.post(reverse("customers:lifecycle", args=[customer.pk]), {"to_state": "new"})
    client.post(
        reverse("customers:lifecycle", args=[customer.pk]),
        {"to_state": "dormant", "reason": "半年未下单"},
    )
    html = timeline_page(client, customer).content.decode()
    assert "状态变更：潜在客户 → 新客户" in html
    assert "状态变更：新客户 → 休眠客户" in html and "半年未下单" in html


def test_it_shows_correspondence_filed_through_the_form(client, org, customer):
    client.force_login(org.alice)
    client.post(
        reverse("customers:section_add", args=[customer.pk, "correspondence"]),
        {
            "occurred_at": "2026-03-12T09:30",
            "channel": "email",
            "direction": "in",
            "subject": "对账单确认",
        },
    )
    html = timeline_page(client, customer).content.decode()
    assert "电子邮件（来）：对账单确认" in html


def test_it_keeps_personal_details_out_of_the_history_for_everyone(client, org, customer):
    from creditfile.core.models import ObjectChange

    person = KeyPerson.objects.create(
        customer=customer,
        name="赵丽华",
        role="legal_rep",
        hobbies="高尔夫球",
        source="sales",
        retention_until=date(2029, 1, 1),
    )
    client.force_login(org.mary)
    client.post(
        reverse("customers:section_edit", args=[customer.pk, "key-persons", person.pk]),
        {
            "name": "赵丽华",
            "role": "legal_rep",
            "hobbies": "网球",
            "birthday": "1975-06-01",
            "purpose": "信用评估",
            "legal_basis": "consent",
            "consent_reference": "档案室A柜3号卷",
            "retention_until": "2029-01-01",
            "source": "sales",
            "source_date": TODAY,
        },
    )
    person.refresh_from_db()
    assert person.birthday == date(1975, 6, 1) and person.hobbies == "网球"
    stored = list(ObjectChange.objects.filter(object_id=person.pk, action="update"))
    assert {c.field for c in stored} >= {"hobbies", "birthday"}
    assert not any(c.old_value or c.new_value for c in stored if c.field in person.PRIVATE_FIELDS)

    for user in (org.mary, org.alice):
        client.force_login(user)
        response = timeline_page(client, customer)
        assert ("Mary", "兴趣爱好", "●●●", "●●●") in changes_on(response)
        html = response.content.decode()
        assert "高尔夫球" not in html and "网球" not in html and "1975-06-01" not in html
