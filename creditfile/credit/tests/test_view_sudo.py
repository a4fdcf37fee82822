"""Each sensitive credit screen asks a fresh session for the password first (core/sudo.py).

What the screens do once the password is confirmed is tested in their own modules with the
`sudo_client` fixture; here a fresh sign-in posts and must land on the confirm page with
nothing changed.
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from creditfile.core import roles
from creditfile.core.testing import confirm_password
from creditfile.credit.choices import ApplicationState as S
from creditfile.credit.choices import BlacklistState, ProposalState
from creditfile.credit.models import (
    ApprovalRule,
    CreditApplication,
    GradeChangeProposal,
    GradePolicy,
    Scorecard,
)
from creditfile.credit.services import sanctions, workflow
from creditfile.customers.testing import make_customer

pytestmark = pytest.mark.django_db

CONFIRM = "/accounts/confirm-password/"


@pytest.fixture
def customer(org):
    return make_customer("华信科技有限公司", owner=org.alice)


@pytest.fixture
def application(customer, org):
    return workflow.create_application(
        customer,
        org.alice,
        requested_limit=Decimal("300000"),
        requested_term_days=60,
        purpose="新客户首次赊销",
    )


@pytest.fixture
def blacklisted(customer, org):
    return sanctions.propose_blacklist(customer, org.carl, "恶意拖欠货款")


def asked(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(CONFIRM)


@pytest.mark.parametrize("action", ["decide", "grant"])
def test_it_asks_for_the_password_before_deciding_or_granting(client, org, application, action):
    client.force_login(org.cathy)
    url = reverse("credit:application_action", args=[application.pk, action])
    response = client.post(url, {f"{action}-decision": "approve", f"{action}-reason": "同意"})
    assert asked(response)
    assert CreditApplication.objects.get(pk=application.pk).state == S.DRAFT
    assert application.decisions.count() == 0


def test_it_does_not_ask_for_the_password_for_ordinary_steps(client, org, application):
    client.force_login(org.alice)
    url = reverse("credit:application_action", args=[application.pk, "submit"])
    response = client.post(url, {"submit-comment": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("credit:application", args=[application.pk])
    assert CreditApplication.objects.get(pk=application.pk).state == S.SUBMITTED


def test_it_asks_for_the_password_before_accepting_a_grade_change(client, org, customer):
    proposal = GradeChangeProposal.objects.create(
        customer=customer,
        source="sanction",
        from_grade="A",
        to_grade="B",
        from_limit=Decimal("800000"),
        to_limit=Decimal("800000"),
        reason="逾期",
    )
    client.force_login(org.cathy)
    response = client.post(reverse("credit:sanction_accept", args=[proposal.pk]))
    assert asked(response)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PROPOSED


def test_it_asks_for_the_password_before_approving_a_blacklisting(client, org, blacklisted):
    client.force_login(org.cathy)
    url = reverse("credit:blacklist_action", args=[blacklisted.pk, "approve"])
    assert asked(client.post(url, {"note": "同意"}))
    blacklisted.refresh_from_db()
    assert blacklisted.state == BlacklistState.PROPOSED


def test_it_asks_for_the_password_before_approving_a_lifting(client, org, blacklisted):
    sanctions.approve_blacklist(blacklisted, org.cathy, "同意")
    sanctions.propose_lift(blacklisted, org.carl, "已结清全部欠款")
    blacklisted.refresh_from_db()
    before = blacklisted.state
    client.force_login(org.cathy)
    url = reverse("credit:blacklist_action", args=[blacklisted.pk, "approve_lift"])
    assert asked(client.post(url, {"note": "同意解除"}))
    blacklisted.refresh_from_db()
    assert blacklisted.state == before


def test_it_lets_a_blacklisting_be_refused_without_the_password(client, org, blacklisted):
    client.force_login(org.cathy)
    url = reverse("credit:blacklist_action", args=[blacklisted.pk, "reject"])
    response = client.post(url, {"note": "证据不足"})
    assert not asked(response)
    blacklisted.refresh_from_db()
    assert blacklisted.state != BlacklistState.PROPOSED


@pytest.mark.parametrize(
    "model, url_name", [(GradePolicy, "policy_activate"), (Scorecard, "scorecard_activate")]
)
def test_it_asks_for_the_password_before_activating_a_version(client, org, model, url_name):
    version = model.objects.order_by("pk").first()
    status = version.status
    client.force_login(org.cathy)
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    response = client.post(
        reverse(f"credit:{url_name}", args=[version.pk]), {"effective_from": tomorrow}
    )
    assert asked(response)
    version.refresh_from_db()
    assert version.status == status


def test_it_asks_for_the_password_before_changing_the_approval_matrix(client, org):
    rule = ApprovalRule.objects.filter(is_active=True).first()
    count = ApprovalRule.objects.count()
    client.force_login(org.cathy)
    data = {"level": 1, "role": roles.CREDIT_MANAGER, "above_amount": "0", "is_active": "on"}
    assert asked(client.post(reverse("credit:approval_rule_add"), data))
    assert asked(client.post(reverse("credit:approval_rule_edit", args=[rule.pk]), data))
    assert asked(client.post(reverse("credit:approval_rule_toggle", args=[rule.pk])))
    assert ApprovalRule.objects.count() == count
    rule.refresh_from_db()
    assert rule.is_active


def test_it_goes_through_once_the_password_was_confirmed(client, org):
    rule = ApprovalRule.objects.filter(is_active=True).first()
    client.force_login(org.cathy)
    confirm_password(client)
    response = client.post(reverse("credit:approval_rule_toggle", args=[rule.pk]))
    assert response["Location"] == reverse("credit:approval_rules")
    rule.refresh_from_db()
    assert not rule.is_active
