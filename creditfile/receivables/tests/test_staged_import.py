"""The invoice CSV import staged in SQL (imports/staged.py): the rules the per-row checker
enforced still hold when the checks run as SQL over the whole file — customer codes learned
from an earlier row of the same file, codes that already mean another customer, names
shared by two customers, repeated numbers, blank and 合计 lines, cells padded with spaces —
and a file written in plain form (checked in SQL) gives exactly the ledger the same file
written in the forms only Python reads gives."""

import datetime
from decimal import Decimal

import pytest

from creditfile.core.models import Company
from creditfile.customers.testing import make_customer
from creditfile.receivables.imports import drain, submit
from creditfile.receivables.models import (
    DocumentKind,
    ErpCustomerCode,
    ImportMapping,
    Invoice,
    JobStatus,
)
from creditfile.receivables.testing import credit_customer
from creditfile.receivables.tests.test_imports import (
    assert_exposure_exact,
    csv_file,
    ledger_state,
    mapping_for,
    report,
    run,
)
from creditfile.receivables.tests.test_invoice_batch import snapshot, undone

HEADERS = ["单据号", "客户编码", "统一社会信用代码", "客户名称", "开票日期", "到期日"] + [
    "币种",
    "汇率",
    "价税合计",
]
HUAXIN_USCC = "91330106MA2B0X0X0X"
DONGFANG_USCC = "91110000100000000A"


@pytest.fixture
def customers(org):
    huaxin = credit_customer(org.cathy, "900000", name="华信科技有限公司")
    dongfang = credit_customer(org.cathy, "900000", name="东方贸易有限公司", term_days=45)
    huaxin.uscc, dongfang.uscc = HUAXIN_USCC, DONGFANG_USCC
    huaxin.save()
    dongfang.save()
    return {"huaxin": huaxin, "dongfang": dongfang}


def staged_mapping():
    return mapping_for(headers=HEADERS)


def row(number, code="", uscc="", name="", day="2026-05-01", due="", cur="", rate="", amt="10"):
    return [number, code, uscc, name, day, due, cur, rate, amt]


def test_a_code_is_learned_from_an_earlier_row_of_the_same_file(org, customers):
    rows = [
        row("A-1", code="C1", uscc=HUAXIN_USCC, amt="100"),
        row("A-2", code="C1", amt="200"),
        row("A-3", code="C1", amt="300.5"),
    ]
    job = run(staged_mapping(), csv_file(rows, HEADERS), org.fiona)
    assert job.status == JobStatus.DONE, report(job)
    assert (job.created, job.bad_rows) == (3, 0)
    assert set(Invoice.objects.values_list("customer_id", flat=True)) == {customers["huaxin"].pk}
    assert ErpCustomerCode.objects.get(source="用友U8", code="C1").customer == customers["huaxin"]
    assert_exposure_exact()


def test_a_code_before_the_row_that_teaches_it_is_unknown_and_nothing_is_learned(org, customers):
    rows = [row("A-1", code="C1"), row("A-2", code="C1", uscc=HUAXIN_USCC)]
    before = ledger_state()
    job = run(staged_mapping(), csv_file(rows, HEADERS), org.fiona)
    assert job.status == JobStatus.REFUSED
    ((number, column, message),) = report(job)
    assert (number, column) == (2, "客户编码") and "尚未对应到客户" in message
    assert ledger_state() == before


def test_a_code_that_already_means_another_customer_is_refused(org, customers):
    ErpCustomerCode.objects.create(source="用友U8", code="C1", customer=customers["dongfang"])
    rows = [row("A-1", code="C1", uscc=HUAXIN_USCC), row("A-2", code="C1")]
    job = run(staged_mapping(), csv_file(rows, HEADERS), org.fiona, skip_bad_rows=True)
    assert (job.status, job.created, job.bad_rows) == (JobStatus.DONE, 1, 1)
    ((number, column, message),) = report(job)
    assert (number, column) == (2, "客户编码") and "已对应另一客户“东方贸易有限公司”" in message
    assert Invoice.objects.get().customer == customers["dongfang"]  # A-2, by the known code


def test_customers_are_found_by_credit_code_in_any_case_and_spacing_or_by_unique_name(
    org, customers
):
    make_customer("同名有限公司")
    make_customer("同名有限公司")
    rows = [
        row("A-1", uscc=HUAXIN_USCC.lower().replace("0X0X", "0X 0X")),
        row("A-2", name="东方贸易有限公司"),
        row("A-3", name="同名有限公司"),
        row("A-4", uscc="91000000000000000Z", name="华信科技有限公司"),
    ]
    job = run(staged_mapping(), csv_file(rows, HEADERS), org.fiona, skip_bad_rows=True)
    assert (job.created, job.bad_rows) == (2, 2), report(job)
    (ambiguous, unknown) = report(job)
    assert ambiguous[:2] == (4, "客户名称") and "有2个名为“同名有限公司”的客户" in ambiguous[2]
    assert unknown[:2] == (5, "统一社会信用代码") and "91000000000000000Z" in unknown[2]
    assert dict(Invoice.objects.values_list("number", "customer_id")) == {
        "A-1": customers["huaxin"].pk,
        "A-2": customers["dongfang"].pk,
    }


def test_repeated_numbers_are_named_with_the_first_row(org, customers):
    rows = [
        row("A-1", uscc=HUAXIN_USCC),
        row("A-2", uscc=HUAXIN_USCC),
        row("A-1", uscc=HUAXIN_USCC, amt="20"),
        row("A-1", uscc=HUAXIN_USCC, amt="oops"),
    ]
    before = ledger_state()
    job = run(staged_mapping(), csv_file(rows, HEADERS), org.fiona)
    assert job.status == JobStatus.REFUSED and job.bad_rows == 2
    problems = report(job)
    # Within a row, the cells left to right first, as the per-row checker reports them.
    assert [(p[0], p[1]) for p in problems] == [(4, "单据号"), (5, "价税合计"), (5, "单据号")]
    assert "与第2行重复" in problems[0][2] and "与第2行重复" in problems[2][2]
    assert ledger_state() == before


def test_blank_lines_total_lines_and_padded_cells(org, customers):
    text = (
        ",".join(HEADERS) + "\r\n"
        f" A-1 ,,{HUAXIN_USCC},,\u30002026-05-01 , ,,,\u3000100.00 \r\n"
        "\r\n"  # a blank line still counts as a line of the file
        f"A-2,,,东方贸易有限公司,2026-05-02,,usd, 7.1 ,10\r\n"
        ",合计,,,,,,,110\r\n"
        ",,\r\n"
        f"A-3,,{HUAXIN_USCC},,2026-02-30,,,,5\r\n"
    )
    from django.core.files.base import ContentFile

    mapping = staged_mapping()
    job = run(mapping, ContentFile(text.encode(), name="ar.csv"), org.fiona)
    assert job.status == JobStatus.REFUSED
    ((number, column, message),) = report(job)
    assert (number, column) == (7, "开票日期") and "不是有效日期" in message
    job = run(
        mapping,
        ContentFile(text.encode(), name="ar.csv"),
        org.fiona,
        skip_bad_rows=True,
    )
    assert (job.status, job.created, job.rows_checked) == (JobStatus.DONE, 2, 6)
    first, second = Invoice.objects.order_by("number")
    assert (first.number, first.base_amount, first.due_date) == (
        "A-1",
        Decimal("100.00"),
        datetime.date(2026, 5, 31),
    )
    assert (second.currency, second.rate, second.base_amount) == (
        "USD",
        Decimal("7.1"),
        Decimal(71),
    )
    assert_exposure_exact()


# The same invoices, once in the plain form SQL checks and once in forms only Python reads.
PLAIN = [
    row("P-1", uscc=HUAXIN_USCC, day="2026-05-01", amt="11300.00"),
    row("P-2", name="东方贸易有限公司", day="2026-05-03", amt="5000"),
    row(
        "P-3",
        uscc=HUAXIN_USCC,
        day="2026-05-04",
        due="2026-06-30",
        cur="USD",
        rate="7.1",
        amt="1000",
    ),
    row("P-4", uscc=HUAXIN_USCC, day="2026-02-28", cur="EUR", rate="7.812345", amt="333.33"),
    row("P-5", name="东方贸易有限公司", day="2026-04-30", cur="CNY", rate="1", amt="0.01"),
]
UNUSUAL = [
    row("P-1", uscc=HUAXIN_USCC, day="2026/5/1", amt="11,300.00"),
    row("P-2", name="东方贸易有限公司", day="2026年5月3日", amt="¥5000"),
    row(
        "P-3",
        uscc=HUAXIN_USCC,
        day="20260504",
        due="2026/06/30",
        cur="usd",
        rate="7.10",
        amt="1,000",
    ),
    row("P-4", uscc=HUAXIN_USCC, day="2026-2-28", cur="EUR", rate="7.812345", amt="333.330"),
    row("P-5", name="东方贸易有限公司", day="2026.4.30", cur="CNY", rate="1.0", amt="0.005"),
]


def test_plain_cells_checked_in_sql_give_the_ledger_python_gives(org, customers):
    mapping = staged_mapping()
    with undone():
        job = run(mapping, csv_file(UNUSUAL, HEADERS), org.fiona)
        assert (job.status, job.created) == (JobStatus.DONE, 5), report(job)
        unusual = snapshot()
    job = run(mapping, csv_file(PLAIN, HEADERS), org.fiona)
    assert (job.status, job.created) == (JobStatus.DONE, 5), report(job)
    assert snapshot() == unusual
    assert Invoice.objects.get(number="P-4").base_amount == Decimal("2604.09")  # 2604.0889…
    assert_exposure_exact()
    again = run(mapping, csv_file(UNUSUAL, HEADERS), org.fiona)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)


def test_the_statements_do_not_grow_with_the_rows(org, customers, django_assert_max_num_queries):
    rows = [
        row(f"Q-{i}", uscc=HUAXIN_USCC if i % 2 else DONGFANG_USCC, amt=f"{i}.{i % 100:02d}")
        for i in range(1, 1501)
    ]
    job = submit(staged_mapping(), csv_file(rows, HEADERS), org.fiona)
    with django_assert_max_num_queries(70):
        drain()
    job.refresh_from_db()
    assert (job.status, job.created, job.rows_checked) == (JobStatus.DONE, 1500, 1500)
    assert_exposure_exact()


def test_payments_and_xlsx_files_keep_the_per_row_path(org, customers):
    mapping = ImportMapping.objects.create(
        name="收款",
        company=Company.default(),
        source="用友U8",
        kind=DocumentKind.PAYMENT,
        columns={"收款单号": "number", "客户名称": "customer_name"},
    )
    from creditfile.receivables.imports import staged

    assert not staged.applies(type("Job", (), {"mapping": mapping, "filename": "a.csv"}))
    invoices = staged_mapping()
    assert staged.applies(type("Job", (), {"mapping": invoices, "filename": "A.CSV"}))
    assert not staged.applies(type("Job", (), {"mapping": invoices, "filename": "a.xlsx"}))


def test_only_customers_the_importer_may_see_are_matched(org, customers):
    from django.contrib.auth.models import Permission

    from creditfile.customers.services.visibility import visible_customers

    own = credit_customer(org.cathy, name="爱丽丝的客户有限公司", owner=org.alice)
    org.alice.user_permissions.add(Permission.objects.get(codename="import_ledger"))
    alice = type(org.alice).objects.get(pk=org.alice.pk)  # permissions read afresh
    assert not visible_customers(alice).filter(pk=customers["huaxin"].pk).exists()
    rows = [row("V-1", name="爱丽丝的客户有限公司"), row("V-2", uscc=HUAXIN_USCC)]
    job = run(staged_mapping(), csv_file(rows, HEADERS), alice, skip_bad_rows=True)
    assert (job.created, job.bad_rows) == (1, 1)
    assert report(job)[0][:2] == (3, "统一社会信用代码") and "无权查看" in report(job)[0][2]
    assert Invoice.objects.get().customer == own
