"""Handover when an employee leaves (R-43): services/handover.py and the registry behind it."""

from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from creditfile.access.models import AuditEvent
from creditfile.core import handover as registry
from creditfile.core.models import Company, HandoverItem, HandoverRecord, ObjectChange, User
from creditfile.core.services import handover
from creditfile.core.testing import PASSWORD
from creditfile.credit.choices import ApplicationState, ReviewState
from creditfile.credit.models import CreditApplication, CreditReview
from creditfile.credit.services import workflow
from creditfile.customers.models import Customer, Region, Route
from creditfile.customers.services.timeline import timeline
from creditfile.customers.testing import make_customer
from creditfile.receivables.choices import CaseOutcome, CaseStatus, RunStatus
from creditfile.receivables.models import CollectionCase, DunningRun


@pytest.fixture
def book(org):
    """alice's work: two customers, an open and a decided application, an open and a closed
    case, a due and a done review, a route; and one customer of bob's that must not move."""
    first = make_customer("华信科技有限公司", owner=org.alice)
    second = make_customer("远东贸易有限公司", owner=org.alice)
    bobs = make_customer("鲍勃客户有限公司", owner=org.bob)
    open_app = workflow.create_application(
        first, org.alice, requested_limit=Decimal("100000"), requested_term_days=30
    )
    decided = workflow.create_application(
        second, org.alice, requested_limit=Decimal("50000"), requested_term_days=30
    )
    CreditApplication.objects.filter(pk=decided.pk).update(state=ApplicationState.REJECTED)
    company = Company.default()
    open_case = CollectionCase.objects.create(company=company, customer=first, owner=org.alice)
    closed_case = CollectionCase.objects.create(
        company=company,
        customer=second,
        owner=org.alice,
        status=CaseStatus.CLOSED,
        outcome=CaseOutcome.PAID,
    )
    due = CreditReview.objects.create(
        customer=first, kind="quarterly", period="2026Q4", due_on="2026-12-31", assigned_to=org.carl
    )
    region, _created = Region.objects.get_or_create(
        code="310115", defaults={"name": "浦东新区", "level": 3}
    )
    route = Route.objects.create(name="浦东一线", region=region, sales_rep=org.alice)
    return {
        "customers": [first, second],
        "bobs": bobs,
        "open_app": open_app,
        "decided": decided,
        "open_case": open_case,
        "closed_case": closed_case,
        "due": due,
        "route": route,
    }


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def test_it_registers_every_kind_each_app_declares():
    codes = [entry.kind for entry in registry.kinds()]

    assert codes == [
        "customer",
        "route",
        "credit_application",
        "credit_review",
        "collection_case",
        "dunning_run",
    ]


def test_it_moves_open_work_to_the_successor_and_leaves_closed_work(org, book):
    record = handover.hand_over(org.alice, org.bob, by=org.mary, reason="离职")

    for customer in book["customers"]:
        customer = reload(customer)
        assert customer.owner == org.bob
        assert customer.department == org.bob.department
    assert reload(book["open_app"]).requested_by == org.bob
    assert reload(book["decided"]).requested_by == org.alice
    assert reload(book["open_case"]).owner == org.bob
    assert reload(book["closed_case"]).owner == org.alice
    assert reload(book["route"]).sales_rep == org.bob
    assert reload(book["due"]).assigned_to == org.carl  # carl's, not alice's
    assert reload(book["bobs"]).owner == org.bob
    assert record.departing == org.alice and record.successor == org.bob
    assert record.handed_over_by == org.mary and record.reason == "离职"


def test_it_lists_what_moved_in_the_record(org, book):
    record = handover.hand_over(org.alice, org.bob, by=org.mary, reason="离职")

    items = {(i.kind, i.content_type.model_class(), i.object_id) for i in record.items.all()}
    assert items == {
        ("customer", Customer, book["customers"][0].pk),
        ("customer", Customer, book["customers"][1].pk),
        ("route", Route, book["route"].pk),
        ("credit_application", CreditApplication, book["open_app"].pk),
        ("collection_case", CollectionCase, book["open_case"].pk),
    }
    descriptions = list(
        HandoverItem.objects.filter(record=record).values_list("description", flat=True)
    )
    assert "华信科技有限公司" in descriptions
    assert any(book["open_app"].number in d for d in descriptions)
    groups = handover.grouped_items(record)
    assert [g.kind for g in groups] == [
        "customer",
        "route",
        "credit_application",
        "collection_case",
    ]


def test_it_moves_a_proposed_dunning_run_but_not_a_confirmed_one(org, book):
    company = Company.default()
    proposed = DunningRun.objects.create(company=company, as_of="2026-12-01", created_by=org.carl)
    confirmed = DunningRun.objects.create(
        company=company, as_of="2026-11-01", created_by=org.carl, status=RunStatus.CONFIRMED
    )

    handover.hand_over(org.carl, org.cathy, by=org.adam, reason="调岗", deactivate=False)

    assert reload(proposed).created_by == org.cathy
    assert reload(confirmed).created_by == org.carl
    with pytest.raises(handover.HandoverError, match="催收批次"):
        DunningRun.objects.filter(pk=proposed.pk).update(created_by=org.carl)
        handover.hand_over(org.carl, org.alice, by=org.adam, reason="调岗", deactivate=False)


def test_it_moves_reviews_assigned_to_the_departing(org, book):
    done = CreditReview.objects.create(
        customer=book["customers"][1],
        kind="annual",
        period="2025",
        due_on="2025-12-31",
        state=ReviewState.DONE,
        assigned_to=org.carl,
    )

    handover.hand_over(org.carl, org.cathy, by=org.adam, reason="调岗", deactivate=False)

    assert reload(book["due"]).assigned_to == org.cathy
    assert reload(done).assigned_to == org.carl


def test_it_shows_the_owner_change_on_the_customer_timeline(org, book):
    handover.hand_over(org.alice, org.bob, by=org.mary, reason="离职")

    customer = book["customers"][0]
    customer_type = ContentType.objects.get_for_model(Customer)
    changes = ObjectChange.objects.filter(
        content_type=customer_type, object_id=customer.pk, field="owner"
    )
    assert [(c.old_value, c.new_value, c.user) for c in changes] == [("Alice", "Bob", org.mary)]
    case_change = ObjectChange.objects.get(
        content_type=ContentType.objects.get_for_model(CollectionCase), field="owner"
    )
    assert case_change.root_id == customer.pk
    entries = [e for e in timeline(customer) if e.kind == "change"]
    assert any(("负责销售代表", "Alice", "Bob") in e.changes for e in entries)


def test_it_moves_nothing_when_any_part_fails(org, book):
    def broken(instances, values):
        if "requested_by" in values:
            raise RuntimeError("disk full")
        return real(instances, values)

    real = handover.history.record_updates
    with mock.patch.object(handover.history, "record_updates", broken):
        with pytest.raises(RuntimeError):
            handover.hand_over(org.alice, org.bob, by=org.mary, reason="离职")

    assert reload(book["customers"][0]).owner == org.alice
    assert reload(book["route"]).sales_rep == org.alice
    assert reload(book["open_app"]).requested_by == org.alice
    assert reload(book["open_case"]).owner == org.alice
    assert not HandoverRecord.objects.exists()
    assert reload(org.alice).is_active
    assert not ObjectChange.objects.filter(field="owner").exists()


def test_it_deactivates_the_departing_who_then_cannot_sign_in(org, book):
    client = Client()
    client.force_login(org.alice)
    assert client.get("/customers/").status_code == 200

    record = handover.hand_over(org.alice, org.bob, by=org.mary, reason="离职")

    assert record.deactivated
    assert not reload(org.alice).is_active
    assert client.get("/customers/").status_code == 302  # the open session has ended
    again = Client().post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert again.status_code == 200  # the form again, not a redirect into the system
    assert "_auth_user_id" not in again.client.session


def test_it_can_leave_the_departing_active(org, book):
    record = handover.hand_over(org.alice, org.bob, by=org.mary, reason="调岗", deactivate=False)

    assert not record.deactivated
    assert reload(org.alice).is_active


def test_it_records_an_audit_event(org, book):
    record = handover.hand_over(org.alice, org.bob, by=org.mary, reason="离职")

    event = AuditEvent.objects.get(action=AuditEvent.Action.HANDOVER)
    assert event.user_id == org.mary.pk
    assert event.object_id == str(record.pk)
    assert event.detail["customer"] == 2
    assert event.detail["successor"] == "bob"


@pytest.mark.parametrize(
    ("successor", "field", "words"),
    [
        ("alice", "successor", "本人"),
        ("carl", "successor", "不是销售代表或部门经理"),
        ("mary", "successor", "不是销售代表"),  # may own customers, not run a route
    ],
)
def test_it_refuses_a_successor_who_cannot_take_the_work(org, book, successor, field, words):
    with pytest.raises(handover.HandoverError) as refused:
        handover.hand_over(org.alice, getattr(org, successor), by=org.adam, reason="离职")

    assert refused.value.field == field
    assert words in str(refused.value.message)
    assert not HandoverRecord.objects.exists()
    assert reload(book["customers"][0]).owner == org.alice


def test_it_refuses_a_handover_of_oneself(org, book):
    with pytest.raises(handover.HandoverError) as refused:
        handover.hand_over(org.mary, org.alice, by=org.mary, reason="离职")

    assert refused.value.field == "departing"
    assert reload(org.mary).is_active


def test_it_refuses_an_inactive_successor_and_an_empty_reason(org, book):
    User.objects.filter(pk=org.bob.pk).update(is_active=False)
    with pytest.raises(handover.HandoverError) as inactive:
        handover.hand_over(org.alice, reload(org.bob), by=org.adam, reason="离职")
    with pytest.raises(handover.HandoverError) as no_reason:
        handover.hand_over(org.alice, org.walt, by=org.adam, reason="  ")

    assert inactive.value.field == "successor" and "已停用" in str(inactive.value.message)
    assert no_reason.value.field == "reason"


def test_it_refuses_when_there_is_nothing_to_hand_over_and_nobody_to_deactivate(org):
    with pytest.raises(handover.HandoverError) as refused:
        handover.hand_over(org.alice, org.bob, by=org.adam, reason="调岗", deactivate=False)

    assert refused.value.field == "departing"


def test_it_lets_a_department_manager_reach_only_their_department(org):
    assert set(handover.people_in_reach(org.mary)) == {org.alice, org.bob, org.mary}
    assert org.walt in handover.people_in_reach(org.dora)
    assert org.walt in handover.people_in_reach(org.adam)
    assert not handover.people_in_reach(org.alice).exists()
    assert not handover.people_in_reach(org.cathy).exists()


def test_it_previews_counts_without_moving(org, book):
    counts = {p.entry.kind: p.count for p in handover.pending(org.alice)}

    assert counts == {
        "customer": 2,
        "route": 1,
        "credit_application": 1,
        "credit_review": 0,
        "collection_case": 1,
        "dunning_run": 0,
    }
    assert reload(book["customers"][0]).owner == org.alice


def test_it_hands_over_from_the_command_line(org, book):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("handover", "--from", "alice", "--to", "bob", "--reason", "批量离职", stdout=out)

    record = HandoverRecord.objects.get()
    assert record.handed_over_by is None and record.reason == "批量离职"
    assert record.deactivated and not reload(org.alice).is_active
    assert reload(book["customers"][0]).owner == org.bob
    assert "完成" in out.getvalue()
    change = ObjectChange.objects.filter(field="owner").first()
    assert change.actor == "handover"


def test_it_reports_a_refusal_on_the_command_line(org, book):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="不是销售代表或部门经理"):
        call_command("handover", "--from", "alice", "--to", "carl", "--reason", "离职")
    with pytest.raises(CommandError, match="nobody"):
        call_command("handover", "--from", "nobody", "--to", "bob", "--reason", "离职")
    assert reload(org.alice).is_active


def test_it_moves_many_customers_in_a_fixed_number_of_queries(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(departing, successor, count):
        for number in range(count):
            make_customer(f"{departing.username}客户{number}有限公司", owner=departing)
        with CaptureQueriesContext(connection) as captured:
            handover.hand_over(departing, successor, by=org.adam, reason="离职")
        return len(captured)

    few = queries_for(org.alice, org.bob, 2)
    many = queries_for(org.walt, org.wendy, 40)

    assert many == few
    assert Customer.objects.filter(owner=org.wendy).count() == 40
    assert ObjectChange.objects.filter(field="owner", new_value="Wendy").count() == 40
