"""The approval matrix screen (R-25): list, edit, switch off, and "who must sign" preview."""

from decimal import Decimal

import pytest
from django.urls import reverse

from creditfile.core import roles
from creditfile.credit.models import ApprovalRule
from creditfile.credit.services import configuration as config
from creditfile.credit.services.errors import WorkflowError

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(sudo_client):
    """These tests act past the password prompt of core/sudo.py; test_view_sudo.py tests it."""
    return sudo_client


def chain(response) -> list[tuple[int, str]]:
    return [(rule.level, rule.role) for rule, _label in response.context["preview_rules"]]


@pytest.mark.parametrize("name", ["alice", "victor", "audrey"])
def test_it_shows_the_matrix_to_every_credit_role(client, org, name):
    client.force_login(getattr(org, name))
    response = client.get(reverse("credit:approval_rules"))
    assert response.status_code == 200
    assert "营销副总" in response.content.decode()
    assert len(response.context["rules"]) == ApprovalRule.objects.count()


@pytest.mark.parametrize(
    "amount, grade, expected",
    [
        ("300000", "A", [(1, roles.CREDIT_MANAGER)]),
        ("600000", "A", [(1, roles.CREDIT_MANAGER), (2, roles.VP)]),
        ("300000", "C", [(1, roles.CREDIT_MANAGER), (2, roles.VP)]),
        ("1000", "D", [(1, roles.CREDIT_MANAGER), (2, roles.VP)]),
        (
            "2500000",
            "b",
            [(1, roles.CREDIT_MANAGER), (2, roles.VP), (3, roles.GENERAL_MANAGER)],
        ),
    ],
)
def test_it_previews_who_must_sign(client, org, amount, grade, expected):
    client.force_login(org.alice)
    response = client.get(reverse("credit:approval_preview"), {"amount": amount, "grade": grade})
    assert response.status_code == 200
    assert chain(response) == expected
    assert "最终决定" in response.content.decode()


def test_it_says_when_nobody_may_sign(client, org):
    ApprovalRule.objects.update(is_active=False)
    client.force_login(org.cathy)
    response = client.get(reverse("credit:approval_rules"), {"amount": "100", "grade": "A"})
    assert "审批权限表中没有适用于该金额的审批人" in response.content.decode()


@pytest.mark.parametrize("name", ["alice", "carl", "victor", "george"])
def test_it_refuses_matrix_changes_without_manage_policy(client, org, name):
    client.force_login(getattr(org, name))
    rule = ApprovalRule.objects.first()
    assert client.get(reverse("credit:approval_rule_add")).status_code == 403
    data = {"level": 1, "role": roles.SALES_REP, "above_amount": "0", "is_active": "on"}
    assert client.post(reverse("credit:approval_rule_add"), data).status_code == 403
    assert client.post(reverse("credit:approval_rule_toggle", args=[rule.pk])).status_code == 403
    rule.refresh_from_db()
    assert rule.is_active
    assert not ApprovalRule.objects.filter(role=roles.SALES_REP).exists()


def test_it_adds_a_rule_that_changes_the_chain(client, org):
    client.force_login(org.cathy)
    data = {
        "level": 2,
        "role": roles.MARKETING_DIRECTOR,
        "above_amount": "100000",
        "grades": "b, c",
        "applies_to_temporary": "",
        "is_active": "on",
    }
    response = client.post(reverse("credit:approval_rule_add"), data)
    assert response.status_code == 302
    rule = ApprovalRule.objects.get(role=roles.MARKETING_DIRECTOR)
    assert rule.grades == "B,C"
    assert not rule.applies_to_temporary
    preview = config.preview_approval(Decimal("150000"), "B")
    assert [(r.level, r.role) for r in preview] == [
        (1, roles.CREDIT_MANAGER),
        (2, roles.MARKETING_DIRECTOR),
    ]
    temporary = config.preview_approval(Decimal("150000"), "B", temporary=True)
    assert [r.role for r in temporary] == [roles.CREDIT_MANAGER]


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"role": "janitor"}, "role", "janitor"),
        ({"grades": "A,Z"}, "grades", "未知的等级：Z。"),
        ({"level": "0"}, "level", "审批层级从1开始。"),
        ({"above_amount": "-1"}, "above_amount", "金额不能为负数。"),
    ],
)
def test_it_refuses_bad_rules(client, org, change, field, message):
    client.force_login(org.adam)
    data = {"level": 1, "role": roles.CREDIT_MANAGER, "above_amount": "0", "is_active": "on"}
    before = ApprovalRule.objects.count()
    response = client.post(reverse("credit:approval_rule_add"), data | change)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in " ".join(response.context["form"].errors[field])
    assert ApprovalRule.objects.count() == before


def test_it_switches_a_rule_off_and_on(client, org):
    client.force_login(org.cathy)
    rule = ApprovalRule.objects.get(level=3)
    client.post(reverse("credit:approval_rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert not rule.is_active
    assert [r.level for r in config.preview_approval(Decimal("3000000"), "A")] == [1, 2]
    client.post(reverse("credit:approval_rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.is_active


def test_the_service_refuses_a_user_without_manage_policy(org):
    rule = ApprovalRule(level=1, role=roles.CREDIT_MANAGER, above_amount=0)
    with pytest.raises(WorkflowError) as caught:
        config.save_approval_rule(rule, org.carl)
    assert caught.value.code == "forbidden"


def test_changing_the_matrix_asks_for_the_password_again(org):
    from django.test import Client

    plain = Client()
    plain.force_login(org.cathy)
    data = {"level": 1, "role": roles.VP, "above_amount": "0", "is_active": "on"}
    before = ApprovalRule.objects.count()
    response = plain.post(reverse("credit:approval_rule_add"), data)
    assert response.status_code == 302
    assert response.url.startswith(reverse("confirm_password"))
    assert ApprovalRule.objects.count() == before


def test_it_edits_a_rule(client, org):
    client.force_login(org.cathy)
    rule = ApprovalRule.objects.get(level=3)
    url = reverse("credit:approval_rule_edit", args=[rule.pk])
    assert client.get(url).status_code == 200
    data = {"level": 3, "role": roles.GENERAL_MANAGER, "above_amount": "3000000", "is_active": "on"}
    assert client.post(url, data).status_code == 302
    rule.refresh_from_db()
    assert rule.above_amount == Decimal("3000000")
    assert [r.level for r in config.preview_approval(Decimal("2500000"), "A")] == [1, 2]
