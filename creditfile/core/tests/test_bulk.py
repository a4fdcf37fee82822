"""Bulk writing (core/services/bulk.py): what the batches insert is what the ORM reads."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from creditfile.core.services.bulk import BackgroundWriter, insert_rows, reserve_ids, update_rows
from creditfile.credit.models import ExternalRating, PaymentSummary
from creditfile.customers.testing import make_customer

COLUMNS = (
    "customer",
    "period_end",
    "sales_amount",
    "payments_amount",
    "invoices_settled",
    "invoices_paid_on_time",
    "times_late_over_30",
    "times_late_over_90",
    "overdue_amount",
    "average_days_late",
    "max_days_late",
    "malicious_default",
    "source",
    "created_at",
)


def summary_row(customer_id, day, **changes):
    ops = connection.ops
    row = {
        "customer": customer_id,
        "period_end": ops.adapt_datefield_value(day),
        "sales_amount": Decimal("1234567.89"),
        "payments_amount": Decimal("0.10"),
        "invoices_settled": 7,
        "invoices_paid_on_time": 5,
        "times_late_over_30": 1,
        "times_late_over_90": 0,
        "overdue_amount": Decimal(0),
        "average_days_late": Decimal("12.5"),
        "max_days_late": 40,
        "malicious_default": True,
        "source": "导入",
        "created_at": ops.adapt_datetimefield_value(timezone.now()),
    }
    row.update(changes)
    return tuple(row[name] for name in COLUMNS)


@pytest.mark.django_db
def test_inserted_rows_read_back_with_their_types():
    customer = make_customer()
    day = datetime.date(2026, 6, 30)
    insert_rows(
        PaymentSummary,
        COLUMNS,
        [
            summary_row(customer.pk, day),
            summary_row(
                customer.pk, day.replace(month=5, day=31), malicious_default=False, source="a\tb"
            ),
        ],
    )

    first, second = PaymentSummary.objects.filter(customer=customer).order_by("-period_end")
    assert (first.period_end, first.sales_amount) == (day, Decimal("1234567.89"))
    assert (first.average_days_late, first.max_days_late) == (Decimal("12.5"), 40)
    assert (first.payments_amount, first.invoices_settled) == (Decimal("0.10"), 7)
    assert first.malicious_default is True and first.source == "导入"
    assert second.malicious_default is False and second.source == "a\tb"


@pytest.mark.django_db
def test_updated_rows_read_back_with_their_types_and_others_stay():
    customer = make_customer()
    days = [datetime.date(2026, 6, 30), datetime.date(2026, 5, 31), datetime.date(2026, 4, 30)]
    insert_rows(PaymentSummary, COLUMNS, [summary_row(customer.pk, day) for day in days])
    june, may, april = PaymentSummary.objects.filter(customer=customer).order_by("-period_end")
    ops = connection.ops
    update_rows(
        PaymentSummary,
        ("id", "period_end", "sales_amount", "average_days_late", "source"),
        [
            (
                june.pk,
                ops.adapt_datefield_value(datetime.date(2026, 7, 31)),
                Decimal("0.01"),
                Decimal("0.5"),
                "新",
            ),
            (may.pk, ops.adapt_datefield_value(may.period_end), Decimal("99.90"), Decimal("3"), ""),
        ],
    )
    june.refresh_from_db(), may.refresh_from_db()
    assert (june.period_end, june.sales_amount, june.average_days_late, june.source) == (
        datetime.date(2026, 7, 31),
        Decimal("0.01"),
        Decimal("0.5"),
        "新",
    )
    assert (may.sales_amount, may.average_days_late, may.source) == (Decimal("99.90"), 3, "")
    assert PaymentSummary.objects.get(pk=april.pk).sales_amount == Decimal("1234567.89")


@pytest.mark.django_db
def test_json_text_is_stored_as_given():
    customer = make_customer()
    insert_rows(
        ExternalRating,
        ("customer", "agency", "provider", "rated_on", "rating", "score", "summary", "created_at"),
        [
            (
                customer.pk,
                '{"机构": "x\\\\y"}',
                "file",
                "2026-06-30",
                "",
                None,
                'line 1\nline "2"',
                connection.ops.adapt_datetimefield_value(timezone.now()),
            )
        ],
    )
    rating = ExternalRating.objects.get(customer=customer)
    assert rating.agency == '{"机构": "x\\\\y"}'
    assert rating.score is None and rating.summary == 'line 1\nline "2"'


@pytest.mark.django_db
def test_reserved_ids_are_new_consecutive_and_never_handed_out_again():
    customer = make_customer()
    before = PaymentSummary.objects.create(customer=customer, period_end=datetime.date(2026, 1, 31))

    ids = reserve_ids(PaymentSummary, 3)
    after = PaymentSummary.objects.create(customer=customer, period_end=datetime.date(2026, 2, 28))

    assert ids == [ids[0], ids[0] + 1, ids[0] + 2] and ids[0] > before.pk
    assert after.pk > ids[-1]
    assert reserve_ids(PaymentSummary, 0) == []


@pytest.mark.django_db
def test_reserving_works_for_a_table_that_never_had_a_row():
    assert not ExternalRating.objects.exists()
    first = reserve_ids(ExternalRating, 2)
    assert reserve_ids(ExternalRating, 1)[0] == first[-1] + 1


@pytest.mark.django_db
def test_the_writer_inserts_in_another_thread_inside_the_callers_transaction():
    customer = make_customer()
    threads = set()
    with transaction.atomic():
        with BackgroundWriter() as writer:
            writer.write(
                PaymentSummary, COLUMNS, [summary_row(customer.pk, datetime.date(2026, 3, 31))]
            )
            threads.update(t.name for t in threading.enumerate())
        assert PaymentSummary.objects.filter(customer=customer).count() == 1
    assert "bulk-writer" in threads


@pytest.mark.django_db
def test_a_failing_batch_raises_in_the_caller_and_nothing_is_kept():
    customer = make_customer()
    day = datetime.date(2026, 4, 30)
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            with BackgroundWriter() as writer:
                writer.write(PaymentSummary, COLUMNS, [summary_row(customer.pk, day)])
                # the same customer and month again: the unique constraint refuses it
                writer.write(PaymentSummary, COLUMNS, [summary_row(customer.pk, day)])
    assert not PaymentSummary.objects.filter(customer=customer).exists()


@pytest.mark.django_db
def test_an_error_in_the_caller_drops_the_batches_and_keeps_nothing():
    customer = make_customer()
    with pytest.raises(ValueError, match="the caller failed"):
        with transaction.atomic():
            with BackgroundWriter() as writer:
                writer.write(
                    PaymentSummary, COLUMNS, [summary_row(customer.pk, datetime.date(2026, 5, 31))]
                )
                raise ValueError("the caller failed")
    assert not PaymentSummary.objects.filter(customer=customer).exists()


@pytest.mark.django_db(transaction=True)
def test_the_writer_refuses_to_work_outside_a_transaction():
    with pytest.raises(RuntimeError, match="transaction"):
        with BackgroundWriter():
            pass
