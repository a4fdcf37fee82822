"""The forms of the file screens: which fields people fill in, and the rules they answer with."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from creditfile.customers.forms import (
    AttachmentForm,
    BankAccountForm,
    CertificationForm,
    CustomerForm,
    FinancialStatementForm,
    GuaranteeForm,
    KeyPersonForm,
    LifecycleForm,
)
from creditfile.customers.models import Customer, FinancialStatement, KeyPerson, Region
from creditfile.customers.testing import make_customer, valid_uscc
from creditfile.customers.views.file import RECORD_TYPES

SYSTEM_FIELDS = {"customer", "entered_by", "verified_by", "verified_at", "recorded_by"}


def customer_data(**overrides):
    data = {
        "name": "华信科技有限公司",
        "uscc": valid_uscc(),
        "kind": "end_customer",
        "country": "中国",
        "currency": "CNY",
        "source": "sales",
        "source_date": "2026-03-16",
    }
    return data | overrides


def statement_data(**overrides):
    data = {
        "period_end": "2025-12-31",
        "period_type": "annual",
        "currency": "CNY",
        "current_assets": "600",
        "total_assets": "1000",
        "current_liabilities": "300",
        "total_liabilities": "400",
        "equity": "600",
        "revenue": "2000",
        "net_profit": "100",
        "source": "customer",
        "source_date": "2026-03-16",
    }
    return data | overrides


@pytest.mark.parametrize("slug", sorted(RECORD_TYPES))
def test_every_section_form_leaves_out_what_the_system_sets(slug):
    rt = RECORD_TYPES[slug]
    fields = set(rt.form.base_fields)
    assert not fields & SYSTEM_FIELDS
    if rt.has_provenance:
        assert list(rt.form.base_fields)[-2:] == ["source", "source_date"]


def test_the_customer_form_leaves_grades_lifecycle_and_provenance_stamps_out():
    fields = set(CustomerForm.base_fields)
    assert {"name", "uscc", "owner", "source", "source_date"} <= fields
    assert not fields & {
        "entered_by",
        "verified_by",
        "verified_at",
        "lifecycle",
        "credit_grade",
        "volume_grade",
        "completeness",
    }


@pytest.mark.django_db
def test_it_reports_the_uscc_check_digit_on_its_field():
    good = valid_uscc()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    form = CustomerForm(customer_data(uscc=wrong))
    assert form.errors == {
        "uscc": [f"统一社会信用代码校验位错误：第18位应为“{good[17]}”，实际为“{wrong[17]}”。"]
    }


@pytest.mark.django_db
def test_it_needs_a_uscc_only_for_domestic_companies():
    assert CustomerForm(customer_data(uscc="")).errors == {
        "uscc": ["境内企业必须填写统一社会信用代码。"]
    }
    foreign = CustomerForm(
        customer_data(uscc="", is_international="on", country="德国", currency="EUR")
    )
    assert foreign.is_valid(), foreign.errors


@pytest.mark.django_db
def test_it_takes_the_region_as_its_code():
    form = CustomerForm(customer_data(region="320506"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["region"].full_name == "江苏省苏州市吴中区"

    unknown = CustomerForm(customer_data(region="999999"))
    assert unknown.errors == {"region": ["没有行政区划代码为“999999”的地区。"]}


@pytest.mark.django_db
def test_it_shows_the_current_region_by_name(org):
    customer = make_customer(owner=org.alice, region=Region.objects.get(code="320506"))
    form = CustomerForm(instance=customer)
    assert form["region"].value() == "320506"
    assert "江苏省苏州市吴中区" in str(form.fields["region"].help_text)


@pytest.mark.django_db
def test_it_checks_phone_and_postcode():
    form = CustomerForm(customer_data(phone="12345", postcode="2150"))
    assert set(form.errors) == {"phone", "postcode"}
    assert form.errors["postcode"] == ["邮政编码“2150”应为6位数字。"]


@pytest.mark.django_db
def test_it_offers_only_sales_people_as_owner(org):
    owners = set(CustomerForm().fields["owner"].queryset)
    assert {org.alice, org.bob, org.walt, org.mary} <= owners
    assert not owners & {org.carl, org.audrey, org.fiona}


def test_it_checks_that_the_balance_sheet_balances(org):
    customer = make_customer(owner=org.alice)
    form = FinancialStatementForm(
        statement_data(equity="500"), instance=FinancialStatement(customer=customer)
    )
    assert form.errors == {"equity": ["资产总计应等于负债合计加所有者权益合计（相差100.00元）。"]}


def test_it_names_a_duplicate_period_on_its_field(org):
    customer = make_customer(owner=org.alice)
    first = FinancialStatementForm(statement_data(), instance=FinancialStatement(customer=customer))
    first.instance.source_date = date(2026, 3, 16)
    assert first.is_valid(), first.errors
    first.save()

    again = FinancialStatementForm(statement_data(), instance=FinancialStatement(customer=customer))
    assert again.errors == {"period_end": ["该客户已有截止日为2025-12-31的年报。"]}
    # Editing the statement itself is not a duplicate of itself.
    same = FinancialStatementForm(statement_data(revenue="2100"), instance=first.instance)
    assert same.is_valid(), same.errors
    assert same.cleaned_data["revenue"] == Decimal("2100")


def test_it_checks_the_order_of_certificate_dates():
    form = CertificationForm(
        {
            "kind": "quality_cert",
            "name": "ISO 9001",
            "issued_on": "2025-06-01",
            "expires_on": "2025-05-31",
            "source": "government",
            "source_date": "2026-03-16",
        }
    )
    assert form.errors == {"expires_on": ["有效期不能早于发证日期。"]}


def test_it_checks_guarantee_amount_and_bank_account_number():
    guarantee = GuaranteeForm(
        {"kind": "mortgage", "value": "0", "source": "sales", "source_date": "2026-03-16"}
    )
    assert guarantee.errors == {"value": ["担保金额必须大于0。"]}
    account = BankAccountForm(
        {
            "bank_name": "中国银行",
            "account_number": "ABC12345678",
            "source": "customer",
            "source_date": "2026-03-16",
        }
    )
    assert account.errors == {"account_number": ["账号只能包含数字。"]}


def test_it_never_puts_stored_personal_details_back_into_the_form(org):
    customer = make_customer(owner=org.alice)
    person = KeyPerson.objects.create(
        customer=customer,
        name="赵丽华",
        role="legal_rep",
        hobbies="高尔夫球",
        source="sales",
        retention_until=date(2029, 1, 1),
    )
    form = KeyPersonForm(instance=person)
    assert set(KeyPerson.PRIVATE_FIELDS) <= set(form.fields)
    assert "高尔夫球" not in form.as_div()
    # A new person has nothing stored yet; their details are kept three years by default.
    new = KeyPersonForm(instance=KeyPerson(customer=customer))
    assert "clear_private" not in new.fields
    assert new.initial["retention_until"] > date.today()


def test_it_keeps_stored_personal_details_an_edit_left_empty(org):
    customer = make_customer(owner=org.alice)
    person = KeyPerson.objects.create(
        customer=customer,
        name="赵丽华",
        role="legal_rep",
        hobbies="高尔夫球",
        mobile="13911112222",
        source="sales",
        retention_until=date(2029, 1, 1),
    )
    data = {
        "name": "赵丽华",
        "role": "legal_rep",
        "hobbies": "",
        "mobile": "13800001111",
        "purpose": "信用评估",
        "legal_basis": "consent",
        "consent_reference": "档案室A柜3号卷",
        "retention_until": "2029-01-01",
        "source": "sales",
        "source_date": "2026-03-16",
    }
    form = KeyPersonForm(data, instance=person)
    assert form.is_valid(), form.errors
    saved = form.save()
    assert saved.hobbies == "高尔夫球" and saved.mobile == "13800001111"


def test_it_asks_for_the_consent_reference_and_a_retention_date(org):
    customer = make_customer(owner=org.alice)
    form = KeyPersonForm(
        {
            "name": "赵丽华",
            "role": "legal_rep",
            "hobbies": "高尔夫球",
            "purpose": "信用评估",
            "legal_basis": "consent",
            "retention_until": "",
            "source": "sales",
            "source_date": "2026-03-16",
        },
        instance=KeyPerson(customer=customer),
    )
    assert not form.is_valid()
    assert set(form.errors) == {"consent_reference", "retention_until"}


def test_it_offers_the_lifecycle_moves_allowed_from_the_current_state(org):
    customer = make_customer(owner=org.alice, lifecycle="blacklisted")
    form = LifecycleForm(customer=customer)
    assert [value for value, _label in form.fields["to_state"].choices] == ["dormant"]
    assert not LifecycleForm({"to_state": "active"}, customer=customer).is_valid()


def test_it_lets_the_attachment_service_judge_an_empty_file():
    form = AttachmentForm(
        {"category": "other", "document_date": "2026-03-16"},
        {"file": SimpleUploadedFile("空.pdf", b"")},
    )
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_the_customer_form_does_not_save_an_invalid_customer():
    form = CustomerForm(customer_data(established_on="2030-01-01"))
    assert "established_on" in form.errors
    assert not Customer.objects.exists()
