"""REST API /api/v1/credit/applications: every workflow step moves the state and is recorded.

The workflow rules themselves are tested on the services; here each endpoint must call
them, answer the application as it now stands, and map a refusal to the right status:
forbidden → 403, wrong state → 409, missing input → 422 naming the field.
"""

import datetime
import io
import json

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from creditfile.access.models import AuditEvent
from creditfile.core.models import ApiToken, Company, ObjectChange
from creditfile.credit.choices import ApplicationState as S
from creditfile.credit.models import (
    ApplicationStep,
    ApprovalRule,
    CreditApplication,
    CreditLine,
    CustomerRefusal,
    Evaluation,
    PreContractReview,
    ReplyLetter,
    SiteSurvey,
)
from creditfile.customers.services.attachments import add_attachment
from creditfile.customers.testing import make_customer

TODAY = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


class Api:
    """The test client speaking to /api/v1/credit with one user's bearer token."""

    def __init__(self, client, user):
        self.client = client
        _token, key = ApiToken.issue(user, "tests")
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, path, params=None):
        return self.client.get(f"/api/v1/credit{path}", params or {}, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(
            f"/api/v1/credit{path}",
            json.dumps(data or {}),
            content_type="application/json",
            headers=self.headers,
        )


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


NEW_APPLICATION = {"requested_limit": "300000.00", "requested_term_days": 60, "purpose": "新客户"}

SURVEY = {
    "visited_on": "2026-11-20",
    "people_met": "张总经理、财务李经理",
    "financial_condition": "资金周转正常",
    "import_export_rights": True,
    "impression": "经营稳健，建议授信",
}

REVIEW_PASSED = {
    "legal_standing_ok": True,
    "legal_standing_note": "营业执照已核验",
    "agent_authority_ok": True,
    "capacity_ok": True,
    "documents_authentic": True,
}

FORM = {
    "industry_reputation": "good",
    "cooperation_attitude": "good",
    "management_quality": "fair",
    "expected_annual_purchases": "1200000.00",
    "remarks": "老客户介绍",
}


def signed_form(customer, user):
    upload = SimpleUploadedFile("form.pdf", b"%PDF-1.4 signed form", "application/pdf")
    return add_attachment(
        customer,
        upload,
        category="application",
        title="信用申请表",
        document_date=datetime.date(2026, 11, 20),
        user=user,
    )


def create(api, customer, **changes):
    response = api("alice").post(
        "/applications", {**NEW_APPLICATION, "customer_id": customer.pk, **changes}
    )
    assert response.status_code == 201, response.content
    return response.json()


def act(api, username, pk, action, data=None, status=200):
    response = api(username).post(f"/applications/{pk}/{action}", data or {})
    assert response.status_code == status, (action, response.content)
    return response.json()


def walk(api, customer, to_state, **changes):
    """Drive a new application through the API to `to_state`; returns its id."""
    pk = create(api, customer, **changes)["id"]
    path = [
        (S.SUBMITTED, "alice", "submit", {"comment": "请审批"}),
        (S.INVESTIGATING, "carl", "investigate", {}),
        (None, "alice", "site-survey", SURVEY),
        (None, "carl", "pre-contract-review", REVIEW_PASSED),
        (S.EVALUATING, "carl", "complete-investigation", {"comment": "调查完毕"}),
        (None, "alice", "evaluation-form", FORM),
        (None, "fiona", "score", {"comment": "同意"}),
        (S.APPROVING, "fiona", "submit-for-approval", {}),
    ]
    for state, username, action, data in path:
        if CreditApplication.objects.get(pk=pk).state == to_state:
            return pk
        act(api, username, pk, action, data, status=201 if action == "score" else 200)
        if state:
            assert CreditApplication.objects.get(pk=pk).state == state
    assert to_state == S.APPROVING
    return pk


APPROVER_FOR_ROLE = {"credit_manager": "cathy", "vp": "victor", "general_manager": "george"}


def approve_all(api, pk):
    """Sign every level the matrix asks for, as the fixed person holding its role."""
    detail = api("cathy").get(f"/applications/{pk}").json()
    while detail["state"] == S.APPROVING:
        role = detail["pending_level"]["role"]
        detail = act(api, APPROVER_FOR_ROLE[role], pk, "decide", {"decision": "approve"})
    return detail


def actions(pk):
    return list(ApplicationStep.objects.filter(application_id=pk).values_list("action", flat=True))


# -- creating and submitting ---------------------------------------------------------------


def test_it_creates_a_draft_with_money_as_decimal_strings(api, customer, org):
    body = create(api, customer, expected_annual_purchases="1200000.50")

    application = CreditApplication.objects.get(pk=body["id"])
    assert application.state == S.DRAFT
    assert application.requested_by == org.alice
    assert body["number"] == application.number
    assert body["requested_limit"] == "300000.00"
    assert body["expected_annual_purchases"] == "1200000.50"
    assert body["state"] == "draft"
    assert body["state_label"] == "草稿"
    assert [s["action"] for s in body["steps"]] == ["create"]
    assert body["steps"][0]["actor"] == "alice"


def test_it_refuses_money_sent_as_a_json_number(api, customer):
    response = api("alice").post(
        "/applications",
        {**NEW_APPLICATION, "requested_limit": 300000.1, "customer_id": customer.pk},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "requested_limit"
    assert not CreditApplication.objects.exists()


def test_it_names_the_field_when_the_service_finds_it_invalid(api, customer):
    response = api("alice").post(
        "/applications", {**NEW_APPLICATION, "requested_limit": "0", "customer_id": customer.pk}
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail == [{"field": "requested_limit", "message": "申请额度必须大于0。"}]
    assert not CreditApplication.objects.exists()


def test_it_needs_the_signed_form_attached_when_the_application_comes_from_it(api, customer):
    response = api("alice").post(
        "/applications",
        {**NEW_APPLICATION, "customer_id": customer.pk, "from_customer_form": True},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "attachments"


def test_it_records_the_attached_signed_form_on_the_first_step(api, customer, org):
    scan = signed_form(customer, org.alice)
    body = create(api, customer, from_customer_form=True, attachment_ids=[scan.pk])

    assert body["steps"][0]["attachment_ids"] == [scan.pk]


def test_it_refuses_an_attachment_of_another_customer(api, customer, org):
    other = make_customer("别家有限公司", owner=org.alice)
    scan = signed_form(other, org.alice)
    response = api("alice").post(
        "/applications",
        {
            **NEW_APPLICATION,
            "customer_id": customer.pk,
            "from_customer_form": True,
            "attachment_ids": [scan.pk],
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "attachment_ids"


def test_it_refuses_a_create_by_a_role_that_cannot_apply(api, customer):
    response = api("fiona").post("/applications", {**NEW_APPLICATION, "customer_id": customer.pk})

    assert response.status_code == 403
    assert not CreditApplication.objects.exists()


def test_it_submits_a_draft(api, customer):
    pk = create(api, customer)["id"]

    body = act(api, "alice", pk, "submit", {"comment": "请审批"})

    assert body["state"] == "submitted"
    assert body["steps"][-1]["action"] == "submit"
    assert body["steps"][-1]["comment"] == "请审批"
    assert CreditApplication.objects.get(pk=pk).state == S.SUBMITTED


def test_it_answers_409_to_submitting_twice(api, customer):
    pk = create(api, customer)["id"]
    act(api, "alice", pk, "submit")

    body = act(api, "alice", pk, "submit", status=409)

    assert "已申请" in body["detail"]
    assert actions(pk) == ["create", "submit"]


def test_it_lets_only_the_requester_side_submit(api, customer, org):
    pk = create(api, customer)["id"]

    act(api, "mary", pk, "submit", status=403)

    assert CreditApplication.objects.get(pk=pk).state == S.DRAFT


# -- refusal path (R-20) -----------------------------------------------------------------------

REFUSAL = {
    "refused_by_person": "王经理",
    "refused_by_title": "采购部经理",
    "reason": "认为填表太麻烦",
    "sales_manager_view": "客户实力较强，值得争取",
}


def test_it_records_a_refusal_with_its_fields(api, customer, org):
    pk = create(api, customer)["id"]

    body = act(api, "alice", pk, "refuse", REFUSAL)

    assert body["state"] == "refused"
    assert body["refusal"]["refused_by_person"] == "王经理"
    assert body["refusal"]["sales_manager_view"] == "客户实力较强，值得争取"
    assert body["refusal"]["recorded_by"] == "alice"
    assert body["steps"][-1]["action"] == "refuse"
    refusal = CustomerRefusal.objects.get(application_id=pk)
    assert refusal.recorded_by == org.alice


def test_it_needs_who_refused(api, customer):
    pk = create(api, customer)["id"]

    body = act(api, "alice", pk, "refuse", {**REFUSAL, "refused_by_person": " "}, status=422)

    assert body["detail"][0]["field"] == "refused_by_person"
    assert not CustomerRefusal.objects.exists()


@pytest.mark.parametrize(
    ("decision", "state"),
    [("explain", S.DRAFT), ("collect", S.INVESTIGATING), ("drop", S.WITHDRAWN)],
)
def test_it_takes_the_credit_managers_decision_on_a_refusal(api, customer, decision, state):
    pk = create(api, customer)["id"]
    act(api, "alice", pk, "refuse", REFUSAL)

    body = act(
        api,
        "cathy",
        pk,
        "refusal-decision",
        {"decision": decision, "reason": "见销售主管意见", "follow_up_due": "2026-12-01"},
    )

    assert body["state"] == state
    assert body["refusal"]["decision"] == decision
    assert body["refusal"]["decided_by"] == "cathy"
    assert body["refusal"]["follow_up_due"] == "2026-12-01"
    assert body["steps"][-1]["action"].startswith("refusal:")


def test_it_lets_only_an_approver_decide_on_a_refusal(api, customer):
    pk = create(api, customer)["id"]
    act(api, "alice", pk, "refuse", REFUSAL)

    act(api, "alice", pk, "refusal-decision", {"decision": "drop", "reason": "x"}, status=403)

    assert CreditApplication.objects.get(pk=pk).state == S.REFUSED


def test_it_answers_409_to_a_refusal_decision_without_a_refusal(api, customer):
    pk = create(api, customer)["id"]

    act(api, "cathy", pk, "refusal-decision", {"decision": "drop", "reason": "x"}, status=409)


def test_it_rejects_an_unknown_refusal_decision(api, customer):
    pk = create(api, customer)["id"]
    act(api, "alice", pk, "refuse", REFUSAL)

    body = act(
        api, "cathy", pk, "refusal-decision", {"decision": "ignore", "reason": "x"}, status=422
    )

    assert body["detail"][0]["field"] == "decision"


# -- investigation -------------------------------------------------------------------------


def test_it_walks_the_investigation_recording_each_step(api, customer, org):
    pk = create(api, customer)["id"]
    act(api, "alice", pk, "submit")

    assert act(api, "carl", pk, "investigate", {"comment": "开始调查"})["state"] == "investigating"
    body = act(api, "alice", pk, "site-survey", SURVEY)
    assert body["site_survey"]["visited_by"] == "alice"
    assert body["site_survey"]["import_export_rights"] is True
    body = act(api, "carl", pk, "pre-contract-review", REVIEW_PASSED)
    assert body["pre_contract_review"]["passed"] is True
    assert body["pre_contract_review"]["reviewed_by"] == "carl"
    body = act(api, "carl", pk, "complete-investigation", {"comment": "调查完毕"})

    assert body["state"] == "evaluating"
    assert actions(pk) == [
        "create",
        "submit",
        "investigate",
        "site_survey",
        "pre_contract_review",
        "complete_investigation",
    ]
    assert SiteSurvey.objects.get(application_id=pk).visited_by == org.alice
    assert PreContractReview.objects.get(application_id=pk).passed


def test_it_replaces_the_whole_site_survey_on_a_second_save(api, customer):
    pk = walk(api, customer, S.INVESTIGATING)
    act(api, "alice", pk, "site-survey", SURVEY)

    body = act(api, "alice", pk, "site-survey", {"visited_on": "2026-11-21"})

    survey = SiteSurvey.objects.get(application_id=pk)
    assert survey.visited_on == datetime.date(2026, 11, 21)
    assert survey.impression == ""
    assert survey.import_export_rights is False
    assert body["site_survey"]["impression"] == ""


def test_it_needs_the_survey_date(api, customer):
    pk = walk(api, customer, S.INVESTIGATING)

    body = act(api, "alice", pk, "site-survey", {"impression": "好"}, status=422)

    assert body["detail"][0]["field"] == "visited_on"
    assert not SiteSurvey.objects.exists()


def test_it_refuses_a_site_survey_once_the_investigation_is_over(api, customer):
    pk = walk(api, customer, S.EVALUATING)

    act(api, "alice", pk, "site-survey", SURVEY, status=409)


def test_it_lets_only_credit_staff_start_the_investigation(api, customer):
    pk = create(api, customer)["id"]
    act(api, "alice", pk, "submit")

    act(api, "alice", pk, "investigate", status=403)

    assert CreditApplication.objects.get(pk=pk).state == S.SUBMITTED


def test_it_refuses_to_investigate_a_draft(api, customer):
    pk = create(api, customer)["id"]

    act(api, "carl", pk, "investigate", status=409)


def test_it_will_not_complete_an_investigation_without_the_site_survey(api, customer):
    pk = walk(api, customer, S.INVESTIGATING)
    act(api, "carl", pk, "pre-contract-review", REVIEW_PASSED)

    body = act(api, "carl", pk, "complete-investigation", status=422)

    assert body["detail"][0]["field"] == "site_survey"
    assert CreditApplication.objects.get(pk=pk).state == S.INVESTIGATING


def test_it_will_not_complete_an_investigation_after_a_failed_review(api, customer):
    pk = walk(api, customer, S.INVESTIGATING)
    act(api, "alice", pk, "site-survey", SURVEY)
    act(api, "carl", pk, "pre-contract-review", {**REVIEW_PASSED, "documents_authentic": False})

    body = act(api, "carl", pk, "complete-investigation", status=422)

    assert body["detail"][0]["field"] == "pre_contract_review"


# -- evaluation ----------------------------------------------------------------------------


def test_it_stores_the_sales_evaluation_form(api, customer, org):
    pk = walk(api, customer, S.EVALUATING)

    body = act(api, "alice", pk, "evaluation-form", {**FORM, "visit_count": 3})

    application = CreditApplication.objects.get(pk=pk)
    assert application.evaluation_form["industry_reputation"] == "good"
    assert application.evaluation_form["expected_annual_purchases"] == "1200000.00"
    assert application.evaluation_form["visit_count"] == 3
    assert application.evaluation_form_by == org.alice
    assert body["evaluation_form_by"] == "alice"
    assert body["steps"][-1]["action"] == "evaluation_form"


def test_it_rejects_a_judgement_outside_the_forms_bands(api, customer):
    pk = walk(api, customer, S.EVALUATING)

    body = act(
        api, "alice", pk, "evaluation-form", {"industry_reputation": "excellent"}, status=422
    )

    assert body["detail"][0]["field"] == "industry_reputation"


def test_it_keeps_finance_from_filling_the_sales_form(api, customer):
    pk = walk(api, customer, S.EVALUATING)

    act(api, "fiona", pk, "evaluation-form", FORM, status=403)

    assert CreditApplication.objects.get(pk=pk).evaluation_form == {}


def test_it_scores_and_answers_the_evaluation_factor_by_factor(api, customer, org):
    pk = walk(api, customer, S.EVALUATING)
    act(api, "alice", pk, "evaluation-form", FORM)

    body = act(
        api,
        "fiona",
        pk,
        "score",
        {"judgement": {"management_quality": "good"}, "comment": "资料齐全"},
        status=201,
    )

    evaluation = Evaluation.objects.get(application_id=pk)
    assert body["id"] == evaluation.pk
    assert body["grade"] == evaluation.grade
    assert body["total_score"] == str(evaluation.total_score)
    assert body["recommended_limit"] == f"{evaluation.recommended_limit:.2f}"
    assert body["review_comment"] == "资料齐全"
    assert body["scored_by"] == "fiona"
    assert body["filled_by"] == "alice"
    assert len(body["factors"]) == len(evaluation.factor_scores) == 16
    assert evaluation.inputs["management_quality"] == "good"
    assert actions(pk)[-1] == "score"
    detail = api("alice").get(f"/applications/{pk}").json()
    assert detail["evaluation"]["id"] == evaluation.pk
    assert detail["scored_by"] == "fiona"


def test_it_refuses_scoring_before_the_form_is_filled(api, customer):
    pk = walk(api, customer, S.EVALUATING)

    body = act(api, "fiona", pk, "score", status=422)

    assert body["detail"][0]["field"] == "evaluation_form"
    assert not Evaluation.objects.exists()


def test_it_refuses_scoring_by_sales(api, customer):
    pk = walk(api, customer, S.EVALUATING)
    act(api, "alice", pk, "evaluation-form", FORM)

    act(api, "bob", pk, "score", status=404)  # bob cannot even see alice's customer
    act(api, "alice", pk, "score", status=403)

    assert not Evaluation.objects.exists()


def test_it_refuses_submitting_for_approval_before_scoring(api, customer):
    pk = walk(api, customer, S.EVALUATING)

    body = act(api, "fiona", pk, "submit-for-approval", status=422)

    assert body["detail"][0]["field"] == "evaluation"
    assert CreditApplication.objects.get(pk=pk).state == S.EVALUATING


def test_it_submits_for_approval_and_shows_the_pending_level(api, customer):
    pk = walk(api, customer, S.APPROVING)

    body = api("cathy").get(f"/applications/{pk}").json()

    assert body["state"] == "approving"
    assert body["approval_round"] == 1
    assert body["pending_level"]["level"] == 1
    assert body["pending_level"]["role"] == "credit_manager"
    assert body["can_decide"] is True
    assert api("alice").get(f"/applications/{pk}").json()["can_decide"] is False
    assert actions(pk)[-1] == "submit_for_approval"


# -- approval ------------------------------------------------------------------------------


def test_it_approves_level_by_level_then_grants_the_line(api, customer, org):
    pk = walk(api, customer, S.APPROVING)

    body = approve_all(api, pk)

    assert body["state"] == "approved"
    assert body["approved_limit"] == "300000.00"
    assert body["decisions"][0]["approver"] == "cathy"
    assert body["decisions"][0]["limit"] == "300000.00"
    assert body["pending_level"] is None

    body = act(
        api,
        "carl",
        pk,
        "grant",
        {"valid_from": "2026-12-01", "valid_until": "2027-11-30", "comment": "生效"},
    )

    assert body["state"] == "granted"
    line = CreditLine.objects.get(application_id=pk)
    assert line.limit == 300000
    assert line.valid_from == datetime.date(2026, 12, 1)
    assert body["granted_lines"][0]["id"] == line.pk
    assert body["granted_lines"][0]["limit"] == "300000.00"
    assert body["granted_lines"][0]["valid_until"] == "2027-11-30"
    assert actions(pk)[-1] == "grant"


def test_it_approves_a_lower_limit_with_a_reason(api, customer):
    pk = walk(api, customer, S.APPROVING)

    body = act(
        api,
        "cathy",
        pk,
        "decide",
        {"decision": "approve_lower", "limit": "150000.00", "reason": "首次合作", "term_days": 30},
    )

    assert body["decisions"][0]["decision"] == "approve_lower"
    assert body["decisions"][0]["limit"] == "150000.00"
    assert body["approved_limit"] == "150000.00"
    application = CreditApplication.objects.get(pk=pk)
    assert application.approved_limit == 150000
    assert application.approved_term_days == 30
    if application.state != S.APPROVING:
        assert application.state == S.PARTLY_APPROVED


def test_it_names_the_limit_when_a_lower_limit_is_not_lower(api, customer):
    pk = walk(api, customer, S.APPROVING)

    body = act(
        api,
        "cathy",
        pk,
        "decide",
        {"decision": "approve_lower", "limit": "400000.00", "reason": "x"},
        status=422,
    )

    assert body["detail"][0]["field"] == "limit"
    assert CreditApplication.objects.get(pk=pk).decisions.count() == 0


def test_it_rejects_with_a_reason(api, customer):
    pk = walk(api, customer, S.APPROVING)

    body = act(api, "cathy", pk, "decide", {"decision": "reject", "reason": "资料不实"})

    assert body["state"] == "rejected"
    assert body["decisions"][0]["reason"] == "资料不实"
    assert actions(pk)[-1] == "decide:reject"


def test_it_needs_a_reason_to_reject(api, customer):
    pk = walk(api, customer, S.APPROVING)

    body = act(api, "cathy", pk, "decide", {"decision": "reject"}, status=422)

    assert body["detail"][0]["field"] == "reason"


def test_it_refuses_self_approval(api, customer, org):
    # cathy, the credit manager, files the application herself: she may not decide it.
    cathy_customer = make_customer("凯西客户有限公司")
    response = api("cathy").post(
        "/applications", {**NEW_APPLICATION, "customer_id": cathy_customer.pk}
    )
    pk = response.json()["id"]
    for username, action, data in [
        ("cathy", "submit", {}),
        ("carl", "investigate", {}),
        ("carl", "site-survey", SURVEY),
        ("carl", "pre-contract-review", REVIEW_PASSED),
        ("carl", "complete-investigation", {}),
        ("carl", "evaluation-form", FORM),
    ]:
        act(api, username, pk, action, data)
    act(api, "fiona", pk, "score", status=201)
    act(api, "fiona", pk, "submit-for-approval")

    body = act(api, "cathy", pk, "decide", {"decision": "approve"}, status=403)

    assert "自己" in body["detail"]
    assert not CreditApplication.objects.get(pk=pk).decisions.exists()


def test_it_refuses_a_decision_above_the_approvers_authority(api, customer):
    pk = walk(api, customer, S.APPROVING)

    body = act(api, "victor", pk, "decide", {"decision": "approve"}, status=403)

    assert "审批权限" in body["detail"]


def test_it_refuses_a_decision_by_a_role_without_approval_rights(api, customer):
    pk = walk(api, customer, S.APPROVING)

    act(api, "carl", pk, "decide", {"decision": "approve"}, status=403)


def test_it_refuses_to_decide_before_the_approval_step(api, customer):
    pk = walk(api, customer, S.EVALUATING)

    act(api, "cathy", pk, "decide", {"decision": "approve"}, status=409)


def test_it_asks_for_more_information_and_resumes_the_investigation(api, customer):
    pk = walk(api, customer, S.APPROVING)

    body = act(api, "cathy", pk, "request-info", {"reason": "请补充近两年审计报告"})
    assert body["state"] == "info_requested"
    assert body["steps"][-1]["comment"] == "请补充近两年审计报告"

    body = act(api, "carl", pk, "resume", {"comment": "已联系客户"})
    assert body["state"] == "investigating"
    assert body["scored_by"] is None
    assert actions(pk)[-2:] == ["request_info", "resume"]


def test_it_needs_a_reason_to_ask_for_more_information(api, customer):
    pk = walk(api, customer, S.APPROVING)

    body = act(api, "cathy", pk, "request-info", {"reason": ""}, status=422)

    assert body["detail"][0]["field"] == "reason"


def test_it_refuses_to_grant_an_application_not_yet_approved(api, customer):
    pk = walk(api, customer, S.APPROVING)

    act(api, "carl", pk, "grant", status=409)

    assert not CreditLine.objects.exists()


def test_it_lets_only_credit_staff_grant(api, customer):
    pk = walk(api, customer, S.APPROVING)
    approve_all(api, pk)

    act(api, "alice", pk, "grant", status=403)

    assert not CreditLine.objects.exists()


def test_it_names_valid_until_when_it_is_before_valid_from(api, customer):
    pk = walk(api, customer, S.APPROVING)
    approve_all(api, pk)

    body = act(
        api,
        "carl",
        pk,
        "grant",
        {"valid_from": "2026-12-01", "valid_until": "2026-11-30"},
        status=422,
    )

    assert body["detail"][0]["field"] == "valid_until"
    assert CreditApplication.objects.get(pk=pk).state == S.APPROVED


# -- withdrawing ---------------------------------------------------------------------------


def test_it_withdraws_an_open_application(api, customer):
    pk = walk(api, customer, S.INVESTIGATING)

    body = act(api, "alice", pk, "withdraw", {"reason": "客户暂停采购"})

    assert body["state"] == "withdrawn"
    assert actions(pk)[-1] == "withdraw"


def test_it_needs_a_reason_to_withdraw(api, customer):
    pk = create(api, customer)["id"]

    body = act(api, "alice", pk, "withdraw", {"reason": "  "}, status=422)

    assert body["detail"][0]["field"] == "reason"


def test_it_will_not_withdraw_twice(api, customer):
    pk = create(api, customer)["id"]
    act(api, "alice", pk, "withdraw", {"reason": "x"})

    act(api, "alice", pk, "withdraw", {"reason": "x"}, status=409)


def test_it_needs_the_reason_field_in_the_body(api, customer):
    pk = create(api, customer)["id"]

    body = act(api, "alice", pk, "withdraw", {}, status=422)

    assert body["detail"][0]["field"] == "reason"


# -- reply letter --------------------------------------------------------------------------


def test_it_generates_the_reply_letter_with_download_links(api, customer):
    pk = walk(api, customer, S.APPROVING)
    approve_all(api, pk)

    response = api("carl").post(f"/applications/{pk}/letter", {})

    assert response.status_code == 201, response.content
    body = response.json()
    letter = ReplyLetter.objects.get(application_id=pk)
    assert body["id"] == letter.pk
    assert body["kind"] == "approved"
    assert customer.name in body["body"]
    assert body["pdf_url"] == f"/api/v1/credit/letters/{letter.pk}/pdf"
    assert body["docx_url"] == f"/api/v1/credit/letters/{letter.pk}/docx"
    assert actions(pk)[-1] == "letter"
    pdf = api("carl").client.get(body["pdf_url"], headers=api("carl").headers)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    docx = api("alice").client.get(body["docx_url"], headers=api("alice").headers)
    assert docx.status_code == 200
    assert docx.content.startswith(b"PK")
    assert "本文件由 Carl（carl） 于" in "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages
    )
    printed = AuditEvent.objects.filter(action="print", object_id=str(letter.pk))
    assert sorted((e.username, e.detail["format"], e.customer_id) for e in printed) == [
        ("alice", "docx", customer.pk),
        ("carl", "pdf", customer.pk),
    ]
    detail = api("alice").get(f"/applications/{pk}").json()
    assert [item["id"] for item in detail["letters"]] == [letter.pk]


def test_it_refuses_a_letter_that_does_not_match_the_outcome(api, customer):
    pk = walk(api, customer, S.APPROVING)
    approve_all(api, pk)

    body = act(api, "carl", pk, "letter", {"kind": "rejected"}, status=422)

    assert body["detail"][0]["field"] == "kind"
    assert not ReplyLetter.objects.exists()


def test_it_refuses_a_letter_before_a_decision(api, customer):
    pk = walk(api, customer, S.EVALUATING)

    act(api, "carl", pk, "letter", status=409)


def test_it_hides_letters_of_customers_the_caller_cannot_see(api, customer):
    pk = walk(api, customer, S.APPROVING)
    act(api, "cathy", pk, "decide", {"decision": "reject", "reason": "资料不实"})
    letter_id = act(api, "carl", pk, "letter", status=201)["id"]

    assert api("walt").get(f"/letters/{letter_id}").status_code == 404
    assert api("walt").get(f"/letters/{letter_id}/pdf").status_code == 404
    assert api("alice").get(f"/letters/{letter_id}").json()["kind"] == "rejected"


# -- configuration and the change log ------------------------------------------------------


def test_it_answers_409_when_the_approval_matrix_has_no_approver(api, customer):
    pk = walk(api, customer, S.EVALUATING)
    act(api, "alice", pk, "evaluation-form", FORM)
    act(api, "fiona", pk, "score", status=201)
    ApprovalRule.objects.update(is_active=False)

    body = act(api, "fiona", pk, "submit-for-approval", status=409)

    assert "审批权限" in body["detail"]
    assert CreditApplication.objects.get(pk=pk).state == S.EVALUATING


def test_it_attributes_api_changes_in_the_change_log(api, customer, org):
    pk = walk(api, customer, S.INVESTIGATING)

    response = api("alice").post(f"/applications/{pk}/site-survey", SURVEY)

    survey = SiteSurvey.objects.get(application_id=pk)
    change = ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(SiteSurvey), object_id=survey.pk
    ).first()
    assert change is not None
    assert change.user == org.alice
    assert change.actor == "api"
    assert response["X-Request-ID"] == change.request_id


def test_it_grants_a_temporary_limit_on_the_line_in_force(api, customer, org):
    line = CreditLine.objects.create(
        customer=customer,
        company=Company.default(),
        grade="B",
        limit=200000,
        term_days=60,
        valid_from=datetime.date(2026, 1, 1),
        granted_by=org.carl,
    )
    pk = walk(api, customer, S.APPROVING, kind="temporary", temporary_until="2026-12-31")
    approve_all(api, pk)

    body = act(api, "carl", pk, "grant", {"valid_from": "2026-11-23"})

    assert body["state"] == "granted"
    assert body["granted_lines"] == []
    assert body["temporary_limits"][0]["line_id"] == line.pk
    assert body["temporary_limits"][0]["amount"] == "300000.00"
    assert body["temporary_limits"][0]["valid_until"] == "2026-12-31"
    credit = api("alice").get(f"/customers/{customer.pk}/credit").json()
    assert credit["companies"][0]["available_limit"] == "500000.00"
