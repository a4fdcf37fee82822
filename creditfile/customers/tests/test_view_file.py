"""The customer page and the screens that create and edit a credit file (R-01…R-12)."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from creditfile.customers.models import (
    BankAccount,
    Certification,
    Characteristics,
    Contact,
    Customer,
    FinancialStatement,
    KeyPerson,
    Visit,
)
from creditfile.customers.testing import make_customer, valid_uscc
from creditfile.customers.views import file as file_views

NOW = datetime(2026, 3, 16, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = "2026-03-16"
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def customer(org):
    return make_customer("华信科技有限公司", owner=org.alice, legal_representative="张三")


def login(client, user):
    client.force_login(user)
    return client


def customer_data(org, **overrides):
    data = {
        "name": "苏州华东机电设备有限公司",
        "uscc": valid_uscc(),
        "kind": "distributor",
        "country": "中国",
        "currency": "CNY",
        "owner": org.alice.pk,
        "department": org.departments["sales_east"].pk,
        "legal_representative": "赵丽华",
        "source": "government",
        "source_date": TODAY,
    }
    data.update(overrides)
    return data


def contact_data(**overrides):
    data = {"name": "王芳", "mobile": "13800000001", "source": "customer", "source_date": TODAY}
    data.update(overrides)
    return data


def statement_data(**overrides):
    data = {
        "period_end": "2025-12-31",
        "period_type": "annual",
        "currency": "CNY",
        "current_assets": "6000000.00",
        "inventory": "1000000.00",
        "total_assets": "10000000.00",
        "current_liabilities": "3000000.00",
        "total_liabilities": "4000000.00",
        "equity": "6000000.00",
        "revenue": "20000000.00",
        "cost_of_sales": "15000000.00",
        "net_profit": "1200000.00",
        "source": "customer",
        "source_date": TODAY,
    }
    data.update(overrides)
    return data


def errors_of(response) -> dict:
    """Field → shown error messages of the form rendered in the response."""
    return {bf.name: errors for bf, errors in response.context["f"]["rows"] if errors}


# --- Creating and editing the customer ---------------------------------------------------


def test_it_creates_a_customer_through_the_form(client, org):
    login(client, org.alice)
    page = client.get(reverse("customers:create"))
    assert page.status_code == 200
    assert page.context["f"]["form"]["owner"].value() == org.alice.pk  # a new file is hers

    response = client.post(reverse("customers:create"), customer_data(org))

    customer = Customer.objects.get(name="苏州华东机电设备有限公司")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.owner == org.alice
    assert customer.entered_by == org.alice
    assert customer.source == "government"
    assert customer.verified_at is None


def test_it_shows_the_exact_message_for_a_wrong_uscc_check_digit(client, org):
    good = valid_uscc()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    login(client, org.alice)

    response = client.post(reverse("customers:create"), customer_data(org, uscc=wrong))

    assert response.status_code == 200
    message = f"统一社会信用代码校验位错误：第18位应为“{good[17]}”，实际为“{wrong[17]}”。"
    assert message in response.content.decode()
    assert errors_of(response) == {"uscc": [message]}
    assert not Customer.objects.exists()


def test_it_checks_a_field_inline_and_reports_only_touched_fields(client, org):
    login(client, org.alice)
    response = client.post(
        reverse("customers:create_validate"),
        {"uscc": "91440300MA5ABCDE", "kind": "distributor", "source": "", "name": ""},
        HTTP_HX_TRIGGER_NAME="uscc",
        **HX,
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and "<input" not in body  # error lists only, never the inputs
    assert errors_of(response) == {"uscc": ["统一社会信用代码应为18位，实际为16位。"]}
    assert 'id="id_uscc_errors" hx-swap-oob="true"' in body  # swapped in place by id
    assert not Customer.objects.exists()


def test_it_refuses_a_new_file_its_creator_could_no_longer_edit(client, org):
    login(client, org.alice)
    data = customer_data(org, owner=org.walt.pk, department=org.departments["sales_west"].pk)

    response = client.post(reverse("customers:create"), data)

    assert response.status_code == 200
    assert "owner" in errors_of(response)
    assert not Customer.objects.exists()  # nothing half-written


def test_it_edits_the_basic_data_and_drops_the_stale_verification(client, org, customer):
    customer.verified_by, customer.verified_at = org.carl, NOW
    customer.save()
    login(client, org.alice)
    data = customer_data(org, name=customer.name, uscc=customer.uscc, legal_representative="李四")

    response = client.post(reverse("customers:edit", args=[customer.pk]), data)

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.legal_representative == "李四"
    assert customer.verified_at is None and customer.entered_by == org.alice


def test_it_validates_the_edit_form_inline_with_the_model_rules(client, org, customer):
    login(client, org.alice)
    data = customer_data(
        org, uscc=customer.uscc, established_on="2020-05-01", first_trade_on="2019-01-01"
    )
    response = client.post(
        reverse("customers:edit_validate", args=[customer.pk]),
        data,
        HTTP_HX_TRIGGER_NAME="first_trade_on",
        **HX,
    )
    assert errors_of(response) == {"first_trade_on": ["首次交易日期不能早于成立日期。"]}
    customer.refresh_from_db()
    assert customer.first_trade_on is None


def test_it_shows_the_edit_form_inside_the_file(client, org, customer):
    login(client, org.alice)
    response = client.get(reverse("customers:edit", args=[customer.pk]), **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="file-form"' in html and "编辑基本信息" in html


# --- Sections -------------------------------------------------------------------------------


def test_it_adds_edits_and_deletes_a_contact(client, org, customer):
    login(client, org.alice)
    add = reverse("customers:section_add", args=[customer.pk, "contacts"])
    assert client.get(add).status_code == 200

    response = client.post(add, contact_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:section", args=[customer.pk, "contacts"])
    contact = Contact.objects.get(customer=customer)
    assert contact.entered_by == org.alice and contact.source == "customer"

    edit = reverse("customers:section_edit", args=[customer.pk, "contacts", contact.pk])
    client.post(edit, contact_data(mobile="13900000002"))
    contact.refresh_from_db()
    assert contact.mobile == "13900000002"

    client.post(reverse("customers:section_delete", args=[customer.pk, "contacts", contact.pk]))
    assert not Contact.objects.filter(customer=customer).exists()


def test_it_keeps_a_contact_without_any_way_to_reach_out_of_the_file(client, org, customer):
    login(client, org.alice)
    response = client.post(
        reverse("customers:section_add", args=[customer.pk, "contacts"]),
        contact_data(mobile=""),
    )
    assert errors_of(response) == {"mobile": ["电话、手机、电子邮件至少填写一项。"]}
    assert not Contact.objects.exists()


def test_it_refuses_a_statement_whose_balance_sheet_does_not_balance(client, org, customer):
    login(client, org.alice)
    response = client.post(
        reverse("customers:section_add", args=[customer.pk, "financials"]),
        statement_data(equity="5000000.00"),
    )
    assert errors_of(response) == {
        "equity": ["资产总计应等于负债合计加所有者权益合计（相差1,000,000.00元）。"]
    }
    assert not FinancialStatement.objects.exists()


def test_it_names_the_period_when_a_statement_already_exists(client, org, customer):
    login(client, org.alice)
    url = reverse("customers:section_add", args=[customer.pk, "financials"])
    client.post(url, statement_data())
    response = client.post(url, statement_data())
    assert errors_of(response) == {"period_end": ["该客户已有截止日为2025-12-31的年报。"]}
    assert FinancialStatement.objects.count() == 1


def test_it_shows_statements_side_by_side_with_their_ratios(client, org, customer):
    login(client, org.alice)
    url = reverse("customers:section_add", args=[customer.pk, "financials"])
    client.post(url, statement_data())
    client.post(
        url,
        statement_data(period_end="2024-12-31", current_assets="4500000.00", equity="6000000.00"),
    )

    response = client.get(reverse("customers:section", args=[customer.pk, "financials"]))
    html = response.content.decode()
    assert "流动比率" in html and "资产负债率（%）" in html
    ratio_rows = dict(response.context["ratio_rows"])
    assert ratio_rows["流动比率"] == ["1.50", "2.00"]  # oldest period first
    assert ratio_rows["资产负债率（%）"] == ["40.00", "40.00"]
    assert html.index("2024-12-31") < html.index("2025-12-31")


def test_it_refuses_a_certificate_that_expires_before_it_is_issued(client, org, customer):
    login(client, org.alice)
    url = reverse("customers:section_add", args=[customer.pk, "certifications"])
    data = {
        "kind": "production_licence",
        "name": "全国工业产品生产许可证",
        "issued_on": "2025-01-01",
        "expires_on": "2024-12-31",
        "source": "government",
        "source_date": TODAY,
    }
    response = client.post(url, data)
    assert errors_of(response) == {"expires_on": ["有效期不能早于发证日期。"]}
    assert not Certification.objects.exists()

    client.post(url, data | {"expires_on": "2030-12-31"})
    assert Certification.objects.get().expires_on == date(2030, 12, 31)


def test_it_records_a_visit_and_moves_the_last_visit_date(client, org, customer):
    login(client, org.alice)
    url = reverse("customers:section_add", args=[customer.pk, "visits"])
    data = {"visit_date": "2026-03-15", "purpose": "季度回访", "report_type": "routine"}

    future = client.post(url, data | {"visit_date": "2026-03-20"})
    assert "visit_date" in errors_of(future)

    response = client.post(url, data)
    assert response["Location"] == reverse("customers:section", args=[customer.pk, "sales"])
    visit = Visit.objects.get()
    assert visit.recorded_by == org.alice
    customer.refresh_from_db()
    assert customer.last_visit_on == date(2026, 3, 15)


def test_it_edits_a_one_per_customer_section_in_place(client, org, customer):
    login(client, org.alice)
    url = reverse("customers:section_upsert", args=[customer.pk, "characteristics"])
    base = {"source": "sales", "source_date": TODAY}
    client.post(url, base | {"service_area": "华东地区", "staff_count": "120"})
    client.post(url, base | {"service_area": "华东及华南", "staff_count": "150"})

    row = Characteristics.objects.get(customer=customer)
    assert (row.service_area, row.staff_count) == ("华东及华南", 150)
    # Only the sections with one row per customer are edited this way.
    assert (
        client.get(
            reverse("customers:section_add", args=[customer.pk, "characteristics"])
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("customers:section_upsert", args=[customer.pk, "contacts"])).status_code
        == 404
    )


def test_it_checks_a_section_field_inline_for_an_existing_record(client, org, customer):
    statement = FinancialStatement.objects.create(
        customer=customer,
        period_end=date(2025, 12, 31),
        current_assets=Decimal("6000000"),
        total_assets=Decimal("10000000"),
        current_liabilities=Decimal("3000000"),
        total_liabilities=Decimal("4000000"),
        equity=Decimal("6000000"),
        revenue=Decimal("20000000"),
        net_profit=Decimal("1200000"),
        source="customer",
    )
    login(client, org.alice)
    url = reverse("customers:section_validate", args=[customer.pk, "financials"])
    response = client.post(
        f"{url}?item={statement.pk}",
        statement_data(current_assets="12000000.00"),
        HTTP_HX_TRIGGER_NAME="current_assets",
        **HX,
    )
    # Its own period is not a duplicate of itself; the changed field is checked.
    assert errors_of(response) == {"current_assets": ["流动资产不能大于资产总计。"]}
    assert 'id="id_current_assets_errors" hx-swap-oob="true"' in response.content.decode()


# --- The page -----------------------------------------------------------------------------


@pytest.mark.parametrize("tab", list(file_views.TABS))
def test_it_serves_every_tab_as_a_page_and_as_a_fragment(client, org, customer, tab):
    login(client, org.alice)
    url = reverse("customers:section", args=[customer.pk, tab])

    page = client.get(url)
    fragment = client.get(url, **HX)
    restore = client.get(url, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HX)

    assert page.status_code == fragment.status_code == 200
    assert "<html" in page.content.decode() and "<html" in restore.content.decode()
    assert "<html" not in fragment.content.decode()
    assert 'hx-target="#file"' in fragment.content.decode()
    assert "HX-Request" in page["Vary"]


def test_it_answers_404_for_an_unknown_tab(client, org, customer):
    login(client, org.alice)
    assert (
        client.get(reverse("customers:section", args=[customer.pk, "nonsense"])).status_code == 404
    )


def test_it_heads_the_file_with_its_state_completeness_and_staleness(client, org):
    with time_machine.travel(NOW - timedelta(days=40), tick=False):
        customer = make_customer("华信科技有限公司", owner=org.alice, credit_grade="B")
    login(client, org.alice)

    response = client.get(reverse("customers:detail", args=[customer.pk]))

    html = response.content.decode()
    assert customer.uscc in html and "潜在客户" in html and "Alice" in html
    assert "超过30天未更新" in html
    assert f"{response.context['completeness_score']}%" in html
    assert "联系人" in response.context["missing"] and "<li>往来银行</li>" in html


def test_it_shows_the_basic_data_with_its_source(client, org, customer):
    login(client, org.alice)
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "张三" in html and "销售人员" in html and "未核实" in html


# --- Access ---------------------------------------------------------------------------------


def test_it_shows_another_reps_customer_only_as_the_stub(client, org, customer):
    login(client, org.walt)
    contact = Contact.objects.create(
        customer=customer, name="王芳", mobile="13800000001", source="sales"
    )
    for url in (
        reverse("customers:detail", args=[customer.pk]),
        reverse("customers:section", args=[customer.pk, "contacts"]),
        reverse("customers:timeline", args=[customer.pk]),
    ):
        # The stub (access/policy.py): name, code and grade, nothing of the file.
        response = client.get(url)
        assert response.status_code == 403
        assert "申请查阅" in response.content.decode()
        assert "王芳" not in response.content.decode()
    edit = reverse("customers:section_edit", args=[customer.pk, "contacts", contact.pk])
    assert client.post(edit, contact_data()).status_code == 403
    assert client.post(reverse("customers:edit", args=[customer.pk]), {}).status_code == 403
    contact.refresh_from_db()
    assert contact.name == "王芳"


def test_it_lets_the_auditor_read_but_answers_403_to_every_write(client, org, customer):
    contact = Contact.objects.create(
        customer=customer, name="王芳", mobile="13800000001", source="sales"
    )
    login(client, org.audrey)
    pk = customer.pk
    for tab in file_views.TABS:
        html = client.get(reverse("customers:section", args=[pk, tab])).content.decode()
        assert "/edit/" not in html and "/add/" not in html and "/delete/" not in html
        assert "/verify/" not in html and "/lifecycle/" not in html and "/upload/" not in html

    writes = [
        (reverse("customers:edit", args=[pk]), customer_data(org)),
        (reverse("customers:edit_validate", args=[pk]), {}),
        (reverse("customers:section_add", args=[pk, "contacts"]), contact_data()),
        (reverse("customers:section_edit", args=[pk, "contacts", contact.pk]), contact_data()),
        (reverse("customers:section_upsert", args=[pk, "trading-status"]), {}),
        (reverse("customers:section_validate", args=[pk, "contacts"]), contact_data()),
        (reverse("customers:section_delete", args=[pk, "contacts", contact.pk]), {}),
        (reverse("customers:section_verify", args=[pk, "contacts", contact.pk]), {}),
        (reverse("customers:lifecycle", args=[pk]), {"to_state": "new"}),
        (reverse("customers:attachment_upload", args=[pk]), {}),
        (reverse("customers:create"), customer_data(org)),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
    assert Contact.objects.get(pk=contact.pk).mobile == "13800000001"


def test_it_checks_the_model_permission_of_each_section(client, org, customer):
    """Finance may edit every customer's statements, but not its contacts."""
    login(client, org.fiona)
    html = client.get(reverse("customers:section", args=[customer.pk, "contacts"])).content.decode()
    assert "/add/" not in html
    assert (
        client.post(
            reverse("customers:section_add", args=[customer.pk, "contacts"]), contact_data()
        ).status_code
        == 403
    )

    html = client.get(
        reverse("customers:section", args=[customer.pk, "financials"])
    ).content.decode()
    assert reverse("customers:section_add", args=[customer.pk, "financials"]) in html
    response = client.post(
        reverse("customers:section_add", args=[customer.pk, "financials"]), statement_data()
    )
    assert response.status_code == 302
    assert FinancialStatement.objects.get().entered_by == org.fiona


# --- Provenance and verification (R-10) ---------------------------------------------------


def test_it_warns_about_customer_provided_data_until_verified(client, org, customer):
    Contact.objects.create(customer=customer, name="王芳", mobile="13800000001", source="customer")
    login(client, org.alice)
    html = client.get(reverse("customers:section", args=[customer.pk, "contacts"])).content.decode()
    assert "客户提供，未核实" in html
    assert "/verify/" not in html  # alice may not verify


def test_it_lets_credit_staff_verify_and_refuses_a_sales_rep(client, org, customer):
    contact = Contact.objects.create(
        customer=customer, name="王芳", mobile="13800000001", source="customer"
    )
    url = reverse("customers:section_verify", args=[customer.pk, "contacts", contact.pk])

    login(client, org.alice)
    assert client.post(url).status_code == 403
    contact.refresh_from_db()
    assert contact.verified_at is None

    login(client, org.carl)
    page = client.get(reverse("customers:section", args=[customer.pk, "contacts"])).content.decode()
    assert url in page
    assert client.post(url).status_code == 302
    contact.refresh_from_db()
    assert contact.verified_by == org.carl and contact.verified_at is not None

    html = client.get(reverse("customers:section", args=[customer.pk, "contacts"])).content.decode()
    assert re.search(r"已核实（Carl，2026-03-16 10:3\d）", html)
    assert "客户提供，未核实" not in html and url not in html


def test_it_verifies_the_basic_registry_data(client, org, customer):
    login(client, org.carl)
    url = reverse("customers:section_verify", args=[customer.pk, "basic", customer.pk])
    assert url in client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    client.post(url)
    customer.refresh_from_db()
    assert customer.verified_by == org.carl


def test_it_marks_an_edited_record_unverified_again(client, org, customer):
    contact = Contact.objects.create(
        customer=customer,
        name="王芳",
        mobile="13800000001",
        source="customer",
        verified_by=org.carl,
        verified_at=NOW,
    )
    login(client, org.alice)
    edit = reverse("customers:section_edit", args=[customer.pk, "contacts", contact.pk])
    client.post(edit, contact_data(mobile="13800000001"))  # unchanged: stays verified
    contact.refresh_from_db()
    assert contact.verified_by == org.carl
    client.post(edit, contact_data(mobile="13900000002"))
    contact.refresh_from_db()
    assert contact.verified_at is None


# --- Lifecycle (R-12) -----------------------------------------------------------------------


def test_it_moves_the_customer_along_its_lifecycle(client, org, customer):
    login(client, org.alice)
    url = reverse("customers:lifecycle", args=[customer.pk])
    page = client.get(reverse("customers:detail", args=[customer.pk]))
    offered = [value for value, _label in page.context["lifecycle_form"].fields["to_state"].choices]
    assert offered == ["new", "lost", "blacklisted"]

    assert client.post(url, {"to_state": "new"}).status_code == 302
    customer.refresh_from_db()
    assert customer.lifecycle == "new"

    response = client.post(url, {"to_state": "lost", "reason": "  "})
    assert response.status_code == 200
    assert response.context["lifecycle_form"].errors == {"reason": ["变为“流失客户”必须填写原因。"]}
    assert "变为“流失客户”必须填写原因。" in response.content.decode()
    customer.refresh_from_db()
    assert customer.lifecycle == "new"

    client.post(url, {"to_state": "lost", "reason": "转向竞争对手采购"})
    customer.refresh_from_db()
    assert (customer.lifecycle, customer.lifecycle_reason) == ("lost", "转向竞争对手采购")


def test_it_offers_only_the_moves_the_lifecycle_allows(client, org, customer):
    login(client, org.alice)
    response = client.post(
        reverse("customers:lifecycle", args=[customer.pk]), {"to_state": "active"}
    )
    assert "to_state" in response.context["lifecycle_form"].errors
    customer.refresh_from_db()
    assert customer.lifecycle == "prospect"


def test_it_needs_the_lifecycle_permission(client, org, customer):
    login(client, org.fiona)  # may edit every file, but not move customers
    assert (
        client.post(
            reverse("customers:lifecycle", args=[customer.pk]), {"to_state": "new"}
        ).status_code
        == 403
    )
    assert (
        "/lifecycle/"
        not in client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    )


# --- Key persons (R-02) ---------------------------------------------------------------------


@pytest.fixture
def key_person(customer):
    return KeyPerson.objects.create(
        customer=customer,
        name="赵丽华",
        role="legal_rep",
        mobile="13911112222",
        hobbies="高尔夫球",
        birthday=date(1975, 6, 1),
        source="sales",
        legal_basis="consent",
        consent_reference="档案室A柜3号卷",
        retention_until=date(2029, 3, 16),
    )


PRIVATE_VALUES = ("高尔夫球", "13911112222", "1975-06-01")


@pytest.mark.parametrize("who", ["alice", "mary", "cathy"])
def test_it_masks_personal_details_for_everyone_even_with_the_right(client, org, key_person, who):
    login(client, getattr(org, who))
    html = client.get(
        reverse("customers:section", args=[key_person.customer_id, "key-persons"])
    ).content.decode()
    assert "赵丽华" in html
    assert not any(value in html for value in PRIVATE_VALUES)
    assert "●●●" in html


def test_it_offers_the_reveal_form_only_to_those_with_the_right(client, org, key_person):
    url = reverse("customers:key_person_reveal", args=[key_person.customer_id, key_person.pk])
    section = reverse("customers:section", args=[key_person.customer_id, "key-persons"])
    assert url not in login(client, org.alice).get(section).content.decode()
    assert url in login(client, org.mary).get(section).content.decode()


def test_it_reveals_one_persons_details_for_a_stated_purpose_and_audits_it(client, org, key_person):
    from creditfile.access.models import AuditEvent

    login(client, org.mary)
    url = reverse("customers:key_person_reveal", args=[key_person.customer_id, key_person.pk])
    response = client.post(url, {"purpose": "准备续签合同拜访"}, **HX)
    html = response.content.decode()
    assert all(value in html for value in PRIVATE_VALUES)
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="reveal")
    assert (event.user_id, event.customer_id, event.object_id, event.purpose) == (
        org.mary.pk,
        key_person.customer_id,
        str(key_person.pk),
        "准备续签合同拜访",
    )
    # Without script the whole tab comes back with that one record revealed.
    page = client.post(url, {"purpose": "核对生日"}).content.decode()
    assert "高尔夫球" in page and "赵丽华" in page
    # The next ordinary look is masked again.
    section = reverse("customers:section", args=[key_person.customer_id, "key-persons"])
    assert "高尔夫球" not in client.get(section).content.decode()


def test_it_refuses_a_reveal_without_a_purpose(client, org, key_person):
    from creditfile.access.models import AuditEvent

    login(client, org.mary)
    url = reverse("customers:key_person_reveal", args=[key_person.customer_id, key_person.pk])
    html = client.post(url, {"purpose": "  "}, **HX).content.decode()
    assert "请写明查看个人信息的目的" in html
    assert "高尔夫球" not in html
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_it_refuses_a_reveal_without_the_right_and_records_the_attempt(client, org, key_person):
    from creditfile.access.models import AuditEvent

    login(client, org.alice)
    url = reverse("customers:key_person_reveal", args=[key_person.customer_id, key_person.pk])
    response = client.post(url, {"purpose": "好奇"}, **HX)
    assert response.status_code == 403
    assert "高尔夫球" not in response.content.decode()
    assert AuditEvent.objects.get(action="reveal").outcome == "denied"


def test_it_hides_a_reveal_of_a_customer_the_user_cannot_read(client, org, key_person):
    login(client, org.wendy)
    url = reverse("customers:key_person_reveal", args=[key_person.customer_id, key_person.pk])
    response = client.post(url, {"purpose": "核对"})
    # The stub (name, code, grade) with 403, never the person's details.
    assert response.status_code == 403
    page = response.content.decode()
    assert "高尔夫球" not in page and "13911112222" not in page and key_person.name not in page


def key_person_post(**overrides):
    data = {
        "name": "赵丽华",
        "role": "legal_rep",
        "title": "董事长",
        "purpose": "客户信用评估与业务往来联系",
        "legal_basis": "consent",
        "consent_reference": "档案室A柜3号卷",
        "retention_until": "2029-03-16",
        "source": "sales",
        "source_date": TODAY,
    }
    return data | overrides


@pytest.mark.parametrize("who", ["alice", "mary"])
def test_it_keeps_stored_details_the_editor_did_not_see(client, org, key_person, who):
    login(client, getattr(org, who))
    url = reverse(
        "customers:section_edit", args=[key_person.customer_id, "key-persons", key_person.pk]
    )
    page = client.get(url).content.decode()
    assert not any(value in page for value in PRIVATE_VALUES)

    client.post(url, key_person_post(hobbies="", mobile="", family="两个孩子"))
    key_person.refresh_from_db()
    assert key_person.title == "董事长" and key_person.family == "两个孩子"
    assert key_person.hobbies == "高尔夫球" and key_person.mobile == "13911112222"


def test_it_erases_the_details_when_the_editor_asks_and_audits_it(client, org, key_person):
    from creditfile.access.models import AuditEvent

    login(client, org.alice)
    url = reverse(
        "customers:section_edit", args=[key_person.customer_id, "key-persons", key_person.pk]
    )
    client.post(url, key_person_post(clear_private="on"))
    key_person.refresh_from_db()
    assert (key_person.name, key_person.title) == ("赵丽华", "董事长")
    assert not key_person.has_private_details
    assert AuditEvent.objects.get(action="delete_personal").user_id == org.alice.pk


# --- Every URL has a test -----------------------------------------------------------------


def test_every_url_of_the_file_screens_is_exercised_by_a_test():
    here = Path(__file__).parent
    sources = "".join(
        (here / name).read_text(encoding="utf-8")
        for name in (
            "test_view_file.py",
            "test_view_attachments.py",
            "test_view_timeline.py",
            "test_forms.py",
        )
    )
    names = {p.name for p in file_views.urlpatterns}
    untested = {n for n in names if f'"customers:{n}"' not in sources}
    assert names and not untested, f"URL names without a test: {sorted(untested)}"


def test_it_keeps_bank_accounts_in_their_own_tab(client, org, customer):
    login(client, org.alice)
    client.post(
        reverse("customers:section_add", args=[customer.pk, "banks"]),
        {
            "bank_name": "中国工商银行",
            "account_number": "6222 0212 3456 7890",
            "source": "customer",
            "source_date": TODAY,
        },
    )
    account = BankAccount.objects.get()
    assert account.customer == customer
    html = client.get(reverse("customers:section", args=[customer.pk, "banks"])).content.decode()
    assert "中国工商银行" in html
    assert account.verified_at is None
