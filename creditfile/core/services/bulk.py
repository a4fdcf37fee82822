"""Writing many rows fast: the batches (rescore, demo data) that insert 100,000s of rows.

`insert_rows` is bulk_create without a model instance per row and without preparing
every value through its field, which for 200,000 evaluations cost more than a whole
batch's time budget: COPY on PostgreSQL, executemany on SQLite. `reserve_ids` hands out
primary keys before the rows exist, so the rows that point at them (proposals at their
evaluation) can be built before anything is written. `BackgroundWriter` lets the
database take in one batch while Python prepares the next one, inside the caller's
transaction.
"""

import json
import queue
import threading

from django.db import connection


def reserve_ids(model, count: int) -> list[int]:
    """`count` new primary keys of `model`'s table, never handed out again.

    PostgreSQL: from the table's sequence. SQLite: by moving the AUTOINCREMENT counter on
    by `count` in one statement; the transaction holds the write lock from its start
    (transaction_mode IMMEDIATE), and it is rolled back with the transaction.
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
        table = connection.ops.quote_name(meta.db_table)
        pk = connection.ops.quote_name(meta.pk.column)
        cursor.execute(
            f"UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max({pk}), 0) "
            f"FROM {table})) + %s WHERE name = %s RETURNING seq",
            [count, meta.db_table],
        )
        row = cursor.fetchone()
        if row is None:  # the table never had a row: SQLite has no counter for it yet
            cursor.execute(f"SELECT coalesce(max({pk}), 0) + %s FROM {table}", [count])
            row = cursor.fetchone()
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [meta.db_table, row[0]]
            )
        last = row[0]
    return list(range(last - count + 1, last + 1))


def insert_rows(model, names: tuple, rows: list[tuple], raw=None) -> None:
    """Insert rows of database-ready values, in the order of `names` (field names).

    `raw` is the DB-API connection to use (the default connection's, from another
    thread); without it the default connection's cursor is used.
    """
    if not rows:
        return
    meta = model._meta
    ops = connection.ops
    quoted = ", ".join(ops.quote_name(meta.get_field(name).column) for name in names)
    table = ops.quote_name(meta.db_table)
    postgres = connection.vendor == "postgresql"
    cursor = raw.cursor() if raw is not None else connection.cursor()
    try:
        if postgres:
            copy = cursor.copy if raw is not None else cursor.cursor.copy
            with copy(f"COPY {table} ({quoted}) FROM STDIN") as stream:
                for row in rows:
                    stream.write_row(row)
            return
        # One statement for the whole batch, its rows as one JSON array: SQLite then takes
        # them in without the interpreter lock (executemany takes it back for every row,
        # which stalls a writer thread behind a busy caller).
        values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(names)))
        payload = json.dumps(rows, default=str, ensure_ascii=False)
        mark = "?" if raw is not None else "%s"
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {values} FROM json_each({mark}) ORDER BY key",
            [payload],
        )
    finally:
        cursor.close()


class BackgroundWriter:
    """Inserts batches in a thread on the caller's own connection and transaction.

    The database engine then works (SQLite's inserts, PostgreSQL's COPY, index and
    constraint upkeep) while the caller prepares the next batch; both drivers let go of
    the interpreter lock while the database works. Use it as a context manager inside
    `transaction.atomic()`: leaving it waits for every batch, and re-raises in the
    caller the first error the thread met, so the transaction rolls back whole. The
    caller must not use the connection itself until then.
    """

    def __init__(self, depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._raw = None
        self._errors = None
        self._thread: threading.Thread | None = None

    def __enter__(self):
        connection.ensure_connection()
        self._raw = connection.connection
        self._errors = connection.wrap_database_errors  # the driver's errors as Django's
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
            if self._error is None:
                try:
                    with self._errors:
                        insert_rows(*job, raw=self._raw)
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def __exit__(self, exc_type, exc, tb):
        self._queue.put(None)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error
        return False
