"""Issue 4's browser walk: the credit manager finds a blocked order through 应收管理,
releases it with a reason after typing the password again, and a sales rep sees the
customer's receivables tab with its payment-habit chart in her customer's file."""

import datetime
import re
from contextlib import contextmanager

import pytest
from django.utils import timezone

from creditfile.core.testing import PASSWORD
from creditfile.receivables.choices import OrderStatus
from creditfile.receivables.models import Exposure, SalesOrder
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.ledger import post_invoice, post_payment
from creditfile.receivables.testing import credit_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "宁波海岳五金制品有限公司"


@contextmanager
def signed_in(browser, live_server, username, path):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"/accounts/login/?next={path}")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        yield page
    finally:
        context.close()


def ledger(org):
    """A customer who paid late in the spring and now asks for more than her line."""
    today = timezone.localdate()
    customer = credit_customer(org.cathy, "100000", owner=org.alice, name=CUSTOMER)
    start = today - datetime.timedelta(days=120)
    post_invoice(customer, "INV-1", start, "40000")  # due after 30 days
    post_payment(customer, "PAY-1", start + datetime.timedelta(days=50), "40000")  # 20 late
    post_invoice(customer, "INV-2", today - datetime.timedelta(days=10), "60000")  # not due
    check_credit(customer, "55000", "SO-77", on_date=today)  # 60,000 + 55,000 > 100,000
    return customer


def test_a_blocked_order_is_released_and_the_file_shows_the_payment_habit(
    browser, live_server, org
):
    customer = ledger(org)
    order = SalesOrder.objects.get(number="SO-77")
    assert order.status == OrderStatus.BLOCKED

    with signed_in(browser, live_server, "cathy", "/customers/") as page:
        page.get_by_role("link", name="应收管理").click()
        page.get_by_role("link", name="信用冻结订单").click()
        row = page.locator(f"#order-{order.pk}")
        row.get_by_text("超出可用额度 15,000.00 元").wait_for()
        row.get_by_placeholder("理由（必填）").fill("总经理同意，月底前回款")
        row.get_by_role("button", name="放行").click()
        page.get_by_role("heading", name="请再次输入密码").wait_for()
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="确认").click()
        page.get_by_role("button", name=re.compile("^继续")).click()
        page.get_by_text("订单 SO-77 已放行。").wait_for()
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED and order.decided_by == org.cathy
    assert Exposure.objects.get(customer=customer).open_orders == 55000

    with signed_in(browser, live_server, "alice", f"/customers/{customer.pk}/") as page:
        page.get_by_role("link", name="应收", exact=True).click()
        tab = page.locator("#receivables-tab")
        tab.get_by_text("付款习惯").wait_for()
        assert "占用 115.0%" in tab.inner_text()
        bars = tab.locator("svg rect.bar")
        assert bars.count() == 1 and "warn" in bars.first.get_attribute("class")
        assert "加权逾期 20.0 天" in bars.first.locator("title").text_content()
