"""Issue 5's handover walk (R-43): mary (department manager) hands alice's customers to bob
on the screen, confirms with her password, and prints the letter to the customer; alice,
signed in elsewhere, is signed out by the deactivation.

With CREDITFILE_SCREENSHOTS=1 it also saves the preview and the record, 1280 px wide.
"""

import io
import os
from pathlib import Path

import pytest
from pypdf import PdfReader

from creditfile.core.models import HandoverRecord
from creditfile.core.testing import PASSWORD
from creditfile.customers.models import Customer
from creditfile.customers.testing import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("CREDITFILE_SCREENSHOTS") == "1"
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def sign_in(browser, live_server, username: str):
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        accept_downloads=True,
        viewport={"width": 1280, "height": 900},
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return context, page


def test_it_hands_a_departing_reps_customers_over_on_the_screen(browser, live_server, org):
    make_customer("华信科技有限公司", owner=org.alice)
    make_customer("远东贸易有限公司", owner=org.alice)
    alice_context, alice = sign_in(browser, live_server, "alice")
    context, page = sign_in(browser, live_server, "mary")
    try:
        page.get_by_role("link", name="离职交接").click()
        page.get_by_role("link", name="办理交接").click()
        page.get_by_label("移交人（离职或调岗人员）").select_option(str(org.alice.pk))
        page.get_by_label("接手人").select_option(str(org.bob.pk))
        page.get_by_label("交接原因").fill("2026年12月离职")
        page.get_by_role("button", name="预览将移交的内容").click()
        preview = page.locator("#handover-preview")
        assert "华信科技有限公司" in preview.inner_text()
        if SCREENSHOTS:
            page.screenshot(path=str(IMAGES / "handover-preview.png"), full_page=True)

        preview.get_by_role("button").filter(has_text="确认交接").click()
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="确认").click()
        page.get_by_role("button", name="继续：离职交接").click()
        page.wait_for_url("**/handover/*/")

        record = HandoverRecord.objects.get()
        assert set(Customer.objects.filter(owner=org.bob).values_list("name", flat=True)) == {
            "华信科技有限公司",
            "远东贸易有限公司",
        }
        assert "需通知的客户" in page.content()
        if SCREENSHOTS:
            page.screenshot(path=str(IMAGES / "handover-record.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_role("link", name="下载全部通知函（ZIP）").click()
        assert download.value.suggested_filename.endswith(".zip")
        letter = page.request.get(
            f"/handover/{record.pk}/letters/{Customer.objects.first().pk}.pdf"
        )
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.body())).pages)
        assert "Bob" in text

        alice.goto("/customers/")
        assert "/accounts/login/" in alice.url
    finally:
        context.close()
        alice_context.close()
