"""`creditfile bench aging`: the aging summary over millions of invoices, against DuckDB.

Seeded generated ledger, the same rows for every engine: customers (with sales reps,
departments and grades), invoices over the two years before AS_OF, and one payment per
paid invoice (older invoices are more likely paid; one in ten is paid in part, some late),
each with its allocation, so every invoice's maintained `open_base` is its amount less
what was allocated to it, and every customer's exposure is the sum of them. The rows go
into the database with the bulk helpers (COPY on PostgreSQL, one INSERT per batch on
SQLite), once; later runs reuse them (recorded in `bench_aging_dataset`).

Timed (median of --runs): `aging_report(AS_OF)` — the product's own function, through
Django — as of a date on or after the last settlement (the maintained open amounts) and,
forced, from the documents (amount − allocations); and in an in-memory DuckDB loaded
with the same rows, the equivalent SQL of each. Both must give the same totals per bucket
and the same group totals, or the run fails.
"""

import csv
import datetime
import json
import os
import random
import statistics
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass
from decimal import Decimal

from bench import datasets

AS_OF = datetime.date(2026, 6, 30)
RECORD_TABLE = "bench_aging_dataset"
GOAL_SECONDS = 1.0
GOAL_RATIO = 3.0
BATCH = 50_000
GRADES = ("A", "B", "B", "C", "C", "C", "D", "")
TERMS = (30, 45, 60, 90)
GROUPS = ("customer", "owner", "department", "grade")


def _log(message):
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Spec:
    customers: int
    invoices: int
    payments: int
    seed: int

    @property
    def reps(self) -> int:
        return max(1, self.customers // 250)

    @property
    def departments(self) -> int:
        return min(10, self.reps)

    def as_dict(self) -> dict:
        return {
            "customers": self.customers,
            "invoices": self.invoices,
            "payments": self.payments,
            "seed": self.seed,
        }


# --- the generated ledger (pure Python, identical for every engine) ----------------------


def customers_of(spec: Spec):
    """(index, rep index, department index, grade) per customer."""
    dice = random.Random(f"{spec.seed}-aging-customers")
    for index in range(spec.customers):
        rep = dice.randrange(spec.reps)
        yield index, rep, rep % spec.departments, dice.choice(GRADES)


def invoices_of(spec: Spec):
    """Every invoice and, if paid, its payment: (index, customer, invoice date, due date,
    amount in cents, paid cents, received on). Exactly `spec.payments` are paid: the
    largest keys of a weighted sample (Efraimidis–Spirakis), older invoices weighing more."""
    dice = random.Random(f"{spec.seed}-aging-invoices")
    customer = array("i")
    age = array("h")
    term = array("b")
    cents = array("q")
    keys = array("d")
    for _index in range(spec.invoices):
        customer.append(dice.randrange(spec.customers))
        days = dice.randrange(730)
        age.append(days)
        term.append(dice.choice(TERMS))
        cents.append(dice.randrange(10_000, 20_000_000))
        keys.append(dice.random() ** (1 / (0.2 + days / 730)))
    threshold = sorted(keys)[spec.invoices - spec.payments] if spec.payments else 2.0
    pay = random.Random(f"{spec.seed}-aging-payments")
    for index in range(spec.invoices):
        invoiced = AS_OF - datetime.timedelta(days=age[index])
        due = invoiced + datetime.timedelta(days=term[index])
        paid, received = 0, None
        if keys[index] >= threshold:
            paid = cents[index]
            if pay.random() < 0.1:
                paid = cents[index] * pay.randint(20, 90) // 100
            chance = pay.random()
            if chance < 0.6:
                late = pay.randint(-10, 0)
            elif chance < 0.9:
                late = pay.randint(1, 60)
            else:
                late = pay.randint(61, 300)
            received = min(max(due + datetime.timedelta(days=late), invoiced), AS_OF)
        yield index, customer[index], invoiced, due, cents[index], paid, received


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


# --- loading the database -----------------------------------------------------------------


def _record():
    from django.db import connection

    with connection.cursor() as cursor:
        if RECORD_TABLE not in connection.introspection.table_names(cursor):
            return None
        cursor.execute(f"SELECT spec, load_seconds FROM {RECORD_TABLE}")
        row = cursor.fetchone()
    return (json.loads(row[0]), row[1]) if row else None


def _defaults(model, now) -> dict:
    """Database-ready default values of every column of `model` but its key."""
    from django.db import connection

    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        values[field.name] = field.get_db_prep_save(value, connection)
    return values


def load(spec: Spec) -> float | None:
    """Write the generated ledger into the empty database (or reuse it); returns seconds."""
    from django.core.management.base import CommandError
    from django.db import connection, transaction
    from django.utils import timezone

    from creditfile.core.models import Company, Department, User
    from creditfile.core.services.bulk import BackgroundWriter
    from creditfile.customers.models import Customer
    from creditfile.receivables.models import Allocation, Exposure, Invoice, Payment

    record = _record()
    if record and record[0] == spec.as_dict():
        return None
    if Customer.objects.exists() or Invoice.objects.exists():
        raise CommandError(
            "The benchmark database already holds customers or invoices that are not this "
            f"benchmark's ({spec.as_dict()}); use an empty database (docs/performance.md)."
        )
    started = time.perf_counter()
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    company = Company.default()
    with transaction.atomic():
        departments = [
            Department.objects.create(code=f"bench-{k}", name=f"基准销售{k + 1}部")
            for k in range(spec.departments)
        ]
        reps = []
        for k in range(spec.reps):
            rep = User(
                username=f"bench_rep_{k}",
                full_name=f"销售代表{k + 1:03d}",
                department=departments[k % spec.departments],
            )
            rep.set_unusable_password()
            reps.append(rep)
        User.objects.bulk_create(reps, batch_size=1000)
        rep_ids = _ordered_reps(spec)
        base = _defaults(Customer, now)
        customer_fields = tuple(base)
        with BackgroundWriter() as writer:
            batch = []
            for index, rep, department, grade in customers_of(spec):
                row = dict(base)
                row.update(
                    name=f"基准客户{index + 1:06d}有限公司",
                    owner=rep_ids[rep],
                    department=departments[department].pk,
                    credit_grade=grade,
                    lifecycle="active",
                    file_updated_at=stamp,
                )
                batch.append((index + 1, *(row[name] for name in customer_fields)))
                if len(batch) == BATCH:
                    writer.write(Customer, ("id", *customer_fields), batch)
                    batch = []
            writer.write(Customer, ("id", *customer_fields), batch)
        _log(f"  {spec.customers:,} customers")
        invoice_names = (
            "id", "company", "customer", "source", "number", "currency", "rate", "amount",
            "base_amount", "created_at", "updated_at", "order", "invoice_date", "due_date",
            "open_base", "order_base", "settled_on",
        )  # fmt: skip
        payment_names = (
            "id", "company", "customer", "source", "number", "currency", "rate", "amount",
            "base_amount", "created_at", "updated_at", "kind", "received_on", "reference",
            "unallocated_base",
        )  # fmt: skip
        allocation_names = ("id", "payment", "invoice", "base_amount", "allocated_on", "created_at")
        open_per_customer: dict[int, int] = {}
        with BackgroundWriter() as writer:
            invoices, payments, allocations = [], [], []
            paid_count = 0
            for index, customer, invoiced, due, cents, paid, received in invoices_of(spec):
                number = f"B{index + 1:08d}"
                amount = _money(cents)
                still_open = cents - paid
                open_per_customer[customer] = open_per_customer.get(customer, 0) + still_open
                invoices.append(
                    (index + 1, company.pk, customer + 1, "bench", number, "CNY", 1, amount,
                     amount, stamp, stamp, None, invoiced, due, _money(still_open), 0,
                     received if still_open == 0 else None)
                )  # fmt: skip
                if paid:
                    paid_count += 1
                    payments.append(
                        (paid_count, company.pk, customer + 1, "bench", f"P{paid_count:08d}",
                         "CNY", 1, _money(paid), _money(paid), stamp, stamp, "payment", received,
                         number, 0)
                    )  # fmt: skip
                    allocations.append(
                        (paid_count, paid_count, index + 1, _money(paid), received, stamp)
                    )
                if len(invoices) == BATCH:
                    writer.write(Invoice, invoice_names, invoices)
                    writer.write(Payment, payment_names, payments)
                    writer.write(Allocation, allocation_names, allocations)
                    invoices, payments, allocations = [], [], []
                    if (index + 1) % 500_000 == 0:
                        _log(f"  {index + 1:,} invoices")
            writer.write(Invoice, invoice_names, invoices)
            writer.write(Payment, payment_names, payments)
            writer.write(Allocation, allocation_names, allocations)
            writer.write(
                Exposure,
                (
                    "company",
                    "customer",
                    "open_receivables",
                    "open_orders",
                    "delivered_orders",
                    "updated_at",
                ),
                [
                    (company.pk, customer + 1, _money(cents), 0, 0, stamp)
                    for customer, cents in sorted(open_per_customer.items())
                ],
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Customer, Invoice, Payment, Allocation):
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
        seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {RECORD_TABLE} (spec text NOT NULL, load_seconds real)"
            )
            cursor.execute(f"DELETE FROM {RECORD_TABLE}")
            cursor.execute(
                f"INSERT INTO {RECORD_TABLE} (spec, load_seconds) VALUES (%s, %s)",
                [json.dumps(spec.as_dict()), seconds],
            )
    _log(f"  loaded in {seconds:.0f} s; ANALYZE …")
    datasets.analyze(full=True)
    return seconds


def _ordered_reps(spec: Spec) -> list[int]:
    from creditfile.core.models import User

    by_name = dict(
        User.objects.filter(username__startswith="bench_rep_").values_list("username", "pk")
    )
    return [by_name[f"bench_rep_{k}"] for k in range(spec.reps)]


# --- measuring ----------------------------------------------------------------------------


def _summary(report) -> dict:
    """What two engines must agree on: totals per bucket, invoices, the group totals."""
    totals = report.totals
    return {
        "buckets": [str(amount) for amount in totals.amounts],
        "invoices": totals.invoices,
        "groups": len(report.rows),
        "group_totals": sorted(str(row.total) for row in report.rows),
    }


def _timed(function, runs: int):
    times, result = [], None
    for _run in range(runs):
        result = None  # the previous report is freed before the clock starts, not inside it
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times, result


def worker(spec: Spec, runs: int, group_by: str, documents: bool) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from creditfile.receivables.services.aging import aging_report

    call_command("migrate", verbosity=0, interactive=False)
    _log(f"generating and loading {spec.as_dict()} …")
    load_seconds = load(spec)
    record = _record()
    results = {}
    ways = [("maintained", False)] + ([("documents", True)] if documents else [])
    for name, from_documents in ways:
        aging_report(AS_OF, group_by=group_by, from_documents=from_documents)  # warm-up
        times, report = _timed(
            lambda fd=from_documents: aging_report(AS_OF, group_by=group_by, from_documents=fd),
            runs,
        )
        results[name] = {"times": times, "summary": _summary(report)}
        _log(f"  {name}: {[round(t, 3) for t in times]}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
        )
        version = cursor.fetchone()[0]
    return {
        "vendor": connection.vendor,
        "version": version,
        "load_seconds": load_seconds if load_seconds is not None else (record or [0, None])[1],
        "loaded_now": load_seconds is not None,
        "results": results,
    }


# --- DuckDB -------------------------------------------------------------------------------


def _duckdb_load(spec: Spec, folder: str):
    import duckdb

    started = time.perf_counter()
    paths = {name: os.path.join(folder, f"{name}.csv") for name in ("c", "i", "a")}
    with open(paths["c"], "w", newline="") as out:
        rows = csv.writer(out)
        for index, rep, department, grade in customers_of(spec):
            rows.writerow((index + 1, rep, department, grade))
    with open(paths["i"], "w", newline="") as inv, open(paths["a"], "w", newline="") as alloc:
        invoices, allocations = csv.writer(inv), csv.writer(alloc)
        for index, customer, invoiced, due, cents, paid, received in invoices_of(spec):
            invoices.writerow(
                (index + 1, customer + 1, invoiced, due, _money(cents), _money(cents - paid))
            )
            if paid:
                allocations.writerow((index + 1, _money(paid), received))
    db = duckdb.connect(":memory:")
    db.execute(
        "CREATE TABLE customers (id INTEGER, owner_id INTEGER, department_id INTEGER, "
        "credit_grade VARCHAR)"
    )
    db.execute(
        "CREATE TABLE invoices (id INTEGER, customer_id INTEGER, invoice_date DATE, "
        "due_date DATE, base_amount DECIMAL(18,2), open_base DECIMAL(18,2))"
    )
    db.execute(
        "CREATE TABLE allocations (invoice_id INTEGER, base_amount DECIMAL(18,2), "
        "allocated_on DATE)"
    )
    for table, key in (("customers", "c"), ("invoices", "i"), ("allocations", "a")):
        db.execute(
            f"INSERT INTO {table} SELECT * FROM read_csv(?, header=false, auto_detect=false, "
            f"columns={_duckdb_columns(table)}, nullstr='')",
            [paths[key]],
        )
        os.remove(paths[key])
    return db, time.perf_counter() - started


def _duckdb_columns(table: str) -> dict:
    return {
        "customers": {
            "id": "INTEGER",
            "owner_id": "INTEGER",
            "department_id": "INTEGER",
            "credit_grade": "VARCHAR",
        },
        "invoices": {
            "id": "INTEGER",
            "customer_id": "INTEGER",
            "invoice_date": "DATE",
            "due_date": "DATE",
            "base_amount": "DECIMAL(18,2)",
            "open_base": "DECIMAL(18,2)",
        },
        "allocations": {
            "invoice_id": "INTEGER",
            "base_amount": "DECIMAL(18,2)",
            "allocated_on": "DATE",
        },
    }[table]


def duckdb_sql(group_by: str, documents: bool) -> str:
    """The product's summary query written for DuckDB: the same buckets and filters."""
    from creditfile.receivables.services.aging import buckets_from
    from creditfile.receivables.validators import DEFAULT_AGING_BUCKETS, parse_bucket_bounds

    sums = []
    for bucket in buckets_from(parse_bucket_bounds(DEFAULT_AGING_BUCKETS)):
        if bucket.low is None:
            condition = f"o.due_date >= DATE '{AS_OF}'"
        else:
            condition = f"o.due_date <= DATE '{AS_OF - datetime.timedelta(days=bucket.low)}'"
            if bucket.high is not None:
                high = AS_OF - datetime.timedelta(days=bucket.high)
                condition += f" AND o.due_date >= DATE '{high}'"
        sums.append(f"SUM(o.open_amount) FILTER (WHERE {condition})")
    if documents:
        rows = f"""
            SELECT i.customer_id, i.due_date, i.base_amount - COALESCE(a.paid, 0) AS open_amount
            FROM invoices i LEFT JOIN (
                SELECT invoice_id, SUM(base_amount) AS paid FROM allocations
                WHERE allocated_on <= DATE '{AS_OF}' GROUP BY invoice_id) a
              ON a.invoice_id = i.id
            WHERE i.invoice_date <= DATE '{AS_OF}'"""
    else:
        rows = f"""
            SELECT customer_id, due_date, open_base AS open_amount FROM invoices
            WHERE open_base > 0 AND invoice_date <= DATE '{AS_OF}'"""
    key = "o.customer_id" if group_by == "customer" else f"c.{_duckdb_group_column(group_by)}"
    return (
        f"SELECT {key}, COUNT(*), {', '.join(sums)} FROM ({rows}) o "
        f"JOIN customers c ON c.id = o.customer_id WHERE o.open_amount > 0 GROUP BY {key}"
    )


def _duckdb_group_column(group_by: str) -> str:
    return {"owner": "owner_id", "department": "department_id", "grade": "credit_grade"}[group_by]


def _duckdb_summary(rows) -> dict:
    width = len(rows[0]) - 2 if rows else 6
    buckets = [Decimal(0)] * width
    invoices = 0
    group_totals = []
    for _key, count, *amounts in rows:
        amounts = [Decimal(amount or 0).quantize(Decimal("0.01")) for amount in amounts]
        buckets = [a + b for a, b in zip(buckets, amounts, strict=True)]
        invoices += count
        group_totals.append(str(sum(amounts, Decimal("0.00"))))
    return {
        "buckets": [str(amount.quantize(Decimal("0.01"))) for amount in buckets],
        "invoices": invoices,
        "groups": len(rows),
        "group_totals": sorted(group_totals),
    }


def duckdb_run(spec: Spec, runs: int, group_by: str, documents: bool) -> dict:
    import duckdb

    with tempfile.TemporaryDirectory(prefix="cf-aging-") as folder:
        _log("DuckDB: generating the same rows …")
        db, load_seconds = _duckdb_load(spec, folder)
    results = {}
    ways = [("maintained", False)] + ([("documents", True)] if documents else [])
    for name, from_documents in ways:
        sql = duckdb_sql(group_by, from_documents)
        db.execute(sql).fetchall()  # warm-up
        times, rows = _timed(lambda sql=sql: db.execute(sql).fetchall(), runs)
        results[name] = {"times": times, "summary": _duckdb_summary(rows)}
        _log(f"  DuckDB {name}: {[round(t, 3) for t in times]}")
    return {
        "vendor": "duckdb",
        "version": duckdb.__version__,
        "load_seconds": load_seconds,
        "loaded_now": True,
        "results": results,
        "label": "DuckDB (in memory)",
    }


# --- the run and its table ------------------------------------------------------------------


def run(stdout, spec: Spec, urls: list[str], runs: int, group_by: str, documents: bool) -> list:
    if spec.payments > spec.invoices:
        raise RuntimeError("--payments cannot exceed --invoices (one payment per paid invoice)")
    reports = []
    for url in urls:
        target = datasets.Target(url)
        stdout.write(f"{target.label}: {url}\n")
        stdout.flush()
        args = [
            "aging",
            "--worker",
            f"--customers={spec.customers}",
            f"--invoices={spec.invoices}",
            f"--payments={spec.payments}",
            f"--seed={spec.seed}",
            f"--runs={runs}",
            f"--group={group_by}",
        ] + ([] if documents else ["--no-documents"])
        reports.append(datasets.worker_report(target, args))
    reference = duckdb_run(spec, runs, group_by, documents)
    reports.append(reference)
    stdout.write(format_table(reports, reference, spec, group_by))
    mismatches = [
        f"{r['label']} {way}"
        for r in reports
        for way, result in r["results"].items()
        if result["summary"] != reference["results"][way]["summary"]
    ]
    if mismatches:
        raise RuntimeError("totals differ from DuckDB's on the same rows: " + ", ".join(mismatches))
    return reports


WAYS = {
    "maintained": "as of a date after the last settlement: maintained open amounts",
    "documents": "from the documents: amount − allocations (any past date)",
}


def format_table(reports: list[dict], reference: dict, spec: Spec, group_by: str) -> str:
    lines = [
        "| engine | aging summary | open invoices | groups | seconds (median) | runs "
        "| × DuckDB | same totals |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        for way, result in report["results"].items():
            times = result["times"]
            median = statistics.median(times)
            base = statistics.median(reference["results"][way]["times"])
            ratio = median / base if base else float("inf")
            same = result["summary"] == reference["results"][way]["summary"]
            goal = ""
            if way == "maintained" and report is not reference:
                ok = median <= GOAL_SECONDS and ratio <= GOAL_RATIO
                goal = " ✓" if ok else " ✗"
            lines.append(
                f"| {report['label']} | {WAYS[way]} | {result['summary']['invoices']:,} "
                f"| {result['summary']['groups']:,} | {median:.3f}{goal} "
                f"| {' '.join(f'{t:.3f}' for t in times)} | {ratio:.1f} "
                f"| {'yes' if same else 'NO'} |"
            )
    lines.append("")
    for report in reports:
        loaded = report.get("load_seconds")
        note = f"loaded in {loaded:.0f} s" if loaded else "data reused"
        lines.append(f"{report['label']} {report['version']}: {note}")
    lines.append(
        f"{spec.customers:,} customers, {spec.invoices:,} invoices, {spec.payments:,} payments, "
        f"seed {spec.seed}; as of {AS_OF}, grouped by {group_by}; goal ≤ {GOAL_SECONDS:.0f} s "
        f"and ≤ {GOAL_RATIO:.0f}× DuckDB"
    )
    return "\n".join(lines) + "\n"
