"""Weekly violation summaries 违规汇总: denied attempts per person, to the person's manager."""

from datetime import date, datetime

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from creditfile.access.models import ViolationSummary
from creditfile.access.services import audit
from creditfile.access.services.violations import managers_of, previous_week, summarise_week
from creditfile.customers.testing import make_customer

MONDAY = date(2026, 12, 7)


def denied(user, when, customer=None):
    with time_machine.travel(datetime.fromisoformat(f"{when} +0800"), tick=False):
        return audit.record(
            audit.Action.DENIED, user=user, customer=customer, outcome=audit.Outcome.DENIED
        )


@pytest.fixture
def week(org):
    walts = make_customer("西南客户有限公司", owner=org.walt)
    denied(org.alice, "2026-11-30 00:05", walts)  # Monday, first minute of the week
    denied(org.alice, "2026-12-02 10:00", walts)
    denied(org.bob, "2026-12-06 23:55")  # Sunday, last minutes
    denied(org.carl, "2026-12-03 10:00")
    denied(org.alice, "2026-11-29 23:59")  # the week before: not in it
    denied(org.alice, "2026-12-07 08:00")  # this week: not yet
    audit.record(audit.Action.VIEW, user=org.alice, customer=walts)  # allowed: not counted
    return walts


def test_it_knows_last_weeks_monday_and_sunday():
    assert previous_week(MONDAY) == (date(2026, 11, 30), date(2026, 12, 6))
    assert previous_week(date(2026, 12, 9)) == (date(2026, 11, 30), date(2026, 12, 6))


def test_it_finds_the_nearest_manager_up_the_department_tree(org):
    assert managers_of(org.alice) == [org.mary]
    assert managers_of(org.carl) == [org.cathy]
    assert managers_of(org.mary) == [org.dora]  # her own manager, one level up
    assert managers_of(org.audrey) == [org.george, org.victor]  # no manager in audit


def test_it_summarises_each_persons_refusals_for_their_manager(week, org):
    result = summarise_week(MONDAY)
    assert (result.week_start, result.created) == (date(2026, 11, 30), 2)
    mary = ViolationSummary.objects.get(manager=org.mary)
    assert mary.event_count == 3
    assert [(line["username"], line["count"]) for line in mary.lines] == [
        ("alice", 2),
        ("bob", 1),
    ]
    assert mary.lines[0]["customers"] == "西南客户有限公司"
    assert mary.lines[0]["first"].startswith("2026-11-30T00:05")
    cathy = ViolationSummary.objects.get(manager=org.cathy)
    assert [(line["username"], line["count"]) for line in cathy.lines] == [("carl", 1)]


def test_it_writes_one_summary_per_manager_per_week(week, org):
    summarise_week(MONDAY)
    again = summarise_week(MONDAY)
    assert (again.created, again.skipped) == (0, 2)
    assert ViolationSummary.objects.count() == 2


def test_it_emails_the_summary_when_email_is_configured(week, org, settings):
    settings.EMAIL_HOST = "smtp.example.lan"
    org.mary.email = "mary@example.lan"
    org.mary.save()
    result = summarise_week(MONDAY)
    assert result.emailed == 1
    (message,) = mail.outbox
    assert message.to == ["mary@example.lan"]
    assert "2026-11-30" in message.subject
    assert "alice" in message.body and "2 次" in message.body
    assert ViolationSummary.objects.get(manager=org.mary).emailed_at is not None
    # cathy has no address: kept on the page, the reason noted.
    assert ViolationSummary.objects.get(manager=org.cathy).email_error
    summarise_week(MONDAY)
    assert len(mail.outbox) == 1  # a rerun sends nothing twice


def test_it_sends_nothing_without_email_settings(week, org, settings):
    settings.EMAIL_HOST = ""
    org.mary.email = "mary@example.lan"
    org.mary.save()
    summarise_week(MONDAY)
    assert mail.outbox == []


def test_the_daily_job_writes_them_on_mondays_only(week, org, capsys):
    call_command("daily", "--today", "2026-12-08")
    assert ViolationSummary.objects.count() == 0
    call_command("daily", "--today", MONDAY.isoformat())
    assert ViolationSummary.objects.count() == 2
    assert "Violation summaries" in capsys.readouterr().out


def test_a_manager_sees_only_their_own_summaries(week, client, org):
    summarise_week(MONDAY)
    marys = ViolationSummary.objects.get(manager=org.mary)
    cathys = ViolationSummary.objects.get(manager=org.cathy)
    client.force_login(org.mary)
    page = client.get(reverse("audit:violations"))
    assert [s.pk for s in page.context["page"].object_list] == [marys.pk]
    assert "违规汇总" in client.get(reverse("customers:list")).text
    assert client.get(reverse("audit:violation", args=[marys.pk])).status_code == 200
    assert client.get(reverse("audit:violation", args=[cathys.pk])).status_code == 404
    client.force_login(org.alice)
    assert client.get(reverse("audit:violations")).status_code == 403
    client.force_login(org.audrey)
    page = client.get(reverse("audit:violations"))
    assert {s.pk for s in page.context["page"].object_list} == {marys.pk, cathys.pk}
