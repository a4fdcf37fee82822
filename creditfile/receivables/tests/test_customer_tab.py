"""The receivables tab of the customer file: position, payment habit chart, documents."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from creditfile.core import roles
from creditfile.core.models import User
from creditfile.receivables.services.charts import days_late_chart
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.habits import payment_habit
from creditfile.receivables.services.ledger import post_invoice, post_payment
from creditfile.receivables.testing import TODAY, credit_customer

NOW = datetime.datetime(2026, 6, 30, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def customer(org):
    customer = credit_customer(org.cathy, "100000", owner=org.alice, name="付款习惯有限公司")
    # Paid 20 days late in April; paid on time in May; 30,000 overdue since 31 May.
    post_invoice(customer, "INV-1", datetime.date(2026, 3, 1), "10000")  # due 31 Mar
    post_payment(customer, "PAY-1", datetime.date(2026, 4, 20), "10000")
    post_invoice(customer, "INV-2", datetime.date(2026, 4, 10), "5000")  # due 10 May
    post_payment(customer, "PAY-2", datetime.date(2026, 5, 8), "5000")
    post_invoice(customer, "INV-3", datetime.date(2026, 5, 1), "30000")  # due 31 May
    check_credit(customer, "10000", "SO-1", on_date=datetime.date(2026, 5, 20))  # released
    return customer


def _tab(client, customer, **headers):
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse("receivables:customer", args=[customer.pk]), **headers)


def test_the_tab_shows_the_position_the_credit_check_would_see(client, org, customer):
    client.force_login(org.alice)
    response = _tab(client, customer, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text  # a fragment for the file
    assert "100,000.00" in text  # available limit
    assert "30,000.00" in text  # open receivables, all overdue
    assert "占用 40.0%" in text  # 30,000 invoiced + 10,000 released order of 100,000
    assert "60,000.00" in text  # headroom
    assert "最长逾期 30 天" in text
    assert "INV-3" in text and "INV-1" not in text.split("最近回款")[0]  # only open ones
    assert "PAY-1" in text and "SO-1" in text


def test_the_chart_has_a_bar_for_each_month_with_settled_invoices(client, org, customer):
    client.force_login(org.alice)
    text = _tab(client, customer).content.decode()
    assert "<html" in text  # a full page without htmx
    bars = re.findall(r'<rect [^>]*class="bar (\w+)"><title>([^<]*)</title>', text)
    assert [(tone, title.split("：")[0]) for tone, title in bars] == [
        ("warn", "2026-04"),
        ("ok", "2026-05"),
    ]
    assert "加权逾期 20.0 天" in bars[0][1]


def test_chart_geometry_scales_to_the_latest_month_and_leaves_empty_months_out():
    months = [datetime.date(2026, m, 28) for m in range(1, 4)]
    from decimal import Decimal

    chart = days_late_chart(
        [(months[0], Decimal("45"), 2), (months[1], None, 0), (months[2], Decimal(0), 1)]
    )
    assert chart.scale_max == 60
    late, empty, on_time = chart.bars
    assert late.tone == "bad" and late.height == pytest.approx(120 * 45 / 60)
    assert empty.height == 0 and not chart.empty
    assert on_time.tone == "ok" and on_time.height == 2.0  # visible, unlike an empty month
    assert late.y + late.height == chart.baseline


def test_the_habit_figures_match_the_ledger(customer):
    habit = payment_habit(customer.pk, customer.exposures.get().company_id, TODAY)
    assert habit.invoices_settled == 2 and habit.paid_on_time == 1
    assert habit.on_time_share == 50
    # Weighted by amount: (10,000 × 20 + 5,000 × 0) / 15,000
    assert str(habit.weighted_days_late) == "13.3"


def test_only_people_who_may_see_the_customer_and_the_ledger_get_the_tab(client, org, customer):
    client.force_login(org.walt)  # another region's rep
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert _tab(client, customer).status_code == 403
    # A role that may read the file but not the ledger (an administrator's choice):
    Group.objects.get(name=roles.SALES_REP).permissions.remove(
        Permission.objects.get(codename="view_invoice")
    )
    alice = User.objects.get(pk=org.alice.pk)  # a fresh object: no cached permissions
    client.force_login(alice)
    assert _tab(client, customer).status_code == 403
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    tab = f'href="{reverse("receivables:customer", args=[customer.pk])}"'
    assert tab not in response.content.decode()

    client.force_login(org.fiona)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert f'href="{reverse("receivables:customer", args=[customer.pk])}"' in page


def test_a_customer_without_a_ledger_says_so(client, org):
    customer = credit_customer(org.cathy, "50000", owner=org.alice, name="新客户有限公司")
    client.force_login(org.fiona)
    text = _tab(client, customer).content.decode()
    assert "50,000.00" in text and "没有未结发票" in text and "没有回款记录" in text
