"""Guarantees, collateral, deposits and credit insurance: record, edit, end, count."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from creditfile.credit.models import CreditSecurity
from creditfile.credit.services import securities
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.services.lines import security_headroom
from creditfile.customers.models import Attachment
from creditfile.customers.testing import make_customer

TODAY = datetime.date(2026, 11, 23)
PDF = b"%PDF-1.4 policy scan"
pytestmark = pytest.mark.django_db


@pytest.fixture
def client(sudo_client):
    """Signed-in clients have just confirmed their password (sensitive screens, core/sudo.py)."""
    return sudo_client


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0), tick=False):
        yield


@pytest.fixture
def customer(org):
    return make_customer("华信科技有限公司", owner=org.alice)


def insurance(**extra) -> securities.SecurityInput:
    values = dict(
        kind="insurance",
        provider="中国出口信用保险公司",
        reference="SINO-2026-001",
        amount=Decimal("1000000"),
        coverage_percent=Decimal("90"),
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 12, 31),
    )
    return securities.SecurityInput(**(values | extra))


def test_it_records_credit_insurance_with_its_policy_document(org, customer):
    upload = SimpleUploadedFile("保单.pdf", PDF, content_type="application/pdf")
    security = securities.add_security(customer, org.carl, insurance(), upload)
    assert security.recorded_by == org.carl
    assert security.document.customer == customer
    assert security.document.category == "grant"
    assert Attachment.objects.filter(customer=customer).count() == 1
    assert security_headroom(customer, TODAY) == Decimal("900000.00")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"reference": ""}, "reference"),
        ({"valid_until": None}, "valid_until"),
        ({"amount": Decimal(0)}, "amount"),
        ({"coverage_percent": Decimal("120")}, "coverage_percent"),
        ({"valid_until": datetime.date(2025, 12, 1)}, "valid_until"),
        ({"provider": " "}, "provider"),
    ],
)
def test_it_refuses_incomplete_insurance(org, customer, change, field):
    with pytest.raises(WorkflowError) as caught:
        securities.add_security(customer, org.carl, insurance(**change))
    assert caught.value.field == field
    assert not CreditSecurity.objects.exists()


def test_a_deposit_needs_no_policy_number_or_end_date(org, customer):
    deposit = insurance(
        kind="deposit", reference="", valid_until=None, coverage_percent=Decimal(100)
    )
    securities.add_security(customer, org.carl, deposit)
    assert security_headroom(customer, datetime.date(2030, 1, 1)) == Decimal("1000000.00")


def test_a_bad_document_writes_nothing(org, customer):
    upload = SimpleUploadedFile("保单.pdf", b"MZ not a pdf", content_type="application/pdf")
    with pytest.raises(WorkflowError) as caught:
        securities.add_security(customer, org.carl, insurance(), upload)
    assert caught.value.field == "document"
    assert not CreditSecurity.objects.exists()
    assert not Attachment.objects.exists()


def test_ending_a_security_stops_it_counting_but_keeps_it(org, customer):
    security = securities.add_security(customer, org.carl, insurance())
    securities.end_security(security, org.cathy, TODAY, "保单退保")
    security.refresh_from_db()
    assert security.valid_until == TODAY
    assert "保单退保" in security.notes
    assert security_headroom(customer, TODAY) == Decimal("900000.00")
    assert security_headroom(customer, TODAY + datetime.timedelta(days=1)) == Decimal(0)
    current, other = securities.securities_for(customer, TODAY + datetime.timedelta(days=1))
    assert current == [] and other == [security]
    with pytest.raises(WorkflowError):
        securities.end_security(security, org.cathy, TODAY)


def test_the_screens_add_edit_and_end_a_security(client, org, customer):
    client.force_login(org.carl)
    add = reverse("credit:security_add", args=[customer.pk])
    assert client.get(add).status_code == 200
    data = {
        "kind": "guarantee",
        "provider": "华信集团有限公司",
        "reference": "BZ-01",
        "amount": "500000",
        "coverage_percent": "100",
        "valid_from": "2026-06-01",
    }
    upload = SimpleUploadedFile("担保函.pdf", PDF, content_type="application/pdf")
    response = client.post(add, data | {"document": upload})
    assert response.status_code == 302
    security = CreditSecurity.objects.get()
    assert security.document.original_name == "担保函.pdf"
    edit = reverse("credit:security_edit", args=[security.pk])
    assert client.get(edit).status_code == 200
    client.post(edit, data | {"amount": "450000"})
    security.refresh_from_db()
    assert security.amount == Decimal("450000")
    assert security.document is not None  # kept when no new file is sent
    bad = client.post(edit, data | {"kind": "insurance"})
    assert "信用保险须填写保险期限" in bad.content.decode()
    client.post(reverse("credit:security_end", args=[security.pk]), {"reason": "担保到期解除"})
    security.refresh_from_db()
    assert security.valid_until == TODAY
    panel = client.get(reverse("credit:customer_panel", args=[customer.pk]))
    assert "担保到期解除" in panel.content.decode()


def test_sales_may_see_but_not_record_securities(client, org, customer):
    security = securities.add_security(customer, org.carl, insurance())
    client.force_login(org.alice)
    assert client.get(reverse("credit:customer_lines", args=[customer.pk])).status_code == 200
    assert client.get(reverse("credit:security_add", args=[customer.pk])).status_code == 403
    assert client.post(reverse("credit:security_end", args=[security.pk])).status_code == 403
    assert client.get(reverse("credit:security_edit", args=[security.pk])).status_code == 403
    security.refresh_from_db()
    assert security.valid_until == datetime.date(2026, 12, 31)


def test_a_hidden_customers_security_is_a_404(client, org, customer):
    security = securities.add_security(customer, org.carl, insurance())
    client.force_login(org.walt)
    assert client.get(reverse("credit:security_edit", args=[security.pk])).status_code == 404
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert client.get(reverse("credit:customer_panel", args=[customer.pk])).status_code == 403
