"""R-20 without an application: record from the credit tab, decide, follow up, on the queue."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from creditfile.credit.choices import ApplicationState as S
from creditfile.credit.choices import RefusalDecision
from creditfile.credit.models import CustomerRefusal
from creditfile.credit.services import workflow
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.testing import make_customer

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 5, 12)
REFUSAL = {
    "refused_by_person": "王总",
    "refused_by_title": "财务总监",
    "reason": "公司规定不向供应商提供财务报表",
    "how_policy_explained": "说明了信用政策与授信流程",
    "sales_manager_view": "客户规模大、付款一向及时，建议全面采集信息",
    "verified_with_customer": "",
}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 5, 12, 10, 0), tick=True):
        yield


@pytest.fixture
def customer(org):
    return make_customer("华信科技有限公司", owner=org.alice)


@pytest.fixture
def refusal(customer, org):
    return workflow.record_refusal(customer, org.alice, **REFUSAL)


def decide(refusal, user, due=None, decision=RefusalDecision.COLLECT_FULLY):
    return workflow.decide_refusal(
        refusal, user, decision, reason="客户付款记录良好", follow_up="全面采集", follow_up_due=due
    )


def test_it_offers_the_record_button_on_the_credit_tab(client, org, customer, refusal):
    client.force_login(org.alice)
    body = client.get(reverse("credit:customer_credit", args=[customer.pk])).content.decode()
    assert reverse("credit:refusal_create", args=[customer.pk]) in body
    assert "记录客户拒绝申请" in body
    assert reverse("credit:refusal", args=[refusal.pk]) in body


def test_it_hides_the_record_button_from_those_who_may_not_record(client, org, customer):
    client.force_login(org.audrey)
    body = client.get(reverse("credit:customer_credit", args=[customer.pk])).content.decode()
    assert reverse("credit:refusal_create", args=[customer.pk]) not in body


def test_it_records_a_refusal_without_an_application(client, org, customer):
    client.force_login(org.alice)
    url = reverse("credit:refusal_create", args=[customer.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, REFUSAL)
    refusal = CustomerRefusal.objects.get()
    assert response["Location"] == reverse("credit:refusal", args=[refusal.pk])
    assert refusal.customer == customer
    assert refusal.application is None
    assert refusal.recorded_by == org.alice
    assert refusal.reason == REFUSAL["reason"]
    assert not customer.credit_applications.exists()


def test_it_asks_again_for_missing_answers(client, org, customer):
    client.force_login(org.alice)
    response = client.post(
        reverse("credit:refusal_create", args=[customer.pk]), REFUSAL | {"reason": ""}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["reason"]
    assert not CustomerRefusal.objects.exists()


def test_it_refuses_recording_to_people_without_the_right(client, org, customer):
    client.force_login(org.audrey)
    response = client.post(reverse("credit:refusal_create", args=[customer.pk]), REFUSAL)
    assert response.status_code == 403
    assert not CustomerRefusal.objects.exists()


def test_it_hides_refusals_of_customers_the_user_cannot_see(client, org, refusal, customer):
    client.force_login(org.walt)
    assert client.get(reverse("credit:refusal", args=[refusal.pk])).status_code == 404
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert client.get(reverse("credit:refusal_create", args=[customer.pk])).status_code == 403


def test_it_lets_the_credit_manager_decide_with_a_follow_up(client, org, refusal):
    client.force_login(org.cathy)
    page = client.get(reverse("credit:refusal", args=[refusal.pk]))
    assert page.context["decision_form"] is not None
    due = TODAY + datetime.timedelta(days=14)
    response = client.post(
        reverse("credit:refusal_decide", args=[refusal.pk]),
        {
            "decide-decision": RefusalDecision.COLLECT_FULLY,
            "decide-reason": "客户付款记录良好",
            "decide-follow_up": "信用部全面采集工商、银行信息",
            "decide-follow_up_due": due.isoformat(),
        },
    )
    assert response["Location"] == reverse("credit:refusal", args=[refusal.pk])
    refusal.refresh_from_db()
    assert refusal.decision == RefusalDecision.COLLECT_FULLY
    assert refusal.decided_by == org.cathy
    assert refusal.follow_up_due == due


def test_it_needs_a_reason_for_the_decision(client, org, refusal):
    client.force_login(org.cathy)
    response = client.post(
        reverse("credit:refusal_decide", args=[refusal.pk]),
        {"decide-decision": RefusalDecision.RECOMMEND_DROP, "decide-reason": ""},
    )
    assert response.status_code == 422
    refusal.refresh_from_db()
    assert refusal.decided_at is None


@pytest.mark.parametrize("name", ["alice", "mary", "carl"])
def test_it_refuses_the_decision_to_others_than_approvers(client, org, refusal, name):
    client.force_login(getattr(org, name))
    assert client.get(reverse("credit:refusal", args=[refusal.pk])).context["decision_form"] is None
    response = client.post(
        reverse("credit:refusal_decide", args=[refusal.pk]),
        {"decide-decision": RefusalDecision.RECOMMEND_DROP, "decide-reason": "放弃"},
    )
    assert response.status_code == 403
    refusal.refresh_from_db()
    assert refusal.decided_at is None


def test_it_refuses_a_second_decision(client, org, refusal):
    decide(refusal, org.cathy)
    client.force_login(org.victor)
    response = client.post(
        reverse("credit:refusal_decide", args=[refusal.pk]),
        {"decide-decision": RefusalDecision.RECOMMEND_DROP, "decide-reason": "放弃"},
    )
    assert response["Location"] == reverse("credit:refusal", args=[refusal.pk])
    assert "已有处理意见" in client.get(response["Location"]).content.decode()
    refusal.refresh_from_db()
    assert refusal.decision == RefusalDecision.COLLECT_FULLY


def test_it_moves_the_application_when_deciding_one_made_from_it(client, org, customer):
    application = workflow.create_application(
        customer,
        org.alice,
        requested_limit=Decimal("100000"),
        requested_term_days=30,
        purpose="首次赊销",
    )
    refusal = workflow.record_refusal(customer, org.alice, application=application, **REFUSAL)
    client.force_login(org.cathy)
    client.post(
        reverse("credit:refusal_decide", args=[refusal.pk]),
        {"decide-decision": RefusalDecision.EXPLAIN_AND_HELP, "decide-reason": "解释说服"},
    )
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_it_records_the_follow_up_as_done(client, org, refusal):
    decide(refusal, org.cathy, due=TODAY + datetime.timedelta(days=7))
    client.force_login(org.carl)
    response = client.post(
        reverse("credit:refusal_done", args=[refusal.pk]), {"done-done_on": TODAY.isoformat()}
    )
    assert response.status_code == 302
    refusal.refresh_from_db()
    assert refusal.follow_up_done_on == TODAY
    assert not workflow.open_refusals().exists()


def test_it_refuses_a_follow_up_done_in_the_future(org, refusal):
    decide(refusal, org.cathy, due=TODAY)
    with pytest.raises(WorkflowError) as refused:
        workflow.complete_refusal_follow_up(refusal, org.carl, TODAY + datetime.timedelta(days=1))
    assert refused.value.field == "done_on"


def test_it_lists_open_refusals_with_due_dates_on_the_queue(client, org, customer):
    waiting = workflow.record_refusal(customer, org.alice, **REFUSAL)
    late = decide(
        workflow.record_refusal(customer, org.alice, **REFUSAL),
        org.cathy,
        due=TODAY - datetime.timedelta(days=3),
    )
    done = decide(workflow.record_refusal(customer, org.alice, **REFUSAL), org.cathy, due=TODAY)
    workflow.complete_refusal_follow_up(done, org.carl, TODAY)
    dropped = decide(
        workflow.record_refusal(customer, org.alice, **REFUSAL),
        org.cathy,
        decision=RefusalDecision.RECOMMEND_DROP,
    )
    west = make_customer("西南五金商行", owner=org.walt)
    hidden = workflow.record_refusal(west, org.walt, **REFUSAL)

    client.force_login(org.alice)
    response = client.get(reverse("credit:queue"))
    assert [r.pk for r in response.context["refusals_open"]] == [waiting.pk, late.pk]
    assert response.context["refusals_open_count"] == 2
    body = response.content.decode()
    assert reverse("credit:refusal", args=[late.pk]) in body
    assert (TODAY - datetime.timedelta(days=3)).isoformat() in body
    assert "已逾期" in body
    for closed in (done, dropped, hidden):
        assert reverse("credit:refusal", args=[closed.pk]) not in body

    client.force_login(org.cathy)
    shown = client.get(reverse("credit:queue")).context["refusals_open"]
    assert hidden.pk in [r.pk for r in shown]
