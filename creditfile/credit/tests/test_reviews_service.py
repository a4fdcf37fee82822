"""Due reviews (R-23): the daily creation rules, the queue and closing a review."""

import datetime

import pytest
import time_machine

from creditfile.core.history import acting_as
from creditfile.core.models import ObjectChange
from creditfile.credit.choices import LineStatus, ReviewKind, ReviewState
from creditfile.credit.models import CreditReview
from creditfile.credit.services import reviews
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.tests.review_fixtures import make_evaluation, make_line
from creditfile.customers.testing import make_customer

pytestmark = pytest.mark.django_db
NOV_23 = datetime.date(2026, 11, 23)


def rows():
    return sorted(
        CreditReview.objects.values_list("customer_id", "kind", "period", "due_on", "state")
    )


def test_it_adds_months_and_names_quarters():
    assert reviews.add_months(datetime.date(2025, 2, 28), 12) == datetime.date(2026, 2, 28)
    assert reviews.add_months(datetime.date(2024, 2, 29), 12) == datetime.date(2025, 2, 28)
    assert reviews.add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert reviews.quarter_of(NOV_23) == ("2026Q4", datetime.date(2026, 12, 31))
    assert reviews.quarter_of(datetime.date(2026, 2, 1)) == ("2026Q1", datetime.date(2026, 3, 31))


def test_it_creates_the_same_rows_when_run_twice(org):
    old = make_customer("老客户甲", owner=org.alice)
    make_line(old, org.cathy, datetime.date(2024, 1, 10))
    make_evaluation(old, datetime.date(2025, 10, 1))
    expiring = make_customer("到期客户乙", owner=org.walt)
    make_line(expiring, org.cathy, datetime.date(2026, 6, 1), datetime.date(2026, 12, 10))
    make_evaluation(expiring, datetime.date(2026, 5, 20))

    first = reviews.create_due_reviews(NOV_23)
    snapshot = rows()
    second = reviews.create_due_reviews(NOV_23)

    assert first == {"annual": 1, "quarterly": 2, "expiring": 1}
    assert second == {"annual": 0, "quarterly": 0, "expiring": 0}
    assert rows() == snapshot
    assert len(snapshot) == 4


def test_it_makes_the_annual_review_due_12_months_after_the_last_full_evaluation(org):
    customer = make_customer(owner=org.alice)
    make_line(customer, org.cathy, datetime.date(2024, 1, 10))
    make_evaluation(customer, datetime.date(2025, 12, 5))
    make_evaluation(customer, datetime.date(2026, 3, 1), kind="rescore")  # not a full one

    reviews.create_due_reviews(datetime.date(2026, 12, 4))
    assert not CreditReview.objects.filter(kind=ReviewKind.ANNUAL).exists()

    counts = reviews.create_due_reviews(datetime.date(2026, 12, 5))
    review = CreditReview.objects.get(kind=ReviewKind.ANNUAL)
    assert counts["annual"] == 1
    assert (review.period, review.due_on, review.state) == (
        "2026",
        datetime.date(2026, 12, 5),
        ReviewState.DUE,
    )


def test_it_uses_the_line_start_when_there_is_no_evaluation(org):
    never = make_customer("从未评估", owner=org.alice)
    make_line(never, org.cathy, datetime.date(2026, 3, 15))

    reviews.create_due_reviews(NOV_23)

    review = CreditReview.objects.get(customer=never, kind=ReviewKind.ANNUAL)
    assert (review.period, review.due_on) == ("2027", datetime.date(2027, 3, 15))


def test_a_review_found_overdue_is_named_after_the_current_year(org):
    customer = make_customer(owner=org.alice)
    make_line(customer, org.cathy, datetime.date(2024, 1, 10))

    reviews.create_due_reviews(NOV_23)

    review = CreditReview.objects.get(customer=customer, kind=ReviewKind.ANNUAL)
    assert (review.period, review.due_on) == ("2026", datetime.date(2025, 1, 10))
    assert list(reviews.overdue_reviews(org.alice, NOV_23)) == [review]


def test_it_creates_no_reviews_for_customers_without_a_line_in_force(org):
    prospect = make_customer("潜在客户", owner=org.alice)
    lapsed = make_customer("额度已撤销", owner=org.alice)
    line = make_line(lapsed, org.cathy, datetime.date(2024, 1, 1))
    line.status = LineStatus.REVOKED
    line.save()
    future = make_customer("明年生效", owner=org.alice)
    make_line(future, org.cathy, datetime.date(2027, 1, 1))

    assert reviews.create_due_reviews(NOV_23) == {"annual": 0, "quarterly": 0, "expiring": 0}
    assert not CreditReview.objects.filter(customer__in=[prospect, lapsed, future]).exists()


def test_it_skips_a_cancelled_cycle_and_names_the_next_free_year_after_a_done_one(org):
    customer = make_customer(owner=org.alice)
    make_line(customer, org.cathy, datetime.date(2023, 1, 1))
    make_evaluation(customer, datetime.date(2025, 2, 1))
    reviews.create_due_reviews(datetime.date(2026, 2, 1))
    review = CreditReview.objects.get(kind=ReviewKind.ANNUAL)
    reviews.cancel_review(review, org.carl, "客户暂停合作，年审推迟")

    reviews.create_due_reviews(datetime.date(2026, 6, 1))
    assert CreditReview.objects.filter(kind=ReviewKind.ANNUAL).count() == 1

    reviews.create_due_reviews(datetime.date(2027, 2, 1))
    latest = CreditReview.objects.filter(kind=ReviewKind.ANNUAL).order_by("-due_on").first()
    assert (latest.period, latest.due_on) == ("2027", datetime.date(2027, 2, 1))


def test_it_creates_one_quarterly_review_per_quarter_due_at_quarter_end(org):
    customer = make_customer(owner=org.alice)
    make_line(customer, org.cathy, datetime.date(2026, 1, 1))
    make_evaluation(customer, datetime.date(2026, 1, 1))

    for day in (datetime.date(2026, 10, 1), datetime.date(2026, 11, 23), NOV_23):
        reviews.create_due_reviews(day)
    reviews.create_due_reviews(datetime.date(2027, 1, 2))

    quarterly = list(
        CreditReview.objects.filter(kind=ReviewKind.QUARTERLY).values_list("period", "due_on")
    )
    assert quarterly == [
        ("2026Q4", datetime.date(2026, 12, 31)),
        ("2027Q1", datetime.date(2027, 3, 31)),
    ]


def test_it_queues_lines_expiring_within_30_days_once(org):
    soon = make_customer("30天内到期", owner=org.alice)
    make_line(soon, org.cathy, datetime.date(2026, 1, 1), datetime.date(2026, 12, 23))
    later = make_customer("31天后到期", owner=org.alice)
    make_line(later, org.cathy, datetime.date(2026, 1, 1), datetime.date(2026, 12, 24))

    assert reviews.create_due_reviews(NOV_23)["expiring"] == 1
    assert reviews.create_due_reviews(datetime.date(2026, 11, 24))["expiring"] == 1

    soon_review = CreditReview.objects.get(customer=soon, kind=ReviewKind.ON_DEMAND)
    assert soon_review.reason == "额度即将到期"
    assert soon_review.due_on == datetime.date(2026, 12, 23)
    assert CreditReview.objects.filter(kind=ReviewKind.ON_DEMAND).count() == 2


def test_it_logs_the_created_reviews_in_the_customer_timeline_as_the_daily_job(org):
    customer = make_customer(owner=org.alice)
    make_line(customer, org.cathy, datetime.date(2026, 1, 1))
    make_evaluation(customer, datetime.date(2026, 1, 1))

    with acting_as(label="daily job"):
        reviews.create_due_reviews(NOV_23)

    review = CreditReview.objects.get()
    change = ObjectChange.objects.get(object_id=review.pk, action="create", actor="daily job")
    assert change.root_id == customer.pk


def test_the_queue_shows_a_rep_only_their_customers_and_overdue_ones_separately(org):
    mine = make_customer("爱丽丝的客户", owner=org.alice)
    theirs = make_customer("沃尔特的客户", owner=org.walt)
    for customer in (mine, theirs):
        make_line(customer, org.cathy, datetime.date(2024, 1, 1))
        make_evaluation(customer, datetime.date(2025, 10, 1))
    reviews.create_due_reviews(datetime.date(2026, 10, 1))

    alice_due = reviews.reviews_due(org.alice, NOV_23)
    assert {r.customer_id for r in alice_due} == {mine.pk}
    assert {r.customer_id for r in reviews.reviews_due(org.carl, NOV_23)} == {mine.pk, theirs.pk}
    overdue = reviews.overdue_reviews(org.alice, NOV_23)
    assert [(r.kind, r.due_on) for r in overdue] == [
        (ReviewKind.ANNUAL, datetime.date(2026, 10, 1))
    ]
    assert {r.customer_id for r in reviews.reviews_due(org.wendy, NOV_23)} == {theirs.pk}


@time_machine.travel("2026-11-23 09:00 +0800", tick=False)
def test_it_records_an_on_demand_review_once_a_day(org):
    customer = make_customer(owner=org.alice)

    review = reviews.request_review(customer, org.alice, "客户更换实际控制人")

    assert (review.kind, review.period, review.due_on) == (
        ReviewKind.ON_DEMAND,
        "D20261123",
        datetime.date(2026, 12, 7),
    )
    with pytest.raises(WorkflowError):
        reviews.request_review(customer, org.alice, "再申请一次")
    with pytest.raises(WorkflowError) as refused:
        reviews.request_review(customer, org.walt, "别人的客户")
    assert refused.value.code == "forbidden"
    with pytest.raises(WorkflowError) as refused:
        reviews.request_review(customer, org.fiona, "财务不能申请")
    assert refused.value.code == "forbidden"


def test_credit_staff_complete_a_monitoring_review_with_an_outcome(org):
    customer = make_customer(owner=org.alice)
    make_line(customer, org.cathy, datetime.date(2026, 1, 1))
    make_evaluation(customer, datetime.date(2026, 1, 1))
    reviews.create_due_reviews(NOV_23)
    review = CreditReview.objects.get(kind=ReviewKind.QUARTERLY)

    with pytest.raises(WorkflowError) as refused:
        reviews.complete_monitoring_review(review, org.alice, "看着不错")
    assert refused.value.code == "forbidden"
    with pytest.raises(WorkflowError):
        reviews.complete_monitoring_review(review, org.carl, "  ")

    done = reviews.complete_monitoring_review(review, org.carl, "付款正常，维持等级与额度。")

    assert (done.state, done.completed_by, done.outcome) == (
        ReviewState.DONE,
        org.carl,
        "付款正常，维持等级与额度。",
    )
    with pytest.raises(WorkflowError):
        reviews.complete_monitoring_review(done, org.carl, "再次完成")
    with pytest.raises(WorkflowError):
        reviews.cancel_review(done, org.carl, "取消已完成的")


def test_an_annual_review_cannot_be_closed_as_a_monitoring_review(org):
    customer = make_customer(owner=org.alice)
    make_line(customer, org.cathy, datetime.date(2024, 1, 1))
    reviews.create_due_reviews(NOV_23)
    annual = CreditReview.objects.get(kind=ReviewKind.ANNUAL)

    with pytest.raises(WorkflowError):
        reviews.complete_monitoring_review(annual, org.carl, "跳过年审")
    with pytest.raises(WorkflowError) as refused:
        reviews.cancel_review(annual, org.alice, "销售不能取消")
    assert refused.value.code == "forbidden"
