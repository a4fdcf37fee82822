"""The database itself refuses to change or delete audit events (R-45)."""

import pytest
from django.db import DatabaseError, connection, transaction

from creditfile.access import triggers
from creditfile.access.models import AuditChainHead, AuditEvent
from creditfile.access.services import audit
from creditfile.access.testing import triggers_lifted


def test_it_has_the_append_only_triggers_installed(db):
    assert triggers.installed(connection) == triggers.expected(connection.vendor)


def test_it_refuses_a_database_user_updating_an_event(org):
    event = audit.record(audit.Action.VIEW, user=org.alice)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE access_auditevent SET username = 'eve' WHERE id = %s", [event.id])
    assert AuditEvent.objects.get(pk=event.pk).username == "alice"


def test_it_refuses_a_database_user_deleting_events(org):
    audit.record(audit.Action.VIEW, user=org.alice)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM access_auditevent")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_it_refuses_truncating_the_audit_table(org):
    audit.record(audit.Action.VIEW, user=org.alice)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE access_auditevent")
    assert AuditEvent.objects.count() == 1


def test_it_still_moves_the_chain_head_forward(org):
    first = audit.record(audit.Action.VIEW, user=org.alice)
    second = audit.record(audit.Action.VIEW, user=org.alice)
    assert AuditChainHead.objects.get().last_id == second.id == first.id + 1


def test_it_lets_a_test_lift_the_triggers_only_inside_its_block(org):
    event = audit.record(audit.Action.VIEW, user=org.alice)
    with triggers_lifted(), connection.cursor() as cursor:
        cursor.execute("UPDATE access_auditevent SET username = 'x' WHERE id = %s", [event.id])
    assert triggers.installed(connection) == triggers.expected(connection.vendor)


@pytest.mark.django_db(transaction=True)
def test_it_lets_the_test_runner_flush_and_keeps_the_triggers(org):
    # The flush after this test must empty the audit table; the next test proves it did.
    audit.record(audit.Action.VIEW, user=org.alice)
    assert triggers.installed(connection) == triggers.expected(connection.vendor)


@pytest.mark.django_db(transaction=True)
def test_it_starts_the_next_transactional_test_with_an_empty_protected_table(db):
    assert AuditEvent.objects.count() == 0
    assert triggers.installed(connection) == triggers.expected(connection.vendor)
