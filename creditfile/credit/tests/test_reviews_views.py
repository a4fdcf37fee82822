"""The review screens: queue, detail with the annual report, actions, the customer panel."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from creditfile.credit.choices import ApplicationKind, ReviewKind, ReviewState
from creditfile.credit.models import AnnualReviewReport, CreditReview
from creditfile.credit.services import reviews
from creditfile.credit.tests.review_fixtures import make_evaluation, make_line, make_summary
from creditfile.customers.testing import make_customer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("frozen"),
]


@pytest.fixture
def frozen():
    with time_machine.travel("2026-11-23 10:00 +0800", tick=False):
        yield


@pytest.fixture
def book(org):
    """Alice's customer overdue for its annual review; Walt's customer with a quarterly one."""
    mine = make_customer(
        "爱丽丝商贸有限公司", owner=org.alice, established_on=datetime.date(2012, 1, 1)
    )
    make_line(mine, org.cathy, datetime.date(2024, 1, 1))
    make_summary(mine, datetime.date(2026, 10, 31))
    theirs = make_customer("沃尔特工贸有限公司", owner=org.walt)
    make_line(theirs, org.cathy, datetime.date(2026, 1, 1))
    make_evaluation(theirs, datetime.date(2026, 1, 1))
    reviews.create_due_reviews()
    return mine, theirs


def review_of(customer, kind):
    return CreditReview.objects.get(customer=customer, kind=kind)


def test_the_queue_lists_only_visible_customers(client, org, book):
    mine, theirs = book
    client.force_login(org.alice)

    page = client.get(reverse("credit:reviews")).content.decode()

    assert mine.name in page and theirs.name not in page
    client.force_login(org.carl)
    page = client.get(reverse("credit:reviews")).content.decode()
    assert mine.name in page and theirs.name in page


def test_the_queue_filters_overdue_and_kind(client, org, book):
    mine, theirs = book
    client.force_login(org.carl)

    overdue = client.get(reverse("credit:reviews"), {"overdue": "on"}).content.decode()
    quarterly = client.get(reverse("credit:reviews"), {"kind": "quarterly"}).content.decode()

    assert mine.name in overdue and theirs.name not in overdue
    assert "逾期" in overdue
    assert theirs.name in quarterly and "年度复评</td>" not in quarterly


def test_a_review_of_a_hidden_customer_is_hidden(client, org, book):
    _mine, theirs = book
    review = review_of(theirs, ReviewKind.QUARTERLY)
    client.force_login(org.alice)

    assert client.get(reverse("credit:review", args=[review.pk])).status_code == 404
    assert (
        client.post(reverse("credit:review_complete", args=[review.pk]), {"outcome": "x"})
    ).status_code == 404
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert client.get(reverse("credit:customer_reviews", args=[theirs.pk])).status_code == 403


def test_credit_staff_prepare_and_submit_the_annual_report_on_the_page(client, org, book):
    mine, _theirs = book
    review = review_of(mine, ReviewKind.ANNUAL)
    client.force_login(org.carl)

    page = client.get(reverse("credit:review", args=[review.pk])).content.decode()
    assert "编制年审评价报告" in page

    response = client.post(
        reverse("credit:review_prepare", args=[review.pk]), {"summary": "经营稳定"}
    )
    assert response.status_code == 302
    page = client.get(reverse("credit:review", args=[review.pk])).content.decode()
    report = AnnualReviewReport.objects.get(review=review)
    assert "1,200,000.00" in page  # the year's sales in the facts table
    assert "客户服务模块上线后提供" in page  # complaints have no source yet
    assert report.proposed_grade in page
    assert "提交审批" in page

    client.post(reverse("credit:review_submit", args=[review.pk]))

    application = review.applications.get()
    assert application.kind == ApplicationKind.ANNUAL_REVIEW
    page = client.get(reverse("credit:review", args=[review.pk])).content.decode()
    assert application.number in page
    assert "提交审批（生成年审申请）" not in page


def test_a_sales_rep_sees_the_review_but_cannot_act_on_it(client, org, book):
    mine, _theirs = book
    review = review_of(mine, ReviewKind.QUARTERLY)
    client.force_login(org.alice)

    page = client.get(reverse("credit:review", args=[review.pk])).content.decode()
    assert "完成复评" not in page
    response = client.post(reverse("credit:review_complete", args=[review.pk]), {"outcome": "好"})
    assert response.status_code == 403
    response = client.post(reverse("credit:review_prepare", args=[review_of(mine, "annual").pk]))
    assert response.status_code == 403
    review.refresh_from_db()
    assert review.state == ReviewState.DUE


def test_credit_staff_complete_and_cancel_reviews(client, org, book):
    mine, theirs = book
    client.force_login(org.carl)
    quarterly = review_of(theirs, ReviewKind.QUARTERLY)

    client.post(reverse("credit:review_complete", args=[quarterly.pk]), {"outcome": "正常"})
    client.post(
        reverse("credit:review_cancel", args=[review_of(mine, ReviewKind.QUARTERLY).pk]),
        {"reason": "本季已做年审"},
    )

    assert review_of(theirs, ReviewKind.QUARTERLY).state == ReviewState.DONE
    assert review_of(mine, ReviewKind.QUARTERLY).state == ReviewState.CANCELLED


def test_a_rep_requests_an_on_demand_review_from_the_customer(client, org, book):
    mine, theirs = book
    client.force_login(org.alice)
    url = reverse("credit:review_request", args=[mine.pk])

    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "客户近期多次推迟付款"})

    review = CreditReview.objects.get(customer=mine, kind=ReviewKind.ON_DEMAND)
    assert response.url == reverse("credit:review", args=[review.pk])
    assert review.reason == "客户近期多次推迟付款"
    assert client.get(reverse("credit:review_request", args=[theirs.pk])).status_code == 403
    client.force_login(org.fiona)
    assert client.get(url).status_code == 403


def test_the_customer_panel_lists_that_customers_reviews(client, org, book):
    mine, theirs = book
    client.force_login(org.alice)

    panel = client.get(reverse("credit:customer_reviews", args=[mine.pk])).content.decode()

    assert 'id="customer-reviews"' in panel and "<html" not in panel
    assert "年度复评" in panel and "季度监控复核" in panel
    assert reverse("credit:review_request", args=[mine.pk]) in panel
    client.force_login(org.carl)
    panel = client.get(reverse("credit:customer_reviews", args=[theirs.pk])).content.decode()
    assert "年度复评" not in panel and "季度监控复核" in panel
