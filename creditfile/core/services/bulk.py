"""Writing many rows fast: the batches (rescore, demo data) that insert 100,000s of rows.

`insert_rows` is bulk_create without a model instance per row and without preparing
every value through its field, which for 200,000 evaluations cost more than a whole
batch's time budget: COPY on PostgreSQL, one INSERT … SELECT FROM json_each on SQLite.
`reserve_ids` hands out primary keys before the rows exist, so the rows that point at
them (proposals at their evaluation) can be built before anything is written.
`update_rows` changes many rows' fields without a model instance per row.
`BackgroundWriter` lets the database take in one batch while Python prepares the next
one, inside the caller's transaction. `insert_one` is `save()` of one new instance for
the hottest path (the order credit check), without the ORM composing the INSERT.
"""

import json
import queue
import threading

from django.db import connection
from django.db.models.signals import post_save, pre_save

from creditfile.core.services import rows as model_rows

_insert_sql: dict[tuple, str] = {}


def reserve_ids(model, count: int) -> list[int]:
    """`count` new primary keys of `model`'s table, never handed out again.

    PostgreSQL: from the table's sequence. SQLite: by moving the AUTOINCREMENT counter on
    by `count`; this needs the write lock until the rows are in, so it must run inside
    `transaction.atomic()` (SQLite transactions here begin IMMEDIATE, holding the lock),
    and a rollback gives the keys back.
    """
    if count <= 0:
        return []
    meta = model._meta
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if not connection.in_atomic_block:
            raise RuntimeError("reserve_ids needs a transaction on SQLite")
        table = connection.ops.quote_name(meta.db_table)
        pk = connection.ops.quote_name(meta.pk.column)
        cursor.execute(f"SELECT coalesce(max({pk}), 0) FROM {table}")
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [meta.db_table])
        row = cursor.fetchone()
        last = max(highest, row[0] if row else 0) + count
        if row is None:  # the table never had a row: SQLite has no counter for it yet
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [meta.db_table, last]
            )
        else:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [last, meta.db_table]
            )
    return list(range(last - count + 1, last + 1))


def insert_one(instance) -> None:
    """`instance.save()` for a new instance of a model with an auto primary key: the same
    values (each field's `pre_save`, so auto_now dates are set, and its database form),
    the same pre_save/post_save signals, one written-out `INSERT … RETURNING`."""
    model = type(instance)
    meta = model._meta
    if not instance._state.adding or instance.pk is not None:
        raise ValueError("insert_one is for new instances only")
    pre_save.send(sender=model, instance=instance, raw=False, using="default", update_fields=None)
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    key = (connection.vendor, meta.label)
    if key not in _insert_sql:
        quote = connection.ops.quote_name
        _insert_sql[key] = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
            f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}"
        )
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with model_rows.cursor() as cursor:
        cursor.execute(_insert_sql[key], values)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = "default"
    post_save.send(
        sender=model,
        instance=instance,
        created=True,
        raw=False,
        using="default",
        update_fields=None,
    )


def insert_rows(model, names: tuple, rows: list[tuple], raw=None) -> None:
    """Insert rows of database-ready values, in the order of `names` (field names).

    Runs on the DB-API connection (`raw`: the default connection's, when called from
    another thread), so Django's debug query log never holds a multi-megabyte batch;
    driver errors come out as Django's (IntegrityError, …).
    """
    if not rows:
        return
    if raw is None:
        connection.ensure_connection()
        raw = connection.connection
    meta = model._meta
    ops = connection.ops
    quoted = ", ".join(ops.quote_name(meta.get_field(name).column) for name in names)
    table = ops.quote_name(meta.db_table)
    with connection.wrap_database_errors:
        cursor = raw.cursor()
        try:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as stream:
                    for row in rows:
                        stream.write_row(row)
                return
            # One statement for the whole batch, its rows as one JSON array: SQLite then
            # takes them in without the interpreter lock (executemany takes it back for
            # every row, which stalls a writer thread behind a busy caller).
            values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(names)))
            cursor.execute(
                f"INSERT INTO {table} ({quoted}) SELECT {values} FROM json_each(?) ORDER BY key",
                [json.dumps(rows, default=str, ensure_ascii=False)],
            )
        finally:
            cursor.close()


def update_rows(model, names: tuple, rows: list[tuple]) -> None:
    """Set fields of many rows: `names` are field names, the first the primary key that
    picks the row, and each row holds database-ready values in that order.

    PostgreSQL: one UPDATE … FROM jsonb_to_recordset (the rows as one JSON parameter,
    typed by the fields' columns), no CASE per row and field as bulk_update builds.
    SQLite: one prepared UPDATE run for every row by the driver (executemany), each a
    primary-key lookup; SQLite's UPDATE … FROM json_each was planned as a scan of the
    table per row.
    """
    if not rows:
        return
    meta = model._meta
    ops = connection.ops
    fields = [meta.get_field(name) for name in names]
    columns = [ops.quote_name(field.column) for field in fields]
    table = ops.quote_name(meta.db_table)
    key, rest = columns[0], columns[1:]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            assignments = ", ".join(f"{column} = j.{column}" for column in rest)
            typed = ", ".join(
                f"{column} {field.db_type(connection)}"
                for column, field in zip(columns, fields, strict=True)
            )
            records = [dict(zip((f.column for f in fields), row, strict=True)) for row in rows]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM jsonb_to_recordset(%s::jsonb) "
                f"AS j({typed}) WHERE {table}.{key} = j.{key}",
                [json.dumps(records, default=str, ensure_ascii=False)],
            )
            return
        assignments = ", ".join(f"{column} = %s" for column in rest)
        cursor.executemany(
            f"UPDATE {table} SET {assignments} WHERE {key} = %s",
            [(*row[1:], row[0]) for row in rows],
        )


class BackgroundWriter:
    """Inserts batches in a thread on the caller's own connection and transaction.

    The database engine then works (SQLite's inserts, PostgreSQL's COPY, index and
    constraint upkeep) while the caller prepares the next batch; both drivers let go of
    the interpreter lock while the database works. Use it as a context manager inside
    `transaction.atomic()`, and do not use the connection yourself until it is left.
    Leaving waits for the thread whatever happens (so nothing is written after the
    transaction ends); when the block raised, batches still queued are dropped, and the
    first error of the thread is raised in the caller, so the transaction rolls back whole.
    """

    def __init__(self, depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancelled = False
        self._raw = None
        self._thread: threading.Thread | None = None

    def __enter__(self):
        if not connection.in_atomic_block:
            raise RuntimeError("BackgroundWriter needs a transaction")
        connection.ensure_connection()
        self._raw = connection.connection
        self._thread = threading.Thread(target=self._run, name="bulk-writer", daemon=True)
        self._thread.start()
        return self

    def write(self, model, names: tuple, rows: list[tuple]) -> None:
        """Queue rows for insertion (blocks while `depth` batches are waiting)."""
        if self._error is not None:
            raise self._error
        if rows:
            self._queue.put((model, names, rows))

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            if self._error is None and not self._cancelled:
                try:
                    insert_rows(*job, raw=self._raw)
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._cancelled = True
        self._queue.put(None)
        interrupted = None
        while self._thread.is_alive():
            try:
                self._thread.join()
            except BaseException as stop:  # e.g. Ctrl-C: still wait, but write nothing more
                self._cancelled = True
                interrupted = stop
        if interrupted is not None:
            raise interrupted
        if self._error is not None:
            if exc is not None:
                exc.add_note(f"The background writer also failed: {self._error!r}")
                return False
            raise self._error
        return False
