"""REST API /api/v1/customers: visibility for every fixed role, validation, money, history."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from creditfile.core.models import ApiToken, ObjectChange
from creditfile.core.testing import PEOPLE
from creditfile.core.validators import uscc_check_digit
from creditfile.customers.models import Customer, Industry, Region
from creditfile.customers.services.verification import verify_section
from creditfile.customers.testing import make_customer, valid_uscc

# Who sees which of the three customers: alice's, bob's (both sales_east), walt's (west).
EXPECTED_VIEW = {
    "alice": {"alice"},
    "bob": {"bob"},
    "walt": {"walt"},
    "mary": {"alice", "bob"},
    "wendy": {"walt"},
    # Not readers by work (access/policy.py): they see stubs, the API nothing.
    "arthur": set(),
    "adam": set(),
}
SEE_ALL = {"carl", "cathy", "fiona", "dora", "victor", "george", "audrey"}
# Roles that may edit a customer through the API: the rule's editors holding change_customer.
EDIT_ALL = {"carl", "cathy", "dora"}
CREATORS = {"alice", "bob", "walt", "mary", "wendy", "carl", "cathy", "dora"}


class Api:
    """The test client speaking to /api/v1 with one user's bearer token."""

    def __init__(self, client, user):
        self.client = client
        _token, self.key = ApiToken.issue(user, "tests")
        self.headers = {"Authorization": f"Bearer {self.key}"}

    def get(self, path, params=None):
        return self.client.get(f"/api/v1{path}", params or {}, headers=self.headers)

    def post(self, path, data):
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(data),
            content_type="application/json",
            headers=self.headers,
        )

    def patch(self, path, data):
        return self.client.patch(
            f"/api/v1{path}",
            json.dumps(data),
            content_type="application/json",
            headers=self.headers,
        )


@pytest.fixture
def api(client, org):
    return lambda username: Api(client, getattr(org, username))


@pytest.fixture
def files(org):
    return {
        owner: make_customer(f"{owner}的客户有限公司", owner=getattr(org, owner))
        for owner in ("alice", "bob", "walt")
    }


def _visible_owners(username):
    return {"alice", "bob", "walt"} if username in SEE_ALL else EXPECTED_VIEW[username]


def test_the_matrix_covers_every_fixed_person():
    assert set(EXPECTED_VIEW) | SEE_ALL == set(PEOPLE)
    assert not set(EXPECTED_VIEW) & SEE_ALL
    assert len(PEOPLE) == 14


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_it_lists_exactly_the_customers_each_role_may_see(api, files, username):
    response = api(username).get("/customers")

    assert response.status_code == 200
    body = response.json()
    assert {item["id"] for item in body["items"]} == {
        files[o].pk for o in _visible_owners(username)
    }
    assert body["count"] == len(_visible_owners(username))


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_it_reads_a_visible_customer_and_hides_the_others_as_404(api, files, username):
    caller = api(username)
    for owner, customer in files.items():
        response = caller.get(f"/customers/{customer.pk}")
        if owner in _visible_owners(username):
            assert response.status_code == 200, owner
            assert response.json()["name"] == customer.name
        else:
            assert response.status_code == 404, owner
            assert response.json() == {"detail": "Not Found"}


def test_it_hides_another_reps_customer_from_a_sales_rep_by_api_id(api, files):
    alice = api("alice")

    assert alice.get(f"/customers/{files['bob'].pk}").status_code == 404
    assert alice.get(f"/customers/{files['walt'].pk}").status_code == 404
    assert alice.get(f"/customers/{files['walt'].pk}/contacts").status_code == 404
    assert alice.get(f"/customers/{files['walt'].pk}/attachments").status_code == 404
    assert (
        alice.patch(f"/customers/{files['walt'].pk}", {"phone": "13800138000"}).status_code == 404
    )


def test_it_hides_another_reps_customer_by_web_url_as_well(client, org, files):
    client.force_login(org.alice)

    own = client.get(reverse("customers:detail", args=[files["alice"].pk]))
    other = client.get(reverse("customers:detail", args=[files["walt"].pk]))

    assert own.status_code == 200
    # The stub: name, code and grade only, and the way to ask (access/policy.py).
    assert other.status_code == 403
    assert "申请查阅" in other.content.decode()
    assert files["walt"].phone == "" or files["walt"].phone not in other.content.decode()


def test_it_refuses_an_empty_name(api, files):
    response = api("alice").patch(f"/customers/{files['alice'].pk}", {"name": ""})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["name"]


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_it_lets_each_role_update_exactly_what_it_may_edit(api, files, username):
    caller = api(username)
    for owner, customer in files.items():
        response = caller.patch(f"/customers/{customer.pk}", {"short_name": f"by {username}"})
        customer.refresh_from_db()
        if owner not in _visible_owners(username):
            assert response.status_code == 404, owner
        elif username in EDIT_ALL or username in EXPECTED_VIEW:
            assert response.status_code == 200, owner
            assert customer.short_name == f"by {username}"
        else:
            # Read-only roles (VP, GM, archivist, auditor) and finance, which may not edit
            # the basic registry data.
            assert response.status_code == 403, owner
            assert customer.short_name != f"by {username}"


def test_it_refuses_an_auditor_patch_with_403_and_changes_nothing(api, files):
    customer = files["alice"]

    response = api("audrey").patch(f"/customers/{customer.pk}", {"phone": "13800138000"})

    assert response.status_code == 403
    assert response.json() == {"detail": "Forbidden"}
    customer.refresh_from_db()
    assert customer.phone == ""


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_it_lets_exactly_the_filing_roles_create_a_customer_they_can_see(api, org, username):
    caller = api(username)
    uscc = valid_uscc()

    response = caller.post("/customers", {"name": f"{username}新建有限公司", "uscc": uscc})

    if username == "adam":
        # The administrator holds the permission but edits no file (access/policy.py): a
        # customer they could not edit once saved is refused, naming the field to change.
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["detail"]] == ["owner"]
        assert not Customer.objects.filter(uscc=uscc).exists()
        return
    if username not in CREATORS:
        assert response.status_code == 403
        assert not Customer.objects.filter(uscc=uscc).exists()
        return
    assert response.status_code == 201, response.content
    created = Customer.objects.get(uscc=uscc)
    assert response.json()["id"] == created.pk
    assert caller.get(f"/customers/{created.pk}").status_code == 200
    user = getattr(org, username)
    assert created.entered_by == user
    assert created.department == user.department
    if PEOPLE[username][1] == "sales_rep":
        assert created.owner == user
        assert response.json()["owner"] == username


def test_it_refuses_a_sales_rep_filing_a_customer_for_another_rep(api):
    uscc = valid_uscc()

    response = api("alice").post(
        "/customers", {"name": "转手有限公司", "uscc": uscc, "owner": "walt"}
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["owner"]
    assert not Customer.objects.filter(uscc=uscc).exists()


def test_it_lets_a_manager_file_a_customer_for_a_rep_of_the_department(api, org):
    response = api("mary").post(
        "/customers", {"name": "东区新客户", "uscc": valid_uscc(), "owner": "bob"}
    )

    assert response.status_code == 201
    created = Customer.objects.get(pk=response.json()["id"])
    assert created.owner == org.bob
    assert created.department == org.bob.department


def test_it_names_the_uscc_field_with_the_check_digit_message(api):
    first17 = "91440300MA5F00001"
    right = uscc_check_digit(first17)
    wrong = "0" if right != "0" else "1"

    response = api("alice").post("/customers", {"name": "校验位错误公司", "uscc": first17 + wrong})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["field"] == "uscc"
    assert "校验位错误" in error["message"]
    assert f"应为“{right}”" in error["message"]
    assert not Customer.objects.filter(name="校验位错误公司").exists()


def test_it_names_the_phone_field_for_a_bad_phone(api, files):
    customer = files["alice"]

    response = api("alice").patch(f"/customers/{customer.pk}", {"phone": "12345"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["phone"]
    customer.refresh_from_db()
    assert customer.phone == ""


def test_it_reports_every_bad_field_at_once(api):
    response = api("alice").post(
        "/customers",
        {
            "name": "多处错误公司",
            "uscc": valid_uscc(),
            "postcode": "12",
            "established_on": "2020-05-01",
            "first_trade_on": "2019-01-01",
            "industry": "NO-SUCH",
        },
    )

    assert response.status_code == 422
    assert {e["field"] for e in response.json()["detail"]} == {
        "postcode",
        "first_trade_on",
        "industry",
    }


def test_it_names_the_uscc_field_when_the_code_is_already_filed(api, files):
    response = api("bob").post("/customers", {"name": "重复公司", "uscc": files["walt"].uscc})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["uscc"]
    assert Customer.objects.filter(uscc=files["walt"].uscc).count() == 1


def test_it_names_missing_and_malformed_input_fields(api, files):
    alice = api("alice")

    missing = alice.post("/customers", {"uscc": valid_uscc()})
    bad_date = alice.patch(f"/customers/{files['alice'].pk}", {"established_on": "yesterday"})
    bad_filter = alice.get("/customers", {"lifecycle": "zombie"})

    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["detail"]] == ["name"]
    assert bad_date.status_code == 422
    assert [e["field"] for e in bad_date.json()["detail"]] == ["established_on"]
    assert bad_filter.status_code == 422
    assert [e["field"] for e in bad_filter.json()["detail"]] == ["lifecycle"]


def test_it_returns_money_as_decimal_strings(api):
    alice = api("alice")

    response = alice.post(
        "/customers",
        {
            "name": "金额公司",
            "uscc": valid_uscc(),
            "registered_capital": "5000000.10",
            "annual_sales": "123456789012.35",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["registered_capital"] == "5000000.10"
    assert body["annual_sales"] == "123456789012.35"
    assert body["total_assets"] is None
    created = Customer.objects.get(pk=body["id"])
    assert created.registered_capital == Decimal("5000000.10")
    listed = alice.get("/customers").json()["items"]
    assert [c["registered_capital"] for c in listed] == ["5000000.10"]


def test_it_refuses_money_sent_as_a_json_number(api, files):
    customer = files["alice"]

    response = api("alice").patch(f"/customers/{customer.pk}", {"registered_capital": 0.1})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["registered_capital"]
    customer.refresh_from_db()
    assert customer.registered_capital is None


def test_it_writes_dictionary_entries_by_code(api, files):
    Industry.objects.create(code="TEST-C26", name="测试化工")
    customer = files["alice"]

    response = api("alice").patch(f"/customers/{customer.pk}", {"industry": "TEST-C26"})

    assert response.status_code == 200
    assert response.json()["industry"] == "TEST-C26"
    customer.refresh_from_db()
    assert customer.industry.code == "TEST-C26"


def test_it_attributes_api_changes_to_the_token_user(api, org, files):
    customer = files["alice"]

    response = api("alice").patch(f"/customers/{customer.pk}", {"phone": "0571-88886666"})

    assert response.status_code == 200
    change = ObjectChange.objects.get(root_id=customer.pk, field="phone")
    assert change.user == org.alice
    assert change.actor == "api"
    assert change.new_value == "0571-88886666"
    assert response["X-Request-ID"] == change.request_id


def test_it_marks_a_changed_file_unverified_like_the_web_form(api, org, files):
    customer = files["alice"]
    verify_section(customer, org.carl)

    unchanged = api("alice").patch(f"/customers/{customer.pk}", {"phone": ""})
    customer.refresh_from_db()
    assert unchanged.json()["verified"] is True
    assert customer.verified_by == org.carl

    changed = api("alice").patch(f"/customers/{customer.pk}", {"phone": "13800138000"})
    customer.refresh_from_db()
    assert changed.json()["verified"] is False
    assert customer.verified_by is None
    assert customer.entered_by == org.alice


def test_it_attributes_an_api_create_to_the_token_user(api, org):
    response = api("carl").post("/customers", {"name": "新建记录公司", "uscc": valid_uscc()})

    change = ObjectChange.objects.get(root_id=response.json()["id"], action="create")
    assert change.user == org.carl
    assert change.actor == "api"


def test_it_filters_the_list_like_the_web_list(api, org, files):
    # The reference-data migration may already hold these regions; use them if so.
    zhejiang, _ = Region.objects.get_or_create(code="330000", defaults={"name": "浙江省"})
    hangzhou, _ = Region.objects.get_or_create(
        code="330100", defaults={"name": "杭州市", "parent": zhejiang, "level": 2}
    )
    xihu, _ = Region.objects.get_or_create(
        code="330106", defaults={"name": "西湖区", "parent": hangzhou, "level": 3}
    )
    industry = Industry.objects.create(code="TEST-F51", name="测试批发业")
    Customer.objects.filter(pk=files["alice"].pk).update(
        region=xihu, industry=industry, credit_grade="A", lifecycle="active"
    )
    cathy = api("cathy")

    def ids(**params):
        response = cathy.get("/customers", params)
        assert response.status_code == 200
        return {item["id"] for item in response.json()["items"]}

    assert ids(region="330000") == {files["alice"].pk}
    assert ids(region="330106") == {files["alice"].pk}
    assert ids(industry="TEST-F51") == {files["alice"].pk}
    assert ids(credit_grade="A") == {files["alice"].pk}
    assert ids(lifecycle="active") == {files["alice"].pk}
    assert ids(owner="walt") == {files["walt"].pk}
    assert ids(q="bob的客户") == {files["bob"].pk}
    assert ids(q=files["walt"].uscc) == {files["walt"].pk}
    assert ids(credit_grade="none") == {files["bob"].pk, files["walt"].pk}
    assert ids(department="sales_east") == {files["alice"].pk, files["bob"].pk}
    assert api("bob").get("/customers", {"owner": "me"}).json()["count"] == 1


def test_it_sorts_the_list_like_the_web_list(api, files):
    response = api("cathy").get("/customers", {"sort": "-name"})

    names = [item["name"] for item in response.json()["items"]]
    assert names == sorted(names, reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"industry": "NO-SUCH"}, "industry"),
        ({"owner": "nobody"}, "owner"),
        ({"owner": "walt"}, "owner"),  # alice may not filter by someone she cannot see
        ({"region": "999999"}, "region"),
        ({"credit_grade": "E"}, "credit_grade"),
    ],
)
def test_it_names_the_bad_filter(api, files, params, field):
    response = api("alice").get("/customers", params)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == [field]


def test_it_searches_only_within_what_the_caller_may_see(api, files):
    response = api("alice").get("/customers", {"q": files["walt"].uscc})

    assert response.json() == {"items": [], "count": 0}


def test_it_pages_the_list_and_caps_the_page_size_at_200(api, org):
    Customer.objects.bulk_create(
        Customer(name=f"批量客户{n:03d}", uscc=None, source="internal", owner=org.alice)
        for n in range(205)
    )
    cathy = api("cathy")

    first = cathy.get("/customers", {"page_size": 1000}).json()
    default = cathy.get("/customers").json()
    last = cathy.get("/customers", {"page_size": 200, "page": 2}).json()

    assert first["count"] == 205
    assert len(first["items"]) == 200
    assert len(default["items"]) == 50
    assert len(last["items"]) == 5


def test_it_lists_a_page_in_a_fixed_number_of_queries(api, org, files):
    cathy = api("cathy")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert cathy.get("/customers").status_code == 200
        return len(captured)

    few = queries()
    for n in range(10):
        make_customer(f"更多客户{n}", owner=org.walt, region=Region.objects.first())
    assert queries() == few
