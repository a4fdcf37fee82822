"""The credit check on every order (R-19 during-deal control, R-23, R-27).

`check_credit` answers released or blocked with every reason, and a released order
reserves its amount in the exposure in the same transaction, under the exposure lock,
so parallel checks can never together release more than the limit. Every path that
creates or enlarges exposure goes through it: a new order, a larger amount for an order
already released (only the increase is checked), re-checking a blocked one.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.fields import ZERO
from creditfile.core.models import Company
from creditfile.core.services import rows as model_rows
from creditfile.core.services.bulk import insert_one
from creditfile.credit.choices import LineStatus, MeasureKind
from creditfile.credit.models import CreditLine, Measure
from creditfile.credit.services.lines import available_limit
from creditfile.customers.choices import Lifecycle
from creditfile.receivables.choices import CheckPoint, OrderStatus, ReceivablesCounted
from creditfile.receivables.models import CreditControl, SalesOrder
from creditfile.receivables.services import check_facts
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services.ledger import LedgerError, _currency, base_amount, money

# Measures that forbid selling on credit while they are in force.
BLOCKING_MEASURES = (
    MeasureKind.STOP_CREDIT_SALES,
    MeasureKind.STOP_SUPPLY,
    MeasureKind.CASH_ON_DELIVERY,
)


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    amount: Decimal | None = None

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "amount": None if self.amount is None else str(self.amount),
        }


@dataclass
class CheckResult:
    released: bool
    order: SalesOrder
    checked: bool = True  # False: recorded before the company's first check point
    reasons: list[Reason] = field(default_factory=list)
    limit: Decimal = ZERO  # available: line + temporary (+ securities where the policy says)
    open_receivables: Decimal = ZERO
    open_orders: Decimal = ZERO
    overdue_amount: Decimal = ZERO
    oldest_overdue_days: int = 0

    counted: Decimal = ZERO  # what uses up the limit under the company's settings

    @property
    def utilisation_percent(self) -> Decimal | None:
        return utilisation(self.counted, self.limit)


def control_for(company: Company | int) -> CreditControl:
    """The company's settings (the company or its id); the defaults where it has none."""
    company_id = getattr(company, "pk", company)
    return CreditControl.objects.filter(company_id=company_id).first() or CreditControl(
        company_id=company_id
    )


def counted_exposure(exposure, control: CreditControl, overdue_total: Decimal) -> Decimal:
    """What of the exposure uses up the limit under the company's settings."""
    counted = ZERO
    if control.count_open_orders:
        counted += exposure.open_orders - exposure.delivered_orders
    if control.count_delivered:
        counted += exposure.delivered_orders
    if control.receivables_counted == ReceivablesCounted.ALL_OPEN:
        counted += exposure.open_receivables
    else:
        counted += overdue_total
    return counted


def all_counted(row, on_date, overdue_amount: Decimal | None = None) -> Decimal:
    """What one company's exposure row counts under that company's own settings; its
    overdue is read only where the company counts overdue invoices alone."""
    control = control_for(row.company_id)
    if overdue_amount is None:
        overdue_amount = (
            exposures.overdue(row.customer_id, row.company_id, on_date).amount
            if control.receivables_counted == ReceivablesCounted.OVERDUE_ONLY
            else ZERO
        )
    return counted_exposure(row, control, overdue_amount)


def utilisation(counted: Decimal, limit: Decimal) -> Decimal | None:
    """Counted exposure as a share of the limit, as the check and the customer file show it."""
    if not limit:
        return None
    return (counted * 100 / limit).quantize(Decimal("0.1"))


def reasons_against(customer, facts, exposure, all_rows, extra: Decimal, on_date) -> tuple:
    """Every reason the customer may not have `extra` more on credit today, and the
    figures the answer shows: (reasons, limit, overdue). Every order asks this, so what
    it decides on is read in one query beforehand (`check_facts.read`); only the rare
    cases (a blocking measure, no line in force, a group line) read more."""
    control = facts.control
    company_id = control.company_id
    reasons = []
    if customer.lifecycle == Lifecycle.BLACKLISTED or facts.listed:
        reasons.append(Reason("blacklisted", _("客户在黑名单上，不能赊销。")))
    if facts.blocking_measures:
        for measure in Measure.objects.filter(
            customer=customer, kind__in=BLOCKING_MEASURES, effective_from__lte=on_date
        ).exclude(ended_on__lte=on_date):
            reasons.append(
                Reason(
                    "sanction",
                    _("惩戒措施“%(measure)s”自 %(since)s 起生效。")
                    % {"measure": measure.get_kind_display(), "since": measure.effective_from},
                )
            )
    line, group = facts.line, facts.group
    limit = ZERO
    if line is None:
        lapsed = CreditLine.objects.filter(
            customer=customer,
            company_id=company_id,
            status__in=(LineStatus.ACTIVE, LineStatus.EXPIRED),
        ).exists()
        reasons.append(
            Reason("line_expired", _("客户的授信额度已过期。"))
            if lapsed
            else Reason("no_line", _("客户没有经批准的授信额度，首笔赊销前须完成授信。"))
        )
    elif line.cash_on_delivery:
        reasons.append(Reason("cash_on_delivery", _("客户为即时清结（现款现货），不能赊销。")))
    else:
        limit = available_limit(line, on_date)
    all_overdue, beyond = facts.overdue, facts.beyond
    if line is not None and not line.cash_on_delivery:
        after = counted_exposure(exposure, control, all_overdue.amount) + extra
        if after > limit:
            reasons.append(
                Reason(
                    "over_limit",
                    _(
                        "超出可用额度 %(over)s 元"
                        "（额度 %(limit)s 元，占用 %(used)s 元，本单 %(order)s 元）。"
                    )
                    % {
                        "over": f"{after - limit:,.2f}",
                        "limit": f"{limit:,.2f}",
                        "used": f"{after - extra:,.2f}",
                        "order": f"{extra:,.2f}",
                    },
                    after - limit,
                )
            )
    if group is not None:
        group_limit = available_limit(group, on_date)
        used = sum(
            (
                all_counted(row, on_date, all_overdue.amount if row.pk == exposure.pk else None)
                for row in all_rows
            ),
            ZERO,
        )
        if used + extra > group_limit:
            reasons.append(
                Reason(
                    "over_group_limit",
                    _("超出集团总额度 %(over)s 元。")
                    % {"over": f"{used + extra - group_limit:,.2f}"},
                    used + extra - group_limit,
                )
            )
    if beyond.amount > control.overdue_tolerance_amount:
        reasons.append(
            Reason(
                "overdue",
                _(
                    "逾期超过 %(tolerance_days)s 天的欠款 %(amount)s 元（最长逾期 %(days)s 天），"
                    "超过容忍金额 %(tolerance)s 元。"
                )
                % {
                    "days": beyond.days(on_date),
                    "amount": f"{beyond.amount:,.2f}",
                    "tolerance_days": control.overdue_tolerance_days,
                    "tolerance": f"{control.overdue_tolerance_amount:,.2f}",
                },
                beyond.amount,
            )
        )
    return reasons, limit, all_overdue


@transaction.atomic
def check_credit(
    customer,
    amount,
    order_ref: str,
    *,
    point: str = CheckPoint.ENTRY,
    company: Company | None = None,
    on_date: datetime.date | None = None,
    currency: str = "CNY",
    rate=1,
    source: str = "manual",
    order_date: datetime.date | None = None,
) -> CheckResult:
    """Check an order at a step of the ERP (`point`); release (and reserve) or block it.

    The order is identified by (company, source, order_ref). Whatever steps the company
    checks at, an order that would start to hold credit, or hold more, is checked:
    reaching the first checking step, skipping past it, or a larger amount (then only the
    increase). An order already holding credit is checked again, in full, at every
    later step the company checks at; with a smaller amount its reservation shrinks.
    Before the first checking step an order is only recorded (entered), holding nothing.
    A blocked order waits in the blocked queue (release with a reason, reject, re-check).
    `order_date` is the order's own date when it differs from the day of the check (an
    order imported from the ERP is checked today, dated as the ERP dated it).
    """
    company_id = company.pk if company is not None else _default_company_id()
    on_date = on_date or timezone.localdate()
    amount = money(amount, "amount")
    currency, rate = _currency(currency, rate)
    base = base_amount(amount, rate)
    if not order_ref:
        raise LedgerError(_("必须填写订单号。"), "order_ref")
    if point not in CheckPoint.values:
        raise LedgerError(_("未知的检查环节：%(point)s。") % {"point": point}, "point")
    exposure, rows = exposures.locked_exposures(customer.pk, company_id)
    facts = check_facts.read(customer.pk, company_id, on_date, source, order_ref, BLOCKING_MEASURES)
    # Every change to an order happens under its customer's exposure lock; the lock
    # on the order itself keeps that true should it belong to another customer.
    order = (
        SalesOrder.objects.select_for_update().get(pk=facts.order_id)
        if facts.order_id is not None
        else None
    )
    if order is not None and order.customer_id != customer.pk:
        raise LedgerError(
            _("订单 %(number)s 已属于另一客户。") % {"number": order_ref}, "order_ref"
        )
    if order is not None and order.status in (OrderStatus.INVOICED, OrderStatus.CANCELLED):
        raise LedgerError(
            _("订单 %(number)s 已开票或已取消，不能再检查。") % {"number": order_ref}, "order_ref"
        )
    if order is None:
        order = SalesOrder(
            company_id=company_id, customer=customer, source=source, number=order_ref
        )
    if order_date is not None:
        order.order_date = order_date
    return _decide(order, exposure, rows, point, on_date, currency, rate, amount, base, facts)


def _default_company_id() -> int:
    """`Company.default()`'s id, asked without the ORM on the check's hot path."""
    table = Company._meta.db_table
    with model_rows.cursor() as cursor:
        # Company.default(): the default company, else the first by Meta.ordering.
        cursor.execute(f"SELECT id FROM {table} ORDER BY is_default DESC, name LIMIT 1")
        row = cursor.fetchone()
    return row[0] if row else Company.default().pk


def _decide(
    order, exposure, rows, point, on_date, currency, rate, amount, base, facts=None
) -> CheckResult:
    """The check itself, for an order locked with its customer's exposure."""
    customer = order.customer
    if facts is None:
        facts = check_facts.read(
            customer.pk, order.company_id, on_date, order.source, order.number, BLOCKING_MEASURES
        )
    control = facts.control
    held = order.open_base
    new_open = max(base - order.invoiced_base, ZERO)
    extra = max(new_open - held, ZERO)
    later = max(point, order.stage, key=CheckPoint.rank) if order.pk else point
    before_first = CheckPoint.rank(later) < CheckPoint.rank(control.first_point)
    if held:
        # Held already: checked again at a step that checks, or for a larger amount.
        moved_on = CheckPoint.rank(point) > CheckPoint.rank(order.stage)
        checked = extra > 0 or (moved_on and control.checks_at(point))
    else:
        checked = not before_first
    if checked:
        reasons, limit, overdue = reasons_against(customer, facts, exposure, rows, extra, on_date)
    else:
        reasons, (limit, overdue) = [], _figures(facts, on_date)
    exposures.hold(exposure, order, -held)
    order.stage = later
    if not checked and not held:
        order.status = OrderStatus.ENTERED
    elif not reasons:
        order.status = OrderStatus.RELEASED
        exposures.hold(exposure, order, new_open)
    else:
        order.status = OrderStatus.BLOCKED
    released = order.status != OrderStatus.BLOCKED
    order.order_date = order.order_date or on_date
    order.currency, order.rate, order.amount, order.base_amount = currency, rate, amount, base
    order.check_reasons = [r.as_dict() for r in reasons]
    order.decided_by, order.decided_at, order.decision_reason = None, None, ""
    if order.pk is None:
        insert_one(order)  # a new order: every ERP check is one
    else:
        order.save()
    exposures.save(exposure)
    return CheckResult(
        released=released,
        checked=checked,
        order=order,
        reasons=reasons,
        limit=limit,
        open_receivables=exposure.open_receivables,
        open_orders=exposure.open_orders,
        overdue_amount=overdue.amount,
        oldest_overdue_days=overdue.days(on_date),
        counted=counted_exposure(exposure, control, overdue.amount),
    )


def _figures(facts, on_date) -> tuple[Decimal, exposures.Overdue]:
    """The available limit and the overdue the answer shows, checked or not."""
    limit = available_limit(facts.line, on_date) if facts.line is not None else ZERO
    return limit, facts.overdue


def _blocked(order: SalesOrder, user, reason: str, permission: str):
    if not user.has_perm(permission):
        raise PermissionDenied
    if not (reason or "").strip():
        raise LedgerError(_("必须说明理由。"), "reason")
    exposure, _rows = exposures.locked_exposures(order.customer_id, order.company_id)
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.BLOCKED:
        raise LedgerError(_("订单 %(number)s 不在冻结状态。") % {"number": order.number})
    order.decided_by, order.decided_at, order.decision_reason = user, timezone.now(), reason
    return exposure, order


@transaction.atomic
def release_blocked(order: SalesOrder, user, reason: str) -> SalesOrder:
    """Release a blocked order anyway: a documented override by an authorised person,
    who takes the responsibility; the reasons of the check stay on the order."""
    exposure, order = _blocked(order, user, reason, "receivables.release_order")
    order.status = OrderStatus.RELEASED
    exposures.hold(exposure, order, order.open_base)
    order.save()
    exposures.save(exposure)
    return order


@transaction.atomic
def reject_blocked(order: SalesOrder, user, reason: str) -> SalesOrder:
    _exposure, order = _blocked(order, user, reason, "receivables.release_order")
    order.status = OrderStatus.REJECTED
    order.save()
    return order


def recheck(order: SalesOrder, on_date: datetime.date | None = None) -> CheckResult:
    """Check a blocked order again (after a payment, a new line, a lifted measure)."""
    if order.status != OrderStatus.BLOCKED:
        raise LedgerError(_("订单 %(number)s 不在冻结状态。") % {"number": order.number})
    return check_credit(
        order.customer,
        order.amount,
        order.number,
        point=order.stage,
        company=order.company,
        on_date=on_date,
        currency=order.currency,
        rate=order.rate,
        source=order.source,
    )
