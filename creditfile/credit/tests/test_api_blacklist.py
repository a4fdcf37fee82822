"""REST API /api/v1/credit/blacklist: propose, approve, lift — each by a second person."""

import pytest
import time_machine

from creditfile.credit.choices import BlacklistState
from creditfile.credit.models import BlacklistEntry
from creditfile.credit.services import sanctions
from creditfile.credit.tests.test_api_workflow import TODAY, Api
from creditfile.customers.testing import make_customer


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def api(client, org):
    tokens = {}

    def as_user(username):
        if username not in tokens:
            tokens[username] = Api(client, getattr(org, username))
        return tokens[username]

    return as_user


@pytest.fixture
def customer(org):
    return make_customer("爱丽丝客户有限公司", owner=org.alice)


PROPOSAL = {"reason": "恶意拖欠货款逾半年", "evidence": "催收记录三份"}


def propose(api, customer, username="carl"):
    response = api(username).post(f"/customers/{customer.pk}/blacklist", PROPOSAL)
    assert response.status_code == 201, response.content
    return response.json()


def test_it_lists_a_customer_only_after_a_second_person_approves(api, customer):
    entry = propose(api, customer)
    assert entry["state"] == "proposed"
    assert entry["proposed_by"] == "carl"
    assert not sanctions.is_blacklisted(customer)

    response = api("cathy").post(f"/blacklist/{entry['id']}/approve", {"note": "同意"})

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "listed"
    assert response.json()["approved_by"] == "cathy"
    assert sanctions.is_blacklisted(customer)
    assert sanctions.is_credit_stopped(customer)


def test_it_keeps_the_proposer_from_approving_their_own_proposal(api, customer):
    entry = propose(api, customer, "cathy")

    response = api("cathy").post(f"/blacklist/{entry['id']}/approve", {})

    assert response.status_code == 403
    assert BlacklistEntry.objects.get().state == BlacklistState.PROPOSED


def test_it_refuses_approval_by_a_role_without_approval_rights(api, customer):
    entry = propose(api, customer)

    assert api("carl").post(f"/blacklist/{entry['id']}/approve", {}).status_code == 403
    assert api("alice").post(f"/blacklist/{entry['id']}/approve", {}).status_code == 403


def test_it_refuses_a_second_open_proposal(api, customer):
    propose(api, customer)

    response = api("carl").post(f"/customers/{customer.pk}/blacklist", PROPOSAL)

    assert response.status_code == 409
    assert BlacklistEntry.objects.count() == 1


def test_it_needs_a_reason_to_propose_and_a_note_to_reject(api, customer):
    response = api("carl").post(f"/customers/{customer.pk}/blacklist", {"reason": " "})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "reason"

    entry = propose(api, customer)
    response = api("cathy").post(f"/blacklist/{entry['id']}/reject", {"note": ""})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "note"

    response = api("cathy").post(f"/blacklist/{entry['id']}/reject", {"note": "证据不足"})
    assert response.json()["state"] == "rejected"


def test_it_lifts_a_listing_through_a_proposal_and_a_second_approval(api, customer):
    entry = propose(api, customer)
    api("cathy").post(f"/blacklist/{entry['id']}/approve", {})

    body = api("carl").post(f"/blacklist/{entry['id']}/propose-lift", {"reason": "已结清欠款"})
    assert body.json()["state"] == "lift_proposed"
    assert sanctions.is_blacklisted(customer)
    assert api("carl").post(f"/blacklist/{entry['id']}/approve-lift", {}).status_code == 403

    response = api("victor").post(f"/blacklist/{entry['id']}/approve-lift", {"note": "同意"})

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "lifted"
    assert response.json()["lifted_by"] == "victor"
    assert not sanctions.is_blacklisted(customer)


def test_it_refuses_to_lift_what_is_not_listed(api, customer):
    entry = propose(api, customer)

    response = api("carl").post(f"/blacklist/{entry['id']}/propose-lift", {"reason": "x"})

    assert response.status_code == 409


def test_it_keeps_the_blacklist_of_hidden_customers_hidden(api, org, customer):
    entry = propose(api, customer)

    assert api("walt").get("/blacklist").json()["count"] == 0
    assert api("walt").post(f"/blacklist/{entry['id']}/approve", {}).status_code == 404
    assert api("walt").post(f"/customers/{customer.pk}/blacklist", PROPOSAL).status_code == 404
    assert [e["id"] for e in api("alice").get("/blacklist").json()["items"]] == [entry["id"]]
    assert api("audrey").get("/blacklist", {"state": "listed"}).json()["count"] == 0
