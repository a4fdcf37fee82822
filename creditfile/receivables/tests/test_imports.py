"""ERP file imports: bad files change nothing and the report names row, column and problem;
good files import; a second import of the same file changes nothing; saved mappings read
Chinese XLSX headers; skip-bad-rows imports the rest."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from openpyxl import Workbook

from creditfile.core.models import Company
from creditfile.receivables.choices import OrderStatus
from creditfile.receivables.imports import drain, submit, suggest_mapping
from creditfile.receivables.models import (
    Allocation,
    DocumentKind,
    ErpCustomerCode,
    Exposure,
    ImportJob,
    ImportMapping,
    Invoice,
    JobStatus,
    Payment,
    SalesOrder,
)
from creditfile.receivables.services.exposure import recompute
from creditfile.receivables.services.ledger import post_invoice
from creditfile.receivables.testing import TODAY, credit_customer

INVOICE_HEADERS = ["单据号", "客户名称", "开票日期", "到期日", "币种", "汇率", "价税合计"]


@pytest.fixture
def customers(org):
    huaxin = credit_customer(org.cathy, "500000", name="华信科技有限公司")
    huaxin.uscc = "91330106MA2B0X0X0X"
    huaxin.save()
    return {"huaxin": huaxin, "dongfang": credit_customer(org.cathy, name="东方贸易有限公司")}


def mapping_for(kind=DocumentKind.INVOICE, headers=INVOICE_HEADERS, **fields):
    columns = suggest_mapping(headers, kind)
    return ImportMapping.objects.create(
        name=fields.pop("name", f"用友U8 {kind}"),
        company=Company.default(),
        source=fields.pop("source", "用友U8"),
        kind=kind,
        columns=columns,
        **fields,
    )


def csv_text(rows, headers=INVOICE_HEADERS) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_file(rows, headers=INVOICE_HEADERS, encoding="utf-8-sig", name="ar.csv"):
    return ContentFile(csv_text(rows, headers).encode(encoding), name=name)


def xlsx_file(rows, headers, name="ar.xlsx", title_rows=()):
    workbook = Workbook()
    sheet = workbook.active
    for title in title_rows:
        sheet.append(title)
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return ContentFile(buffer.getvalue(), name=name)


def run(mapping, upload, user, **options) -> ImportJob:
    job = submit(mapping, upload, user, **options)
    assert job.status == JobStatus.QUEUED
    drain()
    job.refresh_from_db()
    return job


def ledger_state():
    """Everything an import could change, to compare before and after."""
    return (
        list(Invoice.objects.order_by("id").values_list("number", "base_amount", "open_base")),
        list(Payment.objects.order_by("id").values_list("number", "base_amount")),
        Allocation.objects.count(),
        SalesOrder.objects.count(),
        list(Exposure.objects.order_by("id").values_list("open_receivables", "open_orders")),
        ErpCustomerCode.objects.count(),
    )


def assert_exposure_exact():
    for exposure in Exposure.objects.all():
        assert (exposure.open_receivables, exposure.open_orders) == recompute(
            exposure.customer_id, exposure.company_id
        )


def report(job):
    return [(p.row, p.column, p.message) for p in job.problems.all()]


GOOD = [
    ["INV-1", "华信科技有限公司", "2026-05-01", "2026-05-31", "CNY", "1", "11,300.00"],
    ["INV-2", "东方贸易有限公司", "2026/5/3", "", "", "", "5000"],
    ["INV-3", "华信科技有限公司", "2026年5月4日", "2026-06-30", "USD", "7.1", "1000"],
]


def test_it_imports_a_good_csv_file(org, customers):
    job = run(mapping_for(), csv_file(GOOD), org.fiona)
    assert job.status == JobStatus.DONE, report(job)
    assert (job.created, job.updated, job.unchanged, job.bad_rows) == (3, 0, 0, 0)
    inv1, inv2, inv3 = Invoice.objects.order_by("number")
    assert (inv1.customer, inv1.base_amount, inv1.source) == (
        customers["huaxin"],
        Decimal("11300.00"),
        "用友U8",
    )
    assert inv2.due_date == datetime.date(2026, 6, 2)  # the line's 30 days
    assert (inv3.currency, inv3.base_amount) == ("USD", Decimal("7100.00"))
    assert_exposure_exact()
    assert not job.file  # the uploaded copy is gone once imported


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (["INV-9", "华信科技有限公司", "2026-05-01", "", "", "", "一千元"], "价税合计", "不是数字"),
        (["INV-9", "华信科技有限公司", "2026-05-01", "", "", "", "-500"], "价税合计", "负数"),
        (["INV-9", "不存在的公司", "2026-05-01", "", "", "", "500"], "客户名称", "找不到客户"),
        (
            ["INV-9", "华信科技有限公司", "2026-13-01", "", "", "", "500"],
            "开票日期",
            "不是有效日期",
        ),
        (["INV-9", "华信科技有限公司", "2026-05-01", "2026-04-01", "", "", "5"], "到期日", "早于"),
        (["INV-9", "华信科技有限公司", "2026-05-01", "", "XYZ", "2", "500"], "币种", "未知币种"),
        (["INV-9", "华信科技有限公司", "2026-05-01", "", "USD", "", "500"], "汇率", "必须填写汇率"),
        (["", "华信科技有限公司", "2026-05-01", "", "", "", "500"], "单据号", "必填"),
    ],
)
def test_a_file_with_one_bad_row_imports_nothing_and_names_row_column_and_problem(
    org, customers, row, column, message
):
    post_invoice(customers["huaxin"], "OLD-1", datetime.date(2026, 4, 1), "800")
    before = ledger_state()
    job = run(mapping_for(), csv_file([*GOOD, row]), org.fiona)
    assert job.status == JobStatus.REFUSED
    (problem,) = report(job)
    assert problem[:2] == (5, column) and message in problem[2], problem
    assert (job.created, job.bad_rows) == (0, 1)
    assert ledger_state() == before
    assert_exposure_exact()


def test_the_report_lists_every_bad_row_including_repeated_numbers(org, customers):
    rows = [
        *GOOD,
        ["INV-1", "东方贸易有限公司", "2026-05-09", "", "", "", "10"],  # INV-1 again
        ["INV-5", "华信科技有限公司", "昨天", "", "", "", "-1"],  # two problems, one row
    ]
    before = ledger_state()
    job = run(mapping_for(), csv_file(rows), org.fiona)
    assert job.status == JobStatus.REFUSED and job.bad_rows == 2
    problems = report(job)
    assert [(row, column) for row, column, _m in problems] == [
        (5, "单据号"),
        (6, "开票日期"),
        (6, "价税合计"),
    ]
    assert "与第2行重复" in problems[0][2]
    assert ledger_state() == before


def test_rows_only_the_ledger_can_refuse_are_reported_with_the_rest(org, customers):
    post_invoice(customers["huaxin"], "INV-2", datetime.date(2026, 4, 1), "800", source="用友U8")
    before = ledger_state()
    rows = [*GOOD, ["INV-7", "华信科技有限公司", "2026-05-01", "", "", "", "abc"]]
    job = run(mapping_for(), csv_file(rows), org.fiona)
    assert job.status == JobStatus.REFUSED
    problems = report(job)
    assert [(row, column) for row, column, _m in problems] == [(3, "客户名称"), (5, "价税合计")]
    assert "已属于另一客户" in problems[0][2]
    assert ledger_state() == before


def test_a_csv_mixing_gbk_and_utf8_lines_is_refused_with_the_lines(org, customers):
    utf8 = csv_text(GOOD[:2]).encode("utf-8")
    gbk = csv_text(GOOD[2:], headers=[]).replace("\r\n", "", 1).encode("gbk")
    before = ledger_state()
    job = run(mapping_for(), ContentFile(utf8 + gbk, name="mixed.csv"), org.fiona)
    assert job.status == JobStatus.REFUSED
    ((row, _column, message),) = report(job)
    assert row is None and "混用了两种编码" in message and "第4行是GBK" in message
    assert ledger_state() == before


def test_a_file_in_neither_encoding_is_refused_clearly(org, customers):
    job = run(mapping_for(), ContentFile(b"a,b\r\n\xff\xfe\xfa,1\r\n", name="x.csv"), org.fiona)
    assert job.status == JobStatus.REFUSED
    assert "第2行既不是UTF-8也不是GBK" in report(job)[0][2]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_gbk_and_utf8_csv_files_both_import(org, customers, encoding):
    job = run(mapping_for(), csv_file(GOOD, encoding=encoding), org.fiona)
    assert job.status == JobStatus.DONE and job.created == 3, report(job)
    assert set(Invoice.objects.values_list("customer__name", flat=True)) == {
        "华信科技有限公司",
        "东方贸易有限公司",
    }


def test_importing_the_same_file_twice_changes_nothing_the_second_time(org, customers):
    mapping = mapping_for()
    run(mapping, csv_file(GOOD), org.fiona)
    payments = mapping_for(
        DocumentKind.PAYMENT,
        ["收款单号", "客户名称", "收款日期", "收款金额", "核销发票号"],
        name="用友U8 收款",
    )
    receipts = [["SK-1", "华信科技有限公司", "2026-06-01", "3000", "INV-3"]]
    run(
        payments,
        csv_file(receipts, ["收款单号", "客户名称", "收款日期", "收款金额", "核销发票号"]),
        org.fiona,
    )
    before = ledger_state()
    again = run(mapping, csv_file(GOOD), org.fiona)
    assert (again.status, again.created, again.updated, again.unchanged) == (
        JobStatus.DONE,
        0,
        0,
        3,
    )
    assert ledger_state() == before
    assert Invoice.objects.get(number="INV-3").open_base == Decimal("4100.00")
    assert_exposure_exact()


def test_a_changed_amount_updates_the_document_instead_of_adding_one(org, customers):
    mapping = mapping_for()
    run(mapping, csv_file(GOOD), org.fiona)
    changed = [GOOD[0][:6] + ["12,000.00"]]
    job = run(mapping, csv_file(changed), org.fiona)
    assert (job.created, job.updated) == (0, 1)
    assert Invoice.objects.count() == 3
    assert Invoice.objects.get(number="INV-1").base_amount == Decimal("12000.00")
    assert_exposure_exact()


KINGDEE_HEADERS = [
    "单据编号",
    "往来单位编码",
    "统一社会信用代码",
    "业务日期",
    "收款到期日",
    "币别",
    "价税合计(原币)",
]


def test_an_xlsx_with_chinese_headers_imports_through_a_saved_mapping(org, customers):
    mapping = ImportMapping.objects.create(
        name="金蝶K3 应收单",
        company=Company.default(),
        source="金蝶K3",
        kind=DocumentKind.INVOICE,
        columns={
            "单据编号": "number",
            "往来单位编码": "customer_code",
            "统一社会信用代码": "customer_uscc",
            "业务日期": "invoice_date",
            "收款到期日": "due_date",
            "币别": "currency",
            "价税合计(原币)": "amount",
        },
        date_format="%d/%m/%Y",
    )
    rows = [
        ["AR-001", "C001", "91330106MA2B0X0X0X", "01/05/2026", "31/05/2026", "CNY", 2000.5],
        ["AR-002", "C001", None, datetime.datetime(2026, 5, 2), "01/06/2026", "CNY", 1000],
        [None, "合计", None, None, None, None, 3000.5],
    ]
    upload = xlsx_file(rows, KINGDEE_HEADERS, title_rows=[["应收单列表"], ["打印日期：2026-06-30"]])
    job = run(mapping, upload, org.fiona)
    assert job.status == JobStatus.DONE and job.created == 2, report(job)
    first, second = Invoice.objects.order_by("number")
    assert first.customer == second.customer == customers["huaxin"]
    assert (first.base_amount, first.due_date) == (Decimal("2000.50"), datetime.date(2026, 5, 31))
    # The code was learned from the row that also gave the credit code.
    assert ErpCustomerCode.objects.get(source="金蝶K3", code="C001").customer == customers["huaxin"]


def test_an_unknown_customer_code_asks_for_the_name_once(org, customers):
    headers = ["单据号", "客户编码", "开票日期", "价税合计"]
    mapping = mapping_for(headers=headers)
    job = run(mapping, csv_file([["INV-1", "C404", "2026-05-01", "10"]], headers), org.fiona)
    assert job.status == JobStatus.REFUSED
    assert report(job)[0][:2] == (2, "客户编码") and "尚未对应到客户" in report(job)[0][2]


def test_skip_bad_rows_imports_the_good_rows_and_reports_the_bad(org, customers):
    rows = [*GOOD, ["INV-8", "不存在的公司", "2026-05-01", "", "", "", "500"]]
    job = run(mapping_for(), csv_file(rows), org.fiona, skip_bad_rows=True)
    assert job.status == JobStatus.DONE
    assert (job.created, job.bad_rows) == (3, 1)
    assert report(job)[0][:2] == (5, "客户名称")
    assert set(Invoice.objects.values_list("number", flat=True)) == {"INV-1", "INV-2", "INV-3"}
    assert_exposure_exact()


def test_imported_orders_go_through_the_credit_check(org, customers):
    headers = ["订单号", "客户名称", "订单日期", "订单金额"]
    mapping = mapping_for(DocumentKind.ORDER, headers, name="订单")
    rows = [
        ["SO-1", "华信科技有限公司", "2026-06-29", "100000"],
        ["SO-2", "东方贸易有限公司", "2026-06-29", "250000"],  # over its 100,000 line
    ]
    job = run(mapping, csv_file(rows, headers), org.fiona)
    assert job.status == JobStatus.DONE, report(job)
    released, blocked = SalesOrder.objects.order_by("number")
    assert (released.status, released.order_date) == (
        OrderStatus.RELEASED,
        datetime.date(2026, 6, 29),
    )
    assert blocked.status == OrderStatus.BLOCKED
    assert Exposure.objects.get(customer=customers["huaxin"]).open_orders == Decimal("100000.00")
    before = ledger_state()
    assert run(mapping, csv_file(rows, headers), org.fiona).unchanged == 2
    assert ledger_state() == before
    assert_exposure_exact()


def test_a_file_without_a_mapped_column_is_refused_before_any_row(org, customers):
    headers = ["单据号", "客户名称", "开票日期"]
    job = run(
        mapping_for(), csv_file([["INV-1", "华信科技有限公司", "2026-05-01"]], headers), org.fiona
    )
    assert job.status == JobStatus.REFUSED
    assert report(job)[0][:2] == (None, "价税合计")


def test_suggestions_know_yonyou_kingdee_and_english_headers():
    assert suggest_mapping(KINGDEE_HEADERS, DocumentKind.INVOICE) == {
        "单据编号": "number",
        "往来单位编码": "customer_code",
        "统一社会信用代码": "customer_uscc",
        "收款到期日": "due_date",
        "币别": "currency",
        "价税合计(原币)": "amount",
    }
    english = ["Invoice No", "Customer Name", "Invoice Date", "Due Date", "Currency", "Amount"]
    assert set(suggest_mapping(english, DocumentKind.INVOICE).values()) == {
        "number",
        "customer_name",
        "invoice_date",
        "due_date",
        "currency",
        "amount",
    }
    receipts = suggest_mapping(
        ["收款单号", "客户", "收款日期", "金额", "发票号"], DocumentKind.PAYMENT
    )
    assert receipts["发票号"] == "reference" and receipts["收款单号"] == "number"


def test_only_importers_may_submit(org, customers):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        submit(mapping_for(), csv_file(GOOD), org.alice)
    assert ImportJob.objects.count() == 0
    assert TODAY
