"""The blocked-orders queue: who sees which order, and who may release or reject it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from creditfile.receivables.choices import OrderStatus
from creditfile.receivables.models import Exposure, SalesOrder
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.ledger import post_invoice, post_payment
from creditfile.receivables.testing import TODAY, credit_customer

QUEUE = reverse("receivables:blocked")


@pytest.fixture
def blocked(org):
    customer = credit_customer(org.cathy, "100000", owner=org.alice, name="冻结客户有限公司")
    return check_credit(customer, "150000", "SO-9", on_date=TODAY).order


def test_the_queue_lists_blocked_orders_with_their_reasons(sudo_client, org, blocked):
    sudo_client.force_login(org.cathy)
    text = sudo_client.get(QUEUE).content.decode()
    assert "冻结客户有限公司" in text and "SO-9" in text
    assert "超出可用额度 50,000.00 元" in text
    assert reverse("receivables:order_release", args=[blocked.pk]) in text


def test_a_sales_rep_sees_her_customers_orders_but_cannot_release_them(client, org, blocked):
    client.force_login(org.alice)
    text = client.get(QUEUE).content.decode()
    assert "SO-9" in text
    assert reverse("receivables:order_release", args=[blocked.pk]) not in text
    response = client.post(reverse("receivables:order_reject", args=[blocked.pk]), {"reason": "x"})
    assert response.status_code == 403

    client.force_login(org.walt)  # another region's rep: the order is not there at all
    assert "SO-9" not in client.get(QUEUE).content.decode()
    assert client.post(reverse("receivables:order_recheck", args=[blocked.pk])).status_code == 404


def test_releasing_asks_for_the_password_again_then_reserves_the_amount(
    client, sudo_client, org, blocked
):
    client.force_login(org.cathy)
    url = reverse("receivables:order_release", args=[blocked.pk])
    asked = client.post(url, {"reason": "总经理同意"})
    assert (
        asked.status_code in (302, 200) and SalesOrder.objects.get().status == OrderStatus.BLOCKED
    )

    sudo_client.force_login(org.cathy)
    response = sudo_client.post(url, {"reason": "总经理同意，一周内回款"}, follow=True)
    order = SalesOrder.objects.get()
    assert (
        order.status == OrderStatus.RELEASED and order.decision_reason == "总经理同意，一周内回款"
    )
    assert "已放行" in response.content.decode()
    assert Exposure.objects.get().open_orders == Decimal("150000.00")


def test_a_release_without_a_reason_is_refused_on_the_page(sudo_client, org, blocked):
    sudo_client.force_login(org.cathy)
    response = sudo_client.post(
        reverse("receivables:order_release", args=[blocked.pk]), {"reason": " "}, follow=True
    )
    assert "必须说明理由" in response.content.decode()
    assert SalesOrder.objects.get().status == OrderStatus.BLOCKED


def test_rejecting_by_htmx_swaps_the_row(client, org, blocked):
    client.force_login(org.cathy)
    response = client.post(
        reverse("receivables:order_reject", args=[blocked.pk]),
        {"reason": "超额"},
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert text.startswith(f'<tr id="order-{blocked.pk}">') and "已拒绝" in text
    assert SalesOrder.objects.get().status == OrderStatus.REJECTED


def test_a_recheck_after_a_payment_releases_the_order(client, org):
    customer = credit_customer(org.cathy, "100000", owner=org.alice, name="回款客户有限公司")
    post_invoice(customer, "INV-1", TODAY, "80000")
    order = check_credit(customer, "50000", "SO-1", on_date=TODAY).order
    assert order.status == OrderStatus.BLOCKED
    post_payment(customer, "PAY-1", TODAY, "80000")

    client.force_login(org.alice)
    response = client.post(reverse("receivables:order_recheck", args=[order.pk]), follow=True)

    assert "重新检查通过" in response.content.decode()
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.RELEASED
