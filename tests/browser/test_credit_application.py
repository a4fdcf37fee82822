"""Issue 3's browser walk: one credit application from entry to the reply letter, every
step taken on its screen by the person whose job it is, each signed in through the
login page in a browser of their own.

alice (sales) applies for her customer and fills the site survey; carl (credit staff)
investigates; alice fills the evaluation form; fiona (finance) scores it and submits it
for approval; cathy (credit manager) approves; carl grants and generates the reply
letter, whose PDF must name the customer and the amount. Approving and granting ask for
the password again (core/sudo.py), as they do for anyone.

The customer's file is built in the database beforehand (the customer screens have
their own browser test) with facts the default scorecard grades A: a grade A
application of ¥300,000 needs only the credit manager's signature (default matrix:
the VP signs above ¥500,000, or above ¥200,000 for grade C).

With CREDITFILE_SCREENSHOTS=1 the walk also saves the README's screenshots of the
application awaiting approval and of the work queue, 1280 px wide.
"""

import datetime
import io
import os
import re
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from pypdf import PdfReader

from creditfile.core.testing import PASSWORD
from creditfile.credit.choices import ApplicationState
from creditfile.credit.models import CreditApplication, CreditLine, PaymentSummary, ReplyLetter
from creditfile.customers.models import FinancialStatement
from creditfile.customers.testing import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "杭州恒远精密机械有限公司"
AMOUNT = Decimal("300000")
SCREENSHOTS = os.environ.get("CREDITFILE_SCREENSHOTS") == "1"
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def well_run_customer(owner):
    """alice's customer with twelve years of business, strong audited accounts and a
    clean year of payments: the default scorecard gives it grade A."""
    today = timezone.localdate()
    customer = make_customer(
        CUSTOMER,
        owner=owner,
        registered_capital=Decimal("10000000"),
        employees=260,
        annual_sales=Decimal("60000000"),
        established_on=today.replace(year=today.year - 12, day=1),
        first_trade_on=today.replace(year=today.year - 4, day=1),
    )
    FinancialStatement.objects.create(
        customer=customer,
        source="customer",
        period_end=datetime.date(today.year - 1, 12, 31),
        audited=True,
        current_assets=Decimal("30000000"),
        current_liabilities=Decimal("12000000"),
        total_assets=Decimal("50000000"),
        total_liabilities=Decimal("17500000"),
        equity=Decimal("32500000"),
        revenue=Decimal("60000000"),
        net_profit=Decimal("7200000"),
    )
    PaymentSummary.objects.create(
        customer=customer,
        period_end=today.replace(day=1) - datetime.timedelta(days=1),
        sales_amount=Decimal("2400000"),
        payments_amount=Decimal("2400000"),
        invoices_settled=24,
        invoices_paid_on_time=24,
        average_days_late=Decimal("0"),
    )
    return customer


@contextmanager
def signed_in(browser, live_server, username: str, start: str):
    """A browser of the user's own, signed in through the login page and then at `start`."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        accept_downloads=True,
        viewport={"width": 1280, "height": 900},
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(start)
        assert "/accounts/login/" in page.url
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        yield page
    finally:
        context.close()


def take_step(page, label: str, done: str, fill=lambda step: None, sensitive=False) -> None:
    """Open the application page's step `label`, fill it in, send it, see `done`.

    A sensitive step (approving, granting) first asks for the password again
    (core/sudo.py); it is typed, and the held step is sent on with one click.
    """
    step = page.locator("details").filter(
        has=page.locator("summary").get_by_text(label, exact=True)
    )
    if step.get_attribute("open") is None:
        step.locator("summary").click()
    fill(step)
    step.get_by_role("button", name=label, exact=True).click()
    if sensitive:
        page.get_by_role("heading", name="请再次输入密码").wait_for()
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="确认").click()
        page.get_by_role("button", name=f"继续：{label}").click()
    try:
        page.get_by_text(done).first.wait_for()
    except PlaywrightTimeoutError:
        # A refused step answers with its reason (403/409) or the form with errors (422).
        said = page.get_by_role("main").inner_text()[:600]
        pytest.fail(f"{label}: expected “{done}”, the page says:\n{said}")


def exactly(label: str) -> re.Pattern:
    """A label as Django renders it, with or without its "：" suffix, and nothing more."""
    return re.compile(rf"^{re.escape(label)}[:：]?$")


def state_is(page, label: str) -> None:
    heading = page.get_by_role("heading", level=1)
    heading.get_by_text(label, exact=True).wait_for()


def open_from_queue(page, number: str) -> None:
    page.get_by_role("link", name=number, exact=True).first.click()
    page.wait_for_url(re.compile(r"/credit/applications/\d+/"))


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMAGES / name), full_page=True)


def pdf_text(content: bytes) -> str:
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", "", text)


def test_it_walks_an_application_from_entry_to_the_reply_letter(browser, live_server, org):
    customer = well_run_customer(org.alice)

    # --- alice applies for her customer from its file and fills the site survey ---------
    with signed_in(browser, live_server, "alice", f"/customers/{customer.pk}/") as page:
        page.get_by_role("link", name="信用", exact=True).click()
        page.get_by_role("link", name="新建信用申请").click()
        page.get_by_label("申请额度（元）").fill(str(AMOUNT))
        page.get_by_label("申请信用期限（天）").fill("60")
        page.get_by_label("预计年采购额（元）").fill("2400000")
        page.get_by_label("申请用途/理由").fill("新签年度框架采购合同，申请赊销额度。")
        page.get_by_role("button", name="创建申请").click()
        page.wait_for_url(re.compile(r"/credit/applications/\d+/$"))
        application = CreditApplication.objects.get(customer=customer)
        number = application.number
        state_is(page, "草稿")

        take_step(
            page,
            "提交申请",
            "已提交信用申请",
            lambda s: s.get_by_label("意见/说明").fill("客户资料已齐。"),
        )
        state_is(page, "已申请")

        def survey(step):
            step.get_by_label("接待人员").fill("总经理 周建国、财务经理 陈静")
            step.get_by_label(exactly("财务状况")).fill("账目清楚，现金充足，无银行逾期。")
            step.get_by_label("偿付意愿（管理者品格）").fill("总经理重信誉，对账及时。")
            step.get_by_label(exactly("主营业务")).fill("精密机械零部件加工。")
            step.get_by_label("经营场地").fill("自有厂房两万平方米，设备新。")
            step.get_by_label("总体印象与建议").fill("经营稳健，建议给予额度。")

        take_step(page, "现场调查表", "已保存现场调查表", survey)
        page.locator("#site-survey").get_by_text("经营稳健，建议给予额度。").wait_for()

    # --- carl investigates: pre-contract review, then the investigation is complete -----
    with signed_in(browser, live_server, "carl", "/credit/") as page:
        open_from_queue(page, number)
        take_step(page, "开始信用调查", "已开始信用调查")
        state_is(page, "信用调查")

        def review(step):
            for check in ("主体资格合格", "代理人身份与资格合格", "履约能力合格"):
                step.get_by_label(check).select_option(label="合格")
            step.get_by_label("证明材料真实").select_option(label="真实")
            step.get_by_label("主体资格审查说明").fill("营业执照、章程已核对原件。")

        take_step(page, "合同签订前评审", "已保存合同签订前评审", review)
        take_step(page, "完成信用调查", "信用调查完成")
        state_is(page, "信用评估")

    # --- alice fills the customer evaluation form -------------------------------------
    with signed_in(browser, live_server, "alice", "/credit/") as page:
        open_from_queue(page, number)

        def evaluation_form(step):
            step.get_by_label("客户主营业务").fill("精密机械零部件加工，主要客户为汽车厂。")
            step.get_by_label("客户要求的付款条件").fill("月结60天")
            step.get_by_label("行业信誉").select_option(label="好")
            step.get_by_label("合作态度").select_option(label="好")
            step.get_by_label("经营管理者素质").select_option(label="好")
            step.get_by_label("销售人员意见").fill("合作四年，从未拖欠，建议批准。")

        take_step(page, "客户信用评估表", "已保存客户信用评估表", evaluation_form)

    # --- fiona scores it and submits it for approval ----------------------------------
    with signed_in(browser, live_server, "fiona", "/credit/") as page:
        open_from_queue(page, number)
        take_step(
            page,
            "财务审核评分",
            "评分完成",
            lambda s: s.get_by_label("财务审核意见").fill("报表经审计，比率良好。"),
        )
        scored = page.get_by_text("评分完成").inner_text()
        assert "等级 A" in scored, scored
        take_step(page, "提交信用审批", "已提交信用审批")
        state_is(page, "信用审批")

    application.refresh_from_db()
    assert application.approved_grade == "A"

    # --- cathy, the only level a grade A ¥300,000 needs, approves it ------------------
    with signed_in(browser, live_server, "cathy", "/credit/") as page:
        awaiting = page.locator("#awaiting")
        awaiting.get_by_role("link", name=number).wait_for()
        screenshot(page, "credit-queue.png")
        awaiting.get_by_role("link", name=number).click()
        page.wait_for_url(re.compile(r"/credit/applications/\d+/"))
        approval = page.locator("#approval")
        approval.get_by_text("待审批").wait_for()
        assert approval.get_by_role("row").count() == 2  # header + the credit manager's level
        page.locator("summary").get_by_text("审批", exact=True).click()
        screenshot(page, "credit-application.png")

        def approve(step):
            step.get_by_label("审批决定").select_option(label="批准")
            step.get_by_label("理由").fill("A级客户，额度在信用经理权限内。")

        take_step(page, "审批", "已签署审批意见：批准", approve, sensitive=True)
        state_is(page, "已批准")

    # --- carl grants the line, generates the reply letter and downloads its PDF -------
    with signed_in(browser, live_server, "carl", "/credit/") as page:
        open_from_queue(page, number)
        take_step(page, "授信生效", "授信已生效", sensitive=True)
        state_is(page, "已授信")
        line = CreditLine.objects.get(application=application)
        assert (line.grade, line.limit) == ("A", AMOUNT)

        letters = page.locator(f"#letters-{application.pk}")
        letters.get_by_role("button", name="生成批准函").click()
        letters.get_by_text("已生成批准函").wait_for()
        letter = ReplyLetter.objects.get(application=application)
        # The link opens the PDF in Chromium's viewer in a new tab; the viewer does not
        # hand its bytes to Playwright, so the same URL is fetched again in carl's session.
        with (
            page.context.expect_event("response", lambda r: r.url.endswith(".pdf")) as shown,
            page.expect_popup() as opened,
        ):
            letters.get_by_role("link", name="PDF").click()
        assert shown.value.status == 200
        assert shown.value.headers["content-type"] == "application/pdf"
        pdf = opened.value.request.get(opened.value.url)
        assert pdf.status == 200
        content = pdf.body()

    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert CUSTOMER in text
    assert "300,000.00元" in text
    assert letter.subject in text
    application.refresh_from_db()
    assert application.state == ApplicationState.GRANTED
