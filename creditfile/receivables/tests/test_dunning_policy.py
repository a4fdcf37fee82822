"""The dunning ladder editor 催收政策: numbering by days, refusals, kept step numbers."""

import datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType

from creditfile.core.models import Company, ObjectChange
from creditfile.receivables.models import DunningLevel, DunningPolicy, DunningTemplate
from creditfile.receivables.services import dunning
from creditfile.receivables.services.collections import CollectionError
from creditfile.receivables.services.ledger import post_invoice
from creditfile.receivables.testing import TODAY, credit_customer

URL = "/receivables/dunning-policy/"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 6, 30, 10, tzinfo=datetime.UTC), tick=False):
        yield


def _ladder(policy):
    return [
        (lv.level, lv.name, lv.days_overdue, lv.channel)
        for lv in DunningLevel.objects.filter(policy=policy).order_by("level")
    ]


def _rows(policy):
    return [
        dunning.LevelRow(lv.name, lv.days_overdue, lv.channel, lv.template, lv.pay_within_days)
        for lv in policy.levels.order_by("level")
    ]


def _letter():
    dunning.ensure_default_templates()
    return DunningTemplate.objects.get(name="催款函")


def test_steps_are_numbered_in_days_order_and_kept_by_number(db):
    policy = dunning.policy_for(Company.default())
    rows = _rows(policy)
    rows[0].days_overdue = 20  # the call now comes after the first letter (15 days)…
    rows.append(dunning.LevelRow("诉讼前通知", 120, "letter", _letter(), 5))
    dunning.replace_levels(policy, rows)
    assert _ladder(policy) == [
        (1, "催款函", 15, "letter"),
        (2, "到期提醒电话", 20, "phone"),
        (3, "再次催款函", 45, "letter"),
        (4, "律师函", 90, "lawyer"),
        (5, "诉讼前通知", 120, "letter"),
    ]
    # …and step 1's change is logged as step 1's change, from the call to the letter.
    changes = ObjectChange.objects.filter(
        root_type=ContentType.objects.get_for_model(DunningPolicy), root_id=policy.pk
    )
    assert changes.filter(field="days_overdue", old_value="1", new_value="15").exists()


def test_moving_a_step_down_the_ladder_does_not_trip_the_unique_days(db):
    policy = dunning.policy_for(Company.default())
    rows = _rows(policy)
    rows[3].days_overdue = 10  # the lawyer's letter now at 10 days: steps 2–4 all move down
    dunning.replace_levels(policy, rows)
    assert [(days, channel) for _lv, _n, days, channel in _ladder(policy)] == [
        (1, "phone"),
        (10, "lawyer"),
        (15, "letter"),
        (45, "letter"),
    ]


def test_a_shorter_ladder_drops_the_top_steps(db):
    policy = dunning.policy_for(Company.default())
    dunning.replace_levels(policy, _rows(policy)[:2])
    assert [lv for lv, *_ in _ladder(policy)] == [1, 2]


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda rows: rows.clear(), "levels"),
        (lambda rows: setattr(rows[1], "days_overdue", 1), "days_overdue"),
        (lambda rows: setattr(rows[1], "template", None), "template"),
    ],
    ids=["empty", "same-days", "letter-without-template"],
)
def test_a_bad_ladder_is_refused_and_nothing_changes(db, change, field):
    policy = dunning.policy_for(Company.default())
    before = _ladder(policy)
    rows = _rows(policy)
    change(rows)
    with pytest.raises(CollectionError) as refused:
        dunning.replace_levels(policy, rows)
    assert refused.value.field == field
    assert _ladder(policy) == before


def test_no_change_while_a_run_awaits_confirmation_nor_dropping_a_used_step(org):
    customer = credit_customer(org.cathy, "500000", owner=org.alice)
    month_ago = TODAY - datetime.timedelta(days=30)
    post_invoice(
        customer, "FP-1", month_ago - datetime.timedelta(days=30), "1000", due_date=month_ago
    )
    policy = dunning.policy_for(Company.default())
    run = dunning.propose_run(Company.default(), TODAY, org.carl)
    with pytest.raises(CollectionError, match="待确认"):
        dunning.replace_levels(policy, _rows(policy))
    dunning.cancel_run(run, org.carl)
    # The cancelled run proposed step 1; a one-step ladder keeps it, dropping 2–4 is fine.
    dunning.replace_levels(policy, _rows(policy)[:1])
    assert len(_ladder(policy)) == 1
    used_twice = dunning.propose_run(Company.default(), TODAY, org.carl)
    dunning.confirm_run(used_twice, org.carl, [p.pk for p in used_twice.proposals.all()])
    restored = [dunning.LevelRow("催款函", 15, "letter", _letter(), 10)]
    dunning.replace_levels(policy, _rows(policy) + restored)
    again = dunning.propose_run(Company.default(), TODAY, org.carl)
    assert again.proposals.get().level.level == 2
    dunning.cancel_run(again, org.carl)
    with pytest.raises(CollectionError, match="第2级"):
        dunning.replace_levels(policy, _rows(policy)[:1])
    assert len(_ladder(policy)) == 2


def _form(policy, **overrides):
    data = {"levels-TOTAL_FORMS": "5", "levels-INITIAL_FORMS": "4"}
    for index, lv in enumerate(policy.levels.order_by("level")):
        data |= {
            f"levels-{index}-name": lv.name,
            f"levels-{index}-days_overdue": str(lv.days_overdue),
            f"levels-{index}-channel": lv.channel,
            f"levels-{index}-template": str(lv.template_id or ""),
            f"levels-{index}-pay_within_days": str(lv.pay_within_days),
        }
    return data | overrides


def test_the_credit_manager_edits_the_ladder_on_the_screen(client, org):
    client.force_login(org.cathy)
    assert client.get(URL).status_code == 200
    policy = DunningPolicy.objects.get(company=Company.default())
    response = client.post(
        URL,
        _form(
            policy,
            **{
                "levels-3-DELETE": "on",
                "levels-4-name": "上门催收",
                "levels-4-days_overdue": "60",
                "levels-4-channel": "visit",
                "levels-4-pay_within_days": "7",
            },
        ),
    )
    assert response.status_code == 302
    assert [(lv, n) for lv, n, *_ in _ladder(policy)] == [
        (1, "到期提醒电话"),
        (2, "催款函"),
        (3, "再次催款函"),
        (4, "上门催收"),
    ]
    page = client.get(URL).content.decode()
    assert "上门催收" in page and "policy-changes" in page


def test_a_refusal_on_the_screen_names_the_problem_and_keeps_the_ladder(client, org):
    client.force_login(org.cathy)
    client.get(URL)
    policy = DunningPolicy.objects.get(company=Company.default())
    before = _ladder(policy)
    response = client.post(URL, _form(policy, **{"levels-1-template": ""}))
    assert response.status_code == 200
    assert "须选择函件模板" in response.content.decode()
    assert _ladder(policy) == before


@pytest.mark.parametrize("username", ["carl", "fiona", "alice"])
def test_others_read_the_ladder_but_cannot_change_it(client, org, username):
    client.force_login(getattr(org, username))
    page = client.get(URL)
    assert page.status_code == 200 and "到期提醒电话" in page.content.decode()
    policy = DunningPolicy.objects.get(company=Company.default())
    assert client.post(URL, _form(policy)).status_code == 403


def test_a_user_without_a_role_gets_403(client, org, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x-Long-pw-1"))
    assert client.get(URL).status_code == 403
