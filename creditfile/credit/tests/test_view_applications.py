"""The application screens (R-20…R-25): list, new application, the page and every step on it."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from creditfile.credit.choices import ApplicationState as S
from creditfile.credit.models import (
    ApplicationStep,
    ApprovalDecision,
    CollectionItem,
    CreditApplication,
    CreditLine,
    CustomerRefusal,
    Evaluation,
    PreContractReview,
    SiteSurvey,
)
from creditfile.credit.services import workflow
from creditfile.credit.services.scoring import stored_factors
from creditfile.customers.models import Attachment
from creditfile.customers.testing import make_customer

NOW = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = "2026-05-12"
HX = {"HTTP_HX_REQUEST": "true"}
PDF = b"%PDF-1.4\n% signed application form\n"


@pytest.fixture
def client(sudo_client):
    """These tests act past the password prompt of core/sudo.py; test_view_sudo.py tests it."""
    return sudo_client


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def customer(org):
    return make_customer("华信科技有限公司", owner=org.alice)


def act(client, user, application, action, **fields):
    """POST one step as `user`; the action's form fields carry its prefix."""
    client.force_login(user)
    data = {f"{action}-{name}": value for name, value in fields.items()}
    return client.post(reverse("credit:application_action", args=[application.pk, action]), data)


def fresh(application) -> CreditApplication:
    return CreditApplication.objects.get(pk=application.pk)


def draft(customer, user, amount="300000", **extra) -> CreditApplication:
    return workflow.create_application(
        customer,
        user,
        requested_limit=Decimal(amount),
        requested_term_days=60,
        purpose="新客户首次赊销",
        **extra,
    )


def at_evaluating(org, customer, amount="300000") -> CreditApplication:
    """Through the investigation with the services, as the screens would leave it."""
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
    return workflow.complete_investigation(application, org.carl)


SALES_FORM = {
    "main_business": "机电设备批发",
    "expected_annual_purchases": "1200000",
    "payment_terms_requested": "月结60天",
    "industry_reputation": "good",
    "cooperation_attitude": "good",
    "management_quality": "fair",
    "guarantees_offered": "",
    "sales_comment": "建议授信",
}


def at_approving(org, customer, amount="300000") -> CreditApplication:
    application = at_evaluating(org, customer, amount)
    workflow.save_evaluation_form(application, org.alice, SALES_FORM)
    workflow.score(application, org.fiona, judgement={}, review_comment="同意")
    return workflow.submit_for_approval(fresh(application), org.fiona)


# --- List and new application ---------------------------------------------------------------


def test_it_lists_applications_with_filters(client, org, customer):
    other = make_customer("西南五金商行", owner=org.walt)
    mine = draft(customer, org.alice)
    theirs = draft(other, org.walt)
    client.force_login(org.cathy)
    response = client.get(reverse("credit:applications"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "信用申请" in text and mine.number in text and theirs.number in text

    response = client.get(reverse("credit:applications"), {"q": "五金"})
    text = response.content.decode()
    assert theirs.number in text and mine.number not in text

    workflow.submit(mine, org.alice)
    response = client.get(reverse("credit:applications"), {"state": "submitted"})
    text = response.content.decode()
    assert mine.number in text and theirs.number not in text


def test_it_lists_only_what_the_user_may_see_and_mine(client, org, customer):
    other = make_customer("西南五金商行", owner=org.walt)
    mine = draft(customer, org.alice)
    theirs = draft(other, org.walt)
    client.force_login(org.alice)
    text = client.get(reverse("credit:applications")).content.decode()
    assert mine.number in text and theirs.number not in text
    client.force_login(org.cathy)
    text = client.get(reverse("credit:applications"), {"mine": "on"}).content.decode()
    assert mine.number not in text and "没有符合条件的信用申请" in text


def test_it_answers_the_results_alone_to_htmx(client, org, customer):
    draft(customer, org.alice)
    client.force_login(org.cathy)
    response = client.get(reverse("credit:applications"), **HX)
    assert "<html" not in response.content.decode()
    assert "华信科技有限公司" in response.content.decode()


def test_it_creates_an_application_from_a_customer(client, org, customer):
    client.force_login(org.alice)
    url = reverse("credit:application_create", args=[customer.pk])
    assert "新建信用申请" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "company": client.get(url).context["form"].fields["company"].initial,
            "kind": "new",
            "requested_limit": "300000",
            "requested_term_days": "60",
            "expected_annual_purchases": "1200000",
            "purpose": "首次赊销",
        },
    )
    application = CreditApplication.objects.get(customer=customer)
    assert response.status_code == 302
    assert response["Location"] == reverse("credit:application", args=[application.pk])
    assert application.state == S.DRAFT
    assert application.requested_by == org.alice
    assert application.expected_annual_purchases == Decimal("1200000")


def test_it_files_the_signed_form_in_the_customers_catalogue(client, org, customer):
    client.force_login(org.alice)
    url = reverse("credit:application_create", args=[customer.pk])
    company = client.get(url).context["form"].fields["company"].initial
    data = {
        "company": company,
        "kind": "new",
        "requested_limit": "300000",
        "requested_term_days": "60",
        "from_customer_form": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 422
    assert "请附上申请表扫描件" in response.content.decode()
    assert not CreditApplication.objects.exists()

    data["customer_form_file"] = SimpleUploadedFile("申请表.pdf", PDF, "application/pdf")
    response = client.post(url, data)
    assert response.status_code == 302
    application = CreditApplication.objects.get(customer=customer)
    attachment = Attachment.objects.get(customer=customer)
    assert attachment.category == "application"
    step = application.steps.get(action="create")
    assert list(step.attachments.all()) == [attachment]
    page = client.get(reverse("credit:application", args=[application.pk])).content.decode()
    assert "申请表.pdf" in page


def test_it_creates_a_temporary_application_with_its_end_date(client, org, customer):
    client.force_login(org.alice)
    url = reverse("credit:application_create", args=[customer.pk])
    company = client.get(url).context["form"].fields["company"].initial
    response = client.post(
        url,
        {
            "company": company,
            "kind": "temporary",
            "requested_limit": "50000",
            "requested_term_days": "30",
            "temporary_until": "2026-08-31",
            "purpose": "旺季备货",
        },
    )
    assert response.status_code == 302
    application = CreditApplication.objects.get(customer=customer)
    assert application.kind == "temporary"
    assert application.temporary_until == datetime.date(2026, 8, 31)


def test_it_puts_the_services_refusal_at_the_field(client, org, customer):
    """A temporary limit needs its end date: the service's message sits at that field."""
    client.force_login(org.alice)
    url = reverse("credit:application_create", args=[customer.pk])
    company = client.get(url).context["form"].fields["company"].initial
    response = client.post(
        url,
        {
            "company": company,
            "kind": "temporary",
            "requested_limit": "50000",
            "requested_term_days": "30",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors["temporary_until"] == ["临时授信必须填写有效期至。"]


def test_it_refuses_a_new_application_to_those_who_may_not_apply(client, org, customer):
    client.force_login(org.fiona)
    response = client.get(reverse("credit:application_create", args=[customer.pk]))
    assert response.status_code == 403
    assert "提交信用申请" in response.content.decode()


def test_it_hides_customers_and_applications_of_others(client, org, customer):
    application = draft(customer, org.alice)
    client.force_login(org.walt)
    assert client.get(reverse("credit:application", args=[application.pk])).status_code == 404
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert client.get(reverse("credit:application_create", args=[customer.pk])).status_code == 403
    response = act(client, org.walt, application, "submit", comment="")
    assert response.status_code == 404
    assert fresh(application).state == S.DRAFT


# --- The page -------------------------------------------------------------------------------


def test_it_shows_the_header_timeline_and_only_the_users_actions(client, org, customer):
    application = draft(customer, org.alice)
    client.force_login(org.alice)
    response = client.get(reverse("credit:application", args=[application.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert application.number in text and "华信科技有限公司" in text
    assert "草稿" in text and "300,000.00" in text
    assert "办理过程" in text and "创建申请" in text
    assert 'id="action-submit"' in text and 'id="action-withdraw"' in text
    assert 'id="action-investigate"' not in text and 'id="action-decide"' not in text

    client.force_login(org.audrey)
    text = client.get(reverse("credit:application", args=[application.pk])).content.decode()
    assert "当前状态下您没有可办理的操作" in text


def test_it_walks_an_application_from_entry_to_grant(client, org, customer):
    application = draft(customer, org.alice)

    assert act(client, org.alice, application, "submit", comment="请审").status_code == 302
    assert fresh(application).state == S.SUBMITTED

    assert act(client, org.carl, application, "investigate").status_code == 302
    assert fresh(application).state == S.INVESTIGATING

    response = act(
        client,
        org.alice,
        application,
        "site-survey",
        visited_on="2026-05-10",
        people_met="张总",
        main_business="机电设备批发",
        impression="经营正常",
    )
    assert response.status_code == 302
    survey = SiteSurvey.objects.get(application=application)
    assert survey.visited_by == org.alice and survey.people_met == "张总"

    response = act(
        client,
        org.carl,
        application,
        "pre-contract",
        legal_standing_ok="true",
        agent_authority_ok="true",
        capacity_ok="true",
        documents_authentic="true",
        documents_note="已到工商部门核验",
    )
    assert response.status_code == 302
    assert PreContractReview.objects.get(application=application).passed

    assert act(client, org.carl, application, "complete-investigation").status_code == 302
    assert fresh(application).state == S.EVALUATING

    form = {key: value for key, value in SALES_FORM.items()}
    assert act(client, org.alice, application, "evaluation-form", **form).status_code == 302
    assert fresh(application).evaluation_form["industry_reputation"] == "good"
    assert fresh(application).evaluation_form["expected_annual_purchases"] == "1200000"

    response = act(client, org.fiona, application, "score", review_comment="资料齐全")
    assert response.status_code == 302
    evaluation = Evaluation.objects.get(application=application)
    assert evaluation.review_comment == "资料齐全" and evaluation.scored_by == org.fiona
    client.force_login(org.fiona)
    page = client.get(reverse("credit:application", args=[application.pk])).content.decode()
    assert reverse("credit:evaluation", args=[evaluation.pk]) in page

    assert act(client, org.fiona, application, "submit-for-approval").status_code == 302
    application = fresh(application)
    assert application.state == S.APPROVING

    # However many levels the amount and the grade need, each signs in turn.
    signers = {"credit_manager": org.cathy, "vp": org.victor, "general_manager": org.george}
    for _level in range(3):
        if fresh(application).state != S.APPROVING:
            break
        from creditfile.credit.services.approval import pending_rule

        approver = signers[pending_rule(fresh(application)).role]
        assert act(client, approver, application, "decide", decision="approve").status_code == 302
    application = fresh(application)
    assert application.state == S.APPROVED
    assert ApprovalDecision.objects.filter(application=application).count() >= 1

    response = act(
        client, org.carl, application, "grant", valid_from=TODAY, valid_until="2027-05-11"
    )
    assert response.status_code == 302
    assert fresh(application).state == S.GRANTED
    line = CreditLine.objects.get(customer=customer, status="active")
    assert line.application == application and line.valid_until == datetime.date(2027, 5, 11)


def test_it_records_a_refusal_and_the_credit_managers_decision(client, org, customer):
    application = draft(customer, org.alice)
    workflow.submit(application, org.alice)
    response = act(
        client,
        org.alice,
        application,
        "refuse",
        refused_by_person="李经理",
        refused_by_title="财务经理",
        reason="不愿提供财务报表",
        how_policy_explained="说明了信用政策与额度的关系",
        sales_manager_view="客户规模大，值得争取",
        verified_with_customer="电话确认",
    )
    assert response.status_code == 302
    assert fresh(application).state == S.REFUSED
    refusal = CustomerRefusal.objects.get(application=application)
    assert refusal.refused_by_title == "财务经理"

    client.force_login(org.cathy)
    page = client.get(reverse("credit:application", args=[application.pk])).content.decode()
    assert "客户拒绝信用申请记录" in page and 'id="action-decide-refusal"' in page

    response = act(
        client,
        org.cathy,
        application,
        "decide-refusal",
        decision="collect",
        reason="规模大，需全面采集",
        follow_up="委托资信调查",
        follow_up_due="2026-06-01",
    )
    assert response.status_code == 302
    refusal.refresh_from_db()
    assert refusal.decision == "collect" and refusal.decided_by == org.cathy
    assert refusal.follow_up_due == datetime.date(2026, 6, 1)
    assert fresh(application).state == S.INVESTIGATING


def test_it_adds_and_edits_collection_items_with_htmx(client, org, customer):
    application = draft(customer, org.alice)
    workflow.submit(application, org.alice)
    workflow.start_investigation(application, org.carl)
    client.force_login(org.carl)
    add_url = reverse("credit:collection_item_add", args=[application.pk])
    response = client.get(add_url, **HX)
    assert response.status_code == 200 and "添加采集项" in response.content.decode()

    response = client.post(
        add_url,
        {
            "item-channel": "government",
            "item-topic": "工商登记信息",
            "item-content": "登记状态存续",
            "item-obtained": "on",
            "item-source": "government",
            "item-source_date": TODAY,
            "item-file": SimpleUploadedFile("登记.pdf", PDF, "application/pdf"),
        },
        **HX,
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in text and "工商登记信息" in text and "政府主管部门" in text
    item = CollectionItem.objects.get(application=application)
    assert item.obtained and item.entered_by == org.carl and item.source == "government"
    assert item.attachment.category == "investigation"
    assert application.steps.filter(action="collection").exists()

    edit_url = reverse("credit:collection_item_edit", args=[application.pk, item.pk])
    assert "编辑采集项" in client.get(edit_url, **HX).content.decode()
    response = client.post(
        edit_url,
        {
            "item-channel": "government",
            "item-topic": "工商登记信息",
            "item-content": "登记状态存续，无行政处罚",
            "item-source": "government",
            "item-source_date": TODAY,
        },
        **HX,
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.content == "登记状态存续，无行政处罚" and not item.obtained

    response = client.post(add_url, {"item-channel": "government"}, **HX)
    assert response.status_code == 422
    assert "这个字段是必填项" in response.content.decode()


def test_it_refuses_collection_once_the_investigation_is_over(client, org, customer):
    application = at_evaluating(org, customer)
    client.force_login(org.carl)
    response = client.post(
        reverse("credit:collection_item_add", args=[application.pk]),
        {
            "item-channel": "agency",
            "item-topic": "资信报告",
            "item-source": "bureau",
            "item-source_date": TODAY,
        },
    )
    assert response.status_code == 409
    assert "只有在申请或调查阶段才能采集信用信息" in response.content.decode()
    client.force_login(org.alice)
    response = client.get(reverse("credit:collection_item_add", args=[application.pk]))
    assert response.status_code == 403


def test_it_adds_a_note_with_a_document(client, org, customer):
    application = draft(customer, org.alice)
    client.force_login(org.alice)
    response = client.post(
        reverse("credit:application_action", args=[application.pk, "note"]),
        {
            "note-comment": "客户补充了营业执照",
            "note-category": "licence",
            "note-file": SimpleUploadedFile("执照.pdf", PDF, "application/pdf"),
        },
    )
    assert response.status_code == 302
    step = application.steps.get(action="note")
    assert step.comment == "客户补充了营业执照"
    assert step.attachments.get().category == "licence"


def test_it_rejects_an_upload_that_is_not_what_it_says(client, org, customer):
    application = draft(customer, org.alice)
    client.force_login(org.alice)
    response = client.post(
        reverse("credit:application_action", args=[application.pk, "note"]),
        {
            "note-comment": "附件",
            "note-category": "other",
            "note-file": SimpleUploadedFile("x.pdf", b"MZ not a pdf", "application/pdf"),
        },
    )
    assert response.status_code == 422
    assert response.context["actions"]
    bound = next(a["form"] for a in response.context["actions"] if a["action"].slug == "note")
    assert "文件内容与扩展名" in bound.errors["file"][0]
    assert not Attachment.objects.exists()


# --- Refused steps --------------------------------------------------------------------------


def test_it_answers_403_with_the_message_for_the_wrong_person(client, org, customer):
    application = draft(customer, org.alice)
    response = act(client, org.mary, application, "submit", comment="")
    assert response.status_code == 403
    assert "只有申请人或信用管理部门可以执行此操作" in response.content.decode()
    assert fresh(application).state == S.DRAFT


def test_it_answers_409_with_the_message_for_a_skipped_step(client, org, customer):
    application = draft(customer, org.alice)
    response = act(client, org.carl, application, "complete-investigation")
    assert response.status_code == 409
    assert "不能执行此操作" in response.content.decode()
    assert fresh(application).state == S.DRAFT


def test_it_answers_422_with_the_message_at_the_field(client, org, customer):
    application = draft(customer, org.alice)
    response = act(client, org.alice, application, "withdraw", reason="")
    assert response.status_code == 422
    bound = next(a for a in response.context["actions"] if a["action"].slug == "withdraw")
    assert bound["open"] and bound["form"].errors["reason"]
    assert fresh(application).state == S.DRAFT


def test_it_refuses_the_survey_without_a_date_at_the_field(client, org, customer):
    application = draft(customer, org.alice)
    workflow.submit(application, org.alice)
    response = act(client, org.alice, application, "site-survey", people_met="张总")
    assert response.status_code == 422
    bound = next(a for a in response.context["actions"] if a["action"].slug == "site-survey")
    assert "visited_on" in bound["form"].errors


def test_it_refuses_to_let_finance_score_without_the_sales_form(client, org, customer):
    application = at_evaluating(org, customer)
    response = act(client, org.fiona, application, "score", review_comment="")
    assert response.status_code == 422
    assert "销售尚未填写客户信用评估表" in response.content.decode()
    assert not Evaluation.objects.exists()


def test_it_keeps_finance_off_the_sales_form(client, org, customer):
    application = at_evaluating(org, customer)
    client.force_login(org.fiona)
    page = client.get(reverse("credit:application", args=[application.pk])).content.decode()
    assert 'id="action-evaluation-form"' not in page
    response = act(client, org.fiona, application, "evaluation-form", **SALES_FORM)
    assert response.status_code == 403
    assert "您没有权限：填写客户信用评估表" in response.content.decode()


def test_it_refuses_a_refusal_decision_from_sales(client, org, customer):
    application = draft(customer, org.alice)
    workflow.record_refusal(
        customer, org.alice, application=application, refused_by_person="李", reason="不愿"
    )
    response = act(client, org.alice, application, "decide-refusal", decision="drop", reason="x")
    assert response.status_code == 403
    assert fresh(application).state == S.REFUSED


def test_it_answers_htmx_refusals_as_a_fragment(client, org, customer):
    application = draft(customer, org.alice)
    client.force_login(org.carl)
    response = client.post(
        reverse("credit:application_action", args=[application.pk, "complete-investigation"]),
        {},
        **HX,
    )
    assert response.status_code == 409
    assert "<html" not in response.content.decode()


def test_it_404s_an_unknown_action(client, org, customer):
    application = draft(customer, org.alice)
    assert act(client, org.alice, application, "approve-everything").status_code == 404


# --- Approval panel -------------------------------------------------------------------------


def test_it_shows_the_approval_panel_only_to_the_approver_at_the_pending_level(
    client, org, customer
):
    application = at_approving(org, customer)
    url = reverse("credit:application", args=[application.pk])
    client.force_login(org.cathy)
    text = client.get(url).content.decode()
    assert 'id="action-decide"' in text and 'id="action-request-info"' in text
    assert "信用审批" in text and "待审批" in text and "信用经理" in text
    for user in (org.victor, org.george, org.fiona, org.alice, org.carl, org.dora):
        client.force_login(user)
        text = client.get(url).content.decode()
        assert 'id="action-decide"' not in text, user
        assert 'id="action-request-info"' not in text, user


def test_it_refuses_a_decision_over_the_approvers_authority(client, org, customer):
    application = at_approving(org, customer)
    response = act(client, org.victor, application, "decide", decision="approve")
    assert response.status_code == 403
    assert "超出您的审批权限" in response.content.decode()
    assert not ApprovalDecision.objects.exists()


def test_it_refuses_self_approval(client, org, customer):
    application = draft(customer, org.cathy)
    assert application.requested_by == org.cathy
    workflow.submit(application, org.cathy)
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
    workflow.submit_for_approval(fresh(application), org.fiona)
    client.force_login(org.cathy)
    page = client.get(reverse("credit:application", args=[application.pk])).content.decode()
    assert 'id="action-decide"' not in page
    response = act(client, org.cathy, application, "decide", decision="approve")
    assert response.status_code == 403
    assert "不能审批自己提交的申请" in response.content.decode()


def test_it_approves_a_lower_limit_with_a_reason(client, org, customer):
    application = at_approving(org, customer)
    response = act(client, org.cathy, application, "decide", decision="approve_lower", limit="")
    assert response.status_code == 422
    bound = next(a for a in response.context["actions"] if a["action"].slug == "decide")
    assert bound["form"].errors["limit"]

    response = act(
        client,
        org.cathy,
        application,
        "decide",
        decision="approve_lower",
        limit="100000",
        reason="首次合作，先小额",
    )
    assert response.status_code == 302
    decision = ApprovalDecision.objects.get(application=application)
    assert decision.limit == Decimal("100000") and decision.reason == "首次合作，先小额"


def test_it_rejects_with_a_reason_and_shows_who_decided(client, org, customer):
    application = at_approving(org, customer)
    response = act(client, org.cathy, application, "decide", decision="reject", reason="付款记录差")
    assert response.status_code == 302
    assert fresh(application).state == S.REJECTED
    client.force_login(org.alice)
    page = client.get(reverse("credit:application", args=[application.pk])).content.decode()
    assert "付款记录差" in page and "Cathy" in page and "拒绝" in page


def test_it_sends_an_application_back_for_more_information_and_resumes(client, org, customer):
    application = at_approving(org, customer)
    response = act(client, org.cathy, application, "request-info", reason="请补充近三年报表")
    assert response.status_code == 302
    assert fresh(application).state == S.INFO_REQUESTED
    assert act(client, org.carl, application, "resume", comment="已联系客户").status_code == 302
    assert fresh(application).state == S.INVESTIGATING


def test_it_withdraws_an_application(client, org, customer):
    application = draft(customer, org.alice)
    response = act(client, org.alice, application, "withdraw", reason="客户改为现款")
    assert response.status_code == 302
    assert fresh(application).state == S.WITHDRAWN
    step = ApplicationStep.objects.get(application=application, action="withdraw")
    assert step.comment == "客户改为现款"


def test_it_shows_the_letters_panel_once_decided(client, org, customer):
    application = at_approving(org, customer)
    act(client, org.cathy, application, "decide", decision="reject", reason="付款记录差")
    client.force_login(org.carl)
    page = client.get(reverse("credit:application", args=[application.pk])).content.decode()
    assert "回复客户的标准函" in page
    assert reverse("credit:letter_generate", args=[application.pk]) in page


# --- Evaluation explanation -----------------------------------------------------------------


def test_it_explains_an_evaluation_factor_by_factor(client, org, customer):
    application = at_approving(org, customer)
    evaluation = Evaluation.objects.get(application=application)
    client.force_login(org.alice)
    response = client.get(reverse("credit:evaluation", args=[evaluation.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "客户信用评估报告" in text and "逐项评分" in text
    factors = stored_factors(evaluation)
    assert len(factors) == 16
    for factor in factors:
        assert factor.label in text
        assert str(factor.weighted) in text
    assert str(evaluation.total_score) in text
    assert str(evaluation.scorecard) in text and str(evaluation.policy) in text
    assert "Fiona" in text and "Alice" in text  # who scored, who filled the form
    assert "@media print" not in text and 'media="print"' in text
    assert "行业信誉" in text and "好" in text  # the sales form as it was


def test_it_shows_each_factors_band_from_its_scorecard_version(client, org, customer):
    """The band is read again from the scorecard version: it is the one the reason names."""
    application = at_approving(org, customer)
    evaluation = Evaluation.objects.get(application=application)
    client.force_login(org.fiona)
    response = client.get(reverse("credit:evaluation", args=[evaluation.pk]))
    rows = response.context["factors"]
    banded = [row for row in rows if row["band"]]
    assert banded, "the sales form's judgements at least fall in a band"
    for row in banded:
        assert row["band"] in row["factor"].reason
    reputation = next(row for row in rows if row["factor"].label == "行业信誉")
    assert reputation["band"] == "好"


def test_it_hides_evaluations_of_hidden_customers(client, org, customer):
    application = at_approving(org, customer)
    evaluation = Evaluation.objects.get(application=application)
    client.force_login(org.walt)
    assert client.get(reverse("credit:evaluation", args=[evaluation.pk])).status_code == 404
