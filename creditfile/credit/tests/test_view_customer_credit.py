"""The customer's credit tab: lines per company, history, evaluations, applications, panels."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse

from creditfile.core.models import Company
from creditfile.credit.models import CreditLine, Evaluation, TemporaryLimit
from creditfile.credit.services import workflow
from creditfile.credit.services.policy import policy_in_force
from creditfile.credit.views import applications as views
from creditfile.customers.testing import make_customer

NOW = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = datetime.date(2026, 5, 12)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def customer(org):
    return make_customer("华信科技有限公司", owner=org.alice)


def tab_url(customer):
    return reverse("credit:customer_credit", args=[customer.pk])


def line(customer, org, **fields) -> CreditLine:
    values = {
        "customer": customer,
        "company": Company.default(),
        "grade": "B",
        "limit": Decimal("500000"),
        "term_days": 30,
        "discount_percent": Decimal("2"),
        "discount_days": 10,
        "valid_from": datetime.date(2026, 1, 1),
        "valid_until": datetime.date(2026, 12, 31),
        "policy": policy_in_force(TODAY),
        "granted_by": org.carl,
    }
    values.update(fields)
    return CreditLine.objects.create(**values)


def test_it_answers_the_same_url_as_both_names(org, customer):
    assert tab_url(customer) == f"/credit/customers/{customer.pk}/credit/"


def test_it_shows_the_current_line_with_terms_and_available_limit(client, org, customer):
    current = line(customer, org)
    application = workflow.create_application(
        customer, org.alice, requested_limit=Decimal("100000"), requested_term_days=30
    )
    TemporaryLimit.objects.create(
        line=current,
        amount=Decimal("80000"),
        valid_from=datetime.date(2026, 5, 1),
        valid_until=datetime.date(2026, 6, 30),
        application=application,
    )
    client.force_login(org.alice)
    response = client.get(tab_url(customer))
    text = response.content.decode()
    assert response.status_code == 200
    assert "当前授信" in text and "2/10 n/30" in text
    assert "500,000.00" in text and "80,000.00" in text
    row = response.context["current"][0]
    assert row["available"] == Decimal("580000.00")  # the line plus the temporary limit
    assert "2026-12-31" in text


def test_it_keeps_the_history_of_lines(client, org, customer):
    line(
        customer,
        org,
        status="superseded",
        grade="C",
        limit=Decimal("100000"),
        end_reason="被新授信替代",
        ended_at=NOW,
    )
    line(customer, org, discount_percent=0, discount_days=0, term_days=60)
    client.force_login(org.cathy)
    response = client.get(tab_url(customer))
    text = response.content.decode()
    assert "授信历史" in text and "已被替代" in text and "被新授信替代" in text
    assert "n/60" in text
    assert len(response.context["current"]) == 1 and len(response.context["history"]) == 2


def test_it_says_when_there_is_no_line(client, org, customer):
    client.force_login(org.alice)
    text = client.get(tab_url(customer)).content.decode()
    assert "该客户没有有效的授信额度" in text
    assert reverse("credit:application_create", args=[customer.pk]) in text


def test_it_lists_evaluations_with_links_to_their_explanation(client, org, customer):
    from creditfile.credit.services.scoring import evaluate_and_save

    evaluation = evaluate_and_save(
        customer,
        kind="rescore",
        sales_form={},
        judgement={"industry_reputation": "good"},
        filled_by=None,
        scored_by=org.fiona,
        review_comment="",
        as_of=TODAY,
    )
    client.force_login(org.alice)
    text = client.get(tab_url(customer)).content.decode()
    assert reverse("credit:evaluation", args=[evaluation.pk]) in text
    assert Evaluation.objects.count() == 1


def test_it_lists_the_customers_applications(client, org, customer):
    application = workflow.create_application(
        customer, org.alice, requested_limit=Decimal("100000"), requested_term_days=30
    )
    client.force_login(org.alice)
    text = client.get(tab_url(customer)).content.decode()
    assert application.number in text and "草稿" in text


def test_it_answers_the_panel_alone_to_htmx(client, org, customer):
    client.force_login(org.alice)
    response = client.get(tab_url(customer), **HX)
    text = response.content.decode()
    assert "<html" not in text and "当前授信" in text
    assert "<html" in client.get(tab_url(customer)).content.decode()


def test_it_is_a_tab_of_the_customer_page(client, org, customer):
    client.force_login(org.alice)
    text = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert f'hx-get="{tab_url(customer)}"' in text and ">信用</a>" in text


def test_it_shows_the_stub_for_a_hidden_customer(client, org, customer):
    client.force_login(org.walt)
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert client.get(tab_url(customer)).status_code == 403


def test_it_includes_the_colleagues_panels(client, org, customer):
    """Lines, sanctions and reviews each add their panel to the tab (when they exist)."""
    present = []
    for template, _module in views.CUSTOMER_PANELS:
        try:
            get_template(template)
        except TemplateDoesNotExist:
            continue
        present.append(template)
    client.force_login(org.cathy)
    response = client.get(tab_url(customer))
    text = response.content.decode()
    assert len(response.context["panels"]) == len(present)
    headings = {
        "credit/lines/_customer_panel.html": 'id="credit-panel-',
        "credit/sanctions/_customer_panel.html": 'id="customer-sanctions"',
        "credit/reviews/_customer_panel.html": 'id="customer-reviews"',
        "credit/refusals/_customer_panel.html": 'id="customer-refusals"',
    }
    for template in present:
        assert headings[template] in text, template


def test_it_leaves_out_a_panel_whose_template_is_missing(rf, org, customer):
    request = rf.get("/")
    request.user = org.cathy
    assert views._render_partial(request, "credit/nowhere/_panel.html", "reviews", customer) is None
