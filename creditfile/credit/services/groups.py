"""Limits above one company's line: the group-wide line and related-customer groups.

Two caps can sit above a customer's per-company lines (services/lines.py):

- the group-wide line (CreditLine with company empty): what the customer may owe all
  our selling companies together. The per-company limits may add up to more than it —
  each company sells independently and rarely uses its whole line — but total exposure
  may never pass it. That check belongs to the order check of the receivables issue
  (issue 4), which must compare the customer's exposure across all companies with
  `group_limits_for(...).group_line` and each `credit_groups` limit, in addition to the
  company line. Nothing here refuses an order.
- a related-customer group (CreditGroup): customers with the same owner or parent
  company sharing one limit over their combined exposure.

A group-wide line is set directly by someone holding credit.grant_credit, with a
written reason, not through a credit application: it caps lines that were each approved
through the matrix, so it can only lower the risk those approvals accepted. The line
itself is kept in the change log (CreditLine history), and the reason is filed as a
significant event on the customer's timeline.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.fields import ZERO
from creditfile.credit.choices import LineStatus
from creditfile.credit.models import CreditGroup, CreditLine
from creditfile.credit.services.errors import WorkflowError, require_perm
from creditfile.credit.services.lines import group_line_for


@dataclass
class GroupLimits:
    """What caps a customer's credit beyond its per-company lines on one day."""

    group_line: CreditLine | None
    company_lines: list[CreditLine] = field(default_factory=list)
    credit_groups: list[CreditGroup] = field(default_factory=list)

    @property
    def company_total(self) -> Decimal:
        return sum((line.limit for line in self.company_lines), ZERO)

    @property
    def company_lines_exceed_group_line(self) -> bool:
        """Allowed by design (see module doc); shown so nobody is surprised by the cap."""
        return self.group_line is not None and self.company_total > self.group_line.limit


def _valid_on(on_date: datetime.date) -> Q:
    return Q(valid_from__lte=on_date) & (Q(valid_until__isnull=True) | Q(valid_until__gte=on_date))


def credit_groups_for(customer, on_date: datetime.date | None = None) -> list[CreditGroup]:
    on_date = on_date or timezone.localdate()
    return list(
        customer.credit_groups.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on_date))
        .prefetch_related("members")
        .order_by("name")
    )


def group_limits_for(customer, on_date: datetime.date | None = None) -> GroupLimits:
    """The group-wide line, the company lines and the related-customer groups in force."""
    on_date = on_date or timezone.localdate()
    company_lines = list(
        CreditLine.objects.filter(
            customer=customer, company__isnull=False, status=LineStatus.ACTIVE
        )
        .filter(_valid_on(on_date))
        .select_related("company")
        .order_by("company__name")
    )
    return GroupLimits(
        group_line=group_line_for(customer, on_date),
        company_lines=company_lines,
        credit_groups=credit_groups_for(customer, on_date),
    )


# --- the group-wide line ----------------------------------------------------------------


@dataclass
class GroupLineInput:
    limit: Decimal
    grade: str
    term_days: int
    valid_from: datetime.date
    reason: str
    valid_until: datetime.date | None = None


def _timeline_note(customer, user, title: str, description: str) -> None:
    from creditfile.customers.models import FileEvent

    FileEvent.objects.create(
        customer=customer,
        recorded_by=user,
        occurred_on=timezone.localdate(),
        title=title[:200],
        description=description,
    )


@transaction.atomic
def set_group_line(customer, user, data: GroupLineInput) -> CreditLine:
    """Grant or replace the customer's group-wide line; the previous one stays as history."""
    from creditfile.credit.services.policy import policy_in_force, terms_for

    require_perm(user, "credit.grant_credit", _("设定集团总额度"))
    reason = (data.reason or "").strip()
    if not reason:
        raise WorkflowError(_("请说明设定集团总额度的理由。"), "invalid", "reason")
    if data.limit is None or data.limit < 0:
        raise WorkflowError(_("额度不能为负数。"), "invalid", "limit")
    if data.valid_until and data.valid_until < data.valid_from:
        raise WorkflowError(_("有效期至不能早于生效日期。"), "invalid", "valid_until")
    policy = policy_in_force(data.valid_from)
    terms = terms_for(policy, data.grade)
    now = timezone.now()
    for old in CreditLine.objects.select_for_update().filter(
        customer=customer, company=None, status=LineStatus.ACTIVE
    ):
        old.status = LineStatus.SUPERSEDED
        old.ended_at = now
        old.end_reason = _("被新的集团总额度替代：%(reason)s") % {"reason": reason}
        old.end_reason = old.end_reason[:300]
        old.save(update_fields=["status", "ended_at", "end_reason", "scope"])
    line = CreditLine.objects.create(
        customer=customer,
        company=None,
        grade=data.grade,
        limit=data.limit,
        term_days=data.term_days,
        discount_percent=terms.discount_percent,
        discount_days=terms.discount_days,
        cash_on_delivery=terms.cash_on_delivery,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        policy=policy,
        granted_by=user,
    )
    _timeline_note(
        customer,
        user,
        _("设定集团总额度 %(limit)s 元") % {"limit": data.limit},
        reason,
    )
    return line


@transaction.atomic
def end_group_line(line: CreditLine, user, reason: str) -> CreditLine:
    require_perm(user, "credit.grant_credit", _("撤销集团总额度"))
    line = CreditLine.objects.select_for_update().get(pk=line.pk)
    if line.company_id is not None:
        raise WorkflowError(_("这不是集团总额度。"), "invalid")
    if line.status != LineStatus.ACTIVE:
        raise WorkflowError(_("该额度已不再有效。"))
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("请说明撤销的理由。"), "invalid", "reason")
    line.status = LineStatus.REVOKED
    line.ended_at = timezone.now()
    line.end_reason = reason[:300]
    line.save(update_fields=["status", "ended_at", "end_reason", "scope"])
    _timeline_note(line.customer, user, _("撤销集团总额度"), reason)
    return line


# --- related-customer groups ------------------------------------------------------------


@dataclass
class CreditGroupInput:
    name: str
    limit: Decimal
    relation: str = ""
    valid_until: datetime.date | None = None


def _check_group(data: CreditGroupInput) -> None:
    if not data.name.strip():
        raise WorkflowError(_("请填写关联客户组名称。"), "invalid", "name")
    if data.limit is None or data.limit < 0:
        raise WorkflowError(_("共享额度不能为负数。"), "invalid", "limit")


@transaction.atomic
def save_credit_group(user, data: CreditGroupInput, group: CreditGroup | None = None):
    if group is None:
        require_perm(user, "credit.add_creditgroup", _("建立关联客户组"))
        group = CreditGroup(created_by=user)
    else:
        require_perm(user, "credit.change_creditgroup", _("修改关联客户组"))
    _check_group(data)
    group.name = data.name.strip()
    group.relation = data.relation.strip()
    group.limit = data.limit
    group.valid_until = data.valid_until
    group.save()
    return group


def _visible_customer(user, customer):
    from creditfile.customers.services.visibility import get_customer_for

    return get_customer_for(user, customer.pk)


@transaction.atomic
def add_member(group: CreditGroup, customer, user, note: str = "") -> None:
    """Add a customer the user may see (a hidden one is a 404, as everywhere)."""
    require_perm(user, "credit.change_creditgroup", _("修改关联客户组"))
    customer = _visible_customer(user, customer)
    if group.members.filter(pk=customer.pk).exists():
        raise WorkflowError(_("该客户已在此关联客户组中。"), "invalid", "customer")
    group.members.add(customer)
    description = group.relation if not note else f"{group.relation} {note}".strip()
    _timeline_note(
        customer,
        user,
        _("加入关联客户组“%(group)s”（共享额度 %(limit)s 元）")
        % {"group": group.name, "limit": group.limit},
        description,
    )


@transaction.atomic
def remove_member(group: CreditGroup, customer, user, reason: str = "") -> None:
    require_perm(user, "credit.change_creditgroup", _("修改关联客户组"))
    customer = _visible_customer(user, customer)
    if not group.members.filter(pk=customer.pk).exists():
        raise WorkflowError(_("该客户不在此关联客户组中。"), "invalid", "customer")
    group.members.remove(customer)
    _timeline_note(
        customer, user, _("移出关联客户组“%(group)s”") % {"group": group.name}, reason.strip()
    )


def visible_members(group: CreditGroup, user):
    """Members the user may see; lists show no others, not even how many (R-40)."""
    from creditfile.customers.services.visibility import restrict

    return restrict(group.members.all(), user, "view").order_by("name")
