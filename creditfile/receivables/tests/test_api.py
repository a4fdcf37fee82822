"""POST /api/v1/credit-checks: the ERP's question before it releases an order."""

import json
from decimal import Decimal

import pytest

from creditfile.core.models import ApiToken
from creditfile.receivables.models import Exposure, Invoice, SalesOrder
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


def post_documents(client, org, username, kind, rows):
    _token, key = ApiToken.issue(getattr(org, username), "tests")
    return client.post(
        f"/api/v1/receivables/{kind}",
        json.dumps(rows),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_finance_posts_a_batch_of_invoices_and_payments(client, org, customer):
    invoices = [
        {
            "customer_id": customer.pk,
            "number": f"INV-{n}",
            "invoice_date": "2026-06-01",
            "amount": "100.00",
        }
        for n in range(3)
    ]
    response = post_documents(client, org, "fiona", "invoices", invoices)
    assert response.status_code == 200 and response.json()["posted"] == 3

    payment = [
        {
            "customer_id": customer.pk,
            "number": "PAY-1",
            "received_on": "2026-06-10",
            "amount": "150.00",
            "reference": "INV-2",
        }
    ]
    assert post_documents(client, org, "fiona", "payments", payment).json()["posted"] == 1
    assert Exposure.objects.get(customer=customer).open_receivables == Decimal("150.00")
    # posting the same batch again updates, never duplicates
    assert post_documents(client, org, "fiona", "invoices", invoices).status_code == 200
    assert Invoice.objects.count() == 3


def test_a_batch_with_bad_rows_names_every_one_and_keeps_nothing(client, org, customer):
    rows = [
        {
            "customer_id": customer.pk,
            "number": "INV-1",
            "invoice_date": "2026-06-01",
            "amount": "100.00",
        },
        {
            "customer_id": customer.pk,
            "number": "INV-2",
            "invoice_date": "2026-06-01",
            "amount": "100.00",
            "due_date": "2026-05-01",
        },
        {"customer_id": 999999, "number": "INV-3", "invoice_date": "2026-06-01", "amount": "1.00"},
    ]
    response = post_documents(client, org, "fiona", "invoices", rows)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == ["1.due_date", "2.customer_id"]
    assert not Invoice.objects.exists()
    assert not Exposure.objects.filter(open_receivables__gt=0).exists()


def test_a_sales_rep_may_not_post_invoices(client, org, customer):
    rows = [
        {
            "customer_id": customer.pk,
            "number": "INV-1",
            "invoice_date": "2026-06-01",
            "amount": "1.00",
        }
    ]
    assert post_documents(client, org, "alice", "invoices", rows).status_code == 403


def _call(client, org, username, url, body):
    _token, key = ApiToken.issue(getattr(org, username), "tests")
    return client.post(
        url,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_the_step_is_part_of_the_question_and_of_the_answer(client, org, customer):
    from creditfile.core.models import Company
    from creditfile.receivables.models import CreditControl

    CreditControl.objects.create(
        company=Company.default(), check_on_entry=False, check_on_release=True
    )
    body = {"customer_id": customer.pk, "order_ref": "SO-1", "amount": "150000.00"}
    entered = _call(client, org, "alice", URL, body | {"point": "entry"}).json()
    assert (entered["checked"], entered["status"], entered["stage"]) == (False, "entered", "entry")
    released = _call(client, org, "alice", URL, body | {"point": "release"}).json()
    assert (released["checked"], released["status"]) == (True, "blocked")
    assert _call(client, org, "alice", URL, body | {"point": "shipped"}).status_code == 422


def test_closing_reopening_and_copying_an_order_over_the_api(client, org, customer):
    first = _call(
        client,
        org,
        "alice",
        URL,
        {"customer_id": customer.pk, "order_ref": "SO-1", "amount": "70000.00"},
    ).json()
    base = f"/api/v1/receivables/orders/{first['order_id']}"
    closed = _call(client, org, "alice", f"{base}/cancel", {"reason": "客户取消"})
    assert closed.status_code == 200 and closed.json()["open_orders"] == "0.00"

    copied = _call(client, org, "alice", f"{base}/copy", {"order_ref": "SO-2"}).json()
    assert copied["released"] and copied["open_orders"] == "70000.00"

    reopened = _call(client, org, "alice", f"{base}/reopen", {}).json()
    assert not reopened["released"] and reopened["reasons"][0]["code"] == "over_limit"
    assert Exposure.objects.get(customer=customer).open_orders == Decimal("70000.00")

    refused = _call(client, org, "alice", f"{base}/copy", {"order_ref": "SO-2"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "order_ref"
    # Another region's rep cannot find the order; an archivist may not act on orders.
    assert _call(client, org, "walt", f"{base}/cancel", {}).status_code == 404
    assert _call(client, org, "arthur", f"{base}/cancel", {}).status_code == 403
