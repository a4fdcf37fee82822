"""Read requests 查阅申请 and lending (R-41): submit, approve or refuse, lend, return.

The approval chain: one step per distinct owning department of the requested customers,
decided by the manager of that department (or of a department above it); when any
requested file is company level, one more step for the role named in AccessSettings
(the general manager by default), which can be decided once every department step is
approved. One refusal refuses the request. Nobody decides a step of their own request.

After approval the archivist lends the files: from then the requester reads them
(access/policy.py, `granted_customer_ids`) until the return is recorded or the due-back
time passes, whichever comes first. Nothing has to run at due-back time: the grant is a
query on the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from creditfile.access import policy
from creditfile.access.models import (
    AccessSettings,
    ApprovalStep,
    Lending,
    ReadRequest,
    RequestedCustomer,
)
from creditfile.access.services import audit
from creditfile.core import roles
from creditfile.core.validators import normalize_uscc
from creditfile.customers.choices import Confidentiality

LEND_PERMISSION = "access.lend_files"
MAX_CUSTOMERS = 50
MAX_DAYS = 366


class RequestError(Exception):
    """A refused action on a read request. `code`: forbidden (403), state (409) or
    invalid (400, naming `field`)."""

    def __init__(self, message, code: str = "state", field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field


# --- finding customers ----------------------------------------------------------------


def find_customer(text: str):
    """The customer whose exact name or unified social credit code is `text`, else None.

    Anyone may find any customer this way: what they get is the stub (name, code, grade).
    """
    from creditfile.customers.models import Customer

    text = (text or "").strip()
    if not text:
        return None
    code = normalize_uscc(text)
    found = Customer.objects.filter(uscc=code).first() if len(code) == 18 else None
    if found is None:
        matches = list(Customer.objects.filter(name=text)[:2])
        found = matches[0] if len(matches) == 1 else None
    return found


def find_customers(lines: str) -> tuple[list, list[str]]:
    """Customers for one name or code per line; and the lines that matched none."""
    customers, missing = [], []
    for line in (lines or "").splitlines():
        line = line.strip()
        if not line:
            continue
        customer = find_customer(line)
        if customer is None:
            missing.append(line)
        elif customer not in customers:
            customers.append(customer)
    return customers, missing


# --- submitting -----------------------------------------------------------------------


def _owning_department(customer):
    if customer.department_id:
        return customer.department
    if customer.owner_id and customer.owner.department_id:
        return customer.owner.department
    return None


@transaction.atomic
def submit(requester, customers, purpose: str, wanted_from, wanted_to) -> ReadRequest:
    purpose = (purpose or "").strip()
    if not purpose:
        raise RequestError(_("请填写查阅目的。"), "invalid", "purpose")
    if not customers:
        raise RequestError(_("请至少填写一个客户。"), "invalid", "customers")
    if len(customers) > MAX_CUSTOMERS:
        raise RequestError(
            _("一次最多申请 %(count)s 个客户。") % {"count": MAX_CUSTOMERS}, "invalid", "customers"
        )
    if wanted_from is None or wanted_to is None:
        raise RequestError(_("请填写查阅期间。"), "invalid", "wanted_to")
    if wanted_to < wanted_from:
        raise RequestError(_("查阅期间的结束日期不能早于开始日期。"), "invalid", "wanted_to")
    if wanted_to < timezone.localdate():
        raise RequestError(_("查阅期间已经过去。"), "invalid", "wanted_to")
    if (wanted_to - wanted_from).days > MAX_DAYS:
        raise RequestError(_("查阅期间不能超过一年。"), "invalid", "wanted_to")
    already = [c.name for c in customers if policy.can_read(requester, c)]
    if already:
        raise RequestError(
            _("您已可查阅：%(names)s，无需申请。") % {"names": "、".join(already)},
            "invalid",
            "customers",
        )
    request = ReadRequest.objects.create(
        requester=requester, purpose=purpose[:300], wanted_from=wanted_from, wanted_to=wanted_to
    )
    RequestedCustomer.objects.bulk_create(
        [
            RequestedCustomer(request=request, customer=c, confidentiality=c.confidentiality)
            for c in customers
        ]
    )
    departments, ownerless = [], False
    for customer in customers:
        department = _owning_department(customer)
        if department is None:
            ownerless = True
        elif department not in departments:
            departments.append(department)
    steps = [
        ApprovalStep(request=request, kind=ApprovalStep.Kind.DEPARTMENT, department=d)
        for d in sorted(departments, key=lambda d: d.code)
    ]
    if ownerless:
        # A file with neither department nor owner: the marketing director stands in.
        steps.append(
            ApprovalStep(
                request=request, kind=ApprovalStep.Kind.DEPARTMENT, role=roles.MARKETING_DIRECTOR
            )
        )
    if any(c.confidentiality == Confidentiality.COMPANY for c in customers):
        steps.append(
            ApprovalStep(
                request=request,
                kind=ApprovalStep.Kind.COMPANY,
                role=AccessSettings.current().company_approver_role,
            )
        )
    for order, step in enumerate(steps, start=1):
        step.order = order
    ApprovalStep.objects.bulk_create(steps)
    return request


@transaction.atomic
def withdraw(user, request: ReadRequest) -> None:
    request = ReadRequest.objects.select_for_update().get(pk=request.pk)
    if request.requester_id != user.pk:
        raise RequestError(_("只有申请人可以撤回申请。"), "forbidden")
    if request.status != ReadRequest.Status.PENDING:
        raise RequestError(_("只有审批中的申请可以撤回。"))
    request.status = ReadRequest.Status.WITHDRAWN
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at"])
    request.steps.filter(decision=ApprovalStep.Decision.PENDING).update(
        decision=ApprovalStep.Decision.SKIPPED
    )


# --- approving ------------------------------------------------------------------------


def _department_ancestors(department) -> set[int]:
    ids, current = set(), department
    while current is not None and current.pk not in ids:
        ids.add(current.pk)
        current = current.parent
    return ids


def _is_decider(user, step: ApprovalStep) -> bool:
    if not user.is_active:
        return False
    if step.department_id:
        return (
            user.has_role(roles.DEPT_MANAGER)
            and user.department_id is not None
            and user.department_id in _department_ancestors(step.department)
        )
    return bool(step.role) and user.has_role(step.role)


def _earlier_steps_done(step: ApprovalStep) -> bool:
    """A company step waits until every department step is approved."""
    if step.kind != ApprovalStep.Kind.COMPANY:
        return True
    return not (
        step.request.steps.filter(kind=ApprovalStep.Kind.DEPARTMENT)
        .exclude(decision=ApprovalStep.Decision.APPROVED)
        .exists()
    )


def may_decide(user, step: ApprovalStep) -> bool:
    return (
        step.decision == ApprovalStep.Decision.PENDING
        and step.request.status == ReadRequest.Status.PENDING
        and step.request.requester_id != user.pk
        and _is_decider(user, step)
        and _earlier_steps_done(step)
    )


def _decider_filter(user, prefix: str = "") -> Q:
    """Steps `user` is a decider of, as a filter (department subtree or role)."""
    rule = Q(**{f"{prefix}role__in": sorted(user.role_codes), f"{prefix}department__isnull": True})
    if user.has_role(roles.DEPT_MANAGER) and user.department_id:
        rule |= Q(**{f"{prefix}department_id__in": user.department.subtree_ids()})
    return rule


def steps_waiting_for(user) -> QuerySet:
    """The steps `user` can decide now (their own requests never among them)."""
    if not user.is_active:
        return ApprovalStep.objects.none()
    undone_department_steps = ApprovalStep.objects.filter(
        request=OuterRef("request"), kind=ApprovalStep.Kind.DEPARTMENT
    ).exclude(decision=ApprovalStep.Decision.APPROVED)
    return (
        ApprovalStep.objects.filter(
            _decider_filter(user),
            decision=ApprovalStep.Decision.PENDING,
            request__status=ReadRequest.Status.PENDING,
        )
        .exclude(request__requester=user)
        .exclude(Q(kind=ApprovalStep.Kind.COMPANY) & Exists(undone_department_steps))
        .select_related("request__requester", "department")
        .order_by("request__submitted_at", "order")
    )


@transaction.atomic
def decide(user, step: ApprovalStep, approve: bool, comment: str = "") -> ApprovalStep:
    request = ReadRequest.objects.select_for_update().get(pk=step.request_id)
    step = ApprovalStep.objects.select_related("department").get(pk=step.pk)
    step.request = request
    comment = (comment or "").strip()
    if request.requester_id == user.pk:
        raise RequestError(_("不能审批自己的申请。"), "forbidden")
    if not _is_decider(user, step):
        raise RequestError(_("您不是此步骤的审批人。"), "forbidden")
    if (
        step.decision != ApprovalStep.Decision.PENDING
        or request.status != ReadRequest.Status.PENDING
    ):
        raise RequestError(_("此步骤已经处理。"))
    if not _earlier_steps_done(step):
        raise RequestError(_("须先完成部门经理审批。"))
    if not approve and not comment:
        raise RequestError(_("拒绝时请填写审批意见。"), "invalid", "comment")
    now = timezone.now()
    step.decision = ApprovalStep.Decision.APPROVED if approve else ApprovalStep.Decision.REFUSED
    step.decided_by = user
    step.decided_at = now
    step.comment = comment[:300]
    step.save(update_fields=["decision", "decided_by", "decided_at", "comment"])
    if not approve:
        request.status = ReadRequest.Status.REFUSED
        request.decided_at = now
        request.save(update_fields=["status", "decided_at"])
        request.steps.filter(decision=ApprovalStep.Decision.PENDING).update(
            decision=ApprovalStep.Decision.SKIPPED
        )
    elif not request.steps.exclude(decision=ApprovalStep.Decision.APPROVED).exists():
        request.status = ReadRequest.Status.APPROVED
        request.decided_at = now
        request.save(update_fields=["status", "decided_at"])
    return step


# --- lending --------------------------------------------------------------------------


def default_due_back(request: ReadRequest) -> datetime:
    """The end of the last day wanted (midnight after it, local time)."""
    day_after = request.wanted_to + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day_after, time.min))


def _record_grant(user, request: ReadRequest, event: str, **detail) -> None:
    for item in request.items.select_related("customer"):
        audit.record(
            audit.Action.GRANT,
            user=user,
            customer=item.customer,
            obj=request,
            purpose=request.purpose,
            detail={
                "event": event,
                "request": request.pk,
                "requester": request.requester.username,
                **detail,
            },
        )


@transaction.atomic
def lend(user, request: ReadRequest, due_back_at: datetime, note: str = "") -> Lending:
    if not user.has_perm(LEND_PERMISSION):
        raise RequestError(_("只有档案管理员可以登记借阅。"), "forbidden")
    request = ReadRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ReadRequest.Status.APPROVED:
        raise RequestError(_("只有已批准的申请可以借出。"))
    if Lending.objects.filter(request=request).exists():
        raise RequestError(_("此申请已登记借出。"))
    if request.requester_id == user.pk:
        raise RequestError(_("不能为自己的申请登记借阅。"), "forbidden")
    now = timezone.now()
    if due_back_at is None or due_back_at <= now:
        raise RequestError(_("应归还时间须晚于现在。"), "invalid", "due_back_at")
    if due_back_at > default_due_back(request):
        raise RequestError(
            _("应归还时间不能晚于申请的查阅期间（至 %(day)s）。") % {"day": request.wanted_to},
            "invalid",
            "due_back_at",
        )
    lending = Lending.objects.create(
        request=request, lent_by=user, lent_at=now, due_back_at=due_back_at, note=(note or "")[:300]
    )
    _record_grant(user, request, "lend", due_back_at=timezone.localtime(due_back_at).isoformat())
    return lending


@transaction.atomic
def return_files(user, lending: Lending) -> Lending:
    if not user.has_perm(LEND_PERMISSION):
        raise RequestError(_("只有档案管理员可以登记归还。"), "forbidden")
    lending = Lending.objects.select_for_update().select_related("request").get(pk=lending.pk)
    if lending.returned_at is not None:
        raise RequestError(_("此借阅已登记归还。"))
    lending.returned_at = timezone.now()
    lending.returned_by = user
    lending.save(update_fields=["returned_at", "returned_by"])
    _record_grant(user, lending.request, "return")
    return lending


def active_lendings(user=None, now=None) -> QuerySet:
    """Lendings that give access right now (for one requester, or everyone's)."""
    now = now or timezone.now()
    lendings = Lending.objects.filter(
        lent_at__lte=now, due_back_at__gt=now, returned_at__isnull=True
    )
    return lendings if user is None else lendings.filter(request__requester=user)


# --- who sees what, and how a request stands ------------------------------------------


def visible_requests(user) -> QuerySet:
    """Requests `user` may see: their own, those they decide or decided, all for the archivist."""
    requests = ReadRequest.objects.all()
    if not user.is_active:
        return requests.none()
    if user.is_superuser or user.has_perm(LEND_PERMISSION):
        return requests
    theirs = ApprovalStep.objects.filter(
        _decider_filter(user) | Q(decided_by=user), request=OuterRef("pk")
    )
    return requests.filter(Q(requester=user) | Exists(theirs))


class Stage:
    PENDING = "pending"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    APPROVED = "approved"
    LENT = "lent"
    RETURNED = "returned"
    EXPIRED = "expired"

    LABELS = {
        PENDING: gettext_lazy("审批中"),
        REFUSED: gettext_lazy("已拒绝"),
        WITHDRAWN: gettext_lazy("已撤回"),
        APPROVED: gettext_lazy("已批准，待借出"),
        LENT: gettext_lazy("借阅中"),
        RETURNED: gettext_lazy("已归还"),
        EXPIRED: gettext_lazy("已到期"),
    }


def stage(request: ReadRequest, now=None) -> str:
    if request.status != ReadRequest.Status.APPROVED:
        return request.status
    lending = Lending.objects.filter(request=request).first()
    if lending is None:
        return Stage.APPROVED
    if lending.returned_at is not None:
        return Stage.RETURNED
    return Stage.EXPIRED if lending.is_overdue(now) else Stage.LENT


@dataclass
class Event:
    at: datetime
    who: object
    what: str
    comment: str = ""


def history(request: ReadRequest, now=None) -> list[Event]:
    """What happened to a request, in time order: submitted, each decision, lent, ended."""
    now = now or timezone.now()
    events = [Event(request.submitted_at, request.requester, _("提交申请"), request.purpose)]
    for step in request.steps.select_related("decided_by").filter(decided_at__isnull=False):
        label = (
            _("同意（%(step)s）")
            if step.decision == ApprovalStep.Decision.APPROVED
            else _("拒绝（%(step)s）")
        ) % {"step": step_label(step)}
        events.append(Event(step.decided_at, step.decided_by, label, step.comment))
    if request.status == ReadRequest.Status.WITHDRAWN and request.decided_at:
        events.append(Event(request.decided_at, request.requester, _("撤回申请")))
    lending = (
        Lending.objects.filter(request=request).select_related("lent_by", "returned_by").first()
    )
    if lending is not None:
        due = timezone.localtime(lending.due_back_at)
        events.append(
            Event(
                lending.lent_at,
                lending.lent_by,
                _("借出，应归还时间 %(due)s") % {"due": f"{due:%Y-%m-%d %H:%M}"},
                lending.note,
            )
        )
        if lending.returned_at is not None and lending.returned_at < lending.due_back_at:
            events.append(Event(lending.returned_at, lending.returned_by, _("归还，查阅权限结束")))
        elif lending.due_back_at <= now:
            events.append(Event(lending.due_back_at, None, _("到期，查阅权限自动结束")))
            if lending.returned_at is not None:
                events.append(Event(lending.returned_at, lending.returned_by, _("登记归还")))
    return sorted(events, key=lambda e: e.at)


def step_label(step: ApprovalStep) -> str:
    if step.department_id:
        return _("%(department)s 部门经理") % {"department": step.department.name}
    return str(roles.ROLE_LABELS.get(step.role, step.role))


def deciders_of(step: ApprovalStep) -> QuerySet:
    """Who may decide a step (for showing whom a request waits for)."""
    from creditfile.core.models import User

    people = User.objects.filter(is_active=True).exclude(pk=step.request.requester_id)
    if step.department_id:
        return people.filter(
            groups__name=roles.DEPT_MANAGER,
            department_id__in=_department_ancestors(step.department),
        ).distinct()
    return people.filter(groups__name=step.role).distinct()
