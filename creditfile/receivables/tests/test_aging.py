"""Aging arithmetic on hand-made ledgers: bucket edges, partial payments, credit notes,
currency, a past date, the groupings, the company's own buckets and visibility."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from creditfile.core.models import Company
from creditfile.customers.services.visibility import visible_customers
from creditfile.receivables.choices import PaymentKind
from creditfile.receivables.models import CreditControl
from creditfile.receivables.services import aging
from creditfile.receivables.services.ledger import post_invoice, post_payment
from creditfile.receivables.services.writeoffs import approve_write_off, propose_write_off
from creditfile.receivables.testing import TODAY, credit_customer
from creditfile.receivables.validators import parse_bucket_bounds

D = datetime.date
Z = Decimal("0.00")


def amounts(*values):
    return [Decimal(str(value)).quantize(Decimal("0.01")) for value in values]


@pytest.fixture
def ledger(org):
    """Alice's customer with one invoice in every default bucket; Walt's with one."""
    east = credit_customer(org.cathy, "500000", owner=org.alice, name="华东账龄有限公司")
    east.credit_grade = "B"
    east.save(update_fields=["credit_grade"])
    # Due today: not yet overdue.
    post_invoice(east, "INV-CUR", D(2026, 6, 1), "1000", due_date=D(2026, 6, 30))
    # Exactly 30 and 31 days overdue: the edge between 1–30 and 31–60.
    post_invoice(east, "INV-30", D(2026, 5, 1), "2000", due_date=D(2026, 5, 31))
    post_invoice(east, "INV-31", D(2026, 4, 30), "3000", due_date=D(2026, 5, 30))
    # 61 days overdue, 300 of 800 settled by a credit note.
    post_invoice(east, "INV-CN", D(2026, 3, 31), "800", due_date=D(2026, 4, 30))
    post_payment(
        east, "CN-1", D(2026, 6, 1), "300", kind=PaymentKind.CREDIT_NOTE, reference="INV-CN"
    )
    # 120 days overdue, 1,500 of 5,000 paid.
    post_invoice(east, "INV-PART", D(2026, 2, 1), "5000", due_date=D(2026, 3, 2))
    post_payment(east, "PAY-1", D(2026, 5, 20), "1500", reference="INV-PART")
    # 211 days overdue: USD 1,000 at 7.1 ages as CNY 7,100.
    post_invoice(
        east, "INV-USD", D(2025, 11, 1), "1000", due_date=D(2025, 12, 1), currency="USD", rate="7.1"
    )
    # Paid in full by a credit note: not in the aging at all.
    post_invoice(east, "INV-GONE", D(2026, 5, 1), "400", due_date=D(2026, 5, 31))
    post_payment(
        east, "CN-2", D(2026, 6, 2), "400", kind=PaymentKind.CREDIT_NOTE, reference="INV-GONE"
    )
    west = credit_customer(org.cathy, "500000", owner=org.walt, name="西南账龄有限公司")
    post_invoice(west, "W-1", D(2026, 5, 11), "10000", due_date=D(2026, 6, 10))
    return east, west


def by_label(report):
    return {row.label: row for row in report.rows}


def test_every_invoice_falls_in_its_bucket_on_the_edges(ledger):
    report = aging.aging_report(TODAY)

    assert [bucket.label for bucket in report.buckets] == [
        "未到期",
        "1–30天",
        "31–60天",
        "61–90天",
        "91–180天",
        "180天以上",
    ]
    assert not report.from_documents  # nothing settled after today: the maintained amounts
    east = by_label(report)["华东账龄有限公司"]
    assert east.amounts == amounts(1000, 2000, 3000, 500, 3500, 7100)
    assert (east.total, east.invoices) == (Decimal("17100.00"), 6)
    assert by_label(report)["西南账龄有限公司"].amounts == amounts(0, 10000, 0, 0, 0, 0)
    assert [row.label for row in report.rows] == ["华东账龄有限公司", "西南账龄有限公司"]


def test_totals_and_shares(ledger):
    report = aging.aging_report(TODAY)
    totals = report.totals

    assert totals.amounts == amounts(1000, 12000, 3000, 500, 3500, 7100)
    assert (totals.total, totals.invoices) == (Decimal("27100.00"), 7)
    assert report.bucket_shares == [
        Decimal(s) for s in ("3.7", "44.3", "11.1", "1.8", "12.9", "26.2")
    ]
    assert by_label(report)["西南账龄有限公司"].share_of(totals.total) == Decimal("36.9")
    assert totals.overdue_share == Decimal("96.3")


def test_the_report_leaves_garbage_collection_as_it_found_it(ledger):
    """Collections pause while the rows are built, and only then."""
    import gc

    assert gc.isenabled()
    aging.aging_report(TODAY)
    assert gc.isenabled()
    gc.disable()
    try:
        aging.aging_report(TODAY)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_invoice_open_by_less_than_half_a_cent_is_not_open(org, ledger):
    """An invoice is open when its open amount rounds to a cent or more. SQLite keeps
    the stored value as given, so there this guards the `open_base >= 0.005` test;
    PostgreSQL's numeric(18,2) rounds on writing and must give the same rows."""
    from creditfile.receivables.models import Invoice

    invoice = Invoice.objects.filter(customer__name="西南账龄有限公司").get()
    Invoice.objects.filter(pk=invoice.pk).update(open_base=Decimal("0.004"))
    maintained = aging.aging_report(TODAY, from_documents=False)
    assert "西南账龄有限公司" not in by_label(maintained)
    Invoice.objects.filter(pk=invoice.pk).update(open_base=Decimal("0.005"))
    maintained = aging.aging_report(TODAY, from_documents=False)
    assert by_label(maintained)["西南账龄有限公司"].total == Decimal("0.01")


@pytest.mark.parametrize("group_by", list(aging.GROUPINGS))
def test_every_grouping_adds_up_to_the_same_totals(ledger, group_by):
    overall = aging.aging_report(TODAY).totals
    grouped = aging.aging_report(TODAY, group_by=group_by)

    assert grouped.totals.amounts == overall.amounts
    assert grouped.totals.invoices == overall.invoices


def test_groups_are_named_with_a_row_for_those_without(org, ledger):
    def labels(group):
        return {r.label: r.total for r in aging.aging_report(TODAY, group_by=group).rows}

    assert labels("owner") == {"Alice": Decimal("17100.00"), "Walt": Decimal("10000.00")}
    assert labels("grade") == {"B": Decimal("17100.00"), "未评级": Decimal("10000.00")}
    assert labels("department") == {
        "华东销售部": Decimal("17100.00"),
        "西南销售部": Decimal("10000.00"),
    }
    assert labels("region") == {"未填地区": Decimal("27100.00")}


def test_a_past_date_is_worked_out_from_the_documents(ledger):
    report = aging.aging_report(D(2026, 4, 15))

    assert report.from_documents  # payments and credit notes came after 15 April
    east = by_label(report)["华东账龄有限公司"]
    # INV-CN not yet due (credit note later), INV-PART 44 days and unpaid, INV-USD 135 days.
    assert east.amounts == amounts(800, 0, 5000, 0, 7100, 0)
    assert "西南账龄有限公司" not in by_label(report)  # invoiced in May


@pytest.mark.parametrize("group_by", list(aging.GROUPINGS))
def test_both_ways_agree_when_nothing_happened_after_the_date(ledger, group_by):
    fast = aging.aging_report(TODAY, group_by=group_by)
    documents = aging.aging_report(TODAY, group_by=group_by, from_documents=True)

    assert [(r.key, r.amounts, r.invoices) for r in fast.rows] == [
        (r.key, r.amounts, r.invoices) for r in documents.rows
    ]


def test_a_write_off_leaves_the_aging_from_its_date(org, ledger):
    east, _west = ledger
    invoice = aging.aged_invoices(TODAY, "customer", str(east.pk)).get(number="INV-USD")
    proposal = propose_write_off(invoice, "7100", "客户破产清算", org.carl)
    approve_write_off(proposal, org.cathy, "同意", on_date=TODAY)

    today = by_label(aging.aging_report(TODAY))["华东账龄有限公司"]
    yesterday = by_label(aging.aging_report(TODAY - datetime.timedelta(days=1)))["华东账龄有限公司"]
    assert today.amounts[5] == Z and today.invoices == 5
    assert yesterday.amounts[5] == Decimal("7100.00")


def test_the_drill_down_lists_the_invoices_with_days_overdue(ledger):
    east, _west = ledger
    buckets = aging.buckets_for(Company.default())
    rows = [
        aging.age(invoice, TODAY, buckets)
        for invoice in aging.aged_invoices(TODAY, "customer", str(east.pk))
    ]

    assert [(r.invoice.number, r.days_overdue, r.bucket, r.open_amount) for r in rows] == [
        ("INV-USD", 211, 5, Decimal("7100.00")),
        ("INV-PART", 120, 4, Decimal("3500.00")),
        ("INV-CN", 61, 3, Decimal("500.00")),
        ("INV-31", 31, 2, Decimal("3000.00")),
        ("INV-30", 30, 1, Decimal("2000.00")),
        ("INV-CUR", 0, 0, Decimal("1000.00")),
    ]
    past = aging.aged_invoices(D(2026, 4, 15), "customer", str(east.pk))
    assert {(i.number, i.open_at) for i in past} == {
        ("INV-USD", Decimal("7100.00")),
        ("INV-PART", Decimal("5000.00")),
        ("INV-CN", Decimal("800.00")),
    }


def test_the_grade_drill_down_reaches_the_ungraded(ledger):
    numbers = [i.number for i in aging.aged_invoices(TODAY, "grade", aging.NONE_KEY)]
    assert numbers == ["W-1"]


def test_a_sales_rep_sees_only_her_customers(org, ledger):
    report = aging.aging_report(TODAY, customers=visible_customers(org.alice))

    assert [row.label for row in report.rows] == ["华东账龄有限公司"]
    assert report.totals.total == Decimal("17100.00")
    _east, west = ledger
    hidden = aging.aged_invoices(
        TODAY, "customer", str(west.pk), customers=visible_customers(org.alice)
    )
    assert not hidden.exists()


def test_a_company_sets_its_own_buckets(ledger):
    CreditControl.objects.create(company=Company.default(), aging_buckets="15, 45")
    report = aging.aging_report(TODAY)

    assert [b.label for b in report.buckets] == ["未到期", "1–15天", "16–45天", "45天以上"]
    east = by_label(report)["华东账龄有限公司"]
    assert east.amounts == amounts(1000, 0, 5000, 11100)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "至少填写一个"),
        ("30,0", "正整数"),
        ("30,abc", "正整数"),
        ("30,-5", "正整数"),
        ("60,30", "升序"),
        ("30,30", "升序"),
    ],
)
def test_bucket_bounds_must_be_ascending_positive_whole_days(text, problem):
    with pytest.raises(ValidationError) as refused:
        parse_bucket_bounds(text)
    assert problem in refused.value.messages[0]


def test_a_bad_bucket_setting_is_refused_on_its_field(db):
    control = CreditControl(company=Company.default(), aging_buckets="90,60")
    with pytest.raises(ValidationError) as refused:
        control.full_clean()
    assert "aging_buckets" in refused.value.message_dict
    assert parse_bucket_bounds("30，60, 90") == (30, 60, 90)  # a Chinese comma is a comma


def test_an_unknown_grouping_is_an_error_naming_the_field(db):
    with pytest.raises(aging.AgingError) as refused:
        aging.aging_report(TODAY, group_by="colour")
    assert refused.value.field == "group"
