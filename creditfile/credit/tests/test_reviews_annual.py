"""The annual review report 年审评价报告 (R-26) and its way through approval to the line."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from creditfile.core.history import acting_as
from creditfile.core.testing import build_org
from creditfile.credit.choices import (
    ApplicationKind,
    ApplicationState,
    Decision,
    LineStatus,
    ReviewKind,
    ReviewState,
)
from creditfile.credit.models import AnnualReviewReport, CreditLine, CreditReview
from creditfile.credit.services import approval, reviews, scoring, workflow
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.tests.review_fixtures import make_evaluation, make_line, make_summary
from creditfile.customers.models import FileEvent
from creditfile.customers.testing import make_customer

pytestmark = pytest.mark.django_db
JUDGEMENT = {"industry_reputation": "good", "cooperation_attitude": "good"}


@pytest.fixture
def reviewed():
    """A customer trading since 2024 whose last evaluation was in December 2025.

    Built with the clock in the past so that only the 2026 facts below fall in the year.
    """
    with time_machine.travel("2025-12-01 10:00 +0800", tick=False):
        org = build_org()
        customer = make_customer(
            "华信科技有限公司", owner=org.alice, established_on=datetime.date(2015, 3, 1)
        )
        make_line(customer, org.cathy, datetime.date(2024, 1, 10), grade="B", limit="300000")
        evaluation = make_evaluation(customer, datetime.date(2025, 12, 1))
        evaluation.inputs = {**evaluation.inputs, **JUDGEMENT}
        evaluation.save()
        FileEvent.objects.create(customer=customer, title="去年的事项", occurred_on="2025-11-30")
    make_summary(customer, datetime.date(2025, 12, 31), sales_amount=Decimal("999"))
    make_summary(customer, datetime.date(2026, 6, 30), sales_amount=Decimal("500000"))
    make_summary(
        customer,
        datetime.date(2026, 10, 31),
        sales_amount=Decimal("1200000.00"),
        payments_amount=Decimal("1150000.00"),
        average_days_late=Decimal("6.5"),
        max_days_late=38,
        times_late_over_30=1,
    )
    with time_machine.travel("2026-05-10 10:00 +0800", tick=False), acting_as(user=org.alice):
        FileEvent.objects.create(
            customer=customer, title="法定代表人变更", occurred_on="2026-05-10"
        )
        FileEvent.objects.create(customer=customer, title="仓库搬迁", occurred_on="2026-05-09")
        customer.employees = 120
        customer.save()
    with time_machine.travel("2026-12-01 09:00 +0800", tick=False):
        reviews.create_due_reviews()
    review = CreditReview.objects.get(customer=customer, kind=ReviewKind.ANNUAL)
    return org, customer, review


@time_machine.travel("2026-12-20 10:00 +0800", tick=False)
def test_the_report_gathers_the_years_facts_and_proposes_grade_and_limit(reviewed):
    org, customer, review = reviewed
    assert (review.period, review.due_on) == ("2026", datetime.date(2026, 12, 1))

    report = reviews.prepare_annual_report(review, org.carl, 2026, summary="付款略有放慢。")

    assert report.sales_amount == Decimal("1200000.00")  # the year's latest summary
    assert report.payments_amount == Decimal("1150000.00")
    assert (report.average_days_late, report.max_days_late) == (Decimal("6.5"), 38)
    assert report.facts["payment_summary"]["times_late_over_30"] == 1
    assert report.incidents == 2
    assert [i["title"] for i in report.facts["incidents"]] == ["仓库搬迁", "法定代表人变更"]
    assert report.facts["complaints"] is None
    assert report.file_changes == 3  # two events and one field of the file; credit rows excluded
    assert (report.current_grade, report.current_limit) == ("B", Decimal("300000.00"))
    expected = scoring.evaluate(
        customer,
        judgement=JUDGEMENT,
        sales_form={"industry_reputation": "good"},
        as_of=datetime.date(2026, 12, 20),
        expected_annual_purchases=Decimal("1200000.00"),
    )
    assert (report.proposed_grade, report.proposed_limit) == (
        expected.grade,
        expected.recommended_limit,
    )
    assert report.proposed_limit > 0
    assert (report.prepared_by, report.summary) == (org.carl, "付款略有放慢。")
    review.refresh_from_db()
    assert (review.state, review.assigned_to) == (ReviewState.IN_PROGRESS, org.carl)


@time_machine.travel("2026-12-20 10:00 +0800", tick=False)
def test_only_credit_staff_prepare_the_report(reviewed):
    org, _customer, review = reviewed
    for user in (org.alice, org.fiona, org.victor):
        with pytest.raises(WorkflowError) as refused:
            reviews.prepare_annual_report(review, user, 2026)
        assert refused.value.code == "forbidden"
    assert not AnnualReviewReport.objects.exists()


@time_machine.travel("2026-12-20 10:00 +0800", tick=False)
def test_submitting_the_report_opens_an_annual_review_application_at_evaluation(reviewed):
    org, _customer, review = reviewed
    report = reviews.prepare_annual_report(review, org.carl, 2026)

    application = reviews.submit_annual_report(report, org.carl)

    assert application.kind == ApplicationKind.ANNUAL_REVIEW
    assert application.state == ApplicationState.EVALUATING
    assert application.review == review
    assert application.requested_limit == report.proposed_limit
    assert application.evaluation_form_by == org.carl
    assert application.evaluation_form["annual_review_report"]["id"] == report.pk
    assert [s.action for s in application.steps.all()] == [
        "create",
        "submit",
        "skip_investigation",
    ]
    with pytest.raises(WorkflowError):
        reviews.prepare_annual_report(review, org.carl, 2026)
    with pytest.raises(WorkflowError):
        reviews.submit_annual_report(report, org.carl)
    with pytest.raises(WorkflowError):
        reviews.cancel_review(review, org.carl, "已提交")


@time_machine.travel("2026-12-20 10:00 +0800", tick=False)
def test_granting_the_application_changes_the_line_and_marks_the_review_done(reviewed):
    org, customer, review = reviewed
    report = reviews.prepare_annual_report(review, org.carl, 2026)
    application = reviews.submit_annual_report(report, org.carl)

    evaluation = workflow.score(application, org.fiona, judgement=JUDGEMENT)
    workflow.submit_for_approval(application, org.fiona)
    approvers = {"credit_manager": org.cathy, "vp": org.victor, "general_manager": org.george}
    while (rule := approval.pending_rule(application)) is not None:
        approval.decide(application, approvers[rule.role], Decision.APPROVE)
        application.refresh_from_db()
    review.refresh_from_db()
    assert review.state == ReviewState.IN_PROGRESS  # approved is not yet granted

    line = workflow.grant(application, org.carl)

    review.refresh_from_db()
    report.refresh_from_db()
    assert (review.state, review.completed_by) == (ReviewState.DONE, org.carl)
    assert application.number in review.outcome
    assert report.evaluation == evaluation
    assert (line.grade, line.limit) == (evaluation.grade, report.proposed_limit)
    assert CreditLine.objects.get(customer=customer, status=LineStatus.ACTIVE) == line
    # The new evaluation restarts the 12 months: nothing more is due this year.
    assert reviews.create_due_reviews(datetime.date(2026, 12, 21))["annual"] == 0


def test_granting_an_ordinary_application_leaves_reviews_alone(org):
    customer = make_customer(owner=org.alice)
    make_line(customer, org.cathy, datetime.date(2024, 1, 1))
    reviews.create_due_reviews(datetime.date(2026, 11, 23))
    application = workflow.create_application(
        customer, org.alice, requested_limit=Decimal("100000"), requested_term_days=30
    )

    reviews.on_granted(application)

    assert not CreditReview.objects.filter(state=ReviewState.DONE).exists()


@time_machine.travel("2026-12-28 10:00 +0800", tick=False)
def test_the_year_end_batch_prepares_every_unstarted_annual_review_once(reviewed):
    org, _customer, review = reviewed
    others = []
    for number in range(3):
        other = make_customer(
            f"批量客户{number}", owner=org.walt, established_on=datetime.date(2010, 1, 1)
        )
        make_line(other, org.cathy, datetime.date(2024, 1, 1))
        make_summary(other, datetime.date(2026, 11, 30))
        others.append(other)
    reviews.create_due_reviews()

    with pytest.raises(WorkflowError):
        reviews.prepare_all_annual_reports(2026, org.alice)
    counts = reviews.prepare_all_annual_reports(2026, org.cathy)

    assert counts == {"prepared": 4, "failed": 0, "errors": []}
    report = AnnualReviewReport.objects.get(review__customer=others[0])
    assert report.sales_amount == Decimal("1200000.00")
    assert report.prepared_by == org.cathy
    assert report.review.state == ReviewState.IN_PROGRESS
    batch = AnnualReviewReport.objects.get(review=review)
    assert batch.incidents == 2
    assert reviews.prepare_all_annual_reports(2026, org.cathy)["prepared"] == 0
    single = reviews.prepare_annual_report(review, org.cathy, 2026)  # redone one at a time
    assert (single.proposed_grade, single.proposed_limit, single.facts["score"]) == (
        batch.proposed_grade,
        batch.proposed_limit,
        batch.facts["score"],
    )
