"""`creditfile audit verify` names the first event a database user changed, deleted,
reordered or forged (R-45). Each tampering is done as a database user would: raw SQL with
the append-only triggers lifted."""

import io
import json
import tarfile

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from creditfile.access import triggers
from creditfile.access.models import AuditEvent
from creditfile.access.services import audit
from creditfile.access.services.verify import Anchor, anchor_from_backup, verify_chain
from creditfile.access.testing import triggers_lifted
from creditfile.core.services.backup import BackupError, create_backup


@pytest.fixture
def chain(org):
    """Five events 1…5 from an empty trail."""
    return [
        audit.record(audit.Action.VIEW, user=org.alice, customer=7, detail={"n": n})
        for n in range(5)
    ]


def tamper(sql, params=()):
    with triggers_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, list(params))


def forged_hash(event_id: int) -> str:
    """The hash a forger who knows the scheme computes for the row as it now stands."""
    return audit.event_hash(AuditEvent.objects.get(pk=event_id))


def test_it_accepts_an_untouched_chain(chain):
    report = verify_chain()
    assert report.ok, report.problem
    assert (report.checked, report.last_id, report.last_hash) == (5, 5, chain[-1].hash)
    assert report.triggers_missing == []


def test_it_accepts_an_empty_trail(db):
    report = verify_chain()
    assert report.ok and report.checked == 0


def test_it_verifies_events_written_on_a_whole_second(org):
    """isoformat() leaves out zero microseconds; verify reads the time as text and must
    write it the same way."""
    import datetime

    import time_machine

    moments = [
        datetime.datetime(2026, 12, 7, 10, 0, 0, tzinfo=datetime.UTC),
        datetime.datetime(2026, 12, 7, 10, 0, 0, 120000, tzinfo=datetime.UTC),
    ]
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            audit.record(audit.Action.LOGIN, user=org.alice)
    report = verify_chain()
    assert report.ok, report.problem
    assert report.checked == 2


def test_it_verifies_events_with_every_kind_of_content(org):
    audit.record(
        audit.Action.CHANGE,
        user=org.alice,
        customer="12",
        obj=org.bob,
        purpose="年审" * 200,
        detail={"fields": "name,level", 3: 4.5, "中文": "是"},
    )
    audit.record(audit.Action.LOGIN_FAILED, username="nobody", outcome=audit.Outcome.FAILED)
    assert verify_chain().ok


def test_it_names_an_edited_field(chain):
    tamper("UPDATE access_auditevent SET username = 'bob' WHERE id = 3")
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (3, "edited")


def test_it_names_an_edited_detail(chain):
    tamper("UPDATE access_auditevent SET detail = %s WHERE id = 2", [json.dumps({"n": 99})])
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (2, "edited")


def test_it_names_a_deleted_row(chain):
    tamper("DELETE FROM access_auditevent WHERE id = 2")
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (2, "missing")
    assert "#2" in problem.message


def test_it_names_rows_deleted_at_the_end(chain):
    tamper("DELETE FROM access_auditevent WHERE id >= 4")
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (4, "missing")


def test_it_names_reordered_rows(chain):
    # Swap events 2 and 3 by renumbering: row 2 now links to event 2's own hash.
    tamper("UPDATE access_auditevent SET id = -2 WHERE id = 2")
    tamper("UPDATE access_auditevent SET id = 2 WHERE id = 3")
    tamper("UPDATE access_auditevent SET id = 3 WHERE id = -2")
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (2, "broken_link")


def test_it_names_reordered_times(chain):
    first, second = chain[1], chain[2]
    tamper("UPDATE access_auditevent SET time = %s WHERE id = %s", [second.time, first.id])
    tamper("UPDATE access_auditevent SET time = %s WHERE id = %s", [first.time, second.id])
    problem = verify_chain().problem
    assert problem.event_id == 2


def test_it_names_the_event_after_a_forged_hash(chain):
    tamper("UPDATE access_auditevent SET username = 'bob' WHERE id = 3")
    tamper("UPDATE access_auditevent SET hash = %s WHERE id = 3", [forged_hash(3)])
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (4, "broken_link")


def test_it_names_a_forged_last_event_by_the_chain_head(chain):
    tamper("UPDATE access_auditevent SET username = 'bob' WHERE id = 5")
    tamper("UPDATE access_auditevent SET hash = %s WHERE id = 5", [forged_hash(5)])
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (5, "head")


def test_it_names_a_row_added_behind_the_writers_back(chain):
    last = chain[-1]
    row = AuditEvent(
        id=6,
        time=last.time,
        username="eve",
        action="login",
        outcome="ok",
        prev_hash=last.hash,
        detail={},
    )
    row.hash = audit.event_hash(row)
    row.save()
    problem = verify_chain().problem
    assert (problem.event_id, problem.kind) == (6, "head")


def _rewrite_from(event_id: int) -> None:
    """What a determined forger with database access does: rewrite every hash from the
    edited event on, and the chain head, so the chain itself is consistent again."""
    tamper("UPDATE access_auditevent SET username = 'bob' WHERE id = %s", [event_id])
    last = None
    for pk in AuditEvent.objects.filter(id__gte=event_id).order_by("id").values_list("id"):
        row = AuditEvent.objects.get(pk=pk[0])
        if last is not None:
            row.prev_hash = last
        last = audit.event_hash(row)
        tamper(
            "UPDATE access_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [row.prev_hash, last, row.id],
        )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE access_auditchainhead SET last_hash = %s", [last])


def test_it_proves_against_a_recorded_head_what_a_rewritten_chain_hides(chain):
    anchor = Anchor(last_id=4, last_hash=chain[3].hash, source="backup")
    assert verify_chain(anchor).ok
    _rewrite_from(2)
    assert verify_chain().ok  # consistent in itself…
    problem = verify_chain(anchor).problem  # …but not with what the backup recorded
    assert (problem.event_id, problem.kind) == (4, "anchor")


def test_it_reports_missing_triggers(chain):
    with triggers_lifted():
        assert verify_chain().triggers_missing == triggers.expected(connection.vendor)


def test_it_exits_non_zero_naming_the_broken_event(chain, capsys):
    call_command("audit", "verify")
    assert "Audit chain OK: 5" in capsys.readouterr().out
    tamper("DELETE FROM access_auditevent WHERE id = 3")
    with pytest.raises(CommandError, match="#3") as raised:
        call_command("audit", "verify")
    assert raised.value.returncode == 1


@pytest.mark.django_db(transaction=True)
def test_it_stores_the_chain_head_with_each_backup_and_verifies_against_it(org, tmp_path):
    for n in range(3):
        audit.record(audit.Action.VIEW, user=org.alice, detail={"n": n})
    path = create_backup(tmp_path).path
    anchor = anchor_from_backup(path)
    assert (anchor.last_id, anchor.last_hash) == (3, AuditEvent.objects.get(pk=3).hash)
    audit.record(audit.Action.VIEW, user=org.alice)  # later events are fine
    call_command("audit", "verify", "--against-backup", str(path))
    _rewrite_from(2)
    with pytest.raises(CommandError, match="#3") as raised:
        call_command("audit", "verify", "--against-backup", str(path))
    assert raised.value.returncode == 1


def test_it_refuses_a_backup_without_a_chain_head(tmp_path, db):
    path = tmp_path / "old.tar"
    manifest = json.dumps({"format_version": 1, "members": {}}).encode()
    with tarfile.open(path, "w") as archive:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        archive.addfile(info, io.BytesIO(manifest))
    with pytest.raises(BackupError):
        anchor_from_backup(path)
    with pytest.raises(CommandError, match="链头"):
        call_command("audit", "verify", "--against-backup", str(path))


class _FakeCursor:
    def __init__(self, rows, fail_after=None):
        self.rows, self.fail_after, self.fetches = list(rows), fail_after, 0

    def fetchmany(self, size):
        self.fetches += 1
        if self.fail_after is not None and self.fetches > self.fail_after:
            raise RuntimeError("connection lost")
        chunk, self.rows = self.rows[:size], self.rows[size:]
        return chunk


def test_reading_ahead_hands_over_every_chunk_in_order_and_stops_cleanly():
    from creditfile.access.services.verify import _read_ahead

    assert list(_read_ahead(_FakeCursor(range(10)), 3)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    cursor = _FakeCursor(range(1000))
    chunks = _read_ahead(cursor, 10)
    assert next(chunks) == list(range(10))
    chunks.close()  # a problem found: the reader stops, the fetching thread ends
    assert cursor.fetches <= 4
    with pytest.raises(RuntimeError, match="connection lost"):
        list(_read_ahead(_FakeCursor(range(100), fail_after=2), 10))


def test_it_reads_a_chain_of_many_chunks_and_stops_in_the_middle_of_one(chain):
    """Small chunks: on PostgreSQL the next one is fetched in a second thread meanwhile."""
    report = verify_chain(chunk_size=2)
    assert report.ok, report.problem
    assert report.checked == 5
    tamper(f"UPDATE {triggers.TABLE} SET username = %s WHERE id = 3", ["mallory"])
    report = verify_chain(chunk_size=2)
    assert (report.problem.event_id, report.problem.kind) == (3, "edited")
    assert report.checked == 2
    # The cursor and its transaction were left in order: the database answers.
    assert AuditEvent.objects.count() == 5
