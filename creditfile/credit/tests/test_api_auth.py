"""REST API /api/v1/credit: nothing without a token or session, and the schema documents it."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from creditfile.core.models import ApiToken
from creditfile.credit.api import workflow_error_response
from creditfile.credit.models import CreditApplication
from creditfile.credit.services import workflow
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.testing import make_customer

ACTIONS = [
    "submit",
    "refuse",
    "refusal-decision",
    "investigate",
    "site-survey",
    "pre-contract-review",
    "complete-investigation",
    "evaluation-form",
    "score",
    "submit-for-approval",
    "decide",
    "request-info",
    "resume",
    "grant",
    "withdraw",
    "letter",
]

READS = [
    "/applications",
    "/applications/{pk}",
    "/evaluations/1",
    "/customers/{customer}/credit",
    "/lines",
    "/reviews",
    "/blacklist",
    "/letters/1",
    "/letters/1/pdf",
]

WRITES = [
    "/applications",
    *[f"/applications/{{pk}}/{action}" for action in ACTIONS],
    "/customers/{customer}/reviews",
    "/customers/{customer}/blacklist",
    "/blacklist/1/approve",
    "/blacklist/1/reject",
    "/blacklist/1/propose-lift",
    "/blacklist/1/approve-lift",
    "/blacklist/1/reject-lift",
]


@pytest.fixture
def application(org):
    customer = make_customer("爱丽丝客户有限公司", owner=org.alice)
    return workflow.create_application(
        customer, org.alice, requested_limit=1000, requested_term_days=30
    )


def _url(path, application):
    return "/api/v1/credit" + path.format(pk=application.pk, customer=application.customer_id)


@pytest.mark.parametrize("authorization", [None, "Bearer cf_not-a-real-key", "Token x"])
def test_it_answers_401_to_every_endpoint_without_a_valid_token(client, application, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for path in READS:
        response = client.get(_url(path, application), headers=headers)
        assert response.status_code == 401, path
    for path in WRITES:
        response = client.post(
            _url(path, application), "{}", content_type="application/json", headers=headers
        )
        assert response.status_code == 401, path
        assert response.json() == {"detail": "Unauthorized"}
    assert CreditApplication.objects.get().state == "draft"


def test_it_accepts_a_bearer_token_and_acts_as_its_owner(client, org, application):
    _token, key = ApiToken.issue(org.alice, "tests")

    response = client.post(
        _url("/applications/{pk}/submit", application),
        json.dumps({"comment": "经令牌提交"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 200
    step = application.steps.get(action="submit")
    assert step.actor == org.alice
    assert step.comment == "经令牌提交"


def test_it_refuses_a_revoked_token(client, org, application):
    token, key = ApiToken.issue(org.alice, "old")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())

    response = client.get(
        _url("/applications", application), headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code == 401


def test_it_serves_a_signed_in_browser_session(client, org, application):
    client.force_login(org.alice)

    response = client.get(_url("/applications/{pk}", application))

    assert response.status_code == 200
    assert response.json()["number"] == application.number


def test_it_checks_csrf_on_session_writes(org, application):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.alice)

    response = browser.post(
        _url("/applications/{pk}/submit", application), "{}", content_type="application/json"
    )

    assert response.status_code == 403
    assert CreditApplication.objects.get().state == "draft"


@pytest.mark.parametrize(
    ("code", "status"), [("forbidden", 403), ("state", 409), ("config", 409), ("invalid", 422)]
)
def test_it_maps_each_workflow_error_code_to_its_status(code, status):
    answered, body = workflow_error_response(WorkflowError("不行", code, "limit"))

    assert answered == status
    if status == 422:
        assert body == {"detail": [{"field": "limit", "message": "不行"}]}
    else:
        assert body == {"detail": "不行"}


def test_the_openapi_schema_documents_every_credit_endpoint(client, org):
    _token, key = ApiToken.issue(org.audrey, "schema")

    response = client.get(reverse("api-1:openapi-json"), headers={"Authorization": f"Bearer {key}"})

    schema = response.json()
    paths = schema["paths"]
    prefix = "/api/v1/credit"
    for action in ACTIONS:
        operation = paths[f"{prefix}/applications/{{application_id}}/{action}"]["post"]
        assert operation["tags"] == ["credit"]
        assert " · " in operation["summary"]  # Chinese · English
    for path in [
        "/applications",
        "/applications/{application_id}",
        "/evaluations/{evaluation_id}",
        "/customers/{customer_id}/credit",
        "/lines",
        "/reviews",
        "/customers/{customer_id}/reviews",
        "/blacklist",
        "/customers/{customer_id}/blacklist",
        "/blacklist/{entry_id}/approve",
        "/blacklist/{entry_id}/propose-lift",
        "/blacklist/{entry_id}/approve-lift",
        "/letters/{letter_id}/pdf",
        "/letters/{letter_id}/docx",
    ]:
        assert prefix + path in paths, path
    decide = paths[f"{prefix}/applications/{{application_id}}/decide"]["post"]
    assert set(decide["responses"]) >= {"200", "403", "404", "409", "422"}
    components = schema["components"]["schemas"]
    limit = components["DecideIn"]["properties"]["limit"]
    assert {"type": "string", "format": "decimal"}.items() <= limit["anyOf"][0].items()
    requested = components["ApplicationIn"]["properties"]["requested_limit"]
    assert requested["type"] == "string"
    assert "申请额度" in requested["description"]
