"""REST API: nothing without a valid token or session; the schema and docs work offline."""

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from creditfile.core.models import ApiToken
from creditfile.customers.models import Customer
from creditfile.customers.testing import make_customer, valid_uscc


@pytest.fixture
def customer(org):
    return make_customer("爱丽丝客户有限公司", owner=org.alice)


def _endpoints(customer):
    base = f"/api/v1/customers/{customer.pk}"
    return [
        ("get", "/api/v1/customers"),
        ("post", "/api/v1/customers"),
        ("get", base),
        ("patch", base),
        ("get", f"{base}/contacts"),
        ("post", f"{base}/contacts"),
        ("patch", f"{base}/contacts/1"),
        ("delete", f"{base}/contacts/1"),
        ("get", f"{base}/attachments"),
    ]


def _send(client, method, url, headers=None):
    if method == "get":
        return client.get(url, headers=headers or {})
    return getattr(client, method)(
        url, json.dumps({"name": "x"}), content_type="application/json", headers=headers or {}
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer cf_not-a-real-key", "Bearer ", "Token cf_whatever", "Basic YWxpY2U6eA=="],
)
def test_it_answers_401_to_every_endpoint_without_a_valid_token(client, customer, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for method, url in _endpoints(customer):
        response = _send(client, method, url, headers)
        assert response.status_code == 401, (method, url)
        assert response.json() == {"detail": "Unauthorized"}
    assert Customer.objects.count() == 1


def test_it_answers_401_to_a_revoked_token(client, org, customer):
    token, key = ApiToken.issue(org.alice, "old")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/customers", headers=headers).status_code == 200

    token.revoked_at = timezone.now()
    token.save()

    for method, url in _endpoints(customer):
        assert _send(client, method, url, headers).status_code == 401, (method, url)


def test_it_answers_401_to_the_token_of_a_deactivated_user(client, org, customer):
    _token, key = ApiToken.issue(org.alice, "leaver")
    org.alice.is_active = False
    org.alice.save()

    response = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 401


def test_it_records_when_a_token_was_last_used(client, org):
    token, key = ApiToken.issue(org.alice, "ERP")

    client.get("/api/v1/customers", headers={"Authorization": f"Bearer {key}"})

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_it_accepts_the_signed_in_session_with_its_csrf_token(org, customer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.alice)
    browser.get("/accounts/api-tokens/")  # sets the CSRF cookie, like any page
    csrf = browser.cookies["csrftoken"].value
    payload = json.dumps({"name": "会话新建公司", "uscc": valid_uscc()})

    listed = browser.get("/api/v1/customers")
    without_csrf = browser.post("/api/v1/customers", payload, content_type="application/json")
    with_csrf = browser.post(
        "/api/v1/customers", payload, content_type="application/json", headers={"X-CSRFToken": csrf}
    )

    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["items"]] == [customer.pk]
    assert without_csrf.status_code == 403
    assert with_csrf.status_code == 201
    assert Customer.objects.filter(name="会话新建公司").count() == 1


def test_it_serves_a_valid_openapi_schema_naming_every_path(client, org):
    _token, key = ApiToken.issue(org.alice, "docs")

    response = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["info"]["title"] == "CreditFile API"
    assert schema["info"]["version"] == "1"
    customer_paths = {path for path in schema["paths"] if path.startswith("/api/v1/customers")}
    assert customer_paths == {
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/contacts",
        "/api/v1/customers/{customer_id}/contacts/{contact_id}",
        "/api/v1/customers/{customer_id}/attachments",
        "/api/v1/customers/{customer_id}/key-persons",
        "/api/v1/customers/{customer_id}/key-persons/{person_id}/reveal",
    }
    assert set(schema["paths"]["/api/v1/customers"]) == {"get", "post"}
    money = schema["components"]["schemas"]["CustomerOut"]["properties"]["registered_capital"]
    assert {"type": "string", "format": "decimal"}.items() <= money["anyOf"][0].items()
    assert "bearer" in json.dumps(schema["components"]["securitySchemes"]).lower()


def test_it_keeps_the_schema_and_docs_from_anonymous_callers(client):
    assert client.get("/api/v1/openapi.json").status_code == 401
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 302
    assert docs["Location"].startswith("/accounts/login/")


def test_it_serves_the_docs_page_from_local_static_files_only(client, org):
    client.force_login(org.alice)

    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert all(a.startswith("/static/") for a in assets), assets
    assert "//" not in "".join(assets)
    assert "cdn" not in html.lower()
    settings = json.loads(re.search(r'id="swagger-settings">(.*?)</script>', html, re.S).group(1))
    assert settings["url"] == "/api/v1/openapi.json"
    assert settings["validatorUrl"] is None  # no badge fetched from validator.swagger.io
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        if hasattr(served, "close"):
            served.close()
