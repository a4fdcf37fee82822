"""Every step of the credit application, and every way a step is refused (R-20…R-25)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction

from creditfile.credit.choices import ApplicationKind, ApplicationState, LineStatus
from creditfile.credit.models import ApplicationStep, ApprovalDecision, CreditLine
from creditfile.credit.services import approval, lines, workflow
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.testing import EVALUATION_FORM, approve_all, walk_to
from creditfile.customers.testing import make_customer

S = ApplicationState


@pytest.fixture
def customer(org):
    return make_customer("华信电子有限公司", owner=org.alice)


def refused(code: str, call, *args, **kwargs) -> WorkflowError:
    with pytest.raises(WorkflowError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_it_walks_an_application_from_entry_to_grant_recording_every_step(org, customer):
    application = walk_to(org, customer, S.GRANTED)

    assert application.state == S.GRANTED
    actions = list(application.steps.values_list("action", "actor__username"))
    assert actions[:7] == [
        ("create", "alice"),
        ("submit", "alice"),
        ("investigate", "carl"),
        ("site_survey", "alice"),
        ("pre_contract_review", "carl"),
        ("complete_investigation", "carl"),
        ("evaluation_form", "alice"),
    ]
    assert ("score", "fiona") in actions
    assert ("submit_for_approval", "fiona") in actions
    assert actions[-1] == ("grant", "carl")
    assert all(a.startswith("decide:") for a, _ in actions if a.startswith("decide"))
    line = lines.credit_line_for(customer)
    assert line.application == application
    assert line.limit == application.approved_limit == Decimal("300000")
    assert line.grade == application.approved_grade
    customer.refresh_from_db()
    assert customer.credit_grade == line.grade


def test_it_numbers_applications_by_year(org, customer):
    with time_machine.travel(datetime.date(2026, 3, 1)):
        first = walk_to(org, customer, S.DRAFT)
        second = walk_to(org, customer, S.DRAFT)
    assert (first.number, second.number) == ("XS2026-00001", "XS2026-00002")


@pytest.mark.parametrize(
    "who, call",
    [
        ("fiona", lambda app, user: workflow.submit(app, user)),  # finance cannot apply
        ("audrey", lambda app, user: workflow.submit(app, user)),  # auditors never edit
        ("bob", lambda app, user: workflow.submit(app, user)),  # another rep's application
    ],
)
def test_it_refuses_submit_by_the_wrong_person(org, customer, who, call):
    application = walk_to(org, customer, S.DRAFT)
    refused("forbidden", call, application, org.users[who])
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_it_refuses_an_application_for_a_customer_the_rep_cannot_see(org):
    western = make_customer("西部商贸有限公司", owner=org.walt)
    refused(
        "forbidden",
        workflow.create_application,
        western,
        org.alice,
        requested_limit=Decimal("1000"),
        requested_term_days=30,
    )


def test_it_rejects_bad_application_input_naming_the_field(org, customer):
    error = refused(
        "invalid",
        workflow.create_application,
        customer,
        org.alice,
        requested_limit=Decimal("0"),
        requested_term_days=30,
    )
    assert error.field == "requested_limit"
    error = refused(
        "invalid",
        workflow.create_application,
        customer,
        org.alice,
        requested_limit=Decimal("1000"),
        requested_term_days=30,
        kind=ApplicationKind.TEMPORARY,
    )
    assert error.field == "temporary_until"
    error = refused(
        "invalid",
        workflow.create_application,
        customer,
        org.alice,
        requested_limit=Decimal("1000"),
        requested_term_days=30,
        from_customer_form=True,
    )
    assert error.field == "attachments"


def test_it_refuses_investigation_by_sales_and_finance(org, customer):
    application = walk_to(org, customer, S.SUBMITTED)
    refused("forbidden", workflow.start_investigation, application, org.alice)
    refused("forbidden", workflow.start_investigation, application, org.fiona)
    workflow.start_investigation(application, org.carl)
    assert application.state == S.INVESTIGATING


def test_it_refuses_to_skip_steps(org, customer):
    application = walk_to(org, customer, S.SUBMITTED)
    refused("state", workflow.complete_investigation, application, org.carl)
    refused("state", workflow.save_evaluation_form, application, org.alice, EVALUATION_FORM)
    refused("state", workflow.score, application, org.fiona)
    refused("state", workflow.submit_for_approval, application, org.fiona)
    refused("state", approval.decide, application, org.cathy, "approve")
    refused("state", workflow.grant, application, org.carl)
    application.refresh_from_db()
    assert application.state == S.SUBMITTED
    assert not ApprovalDecision.objects.exists()
    assert not CreditLine.objects.exists()


def test_a_new_customer_needs_a_site_survey_and_a_passed_pre_contract_review(org, customer):
    application = walk_to(org, customer, S.INVESTIGATING)
    error = refused("invalid", workflow.complete_investigation, application, org.carl)
    assert error.field == "site_survey"

    workflow.save_site_survey(application, org.alice, visited_on=datetime.date.today())
    error = refused("invalid", workflow.complete_investigation, application, org.carl)
    assert error.field == "pre_contract_review"

    workflow.save_pre_contract_review(
        application,
        org.carl,
        legal_standing_ok=True,
        agent_authority_ok=False,
        agent_authority_note="授权委托书已过期",
        capacity_ok=True,
        documents_authentic=True,
    )
    refused("invalid", workflow.complete_investigation, application, org.carl)

    workflow.save_pre_contract_review(
        application,
        org.carl,
        legal_standing_ok=True,
        agent_authority_ok=True,
        capacity_ok=True,
        documents_authentic=True,
    )
    workflow.complete_investigation(application, org.carl)
    assert application.state == S.EVALUATING


def test_a_review_application_needs_no_site_survey(org, customer):
    application = walk_to(org, customer, S.INVESTIGATING, kind=ApplicationKind.INCREASE)
    workflow.complete_investigation(application, org.carl)
    assert application.state == S.EVALUATING


def test_the_evaluation_form_is_filled_by_sales_and_scored_by_someone_else(org, customer):
    application = walk_to(org, customer, S.EVALUATING)
    refused("invalid", workflow.score, application, org.fiona)  # no form yet
    refused("forbidden", workflow.save_evaluation_form, application, org.fiona, {"a": 1})

    workflow.save_evaluation_form(application, org.alice, EVALUATION_FORM)
    refused("forbidden", workflow.score, application, org.alice)  # sales cannot score
    refused("forbidden", workflow.score, application, org.cathy)  # no scoring permission

    evaluation = workflow.score(application, org.fiona, review_comment="资料齐全")
    application.refresh_from_db()
    assert application.scored_by == org.fiona
    assert application.approved_grade == evaluation.grade
    assert evaluation.filled_by == org.alice and evaluation.scored_by == org.fiona
    assert evaluation.sales_form == EVALUATION_FORM


def test_a_finance_person_who_applied_cannot_score_their_own_application(org, customer):
    org.fiona.groups.add(org.alice.groups.get())  # fiona also works as a sales rep
    customer.owner = org.fiona
    customer.save()
    application = walk_to(org, customer, S.EVALUATING, requester=org.fiona)
    workflow.save_evaluation_form(application, org.alice, EVALUATION_FORM)
    refused("forbidden", workflow.score, application, org.fiona)


def _approving(org, customer, amount, grade=None):
    application = walk_to(org, customer, S.APPROVING, amount=Decimal(amount))
    if grade:  # pin the scored grade so the chain under test does not depend on the scorecard
        type(application).objects.filter(pk=application.pk).update(approved_grade=grade)
        application.refresh_from_db()
    return application


@pytest.mark.parametrize(
    "amount, grade, roles",
    [
        ("100000", "A", ["credit_manager"]),
        ("500000", "A", ["credit_manager"]),
        ("500000.01", "A", ["credit_manager", "vp"]),
        ("300000", "C", ["credit_manager", "vp"]),
        ("150000", "C", ["credit_manager"]),
        ("1000", "D", ["credit_manager", "vp"]),
        ("2500000", "B", ["credit_manager", "vp", "general_manager"]),
    ],
)
def test_the_approval_matrix_follows_amount_and_grade(org, amount, grade, roles):
    assert [r.role for r in approval.required_rules(Decimal(amount), grade)] == roles


def test_nobody_approves_their_own_request_or_what_they_scored(org, customer):
    org.cathy.groups.add(org.alice.groups.get())  # the credit manager also sells
    customer.owner = org.cathy
    customer.save()
    application = walk_to(org, customer, S.EVALUATING, requester=org.cathy)
    workflow.save_evaluation_form(application, org.cathy, EVALUATION_FORM)
    workflow.score(application, org.fiona)
    workflow.submit_for_approval(application, org.fiona)

    error = refused("forbidden", approval.decide, application, org.cathy, "approve")
    assert "自己" in str(error.message)
    assert not approval.can_decide(org.cathy, application)


def test_the_form_filler_and_the_scorer_cannot_approve(org, customer):
    org.fiona.groups.add(org.cathy.groups.get())  # finance person who may also approve
    application = _approving(org, customer, "100000", "A")
    refused("forbidden", approval.decide, application, org.fiona, "approve")
    org.alice.groups.add(org.cathy.groups.get())
    refused("forbidden", approval.decide, application, org.alice, "approve")


def test_over_authority_is_refused_and_levels_go_in_order(org, customer):
    application = _approving(org, customer, "1500000", "A")
    # The VP cannot sign before the credit manager, and nobody else can sign level 1.
    refused("forbidden", approval.decide, application, org.victor, "approve")
    refused("forbidden", approval.decide, application, org.george, "approve")
    approval.decide(application, org.cathy, "approve")
    application.refresh_from_db()
    assert application.state == S.APPROVING
    # Level 2 is the VP's: the credit manager is over authority (and signed already).
    refused("forbidden", approval.decide, application, org.cathy, "approve")
    refused("forbidden", approval.decide, application, org.george, "approve")
    approval.decide(application, org.victor, "approve", reason="同意")
    application.refresh_from_db()
    assert application.state == S.APPROVED
    assert application.approved_limit == Decimal("1500000")
    assert list(application.decisions.values_list("level", "approver__username")) == [
        (1, "cathy"),
        (2, "victor"),
    ]


def test_one_person_holding_two_approver_roles_signs_only_one_level(org, customer):
    org.cathy.groups.add(org.victor.groups.get())
    application = _approving(org, customer, "800000", "A")
    approval.decide(application, org.cathy, "approve")
    error = refused("forbidden", approval.decide, application, org.cathy, "approve")
    assert "不同的人" in str(error.message)


def test_above_two_million_the_general_manager_decides_last(org, customer):
    application = _approving(org, customer, "3000000", "A")
    approve_all(org, application)
    application.refresh_from_db()
    assert list(application.decisions.values_list("role", flat=True)) == [
        "credit_manager",
        "vp",
        "general_manager",
    ]
    assert application.state == S.APPROVED


def test_approving_a_lower_limit_recomputes_the_chain(org, customer):
    application = _approving(org, customer, "1000000", "A")
    refused("invalid", approval.decide, application, org.cathy, "approve_lower", limit=None)
    refused(
        "invalid",
        approval.decide,
        application,
        org.cathy,
        "approve_lower",
        limit=Decimal("2000000"),
        reason="x",
    )
    refused(
        "invalid", approval.decide, application, org.cathy, "approve_lower", limit=Decimal("400000")
    )  # a reason is required
    approval.decide(
        application, org.cathy, "approve_lower", limit=Decimal("400000"), reason="净资产不足"
    )
    application.refresh_from_db()
    # ¥400k is within the credit manager's authority: no VP needed any more.
    assert application.state == S.PARTLY_APPROVED
    assert application.approved_limit == Decimal("400000")
    workflow.grant(application, org.carl)
    assert lines.credit_line_for(customer).limit == Decimal("400000")


def test_a_rejection_needs_a_reason_and_ends_the_application(org, customer):
    application = _approving(org, customer, "100000", "A")
    error = refused("invalid", approval.decide, application, org.cathy, "reject")
    assert error.field == "reason"
    approval.decide(application, org.cathy, "reject", reason="经营异常")
    application.refresh_from_db()
    assert application.state == S.REJECTED
    refused("state", workflow.grant, application, org.carl)
    refused("state", approval.decide, application, org.cathy, "approve")


def test_more_information_sends_it_back_and_starts_a_new_approval_round(org, customer):
    application = _approving(org, customer, "800000", "A")
    approval.decide(application, org.cathy, "approve")
    refused("invalid", workflow.request_more_info, application, org.victor, "")
    workflow.request_more_info(application, org.victor, "请补充最近一期审计报告")
    assert application.state == S.INFO_REQUESTED
    refused("forbidden", workflow.resume, application, org.alice)
    workflow.resume(application, org.carl, "已收到审计报告")
    assert application.state == S.INVESTIGATING
    workflow.complete_investigation(application, org.carl)
    workflow.save_evaluation_form(application, org.alice, EVALUATION_FORM)
    workflow.score(application, org.fiona)
    workflow.submit_for_approval(application, org.fiona)
    application.refresh_from_db()
    assert application.approval_round == 2
    # The first round's signature is kept on record but does not count again.
    assert approval.pending_rule(application).role == "credit_manager"
    approve_all(org, application)
    application.refresh_from_db()
    assert application.state == S.APPROVED
    assert application.decisions.count() == 3


def test_the_refusal_path_records_and_decides(org, customer):
    application = walk_to(org, customer, S.SUBMITTED)
    error = refused(
        "invalid",
        workflow.record_refusal,
        customer,
        org.alice,
        application=application,
        refused_by_person="",
        reason="涉及商业秘密",
    )
    assert error.field == "refused_by_person"
    refusal = workflow.record_refusal(
        customer,
        org.alice,
        application=application,
        refused_by_person="王总",
        refused_by_title="财务总监",
        reason="认为财务报表涉及商业秘密",
        sales_manager_view="客户实力较强，建议解释政策",
    )
    application.refresh_from_db()
    assert application.state == S.REFUSED
    refused("forbidden", workflow.decide_refusal, refusal, org.carl, "explain", reason="x")
    refused("invalid", workflow.decide_refusal, refusal, org.cathy, "explain", reason="")
    workflow.decide_refusal(
        refusal,
        org.cathy,
        "explain",
        reason="客户误解申请表用途",
        follow_up="约见客户财务总监解释",
        follow_up_due=datetime.date.today(),
    )
    application.refresh_from_db()
    assert application.state == S.DRAFT
    refused("state", workflow.decide_refusal, refusal, org.cathy, "drop", reason="again")


@pytest.mark.parametrize("decision, state", [("collect", S.INVESTIGATING), ("drop", S.WITHDRAWN)])
def test_each_refusal_decision_leads_where_it_should(org, customer, decision, state):
    application = walk_to(org, customer, S.SUBMITTED)
    refusal = workflow.record_refusal(
        customer, org.alice, application=application, refused_by_person="李经理", reason="不愿填写"
    )
    workflow.decide_refusal(refusal, org.cathy, decision, reason="买强卖弱")
    application.refresh_from_db()
    assert application.state == state


def test_a_refusal_can_be_recorded_without_an_application(org, customer):
    refusal = workflow.record_refusal(
        customer, org.alice, refused_by_person="张总", reason="只做现款"
    )
    workflow.decide_refusal(refusal, org.cathy, "drop", reason="客户存心拖欠的证据")
    refusal.refresh_from_db()
    assert refusal.decided_by == org.cathy and refusal.decision == "drop"


def test_granting_supersedes_the_previous_line_and_keeps_it(org, customer):
    first = walk_to(org, customer, S.GRANTED, amount=Decimal("100000"))
    second = walk_to(
        org, customer, S.GRANTED, amount=Decimal("200000"), kind=ApplicationKind.INCREASE
    )
    history = list(CreditLine.objects.filter(customer=customer).order_by("granted_at", "id"))
    assert [(line.application_id, line.status) for line in history] == [
        (first.pk, LineStatus.SUPERSEDED),
        (second.pk, LineStatus.ACTIVE),
    ]
    assert lines.credit_line_for(customer).limit == Decimal("200000")
    refused("forbidden", workflow.grant, second, org.alice)


def test_the_database_allows_one_active_line_per_customer_and_company(org, customer):
    line = walk_to(org, customer, S.GRANTED).lines.get()
    duplicate = CreditLine(
        customer=customer,
        company=line.company,
        grade="A",
        limit=Decimal("1"),
        term_days=30,
        valid_from=line.valid_from,
        granted_by=org.carl,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_line_is_in_force_only_inside_its_validity(org, customer):
    application = walk_to(org, customer, S.APPROVED)
    workflow.grant(
        application,
        org.carl,
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 12, 31),
    )
    assert lines.credit_line_for(customer, datetime.date(2025, 12, 31)) is None
    assert lines.credit_line_for(customer, datetime.date(2026, 1, 1)) is not None
    assert lines.credit_line_for(customer, datetime.date(2026, 12, 31)) is not None
    assert lines.credit_line_for(customer, datetime.date(2027, 1, 1)) is None
    assert lines.expire_lines(datetime.date(2027, 1, 1)) == 1
    assert CreditLine.objects.get().status == LineStatus.EXPIRED


def test_a_temporary_limit_counts_only_inside_its_period(org, customer):
    with time_machine.travel(datetime.date(2026, 6, 1)):
        base = walk_to(org, customer, S.GRANTED, amount=Decimal("100000"))
        line = base.lines.get()
        temporary = walk_to(
            org,
            customer,
            S.GRANTED,
            amount=Decimal("50000"),
            kind=ApplicationKind.TEMPORARY,
            temporary_until=datetime.date(2026, 6, 30),
        )
    assert temporary.temporary_limits.get().line == line
    assert lines.credit_line_for(customer, datetime.date(2026, 6, 15)) == line
    assert lines.available_limit(line, datetime.date(2026, 6, 15)) == Decimal("150000")
    assert lines.available_limit(line, datetime.date(2026, 7, 1)) == Decimal("100000")


def test_a_temporary_limit_needs_a_line_in_force(org, customer):
    application = walk_to(
        org,
        customer,
        S.APPROVED,
        amount=Decimal("50000"),
        kind=ApplicationKind.TEMPORARY,
        temporary_until=datetime.date.today() + datetime.timedelta(days=30),
    )
    refused("state", workflow.grant, application, org.carl)
    application.refresh_from_db()
    assert application.state == S.APPROVED  # nothing half-done


def test_withdrawal_by_requester_with_a_reason(org, customer):
    application = walk_to(org, customer, S.INVESTIGATING)
    refused("invalid", workflow.withdraw, application, org.alice, "")
    refused("forbidden", workflow.withdraw, application, org.bob, "不是我的")
    workflow.withdraw(application, org.alice, "客户改为现款")
    assert application.state == S.WITHDRAWN
    refused("state", workflow.withdraw, application, org.alice, "again")


def test_a_stale_copy_cannot_move_the_application_twice(org, customer):
    application = walk_to(org, customer, S.SUBMITTED)
    stale = type(application).objects.get(pk=application.pk)
    workflow.start_investigation(application, org.carl)
    refused("state", workflow.start_investigation, stale, org.cathy)
    assert (
        ApplicationStep.objects.filter(application=application, action="investigate").count() == 1
    )
