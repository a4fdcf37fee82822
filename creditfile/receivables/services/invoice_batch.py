"""Posting many invoices at once (an ERP import's batch) with the ledger's rules and a few
set-based statements instead of `post_invoice`'s dozen queries per invoice.

The outcome is the one `ledger.post_invoice` gives posting the batch one by one: the same
identity (company, source, number), due date (given, else the invoice date plus the term
of the customer's line in force on that date), base amount, open amount, refusals (an
invoice of another customer, an amount below what is settled) and exposure. Where one by
one and all at once could differ, the invoice goes one by one through `post_invoice`
itself:

- a new invoice naming an order: it consumes the order's reservation (`_consume_order`);
- a customer with payments still waiting for invoices and more than one invoice in the
  batch: one by one, each invoice takes the waiting payments when it is posted, so the
  file's order decides which invoice they settle. With one invoice in the batch the
  result is the same either way, so that invoice goes with the batch and the customer's
  waiting payments are allocated after it (`_allocate_open_payments`).

Per batch: the exposure rows of all its customers are locked at once, in id order, the
existing invoices and the customers' lines and waiting payments are read with one query
each, new invoices are inserted with COPY (PostgreSQL) or one INSERT … SELECT (SQLite),
changed ones updated with one UPDATE … FROM, and each customer's exposure changes by the
sum of its invoices' changes in one more statement.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Max
from django.utils import timezone

from creditfile.core.services.bulk import insert_rows, reserve_ids, update_rows
from creditfile.credit.choices import LineStatus
from creditfile.credit.models import CreditLine
from creditfile.receivables.models import Allocation, Exposure, Invoice, Payment
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services import ledger
from creditfile.receivables.services.ledger import LedgerError

NEW_COLUMNS = (
    "id",
    "company",
    "customer",
    "source",
    "number",
    "currency",
    "rate",
    "amount",
    "base_amount",
    "created_at",
    "updated_at",
    "invoice_date",
    "due_date",
    "open_base",
    "order_base",
    "settled_on",
)
CHANGED_COLUMNS = (
    "id",
    "currency",
    "rate",
    "amount",
    "base_amount",
    "updated_at",
    "invoice_date",
    "due_date",
    "open_base",
    "settled_on",
)


@dataclass(frozen=True)
class InvoiceInput:
    """One invoice to post, its values checked (money, currency and rate as the ledger
    takes them); `due_date` None means from the customer's line."""

    customer: object
    number: str
    invoice_date: datetime.date
    amount: Decimal
    currency: str = "CNY"
    rate: Decimal = Decimal(1)
    due_date: datetime.date | None = None
    order_number: str = ""


@dataclass
class BatchResult:
    created: list[int] = field(default_factory=list)  # positions in the batch
    updated: list[int] = field(default_factory=list)
    refused: list[tuple[int, LedgerError]] = field(default_factory=list)


def post_invoices(company, source: str, invoices: list[InvoiceInput]) -> BatchResult:
    """Post `invoices` (distinct numbers) as `post_invoice` would one by one; a refused
    invoice is left out and named with its error, the others are posted. Must run inside
    a transaction (the import's), which holds the locks until it ends."""
    result = BatchResult()
    if not invoices:
        return result
    customer_ids = {invoice.customer.pk for invoice in invoices}
    locked = exposures.locked_exposures_of(customer_ids, company.pk)
    existing = _existing(company, source, [invoice.number for invoice in invoices])
    waiting = set(
        Payment.objects.filter(
            company=company, customer_id__in=customer_ids, unallocated_base__gt=0
        ).values_list("customer_id", flat=True)
    )
    per_customer = defaultdict(int)
    for invoice in invoices:
        per_customer[invoice.customer.pk] += 1
    one_by_one, together = [], []
    for position, invoice in enumerate(invoices):
        customer_id = invoice.customer.pk
        if (invoice.order_number and invoice.number not in existing) or (
            customer_id in waiting and per_customer[customer_id] > 1
        ):
            one_by_one.append(position)
        else:
            together.append(position)
    _post_together(company, source, invoices, together, existing, locked, waiting, result)
    # After the batch's own writes: post_invoice locks and reads the exposure afresh.
    for position in one_by_one:
        invoice = invoices[position]
        try:
            ledger.post_invoice(
                invoice.customer,
                invoice.number,
                invoice.invoice_date,
                invoice.amount,
                due_date=invoice.due_date,
                company=company,
                currency=invoice.currency,
                rate=invoice.rate,
                source=source,
                order_number=invoice.order_number,
            )
        except LedgerError as error:
            result.refused.append((position, error))
        else:
            (result.updated if invoice.number in existing else result.created).append(position)
    return result


def _existing(company, source: str, numbers: list[str]) -> dict[str, dict]:
    rows = (
        Invoice.objects.select_for_update()
        .filter(company=company, source=source, number__in=numbers)
        .values("id", "number", "customer_id", "base_amount", "open_base", "settled_on")
    )
    return {row["number"]: row for row in rows}


def _terms(company, customer_ids) -> dict[int, list[tuple]]:
    """Each customer's active lines with `company`, in `credit_line_for`'s order (latest
    granted first): (valid from, valid until, term days)."""
    terms = defaultdict(list)
    lines = (
        CreditLine.objects.filter(
            customer_id__in=customer_ids, company=company, status=LineStatus.ACTIVE
        )
        .order_by("customer_id", "-granted_at")
        .values_list("customer_id", "valid_from", "valid_until", "term_days")
    )
    for customer_id, valid_from, valid_until, term_days in lines:
        terms[customer_id].append((valid_from, valid_until, term_days))
    return terms


def _term_on(lines: list[tuple], on_date: datetime.date) -> int:
    for valid_from, valid_until, term_days in lines:
        if valid_from <= on_date and (valid_until is None or valid_until >= on_date):
            return term_days
    return 0


def _post_together(company, source, invoices, positions, existing, locked, waiting, result):
    if not positions:
        return
    need_terms = {invoices[p].customer.pk for p in positions if invoices[p].due_date is None}
    terms = _terms(company, need_terms) if need_terms else {}
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    new, changed, settled_now = [], [], []
    delta: dict[int, Decimal] = defaultdict(Decimal)
    posted: set[int] = set()
    for position in positions:
        invoice = invoices[position]
        customer_id = invoice.customer.pk
        base = ledger.base_amount(invoice.amount, invoice.rate)
        try:
            due = ledger.due_date_for(
                invoice.invoice_date,
                _term_on(terms.get(customer_id, ()), invoice.invoice_date),
                invoice.due_date,
            )
            stored = existing.get(invoice.number)
            if stored is not None:
                settled = ledger.settled_part(
                    stored["customer_id"],
                    stored["base_amount"],
                    stored["open_base"],
                    customer_id,
                    invoice.number,
                    base,
                )
        except LedgerError as error:
            result.refused.append((position, error))
            continue
        values = (
            invoice.currency,
            invoice.rate,
            invoice.amount,
            base,
        )
        posted.add(customer_id)
        if stored is None:
            new.append((position, values, due))
            delta[customer_id] += base
            result.created.append(position)
            continue
        open_base = base - settled
        if open_base == 0 and stored["settled_on"] is None:
            settled_now.append(stored["id"])
        changed.append((stored, values, invoice.invoice_date, due, open_base))
        delta[customer_id] += base - stored["base_amount"]
        result.updated.append(position)
    _insert_new(company, source, invoices, new, now)
    _update_changed(changed, settled_now, now)
    _change_exposures(locked, delta, now)
    # post_invoice allocates after every posting, also one that leaves the amount alone.
    for customer_id in sorted(waiting & posted):
        ledger._allocate_open_payments(customer_id, company, locked[customer_id])


def _insert_new(company, source, invoices, new, now) -> None:
    if not new:
        return
    ops = connection.ops
    ids = reserve_ids(Invoice, len(new))
    rows = []
    for pk, (position, values, due) in zip(ids, new, strict=True):
        invoice = invoices[position]
        rows.append(
            (
                pk,
                company.pk,
                invoice.customer.pk,
                source,
                invoice.number,
                *values,
                now,
                now,
                ops.adapt_datefield_value(invoice.invoice_date),
                ops.adapt_datefield_value(due),
                values[3],
                Decimal(0),
                None,
            )
        )
    insert_rows(Invoice, NEW_COLUMNS, rows)


def _update_changed(changed, settled_now, now) -> None:
    if not changed:
        return
    ops = connection.ops
    last_allocated = dict(
        Allocation.objects.filter(invoice_id__in=settled_now)
        .values("invoice_id")
        .annotate(last=Max("allocated_on"))
        .values_list("invoice_id", "last")
    )
    rows = []
    for stored, values, invoice_date, due, open_base in changed:
        settled_on = ledger.settled_on_after(
            open_base, stored["settled_on"], last_allocated.get(stored["id"]), invoice_date
        )
        rows.append(
            (
                stored["id"],
                *values,
                now,
                ops.adapt_datefield_value(invoice_date),
                ops.adapt_datefield_value(due),
                open_base,
                ops.adapt_datefield_value(settled_on),
            )
        )
    update_rows(Invoice, CHANGED_COLUMNS, rows)


def _change_exposures(locked, delta, now) -> None:
    """Each customer's open receivables change by the sum of its invoices' changes; the
    objects held for the waiting payments' allocation change with them."""
    rows = []
    for customer_id, change in delta.items():
        if not change:
            continue
        exposure = locked[customer_id]
        exposure.open_receivables += change
        rows.append(
            (
                exposure.pk,
                exposure.open_receivables,
                now,
            )
        )
    update_rows(Exposure, ("id", "open_receivables", "updated_at"), rows)
