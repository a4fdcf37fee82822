"""POST /api/v1/credit-checks: the ERP's question before it releases an order."""

import json

import pytest

from creditfile.core.models import ApiToken
from creditfile.receivables.models import Exposure, SalesOrder
from creditfile.receivables.testing import credit_customer

URL = "/api/v1/credit-checks"


@pytest.fixture
def post(client, org):
    def as_user(username, body):
        _token, key = ApiToken.issue(getattr(org, username), "tests")
        return client.post(
            URL,
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )

    return as_user


@pytest.fixture
def customer(org):
    return credit_customer(org.cathy, "100000", owner=org.alice)


def test_a_released_check_answers_with_the_exposure(post, customer):
    response = post(
        "alice",
        {
            "customer_id": customer.pk,
            "order_ref": "SO-1",
            "amount": "60000.00",
            "on_date": "2026-06-30",
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["released"] is True and body["status"] == "released" and body["reasons"] == []
    assert (body["limit"], body["open_orders"], body["utilisation_percent"]) == (
        "100000.00",
        "60000.00",
        "60.0",
    )
    assert SalesOrder.objects.get(pk=body["order_id"]).source == "api"


def test_a_blocked_check_gives_every_reason(post, customer):
    post("alice", {"customer_id": customer.pk, "order_ref": "SO-1", "amount": "60000.00"})
    body = post(
        "alice", {"customer_id": customer.pk, "order_ref": "SO-2", "amount": "50000.00"}
    ).json()

    assert body["released"] is False and body["status"] == "blocked"
    assert [(r["code"], r["amount"]) for r in body["reasons"]] == [("over_limit", "10000.00")]
    assert Exposure.objects.get(customer=customer).open_orders == 60000


def test_it_names_the_field_of_bad_input(post, customer):
    response = post(
        "alice",
        {
            "customer_id": customer.pk,
            "order_ref": "SO-1",
            "amount": "10.00",
            "currency": "USD",
            "rate": "-1",
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "rate"
    assert not SalesOrder.objects.exists()


def test_another_reps_customer_is_not_found_and_an_auditor_may_not_check(post, customer):
    body = {"customer_id": customer.pk, "order_ref": "SO-1", "amount": "1.00"}
    assert post("walt", body).status_code == 404
    assert post("audrey", body).status_code == 403
    assert not SalesOrder.objects.exists()
