"""The customer list 客户一览表 (R-13): /customers/ — visibility, filters, search, sort, pages."""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from creditfile.customers import filters
from creditfile.customers.filters import CustomerFilterForm, capped_page
from creditfile.customers.models import Customer, Industry, Region
from creditfile.customers.services.visibility import visible_customers
from creditfile.customers.testing import make_customer
from creditfile.customers.views import listing

NOW = "2026-03-16 10:30 +08:00"
URL = "/customers/"


def region(code, name, parent=None):
    """Regions by code: the GB/T 2260 data may already be loaded by a migration."""
    level = 1 if code.endswith("0000") else 2 if code.endswith("00") else 3
    obj, _created = Region.objects.get_or_create(
        code=code, defaults={"name": name, "parent": parent, "level": level}
    )
    return obj


@pytest.fixture
def regions(db):
    sh = region("310000", "上海市")
    sh_city = region("310100", "市辖区", sh)
    pudong = region("310115", "浦东新区", sh_city)
    js = region("320000", "江苏省")
    nj = region("320100", "南京市", js)
    xuanwu = region("320102", "玄武区", nj)
    suzhou = region("320500", "苏州市", js)
    return {
        "sh": sh,
        "sh_city": sh_city,
        "pudong": pudong,
        "js": js,
        "nj": nj,
        "xuanwu": xuanwu,
        "suzhou": suzhou,
    }


@pytest.fixture
def files(org):
    return {
        owner: make_customer(f"{owner}的客户有限公司", owner=getattr(org, owner))
        for owner in ("alice", "bob", "walt")
    }


def names(response) -> list[str]:
    return [c.name for c in response.context["page"].object_list]


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


# Visibility ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username, expected",
    [
        ("alice", {"alice"}),
        ("bob", {"bob"}),
        ("walt", {"walt"}),
        ("mary", {"alice", "bob"}),
        ("carl", {"alice", "bob", "walt"}),
        ("audrey", {"alice", "bob", "walt"}),
    ],
)
def test_it_lists_only_the_customers_each_role_may_see(client, org, files, username, expected):
    response = get(client, getattr(org, username))

    assert response.status_code == 200
    assert set(names(response)) == {f"{o}的客户有限公司" for o in expected}


def test_it_does_not_find_another_reps_customer_by_searching_for_it(client, org, files):
    response = get(client, org.alice, q="walt的客户")

    assert names(response) == []
    assert "walt的客户有限公司" not in response.content.decode()


def test_it_does_not_widen_visibility_by_filtering_on_another_owner(client, org, files):
    response = get(client, org.alice, owner=org.walt.pk)

    assert names(response) == []


def test_it_sends_anonymous_visitors_to_the_login_page(client, files):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# Filters ---------------------------------------------------------------------------------


def test_it_filters_by_credit_grade_and_by_ungraded(client, org):
    make_customer("甲级有限公司", owner=org.alice, credit_grade="A")
    make_customer("乙级有限公司", owner=org.alice, credit_grade="B")
    make_customer("未评有限公司", owner=org.alice)

    assert names(get(client, org.carl, credit_grade="A")) == ["甲级有限公司"]
    assert names(get(client, org.carl, credit_grade="none")) == ["未评有限公司"]


@pytest.mark.parametrize(
    "code, expected",
    [
        ("320000", {"南京玄武", "南京本级", "苏州客户"}),
        ("320100", {"南京玄武", "南京本级"}),
        ("320102", {"南京玄武"}),
        ("310000", {"浦东客户"}),
    ],
)
def test_it_filters_by_region_including_everything_below_it(client, org, regions, code, expected):
    make_customer("南京玄武", owner=org.alice, region=regions["xuanwu"])
    make_customer("南京本级", owner=org.alice, region=regions["nj"])
    make_customer("苏州客户", owner=org.alice, region=regions["suzhou"])
    make_customer("浦东客户", owner=org.alice, region=regions["pudong"])
    make_customer("无地区客户", owner=org.alice)

    assert set(names(get(client, org.carl, region=code))) == expected


def test_it_rejects_an_unknown_region_code_naming_the_field(client, org, files):
    response = get(client, org.carl, region="999999")

    assert names(response) == []
    assert "region" in response.context["form"].errors
    assert '<li class="msg-error">地区：' in response.content.decode()


def test_it_filters_by_industry(client, org):
    steel, _ = Industry.objects.get_or_create(code="T-STEEL", defaults={"name": "测试钢铁"})
    food, _ = Industry.objects.get_or_create(code="T-FOOD", defaults={"name": "测试食品"})
    make_customer("钢铁有限公司", owner=org.alice, industry=steel)
    make_customer("食品有限公司", owner=org.alice, industry=food)

    assert names(get(client, org.carl, industry=steel.pk)) == ["钢铁有限公司"]


def test_it_filters_by_lifecycle(client, org):
    make_customer("活跃有限公司", owner=org.alice, lifecycle="active")
    make_customer("休眠有限公司", owner=org.alice, lifecycle="dormant")

    assert names(get(client, org.carl, lifecycle="dormant")) == ["休眠有限公司"]


def test_it_filters_by_owner(client, org, files):
    assert names(get(client, org.mary, owner=org.bob.pk)) == ["bob的客户有限公司"]


def test_it_filters_by_department_including_the_departments_below(client, org, files):
    east = org.departments["sales_east"].pk
    whole_sales = org.departments["sales"].pk

    assert set(names(get(client, org.carl, department=east))) == {
        "alice的客户有限公司",
        "bob的客户有限公司",
    }
    assert len(names(get(client, org.carl, department=whole_sales))) == 3


def test_it_filters_by_volume_grade(client, org):
    make_customer("主力有限公司", owner=org.alice, volume_grade="key")
    make_customer("零散有限公司", owner=org.alice, volume_grade="scattered")

    assert names(get(client, org.carl, volume_grade="key")) == ["主力有限公司"]


@time_machine.travel(NOW, tick=False)
def test_it_filters_stale_files_and_shows_the_reason(client, org):
    make_customer("新鲜有限公司", owner=org.alice)
    old = make_customer("陈旧有限公司", owner=org.alice)
    visited = make_customer("拜访未更新有限公司", owner=org.alice)
    Customer.objects.filter(pk=old.pk).update(file_updated_at=timezone.now() - timedelta(days=45))
    Customer.objects.filter(pk=visited.pk).update(
        file_updated_at=timezone.now() - timedelta(days=3),
        last_visit_on=timezone.localdate() - timedelta(days=1),
    )

    stale = get(client, org.carl, stale="1")
    fresh = get(client, org.carl, stale="0")

    assert set(names(stale)) == {"陈旧有限公司", "拜访未更新有限公司"}
    assert names(fresh) == ["新鲜有限公司"]
    body = stale.content.decode()
    assert "超过30天未更新" in body
    assert f"{date(2026, 3, 15)}拜访后档案未更新" in body


# Search, sort, pages ---------------------------------------------------------------------


def test_it_hands_the_search_box_to_the_search_service(client, org, files, monkeypatch):
    calls = []
    real = filters.search_customers

    def spy(queryset, q):
        calls.append(q)
        return real(queryset, q)

    monkeypatch.setattr(filters, "search_customers", spy)

    response = get(client, org.carl, q="bob的")

    assert calls == ["bob的"]
    assert names(response) == ["bob的客户有限公司"]


def test_it_sorts_by_a_whitelisted_key_in_both_directions(client, org):
    make_customer("甲有限公司", owner=org.alice)
    make_customer("乙有限公司", owner=org.alice)
    make_customer("丙有限公司", owner=org.alice)
    Customer.objects.filter(name="甲有限公司").update(completeness=90)
    Customer.objects.filter(name="乙有限公司").update(completeness=10)
    Customer.objects.filter(name="丙有限公司").update(completeness=50)

    ascending = names(get(client, org.carl, sort="completeness"))
    descending = names(get(client, org.carl, sort="-completeness"))

    assert ascending == ["乙有限公司", "丙有限公司", "甲有限公司"]
    assert descending == list(reversed(ascending))


@pytest.mark.parametrize("bad", ["owner__password", "-uscc", "name; DROP TABLE x", "--name", ""])
def test_it_ignores_a_sort_key_outside_the_whitelist(client, org, files, bad):
    response = get(client, org.carl, sort=bad)

    assert response.status_code == 200
    assert names(response) == sorted(names(response))
    assert response.context["sort"] == "name"


def test_it_pages_by_fifty(client, org):
    for i in range(120):
        Customer.objects.create(name=f"客户{i:03d}", owner=org.alice, source="sales")

    first = get(client, org.carl)
    third = get(client, org.carl, page=3)
    beyond = get(client, org.carl, page=99)
    garbage = get(client, org.carl, page="abc")

    assert names(first) == [f"客户{i:03d}" for i in range(50)]
    assert first.context["page"].count == 120
    assert first.context["page"].num_pages == 3
    assert names(third) == [f"客户{i:03d}" for i in range(100, 120)]
    assert not third.context["page"].has_next
    assert beyond.context["page"].number == 3
    assert names(garbage) == names(first)


def test_it_counts_only_up_to_the_cap_and_says_so(client, org, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    monkeypatch.setattr(listing, "PER_PAGE", 2)
    for i in range(9):
        Customer.objects.create(name=f"客户{i}", owner=org.alice, source="sales")

    response = get(client, org.carl)

    page = response.context["page"]
    assert page.capped and page.count == 6 and page.num_pages is None
    assert page.has_next
    assert "共 5+ 位客户" in response.content.decode()


def test_it_never_counts_more_rows_than_the_cap(org):
    for i in range(9):
        Customer.objects.create(name=f"客户{i}", owner=org.alice, source="sales")

    with CaptureQueriesContext(connection) as queries:
        page = capped_page(Customer.objects.order_by("name"), 2, per_page=2, cap=4)

    count_sql = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(count_sql) == 1 and "LIMIT 5" in count_sql[0].upper()
    assert page.count == 5 and page.capped
    assert [c.name for c in page.object_list] == ["客户2", "客户3"]


def test_it_skips_the_count_when_everything_fits_on_the_first_page(org, files):
    with CaptureQueriesContext(connection) as queries:
        page = capped_page(Customer.objects.order_by("name"), 1)

    assert page.count == 3
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_it_runs_the_same_few_queries_for_three_or_sixty_customers(
    client, org, regions, django_assert_max_num_queries
):
    steel, _ = Industry.objects.get_or_create(code="T-STEEL", defaults={"name": "测试钢铁"})

    def measure():
        client.force_login(org.mary)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, {"sort": "-updated"}).status_code == 200
        return len(queries.captured_queries)

    for i in range(3):
        make_customer(f"少量{i}", owner=org.alice, region=regions["xuanwu"], industry=steel)
    few = measure()
    for i in range(57):
        owner = org.bob if i % 2 else org.alice
        place = regions["pudong"] if i % 3 else regions["suzhou"]
        make_customer(f"大量{i}", owner=owner, region=place, industry=steel)
    many = measure()

    assert many <= few + 1  # +1: past one page the capped COUNT runs
    client.force_login(org.mary)
    # 15: the page is found by id (an index-only scan at scale), then its rows fetched by id.
    with django_assert_max_num_queries(15):
        client.get(URL, {"sort": "-updated"})


# Page behaviour --------------------------------------------------------------------------


def test_it_returns_only_the_results_to_htmx_and_the_whole_page_otherwise(client, org, files):
    client.force_login(org.carl)

    full = client.get(URL, {"lifecycle": "prospect"})
    partial = client.get(URL, {"lifecycle": "prospect"}, headers={"HX-Request": "true"})

    assert "<html" in full.content.decode()
    assert 'hx-get="/customers/"' in full.content.decode()
    body = partial.content.decode()
    assert "<html" not in body and "alice的客户有限公司" in body
    assert 'id="id_sort"' in body and 'hx-swap-oob="true"' in body


def test_it_renders_the_columns_of_the_list(client, org, regions):
    steel, _ = Industry.objects.get_or_create(code="T-STEEL", defaults={"name": "测试钢铁"})
    customer = make_customer(
        "上海浦东钢材有限公司",
        owner=org.alice,
        region=regions["pudong"],
        industry=steel,
        credit_grade="B",
        lifecycle="dormant",
    )

    body = get(client, org.mary).content.decode()

    place = regions["pudong"].full_name
    for text in (customer.name, customer.uscc, place, "测试钢铁", "Alice"):
        assert text in body
    assert "休眠客户" in body and ">B<" in body
    assert f'href="{reverse("customers:detail", args=[customer.pk])}"' in body


def test_it_keeps_filters_in_the_export_link(client, org, files):
    body = get(client, org.carl, lifecycle="prospect", page="1").content.decode()

    assert f'href="{reverse("customers:export")}?lifecycle=prospect"' in body


def test_it_offers_the_same_filter_form_to_other_callers(org, files):
    form = CustomerFilterForm({"owner": org.bob.pk, "sort": "-name"}, user=org.carl)

    result = form.apply(Customer.objects.all())

    assert [c.name for c in result] == ["bob的客户有限公司"]
    assert form.chosen_sort == "-name"


def _region_select(body: str) -> str:
    start = body.index('<select name="region"')
    return body[start : body.index("</select>", start)]


def test_it_offers_provinces_and_opens_the_cities_and_counties_of_the_chosen_region(
    client, org, regions
):
    client.force_login(org.carl)

    plain = _region_select(client.get(URL).content.decode())
    province = _region_select(client.get(URL, {"region": "320000"}).content.decode())
    county = _region_select(client.get(URL, {"region": "320102"}).content.decode())

    assert "江苏省" in plain and "上海市" in plain and "南京市" not in plain
    assert "南京市" in province and "苏州市" in province and "玄武区" not in province
    assert 'value="320000" selected' in province
    assert "玄武区" in county and 'value="320102" selected' in county
    assert "浦东新区" not in county  # another province's counties stay closed
    assert plain.count("<option") < 100  # not every city and county of China


def test_it_refreshes_the_region_picker_with_the_htmx_results(client, org, regions):
    client.force_login(org.carl)

    body = client.get(URL, {"region": "320000"}, headers={"HX-Request": "true"}).content.decode()

    picker = _region_select(body)
    assert 'hx-swap-oob="true"' in picker and "南京市" in picker


@pytest.mark.parametrize("sort", ["name", "-name", "credit_grade"])
@pytest.mark.parametrize("q", ["", "科技", "南京科技"])
def test_it_pages_a_province_in_name_order_across_its_regions(org, regions, sort, q):
    places = [regions["nj"], regions["xuanwu"], regions["suzhou"], regions["pudong"]]
    for i in range(40):
        make_customer(
            ["南京", "苏州", "江苏", "上海"][i % 4] + ("科技" if i % 3 else "贸易") + f"{i:02d}",
            owner=[org.alice, org.bob][i % 2],
            region=places[i % 4],
            lifecycle=["active", "dormant"][i % 5 == 0],
            credit_grade="ABCD"[i % 4],
        )
    for user in (org.carl, org.alice):
        params = {"region": "320000", "lifecycle": "active", "q": q, "sort": sort}
        form = CustomerFilterForm(params, user=user)
        queryset = form.apply(visible_customers(user))
        expected = list(queryset.values_list("pk", flat=True))  # the database's own order
        assert expected, params
        pages, number, more = [], 1, True
        while more:
            page = capped_page(queryset, number, per_page=4)
            pages += [c.pk for c in page.object_list]
            number, more = number + 1, page.has_next
        assert pages == expected, (user, params)
