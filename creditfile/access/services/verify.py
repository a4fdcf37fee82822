"""Checking the audit trail (R-45, R-47): `creditfile audit verify [--against-backup FILE]`.

The whole chain is read in id order through a server-side cursor in chunks (bounded memory
at any size) and each event's hash is recomputed. The first problem is named:

- a missing id (a deleted row: ids are numbered 1, 2, 3… by the chain head),
- an event whose content no longer matches its hash (an edited field),
- an event whose prev_hash is not the hash of the event before it (reordered rows, an
  inserted row, or a row whose hash was recomputed after an edit: a forged hash),
- a chain head that does not name the last event (rows deleted at the end, rows added
  behind record()'s back),
- with --against-backup, an event whose hash differs from the one the backup recorded as
  the chain head then: the chain was rewritten up to there, however consistently.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils.translation import gettext as _

from creditfile.access import triggers
from creditfile.access.models import AuditChainHead
from creditfile.access.models.audit import GENESIS_HASH
from creditfile.access.services.audit import HASHED_FIELDS, canonical_detail, canonical_text

CHUNK = 10_000


# The time and the detail are read as text: building an aware datetime and a dict for
# each of a million rows, only to turn them back into text, was half of verify's time.
_TEXT_COLUMNS = {
    # SQLite keeps Django's 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC.
    "sqlite": {"time": 'CAST("time" AS TEXT)'},
    # Always six digits of microseconds (PostgreSQL's own text output trims zeros).
    "postgresql": {
        "time": """to_char("time" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')""",
        "detail": '"detail"::text',
    },
}


def _select(vendor: str) -> str:
    as_text = _TEXT_COLUMNS.get(vendor, {})
    columns = [as_text.get(name, f'"{name}"') for name in (*HASHED_FIELDS, "hash")]
    return f"SELECT {', '.join(columns)} FROM {triggers.TABLE} ORDER BY id"


@dataclass(frozen=True)
class Anchor:
    """A chain head recorded elsewhere (in a backup's manifest): event `last_id` had `last_hash`."""

    last_id: int
    last_hash: str
    source: str = ""


@dataclass
class Problem:
    event_id: int
    kind: str  # missing | edited | broken_link | head | anchor
    message: str


@dataclass
class ChainReport:
    checked: int
    last_id: int
    last_hash: str
    problem: Problem | None
    triggers_missing: list[str]

    @property
    def ok(self) -> bool:
        return self.problem is None


def _read_head() -> tuple[int, str]:
    head = AuditChainHead.objects.filter(pk=1).values_list("last_id", "last_hash").first()
    return head or (0, GENESIS_HASH)


def _time_reader(vendor: str):
    """The stored time, as _select reads it, in the form record() hashed: UTC in ISO form."""

    def other(value) -> str:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value.astimezone(UTC).isoformat()
        return str(value)

    if vendor == "sqlite":
        return lambda value: (
            value.replace(" ", "T", 1) + "+00:00" if type(value) is str else other(value)
        )
    if vendor == "postgresql":
        # isoformat() leaves out a fraction of zero microseconds.
        return lambda value: (
            (value[:-7] if value.endswith(".000000") else value) + "+00:00"
            if type(value) is str
            else other(value)
        )
    return other


def _detail_reader():
    """The stored detail (JSON text on both databases) in canonical form; the few distinct
    details of a trail are worked out once each."""
    cache: dict[str, str] = {}

    def read(raw) -> str:
        if not isinstance(raw, str):
            return canonical_detail(raw)
        text = cache.get(raw)
        if text is None:
            try:
                text = canonical_detail(json.loads(raw))
            except ValueError:
                text = raw  # not JSON: cannot match what record() hashed
            if len(cache) < 100_000:
                cache[raw] = text
        return text

    return read


def verify_chain(anchor: Anchor | None = None, *, chunk_size: int = CHUNK) -> ChainReport:
    """Walk the whole chain; stop at the first problem and name it.

    Raw rows through a chunked (server-side on PostgreSQL) cursor in one read transaction:
    bounded memory and one consistent snapshot however long the trail.
    """
    head_id, head_hash = head_before = _read_head()
    read_time = _time_reader(connection.vendor)
    read_detail = _detail_reader()
    sha256 = hashlib.sha256
    expected_id, prev, checked = 1, GENESIS_HASH, 0
    problem = None
    anchor_seen = anchor is None or anchor.last_id == 0
    anchor_id = anchor.last_id if anchor is not None else None
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(_select(connection.vendor))
        # PostgreSQL makes the rows in its own process: fetch the next chunk meanwhile.
        # SQLite makes them in this one, where a second thread only fights for the GIL.
        read = _read_ahead if connection.vendor == "postgresql" else _in_turn
        for rows in read(cursor, chunk_size):
            for (
                event_id,
                time,
                user_id,
                username,
                address,
                action,
                outcome,
                customer_id,
                object_type,
                object_id,
                object_repr,
                purpose,
                detail,
                request_id,
                prev_hash,
                stored_hash,
            ) in rows:
                if event_id != expected_id:
                    problem = _missing(expected_id, event_id)
                    break
                if prev_hash != prev:
                    problem = _broken_link(event_id)
                    break
                text = canonical_text(
                    event_id,
                    read_time(time),
                    user_id,
                    username,
                    address,
                    action,
                    outcome,
                    customer_id,
                    object_type,
                    object_id,
                    object_repr,
                    purpose,
                    read_detail(detail),
                    request_id,
                    prev_hash,
                )
                digest = sha256(text.encode("utf-8")).hexdigest()
                if digest != stored_hash:
                    problem = Problem(
                        event_id,
                        "edited",
                        _("事件 #%(id)s 的内容与其哈希不符：记录被修改。") % {"id": event_id},
                    )
                    break
                if event_id == head_id and digest != head_hash:
                    problem = _head_mismatch(event_id)
                    break
                if event_id == anchor_id:
                    anchor_seen = True
                    if digest != anchor.last_hash:
                        problem = _anchor_mismatch(anchor, event_id)
                        break
                prev = digest
                expected_id += 1
                checked += 1
            if problem is not None:
                break
    last_id = expected_id - 1
    if problem is None:
        problem = _check_head(head_before, _read_head(), last_id, prev)
    if problem is None and not anchor_seen:
        problem = Problem(
            anchor.last_id,
            "anchor",
            _("备份 %(source)s 记录的事件 #%(id)s 已不存在：其后的记录被删除。")
            % {"source": anchor.source, "id": anchor.last_id},
        )
    present = set(triggers.installed(connection))
    missing = [name for name in triggers.expected(connection.vendor) if name not in present]
    return ChainReport(checked, last_id, prev, problem, missing)


def _in_turn(cursor, size: int):
    while rows := cursor.fetchmany(size):
        yield rows


def _read_ahead(cursor, size: int):
    """The cursor's rows in chunks, the next chunk fetched in a thread while the caller
    hashes this one: the wait for the server releases the GIL, so on two cores the
    server's reading and this process's hashing overlap."""
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetch():
        try:
            while not stop.is_set():
                rows = cursor.fetchmany(size)
                chunks.put(rows)
                if not rows:
                    return
        except BaseException as exc:  # handed to the reader, raised there
            chunks.put(exc)

    fetcher = threading.Thread(target=fetch, name="audit-verify-read", daemon=True)
    fetcher.start()
    try:
        while True:
            rows = chunks.get()
            if isinstance(rows, BaseException):
                raise rows
            if not rows:
                return
            yield rows
    finally:
        stop.set()
        while fetcher.is_alive():  # let a fetch under way finish before the cursor closes
            try:
                chunks.get(timeout=0.05)
            except queue.Empty:
                pass
        fetcher.join()


def _broken_link(event_id: int) -> Problem:
    return Problem(
        event_id,
        "broken_link",
        _(
            "事件 #%(id)s 的前一哈希与事件 #%(prev)s 的哈希不符："
            "记录被调换顺序、插入，或其后的哈希被伪造。"
        )
        % {"id": event_id, "prev": event_id - 1},
    )


def _missing(expected_id: int, found_id: int) -> Problem:
    if found_id == expected_id + 1:
        message = _("事件 #%(id)s 缺失：记录被删除。") % {"id": expected_id}
    else:
        message = _("事件 #%(first)s 至 #%(last)s 缺失：记录被删除。") % {
            "first": expected_id,
            "last": found_id - 1,
        }
    return Problem(expected_id, "missing", message)


def _anchor_mismatch(anchor: Anchor, event_id: int) -> Problem:
    return Problem(
        event_id,
        "anchor",
        _(
            "事件 #%(id)s 的哈希与备份 %(source)s 记录的链头不符："
            "该事件及之前的记录在备份之后被改写。"
        )
        % {"id": event_id, "source": anchor.source},
    )


def _check_head(before: tuple[int, str], after: tuple[int, str], last_id: int, last_hash: str):
    """The head read before the walk must be reached; events past the head read after it
    were not written by record()."""
    if last_id < before[0]:
        return _missing(last_id + 1, before[0] + 1)
    if last_id > after[0]:
        return Problem(
            after[0] + 1,
            "head",
            _("事件 #%(id)s 在审计链头（#%(head)s）之后：记录未经系统写入。")
            % {"id": after[0] + 1, "head": after[0]},
        )
    if last_id == after[0] and last_hash != after[1]:
        return _head_mismatch(last_id)
    return None


def _head_mismatch(event_id: int) -> Problem:
    return Problem(
        event_id,
        "head",
        _("审计链头记录的哈希与事件 #%(id)s 不符：链头或记录被改动。") % {"id": event_id},
    )


def anchor_from_backup(path) -> Anchor:
    """The chain head a backup recorded; BackupError when it cannot be read or has none."""
    from creditfile.core.services.backup import BackupError, read_manifest

    manifest = read_manifest(path)
    head = manifest.get("audit_chain_head")
    if not isinstance(head, dict) or "last_id" not in head or "last_hash" not in head:
        raise BackupError(
            _("备份 %(path)s 没有记录审计链头（早于审计功能的备份）。") % {"path": path}
        )
    return Anchor(int(head["last_id"]), str(head["last_hash"]), source=str(path))
