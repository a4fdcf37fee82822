"""The search box finds exactly what a substring scan finds, on SQLite and PostgreSQL alike,
and its indexes follow every way rows are written."""

import random

import pytest
from django.db import connection

from creditfile.core.validators import phone_digits
from creditfile.customers.models import Contact, Customer
from creditfile.customers.services import search_index
from creditfile.customers.services.pinyin import name_pinyin
from creditfile.customers.services.search import (
    DIGITS,
    LETTERS,
    MIXED,
    NAME,
    USCC,
    ascii_lower,
    parse_query,
    search_customers,
)
from creditfile.customers.services.visibility import visible_customers
from creditfile.customers.testing import make_customer, valid_uscc

CITIES = ["上海", "北京", "杭州", "华信", "深圳", "广州", "苏州", "成都", "华", "信"]
CORES = ["华信", "信达", "科华", "东方", "长城", "科技", "恒通", "金桥", "ABC", "TCL", "3M"]
TRADES = ["科技", "贸易", "电子", "机械", "化工", "食品", "物流", "信息技术", "建材"]
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "厂", ""]


def _phone(rng, prefix):
    return prefix + "".join(rng.choice("0123456789") for _ in range(8))


def generate(count: int, seed: int = 7, owner=None) -> list[Customer]:
    """Customers written with bulk_create, as the demo generator and the import do."""
    rng = random.Random(seed)
    customers = []
    for serial in range(count):
        name = rng.choice(CITIES) + rng.choice(CORES) + rng.choice(TRADES) + rng.choice(SUFFIXES)
        name += str(serial % 3 or "")
        full, initials = name_pinyin(name)
        landline = rng.choice(["", "021-" + _phone(rng, "")[:8], "(0571) 8" + _phone(rng, "")[:7]])
        customers.append(
            Customer(
                name=name,
                name_pinyin=full,
                name_initials=initials,
                uscc=valid_uscc(900000 + seed * 10000 + serial),
                phone=landline,
                owner=owner,
                source="sales",
            )
        )
    customers = Customer.objects.bulk_create(customers)
    contacts = []
    for customer in customers:
        for _ in range(rng.choice([0, 1, 1, 2])):
            mobile = _phone(rng, "13")[:11]
            phone = rng.choice(["", "0571-" + _phone(rng, "8")[:8]])
            contacts.append(
                Contact(
                    customer=customer,
                    name="联系人",
                    mobile=mobile,
                    phone=phone,
                    phone_search=" ".join(
                        filter(None, [phone_digits(mobile), phone_digits(phone)])
                    ),
                )
            )
    Contact.objects.bulk_create(contacts)
    return customers


def brute_force(q: str) -> set[int]:
    """The search rules applied row by row in Python: what the indexes must reproduce."""
    phones: dict[int, list[str]] = {}
    for customer_id, phone_search in Contact.objects.values_list("customer_id", "phone_search"):
        phones.setdefault(customer_id, []).append(phone_search)
    found = set()
    for c in Customer.objects.all():
        name = ascii_lower(c.name)
        ok = True
        for kind, term in parse_query(q):
            if kind == NAME:
                ok = term in name
            elif kind == LETTERS:
                ok = term in name or term in c.name_initials or term in c.name_pinyin
            elif kind == USCC:
                ok = bool(c.uscc) and c.uscc.startswith(term)
            elif kind == DIGITS:
                ok = (
                    term in name
                    or term in phone_digits(c.phone)
                    or any(term in p for p in phones.get(c.pk, []))
                    or (len(term) >= 6 and term.isdigit() and (c.uscc or "").startswith(term))
                )
            elif kind == MIXED:
                full, initials = name_pinyin(term)
                runs = [r for r in "".join(ch if not ch.isascii() else " " for ch in term).split()]
                ok = all(r in name for r in runs) and (
                    term in name or initials in c.name_initials or full in c.name_pinyin
                )
            if not ok:
                break
        if ok:
            found.add(c.pk)
    return found


def sample_queries(customers, seed: int = 11) -> dict[str, list[str]]:
    rng = random.Random(seed)
    picks = rng.sample(customers, 12)
    contacts = list(Contact.objects.exclude(phone="")[:6]) + list(Contact.objects.all()[:6])

    def fragment(text, length):
        start = rng.randrange(0, max(1, len(text) - length + 1))
        return text[start : start + length]

    return {
        "name1": [fragment(c.name, 1) for c in picks[:4]] + ["华", "信", "3"],
        "name2": [fragment(c.name, 2) for c in picks] + ["科技", "华信", "有限", "公司", "AB"],
        "name3+": [fragment(c.name, n) for c, n in zip(picks, [3, 4, 5, 6] * 3, strict=True)]
        + ["信息技术", "华信科技", "abc", "TCL科技", "不存在的名字"],
        "initials": [
            fragment(c.name_initials, n) for c, n in zip(picks, [2, 3, 4, 5] * 3, strict=True)
        ]
        + ["hxkj", "HXKJ", "xdkj", "zz"],
        "pinyin": [
            fragment(c.name_pinyin, n) for c, n in zip(picks, [4, 6, 8, 10] * 3, strict=True)
        ]
        + ["huaxin", "keji", "HuaXin", "xyzq"],
        "uscc": [c.uscc for c in picks[:4]]
        + [c.uscc[:8] for c in picks[4:6]]
        + [c.uscc[:10].lower() for c in picks[6:8]]
        + ["91440300", "9144030000000000XX"],
        "phone": [p.mobile for p in contacts[:4]]
        + [p.mobile[-4:] for p in contacts[4:8]]
        + [phone_digits(p.phone)[-8:] for p in contacts[:4]]
        + [c.phone for c in picks if c.phone][:3]
        + [phone_digits(c.phone)[-4:] for c in picks if c.phone][:3]
        + ["138 1234", "12", "0571-8"],
        "mixed": ["华信kj", "华信keji", "上海hx", "科技yx", "信dkj", "华信 科技", "上海 hxkj"],
    }


@pytest.fixture
def customers(db):
    return generate(300)


@pytest.mark.parametrize(
    "kind", ["name1", "name2", "name3+", "initials", "pinyin", "uscc", "phone", "mixed"]
)
def test_it_finds_exactly_what_a_scan_finds(customers, kind):
    queries = sample_queries(customers)[kind]
    nonempty = 0
    for q in queries:
        expected = brute_force(q)
        found = set(search_customers(Customer.objects.all(), q).values_list("pk", flat=True))
        assert found == expected, (q, parse_query(q))
        nonempty += bool(expected)
    assert nonempty >= len(queries) // 2, "the sample should mostly hit existing customers"


def test_it_reads_the_kind_of_each_term():
    assert parse_query("  ") == []
    assert parse_query("华信") == [(NAME, "华信")]
    assert parse_query("HxKj") == [(LETTERS, "hxkj")]
    assert parse_query("138 1234-5678") == [(DIGITS, "13812345678")]
    assert parse_query("91440300MA5d") == [(USCC, "91440300MA5D")]
    assert parse_query("华信kj") == [(MIXED, "华信kj")]
    assert parse_query("华信 kj") == [(NAME, "华信"), (LETTERS, "kj")]
    assert parse_query("3M") == [(NAME, "3m")]


def _names(q, queryset=None):
    queryset = Customer.objects.all() if queryset is None else queryset
    return set(search_customers(queryset, q).values_list("name", flat=True))


def test_it_finds_by_every_kind_of_query(db):
    customer = make_customer("华信科技有限公司", phone="021-6123 4567")
    make_customer("东方机械厂")
    Contact.objects.create(customer=customer, name="王经理", mobile="138 1234 5678")
    for q in [
        "科技",
        "华",
        "华信科技",
        "hxkj",
        "HXKJ",
        "huaxin",
        "61234567",
        "4567",
        "13812345678",
        "5678",
        customer.uscc,
        customer.uscc[:16],
        "华信kj",
        "hx kj",
    ]:
        assert _names(q) == {"华信科技有限公司"}, q


def test_it_follows_a_rename(db):
    customer = make_customer("华信科技有限公司")
    customer.name = "东方电气有限公司"
    customer.save()
    assert _names("华信") == set()
    assert _names("华信科技") == set()
    assert _names("hxkj") == set()
    assert _names("东方") == {"东方电气有限公司"}
    assert _names("东方电气") == {"东方电气有限公司"}
    assert _names("dfdq") == {"东方电气有限公司"}


def test_it_follows_a_queryset_update(db):
    make_customer("华信科技有限公司")
    Customer.objects.update(name="恒通物流有限公司", phone="0571-88886666")
    assert _names("华信") == set()
    assert _names("恒通") == {"恒通物流有限公司"}
    assert _names("恒通物流") == {"恒通物流有限公司"}
    assert _names("88886666") == {"恒通物流有限公司"}


def test_it_follows_bulk_create(db):
    generate(5, seed=3)
    Customer.objects.bulk_create(
        [Customer(name="金桥建材厂", name_pinyin="jinqiaojiancaichang", name_initials="jqjcc")]
    )
    assert _names("金桥") == {"金桥建材厂"}
    assert _names("金桥建材") == {"金桥建材厂"}
    assert _names("jqjc") == {"金桥建材厂"}


def test_it_follows_a_contact_phone_change_and_delete(db):
    customer = make_customer("华信科技有限公司")
    contact = Contact.objects.create(customer=customer, name="王经理", mobile="13812345678")
    assert _names("12345678") == {"华信科技有限公司"}
    contact.mobile = "13987654321"
    contact.save()
    assert _names("12345678") == set()
    assert _names("87654321") == {"华信科技有限公司"}
    contact.delete()
    assert _names("87654321") == set()


def test_it_forgets_deleted_customers(db):
    customer = make_customer("华信科技有限公司", phone="021-61234567")
    Contact.objects.create(customer=customer, name="王经理", mobile="13812345678")
    customer.delete()
    assert _names("华信") == set()
    assert _names("华信科技") == set()
    assert _names("61234567") == set()
    assert _names("13812345678") == set()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM customer_search_bigram")
            assert cursor.fetchone()[0] == 0


def test_it_composes_with_visibility_filters_and_slicing(org):
    generate(40, seed=5, owner=org.alice)
    generate(40, seed=6, owner=org.bob)
    for q in ["科技", "华信科技", "hxkj", "huaxin", "13", "信"]:
        mine = search_customers(visible_customers(org.alice), q)
        assert not mine.filter(owner=org.bob).exists()
        assert set(mine.values_list("pk", flat=True)) == brute_force(q) & set(
            Customer.objects.filter(owner=org.alice).values_list("pk", flat=True)
        )
    page = search_customers(visible_customers(org.cathy).filter(owner=org.bob), "科技")
    names = list(page.order_by("name").values_list("name", flat=True)[:5])
    assert names == sorted(names) and len(names) == 5
    # Used as a subquery (as the export and counts do), the table alias must still be right.
    inner = search_customers(Customer.objects.filter(owner=org.alice), "华信科技")
    assert Customer.objects.filter(pk__in=inner.values("pk")).count() == inner.count()


def test_it_keeps_its_triggers_after_all_migrations(db):
    assert search_index.missing_triggers() == []


@pytest.mark.parametrize("broad_from", [(0, 0), (0, 10_000), (10_000, 10_000)])
def test_it_gives_the_same_first_page_for_broad_and_rare_terms(customers, monkeypatch, broad_from):
    from creditfile.customers.services import search

    monkeypatch.setattr(search, "BROAD_FROM", broad_from[0])
    monkeypatch.setattr(search, "VERY_BROAD_FROM", broad_from[1])
    # PostgreSQL estimates from statistics the test database does not have.
    monkeypatch.setattr(search, "_pg_gram_matches", lambda using, grams: 1)
    by_pk = {c.pk: c for c in Customer.objects.all()}
    for q in ["科技", "华", "有限公司", "hxkj", "keji", "华信kj"]:
        expected = brute_force(q)
        queryset = search_customers(Customer.objects.all(), q).order_by("name", "pk")
        page = list(queryset.values_list("pk", flat=True)[:10])
        assert page == sorted(expected, key=lambda pk: (by_pk[pk].name, pk))[:10], q
        assert queryset.order_by().values("pk")[:10_001].count() == len(expected), q
        assert queryset.order_by().values("pk")[:3].count() == min(3, len(expected)), q
        assert len(queryset[:4]) == min(4, len(expected)), q


def _spread(customers, org):
    """Owners, lifecycles and regions spread over generated customers, as on the list page."""
    from creditfile.customers.models import Region

    places = list(Region.objects.filter(code__in=["310115", "320102", "320500"]))
    if len(places) < 3:
        places = [
            Region.objects.create(code=code, name=code, level=3)
            for code in ("310115", "320102", "320500")
        ]
    for i, customer in enumerate(customers):
        Customer.objects.filter(pk=customer.pk).update(
            owner=[org.alice, org.bob, None][i % 3],
            lifecycle=["active", "active", "dormant", "prospect"][i % 4],
            region=places[i % 5 % 3] if i % 5 else None,
        )


@pytest.mark.parametrize("walk_from", [0, 10**9])
def test_it_pages_by_name_under_other_filters_exactly_as_a_scan_would(org, monkeypatch, walk_from):
    from creditfile.customers import filters
    from creditfile.customers.services import search

    # 0: every fragment of 3+ characters is paged from its rarest 2-character window.
    monkeypatch.setattr(search, "PAGE_WALK_FROM", walk_from)
    monkeypatch.setattr(search, "_pg_gram_matches", lambda using, grams: 1)
    customers = generate(300, seed=9)
    _spread(customers, org)
    form_filters = [
        {},
        {"lifecycle": "active"},
        {"region": "320000", "lifecycle": "active"},
        {"owner": org.alice.pk},
        {"region": "310115"},
    ]
    queries = [
        "科技",
        "华信",
        "有限公司",
        "信息技术",
        "华信科技",
        "hxkj",
        "华信 科技",
        "Ab",
        "tcl科技",
    ]
    for q in queries:
        matching = brute_force(q)
        for params in form_filters:
            for user in (org.carl, org.alice):  # sees all; sees her own customers
                form = filters.CustomerFilterForm({**params, "q": q}, user=user)
                assert form.is_valid(), form.errors
                visible = form.filter(visible_customers(user))
                expected = sorted(
                    (c.name, c.pk)
                    for c in filters.CustomerFilterForm(params, user=user).filter(
                        Customer.objects.all()
                    )
                    if c.pk in matching and (user == org.carl or c.owner_id == org.alice.pk)
                )
                for ordering, wanted in ((("name", "pk"), expected), (("-name", "-pk"), None)):
                    wanted = expected if wanted is not None else expected[::-1]
                    queryset = visible.order_by(*ordering)
                    for start in (0, 7):
                        page = list(queryset.values_list("name", "pk")[start : start + 7])
                        assert page == wanted[start : start + 7], (q, params, user, ordering)


def test_it_reads_a_sorted_page_of_a_fragment_from_the_name_ordered_grams(db):
    from django.test.utils import CaptureQueriesContext

    generate(60, seed=4)
    with CaptureQueriesContext(connection) as queries:
        list(search_customers(Customer.objects.filter(lifecycle="active"), "科技")[:5])
    page_sql = queries.captured_queries[-1]["sql"]
    assert "ORDER BY cf_b.name ASC, cf_b.customer_id ASC LIMIT 5" in page_sql


def test_it_takes_the_count_of_a_lone_term_from_the_search(customers):
    from django.test.utils import CaptureQueriesContext

    from creditfile.customers.filters import capped_page

    for q in ["科技", "华信科技", "hxkj", "13"]:
        queryset = search_customers(Customer.objects.all(), q).order_by("name", "pk")
        with CaptureQueriesContext(connection) as queries:
            page = capped_page(queryset, 1, per_page=2, cap=50)
        assert page.count == min(51, len(brute_force(q))), q
        if connection.vendor == "sqlite" and q != "13":
            assert not [s for s in queries.captured_queries if "COUNT(" in s["sql"].upper()], q
