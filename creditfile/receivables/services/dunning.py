"""Dunning runs 催收批次 (R-30): propose the next level per customer and invoice, let a
person review, then send — letters generated, communication logged, levels recorded.

Rules:
- An invoice climbs one level at a time: having had level N, it is proposed level N+1 once
  its days overdue reach that level's days, never N again, and never N+2 directly (nobody
  receives a lawyer's letter without the reminders before it).
- A customer gets one communication per run, at the highest level any of its invoices is
  due for, and it lists ALL the customer's overdue invoices with the company — those not
  due for a new level are listed too, so a reminder never silently leaves one out.
- Confirming re-reads the ledger: an invoice paid since the proposal is neither dunned
  nor listed, and a customer with nothing left due gets nothing.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.fields import ZERO
from creditfile.receivables.choices import ActionKind, DunningChannel, RunStatus
from creditfile.receivables.models import (
    DunningLetter,
    DunningLevel,
    DunningNotice,
    DunningPolicy,
    DunningProposal,
    DunningProposalLine,
    DunningRun,
    DunningTemplate,
    Invoice,
)
from creditfile.receivables.services import collections, dunning_letters
from creditfile.receivables.services.collections import CollectionError

# (level, name, days overdue, channel, template name, days given to pay)
DEFAULT_LEVELS = (
    (1, "到期提醒电话", 1, DunningChannel.PHONE, "", 0),
    (2, "催款函", 15, DunningChannel.LETTER, "催款函", 10),
    (3, "再次催款函", 45, DunningChannel.LETTER, "再次催款函", 7),
    (4, "律师函", 90, DunningChannel.LAWYER, "律师函", 7),
)
ACTION_FOR_CHANNEL = {
    DunningChannel.LETTER: ActionKind.DUNNING_LETTER,
    DunningChannel.EMAIL: ActionKind.EMAIL,
    DunningChannel.LAWYER: ActionKind.LAWYER_LETTER,
    DunningChannel.PHONE: ActionKind.CALL,
    DunningChannel.VISIT: ActionKind.VISIT,
}


def default_template(name: str) -> DunningTemplate:
    subject, body = dunning_letters.DEFAULT_TEMPLATES[name]
    template, _created = DunningTemplate.objects.get_or_create(
        name=name, defaults={"subject": subject, "body": body}
    )
    return template


def ensure_default_templates() -> None:
    for name in dunning_letters.DEFAULT_TEMPLATES:
        default_template(name)


@transaction.atomic
def policy_for(company) -> DunningPolicy:
    """The company's policy, created with the default ladder the first time it is needed:
    a reminder call the day after the due date, a 催款函 at 15 days, a second, firmer
    letter at 45 and a 律师函 at 90."""
    policy, created = DunningPolicy.objects.get_or_create(company=company)
    if created:
        for level, name, days, channel, template, pay_within in DEFAULT_LEVELS:
            DunningLevel.objects.create(
                policy=policy,
                level=level,
                name=name,
                days_overdue=days,
                channel=channel,
                template=default_template(template) if template else None,
                pay_within_days=pay_within or 10,
            )
    return policy


def validate_levels(levels: list[DunningLevel]) -> None:
    """Levels numbered 1, 2, 3… with more days overdue at each step, and a template for
    every level that sends a letter."""
    ordered = sorted(levels, key=lambda lv: lv.level)
    for index, level in enumerate(ordered, 1):
        if level.level != index:
            raise CollectionError(_("级别须从1开始连续编号。"), "level")
        if index > 1 and level.days_overdue <= ordered[index - 2].days_overdue:
            raise CollectionError(
                _("第%(level)s级的逾期天数须多于上一级。") % {"level": level.level},
                "days_overdue",
            )
        if level.sends_letter and level.template_id is None:
            raise CollectionError(
                _("第%(level)s级通过%(channel)s催收，须选择函件模板。")
                % {"level": level.level, "channel": level.get_channel_display()},
                "template",
            )


@dataclass
class LevelRow:
    """One step of the ladder as the policy screen submits it (no level number: a step's
    number is its place in days-overdue order)."""

    name: str
    days_overdue: int
    channel: str
    template: DunningTemplate | None
    pay_within_days: int


@transaction.atomic
def replace_levels(policy: DunningPolicy, rows: list[LevelRow]) -> list[DunningLevel]:
    """Make the policy's ladder exactly `rows`, numbered 1, 2, 3… in days-overdue order.

    Steps are kept by number, not by row: invoices remember the numbers they were given
    (DunningNotice), so "step 2" stays step 2 whatever it is now called or how many days
    it now waits, and the change log shows step 2's days going from 15 to 20. Refused
    while a run of the company awaits confirmation (its proposals name today's steps), and
    a step that past runs used cannot be dropped — a shorter ladder must leave them.
    """
    DunningPolicy.objects.select_for_update().filter(pk=policy.pk).first()
    if not rows:
        raise CollectionError(_("催收政策至少须有一级。"), "levels")
    if DunningRun.objects.filter(company_id=policy.company_id, status=RunStatus.PROPOSED).exists():
        raise CollectionError(_("有待确认的催收批次，请先确认或取消后再修改催收级别。"), "levels")
    ordered = sorted(rows, key=lambda row: row.days_overdue)
    wanted = [
        DunningLevel(
            policy=policy,
            level=number,
            name=row.name,
            days_overdue=row.days_overdue,
            channel=row.channel,
            template=row.template,
            pay_within_days=row.pay_within_days,
        )
        for number, row in enumerate(ordered, 1)
    ]
    for earlier, later in zip(wanted, wanted[1:], strict=False):
        if earlier.days_overdue == later.days_overdue:
            raise CollectionError(
                _("两级的逾期天数相同（%(days)s天），每级须多于上一级。")
                % {"days": later.days_overdue},
                "days_overdue",
            )
    validate_levels(wanted)
    existing = {level.level: level for level in policy.levels.select_for_update()}
    dropped = [level for number, level in existing.items() if number > len(wanted)]
    for level in dropped:
        if DunningProposal.objects.filter(level=level).exists():
            raise CollectionError(
                _("第%(level)s级“%(name)s”已在催收批次中使用，不能删除。")
                % {"level": level.level, "name": level.name},
                "levels",
            )
        level.delete()
    kept = [(existing[w.level], w) for w in wanted if w.level in existing]
    # Both ladders rise in days, so moving the steps that wait longer from the top down,
    # then those that wait less from the bottom up, never meets the unique (policy, days).
    rising = sorted(
        (pair for pair in kept if pair[1].days_overdue > pair[0].days_overdue),
        key=lambda pair: -pair[0].level,
    )
    falling = sorted(
        (pair for pair in kept if pair[1].days_overdue <= pair[0].days_overdue),
        key=lambda pair: pair[0].level,
    )
    for current, target in rising + falling:
        for name in ("name", "days_overdue", "channel", "template", "pay_within_days"):
            setattr(current, name, getattr(target, name))
        current.save()
    for target in wanted:
        if target.level not in existing:
            target.save()
    DunningPolicy.objects.filter(pk=policy.pk).update(updated_at=timezone.now())
    return list(policy.levels.order_by("level"))


# --- Proposing -------------------------------------------------------------------------------


@dataclass
class InvoiceStep:
    invoice: Invoice
    days_overdue: int
    previous_level: int
    new_level: int | None


@dataclass
class CustomerStep:
    customer_id: int
    level: DunningLevel
    lines: list[InvoiceStep] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.invoice.open_base for line in self.lines), ZERO)


def next_level(levels: list[DunningLevel], previous: int, days_overdue: int):
    """The level an invoice is due for, or None: the one after `previous`, once reached."""
    following = next((lv for lv in levels if lv.level > previous), None)
    if following is not None and days_overdue >= following.days_overdue:
        return following
    return None


def customer_steps(company, as_of: datetime.date, customers) -> list[CustomerStep]:
    """What each customer (of the `customers` queryset) is due for with the company."""
    levels = list(policy_for(company).levels.order_by("level"))
    if not levels:
        return []
    invoices = list(
        Invoice.objects.filter(
            company=company, customer__in=customers, open_base__gt=0, due_date__lt=as_of
        ).order_by("customer_id", "due_date", "id")
    )
    given = dict(
        DunningNotice.objects.filter(invoice__in=[i.pk for i in invoices])
        .values("invoice_id")
        .annotate(top=Max("level"))
        .values_list("invoice_id", "top")
    )
    by_level = {lv.level: lv for lv in levels}
    steps: dict[int, CustomerStep] = {}
    lines: dict[int, list[InvoiceStep]] = {}
    for invoice in invoices:
        days = (as_of - invoice.due_date).days
        previous = given.get(invoice.pk, 0)
        level = next_level(levels, previous, days)
        lines.setdefault(invoice.customer_id, []).append(
            InvoiceStep(invoice, days, previous, level.level if level else None)
        )
    for customer_id, customer_lines in lines.items():
        due = [line.new_level for line in customer_lines if line.new_level]
        if due:
            steps[customer_id] = CustomerStep(customer_id, by_level[max(due)], customer_lines)
    return list(steps.values())


@transaction.atomic
def propose_run(company, as_of: datetime.date, user) -> DunningRun:
    """A new run over the overdue invoices of the customers `user` may see. The user's
    own earlier run still waiting for confirmation is cancelled (it would propose the same
    levels a second time); someone else's waiting run is theirs to confirm or cancel, and
    another user's customers may be in it, so a new run waits for it."""
    from creditfile.customers.services.visibility import visible_customers

    waiting = DunningRun.objects.select_for_update().filter(
        company=company, status=RunStatus.PROPOSED
    )
    other = waiting.exclude(created_by=user).select_related("created_by").first()
    if other is not None:
        raise CollectionError(
            _("%(user)s 发起的催款批次尚待确认，请其确认或取消后再发起。")
            % {"user": other.created_by}
        )
    waiting.update(status=RunStatus.CANCELLED)
    run = DunningRun.objects.create(company=company, as_of=as_of, created_by=user)
    for step in customer_steps(company, as_of, visible_customers(user)):
        proposal = DunningProposal.objects.create(
            run=run, customer_id=step.customer_id, level=step.level, total_overdue=step.total
        )
        DunningProposalLine.objects.bulk_create(
            DunningProposalLine(
                proposal=proposal,
                invoice=line.invoice,
                days_overdue=line.days_overdue,
                open_base=line.invoice.open_base,
                previous_level=line.previous_level,
                new_level=line.new_level,
            )
            for line in step.lines
        )
    return run


# --- Confirming ------------------------------------------------------------------------------


@dataclass
class RunResult:
    letters: list[DunningLetter] = field(default_factory=list)
    calls: int = 0
    skipped: list[str] = field(default_factory=list)


def confirm_run(run: DunningRun, user, selected_ids) -> RunResult:
    """Send what the reviewer kept ticked; the rest is left out of this run (and proposed
    again next time). All of it or nothing."""
    selected = {int(pk) for pk in selected_ids}
    with transaction.atomic():
        run = DunningRun.objects.select_for_update().get(pk=run.pk)
        _only_its_creator(run, user)
        if run.status != RunStatus.PROPOSED:
            raise CollectionError(
                _("该批次%(status)s，不能再确认。") % {"status": run.get_status_display()}
            )
        result = RunResult()
        proposals = run.proposals.select_related("customer", "level")
        for proposal in proposals:
            proposal.selected = proposal.pk in selected
            if proposal.selected:
                _send(run, proposal, user, result)
            proposal.save(update_fields=["selected", "letter", "case"])
        run.status, run.confirmed_by, run.confirmed_at = (
            RunStatus.CONFIRMED,
            user,
            timezone.now(),
        )
        run.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    return result


def _only_its_creator(run: DunningRun, user) -> None:
    """A run holds the customers its creator may see; only they confirm or cancel it."""
    if run.created_by_id != user.pk:
        raise CollectionError(
            _("只有发起人 %(user)s 可以确认或取消该批次。") % {"user": run.created_by}
        )


def cancel_run(run: DunningRun, user) -> None:
    with transaction.atomic():
        run = DunningRun.objects.select_for_update().get(pk=run.pk)
        _only_its_creator(run, user)
        if run.status != RunStatus.PROPOSED:
            raise CollectionError(_("只有待确认的批次可以取消。"))
        run.status = RunStatus.CANCELLED
        run.save(update_fields=["status"])


def _send(run: DunningRun, proposal: DunningProposal, user, result: RunResult) -> None:
    customer = proposal.customer
    steps = customer_steps(run.company, run.as_of, type(customer).objects.filter(pk=customer.pk))
    if not steps:
        result.skipped.append(customer.name)
        return
    step = steps[0]
    case, _created = collections.open_case(customer, run.company, user, run.as_of)
    proposal.case = case
    DunningNotice.objects.bulk_create(
        DunningNotice(invoice=line.invoice, level=line.new_level, given_on=run.as_of, run=run)
        for line in step.lines
        if line.new_level
    )
    level = step.level
    invoices = [line.invoice for line in step.lines]
    if level.sends_letter:
        letter = generate_letter(case, level.template, user, run.as_of, level=level)
        proposal.letter = letter
        result.letters.append(letter)
        follow_up = run.as_of + datetime.timedelta(days=level.pay_within_days)
        collections.set_follow_up(
            case, follow_up, _("核对“%(subject)s”限期付款") % {"subject": letter.subject}
        )
    else:
        result.calls += 1
        due = case.next_action_on
        collections.set_follow_up(
            case,
            min(due, run.as_of) if due else run.as_of,
            _("催收政策%(level)s：%(channel)s联系客户，涉及发票 %(numbers)s")
            % {
                "level": level,
                "channel": level.get_channel_display(),
                "numbers": "、".join(i.number for i in invoices),
            },
        )


def generate_letter(
    case, template: DunningTemplate, user, letter_date=None, *, level=None, kind=""
):
    """Fill in `template` for the case's customer with ALL its overdue invoices, freeze
    it, and log it: a collection action and an outgoing letter in the correspondence log."""
    letter_date = letter_date or timezone.localdate()
    invoices = list(collections.overdue_invoices(case.customer_id, case.company_id, letter_date))
    if not invoices:
        raise CollectionError(_("客户目前没有逾期发票，无需发函。"))
    rows = dunning_letters.invoice_rows(invoices, letter_date)
    total = sum((invoice.open_base for invoice in invoices), ZERO)
    values = dunning_letters.letter_values(
        case.customer, case.company, rows, total, letter_date, level, case.owner or user
    )
    try:
        dunning_letters.validate_template(template.subject, template.body)
    except Exception as exc:
        raise CollectionError(
            _("函件模板“%(name)s”有误，请先修改模板。") % {"name": template.name}, "template"
        ) from exc
    channel = level.channel if level is not None else DunningChannel.LETTER
    with transaction.atomic():
        letter = DunningLetter.objects.create(
            company=case.company,
            customer=case.customer,
            case=case,
            level=level.level if level is not None else None,
            channel=channel,
            template_name=template.name,
            subject=dunning_letters.render_text(template.subject, values)[:200],
            body=dunning_letters.render_text(template.body, values),
            invoices=rows,
            total_overdue=total,
            letter_date=letter_date,
            generated_by=user,
        )
        collections.record_action(
            case,
            user,
            kind or ACTION_FOR_CHANNEL[channel],
            done_on=min(letter_date, timezone.localdate()),
            contact_person=values["contact_person"],
            note=dunning_letters.plain_text(letter.body, rows, total),
            invoices=invoices,
            letter=letter,
            subject=letter.subject,
        )
    return letter


# --- The daily job ---------------------------------------------------------------------------


def open_cases_for_overdue(today: datetime.date) -> int:
    """Open a case for every customer that has newly gone past the first dunning level.

    "Newly": an invoice crossed the first level's days after the customer's last case
    with the company was closed (or there never was one), so a case closed as a write-off
    proposal or handed to a court is not reopened every morning for the same invoices.
    Cases opened here are the system's bookkeeping, not an update of the credit file, so
    they do not count as one (R-11 freshness).
    """
    from creditfile.core.models import Company
    from creditfile.customers.models import Customer
    from creditfile.customers.services.file_updates import touches_deferred
    from creditfile.receivables.choices import CaseStatus
    from creditfile.receivables.models import CollectionCase

    opened = 0
    for company in Company.objects.filter(is_active=True):
        first = policy_for(company).levels.order_by("level").first()
        if first is None:
            continue
        threshold = today - datetime.timedelta(days=first.days_overdue)
        latest_due = dict(
            Invoice.objects.filter(company=company, open_base__gt=0, due_date__lte=threshold)
            .values("customer_id")
            .annotate(latest=Max("due_date"))
            .values_list("customer_id", "latest")
        )
        cases = CollectionCase.objects.filter(company=company, customer_id__in=list(latest_due))
        has_open = set(cases.filter(status=CaseStatus.OPEN).values_list("customer_id", flat=True))
        last_closed = dict(
            cases.filter(status=CaseStatus.CLOSED)
            .values("customer_id")
            .annotate(last=Max("closed_on"))
            .values_list("customer_id", "last")
        )
        for customer_id, latest in sorted(latest_due.items()):
            closed = last_closed.get(customer_id)
            crossed = latest + datetime.timedelta(days=first.days_overdue)
            if customer_id in has_open or (closed is not None and crossed <= closed):
                continue
            with transaction.atomic(), touches_deferred() as touched:
                customer = Customer.objects.get(pk=customer_id)
                _case, created = collections.open_case(customer, company, None, today)
                touched.clear()
            opened += created
    return opened
