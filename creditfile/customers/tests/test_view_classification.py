"""Classification screens (R-14…R-16): dictionaries, the region tree, visit routes."""

import pytest
from django.urls import reverse

from creditfile.customers.models import (
    ChannelType,
    CustomerNature,
    Industry,
    LocationType,
    Ownership,
    Region,
    Route,
)
from creditfile.customers.services import routes
from creditfile.customers.testing import make_customer

KINDS = {
    "industry": Industry,
    "ownership": Ownership,
    "channel-type": ChannelType,
    "location-type": LocationType,
    "nature": CustomerNature,
}


def login(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# Dictionaries ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_it_lists_every_dictionary_to_readers(client, org, kind):
    entry = KINDS[kind].objects.create(code="ZZ-TEST", name="测试条目")

    response = login(client, org.alice).get(reverse("customers:dictionary", args=[kind]))

    assert response.status_code == 200
    assert entry.name in response.content.decode()
    assert reverse("customers:dictionary_add", args=[kind]) not in response.content.decode()


def test_it_answers_an_unknown_dictionary_with_not_found(client, org):
    assert login(client, org.adam).get("/customers/classification/planets/").status_code == 404


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_it_lets_the_administrator_create_and_edit_an_entry(client, org, kind):
    model = KINDS[kind]
    login(client, org.adam)

    created = client.post(
        reverse("customers:dictionary_add", args=[kind]),
        {"code": "ZZ-NEW", "name": "新条目", "name_en": "New", "sort_order": 5, "active": "on"},
    )
    entry = model.objects.get(code="ZZ-NEW")
    edited = client.post(
        reverse("customers:dictionary_edit", args=[kind, entry.pk]),
        {"code": "ZZ-NEW", "name": "改名条目", "name_en": "", "sort_order": 6, "active": "on"},
    )

    assert created.status_code == edited.status_code == 302
    entry.refresh_from_db()
    assert (entry.name, entry.sort_order, entry.active) == ("改名条目", 6, True)


def test_it_names_the_field_when_a_code_is_taken(client, org):
    Industry.objects.create(code="ZZ-DUP", name="已有")

    response = login(client, org.adam).post(
        reverse("customers:dictionary_add", args=["industry"]),
        {"code": "ZZ-DUP", "name": "重复", "sort_order": 0},
    )

    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert Industry.objects.filter(code="ZZ-DUP").count() == 1


@pytest.mark.parametrize("username", ["alice", "mary", "carl", "cathy", "victor", "audrey"])
def test_it_refuses_dictionary_changes_to_everyone_but_the_administrator(client, org, username):
    entry = Industry.objects.create(code="ZZ-KEEP", name="保留")
    login(client, getattr(org, username))

    responses = [
        client.get(reverse("customers:dictionary_add", args=["industry"])),
        client.post(
            reverse("customers:dictionary_add", args=["industry"]),
            {"code": "ZZ-X", "name": "x", "sort_order": 0},
        ),
        client.post(
            reverse("customers:dictionary_edit", args=["industry", entry.pk]),
            {"code": "ZZ-KEEP", "name": "改", "sort_order": 0},
        ),
        client.post(reverse("customers:dictionary_toggle", args=["industry", entry.pk])),
        client.post(reverse("customers:dictionary_delete", args=["industry", entry.pk])),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    entry.refresh_from_db()
    assert entry.name == "保留" and entry.active
    assert not Industry.objects.filter(code="ZZ-X").exists()


def test_it_deactivates_and_reactivates_an_entry(client, org):
    entry = ChannelType.objects.create(code="ZZ-CH", name="测试渠道")
    url = reverse("customers:dictionary_toggle", args=["channel-type", entry.pk])
    login(client, org.adam)

    client.post(url)
    entry.refresh_from_db()
    assert entry.active is False
    client.post(url)
    entry.refresh_from_db()
    assert entry.active is True


def test_it_deletes_an_unused_entry(client, org):
    entry = Industry.objects.create(code="ZZ-GONE", name="无人使用")

    response = login(client, org.adam).post(
        reverse("customers:dictionary_delete", args=["industry", entry.pk]), follow=True
    )

    assert not Industry.objects.filter(pk=entry.pk).exists()
    assert "已删除「无人使用」。" in messages_of(response)


def test_it_refuses_to_delete_an_entry_in_use_and_suggests_deactivating(client, org):
    entry = Industry.objects.create(code="ZZ-USED", name="在用行业")
    make_customer("使用者有限公司", owner=org.alice, industry=entry)

    response = login(client, org.adam).post(
        reverse("customers:dictionary_delete", args=["industry", entry.pk]), follow=True
    )

    assert Industry.objects.filter(pk=entry.pk).exists()
    assert messages_of(response) == ["「在用行业」仍被客户档案使用，不能删除；可以改为停用。"]


def test_it_links_every_dictionary_from_the_classification_page(client, org):
    body = login(client, org.alice).get(reverse("customers:classification")).content.decode()

    for kind in KINDS:
        assert reverse("customers:dictionary", args=[kind]) in body
    assert reverse("customers:regions") in body and reverse("customers:routes") in body


# Regions ---------------------------------------------------------------------------------


def region(code, name, parent=None):
    obj, _created = Region.objects.get_or_create(
        code=code, defaults={"name": name, "parent": parent}
    )
    return obj


@pytest.fixture
def tree(db):
    js = region("320000", "江苏省")
    nj = region("320100", "南京市", js)
    xw = region("320102", "玄武区", nj)
    return {"js": js, "nj": nj, "xw": xw}


def test_it_shows_the_top_level_regions_first(client, org, tree):
    response = login(client, org.alice).get(reverse("customers:regions"))

    tops = response.context["rows"]
    assert tree["js"] in tops
    assert all(r.parent_id is None for r in tops)
    assert tree["nj"] not in tops


def test_it_expands_a_region_in_place_for_htmx(client, org, tree):
    url = reverse("customers:region_children", args=[tree["nj"].pk])

    response = login(client, org.alice).get(url, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert "<html" not in body and "<tr" in body
    assert "玄武区" in body and "320102" in body
    assert [r.depth for r in response.context["rows"]] == [2] * len(response.context["rows"])


def test_it_shows_the_children_as_a_page_without_javascript(client, org, tree):
    url = reverse("customers:region_children", args=[tree["js"].pk])

    response = login(client, org.alice).get(url)

    body = response.content.decode()
    assert "<html" in body and "南京市" in body
    assert tree["nj"] in response.context["rows"]


@pytest.mark.parametrize("q", ["玄武", "320102"])
def test_it_finds_regions_by_name_or_code(client, org, tree, q):
    response = login(client, org.alice).get(reverse("customers:regions"), {"q": q})

    assert tree["xw"] in response.context["matches"]
    assert f"?region={tree['xw'].code}" in response.content.decode()


# Routes ----------------------------------------------------------------------------------


@pytest.fixture
def place(tree):
    return tree["xw"]


@pytest.fixture
def alice_route(org, place):
    return Route.objects.create(name="玄武一线", region=place, sales_rep=org.alice)


def test_it_lists_only_the_routes_a_user_may_see_and_filters_them(client, org, place, tree):
    Route.objects.create(name="玄武一线", region=place, sales_rep=org.alice)
    Route.objects.create(name="玄武二线", region=place, sales_rep=org.bob)
    Route.objects.create(name="西区线", region=tree["js"], sales_rep=org.walt)

    def listed(user, **params):
        response = login(client, user).get(reverse("customers:routes"), params)
        return {r.name for r in response.context["page"].object_list}

    assert listed(org.alice) == {"玄武一线"}
    assert listed(org.mary) == {"玄武一线", "玄武二线"}
    assert listed(org.carl) == {"玄武一线", "玄武二线", "西区线"}
    assert listed(org.carl, region="320100") == {"玄武一线", "玄武二线"}
    assert listed(org.carl, sales_rep=org.walt.pk) == {"西区线"}


def test_it_lets_a_rep_create_a_route_only_for_themselves(client, org, place):
    login(client, org.alice)
    url = reverse("customers:route_add")

    refused = client.post(url, {"name": "给bob", "region": place.pk, "sales_rep": org.bob.pk})
    created = client.post(url, {"name": "自己的", "region": place.pk, "sales_rep": org.alice.pk})

    assert refused.status_code == 200 and "sales_rep" in refused.context["form"].errors
    assert created.status_code == 302
    assert list(Route.objects.values_list("name", "sales_rep")) == [("自己的", org.alice.pk)]


def test_it_hides_another_reps_route_and_refuses_read_only_edits(client, org, alice_route):
    assert login(client, org.walt).get(f"/customers/routes/{alice_route.pk}/").status_code == 404
    login(client, org.carl)
    assert client.get(f"/customers/routes/{alice_route.pk}/").status_code == 200
    assert client.get(f"/customers/routes/{alice_route.pk}/edit/").status_code == 403
    customer = make_customer("信用部看得见有限公司", owner=org.alice)
    add = client.post(f"/customers/routes/{alice_route.pk}/stops/", {"customer": customer.pk})
    assert add.status_code == 403 and not alice_route.stops.exists()


def test_it_adds_searched_customers_and_reorders_and_removes_stops(client, org, alice_route):
    first = make_customer("第一站有限公司", owner=org.alice)
    second = make_customer("第二站有限公司", owner=org.alice)
    login(client, org.alice)
    base = f"/customers/routes/{alice_route.pk}"

    found = client.get(f"{base}/candidates/", {"q": "站"}, headers={"HX-Request": "true"})
    assert {c.name for c in found.context["candidates"]} == {first.name, second.name}

    client.post(f"{base}/stops/", {"customer": [first.pk, second.pk]})
    second_stop = alice_route.stops.get(customer=second)
    moved = client.post(
        f"{base}/stops/{second_stop.pk}/move/", {"direction": "up"}, headers={"HX-Request": "true"}
    )
    assert moved.status_code == 200 and "<html" not in moved.content.decode()
    assert [s.customer.name for s in moved.context["stops"]] == [second.name, first.name]

    client.post(f"{base}/stops/{second_stop.pk}/remove/")
    assert list(alice_route.stops.values_list("customer__name", "position")) == [(first.name, 1)]


def test_it_refuses_to_add_a_customer_the_user_cannot_see(client, org, alice_route):
    mine = make_customer("自己的有限公司", owner=org.alice)
    hidden = make_customer("walt的有限公司", owner=org.walt)

    response = login(client, org.alice).post(
        f"/customers/routes/{alice_route.pk}/stops/",
        {"customer": [mine.pk, hidden.pk]},
        follow=True,
    )

    assert not alice_route.stops.exists()
    assert "未添加任何客户" in messages_of(response)[0]


def test_it_does_not_offer_hidden_customers_as_candidates(client, org, alice_route):
    make_customer("walt的有限公司", owner=org.walt)

    response = login(client, org.alice).get(
        f"/customers/routes/{alice_route.pk}/candidates/", {"q": "walt"}
    )

    assert response.context["candidates"] == []


def test_it_prints_the_route_sheet_in_order_with_address_and_phone(client, org, alice_route):
    first = make_customer(
        "甲站有限公司",
        owner=org.alice,
        office_address="南京市玄武区中山路1号",
        phone="025-83331111",
    )
    second = make_customer(
        "乙站有限公司", owner=org.alice, registered_address="南京市玄武区北京东路2号"
    )
    routes.add_stops(alice_route, [second, first])

    body = login(client, org.alice).get(f"/customers/routes/{alice_route.pk}/sheet/")
    text = body.content.decode()

    assert text.index("乙站有限公司") < text.index("甲站有限公司")
    for part in ("南京市玄武区中山路1号", "025-83331111", "南京市玄武区北京东路2号", "玄武一线"):
        assert part in text


def test_it_masks_stops_the_viewer_may_not_see(client, org, alice_route):
    secret = make_customer("bob的秘密客户有限公司", owner=org.bob, phone="025-80000000")
    routes.add_stops(alice_route, [secret])

    text = login(client, org.alice).get(f"/customers/routes/{alice_route.pk}/sheet/").content
    text = text.decode()

    assert "bob的秘密客户有限公司" not in text and "025-80000000" not in text
    assert "无权查看的客户" in text


def test_it_lets_the_owner_delete_a_route(client, org, alice_route):
    response = login(client, org.alice).post(f"/customers/routes/{alice_route.pk}/delete/")

    assert response.status_code == 302
    assert not Route.objects.exists()
