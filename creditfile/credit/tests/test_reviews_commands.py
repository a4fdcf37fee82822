"""`creditfile daily` and `creditfile annual-reviews`: what they print and that reruns are safe."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from creditfile.core.models import ObjectChange
from creditfile.credit.choices import LineStatus, ReviewKind
from creditfile.credit.models import AnnualReviewReport, CreditLine, CreditReview
from creditfile.credit.tests.review_fixtures import make_evaluation, make_line, make_summary
from creditfile.customers.testing import make_customer

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def count_line(output: str, label: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith(label))
    return line.split()[-1]


@time_machine.travel("2026-11-23 05:30 +0800", tick=False)
def test_daily_expires_lines_creates_reviews_and_prints_a_summary(org):
    ended = make_customer("已过期客户", owner=org.alice)
    make_line(ended, org.cathy, datetime.date(2025, 1, 1), datetime.date(2026, 11, 22))
    current = make_customer("正常客户", owner=org.alice)
    make_line(current, org.cathy, datetime.date(2025, 1, 1), datetime.date(2026, 12, 1))
    make_evaluation(current, datetime.date(2025, 10, 1))
    make_summary(current, datetime.date(2026, 10, 31), max_days_late=120, times_late_over_90=1)

    output = run("daily")

    assert "creditfile daily 2026-11-23" in output
    assert count_line(output, "额度到期 Lines expired") == "1"
    assert count_line(output, "年度复评 Annual reviews created") == "1"
    assert count_line(output, "季度监控复核 Quarterly reviews created") == "1"
    assert count_line(output, "额度即将到期复评 Expiring-line reviews created") == "1"
    assert count_line(output, "信用制裁提议 Sanction proposals") == "1"
    assert CreditLine.objects.get(customer=ended).status == LineStatus.EXPIRED
    assert set(CreditReview.objects.values_list("customer_id", flat=True)) == {current.pk}
    assert ObjectChange.objects.filter(actor="daily job").exists()
    assert not ObjectChange.objects.filter(actor="daily job").exclude(user=None).exists()

    before = sorted(CreditReview.objects.values_list("id", "kind", "period", "due_on"))
    again = run("daily")

    assert count_line(again, "额度到期 Lines expired") == "0"
    assert count_line(again, "年度复评 Annual reviews created") == "0"
    assert count_line(again, "季度监控复核 Quarterly reviews created") == "0"
    assert count_line(again, "信用制裁提议 Sanction proposals") == "0"
    assert sorted(CreditReview.objects.values_list("id", "kind", "period", "due_on")) == before


def test_daily_runs_as_of_another_day(org):
    customer = make_customer(owner=org.alice)
    make_line(customer, org.cathy, datetime.date(2025, 1, 1))
    make_evaluation(customer, datetime.date(2025, 1, 1))

    output = run("daily", "--today", "2027-02-01")

    assert "creditfile daily 2027-02-01" in output
    periods = set(CreditReview.objects.values_list("kind", "period"))
    assert periods == {(ReviewKind.ANNUAL, "2027"), (ReviewKind.QUARTERLY, "2027Q1")}


@time_machine.travel("2026-12-28 10:00 +0800", tick=False)
def test_annual_reviews_prepares_the_years_reports_as_the_named_user(org):
    customer = make_customer(owner=org.alice, established_on=datetime.date(2012, 1, 1))
    make_line(customer, org.cathy, datetime.date(2024, 1, 1))
    make_summary(customer, datetime.date(2026, 11, 30))
    run("daily")

    output = run("annual-reviews", "--year", "2026", "--user", "cathy")

    assert "已编制 Prepared  1" in output
    report = AnnualReviewReport.objects.get()
    assert report.prepared_by == org.cathy
    assert "已编制 Prepared  0" in run("annual-reviews", "--year", "2026", "--user", "cathy")
    with pytest.raises(CommandError):
        run("annual-reviews", "--year", "2026", "--user", "nobody")
    with pytest.raises(CommandError):
        run("annual-reviews", "--year", "2026", "--user", "alice")
