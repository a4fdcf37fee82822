"""Who may see and edit which customers — the one place this rule lives.

Until the access-control issue replaces it: a sales rep sees and edits the customers
they own; a department manager those of their department and the departments below;
credit, finance, the marketing director, VP, GM, archivist and auditor see all; the
auditor, archivist, VP and GM only read.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from creditfile.core import roles

SEE_ALL = {
    roles.CREDIT_STAFF,
    roles.CREDIT_MANAGER,
    roles.FINANCE,
    roles.MARKETING_DIRECTOR,
    roles.VP,
    roles.GENERAL_MANAGER,
    roles.ARCHIVIST,
    roles.AUDITOR,
    roles.ADMINISTRATOR,
}
EDIT_ALL = {
    roles.CREDIT_STAFF,
    roles.CREDIT_MANAGER,
    roles.FINANCE,
    roles.MARKETING_DIRECTOR,
    roles.ADMINISTRATOR,
}


def reach(user, all_roles: set[str], owner: str, departments: tuple[str, ...]) -> Q | None:
    """The interim rule in query form, for any model that has an owning sales rep.

    None means everything; otherwise what the user owns (`owner` field) plus, for a
    department manager, what sits in their department or below (`departments` fields).
    Customers, visit routes and the reps a route may be given to all use it.
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser or user.has_role(*all_roles):
        return None
    scope = Q(pk__in=[])
    if user.has_role(roles.SALES_REP):
        scope |= Q(**{owner: user.pk})
    if user.has_role(roles.DEPT_MANAGER) and user.department_id:
        subtree = user.department.subtree_ids()
        for field in departments:
            scope |= Q(**{f"{field}_id__in": subtree})
    return scope


def _scope(user, all_roles: set[str]) -> Q | None:
    return reach(user, all_roles, owner="owner", departments=("department", "owner__department"))


def restrict(queryset: QuerySet, user, action: str = "view", path: str = "") -> QuerySet:
    """Filter customers (or records reached from a customer by `path`) to what `user` may do."""
    scope = _scope(user, SEE_ALL if action == "view" else EDIT_ALL)
    if scope is None:
        return queryset
    if path:
        scope = Q(**{f"{path}__in": restrict(_customers(), user, action)})
    return queryset.filter(scope)


def _customers():
    from creditfile.customers.models import Customer

    return Customer.objects.all()


def visible_customers(user) -> QuerySet:
    return restrict(_customers(), user, "view")


def can_edit(user, customer) -> bool:
    return restrict(_customers().filter(pk=customer.pk), user, "edit").exists()


def get_customer_for(user, pk, action: str = "view"):
    """The customer if `user` may do `action` on it; hidden customers are a 404, not a 403."""
    customer = restrict(_customers(), user, "view").filter(pk=pk).first()
    if customer is None:
        raise Http404
    if action != "view" and not can_edit(user, customer):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    return customer
