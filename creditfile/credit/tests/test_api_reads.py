"""REST API /api/v1/credit: lists, evaluations, a customer's credit, line history, reviews.

Visibility follows the customer file: what a user cannot see there is a 404 here, and
lists only ever hold records of visible customers.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from creditfile.core.models import Company
from creditfile.credit.choices import ApplicationState as S
from creditfile.credit.choices import LineStatus
from creditfile.credit.models import (
    CreditApplication,
    CreditGroup,
    CreditLine,
    CreditReview,
    Evaluation,
    TemporaryLimit,
)
from creditfile.credit.services import workflow
from creditfile.credit.services.scoring import stored_factors
from creditfile.credit.tests.test_api_workflow import (
    FORM,
    TODAY,
    Api,
    act,
    approve_all,
    walk,
)
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


def draft(customer, user, limit="100000", **fields):
    return workflow.create_application(
        customer, user, requested_limit=Decimal(limit), requested_term_days=30, **fields
    )


# -- the application list ------------------------------------------------------------------


def test_it_lists_only_applications_of_visible_customers(api, org, customer):
    walts = make_customer("沃尔特客户有限公司", owner=org.walt)
    mine = draft(customer, org.alice)
    theirs = draft(walts, org.walt)

    def ids(username):
        body = api(username).get("/applications").json()
        assert body["count"] == len(body["items"])
        return {item["id"] for item in body["items"]}

    assert ids("alice") == {mine.pk}
    assert ids("bob") == set()
    assert ids("mary") == {mine.pk}
    assert ids("walt") == {theirs.pk}
    assert ids("audrey") == {mine.pk, theirs.pk}


def test_it_filters_the_list_by_state_kind_and_customer(api, org, customer):
    other = make_customer("另一家有限公司", owner=org.alice)
    submitted = draft(customer, org.alice)
    workflow.submit(submitted, org.alice)
    temporary = draft(
        customer, org.alice, kind="temporary", temporary_until=datetime.date(2027, 1, 31)
    )
    elsewhere = draft(other, org.alice)

    def ids(**params):
        return {item["id"] for item in api("carl").get("/applications", params).json()["items"]}

    assert ids(state="submitted") == {submitted.pk}
    assert ids(state="draft") == {temporary.pk, elsewhere.pk}
    assert ids(kind="temporary") == {temporary.pk}
    assert ids(customer_id=other.pk) == {elsewhere.pk}
    assert ids(customer_id=customer.pk, state="draft") == {temporary.pk}


def test_it_names_a_bad_filter_value(api, org):
    response = api("carl").get("/applications", {"state": "sleeping"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "state"


def test_it_pages_the_list(api, org, customer):
    for _n in range(3):
        draft(customer, org.alice)

    body = api("carl").get("/applications", {"page": 2, "page_size": 2}).json()

    assert body["count"] == 3
    assert len(body["items"]) == 1


def test_it_hides_an_application_and_its_actions_from_outsiders(api, org, customer):
    application = draft(customer, org.alice)

    assert api("walt").get(f"/applications/{application.pk}").status_code == 404
    response = api("walt").post(f"/applications/{application.pk}/withdraw", {"reason": "x"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert CreditApplication.objects.get(pk=application.pk).state == S.DRAFT
    assert api("alice").get(f"/applications/{application.pk}").status_code == 200


def test_it_answers_404_for_an_application_that_does_not_exist(api, org):
    assert api("carl").get("/applications/999999").status_code == 404


def test_it_answers_404_when_applying_for_a_hidden_customer(api, org, customer):
    response = api("walt").post(
        "/applications",
        {"customer_id": customer.pk, "requested_limit": "1000.00", "requested_term_days": 30},
    )

    assert response.status_code == 404
    assert not CreditApplication.objects.exists()


# -- evaluations ---------------------------------------------------------------------------


def test_it_explains_an_evaluation_factor_by_factor(api, org, customer):
    pk = walk(api, customer, S.EVALUATING)
    act(api, "alice", pk, "evaluation-form", FORM)
    scored = act(api, "fiona", pk, "score", {"comment": "同意"}, status=201)
    evaluation = Evaluation.objects.get(pk=scored["id"])

    body = api("audrey").get(f"/evaluations/{evaluation.pk}").json()

    assert body["customer_id"] == customer.pk
    assert body["application_id"] == pk
    assert body["scorecard_version"] == evaluation.scorecard.version
    assert body["inputs"] == evaluation.inputs
    rows = stored_factors(evaluation)
    assert [f["code"] for f in body["factors"]] == [r.code for r in rows]
    first = body["factors"][0]
    assert first["points"] == str(rows[0].points)
    assert first["weight"] == str(rows[0].weight)
    assert first["reason"] == rows[0].reason
    assert api("walt").get(f"/evaluations/{evaluation.pk}").status_code == 404


# -- a customer's credit and the line history ----------------------------------------------


def line(customer, user, limit, company=None, status=LineStatus.ACTIVE, **fields):
    fields.setdefault("valid_from", datetime.date(2026, 1, 1))
    return CreditLine.objects.create(
        customer=customer,
        company=company,
        status=status,
        grade=fields.pop("grade", "B"),
        limit=Decimal(limit),
        term_days=fields.pop("term_days", 60),
        granted_by=user,
        **fields,
    )


def test_it_shows_a_customers_credit_per_company_with_group_line(api, org, customer):
    ours = Company.default()
    sister = Company.objects.create(name="华南子公司")
    current = line(customer, org.carl, "300000", ours)
    application = draft(customer, org.alice, kind="temporary", temporary_until=TODAY.date())
    TemporaryLimit.objects.create(
        line=current,
        amount=Decimal("50000"),
        valid_from=datetime.date(2026, 11, 1),
        valid_until=datetime.date(2026, 11, 30),
        application=application,
    )
    group = line(customer, org.carl, "500000", None)
    shared = CreditGroup.objects.create(name="同一实际控制人", limit=Decimal("800000"))
    shared.members.add(customer)

    body = api("alice").get(f"/customers/{customer.pk}/credit").json()

    by_company = {c["company_id"]: c for c in body["companies"]}
    assert by_company[ours.pk]["line"]["id"] == current.pk
    assert by_company[ours.pk]["line"]["limit"] == "300000.00"
    assert by_company[ours.pk]["temporary_amount"] == "50000.00"
    assert by_company[ours.pk]["available_limit"] == "350000.00"
    assert by_company[ours.pk]["line"]["temporary_limits"][0]["amount"] == "50000.00"
    assert by_company[sister.pk]["line"] is None
    assert by_company[sister.pk]["available_limit"] == "0.00"
    assert body["group_line"]["id"] == group.pk
    assert body["groups"][0]["limit"] == "800000.00"
    assert body["groups"][0]["member_ids"] == [customer.pk]
    assert body["latest_evaluation"] is None


def test_it_lets_the_temporary_limit_expire_by_itself(api, org, customer):
    current = line(customer, org.carl, "300000", Company.default())
    application = draft(customer, org.alice, kind="temporary", temporary_until=TODAY.date())
    TemporaryLimit.objects.create(
        line=current,
        amount=Decimal("50000"),
        valid_from=datetime.date(2026, 11, 1),
        valid_until=datetime.date(2026, 11, 30),
        application=application,
    )

    body = api("alice").get(f"/customers/{customer.pk}/credit", {"on_date": "2026-12-01"}).json()

    assert body["companies"][0]["temporary_amount"] == "0.00"
    assert body["companies"][0]["available_limit"] == "300000.00"


def test_it_hides_a_customers_credit_from_outsiders(api, org, customer):
    assert api("walt").get(f"/customers/{customer.pk}/credit").status_code == 404


def test_it_keeps_the_line_history_after_a_new_grant(api, org, customer):
    old = line(customer, org.carl, "100000", Company.default())
    pk = walk(api, customer, S.APPROVING)
    approve_all(api, pk)
    act(api, "carl", pk, "grant", {"valid_from": "2026-11-23"})

    body = api("alice").get("/lines", {"customer_id": customer.pk}).json()

    assert body["count"] == 2
    new, previous = body["items"]
    assert new["application_id"] == pk
    assert new["status"] == "active"
    assert new["limit"] == "300000.00"
    assert previous["id"] == old.pk
    assert previous["status"] == "superseded"
    assert previous["end_reason"]
    active = api("alice").get("/lines", {"customer_id": customer.pk, "status": "active"}).json()
    assert [item["id"] for item in active["items"]] == [new["id"]]
    credit = api("alice").get(f"/customers/{customer.pk}/credit").json()
    assert credit["companies"][0]["line"]["id"] == new["id"]
    assert credit["latest_evaluation"]["id"] == Evaluation.objects.get(application_id=pk).pk


def test_it_lists_lines_of_visible_customers_only(api, org, customer):
    walts = make_customer("沃尔特客户有限公司", owner=org.walt)
    mine = line(customer, org.carl, "1000")
    line(walts, org.carl, "2000")

    body = api("alice").get("/lines").json()

    assert [item["id"] for item in body["items"]] == [mine.pk]
    assert api("alice").get("/lines", {"customer_id": walts.pk}).json()["count"] == 0


# -- reviews -------------------------------------------------------------------------------


def review(customer, due_on, kind="quarterly", period=None, **fields):
    return CreditReview.objects.create(
        customer=customer, kind=kind, period=period or str(due_on), due_on=due_on, **fields
    )


def test_it_lists_reviews_due_and_overdue(api, org, customer):
    late = review(customer, datetime.date(2026, 11, 1))
    soon = review(customer, datetime.date(2026, 12, 31))
    review(customer, datetime.date(2026, 10, 1), state="done")
    walts = make_customer("沃尔特客户有限公司", owner=org.walt)
    review(walts, datetime.date(2026, 11, 2))

    due = api("alice").get("/reviews").json()
    overdue = api("alice").get("/reviews", {"overdue": True}).json()

    assert [item["id"] for item in due["items"]] == [late.pk, soon.pk]
    assert [item["overdue"] for item in due["items"]] == [True, False]
    assert [item["id"] for item in overdue["items"]] == [late.pk]
    assert api("carl").get("/reviews").json()["count"] == 3


def test_it_files_an_on_demand_review(api, org, customer):
    response = api("alice").post(
        f"/customers/{customer.pk}/reviews", {"reason": "客户更换实际控制人"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    created = CreditReview.objects.get(pk=body["id"])
    assert created.kind == "on_demand"
    assert body["due_on"] == "2026-12-07"
    assert body["reason"] == "客户更换实际控制人"


def test_it_refuses_a_second_on_demand_review_the_same_day(api, org, customer):
    api("carl").post(f"/customers/{customer.pk}/reviews", {"reason": "一"})

    response = api("carl").post(f"/customers/{customer.pk}/reviews", {"reason": "二"})

    assert response.status_code == 409
    assert CreditReview.objects.count() == 1


def test_it_needs_a_reason_for_an_on_demand_review(api, org, customer):
    response = api("carl").post(f"/customers/{customer.pk}/reviews", {"reason": " "})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "reason"


def test_it_refuses_an_on_demand_review_to_read_only_roles(api, org, customer):
    path = f"/customers/{customer.pk}/reviews"

    assert api("audrey").post(path, {"reason": "x"}).status_code == 403
    assert api("walt").post(path, {"reason": "x"}).status_code == 404
    assert not CreditReview.objects.exists()


def test_it_lists_applications_in_a_fixed_number_of_queries(api, org, customer):
    draft(customer, org.alice)
    api("carl").get("/applications")  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as one:
        assert api("carl").get("/applications").status_code == 200
    for _n in range(4):
        draft(make_customer(owner=org.alice), org.alice)
    with CaptureQueriesContext(connection) as five:
        assert api("carl").get("/applications").json()["count"] == 5

    assert len(five) == len(one)
