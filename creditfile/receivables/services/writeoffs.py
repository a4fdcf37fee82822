"""Bad-debt write-offs 坏账核销 (R-30): proposed, approved with a reason, reversible.

A write-off changes the ledger like a payment does: under the customer's exposure lock,
in one transaction, the invoice's open amount and the exposure fall by the same amount,
so the stored exposure still equals the ledger added up (services/exposure.recompute).
It is proposed by credit or finance staff and approved by a credit manager, VP or GM who
is not the proposer (four eyes on money given up); the view also asks for the password
again. Reversing one (the money came after all) reopens the amount and lets waiting
unallocated payments settle it.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.fields import ZERO
from creditfile.receivables.choices import WriteOffStatus
from creditfile.receivables.models import Invoice, WriteOff
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services.ledger import LedgerError, _allocate_open_payments, money

PROPOSE = "receivables.add_writeoff"
APPROVE = "receivables.approve_writeoff"


def _reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("必须说明理由。"), field)
    return reason


def _pending(invoice: Invoice, excluding: int | None = None) -> Decimal:
    proposed = WriteOff.objects.filter(invoice=invoice, status=WriteOffStatus.PROPOSED)
    if excluding is not None:
        proposed = proposed.exclude(pk=excluding)
    return proposed.aggregate(total=Sum("base_amount"))["total"] or ZERO


@transaction.atomic
def propose_write_off(invoice: Invoice, amount, reason: str, user) -> WriteOff:
    """Propose writing off `amount` (CNY) of the invoice's open amount; nothing changes in
    the ledger until it is approved. Open proposals together may not exceed what is open."""
    if not user.has_perm(PROPOSE):
        raise PermissionDenied
    amount = money(amount, "amount")
    if amount <= 0:
        raise LedgerError(_("核销金额必须大于0。"), "amount")
    reason = _reason(reason)
    exposures.locked_exposures(invoice.customer_id, invoice.company_id)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    available = invoice.open_base - _pending(invoice)
    if amount > available:
        raise LedgerError(
            _("核销金额 %(amount)s 元超过发票 %(number)s 可核销的未收金额 %(open)s 元。")
            % {"amount": f"{amount:,.2f}", "number": invoice.number, "open": f"{available:,.2f}"},
            "amount",
        )
    return WriteOff.objects.create(
        invoice=invoice, base_amount=amount, reason=reason, proposed_by=user
    )


def _locked(write_off: WriteOff, user, status: str):
    """The write-off and its invoice, locked after the customer's exposure (the ledger's
    lock order), if `user` may decide and it is still in `status`."""
    if not user.has_perm(APPROVE):
        raise PermissionDenied
    invoice = write_off.invoice
    exposure, _rows = exposures.locked_exposures(invoice.customer_id, invoice.company_id)
    write_off = WriteOff.objects.select_for_update().get(pk=write_off.pk)
    if write_off.status != status:
        raise LedgerError(
            _("该核销当前为“%(status)s”，不能再处理。") % {"status": write_off.get_status_display()}
        )
    invoice = Invoice.objects.select_for_update().get(pk=write_off.invoice_id)
    return exposure, write_off, invoice


@transaction.atomic
def approve_write_off(
    write_off: WriteOff, user, reason: str, on_date: datetime.date | None = None
) -> WriteOff:
    """Write the amount off on `on_date` (default today): the invoice's open amount and
    the exposure fall by it; a fully written-off invoice counts as settled that day."""
    reason = _reason(reason)
    exposure, write_off, invoice = _locked(write_off, user, WriteOffStatus.PROPOSED)
    if write_off.proposed_by_id == user.pk:
        raise LedgerError(_("提出人不能审批自己提出的核销。"), "reason")
    if write_off.base_amount > invoice.open_base:
        raise LedgerError(
            _("发票 %(number)s 现在只有 %(open)s 元未收，少于核销金额；请驳回后重新提出。")
            % {"number": invoice.number, "open": f"{invoice.open_base:,.2f}"},
            "amount",
        )
    day = max(on_date or timezone.localdate(), invoice.invoice_date)
    invoice.open_base -= write_off.base_amount
    if invoice.open_base == 0:
        invoice.settled_on = day
    invoice.save(update_fields=["open_base", "settled_on", "updated_at"])
    exposure.open_receivables -= write_off.base_amount
    exposures.save(exposure)
    write_off.status = WriteOffStatus.APPROVED
    write_off.decided_by, write_off.decided_at = user, timezone.now()
    write_off.decision_reason, write_off.written_off_on = reason, day
    write_off.save()
    return write_off


@transaction.atomic
def reject_write_off(write_off: WriteOff, user, reason: str) -> WriteOff:
    reason = _reason(reason)
    _exposure, write_off, _invoice = _locked(write_off, user, WriteOffStatus.PROPOSED)
    write_off.status = WriteOffStatus.REJECTED
    write_off.decided_by, write_off.decided_at = user, timezone.now()
    write_off.decision_reason = reason
    write_off.save()
    return write_off


@transaction.atomic
def reverse_write_off(
    write_off: WriteOff, user, reason: str, on_date: datetime.date | None = None
) -> WriteOff:
    """Undo an approved write-off from `on_date` on: the amount is open (and counts in
    the exposure) again, and payments waiting unallocated settle it at once."""
    reason = _reason(reason)
    exposure, write_off, invoice = _locked(write_off, user, WriteOffStatus.APPROVED)
    day = max(on_date or timezone.localdate(), write_off.written_off_on)
    invoice.open_base += write_off.base_amount
    invoice.settled_on = None
    invoice.save(update_fields=["open_base", "settled_on", "updated_at"])
    exposure.open_receivables += write_off.base_amount
    exposures.save(exposure)
    write_off.status = WriteOffStatus.REVERSED
    write_off.reversed_by, write_off.reversed_at = user, timezone.now()
    write_off.reversal_reason, write_off.reversed_on = reason, day
    write_off.save()
    _allocate_open_payments(invoice.customer, invoice.company, exposure)
    return write_off
