"""Writing generated files to the database in batches: bulk inserts, one transaction each.

Bulk inserts skip save() and signals, so everything signals would derive (pinyin,
phone_search, completeness, last visit) is already in the generated rows. No history
(ObjectChange) is written for demo rows.
"""

import multiprocessing
import os
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from creditfile.customers import models as m
from creditfile.customers.demo import files
from creditfile.customers.demo.generator import Bundle, Context, Generator, make_uscc

CHILD_MODELS = [
    "Contact",
    "KeyPerson",
    "BankAccount",
    "FinancialStatement",
    "Certification",
    "Characteristics",
    "BusinessStatus",
    "Competitor",
    "TradingStatus",
    "Visit",
    "Observation",
    "FileEvent",
    "LifecycleTransition",
]
# From this many customers (and at least a third of what is already there) the search
# index is dropped for the load and rebuilt in one pass.
SUSPEND_SEARCH_INDEX_FROM = 10_000
# From this many customers generation runs in a second process (on a machine with 2+ cores).
PARALLEL_FROM = 20_000
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "txt": "text/plain"}


@dataclass
class Report:
    customers: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    attachments: int = 0
    seconds: float = 0.0


def generate_bundles(ctx: Context, start: int, count: int) -> list[Bundle]:
    """The files with indexes start … start+count-1, in memory (used by tests)."""
    generator = Generator(ctx)
    return [generator.generate(i) for i in range(start, start + count)]


def write_customers(
    ctx: Context,
    start: int,
    count: int,
    *,
    batch_size: int = 2000,
    check_conflicts: bool = False,
    progress: Callable[[int, float], None] | None = None,
    progress_every: int = 100_000,
    parallel: bool | None = None,
) -> Report:
    report = Report()
    began = time.monotonic()
    next_progress = progress_every
    connection.ensure_connection()
    tables = _Tables()
    # Customers get their ids here, so children need no round trip for them.
    next_id = (m.Customer.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    if parallel is None:
        parallel = count >= PARALLEL_FROM and (os.cpu_count() or 1) > 1
    try:
        with fast_sqlite_writes(), search_index_suspended(count, m.Customer.objects.count()):
            for bundles in _batches(ctx, start, count, batch_size, parallel):
                with transaction.atomic():
                    if check_conflicts:
                        _avoid_existing_usccs(bundles)
                    _write_batch(bundles, tables, next_id, report, ctx.today)
                next_id += len(bundles)
                report.customers += len(bundles)
                if progress and report.customers >= next_progress:
                    progress(report.customers, time.monotonic() - began)
                    next_progress += progress_every
    finally:
        if connection.vendor == "postgresql":
            # Ids were given explicitly: move the sequence past them, even after a failure.
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [m.Customer]):
                    cursor.execute(sql)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    report.seconds = time.monotonic() - began
    return report


def _batches(ctx: Context, start: int, count: int, batch_size: int, parallel: bool):
    """Lists of bundles in index order; generated in a second process when `parallel`, so
    generating the next batch overlaps writing this one."""
    ranges = [
        (low, min(start + count, low + batch_size))
        for low in range(start, start + count, batch_size)
    ]
    if not parallel or "fork" not in multiprocessing.get_all_start_methods():
        generator = Generator(ctx)
        for low, high in ranges:
            yield [generator.generate(i) for i in range(low, high)]
        return
    mp = multiprocessing.get_context("fork")
    queue = mp.Queue(maxsize=4)  # bounds memory: at most a few batches wait
    worker = mp.Process(target=_produce, args=(ctx, ranges, queue), daemon=True)
    worker.start()
    try:
        for _range in ranges:
            item = queue.get()
            if isinstance(item, str):
                raise RuntimeError(f"演示数据生成进程出错 Demo generator failed:\n{item}")
            yield item
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _produce(ctx: Context, ranges, queue) -> None:
    """Runs in the forked process: generate only, never touch the database connection."""
    try:
        generator = Generator(ctx)
        for low, high in ranges:
            queue.put([generator.generate(i) for i in range(low, high)])
    except BaseException:
        queue.put(traceback.format_exc())


class _Table:
    """A raw multi-row insert for one model: the ORM's bulk_create costs several times more
    per row (model instances, per-field preparation, 999-parameter statements on SQLite)."""

    def __init__(self, model, *, with_pk: bool = False):
        fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.model = model
        self.table = model._meta.db_table
        self.attnames = [f.attname for f in fields]
        self.columns = [connection.ops.quote_name(f.column) for f in fields]
        self.defaults = [self._default(f) for f in fields]
        # SQLite cannot store aware datetimes; Django stores naive UTC text.
        self.datetimes = [
            i
            for i, f in enumerate(fields)
            if f.get_internal_type() == "DateTimeField" and connection.vendor == "sqlite"
        ]

    @staticmethod
    def _default(f):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return timezone.now()
        if f.has_default():
            return f.get_default()
        if f.null:
            return None
        return "" if f.empty_strings_allowed else None

    def values(self, row: dict, extra: dict) -> list:
        values = [
            extra[a] if a in extra else row.get(a, d)
            for a, d in zip(self.attnames, self.defaults, strict=True)
        ]
        for i in self.datetimes:
            if values[i] is not None:
                values[i] = values[i].astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        return values

    def insert(self, rows: list[list]) -> None:
        if not rows:
            return
        raw = connection.connection
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(self.table)
            sql = f"COPY {table} ({', '.join(self.columns)}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(
                ["%s" if connection.vendor != "sqlite" else "?"] * len(self.columns)
            )
            sql = (
                f"INSERT INTO {connection.ops.quote_name(self.table)} "
                f"({', '.join(self.columns)}) VALUES ({placeholders})"
            )
            cursor = raw.cursor()
            try:
                cursor.executemany(sql, rows)
            finally:
                cursor.close()


class _Tables:
    def __init__(self):
        self.customer = _Table(m.Customer, with_pk=True)
        self.children = {name: _Table(getattr(m, name)) for name in CHILD_MODELS}


def _write_batch(
    bundles: list[Bundle], tables: _Tables, first_id: int, report: Report, today: date
) -> None:
    ids = range(first_id, first_id + len(bundles))
    tables.customer.insert(
        [tables.customer.values(b.customer, {"id": pk}) for b, pk in zip(bundles, ids, strict=True)]
    )
    for model_name, table in tables.children.items():
        rows = [
            table.values(row, {"customer_id": pk})
            for bundle, pk in zip(bundles, ids, strict=True)
            for row in bundle.children.get(model_name, ())
        ]
        table.insert(rows)
        if rows:
            report.rows[model_name] = report.rows.get(model_name, 0) + len(rows)
    attachments = [
        _attachment(pk, spec, today)
        for bundle, pk in zip(bundles, ids, strict=True)
        for spec in bundle.attachments
    ]
    if attachments:
        m.Attachment.objects.bulk_create(attachments)
        report.attachments += len(attachments)


def _attachment(customer_id: int, spec: dict, today: date) -> m.Attachment:
    import hashlib
    import random

    ext = spec["extension"]
    rng = random.Random(spec["name_seed"])
    if ext == "pdf":
        content = files.pdf_bytes(
            "CreditFile demo document",
            [f"USCC: {spec['uscc']}", f"Date: {spec['document_date']:%Y-%m-%d}"],
        )
    elif ext == "png":
        content = files.png_bytes(rng)
    else:
        content = files.text_bytes(spec["customer_name"], spec["uscc"], spec["title"])
    # Same layout as models.attachment_path, with a reproducible name.
    path = f"attachments/{today:%Y/%m}/{uuid.UUID(int=spec['name_seed']).hex}.{ext}"
    saved = default_storage.save(path, ContentFile(content))
    return m.Attachment(
        customer_id=customer_id,
        category=spec["category"],
        title=spec["title"][:200],
        document_date=spec["document_date"],
        file=saved,
        original_name=f"{spec['title'][:240]}.{ext}",
        content_type=CONTENT_TYPES[ext],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        recorded_by_id=spec["recorded_by_id"],
    )


def _avoid_existing_usccs(bundles: list[Bundle]) -> None:
    """With --append, a generated code may already belong to a customer entered by hand."""
    taken = set(
        m.Customer.objects.filter(uscc__in=[b.customer["uscc"] for b in bundles]).values_list(
            "uscc", flat=True
        )
    )
    attempt = 0
    while taken:
        attempt += 1
        for bundle in bundles:
            old = bundle.customer["uscc"]
            if old not in taken:
                continue
            new = make_uscc(bundle.index + attempt * 9_999_991, old[2:8], old[1], old[8:10] == "MA")
            bundle.customer["uscc"] = new
            for cert in bundle.children.get("Certification", []):
                if cert["number"] == old:
                    cert["number"] = new
        taken = set(
            m.Customer.objects.filter(uscc__in=[b.customer["uscc"] for b in bundles]).values_list(
                "uscc", flat=True
            )
        )


class fast_sqlite_writes:
    """On SQLite, skip fsync for the duration of the demo load (it is reproducible anyway).

    SQLite refuses the change inside a transaction (as in tests), where it does not matter.
    """

    def __enter__(self):
        self.active = connection.vendor == "sqlite" and not connection.in_atomic_block
        if self.active:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=OFF")
        return self

    def __exit__(self, *exc):
        if self.active:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
        return False


class search_index_suspended:
    """Drop the search index objects for a large load and build them once at the end.

    Keeping them up to date row by row (SQLite triggers into FTS5 tables, PostgreSQL GIN
    indexes) costs several times more than building them in one pass over the table.
    Small loads into a large database keep them, as a rebuild would cost more.
    """

    def __init__(self, count: int, existing: int):
        self.active = count >= SUSPEND_SEARCH_INDEX_FROM and 3 * count >= existing

    def __enter__(self):
        if self.active:
            from creditfile.customers.services import search_index

            with transaction.atomic():
                search_index.uninstall(connection)
        return self

    def __exit__(self, *exc):
        if self.active:
            from creditfile.customers.services import search_index

            # Also after a failure: the rows written so far are committed and need indexing.
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # Inside an outer transaction (tests) PostgreSQL refuses CREATE INDEX
                    # while deferred foreign-key checks are pending: run them first.
                    with connection.cursor() as cursor:
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                search_index.install(connection)
        return False
