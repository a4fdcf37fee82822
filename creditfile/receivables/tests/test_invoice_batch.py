"""The set-based invoice import gives exactly the ledger and exposure that posting the same
rows one by one with `post_invoice` gives: new, changed and unchanged invoices, several
currencies, due dates from the line's term and given, invoices naming orders, and
customers whose waiting payments the new invoices must take. A refused row still leaves
the whole file unimported."""

import datetime
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import transaction

from creditfile.core.models import Company
from creditfile.credit.models import CreditLine
from creditfile.receivables.imports import running
from creditfile.receivables.models import (
    Allocation,
    Exposure,
    Invoice,
    JobStatus,
    Payment,
    SalesOrder,
)
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.invoice_batch import InvoiceInput, post_invoices
from creditfile.receivables.services.ledger import post_invoice, post_payment
from creditfile.receivables.testing import TODAY, credit_customer
from creditfile.receivables.tests.test_imports import (
    assert_exposure_exact,
    csv_file,
    ledger_state,
    mapping_for,
    report,
    run,
)

SOURCE = "用友U8"
HEADERS = ["单据号", "客户名称", "开票日期", "到期日", "币种", "汇率", "价税合计", "销售订单号"]
D = datetime.date


@pytest.fixture
def ledger(org):
    """Customers and what the ledger already holds before the file comes."""
    names = {
        "huaxin": ("华信科技有限公司", 30),
        "dongfang": ("东方贸易有限公司", 45),
        "nanfang": ("南方实业有限公司", 60),
        "xibu": ("西部商贸有限公司", 30),
        "beifang": ("北方机械有限公司", 15),
    }
    people = {
        key: credit_customer(org.cathy, "900000", name=name, term_days=term)
        for key, (name, term) in names.items()
    }
    # nanfang's line starts in May: an April invoice is due at once.
    CreditLine.objects.filter(customer=people["nanfang"]).update(valid_from=D(2026, 5, 1))

    # Released before the overdue invoices below would block them.
    check_credit(people["huaxin"], "5000", "SO-1", source=SOURCE, on_date=TODAY)
    check_credit(people["nanfang"], "800", "SO-2", source=SOURCE, on_date=TODAY)

    def old(key, number, day, amount, **options):
        return post_invoice(people[key], number, day, amount, source=SOURCE, **options)

    old("huaxin", "OLD-CHANGED", D(2026, 3, 1), "1000")
    old("huaxin", "OLD-SAME", D(2026, 3, 2), "2000")
    old("dongfang", "OLD-PART", D(2026, 3, 3), "3000")
    old("dongfang", "OLD-DUE", D(2026, 3, 4), "500")
    post_payment(people["dongfang"], "PAY-D", D(2026, 4, 1), "1200", reference="OLD-PART")
    # Payments that found no open invoice: the file's invoices must take them.
    post_payment(people["xibu"], "PAY-X", D(2026, 4, 2), "2500")
    post_payment(people["beifang"], "PAY-B1", D(2026, 4, 3), "700")
    post_payment(people["beifang"], "PAY-B2", D(2026, 4, 4), "400", currency="USD", rate="7")
    return people


# (number, customer, invoice date, due date, currency, rate, amount, order)
ROWS = [
    ("N-1", "huaxin", "2026-05-01", "", "", "", "11300.00", ""),
    ("OLD-CHANGED", "huaxin", "2026-03-01", "", "", "", "1500", ""),
    ("OLD-SAME", "huaxin", "2026-03-02", "", "", "", "2000", ""),
    ("N-2", "dongfang", "2026-05-03", "2026-07-31", "USD", "7.1", "1000", ""),
    ("OLD-PART", "dongfang", "2026-03-03", "", "", "", "1200", ""),  # now exactly settled
    ("OLD-DUE", "dongfang", "2026-03-04", "2026-06-30", "", "", "500", ""),
    ("N-3", "nanfang", "2026-04-20", "", "EUR", "7.8", "333.33", ""),  # before its line
    ("N-4", "nanfang", "2026-05-20", "", "", "", "100", ""),
    ("N-5", "huaxin", "2026-05-05", "", "", "", "3000", "SO-1"),
    ("N-6", "nanfang", "2026-05-21", "", "", "", "900", "SO-2"),  # more than the order
    ("N-7", "xibu", "2026-05-06", "", "", "", "2000", ""),  # takes 2000 of PAY-X
    ("N-8", "beifang", "2026-05-30", "2026-06-30", "", "", "1000", ""),
    ("N-9", "beifang", "2026-05-10", "", "HKD", "0.9", "4000", ""),  # due before N-8
    ("N-10", "dongfang", "2026-06-01", "", "", "", "0.01", ""),
]


def as_csv(rows, people):
    return csv_file([[n, people[c].name, *rest] for n, c, *rest in rows], HEADERS)


def post_one_by_one(rows, people):
    """The per-row path: `post_invoice` for every row of the file, in the file's order."""
    for number, key, day, due, currency, rate, amount, order in rows:
        same = Invoice.objects.filter(source=SOURCE, number=number).first()
        if same is not None and _unchanged(same, key, people, day, due, currency, rate, amount):
            continue  # the import leaves identical rows alone
        post_invoice(
            people[key],
            number,
            D.fromisoformat(day),
            amount,
            due_date=D.fromisoformat(due) if due else None,
            currency=currency or "CNY",
            rate=rate or 1,
            source=SOURCE,
            order_number=order,
        )


def _unchanged(invoice, key, people, day, due, currency, rate, amount):
    return (
        invoice.customer_id == people[key].pk
        and invoice.amount == Decimal(amount)
        and invoice.currency == (currency or "CNY")
        and invoice.rate == Decimal(rate or 1)
        and invoice.invoice_date == D.fromisoformat(day)
        and (not due or invoice.due_date == D.fromisoformat(due))
    )


def snapshot():
    """The ledger by document number (ids may differ between the two paths)."""
    return {
        "invoices": {
            i.number: (
                i.customer_id,
                i.currency,
                i.rate,
                i.amount,
                i.base_amount,
                i.open_base,
                i.invoice_date,
                i.due_date,
                i.settled_on,
                i.order.number if i.order else "",
                i.order_base,
            )
            for i in Invoice.objects.select_related("order")
        },
        "payments": dict(Payment.objects.values_list("number", "unallocated_base")),
        "allocations": sorted(
            Allocation.objects.values_list(
                "payment__number", "invoice__number", "base_amount", "allocated_on"
            )
        ),
        "orders": {o.number: (o.status, o.invoiced_base) for o in SalesOrder.objects.all()},
        "exposures": {
            (e.customer_id, e.company_id): (e.open_receivables, e.open_orders, e.delivered_orders)
            for e in Exposure.objects.all()
        },
    }


class _Undo(Exception):
    pass


@contextmanager
def undone():
    """Run a block, then roll back everything it wrote."""
    try:
        with transaction.atomic():
            yield
            raise _Undo
    except _Undo:
        pass


@pytest.mark.parametrize("batch_rows", [500, 3])
def test_the_set_based_import_gives_the_ledger_posting_row_by_row_gives(
    org, ledger, monkeypatch, batch_rows
):
    monkeypatch.setattr(running, "BATCH_ROWS", batch_rows)  # customers across batches too
    before = snapshot()
    with undone():
        job = run(mapping_for(headers=HEADERS), as_csv(ROWS, ledger), org.fiona)
        assert job.status == JobStatus.DONE, report(job)
        assert (job.created, job.updated, job.unchanged) == (10, 3, 1)
        imported = snapshot()
        assert_exposure_exact()
    assert snapshot() == before
    post_one_by_one(ROWS, ledger)
    assert snapshot() == imported
    assert_exposure_exact()
    # What the comparison covers did happen:
    invoices = imported["invoices"]
    assert invoices["N-1"][7] == D(2026, 5, 31)  # the line's 30 days
    assert invoices["N-3"][4:8] == (
        Decimal("2599.97"),
        Decimal("2599.97"),
        D(2026, 4, 20),
        D(2026, 4, 20),
    )
    assert invoices["N-4"][7] == D(2026, 7, 19)  # 60 days from May
    assert invoices["N-2"][4] == Decimal("7100.00") and invoices["N-2"][7] == D(2026, 7, 31)
    assert invoices["OLD-PART"][5:9] == (Decimal(0), D(2026, 3, 3), D(2026, 4, 17), D(2026, 4, 1))
    assert invoices["OLD-DUE"][7] == D(2026, 6, 30)
    assert invoices["N-7"][5] == Decimal(0) and imported["payments"]["PAY-X"] == Decimal(500)
    assert imported["payments"]["PAY-B1"] == imported["payments"]["PAY-B2"] == 0
    assert imported["orders"]["SO-1"] == ("released", Decimal(3000))
    assert imported["orders"]["SO-2"] == ("invoiced", Decimal(800))


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (("OLD-SAME", "dongfang", "2026-03-02", "", "", "", "2000", ""), "客户名称", "另一客户"),
        (("OLD-PART", "dongfang", "2026-03-03", "", "", "", "1000", ""), "价税合计", "已核销"),
        (("N-11", "huaxin", "2026-05-01", "", "", "", "10", "SO-404"), "销售订单号", "找不到订单"),
    ],
)
def test_a_row_the_ledger_refuses_leaves_the_whole_file_unimported(
    org, ledger, row, column, message
):
    before = ledger_state(), snapshot()
    rows = [ROWS[0], row, *(r for r in ROWS[1:] if r[0] != row[0])]
    job = run(mapping_for(headers=HEADERS), as_csv(rows, ledger), org.fiona)
    assert job.status == JobStatus.REFUSED
    ((number, header, text),) = report(job)
    assert (number, header) == (3, column) and message in text, text
    assert (ledger_state(), snapshot()) == before
    assert_exposure_exact()


def test_skipping_a_refused_row_imports_the_rest_exactly(org, ledger):
    refused = ("OLD-PART", "dongfang", "2026-03-03", "", "", "", "1000", "")
    rows = [refused if r[0] == "OLD-PART" else r for r in ROWS]
    job = run(mapping_for(headers=HEADERS), as_csv(rows, ledger), org.fiona, skip_bad_rows=True)
    assert job.status == JobStatus.DONE
    assert (job.created, job.updated, job.bad_rows) == (10, 2, 1)
    assert Invoice.objects.get(number="OLD-PART").base_amount == Decimal(3000)
    assert_exposure_exact()


def test_the_batch_needs_no_query_per_invoice(org, ledger, django_assert_max_num_queries):
    """Many new invoices for many customers: the statements do not grow with the rows."""
    company = Company.default()
    customers = [ledger["huaxin"], ledger["dongfang"], ledger["nanfang"]]
    invoices = [
        InvoiceInput(customers[i % 3], f"B-{i}", D(2026, 5, 1), Decimal(i + 1)) for i in range(300)
    ]
    with django_assert_max_num_queries(12), transaction.atomic():
        result = post_invoices(company, SOURCE, invoices)
    assert len(result.created) == 300 and not result.refused
    assert_exposure_exact()
