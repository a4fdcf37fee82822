"""An order's life after its first check: closing, reopening and copying (R-19).

Every way an order can come to hold credit again goes through the credit check, so there
is no way round it: a copy is a new order, checked like any other; reopening a closed
order checks what it will hold again. Closing frees its reservation at once.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.fields import ZERO
from creditfile.receivables.choices import CheckPoint, OrderStatus
from creditfile.receivables.models import SalesOrder
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services.checks import CheckResult, _decide, check_credit
from creditfile.receivables.services.ledger import LedgerError, base_amount, money

CLOSED = (OrderStatus.CANCELLED, OrderStatus.INVOICED, OrderStatus.REJECTED)


def _locked(order: SalesOrder):
    exposure, rows = exposures.locked_exposures(order.customer_id, order.company_id)
    return exposure, rows, SalesOrder.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def cancel_order(order: SalesOrder, reason: str = "") -> SalesOrder:
    """Close an order that will not be (further) invoiced; what it held is freed."""
    exposure, _rows, order = _locked(order)
    if order.status in (OrderStatus.CANCELLED, OrderStatus.INVOICED):
        raise LedgerError(
            _("订单 %(number)s 已开票或已取消。") % {"number": order.number}, "order_ref"
        )
    exposures.hold(exposure, order, -order.open_base)
    order.status = OrderStatus.CANCELLED
    order.decision_reason = reason
    order.save()
    exposures.save(exposure)
    return order


@transaction.atomic
def reopen_order(
    order: SalesOrder, *, amount=None, on_date: datetime.date | None = None
) -> CheckResult:
    """Reopen a cancelled, rejected or fully invoiced order, optionally with a new amount:
    what it will hold again is checked in full at the step it had reached."""
    exposure, rows, order = _locked(order)
    if order.status not in CLOSED:
        raise LedgerError(
            _("订单 %(number)s 没有关闭，无需重新打开。") % {"number": order.number}, "order_ref"
        )
    value = order.amount if amount is None else money(amount, "amount")
    base = base_amount(value, order.rate)
    if base - order.invoiced_base <= ZERO:
        raise LedgerError(
            _("订单 %(number)s 已全部开票；重新打开须提高订单金额。") % {"number": order.number},
            "amount",
        )
    order.status = OrderStatus.ENTERED  # holds nothing until the check below
    return _decide(
        order,
        exposure,
        rows,
        order.stage,
        on_date or timezone.localdate(),
        order.currency,
        order.rate,
        value,
        base,
    )


@transaction.atomic
def copy_order(
    order: SalesOrder, number: str, *, on_date: datetime.date | None = None
) -> CheckResult:
    """A new order with the same customer, amount and currency, checked as a new order."""
    if SalesOrder.objects.filter(
        company=order.company, source=order.source, number=number
    ).exists():
        raise LedgerError(_("订单号 %(number)s 已存在。") % {"number": number}, "order_ref")
    result = check_credit(
        order.customer,
        order.amount,
        number,
        point=CheckPoint.ENTRY,
        company=order.company,
        on_date=on_date,
        currency=order.currency,
        rate=order.rate,
        source=order.source,
    )
    result.order.copied_from = order
    result.order.save(update_fields=["copied_from", "updated_at"])
    return result
