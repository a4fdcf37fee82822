"""Visit routes 路序 (R-16): who may see and edit a route, and the order of its stops.

A route belongs to a sales rep, so its access follows the ownership part of the customer
rule (creditfile/access/policy.py): the rep their own routes, a department manager the
routes of their department's reps, those who read every customer file every route. Editing also
needs the route permission of the user's role (credit staff, for instance, only read).

Stop positions are always 1..n without gaps; every change goes through `_renumber`,
which moves the rows out of the way first because (route, position) is unique and
databases check that constraint row by row during an UPDATE.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from creditfile.core import roles
from creditfile.customers.models import Customer, Route, RouteStop
from creditfile.customers.services.visibility import (
    edits_everything,
    reach,
    reads_everything,
    restrict,
)

# Far above any real position, so shifted rows never collide with unshifted ones.
_SHIFT = 1_000_000


def _scope(user, action: str) -> Q | None:
    everything = reads_everything(user) if action == "view" else edits_everything(user)
    return reach(user, everything, owner="sales_rep", departments=("sales_rep__department",))


def visible_routes(user, action: str = "view") -> QuerySet:
    """The routes `user` may see ("view") or change ("edit")."""
    routes = Route.objects.all()
    if action != "view" and not user.has_perm("customers.change_route"):
        return routes.none()
    scope = _scope(user, action)
    return routes if scope is None else routes.filter(scope)


def can_edit_route(user, route: Route) -> bool:
    return visible_routes(user, "edit").filter(pk=route.pk).exists()


def get_route_for(user, pk, action: str = "view") -> Route:
    """The route if `user` may do `action` on it; hidden routes are a 404, not a 403."""
    route = (
        visible_routes(user, "view")
        .select_related("region__parent__parent", "sales_rep")
        .filter(pk=pk)
        .first()
    )
    if route is None:
        raise Http404
    if action != "view" and not can_edit_route(user, route):
        raise PermissionDenied
    return route


def assignable_reps(user) -> QuerySet:
    """Sales reps a route of `user` may be given to: themselves, their department's, or all."""
    from creditfile.core.models import User

    reps = User.objects.filter(is_active=True, groups__name=roles.SALES_REP).distinct()
    scope = reach(user, edits_everything(user), owner="pk", departments=("department",))
    return reps if scope is None else reps.filter(scope)


def addable_customers(user, route: Route) -> QuerySet:
    """Customers `user` may put on `route`: those they can see and that are not on it yet."""
    on_route = RouteStop.objects.filter(route=route).values("customer_id")
    return restrict(Customer.objects.all(), user, "view").exclude(pk__in=on_route)


def _locked(route: Route) -> Route:
    """Take the route's row lock so two people editing one route queue up."""
    return Route.objects.select_for_update().get(pk=route.pk)


def _ordered_ids(route: Route) -> list[int]:
    return list(
        RouteStop.objects.filter(route=route).order_by("position").values_list("pk", flat=True)
    )


def _renumber(route: Route, stop_ids: list[int]) -> None:
    RouteStop.objects.filter(route=route).update(position=F("position") + _SHIFT)
    RouteStop.objects.bulk_update(
        [RouteStop(pk=pk, position=i) for i, pk in enumerate(stop_ids, 1)], ["position"]
    )


def add_stops(route: Route, customers: Iterable[Customer]) -> list[RouteStop]:
    """Append customers at the end of the route, skipping those already on it."""
    with transaction.atomic():
        route = _locked(route)
        present = set(RouteStop.objects.filter(route=route).values_list("customer_id", flat=True))
        last = RouteStop.objects.filter(route=route).aggregate(m=Max("position"))["m"] or 0
        added = []
        for customer in customers:
            if customer.pk in present:
                continue
            last += 1
            present.add(customer.pk)
            added.append(RouteStop.objects.create(route=route, customer=customer, position=last))
        return added


def move_stop(route: Route, stop_id: int, offset: int) -> bool:
    """Move a stop `offset` places (negative is earlier); False if it cannot move."""
    with transaction.atomic():
        route = _locked(route)
        ids = _ordered_ids(route)
        if stop_id not in ids:
            raise RouteStop.DoesNotExist
        old = ids.index(stop_id)
        new = min(max(old + offset, 0), len(ids) - 1)
        if new == old:
            return False
        ids.insert(new, ids.pop(old))
        _renumber(route, ids)
        return True


def remove_stop(route: Route, stop_id: int) -> None:
    """Take a stop off the route and close the gap it leaves."""
    with transaction.atomic():
        route = _locked(route)
        deleted, _rows = RouteStop.objects.filter(route=route, pk=stop_id).delete()
        if not deleted:
            raise RouteStop.DoesNotExist
        _renumber(route, _ordered_ids(route))


def reorder_stops(route: Route, stop_ids: list[int]) -> None:
    """Put the route's stops in exactly the given order (e.g. after drag and drop)."""
    with transaction.atomic():
        route = _locked(route)
        if sorted(stop_ids) != sorted(_ordered_ids(route)):
            raise ValidationError(
                {"stops": _("新的顺序必须恰好包含本路线的全部站点，且每个只出现一次。")}
            )
        _renumber(route, list(stop_ids))
