"""A customer's exposure: read and changed only under its row lock.

Every ledger change and every credit check locks the customer's exposure rows (all
selling companies, in id order, so two transactions never wait on each other in a
circle) before reading or changing anything, so simultaneous checks for one customer
queue up and never release more than the limit allows (issue 4, R-19).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Min, Q, Sum
from django.utils import timezone

from creditfile.core.fields import ZERO
from creditfile.core.services import rows as model_rows
from creditfile.receivables.choices import CheckPoint, OrderStatus, WriteOffStatus
from creditfile.receivables.models import Allocation, Exposure, Invoice, SalesOrder, WriteOff


def locked_exposures(customer_id: int, company_id: int) -> tuple[Exposure, list[Exposure]]:
    """The (customer, company) row, created on first use, and all the customer's rows,
    each locked until the transaction ends. Must run inside `transaction.atomic()`."""
    rows = _lock_rows(customer_id)
    mine = next((row for row in rows if row.company_id == company_id), None)
    if mine is None:
        # ON CONFLICT: created by a transaction running at the same time (which this
        # insert then waits for); one statement, no savepoint around it.
        with model_rows.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Exposure._meta.db_table} (company_id, customer_id,"
                " open_receivables, open_orders, delivered_orders, updated_at)"
                " VALUES (%s, %s, 0, 0, 0, %s) ON CONFLICT (company_id, customer_id) DO NOTHING",
                [company_id, customer_id, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
        rows = _lock_rows(customer_id)
        mine = next(row for row in rows if row.company_id == company_id)
    return mine, rows


def locked_exposures_of(customer_ids, company_id: int) -> dict[int, Exposure]:
    """`locked_exposures` for many customers at once (a batch of imported invoices): the
    (customer, company) rows, created where missing, by customer id; every row of these
    customers stays locked until the transaction ends. The rows are locked in id order,
    as one customer's are, so a batch and a single posting never wait on each other in a
    circle."""
    customer_ids = sorted(set(customer_ids))
    have = set(
        Exposure.objects.filter(customer_id__in=customer_ids, company_id=company_id).values_list(
            "customer_id", flat=True
        )
    )
    missing = [
        Exposure(customer_id=customer_id, company_id=company_id)
        for customer_id in customer_ids
        if customer_id not in have
    ]
    # ignore_conflicts: created by a transaction running at the same time.
    Exposure.objects.bulk_create(missing, ignore_conflicts=True)
    rows = Exposure.objects.select_for_update().filter(customer_id__in=customer_ids).order_by("id")
    return {row.customer_id: row for row in rows if row.company_id == company_id}


def _lock_rows(customer_id: int) -> list[Exposure]:
    # Every order check takes this lock first: written out, not composed by the ORM.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT {model_rows.columns(Exposure, 'e')} FROM {Exposure._meta.db_table} e"
        f" WHERE e.customer_id = %s ORDER BY e.id{lock}"
    )
    with model_rows.cursor() as cursor:
        cursor.execute(sql, [customer_id])
        return [model_rows.instance(Exposure, row) for row in cursor.fetchall()]


_AMOUNTS = ("open_receivables", "open_orders", "delivered_orders")


def save(exposure: Exposure) -> None:
    """Write the row's amounts (what `exposure.save(update_fields=…)` writes, with one
    written-out UPDATE: every order check ends here)."""
    exposure.updated_at = timezone.now()
    ops = connection.ops
    values = []
    for name in _AMOUNTS:
        field = Exposure._meta.get_field(name)
        values.append(
            ops.adapt_decimalfield_value(
                getattr(exposure, name), field.max_digits, field.decimal_places
            )
        )
    columns = ", ".join(f"{name} = %s" for name in (*_AMOUNTS, "updated_at"))
    with model_rows.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Exposure._meta.db_table} SET {columns} WHERE id = %s",
            [*values, ops.adapt_datetimefield_value(exposure.updated_at), exposure.pk],
        )


def hold(exposure: Exposure, order: SalesOrder, amount: Decimal) -> None:
    """Add `amount` of the order's reservation (take it off when negative). A delivered
    order's part also counts as delivered-not-invoiced, so the two categories can be
    counted against the limit separately."""
    exposure.open_orders += amount
    if order.delivered:
        exposure.delivered_orders += amount


@dataclass(frozen=True)
class Overdue:
    amount: Decimal
    oldest_due: datetime.date | None

    def days(self, on_date: datetime.date) -> int:
        return (on_date - self.oldest_due).days if self.oldest_due else 0


def overdue(
    customer_id: int, company_id: int, on_date: datetime.date, grace_days: int = 0
) -> Overdue:
    """Open invoice balances due more than `grace_days` before `on_date`."""
    cutoff = on_date - datetime.timedelta(days=grace_days)
    row = Invoice.objects.filter(
        customer_id=customer_id, company_id=company_id, open_base__gt=0, due_date__lt=cutoff
    ).aggregate(amount=Sum("open_base"), oldest=Min("due_date"))
    return Overdue(row["amount"] or ZERO, row["oldest"])


def overdue_and_beyond(
    customer_id: int, company_id: int, on_date: datetime.date, grace_days: int
) -> tuple[Overdue, Overdue]:
    """`overdue(…)` and `overdue(…, grace_days)` in one query: what the check shows and
    what it tolerates."""
    cutoff = on_date - datetime.timedelta(days=grace_days)
    beyond = Q(due_date__lt=cutoff)
    row = Invoice.objects.filter(
        customer_id=customer_id, company_id=company_id, open_base__gt=0, due_date__lt=on_date
    ).aggregate(
        amount=Sum("open_base"),
        oldest=Min("due_date"),
        beyond_amount=Sum("open_base", filter=beyond),
        beyond_oldest=Min("due_date", filter=beyond),
    )
    return (
        Overdue(row["amount"] or ZERO, row["oldest"]),
        Overdue(row["beyond_amount"] or ZERO, row["beyond_oldest"]),
    )


def recompute_delivered(customer_id: int, company_id: int) -> Decimal:
    """The delivered-not-invoiced part of the open orders, added up from the orders."""
    orders = SalesOrder.objects.filter(
        customer_id=customer_id, company_id=company_id, status=OrderStatus.RELEASED
    ).exclude(stage__in=(CheckPoint.ENTRY, CheckPoint.RELEASE))
    return sum(
        (
            max(base - invoiced, ZERO)
            for base, invoiced in orders.values_list("base_amount", "invoiced_base")
        ),
        ZERO,
    )


def recompute(customer_id: int, company_id: int) -> tuple[Decimal, Decimal]:
    """(open receivables, open orders) added up from the documents themselves: invoiced −
    allocated − written off (approved write-offs in force), and released orders not yet
    invoiced. The check of the stored exposure, and of every invoice's open amount."""
    invoices = Invoice.objects.filter(customer_id=customer_id, company_id=company_id)
    invoiced = invoices.aggregate(total=Sum("base_amount"))["total"] or ZERO
    allocated = (
        Allocation.objects.filter(invoice__in=invoices).aggregate(total=Sum("base_amount"))["total"]
        or ZERO
    )
    written_off = (
        WriteOff.objects.filter(invoice__in=invoices, status=WriteOffStatus.APPROVED).aggregate(
            total=Sum("base_amount")
        )["total"]
        or ZERO
    )
    orders = ZERO
    for base, invoiced_base in SalesOrder.objects.filter(
        customer_id=customer_id, company_id=company_id, status=OrderStatus.RELEASED
    ).values_list("base_amount", "invoiced_base"):
        orders += max(base - invoiced_base, ZERO)
    return invoiced - allocated - written_off, orders
