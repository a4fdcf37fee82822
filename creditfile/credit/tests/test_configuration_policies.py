"""Grade policy screens (R-18, R-24): versions, drafts, validation, activation."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from creditfile.credit.choices import VersionStatus
from creditfile.credit.models import GradePolicy, GradeTerms
from creditfile.credit.services import configuration as config
from creditfile.credit.services import policy as versions
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.views.configuration import GRADE_FIELDS

TODAY = datetime.date(2026, 11, 23)
pytestmark = pytest.mark.django_db


@pytest.fixture
def client(sudo_client):
    """These tests act past the password prompt of core/sudo.py; test_view_sudo.py tests it."""
    return sudo_client


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0), tick=False):
        yield


def in_force() -> GradePolicy:
    return versions.policy_in_force(TODAY)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def formset_data(policy, change=None, add=None, delete=()) -> dict:
    """POST data for the draft edit screen, from the draft's grades with `change` applied."""
    grades = list(policy.grades.all())
    rows = []
    for terms in grades:
        row = {}
        for name in GRADE_FIELDS:
            value = getattr(terms, name)
            if name == "conditions":
                import json

                value = json.dumps(value)
            elif isinstance(value, bool):
                value = "on" if value else ""
            elif value is None:
                value = ""
            row[name] = value
        row.update((change or {}).get(terms.grade, {}))
        row["id"] = terms.pk
        if terms.grade in delete:
            row["DELETE"] = "on"
        rows.append(row)
    if add:
        rows.append(add)
    data = {
        "name": policy.name,
        "notes": "调整",
        "grades-TOTAL_FORMS": len(rows),
        "grades-INITIAL_FORMS": len(grades),
        "grades-MIN_NUM_FORMS": 0,
        "grades-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            if value == "" and key in ("cash_on_delivery", "security_counts_as_headroom"):
                continue
            data[f"grades-{index}-{key}"] = value
    return data


def draft_of(org) -> GradePolicy:
    return config.copy_to_draft(in_force(), org.cathy)


# Reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alice", "fiona", "victor", "audrey", "cathy"])
def test_it_shows_versions_and_grades_to_every_credit_role(client, org, name):
    client.force_login(getattr(org, name))
    policy = in_force()
    listing = client.get(reverse("credit:policies"))
    assert listing.status_code == 200
    assert f"v{policy.version}" in listing.content.decode()
    detail = client.get(reverse("credit:policy_detail", args=[policy.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "2/10 n/60" in body  # grade A of the default policy
    assert "min_years_in_business=3" in body


def test_it_shows_sales_the_trade_terms_per_grade(client, org):
    client.force_login(org.alice)
    response = client.get(reverse("credit:grade_terms"))
    assert response.status_code == 200
    body = response.content.decode()
    for grade in in_force().grades.all():
        assert grade.terms_label in body
        assert grade.handling.splitlines()[0] in body
    assert "即时清结，不赊销" in body  # grade D of the default policy


def test_it_says_when_no_policy_was_in_force_on_a_date(client, org):
    client.force_login(org.alice)
    response = client.get(reverse("credit:grade_terms"), {"on": "1990-01-01"})
    assert response.status_code == 200
    assert "尚未设置或尚未生效" in response.content.decode()


# Changing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alice", "mary", "carl", "fiona", "victor"])
def test_it_refuses_changes_without_manage_policy(client, org, name):
    client.force_login(getattr(org, name))
    policy = in_force()
    draft = draft_of(org)
    before = GradePolicy.objects.count()
    assert client.post(reverse("credit:policy_copy", args=[policy.pk])).status_code == 403
    assert client.get(reverse("credit:policy_edit", args=[draft.pk])).status_code == 403
    assert client.post(reverse("credit:policy_edit", args=[draft.pk]), {}).status_code == 403
    activate = reverse("credit:policy_activate", args=[draft.pk])
    assert client.post(activate, {"effective_from": "2026-12-01"}).status_code == 403
    assert GradePolicy.objects.count() == before
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_it_copies_the_policy_in_force_to_a_new_draft(client, org):
    client.force_login(org.cathy)
    policy = in_force()
    response = client.post(reverse("credit:policy_copy", args=[policy.pk]))
    draft = GradePolicy.objects.get(version=policy.version + 1)
    assert response.url == reverse("credit:policy_edit", args=[draft.pk])
    assert draft.status == VersionStatus.DRAFT
    assert draft.created_by == org.cathy
    assert sorted(draft.grades.values_list("grade", flat=True)) == ["A", "B", "C", "D"]


def test_it_refuses_to_edit_a_version_in_force_and_says_why(client, org):
    client.force_login(org.cathy)
    policy = in_force()
    response = client.get(reverse("credit:policy_edit", args=[policy.pk]), follow=True)
    assert "已生效的版本不能修改，请复制为新版本后修改。" in messages_of(response)
    with pytest.raises(WorkflowError):
        config.save_policy_grades(policy, org.cathy, list(policy.grades.all()))


def test_it_saves_a_drafts_grades(client, org):
    client.force_login(org.cathy)
    draft = draft_of(org)
    data = formset_data(draft, change={"A": {"credit_term_days": 45, "default_limit": "800000"}})
    response = client.post(reverse("credit:policy_edit", args=[draft.pk]), data)
    assert response.status_code == 302
    terms = draft.grades.get(grade="A")
    assert terms.credit_term_days == 45
    assert terms.default_limit == Decimal("800000")
    assert in_force().grades.get(grade="A").credit_term_days == 60  # the old version kept


def test_it_adds_and_removes_grades_and_swaps_ranks(client, org):
    client.force_login(org.cathy)
    draft = draft_of(org)
    new = {"grade": "e", "rank": "1", "limit_basis": "fixed", "default_limit": "0"}
    new |= {"limit_rate": "0", "credit_term_days": "0", "discount_percent": "0"}
    new |= {"discount_days": "0", "conditions": "", "cash_on_delivery": "on"}
    data = formset_data(draft, change={"A": {"rank": "5"}}, add=new, delete=["D"])
    response = client.post(reverse("credit:policy_edit", args=[draft.pk]), data)
    assert response.status_code == 302, response.context["formset"].errors
    assert dict(draft.grades.values_list("grade", "rank")) == {"A": 5, "B": 2, "C": 3, "E": 1}
    assert draft.grades.get(grade="E").conditions == {}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"B": {"grade": "A"}}, "等级 A 重复。"),
        ({"B": {"rank": "1"}}, "排序 1 重复"),
        ({"A": {"limit_rate": "120"}}, "比例应在0–100之间。"),
        ({"A": {"discount_percent": "-1"}}, "比例应在0–100之间。"),
        ({"A": {"max_limit": "1000"}}, "额度上限不能低于默认信用额度。"),
        ({"A": {"conditions": '{"min_age": 3}'}}, "未知的条件“min_age”"),
        ({"A": {"conditions": '{"max_debt_ratio": "x"}'}}, "应为非负数字"),
    ],
)
def test_it_refuses_bad_grades_and_writes_nothing(client, org, change, message):
    client.force_login(org.cathy)
    draft = draft_of(org)
    before = list(draft.grades.order_by("pk").values())
    response = client.post(
        reverse("credit:policy_edit", args=[draft.pk]), formset_data(draft, change)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(draft.grades.order_by("pk").values()) == before


def test_it_activates_a_draft_from_an_effective_date(client, org):
    client.force_login(org.cathy)
    old = in_force()
    draft = draft_of(org)
    url = reverse("credit:policy_activate", args=[draft.pk])
    response = client.post(url, {"effective_from": "2026-12-01"}, follow=True)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.ACTIVE
    assert draft.effective_from == datetime.date(2026, 12, 1)
    assert any("已启用" in m for m in messages_of(response))
    assert versions.policy_in_force(TODAY) == old
    assert versions.policy_in_force(datetime.date(2026, 12, 1)) == draft
    # Once active it is frozen.
    edit = client.get(reverse("credit:policy_edit", args=[draft.pk]), follow=True)
    assert "已生效的版本不能修改，请复制为新版本后修改。" in messages_of(edit)
    again = client.post(url, {"effective_from": "2026-12-02"}, follow=True)
    assert "已生效的版本不能修改，请复制为新版本后修改。" in messages_of(again)
    draft.refresh_from_db()
    assert draft.effective_from == datetime.date(2026, 12, 1)


def test_it_refuses_an_effective_date_in_the_past(client, org):
    client.force_login(org.adam)
    draft = draft_of(org)
    url = reverse("credit:policy_activate", args=[draft.pk])
    response = client.post(url, {"effective_from": "2026-11-22"}, follow=True)
    assert any("生效日期不能早于今天" in m for m in messages_of(response))
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_it_refuses_to_activate_a_policy_without_grades(org):
    draft = draft_of(org)
    GradeTerms.objects.filter(policy=draft).delete()
    with pytest.raises(WorkflowError, match="至少需要一个等级"):
        config.activate_version(draft, org.cathy, TODAY)


def test_the_index_shows_what_is_in_force(client, org):
    client.force_login(org.alice)
    response = client.get(reverse("credit:config"))
    assert response.status_code == 200
    assert response.context["in_force"]["policy"] == in_force()
    assert not response.context["can_manage"]


def test_the_draft_edit_screen_renders_every_grade(client, org):
    client.force_login(org.cathy)
    draft = draft_of(org)
    response = client.get(reverse("credit:policy_edit", args=[draft.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="grades-3-grade"' in body and 'name="grades-4-grade"' in body  # 4 + 1 blank
    assert "min_years_in_business" in body


def test_activating_asks_for_the_password_again(org):
    from django.test import Client

    plain = Client()
    plain.force_login(org.cathy)
    draft = draft_of(org)
    url = reverse("credit:policy_activate", args=[draft.pk])
    response = plain.post(url, {"effective_from": "2026-12-01"})
    assert response.url.startswith(reverse("confirm_password"))
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
