"""Collection cases 商账追讨 (R-30): opening, working and closing them; promises to pay
checked against the ledger.

A promise is kept when payments received from the day it was made up to the promised date
cover its amount. Payments are matched to promises oldest promised date first, and a
payment counted for one kept promise is not counted again for the next, so an instalment
plan of three promises needs three payments (or one large enough). A promise that was not
covered by its date is broken; the case then comes back on the collector's follow-up list.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.fields import ZERO
from creditfile.customers.choices import Channel, EventSeverity
from creditfile.customers.models import Correspondence, FileEvent
from creditfile.receivables.choices import (
    ActionKind,
    CaseOutcome,
    CaseStatus,
    PaymentKind,
    PromiseStatus,
)
from creditfile.receivables.models import (
    CollectionAction,
    CollectionCase,
    Invoice,
    Payment,
    PaymentPromise,
)
from creditfile.receivables.services.ledger import money


class CollectionError(ValueError):
    """A collection step that cannot be taken; `field` names the input at fault."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


# How each kind of action reaches the customer's correspondence log; the
# hand-overs to an agency or a court are significant events 重大事项 of the file.
CORRESPONDENCE_CHANNEL = {
    ActionKind.CALL: Channel.CALL,
    ActionKind.VISIT: Channel.VISIT,
    ActionKind.EMAIL: Channel.EMAIL,
    ActionKind.DUNNING_LETTER: Channel.LETTER,
    ActionKind.LAWYER_LETTER: Channel.LETTER,
}
FILE_EVENT_KINDS = {ActionKind.AGENCY, ActionKind.LAWSUIT}


# --- Reading the ledger ----------------------------------------------------------------------


def overdue_invoices(customer_id: int, company_id: int, on_date: datetime.date) -> QuerySet:
    """The customer's open invoices with the company that were due before `on_date`."""
    return Invoice.objects.filter(
        customer_id=customer_id, company_id=company_id, open_base__gt=0, due_date__lt=on_date
    ).order_by("due_date", "id")


def overdue_total(customer_id: int, company_id: int, on_date: datetime.date) -> Decimal:
    total = overdue_invoices(customer_id, company_id, on_date).aggregate(t=Sum("open_base"))["t"]
    return total or ZERO


def received_between(
    customer_id: int, company_id: int, start: datetime.date, end: datetime.date
) -> Decimal:
    """Money received (payments, not credit notes) from `start` to `end`, both included."""
    total = Payment.objects.filter(
        customer_id=customer_id,
        company_id=company_id,
        kind=PaymentKind.PAYMENT,
        received_on__gte=start,
        received_on__lte=end,
    ).aggregate(t=Sum("base_amount"))["t"]
    return total or ZERO


# --- Cases -----------------------------------------------------------------------------------


def open_case(customer, company, user=None, on_date: datetime.date | None = None):
    """The customer's open case with the company, opened now if there is none.

    Returns (case, created). The owner is the customer's sales rep, who knows the people
    there; a credit manager may hand the case to someone else.
    """
    on_date = on_date or timezone.localdate()
    case = CollectionCase.objects.filter(
        customer=customer, company=company, status=CaseStatus.OPEN
    ).first()
    if case is not None:
        return case, False
    try:
        with transaction.atomic():
            case = CollectionCase.objects.create(
                customer=customer,
                company=company,
                owner_id=customer.owner_id,
                opened_on=on_date,
                opened_by=user,
                opened_overdue=overdue_total(customer.pk, company.pk, on_date),
                next_action_on=on_date,
                next_action_note=_("联系客户，了解逾期原因"),
            )
    except IntegrityError:  # opened by someone else at the same moment
        case = CollectionCase.objects.get(
            customer=customer, company=company, status=CaseStatus.OPEN
        )
        return case, False
    return case, True


def _require_open(case: CollectionCase) -> None:
    if not case.is_open:
        raise CollectionError(_("案件已结案，不能再修改。"))


def assign_case(case: CollectionCase, owner) -> CollectionCase:
    _require_open(case)
    case.owner = owner
    case.save(update_fields=["owner", "updated_at"])
    return case


def set_follow_up(case: CollectionCase, on_date: datetime.date | None, note: str = "") -> None:
    _require_open(case)
    case.next_action_on, case.next_action_note = on_date, (note or "").strip()[:200]
    case.save(update_fields=["next_action_on", "next_action_note", "updated_at"])


def _today() -> datetime.date:
    return timezone.localdate()


@transaction.atomic
def record_action(
    case: CollectionCase,
    user,
    kind: str,
    *,
    done_on: datetime.date | None = None,
    contact_person: str = "",
    note: str = "",
    invoices=(),
    next_action_on: datetime.date | None = None,
    next_action_note: str = "",
    letter=None,
    subject: str = "",
) -> CollectionAction:
    """Record what was done and file it in the customer file: communication in the
    correspondence log, an agency hand-over or a lawsuit as a significant event."""
    _require_open(case)
    done_on = done_on or _today()
    if kind not in ActionKind.values:
        raise CollectionError(_("未知的催收方式：%(kind)s") % {"kind": kind}, "kind")
    if done_on > _today():
        raise CollectionError(_("日期不能晚于今天；计划的事项请填“下次跟进日期”。"), "done_on")
    if done_on < case.opened_on:
        raise CollectionError(_("日期不能早于立案日期。"), "done_on")
    invoices = list(invoices)
    foreign = [i.number for i in invoices if (i.customer_id, i.company_id) != (
        case.customer_id, case.company_id)]  # fmt: skip
    if foreign:
        raise CollectionError(
            _("发票不属于本案客户：%(numbers)s") % {"numbers": "、".join(foreign)}, "invoices"
        )
    label = ActionKind(kind).label
    subject = subject or _("商账追讨：%(kind)s") % {"kind": label}
    summary = _summary(note, invoices)
    action = CollectionAction(
        case=case,
        kind=kind,
        done_on=done_on,
        done_by=user,
        contact_person=contact_person.strip(),
        note=note.strip(),
        letter=letter,
    )
    occurred = timezone.make_aware(datetime.datetime.combine(done_on, datetime.time(9)))
    if kind in CORRESPONDENCE_CHANNEL:
        action.correspondence = Correspondence.objects.create(
            customer=case.customer,
            recorded_by=user,
            occurred_at=occurred if done_on != _today() else timezone.now(),
            channel=CORRESPONDENCE_CHANNEL[kind],
            direction=Correspondence.Direction.OUTGOING,
            subject=subject[:200],
            summary=summary,
            our_person=str(user)[:50] if user else "",
            their_person=contact_person.strip()[:50],
        )
    elif kind in FILE_EVENT_KINDS:
        FileEvent.objects.create(
            customer=case.customer,
            recorded_by=user,
            occurred_on=done_on,
            severity=EventSeverity.IMPORTANT,
            title=subject[:200],
            description=summary,
        )
    action.save()
    action.invoices.set(invoices)
    if next_action_on is not None:
        set_follow_up(case, next_action_on, next_action_note)
    return action


def _summary(note: str, invoices) -> str:
    lines = [note.strip()] if note.strip() else []
    if invoices:
        lines.append(
            _("涉及发票：%(numbers)s") % {"numbers": "、".join(i.number for i in invoices)}
        )
    return "\n".join(lines)


@transaction.atomic
def close_case(
    case: CollectionCase,
    user,
    outcome: str,
    note: str = "",
    closed_on: datetime.date | None = None,
) -> CollectionCase:
    """Close the case with its outcome. "Paid in full" is only true when nothing of the
    customer's is overdue any more with the company."""
    _require_open(case)
    closed_on = closed_on or _today()
    if outcome not in CaseOutcome.values:
        raise CollectionError(_("请选择结案结果。"), "outcome")
    if closed_on < case.opened_on:
        raise CollectionError(_("结案日期不能早于立案日期。"), "closed_on")
    if outcome == CaseOutcome.PAID:
        left = overdue_total(case.customer_id, case.company_id, closed_on)
        if left > 0:
            raise CollectionError(
                _("客户仍有逾期 %(amount)s 元，不能以“全额收回”结案。")
                % {"amount": f"{left:,.2f}"},
                "outcome",
            )
    elif not note.strip():
        raise CollectionError(_("除“全额收回”外，结案须填写说明。"), "outcome_note")
    evaluate_promises(case, closed_on)
    case.status, case.outcome, case.outcome_note = CaseStatus.CLOSED, outcome, note.strip()
    case.closed_on, case.closed_by = closed_on, user
    case.next_action_on, case.next_action_note = None, ""
    case.save()
    return case


# --- Promises --------------------------------------------------------------------------------


@transaction.atomic
def add_promise(
    case: CollectionCase,
    user,
    promised_date: datetime.date,
    amount,
    *,
    made_on: datetime.date | None = None,
    contact_person: str = "",
    note: str = "",
) -> PaymentPromise:
    _require_open(case)
    made_on = made_on or _today()
    try:
        amount = money(amount, "amount")
    except ValueError as exc:
        raise CollectionError(str(exc), "amount") from exc
    if amount <= 0:
        raise CollectionError(_("承诺金额必须大于0。"), "amount")
    if made_on > _today():
        raise CollectionError(_("承诺日期不能晚于今天。"), "made_on")
    if promised_date < made_on:
        raise CollectionError(_("承诺付款日不能早于承诺日期。"), "promised_date")
    promise = PaymentPromise.objects.create(
        case=case,
        made_on=made_on,
        promised_date=promised_date,
        amount=amount,
        contact_person=contact_person.strip(),
        note=note.strip(),
        recorded_by=user,
    )
    set_follow_up(case, promised_date, _("核对承诺付款 %(amount)s 元") % {"amount": amount})
    evaluate_promises(case, _today())
    promise.refresh_from_db()
    return promise


@dataclass(frozen=True)
class PromiseResult:
    status: str
    kept_on: datetime.date | None


def judge_promises(promises, payments, today: datetime.date) -> dict[int, PromiseResult]:
    """Kept / broken / pending for each promise, from the payments [(date, amount)].

    Pure arithmetic, so the rule can be read and tested on its own: promises in order of
    their date; each takes, oldest first, what is left of the payments received between
    the day it was made and its date; enough by then is kept (on the day the sum got
    there), not enough once its date has passed is broken.
    """
    remaining = [[day, Decimal(amount)] for day, amount in sorted(payments)]
    results: dict[int, PromiseResult] = {}
    for promise in sorted(promises, key=lambda p: (p.promised_date, p.pk)):
        window = [p for p in remaining if promise.made_on <= p[0] <= promise.promised_date]
        covered, kept_on = ZERO, None
        for day, amount in window:
            covered += amount
            if covered >= promise.amount:
                kept_on = day
                break
        if kept_on is not None:
            need = promise.amount
            for entry in window:
                take = min(entry[1], need)
                entry[1] -= take
                need -= take
                if need == 0:
                    break
            results[promise.pk] = PromiseResult(PromiseStatus.KEPT, kept_on)
        elif promise.promised_date < today:
            results[promise.pk] = PromiseResult(PromiseStatus.BROKEN, None)
        else:
            results[promise.pk] = PromiseResult(PromiseStatus.PENDING, None)
    return results


def evaluate_promises(case: CollectionCase, today: datetime.date | None = None) -> int:
    """Bring the case's promises up to date with the ledger; returns how many newly broke.

    A newly broken promise puts the case on the follow-up list for today.
    """
    today = today or _today()
    promises = list(case.promises.all())
    if not promises:
        return 0
    start = min(p.made_on for p in promises)
    end = max(p.promised_date for p in promises)
    payments = Payment.objects.filter(
        customer_id=case.customer_id,
        company_id=case.company_id,
        kind=PaymentKind.PAYMENT,
        received_on__gte=start,
        received_on__lte=end,
    ).values_list("received_on", "base_amount")
    results = judge_promises(promises, list(payments), today)
    newly_broken = 0
    for promise in promises:
        result = results[promise.pk]
        if (promise.status, promise.kept_on) == (result.status, result.kept_on):
            continue
        if result.status == PromiseStatus.BROKEN:
            newly_broken += 1
        promise.status, promise.kept_on, promise.evaluated_on = (
            result.status,
            result.kept_on,
            today,
        )
        promise.save(update_fields=["status", "kept_on", "evaluated_on"])
    if newly_broken and case.is_open:
        due = min(case.next_action_on or today, today)
        set_follow_up(case, due, _("客户未按承诺付款，请跟进"))
    return newly_broken


# --- Lists -----------------------------------------------------------------------------------


def visible_cases(user) -> QuerySet:
    """Cases of the customers `user` may see: the one filter every case list goes through."""
    from creditfile.customers.services.visibility import visible_customers

    return CollectionCase.objects.filter(customer__in=visible_customers(user))


def due_follow_ups(cases: QuerySet, today: datetime.date) -> QuerySet:
    """Open cases whose next follow-up is today or overdue, most overdue first."""
    return cases.filter(status=CaseStatus.OPEN, next_action_on__lte=today).order_by(
        "next_action_on", "id"
    )


def broken_promise_cases(cases: QuerySet) -> QuerySet:
    return cases.filter(status=CaseStatus.OPEN, promises__status=PromiseStatus.BROKEN).distinct()


def case_figures(case: CollectionCase, today: datetime.date) -> dict:
    """What the case page shows at a glance: overdue now, received since it was opened."""
    end = case.closed_on or today
    return {
        "overdue_now": overdue_total(case.customer_id, case.company_id, today),
        "received": received_between(case.customer_id, case.company_id, case.opened_on, end),
    }


def mark_broken_promises(today: datetime.date) -> int:
    """The daily job's step: evaluate every open case with a promise still pending."""
    broken = 0
    cases = CollectionCase.objects.filter(
        Q(status=CaseStatus.OPEN), promises__status=PromiseStatus.PENDING
    ).distinct()
    for case in cases.iterator(chunk_size=200):
        with transaction.atomic():
            broken += evaluate_promises(case, today)
    return broken
