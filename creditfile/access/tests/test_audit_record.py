"""The audit writer: events are numbered, chained and cannot be changed through the ORM."""

import threading

import pytest

from creditfile.access.models import AuditChainHead, AuditEvent
from creditfile.access.models.audit import GENESIS_HASH
from creditfile.access.services import audit


def test_it_chains_each_event_to_the_one_before(org):
    first = audit.record(audit.Action.LOGIN, user=org.alice)
    second = audit.record(audit.Action.VIEW, user=org.alice, purpose="年审")
    assert second.id == first.id + 1
    assert second.prev_hash == first.hash
    stored = AuditEvent.objects.get(pk=second.pk)
    assert audit.event_hash(stored) == stored.hash
    head = AuditChainHead.objects.get()
    assert (head.last_id, head.last_hash) == (second.id, second.hash)


def test_it_changes_the_hash_when_any_content_changes(org):
    event = audit.record(audit.Action.VIEW, user=org.alice, detail={"tab": "basic"})
    stored = AuditEvent.objects.get(pk=event.pk)
    stored.detail = {"tab": "keypersons"}
    assert audit.event_hash(stored) != event.hash


def test_it_refuses_to_update_or_delete_through_the_orm(org):
    event = audit.record(audit.Action.LOGIN, user=org.alice)
    stored = AuditEvent.objects.get(pk=event.pk)
    with pytest.raises(TypeError):
        stored.save()
    with pytest.raises(TypeError):
        stored.delete()


def test_it_starts_from_the_genesis_hash(db):
    AuditChainHead.objects.all().delete()
    event = audit.record(audit.Action.SYSTEM, username="system")
    assert event.prev_hash == GENESIS_HASH
    assert event.id == 1


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_chain_when_writers_race(org):
    errors = []

    def write(n):
        from django.db import connections

        try:
            for _ in range(5):
                audit.record(audit.Action.VIEW, username=f"w{n}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.id for e in events] == list(range(events[0].id, events[0].id + 40))
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash


def test_it_takes_the_address_and_request_id_of_the_current_request(org, rf):
    from django.http import HttpResponse

    from creditfile.core.middleware import RequestContextMiddleware

    recorded = []

    def deep_inside_a_service(request):
        # No request passed: record() must find the address and id by itself.
        recorded.append(audit.record(audit.Action.VIEW, user=org.alice))
        return HttpResponse("ok")

    request = rf.get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_REQUEST_ID="req-42")
    request.user = org.alice
    RequestContextMiddleware(deep_inside_a_service)(request)
    assert (recorded[0].address, recorded[0].request_id) == ("10.1.2.3", "req-42")
    # Outside a request nothing is made up.
    outside = audit.record(audit.Action.SYSTEM, username="system")
    assert outside.address == ""


def test_it_hashes_the_same_text_as_sorted_compact_json(org):
    """The hand-written canonical form is exactly json.dumps(sort_keys, no spaces), for
    text that needs escaping too."""
    import json
    from datetime import UTC

    event = audit.record(
        audit.Action.CHANGE,
        user=org.alice,
        customer=3,
        purpose='引号" 反斜杠\\ 换行\n 制表\t \x01 é 🙂',
        detail={"b": 'x"y', "a": [1, 2.5, None], "中": {"z": 1, "y": True}},
        username="ignored",
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    content = {name: getattr(stored, name) for name in audit.HASHED_FIELDS}
    content["time"] = stored.time.astimezone(UTC).isoformat()
    expected = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert (
        audit.canonical_text(
            *(
                content[name] if name != "detail" else audit.canonical_detail(stored.detail)
                for name in audit.HASHED_FIELDS
            )
        )
        == expected
    )
    assert stored.hash == event.hash == audit.event_hash(stored)


def test_it_keeps_detail_in_a_form_every_database_stores_unchanged(org):
    from datetime import date
    from decimal import Decimal

    event = audit.record(
        audit.Action.EXPORT,
        user=org.alice,
        detail={"rows": 3, "amount": Decimal("2.50"), "big": 1e20, 7: date(2026, 12, 7)},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.detail == {"rows": 3, "amount": "2.50", "big": "1e+20", "7": "2026-12-07"}
    assert audit.event_hash(stored) == event.hash


def test_it_appends_an_event_in_one_statement_on_postgresql(org):
    """Every page read writes an event, so its round trips are the cost of audit logging
    per request (goal < 2 ms, `creditfile bench audit`)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    audit.record(audit.Action.LOGIN, user=org.alice)
    with CaptureQueriesContext(connection) as queries:
        event = audit.record(audit.Action.VIEW, user=org.alice, customer=3)
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # SQLite: lock the head, insert, move the head (in-process, no round trips to save).
    assert len(statements) == (1 if connection.vendor == "postgresql" else 3), statements
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash


def test_a_value_too_long_for_its_column_is_refused_not_cut_behind_its_hash(org):
    """PostgreSQL refuses the event (an explicit cast would have cut the text after it was
    hashed whole, and verify would call the event edited); SQLite keeps the text whole."""
    from django.db import DataError, connection
    from django.utils import timezone

    from creditfile.access.services.verify import verify_chain

    audit.record(audit.Action.LOGIN, user=org.alice)
    event = AuditEvent(time=timezone.now(), action="login", outcome="ok", address="1" * 60)
    if connection.vendor == "postgresql":
        with pytest.raises(DataError):  # inside the test's transaction: a savepoint
            audit._append_in_one_statement(event)
    else:
        audit._append(event)
    # The caller's transaction goes on (a refused event does not abort it).
    report = verify_chain()
    assert report.ok, report.problem
