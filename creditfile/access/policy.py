"""Who may read and edit which customer file (R-40, R-41): the one place this rule lives.

docs/access.md has the table. In short:

- superuser: everything (the installation's owner).
- the owning user reads and edits their own customers, whatever the level.
- company level: the marketing director, VP and general manager.
- department level: the manager of the owning department or of any department above it;
  the marketing director, VP and GM.
- personal level: the owning user; the manager of the owner's department or of the file's
  department, or of any department above either; the marketing director, VP and GM.
- readers by work (AccessSettings.reader_roles; by default credit staff, credit manager,
  finance, auditor) read every file.
- an active read grant (an approved request lent by the archivist, not returned, not past
  due back) reads that customer, read-only.

Edit needs read (not through a grant) and one of: owning user, department manager reaching
the file, or an editing role (credit staff, credit manager, finance, marketing director).

Everything is a query predicate on indexed columns (owner, department, level, and a
subquery on active grants), so a list of a million customers filters in the database.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from creditfile.core import roles
from creditfile.core.services import rows as model_rows

VIEW = "view"
EDIT = "edit"

# They read every file whatever its level (R-40: company files are theirs).
READ_EVERYTHING = frozenset({roles.MARKETING_DIRECTOR, roles.VP, roles.GENERAL_MANAGER})
# Besides owners and department managers, these roles edit what they read.
EDITING_ROLES = frozenset(
    {roles.CREDIT_STAFF, roles.CREDIT_MANAGER, roles.FINANCE, roles.MARKETING_DIRECTOR}
)
_NOTHING = Q(pk__in=[])


class NotReadable(Http404):
    """The customer exists but `user` may not read it: the stub page on the web (403,
    access.middleware), a plain 404 in the API (creditfile/api.py). Both record the denied
    attempt once the exception has left the view, so a view's transaction rolling back
    cannot take the audit event with it."""

    def __init__(self, customer, action: str = "view"):
        super().__init__("not readable")
        self.customer = customer
        self.action = action


class NotEditable(PermissionDenied):
    """The user reads the customer but may not edit it: 403, recorded as denied."""

    def __init__(self, customer, action: str = "edit"):
        super().__init__("not editable")
        self.customer = customer
        self.action = action


def reader_roles(user=None) -> set[str]:
    """The readers by work (AccessSettings). With a user, read once per user object — in
    the web that is once per request; load the user again to see a change made since."""
    from creditfile.access.models import AccessSettings

    cached = getattr(user, "_access_reader_roles", None)
    if cached is None:
        cached = set(AccessSettings.current_reader_roles())
        if user is not None:
            user._access_reader_roles = cached
    return cached


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def reads_everything(user) -> bool:
    """Reads every file: superuser, marketing director, VP, GM and the readers by work."""
    if not _signed_in(user):
        return False
    if user.is_superuser or user.has_role(*READ_EVERYTHING):
        return True
    return user.has_role(*reader_roles(user))


def edits_everything(user) -> bool:
    """Edits every file: an editing role that also reads everything (or the superuser)."""
    if not _signed_in(user):
        return False
    if user.is_superuser:
        return True
    return user.has_role(*EDITING_ROLES) and reads_everything(user)


def managed_departments(user) -> set[int]:
    """The departments a department manager reaches: their own and all below it."""
    if not _signed_in(user) or not user.has_role(roles.DEPT_MANAGER) or not user.department_id:
        return set()
    cached = getattr(user, "_managed_departments", None)
    if cached is None:
        cached = user.department.subtree_ids()
        user._managed_departments = cached
    return cached


def _manager_reach(user, prefix: str = "") -> Q:
    """What a department manager reads by department, level by level (never company)."""
    from creditfile.core.models import User
    from creditfile.customers.choices import Confidentiality

    subtree = managed_departments(user)
    if not subtree:
        return _NOTHING
    owners_below = User.objects.filter(department_id__in=subtree).values("pk")
    return Q(
        **{
            f"{prefix}confidentiality__in": [Confidentiality.DEPARTMENT, Confidentiality.PERSONAL],
            f"{prefix}department_id__in": subtree,
        }
    ) | Q(
        **{
            f"{prefix}confidentiality": Confidentiality.PERSONAL,
            f"{prefix}owner_id__in": owners_below,
        }
    )


def granted_customer_ids(user, now=None) -> QuerySet:
    """The ids of customers `user` reads through an active grant (a subquery)."""
    from creditfile.access.models import RequestedCustomer

    now = now or timezone.now()
    return RequestedCustomer.objects.filter(
        request__requester_id=user.pk,
        request__lending__lent_at__lte=now,
        request__lending__due_back_at__gt=now,
        request__lending__returned_at__isnull=True,
    ).values("customer_id")


def scope(user, action: str = VIEW) -> Q | None:
    """The customers `user` may `action` ("view" or "edit") as a Q; None means all."""
    if not _signed_in(user):
        return _NOTHING
    if action == VIEW:
        if reads_everything(user):
            return None
        return Q(owner_id=user.pk) | _manager_reach(user) | Q(pk__in=granted_customer_ids(user))
    if edits_everything(user):
        return None
    # Edit needs read not through a grant: the owner and the managers reaching the file.
    # Editing roles that are not readers by work edit what they read that way (their own).
    return Q(owner_id=user.pk) | _manager_reach(user)


def _customers() -> QuerySet:
    from creditfile.customers.models import Customer

    return Customer.objects.all()


def restrict(queryset: QuerySet, user, action: str = VIEW, path: str = "") -> QuerySet:
    """Filter customers (or records reached from a customer by `path`) to what `user` may do."""
    rule = scope(user, VIEW if action == VIEW else EDIT)
    if rule is None:
        return queryset
    if path:
        return queryset.filter(**{f"{path}__in": _customers().filter(rule).values("pk")})
    return queryset.filter(rule)


def readable_customers(user) -> QuerySet:
    return restrict(_customers(), user, VIEW)


def readable_customer(user, pk: int, fields: tuple[str, ...] = ("id",)):
    """Customer `pk`, only `fields` (attnames) loaded, if `user` may read it; else None
    (an unknown id and a hidden one look the same). The same rule as `readable_customers`;
    for a reader of every file it is one written-out query by primary key, because every
    order an ERP checks asks this and composing the ORM query cost ten times the query."""
    rule = scope(user, VIEW)
    if rule is not None:
        return _customers().filter(rule, pk=pk).only(*fields).order_by().first()
    model = _customers().model
    sql = (
        f"SELECT {model_rows.columns(model, 'c', fields)} FROM {model._meta.db_table} c"
        " WHERE c.id = %s"
    )
    with model_rows.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    return None if row is None else model_rows.instance(model, row, fields)


def can_read(user, customer) -> bool:
    return restrict(_customers().filter(pk=customer.pk), user, VIEW).exists()


def can_edit(user, customer) -> bool:
    return restrict(_customers().filter(pk=customer.pk), user, EDIT).exists()


def reads_through_grant_only(user, customer) -> bool:
    """True when the user reads this file only because of a lending (read-only)."""
    rule = scope(user, VIEW)
    if rule is None:
        return False
    own = Q(owner_id=user.pk) | _manager_reach(user)
    customers = _customers().filter(pk=customer.pk)
    return not customers.filter(own).exists() and customers.filter(rule).exists()


def deny(user, customer, action: str, *, request=None, detail: dict | None = None) -> None:
    """Record a denied attempt on a customer (R-42)."""
    from creditfile.access.services import audit

    audit.record(
        audit.Action.DENIED,
        user=user if _signed_in(user) else None,
        request=request,
        customer=customer,
        outcome=audit.Outcome.DENIED,
        detail={"action": action, **(detail or {})},
    )


def get_customer_for(user, pk, action: str = VIEW):
    """The customer if `user` may do `action` on it.

    Unknown id: Http404. Exists but unreadable: NotReadable (a Http404: the web shows the
    stub page with 403, the API answers 404). Readable but not editable when editing:
    NotEditable (a PermissionDenied, 403). Both are audited as denied where they are
    turned into a response (see NotReadable).
    """
    try:
        customer = _customers().filter(pk=pk).first()
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    if customer is None:
        raise Http404
    if not can_read(user, customer):
        raise NotReadable(customer, action)
    if action != VIEW and not can_edit(user, customer):
        raise NotEditable(customer, action)
    return customer


def reach(user, everything: bool, owner: str, departments: tuple[str, ...]) -> Q | None:
    """Ownership-and-department reach for records that belong to a sales rep (not a file).

    Visit routes and the reps a route may be given to use it. None means everything
    (`everything` is the caller's answer to "does this user see them all", normally
    reads_everything or edits_everything); otherwise what the user owns (`owner` field)
    plus, for a department manager, what sits in their department or below.
    """
    if not isinstance(everything, bool):
        # The interim rule took a set of roles here; a set would silently mean "everything".
        raise TypeError("reach() takes a bool (reads_everything / edits_everything)")
    if not _signed_in(user):
        return _NOTHING
    if everything:
        return None
    rule = Q(**{owner: user.pk})
    subtree = managed_departments(user)
    for field in departments if subtree else ():
        rule |= Q(**{f"{field}_id__in": subtree})
    return rule
