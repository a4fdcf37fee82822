"""Scorecard screens (R-23): versions, factor editing with band tables, validation, activation."""

import datetime
import json
from decimal import Decimal

import pytest
import time_machine
from django.http import QueryDict
from django.urls import reverse

from creditfile.credit.choices import VersionStatus
from creditfile.credit.models import Scorecard
from creditfile.credit.services import configuration as config
from creditfile.credit.services import policy as versions
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.views.configuration import FACTOR_FIELDS, BandsWidget

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


def in_force() -> Scorecard:
    return versions.scorecard_in_force(TODAY)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def table_cells(name: str, rows: list[dict], keys) -> dict:
    data = {f"{name}-count": len(rows)}
    for index, row in enumerate(rows):
        for key in keys:
            value = row.get(key)
            data[f"{name}-{index}-{key}"] = "" if value is None else str(value)
    return data


BAND_KEYS = ("min", "max", "value", "points", "label")


def scorecard_data(scorecard, change=None, bands=None, grade_bands=None, delete=()) -> dict:
    """POST data of the edit screen from the draft's factors, with `change` applied by code."""
    factors = list(scorecard.factors.all())
    data = {
        "name": scorecard.name,
        "notes": "",
        "factors-TOTAL_FORMS": len(factors),
        "factors-INITIAL_FORMS": len(factors),
        "factors-MIN_NUM_FORMS": 0,
        "factors-MAX_NUM_FORMS": 1000,
    }
    data |= table_cells("grade_bands", grade_bands or scorecard.grade_bands, ("grade", "min_score"))
    for index, factor in enumerate(factors):
        prefix = f"factors-{index}"
        for name in FACTOR_FIELDS:
            if name == "bands":
                continue
            data[f"{prefix}-{name}"] = getattr(factor, name)
        data[f"{prefix}-id"] = factor.pk
        data.update({f"{prefix}-{k}": v for k, v in (change or {}).get(factor.code, {}).items()})
        factor_bands = (bands or {}).get(factor.code, factor.bands)
        data |= table_cells(f"{prefix}-bands", factor_bands, BAND_KEYS)
        if factor.code in delete:
            data[f"{prefix}-DELETE"] = "on"
    return data


def first_numeric(scorecard):
    return next(f for f in scorecard.factors.all() if f.direction != "category")


def test_it_shows_factors_bands_weights_and_reasoning_to_sales(client, org):
    client.force_login(org.alice)
    scorecard = in_force()
    assert client.get(reverse("credit:scorecards")).status_code == 200
    response = client.get(reverse("credit:scorecard_detail", args=[scorecard.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    factor = first_numeric(scorecard)
    assert factor.label in body
    assert factor.reasoning[:20] in body
    assert response.context["total_weight"] == Decimal(100)
    assert "复制为新草稿" not in body  # sales may read, not change


@pytest.mark.parametrize("name", ["alice", "carl", "fiona", "george"])
def test_it_refuses_scorecard_changes_without_manage_policy(client, org, name):
    client.force_login(getattr(org, name))
    scorecard = in_force()
    draft = config.copy_to_draft(scorecard, org.cathy)
    assert client.post(reverse("credit:scorecard_copy", args=[scorecard.pk])).status_code == 403
    assert client.get(reverse("credit:scorecard_edit", args=[draft.pk])).status_code == 403
    url = reverse("credit:scorecard_activate", args=[draft.pk])
    assert client.post(url, {"effective_from": "2026-12-01"}).status_code == 403
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_it_renders_the_edit_screen_with_band_tables(client, org):
    client.force_login(org.cathy)
    draft = config.copy_to_draft(in_force(), org.cathy)
    response = client.get(reverse("credit:scorecard_edit", args=[draft.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="factors-0-bands-0-points"' in body
    assert 'name="grade_bands-0-min_score"' in body


def test_the_band_table_posts_as_a_json_list():
    widget = BandsWidget()
    data = QueryDict(mutable=True)
    data.update(
        {
            "b-count": "4",
            "b-0-max": "10",
            "b-0-points": "100",
            "b-1-min": "10",
            "b-1-max": "30.5",
            "b-1-points": "60",
            "b-2-value": "good",
            "b-2-min": "5",
            "b-2-points": "80",
            "b-3-min": "",  # a blank spare row is dropped
        }
    )
    rows = json.loads(widget.value_from_datadict(data, {}, "b"))
    assert rows == [
        {"min": None, "max": 10, "points": 100},
        {"min": 10, "max": 30.5, "points": 60},
        {"value": "good", "points": 80},
    ]


def test_it_saves_factor_bands_edited_in_the_table(client, org):
    client.force_login(org.cathy)
    draft = config.copy_to_draft(in_force(), org.cathy)
    factor = first_numeric(draft)
    new_bands = [dict(band) for band in factor.bands]
    new_bands[0]["points"] = new_bands[0]["points"]  # same shape, new label
    new_bands[0]["label"] = "最好一档"
    data = scorecard_data(
        draft, bands={factor.code: new_bands}, change={factor.code: {"reasoning": "新理由"}}
    )
    response = client.post(reverse("credit:scorecard_edit", args=[draft.pk]), data)
    assert response.status_code == 302, (
        response.context["card_form"].errors,
        response.context["formset"].errors,
    )
    factor.refresh_from_db()
    assert factor.bands[0]["label"] == "最好一档"
    assert factor.reasoning == "新理由"
    assert in_force().factors.get(code=factor.code).reasoning != "新理由"


def _refused(client, draft, data, message):
    before = [(f.code, f.weight, f.bands) for f in draft.factors.all()]
    response = client.post(reverse("credit:scorecard_edit", args=[draft.pk]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert [(f.code, f.weight, f.bands) for f in draft.factors.all()] == before


def test_it_refuses_weights_that_do_not_sum_to_100(client, org):
    client.force_login(org.cathy)
    draft = config.copy_to_draft(in_force(), org.cathy)
    factor = first_numeric(draft)
    data = scorecard_data(draft, change={factor.code: {"weight": factor.weight + 1}})
    _refused(client, draft, data, "各因素权重之和应为100")


def test_it_refuses_overlapping_bands(client, org):
    client.force_login(org.cathy)
    draft = config.copy_to_draft(in_force(), org.cathy)
    factor = first_numeric(draft)
    bands = [dict(band) for band in factor.bands]
    bands[1]["min"] = bands[0]["max"] - 1 if bands[0]["max"] is not None else 0
    _refused(client, draft, scorecard_data(draft, bands={factor.code: bands}), "互不重叠")


@pytest.mark.parametrize(
    "cells, message",
    [
        ({"points": "120"}, "得分应在0–100之间"),
        ({"points": "abc"}, "不是数字"),
        ({"points": ""}, "缺少得分"),
    ],
)
def test_it_refuses_bad_points(client, org, cells, message):
    client.force_login(org.cathy)
    draft = config.copy_to_draft(in_force(), org.cathy)
    factor = first_numeric(draft)
    bands = [dict(band) for band in factor.bands]
    bands[0] |= cells
    _refused(client, draft, scorecard_data(draft, bands={factor.code: bands}), message)


def test_it_refuses_a_duplicate_factor_code(client, org):
    client.force_login(org.cathy)
    draft = config.copy_to_draft(in_force(), org.cathy)
    first, second = list(draft.factors.all())[:2]
    data = scorecard_data(draft, change={second.code: {"code": first.code}})
    _refused(client, draft, data, "因素代码重复")


def test_it_activates_a_valid_scorecard_on_a_future_date(client, org):
    client.force_login(org.adam)
    old = in_force()
    draft = config.copy_to_draft(old, org.adam)
    url = reverse("credit:scorecard_activate", args=[draft.pk])
    response = client.post(url, {"effective_from": "2027-01-01"}, follow=True)
    assert any("已启用" in m for m in messages_of(response))
    assert versions.scorecard_in_force(TODAY) == old
    assert versions.scorecard_in_force(datetime.date(2027, 1, 1)) == draft
    edit = client.get(reverse("credit:scorecard_edit", args=[draft.pk]), follow=True)
    assert "已生效的版本不能修改，请复制为新版本后修改。" in messages_of(edit)


def test_it_refuses_to_activate_a_scorecard_with_a_grade_the_policy_lacks(org):
    draft = config.copy_to_draft(in_force(), org.cathy)
    Scorecard.objects.filter(pk=draft.pk).update(
        grade_bands=[{"grade": "AAA", "min_score": 90}, {"grade": "D", "min_score": 0}]
    )
    draft.refresh_from_db()
    with pytest.raises(WorkflowError, match="AAA"):
        config.activate_version(draft, org.cathy, TODAY)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_it_refuses_to_save_a_scorecard_in_force(org):
    scorecard = in_force()
    with pytest.raises(WorkflowError, match="已生效的版本不能修改"):
        config.save_scorecard(scorecard, org.cathy, list(scorecard.factors.all()))


def test_it_copies_the_scorecard_in_force_to_a_draft(client, org):
    client.force_login(org.cathy)
    scorecard = in_force()
    response = client.post(reverse("credit:scorecard_copy", args=[scorecard.pk]))
    draft = Scorecard.objects.get(version=scorecard.version + 1)
    assert response.url == reverse("credit:scorecard_edit", args=[draft.pk])
    assert draft.status == VersionStatus.DRAFT
    assert draft.factors.count() == scorecard.factors.count()
    assert draft.grade_bands == scorecard.grade_bands
