"""Importing PaymentSummary rows from the ERP's aging/collection report: all or nothing."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from creditfile.credit.models import PaymentSummary
from creditfile.credit.services.payment_import import import_payment_summaries, template
from creditfile.customers.testing import make_customer

pytestmark = pytest.mark.django_db

HEADERS = [
    "统一社会信用代码",
    "统计截止日",
    "12个月销售额",
    "12个月回款额",
    "已结清发票数",
    "按期付款发票数",
    "平均逾期天数",
    "最长逾期天数",
    "逾期超过30天次数",
    "逾期超过90天次数",
    "期末逾期金额",
    "恶意拖欠",
]


@pytest.fixture
def customers(org):
    return [
        make_customer("华信科技有限公司", owner=org.alice),
        make_customer("长江贸易有限公司", owner=org.walt),
    ]


def row(customer, period="2026-10-31", **change) -> list:
    values = {
        "uscc": customer.uscc,
        "period": period,
        "sales": "1,200,000.50",
        "payments": "1100000",
        "settled": "48",
        "on_time": "40",
        "avg": "6.5",
        "max": "45",
        "over30": "2",
        "over90": "0",
        "overdue": "35000",
        "malicious": "否",
    }
    values |= change
    return list(values.values())


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    lines = [",".join(HEADERS)] + [",".join(f'"{v}"' for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def run(content: bytes, user, name="aging.csv", dry_run=False):
    return import_payment_summaries(io.BytesIO(content), name, user, dry_run=dry_run)


def test_it_imports_a_csv_with_money_as_decimal(org, customers):
    first, second = customers
    result = run(
        csv_bytes([row(first), row(second, malicious="是", over30="3", over90="1")]), org.carl
    )
    assert result.ok and result.committed
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    summary = PaymentSummary.objects.get(customer=first)
    assert summary.period_end == datetime.date(2026, 10, 31)
    assert summary.sales_amount == Decimal("1200000.50")
    assert summary.average_days_late == Decimal("6.5")
    assert summary.source == "import"
    assert not summary.malicious_default
    assert PaymentSummary.objects.get(customer=second).malicious_default


def test_it_reads_gbk_csv_and_xlsx(org, customers):
    first, second = customers
    assert run(csv_bytes([row(first)], encoding="gb18030"), org.carl).created == 1
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    sheet.append(
        [second.uscc, datetime.datetime(2026, 10, 31), 1000, 900, 10, 9, 1.5, 5, 0, 0, 0, "否"]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run(buffer.getvalue(), org.carl, name="aging.xlsx")
    assert result.ok, result.problems
    assert PaymentSummary.objects.get(customer=second).average_days_late == Decimal("1.5")


def test_reimporting_the_same_file_changes_nothing(org, customers):
    content = csv_bytes([row(c) for c in customers])
    run(content, org.carl)
    again = run(content, org.carl)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert PaymentSummary.objects.count() == 2
    corrected = run(csv_bytes([row(customers[0], overdue="0")]), org.carl)
    assert (corrected.created, corrected.updated) == (0, 1)
    assert PaymentSummary.objects.get(customer=customers[0]).overdue_amount == 0
    assert PaymentSummary.objects.count() == 2


@pytest.mark.parametrize(
    "change, column, message",
    [
        ({"period": "2026-10-30"}, "统计截止日", "应为月末"),
        ({"period": "下个月"}, "统计截止日", "不是有效日期"),
        ({"sales": "很多"}, "12个月销售额", "不是数字"),
        ({"sales": "-5"}, "12个月销售额", "不能为负数"),
        ({"on_time": "49"}, "按期付款发票数", "不能多于已结清发票数"),
        ({"over90": "3"}, "逾期超过90天次数", "不能多于逾期超过30天次数"),
        ({"avg": "50"}, "平均逾期天数", "不能大于最长逾期天数"),
        ({"settled": "1.5"}, "已结清发票数", "应为整数"),
        ({"malicious": "也许"}, "恶意拖欠", "应填写“是”或“否”"),
        ({"overdue": ""}, "期末逾期金额", "必填"),
        ({"uscc": "91330000000000000X"}, "统一社会信用代码", "没有统一社会信用代码为"),
    ],
)
def test_a_bad_row_is_named_by_row_and_column_and_nothing_is_written(
    org, customers, change, column, message
):
    first, second = customers
    result = run(csv_bytes([row(first), row(second, **change)]), org.carl)
    assert not result.committed
    assert [(p.row, p.column) for p in result.problems] == [(3, column)]
    assert message in result.problems[0].message
    assert not PaymentSummary.objects.exists()


def test_it_reports_every_bad_row_in_one_pass(org, customers):
    first, second = customers
    rows = [row(first, sales="x"), row(second), row(second), row(first, period="2026-02-27")]
    result = run(csv_bytes(rows), org.carl)
    assert [(p.row, p.column) for p in result.problems] == [
        (2, "12个月销售额"),
        (4, "统计截止日"),  # the duplicate of row 3, found after every row was read
        (5, "统计截止日"),
    ]
    assert "与第3行重复" in result.problems[1].message
    assert not PaymentSummary.objects.exists()


def test_it_names_a_missing_column_and_refuses_an_empty_file(org, customers):
    headers_only = ",".join(HEADERS[:-1]).encode()
    result = run(headers_only, org.carl)
    assert result.file_problem
    assert any("恶意拖欠" in p.message for p in result.problems)
    assert run(b"", org.carl).file_problem
    assert "没有数据行" in run(",".join(HEADERS).encode(), org.carl).problems[0].message


def test_a_check_only_run_writes_nothing(org, customers):
    result = run(csv_bytes([row(customers[0])]), org.carl, dry_run=True)
    assert result.ok and not result.committed and result.created == 1
    assert not PaymentSummary.objects.exists()


def test_it_does_not_overwrite_a_month_the_ledger_summarised(org, customers):
    PaymentSummary.objects.create(
        customer=customers[0], period_end=datetime.date(2026, 10, 31), source="ledger"
    )
    result = run(csv_bytes([row(customers[0])]), org.carl)
    assert [(p.row, p.column) for p in result.problems] == [(2, "统计截止日")]
    assert PaymentSummary.objects.get().sales_amount == 0


def test_the_template_has_the_columns(org):
    sheet = load_workbook(io.BytesIO(template())).active
    headers = [cell.value.rstrip("*") for cell in sheet[1]]
    assert headers == HEADERS


def test_the_import_screen(client, org, customers):
    url = reverse("credit:payment_import")
    for name in ("alice", "fiona", "victor"):
        client.force_login(getattr(org, name))
        assert client.get(url).status_code == 403
        assert client.get(reverse("credit:payment_import_template")).status_code == 403
    client.force_login(org.carl)
    assert client.get(url).status_code == 200
    bad = SimpleUploadedFile("aging.csv", csv_bytes([row(customers[0], sales="x")]))
    response = client.post(url, {"file": bad})
    body = response.content.decode()
    assert "整个文件未导入" in body and "12个月销售额" in body
    report = client.get(reverse("credit:payment_import_report"))
    sheet = load_workbook(io.BytesIO(report.content)).active
    assert "导出人：Carl（carl）" in sheet["A1"].value  # the stamp line, then the header
    assert sheet["B3"].value == 2
    check = SimpleUploadedFile("aging.csv", csv_bytes([row(customers[0])]))
    client.post(url, {"file": check, "check_only": "1"})
    assert not PaymentSummary.objects.exists()
    good = SimpleUploadedFile("aging.csv", csv_bytes([row(customers[0])]))
    response = client.post(url, {"file": good})
    assert "导入完成" in response.content.decode()
    assert PaymentSummary.objects.count() == 1
