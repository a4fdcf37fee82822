"""Posting invoices, payments and credit notes; allocating payments to invoices (R-30).

Each posting is one transaction that first locks the customer's exposure
(services/exposure.py) and changes it by exactly what it changes in the ledger, so the
stored exposure always equals the ledger added up. Posting a document again with the same
(company, source, number) updates it: an ERP export can be imported as often as needed.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from creditfile.core.models import Company
from creditfile.credit.services.lines import credit_line_for
from creditfile.receivables.choices import OrderStatus, PaymentKind
from creditfile.receivables.currencies import ISO_4217
from creditfile.receivables.models import Allocation, Invoice, Payment, SalesOrder
from creditfile.receivables.services import exposure as exposures

CENT = Decimal("0.01")


class LedgerError(ValueError):
    """A document that cannot be posted; `field` names the input at fault."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise LedgerError(_("%(value)s 不是有效的金额。") % {"value": value}, field) from exc
    if not amount.is_finite() or amount < 0:
        raise LedgerError(_("金额不能为负数或无效：%(value)s") % {"value": value}, field)
    return amount.quantize(CENT, ROUND_HALF_UP)


def exchange_rate(rate) -> Decimal:
    """CNY per unit of the document's currency, a positive number."""
    try:
        rate = Decimal(str(rate))
    except (InvalidOperation, ValueError) as exc:
        raise LedgerError(_("汇率无效：%(value)s") % {"value": rate}, "rate") from exc
    if not rate.is_finite() or rate <= 0:
        raise LedgerError(_("汇率必须大于0。"), "rate")
    return rate


def base_amount(amount: Decimal, rate) -> Decimal:
    """The amount in CNY at `rate` (CNY per unit of the document's currency)."""
    return (amount * exchange_rate(rate)).quantize(CENT, ROUND_HALF_UP)


def _currency(currency: str, rate) -> tuple[str, Decimal]:
    code = (currency or "CNY").strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise LedgerError(
            _("币种应为三位字母代码，如 CNY、USD：%(value)s") % {"value": currency}, "currency"
        )
    if code not in ISO_4217:
        raise LedgerError(
            _("未知币种：%(value)s（应为ISO 4217代码）") % {"value": code}, "currency"
        )
    rate = exchange_rate(rate)
    if code == "CNY" and rate != 1:
        raise LedgerError(_("人民币单据的汇率必须为1。"), "rate")
    return code, rate


def due_date_for(
    invoice_date: datetime.date, term_days: int, due_date: datetime.date | None = None
) -> datetime.date:
    """The given due date, else the invoice date plus the term of the customer's line in
    force on that date (0 without a line: due at once); never before the invoice date."""
    if due_date is None:
        due_date = invoice_date + datetime.timedelta(days=term_days)
    if due_date < invoice_date:
        raise LedgerError(_("到期日不能早于开票日期。"), "due_date")
    return due_date


def settled_part(
    owner_id: int, old_base: Decimal, old_open: Decimal, customer_id: int, number: str, base
) -> Decimal:
    """What is already settled of a posted invoice that is posted again with `base`: it
    must stay the same customer's, and may not fall below what payments settled."""
    if owner_id != customer_id:
        raise LedgerError(_("发票 %(number)s 已属于另一客户。") % {"number": number}, "customer")
    settled = old_base - old_open
    if base < settled:
        raise LedgerError(
            _("发票 %(number)s 已核销 %(settled)s 元，金额不能改为更少。")
            % {"number": number, "settled": settled},
            "amount",
        )
    return settled


def settled_on_after(
    open_base: Decimal,
    settled_on: datetime.date | None,
    last_allocated: datetime.date | None,
    invoice_date: datetime.date,
) -> datetime.date | None:
    """An updated invoice's settled date: none while open; when the new amount is what
    was already paid, the day of its last allocation (or the invoice date)."""
    if open_base > 0:
        return None
    if settled_on is not None:
        return settled_on
    return last_allocated or invoice_date


@transaction.atomic
def post_invoice(
    customer,
    number: str,
    invoice_date: datetime.date,
    amount,
    *,
    due_date: datetime.date | None = None,
    company: Company | None = None,
    currency: str = "CNY",
    rate=1,
    source: str = "manual",
    order_number: str = "",
) -> Invoice:
    """Post an invoice; its order's reservation becomes a receivable.

    The due date is given, or the invoice date plus the credit term of the customer's
    line in force on that date (no line: due at once).
    """
    company = company or Company.default()
    amount = money(amount, "amount")
    currency, rate = _currency(currency, rate)
    base = base_amount(amount, rate)
    exposure, _rows = exposures.locked_exposures(customer.pk, company.pk)
    if due_date is None:
        line = credit_line_for(customer, invoice_date, company)
        due_date = due_date_for(invoice_date, line.term_days if line else 0)
    else:
        due_date = due_date_for(invoice_date, 0, due_date)
    invoice = (
        Invoice.objects.select_for_update()
        .filter(company=company, source=source, number=number)
        .first()
    )
    if invoice is None:
        invoice = Invoice(
            company=company, customer=customer, source=source, number=number, open_base=base
        )
        invoice.order = _consume_order(invoice, customer, company, source, order_number, base)
        if invoice.order is not None:
            exposures.hold(exposure, invoice.order, -invoice.order_base)
        exposure.open_receivables += base
    else:
        settled = settled_part(
            invoice.customer_id, invoice.base_amount, invoice.open_base, customer.pk, number, base
        )
        exposure.open_receivables += base - invoice.base_amount
        invoice.open_base = base - settled
        last = None
        if invoice.open_base == 0 and invoice.settled_on is None:
            last = invoice.allocations.order_by("-allocated_on").first()
        invoice.settled_on = settled_on_after(
            invoice.open_base, invoice.settled_on, last and last.allocated_on, invoice_date
        )
    invoice.invoice_date, invoice.due_date = invoice_date, due_date
    invoice.currency, invoice.rate, invoice.amount, invoice.base_amount = (
        currency,
        rate,
        amount,
        base,
    )
    invoice.save()
    exposures.save(exposure)
    _allocate_open_payments(customer, company, exposure)
    return invoice


def _consume_order(invoice, customer, company, source, order_number, base) -> SalesOrder | None:
    """The invoiced order, with the invoiced part of its reservation taken off."""
    if not order_number:
        return None
    order = (
        SalesOrder.objects.select_for_update()
        .filter(company=company, source=source, number=order_number, customer=customer)
        .first()
    )
    if order is None:
        raise LedgerError(_("找不到订单 %(number)s。") % {"number": order_number}, "order_number")
    invoice.order_base = min(base, order.open_base)
    order.invoiced_base += invoice.order_base
    if order.status == OrderStatus.RELEASED and order.invoiced_base >= order.base_amount:
        order.status = OrderStatus.INVOICED
    order.save(update_fields=["invoiced_base", "status", "updated_at"])
    return order


@transaction.atomic
def post_payment(
    customer,
    number: str,
    received_on: datetime.date,
    amount,
    *,
    kind: str = PaymentKind.PAYMENT,
    reference: str = "",
    company: Company | None = None,
    currency: str = "CNY",
    rate=1,
    source: str = "manual",
) -> Payment:
    """Post a payment or credit note and allocate it: to the invoice it names, then to the
    oldest open invoices. What is left stays unallocated and settles the next invoices.

    Posting it again with another amount undoes its allocations and allocates anew.
    """
    company = company or Company.default()
    amount = money(amount, "amount")
    currency, rate = _currency(currency, rate)
    base = base_amount(amount, rate)
    exposure, _rows = exposures.locked_exposures(customer.pk, company.pk)
    payment = (
        Payment.objects.select_for_update()
        .filter(company=company, source=source, kind=kind, number=number)
        .first()
    )
    if payment is not None:
        if payment.customer_id != customer.pk:
            raise LedgerError(
                _("回款 %(number)s 已属于另一客户。") % {"number": number}, "customer"
            )
        _undo_allocations(payment, exposure)
    else:
        payment = Payment(
            company=company, customer=customer, source=source, kind=kind, number=number
        )
    payment.received_on, payment.reference = received_on, reference
    payment.currency, payment.rate, payment.amount, payment.base_amount = (
        currency,
        rate,
        amount,
        base,
    )
    payment.unallocated_base = base
    payment.save()
    _allocate(payment, exposure)
    exposures.save(exposure)
    return payment


def _undo_allocations(payment: Payment, exposure) -> None:
    """Give back what the payment settled; one invoice may hold several of its allocations
    (an invoice raised after it was settled takes the payment's rest), so add them up per
    invoice before touching the invoice."""
    per_invoice: dict[int, Decimal] = {}
    for invoice_id, amount in payment.allocations.values_list("invoice_id", "base_amount"):
        per_invoice[invoice_id] = per_invoice.get(invoice_id, Decimal(0)) + amount
    # Added in Python, not as F("open_base") + amount: SQLite would add them as floats
    # (0.40 + 0.01 > 0.41) and the open-within-amount constraint would refuse the row.
    for invoice in Invoice.objects.select_for_update().filter(pk__in=per_invoice):
        invoice.open_base += per_invoice[invoice.pk]
        invoice.settled_on = None
        invoice.save(update_fields=["open_base", "settled_on", "updated_at"])
        exposure.open_receivables += per_invoice[invoice.pk]
    payment.allocations.all().delete()


def _open_invoices(payment: Payment):
    invoices = Invoice.objects.select_for_update().filter(
        customer_id=payment.customer_id, company_id=payment.company_id, open_base__gt=0
    )
    named = []
    if payment.reference:
        named = list(invoices.filter(number=payment.reference).order_by("id"))
    rest = invoices.exclude(pk__in=[i.pk for i in named]).order_by("due_date", "id")
    yield from named
    yield from rest.iterator(chunk_size=200)


def _allocate(payment: Payment, exposure) -> None:
    """Settle open invoices from the payment's unallocated amount (by reference, then by
    due date); the exposure falls by exactly what was settled."""
    if payment.unallocated_base <= 0:
        return
    allocations = []
    for invoice in _open_invoices(payment):
        take = min(payment.unallocated_base, invoice.open_base)
        invoice.open_base -= take
        if invoice.open_base == 0:
            invoice.settled_on = max(payment.received_on, invoice.invoice_date)
        invoice.save(update_fields=["open_base", "settled_on", "updated_at"])
        allocations.append(
            Allocation(
                payment=payment,
                invoice=invoice,
                base_amount=take,
                allocated_on=max(payment.received_on, invoice.invoice_date),
            )
        )
        payment.unallocated_base -= take
        exposure.open_receivables -= take
        if payment.unallocated_base == 0:
            break
    Allocation.objects.bulk_create(allocations)
    payment.save(update_fields=["unallocated_base", "updated_at"])


def _allocate_open_payments(customer, company, exposure) -> None:
    """A new or larger invoice takes what earlier payments left unallocated, oldest first."""
    waiting = (
        Payment.objects.select_for_update()
        .filter(customer=customer, company=company, unallocated_base__gt=0)
        .order_by("received_on", "id")
    )
    changed = False
    for payment in waiting:
        _allocate(payment, exposure)
        changed = True
    if changed:
        exposures.save(exposure)


def days_late(invoice: Invoice) -> int | None:
    """Settled date − due date, 0 when on time; None while it is open."""
    if invoice.settled_on is None:
        return None
    return max((invoice.settled_on - invoice.due_date).days, 0)
