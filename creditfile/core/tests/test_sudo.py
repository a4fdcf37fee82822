"""Sudo mode (core/sudo.py): the password again before a sensitive action, for 15 minutes."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings as live_settings
from django.urls import reverse

from creditfile.core.sudo import CONFIRMED_AT
from creditfile.core.testing import PASSWORD
from creditfile.credit.models import ApprovalRule

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
CONFIRM = "/accounts/confirm-password/"


def toggle_url(rule) -> str:
    return reverse("credit:approval_rule_toggle", args=[rule.pk])


def failures(username: str) -> int:
    return sum(a.failures_since_start for a in AccessAttempt.objects.filter(username=username))


@pytest.fixture
def rule(org):
    return ApprovalRule.objects.filter(is_active=True).order_by("level").first()


def test_it_redirects_to_the_confirm_page_when_not_confirmed(client, org, rule):
    client.force_login(org.cathy)
    back = reverse("credit:approval_rules")
    response = client.post(toggle_url(rule), HTTP_REFERER=f"http://testserver{back}")
    assert response.status_code == 302
    assert response["Location"].startswith(CONFIRM)
    assert "next=%2Fcredit%2Fconfig%2Fapproval%2F" in response["Location"]
    rule.refresh_from_db()
    assert rule.is_active
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "启用或停用审批权限" in page.content.decode()


def test_it_lets_reading_pages_through_without_the_password(client, org, rule):
    client.force_login(org.cathy)
    assert client.get(reverse("credit:approval_rule_edit", args=[rule.pk])).status_code == 200


def test_it_answers_htmx_with_a_client_redirect(client, org, rule):
    client.force_login(org.cathy)
    response = client.post(
        toggle_url(rule),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/credit/config/approval/",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(CONFIRM)
    assert "next=%2Fcredit%2Fconfig%2Fapproval%2F" in response["HX-Redirect"]


def test_it_refuses_a_wrong_password_and_counts_one_failure_for_the_user(client, org, rule):
    client.force_login(org.cathy)
    client.post(toggle_url(rule))
    # A user name in the form is ignored: the failure is the signed-in person's.
    response = client.post(CONFIRM, {"password": "wrong-password", "username": "george"})
    assert response.status_code == 422
    assert "密码不正确" in response.content.decode()
    assert CONFIRMED_AT not in client.session
    assert failures("cathy") == 1
    assert failures("george") == 0
    assert client.post(toggle_url(rule)).status_code == 302
    rule.refresh_from_db()
    assert rule.is_active


def test_it_counts_no_failure_for_the_right_password(client, org):
    client.force_login(org.cathy)
    response = client.post(CONFIRM, {"password": PASSWORD, "next": "/credit/"})
    assert response.status_code == 302
    assert response["Location"] == "/credit/"
    assert failures("cathy") == 0
    assert not AccessAttempt.objects.exists()


def test_it_locks_the_confirmation_like_the_login_after_repeated_failures(client, org):
    client.force_login(org.cathy)
    for _attempt in range(live_settings.AXES_FAILURE_LIMIT):
        client.post(CONFIRM, {"password": "wrong-password"})
    response = client.post(CONFIRM, {"password": PASSWORD})
    assert response.status_code == 429
    assert CONFIRMED_AT not in client.session


def test_it_offers_to_send_the_held_action_again_after_confirming(client, org, rule):
    client.force_login(org.cathy)
    data = {"level": "1", "role": rule.role, "above_amount": "1000", "is_active": "on"}
    client.post(reverse("credit:approval_rule_edit", args=[rule.pk]), data)
    response = client.post(CONFIRM, {"password": PASSWORD, "next": "/credit/config/approval/"})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'action="/credit/config/approval/{rule.pk}/edit/"' in body
    assert 'name="above_amount" value="1000"' in body
    assert "继续：修改审批权限" in body
    assert "csrfmiddlewaretoken" in body


def test_it_ignores_a_next_pointing_elsewhere(client, org):
    client.force_login(org.cathy)
    response = client.post(CONFIRM, {"password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_it_remembers_the_confirmation_for_fifteen_minutes_then_asks_again(client, org, rule):
    client.force_login(org.cathy)
    with time_machine.travel(START, tick=False) as clock:
        assert client.post(CONFIRM, {"password": PASSWORD}).status_code == 302
        clock.shift(datetime.timedelta(minutes=14, seconds=59))
        assert client.post(toggle_url(rule)).status_code == 302
        rule.refresh_from_db()
        assert not rule.is_active  # done: the redirect is back to the matrix
        clock.shift(datetime.timedelta(seconds=1))
        response = client.post(toggle_url(rule))
        assert response["Location"].startswith(CONFIRM)
        rule.refresh_from_db()
        assert not rule.is_active


def test_it_uses_the_configured_minutes(client, org, rule, settings):
    settings.SUDO_MINUTES = 2
    client.force_login(org.cathy)
    with time_machine.travel(START, tick=False) as clock:
        client.post(CONFIRM, {"password": PASSWORD})
        clock.shift(datetime.timedelta(minutes=2))
        assert client.post(toggle_url(rule))["Location"].startswith(CONFIRM)


def test_it_forgets_the_confirmation_when_someone_else_signs_in(client, org, rule):
    client.force_login(org.cathy)
    client.post(CONFIRM, {"password": PASSWORD})
    client.force_login(org.adam)
    assert client.post(toggle_url(rule))["Location"].startswith(CONFIRM)
