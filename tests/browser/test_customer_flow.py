"""The issue's browser walk: log in, create a customer with contacts, find it by pinyin
initials, open its timeline, download its card PDF — in real Chromium."""

import re

import pytest

from creditfile.core.testing import PASSWORD
from creditfile.customers.models import Customer
from creditfile.customers.testing import valid_uscc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_creates_finds_and_prints_a_customer(page, org, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    uscc = valid_uscc(7301)

    page.goto("/customers/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "carl")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/customers/"))

    page.click("text=新建客户")
    page.fill("#id_name", "深圳市华信科技有限公司")
    page.fill("#id_uscc", uscc[:17] + ("0" if uscc[17] != "0" else "1"))
    page.locator("#id_uscc").blur()
    page.wait_for_selector("text=校验位")  # inline validation names the wrong check digit
    page.fill("#id_uscc", uscc)
    page.select_option("#id_source", "sales")
    page.click("form.file-form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/customers/\d+/"))
    customer = Customer.objects.get(uscc=uscc)
    assert page.locator("h1").first.inner_text().startswith("深圳市华信科技有限公司")

    for name, mobile in (("王芳", "13812345678"), ("李强", "13987654321")):
        page.goto(f"/customers/{customer.pk}/contacts/add/")
        page.fill("#id_name", name)
        page.fill("#id_mobile", mobile)
        page.select_option("#id_source", "customer")
        page.click("form.file-form button[type=submit].primary")
        page.wait_for_selector(f"text={name}")
    assert customer.contact_set.count() == 2

    page.goto("/customers/")
    page.fill("#id_q", "hxkj")
    page.keyboard.press("Enter")
    results = page.locator("#customer-results")
    results.locator("text=深圳市华信科技有限公司").wait_for()
    results.locator("text=深圳市华信科技有限公司").click()
    page.wait_for_url(re.compile(rf"/customers/{customer.pk}/"))

    page.click("nav.tabs >> text=时间线")
    page.wait_for_selector("text=王芳")
    assert page.locator("#tab-panel").inner_text().count("联系人") >= 1

    card = page.request.get(f"/customers/{customer.pk}/card.pdf")
    assert card.status == 200
    assert card.headers["content-type"] == "application/pdf"
    assert card.body().startswith(b"%PDF")
    assert page.locator("a", has_text="打印档案卡").count() == 1
