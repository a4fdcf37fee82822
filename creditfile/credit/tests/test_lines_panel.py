"""The customer's credit panel (credit/lines/_customer_panel.html) and its page."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from creditfile.core.models import Company
from creditfile.credit.models import CreditGroup, CreditLine, ExternalRating, PaymentSummary
from creditfile.credit.services import groups
from creditfile.credit.views.lines import panel_context
from creditfile.customers.testing import make_customer

TODAY = datetime.date(2026, 11, 23)
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
    customer = make_customer("华信科技有限公司", owner=org.alice)
    CreditLine.objects.create(
        customer=customer,
        company=Company.default(),
        grade="B",
        limit=Decimal("600000"),
        term_days=30,
        valid_from=datetime.date(2026, 1, 1),
        granted_by=org.cathy,
    )
    groups.set_group_line(
        customer,
        org.cathy,
        groups.GroupLineInput(
            limit=Decimal("500000"), grade="B", term_days=30, valid_from=TODAY, reason="集团控制"
        ),
    )
    group = CreditGroup.objects.create(name="华信系", relation="母子公司", limit=Decimal(900000))
    group.members.add(customer)
    ExternalRating.objects.create(
        customer=customer, agency="中诚信", rated_on=datetime.date(2026, 6, 30), rating="AA"
    )
    PaymentSummary.objects.create(
        customer=customer, period_end=datetime.date(2026, 10, 31), max_days_late=45
    )
    return customer


def test_it_shows_lines_groups_ratings_and_payments(client, org, customer):
    client.force_login(org.alice)
    response = client.get(reverse("credit:customer_lines", args=[customer.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("600000", "集团总额度", "500000", "华信系", "中诚信"):
        assert text in body, text
    assert [p.max_days_late for p in response.context["payment_summaries"]] == [45]
    assert "高于集团总额度" in body  # the company lines exceed the group line, by design
    assert "设定集团总额度" not in body and "调整集团总额度" not in body  # sales cannot grant


def test_it_offers_credit_staff_the_actions(client, org, customer):
    client.force_login(org.carl)
    body = client.get(reverse("credit:customer_panel", args=[customer.pk])).content.decode()
    assert reverse("credit:group_line", args=[customer.pk]) in body
    assert reverse("credit:security_add", args=[customer.pk]) in body
    assert reverse("credit:rating_add", args=[customer.pk]) in body
    assert reverse("credit:payment_import") in body


def test_the_partial_renders_from_panel_context_for_a_colleagues_tab(org, customer):
    request = RequestFactory().get("/")
    request.user = org.fiona
    html = render_to_string(
        "credit/lines/_customer_panel.html", panel_context(org.fiona, customer), request=request
    )
    assert "中诚信" in html and "600000" in html


def test_a_hidden_customer_is_the_stub(client, org, customer):
    client.force_login(org.walt)
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert client.get(reverse("credit:customer_lines", args=[customer.pk])).status_code == 403
    assert client.get(reverse("credit:customer_panel", args=[customer.pk])).status_code == 403


def test_the_panel_reads_with_a_fixed_number_of_queries(
    client, org, customer, django_assert_max_num_queries
):
    client.force_login(org.carl)
    url = reverse("credit:customer_panel", args=[customer.pk])
    client.get(url)
    with django_assert_max_num_queries(25):
        assert client.get(url).status_code == 200
