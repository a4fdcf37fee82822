"""The credit manager's work queue /credit/: by state, waiting for me, mine, reviews due."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from creditfile.credit.models import CreditApplication, GradeChangeProposal
from creditfile.credit.services import workflow
from creditfile.credit.services.approval import decide
from creditfile.credit.views.applications import awaiting_my_decision, visible_applications
from creditfile.customers.testing import make_customer

NOW = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

SALES_FORM = {
    "main_business": "机电设备批发",
    "industry_reputation": "good",
    "cooperation_attitude": "good",
    "sales_comment": "建议授信",
}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=True):
        yield


def draft(customer, user, amount="300000") -> CreditApplication:
    return workflow.create_application(
        customer, user, requested_limit=Decimal(amount), requested_term_days=60
    )


def approving(org, customer, amount="300000") -> CreditApplication:
    application = draft(customer, org.alice, amount)
    workflow.submit(application, org.alice)
    workflow.start_investigation(application, org.carl)
    workflow.save_site_survey(application, org.alice, visited_on=datetime.date(2026, 5, 10))
    workflow.save_pre_contract_review(
        application,
        org.carl,
        legal_standing_ok=True,
        agent_authority_ok=True,
        capacity_ok=True,
        documents_authentic=True,
    )
    workflow.complete_investigation(application, org.carl)
    workflow.save_evaluation_form(application, org.alice, SALES_FORM)
    workflow.score(application, org.fiona, judgement={})
    application = CreditApplication.objects.get(pk=application.pk)
    return workflow.submit_for_approval(application, org.fiona)


def test_it_is_the_landing_page_of_the_credit_menu(client, org):
    client.force_login(org.cathy)
    response = client.get("/credit/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "信用管理工作台" in text and "待我审批" in text and "按状态" in text
    assert reverse("credit:queue") in client.get(reverse("customers:list")).content.decode()


def test_it_counts_and_lists_applications_by_state(client, org):
    customer = make_customer("华信科技有限公司", owner=org.alice)
    first = draft(customer, org.alice)
    second = draft(customer, org.alice)
    workflow.submit(first, org.alice)
    workflow.submit(second, org.alice)
    workflow.start_investigation(second, org.carl)
    client.force_login(org.cathy)
    response = client.get(reverse("credit:queue"))
    groups = {g["state"]: g for g in response.context["by_state"]}
    assert groups["submitted"]["count"] == 1 and groups["submitted"]["rows"] == [first]
    assert groups["investigating"]["count"] == 1 and groups["investigating"]["rows"] == [second]
    assert groups["approving"]["count"] == 0
    text = response.content.decode()
    assert first.number in text and second.number in text


def test_it_lists_approvals_waiting_for_me_only_to_the_right_approver(client, org):
    customer = make_customer("华信科技有限公司", owner=org.alice)
    application = approving(org, customer)
    client.force_login(org.cathy)
    response = client.get(reverse("credit:queue"))
    assert response.context["awaiting"] == [application]
    assert application.number in response.content.decode()
    for user in (org.victor, org.george, org.alice, org.fiona, org.carl):
        client.force_login(user)
        assert client.get(reverse("credit:queue")).context["awaiting"] == [], user


def test_it_moves_an_approval_to_the_next_level_approvers_queue(client, org):
    customer = make_customer("华信科技有限公司", owner=org.alice)
    application = approving(org, customer, amount="800000")  # above ¥500k: the VP signs too
    decide(application, org.cathy, "approve")
    assert awaiting_my_decision(org.cathy, visible_applications(org.cathy)) == []
    assert awaiting_my_decision(org.victor, visible_applications(org.victor)) == [application]


def test_it_lists_my_open_applications(client, org):
    customer = make_customer("华信科技有限公司", owner=org.alice)
    mine = draft(customer, org.alice)
    withdrawn = draft(customer, org.alice)
    workflow.withdraw(withdrawn, org.alice, "客户改为现款")
    client.force_login(org.alice)
    response = client.get(reverse("credit:queue"))
    assert response.context["mine"] == [mine]
    assert "我的申请" in response.content.decode()


def test_it_shows_reviews_due_and_open_grade_proposals(client, org):
    from creditfile.credit.models import CreditReview

    customer = make_customer("华信科技有限公司", owner=org.alice)
    CreditReview.objects.create(
        customer=customer,
        kind="quarterly",
        period="2026Q1",
        due_on=datetime.date(2026, 3, 31),
        reason="季度监控",
    )
    GradeChangeProposal.objects.create(
        customer=customer, source="rescore", from_grade="B", to_grade="C", reason="评分下降"
    )
    client.force_login(org.cathy)
    response = client.get(reverse("credit:queue"))
    assert response.context["reviews_url"] == reverse("credit:reviews")
    assert response.context["reviews_due"] == 1 and response.context["reviews_overdue"] == 1
    assert response.context["proposals_open"] == 1
    assert response.context["proposals_url"] == reverse("credit:sanction_proposals")
    assert "待处理等级调整建议" in response.content.decode()


def test_it_counts_nothing_the_user_may_not_see(client, org):
    west = make_customer("西南五金商行", owner=org.walt)
    draft(west, org.walt)
    GradeChangeProposal.objects.create(
        customer=west, source="rescore", from_grade="B", to_grade="C", reason="评分下降"
    )
    client.force_login(org.alice)
    response = client.get(reverse("credit:queue"))
    assert all(n == 0 for _label, n, _state in response.context["counts"])
    assert response.context["proposals_open"] == 0


def test_it_pins_the_queries_of_the_queue(client, org, django_assert_max_num_queries):
    customer = make_customer("华信科技有限公司", owner=org.alice)
    for _ in range(3):
        approving(org, customer)
    for _ in range(4):
        workflow.submit(draft(customer, org.alice), org.alice)
    client.force_login(org.cathy)
    client.get(reverse("credit:queue"))  # warm the session and the permission cache
    # 14 for the page whatever it lists (one of them the open refusals, one the access
    # settings' readers by work), plus approval.can_decide's 3 per approving application (the
    # only per-row cost: other states never reach the approval check).
    with django_assert_max_num_queries(14 + 3 * 3):
        response = client.get(reverse("credit:queue"))
    assert len(response.context["awaiting"]) == 3
