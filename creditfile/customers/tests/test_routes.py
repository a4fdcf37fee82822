"""The visit-route rules (R-16) in services/routes.py: access and the order of stops."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from creditfile.customers.models import Region, Route, RouteStop
from creditfile.customers.services import routes
from creditfile.customers.testing import make_customer


@pytest.fixture
def place(db):
    region, _created = Region.objects.get_or_create(
        code="310115", defaults={"name": "浦东新区", "level": 3}
    )
    return region


@pytest.fixture
def route(org, place):
    return Route.objects.create(name="浦东一线", region=place, sales_rep=org.alice)


@pytest.fixture
def five(org):
    return [make_customer(f"客户{i}", owner=org.alice) for i in range(5)]


def order(route) -> list[str]:
    return [s.customer.name for s in route.stops.select_related("customer").order_by("position")]


def positions(route) -> list[int]:
    return list(route.stops.order_by("position").values_list("position", flat=True))


def stop_of(route, name) -> int:
    return route.stops.get(customer__name=name).pk


def test_it_appends_new_stops_at_the_end_and_skips_those_already_on_it(route, five):
    routes.add_stops(route, five[:3])

    added = routes.add_stops(route, [five[1], five[3]])

    assert [s.customer for s in added] == [five[3]]
    assert order(route) == ["客户0", "客户1", "客户2", "客户3"]
    assert positions(route) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "name, offset, expected",
    [
        ("客户2", -1, ["客户0", "客户2", "客户1", "客户3", "客户4"]),
        ("客户2", 1, ["客户0", "客户1", "客户3", "客户2", "客户4"]),
        ("客户4", -3, ["客户0", "客户4", "客户1", "客户2", "客户3"]),
        ("客户0", 10, ["客户1", "客户2", "客户3", "客户4", "客户0"]),
    ],
)
def test_it_moves_a_stop_and_keeps_positions_unique_and_contiguous(
    route, five, name, offset, expected
):
    routes.add_stops(route, five)

    assert routes.move_stop(route, stop_of(route, name), offset) is True

    assert order(route) == expected
    assert positions(route) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("name, offset", [("客户0", -1), ("客户4", 1)])
def test_it_does_not_move_past_either_end(route, five, name, offset):
    routes.add_stops(route, five)

    assert routes.move_stop(route, stop_of(route, name), offset) is False
    assert order(route) == [c.name for c in five]


def test_it_closes_the_gap_when_a_stop_is_removed(route, five):
    routes.add_stops(route, five)

    routes.remove_stop(route, stop_of(route, "客户1"))

    assert order(route) == ["客户0", "客户2", "客户3", "客户4"]
    assert positions(route) == [1, 2, 3, 4]


def test_it_refuses_to_move_or_remove_a_stop_of_another_route(org, route, five, place):
    other = Route.objects.create(name="另一条", region=place, sales_rep=org.alice)
    routes.add_stops(other, five[:1])
    foreign = other.stops.get().pk

    with pytest.raises(RouteStop.DoesNotExist):
        routes.move_stop(route, foreign, 1)
    with pytest.raises(RouteStop.DoesNotExist):
        routes.remove_stop(route, foreign)
    assert other.stops.count() == 1


def test_it_reorders_all_stops_at_once(route, five):
    routes.add_stops(route, five)
    ids = list(route.stops.order_by("-position").values_list("pk", flat=True))

    routes.reorder_stops(route, ids)

    assert order(route) == ["客户4", "客户3", "客户2", "客户1", "客户0"]
    assert positions(route) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("mangle", [lambda ids: ids[:-1], lambda ids: ids + ids[:1]])
def test_it_refuses_a_new_order_that_is_not_exactly_the_routes_stops(route, five, mangle):
    routes.add_stops(route, five)
    ids = list(route.stops.order_by("position").values_list("pk", flat=True))

    with pytest.raises(ValidationError) as error:
        routes.reorder_stops(route, mangle(ids))

    assert "stops" in error.value.message_dict
    assert order(route) == [c.name for c in five]


@pytest.fixture
def three_routes(org, place):
    return {
        rep: Route.objects.create(name=f"{rep}的路线", region=place, sales_rep=getattr(org, rep))
        for rep in ("alice", "bob", "walt")
    }


@pytest.mark.parametrize(
    "username, view, edit",
    [
        ("alice", {"alice"}, {"alice"}),
        ("walt", {"walt"}, {"walt"}),
        ("mary", {"alice", "bob"}, {"alice", "bob"}),
        ("wendy", {"walt"}, {"walt"}),
        ("cathy", {"alice", "bob", "walt"}, {"alice", "bob", "walt"}),
        # Not a reader by work (access/policy.py): no customer files, so no routes.
        ("adam", set(), set()),
        ("arthur", set(), set()),
        ("carl", {"alice", "bob", "walt"}, set()),
        ("audrey", {"alice", "bob", "walt"}, set()),
    ],
)
def test_it_lets_each_role_see_and_edit_its_routes(org, three_routes, username, view, edit):
    user = getattr(org, username)
    names = {r.pk: rep for rep, r in three_routes.items()}

    seen = {names[pk] for pk in routes.visible_routes(user).values_list("pk", flat=True)}
    editable = {
        names[pk] for pk in routes.visible_routes(user, "edit").values_list("pk", flat=True)
    }

    assert seen == view
    assert editable == edit


def test_it_hides_other_routes_as_not_found_and_refuses_read_only_edits(org, three_routes):
    with pytest.raises(Http404):
        routes.get_route_for(org.alice, three_routes["walt"].pk)
    with pytest.raises(PermissionDenied):
        routes.get_route_for(org.carl, three_routes["walt"].pk, "edit")
    assert routes.get_route_for(org.carl, three_routes["walt"].pk) == three_routes["walt"]


def test_it_offers_only_visible_customers_not_yet_on_the_route(org, route):
    mine = make_customer("我的客户有限公司", owner=org.alice)
    on_route = make_customer("已在路线有限公司", owner=org.alice)
    make_customer("别人的客户有限公司", owner=org.walt)
    routes.add_stops(route, [on_route])

    assert list(routes.addable_customers(org.alice, route)) == [mine]


def test_it_lets_reps_assign_routes_only_to_themselves_and_managers_to_their_reps(org):
    assert set(routes.assignable_reps(org.alice)) == {org.alice}
    assert set(routes.assignable_reps(org.mary)) == {org.alice, org.bob}
    assert set(routes.assignable_reps(org.cathy)) == {org.alice, org.bob, org.walt}
