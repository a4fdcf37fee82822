"""`creditfile bench import`: an ERP invoice export imported through the real import job.

The customers come from `creditfile demo` and their credit lines from the rescore
benchmark's set-based records (bench/rescore.py), so a blank due date takes the line's
term. The file is generated from a seed, so every database gets the same rows: a
用友-style CSV (单据号, 客户编码, 统一社会信用代码, 开票日期, 到期日, 币种, 汇率, 价税合计)
whose customers are matched as a real file's are: a customer's first row gives its
unified social credit code and the source's customer code (learned from that row), later
rows give the code alone or the credit code alone. One in ten invoices is in USD or EUR,
one in three gives its due date.

Timed, each in a fresh process so its peak memory (ru_maxrss) is its own:
- the import: `running.run_job` on a queued job — for an invoice CSV the staged path
  (imports/staged.py: the file once into a work table, checked in SQL, merged into the
  ledger in one transaction, de-duplicating against it);
- the same file again: every row found identical and left alone (de-duplication only);
- the reference: the same rows as Invoice objects through Django's `bulk_create`, no
  validation, no matching by code, no exposure.
Afterwards every exposure must equal the ledger added up again; the benchmark's
invoices are then removed and the exposures put back.
"""

import csv
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench import datasets
from bench.rescore import ensure_credit_data

GOALS = {"postgresql": 200_000, "sqlite": 100_000}
SOURCE = "bench-import"
BULK_SOURCE = "bench-bulk"
HEADERS = [
    "单据号",
    "客户编码",
    "统一社会信用代码",
    "开票日期",
    "到期日",
    "币种",
    "汇率",
    "价税合计",
]
FIRST_DAY = datetime.date(2025, 7, 1)
CURRENCIES = [("USD", "7.1"), ("EUR", "7.8")]


def _log(message):
    print(message, file=sys.stderr, flush=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def write_file(path: Path, rows: int, seed: int, customers: list[tuple[int, str]]) -> None:
    """The seeded CSV: `rows` invoices for (id, credit code) `customers`, streamed."""
    rng = random.Random(seed)
    seen: set[int] = set()
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for number in range(1, rows + 1):
            customer_id, uscc = customers[rng.randrange(len(customers))]
            code = f"K{customer_id:07d}"
            if customer_id not in seen:
                seen.add(customer_id)
                code_cell, uscc_cell = code, uscc
            elif rng.random() < 0.5:
                code_cell, uscc_cell = code, ""
            else:
                code_cell, uscc_cell = "", uscc
            day = FIRST_DAY + datetime.timedelta(days=rng.randrange(365))
            due = (day + datetime.timedelta(days=rng.choice((30, 60, 90)))).isoformat()
            currency, rate = rng.choice(CURRENCIES) if rng.random() < 0.1 else ("", "")
            writer.writerow(
                [
                    f"AR{number:09d}",
                    code_cell,
                    uscc_cell,
                    day.isoformat(),
                    due if rng.random() < 1 / 3 else "",
                    currency,
                    rate,
                    f"{rng.randrange(10_000, 5_000_000) / 100:.2f}",
                ]
            )


def _customers() -> list[tuple[int, str]]:
    from creditfile.customers.models import Customer

    return list(Customer.objects.exclude(uscc="").order_by("id").values_list("id", "uscc"))


def _importer():
    """A finance user: may import and sees every customer."""
    from django.contrib.auth.models import Group

    from creditfile.core import roles
    from creditfile.core.models import Department, User

    roles.sync_roles()
    user = User.objects.filter(username="bench-importer").first()
    if user is None:
        department = Department.objects.order_by("id").first()
        user = User.objects.create_user(
            "bench-importer", password=None, department=department, first_name="bench"
        )
        user.groups.add(Group.objects.get(name=roles.FINANCE))
    return user


def _mapping():
    from creditfile.core.models import Company
    from creditfile.receivables.imports import suggest_mapping
    from creditfile.receivables.models import DocumentKind, ImportMapping

    mapping, _created = ImportMapping.objects.update_or_create(
        name="bench 用友 应收单",
        defaults={
            "company": Company.default(),
            "source": SOURCE,
            "kind": DocumentKind.INVOICE,
            "columns": suggest_mapping(HEADERS, DocumentKind.INVOICE),
        },
    )
    return mapping


def clear_previous() -> None:
    """Remove the benchmark's invoices, give back what waiting payments allocated to them,
    and set the exposures of their customers from the ledger again (set-based)."""
    from django.db import connection, transaction

    from creditfile.receivables.models import (
        Allocation,
        ErpCustomerCode,
        Exposure,
        Invoice,
        Payment,
    )

    invoice, exposure = Invoice._meta.db_table, Exposure._meta.db_table
    payment, allocation = Payment._meta.db_table, Allocation._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {payment} SET unallocated_base = unallocated_base + (SELECT sum(a.base_amount)"
            f" FROM {allocation} a JOIN {invoice} i ON i.id = a.invoice_id"
            f" WHERE a.payment_id = {payment}.id AND i.source = %s)"
            f" WHERE id IN (SELECT a.payment_id FROM {allocation} a"
            f" JOIN {invoice} i ON i.id = a.invoice_id WHERE i.source = %s)",
            [SOURCE, SOURCE],
        )
        cursor.execute(
            f"DELETE FROM {allocation} WHERE invoice_id IN"
            f" (SELECT id FROM {invoice} WHERE source = %s)",
            [SOURCE],
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE bench_touched AS SELECT DISTINCT customer_id, company_id"
            f" FROM {invoice} WHERE source IN (%s, %s)",
            [SOURCE, BULK_SOURCE],
        )
        cursor.execute(f"DELETE FROM {invoice} WHERE source IN (%s, %s)", [SOURCE, BULK_SOURCE])
        cursor.execute(
            f"UPDATE {exposure} SET open_receivables = coalesce((SELECT sum(i.open_base)"
            f" FROM {invoice} i WHERE i.customer_id = {exposure}.customer_id"
            f" AND i.company_id = {exposure}.company_id), 0)"
            f" WHERE EXISTS (SELECT 1 FROM bench_touched t"
            f" WHERE t.customer_id = {exposure}.customer_id"
            f" AND t.company_id = {exposure}.company_id)"
        )
        cursor.execute("DROP TABLE bench_touched")
    ErpCustomerCode.objects.filter(source=SOURCE).delete()


def exposures_wrong() -> int:
    """Exposures whose open receivables differ from their invoices added up (one query)."""
    from django.db import connection

    from creditfile.receivables.models import Exposure, Invoice

    invoice, exposure = Invoice._meta.db_table, Exposure._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {exposure} e LEFT JOIN (SELECT customer_id, company_id,"
            f" sum(open_base) AS total FROM {invoice} GROUP BY customer_id, company_id) s"
            f" ON s.customer_id = e.customer_id AND s.company_id = e.company_id"
            f" WHERE round(e.open_receivables, 2) <> round(coalesce(s.total, 0), 2)"
        )
        return cursor.fetchone()[0]


# -- the measured runs, each in its own process --------------------------------------------


def measure(what: str, path: str) -> dict:
    """One timed run in this process: its seconds, and its peak and starting memory."""
    from django.db import connection

    connection.ensure_connection()
    before = _rss_mb()
    result = _bulk_create(Path(path)) if what == "bulk_create" else _import(Path(path))
    return {**result, "peak_mb": _peak_mb(), "start_mb": before}


def _import(path: Path) -> dict:
    from django.core.files import File

    from creditfile.receivables.imports import run_job, submit
    from creditfile.receivables.models import ImportJob

    with open(path, "rb") as handle:  # queuing copies the upload: not timed
        job = submit(_mapping(), File(handle, name="bench-ar.csv"), _importer())
    started = time.perf_counter()
    run_job(job.pk)
    seconds = time.perf_counter() - started
    job = ImportJob.objects.get(pk=job.pk)
    return {
        "seconds": seconds,
        "status": job.status,
        "message": job.message,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "bad_rows": job.bad_rows,
    }


def _bulk_create(path: Path) -> dict:
    """The reference: the file's rows as Invoice objects, no checks, no exposure."""
    from django.db import transaction

    from creditfile.core.models import Company
    from creditfile.receivables.models import Invoice
    from creditfile.receivables.services.ledger import base_amount

    by_uscc = {uscc: pk for pk, uscc in _customers()}
    company = Company.default()
    started = time.perf_counter()
    batch, count = [], 0
    with open(path, encoding="utf-8-sig", newline="") as handle, transaction.atomic():
        rows = csv.reader(handle)
        next(rows)
        for number, code, uscc, day, due, currency, rate, amount in rows:
            customer_id = by_uscc[uscc] if uscc else int(code[1:])
            day = datetime.date.fromisoformat(day)
            amount = Decimal(amount)
            base = base_amount(amount, rate or 1)
            batch.append(
                Invoice(
                    company=company,
                    customer_id=customer_id,
                    source=BULK_SOURCE,
                    number=number,
                    currency=currency or "CNY",
                    rate=Decimal(rate or 1),
                    amount=amount,
                    base_amount=base,
                    open_base=base,
                    invoice_date=day,
                    due_date=(
                        datetime.date.fromisoformat(due)
                        if due
                        else day + datetime.timedelta(days=30)
                    ),
                )
            )
            if len(batch) == 5000:
                Invoice.objects.bulk_create(batch)
                count += len(batch)
                batch = []
        Invoice.objects.bulk_create(batch)
        count += len(batch)
    return {"seconds": time.perf_counter() - started, "created": count}


def _run_measure(what: str, path: Path) -> dict:
    command = [
        sys.executable,
        "-m",
        "creditfile",
        "bench",
        "import",
        f"--measure={what}",
        f"--file={path}",
    ]
    done = subprocess.run(
        command, env=dict(os.environ), stdout=subprocess.PIPE, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench import --measure={what} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker(customers: int, seed: int, rows: int) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    datasets.ensure_demo_data(customers, seed, _log)
    ensure_credit_data(customers, seed, timezone.localdate())
    _importer()
    _mapping()
    people = _customers()
    clear_previous()
    datasets.analyze()
    vendor = connection.vendor
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        path = Path(folder) / "ar.csv"
        _log(f"  writing {rows:,} invoice rows for {len(people):,} customers …")
        write_file(path, rows, seed, people)
        megabytes = path.stat().st_size / 1e6
        connection.close()
        _log("  import (new invoices) …")
        first = _run_measure("import", path)
        _log("  the same file again (all unchanged) …")
        again = _run_measure("import", path)
        wrong = exposures_wrong()
        _log("  bulk_create reference …")
        bulk = _run_measure("bulk_create", path)
        clear_previous()
    return {
        "vendor": vendor,
        "customers": customers,
        "matchable_customers": len(people),
        "rows": rows,
        "file_mb": megabytes,
        "import": first,
        "again": again,
        "bulk_create": bulk,
        "exposures_wrong": wrong,
    }


def run(stdout, customers, seed, urls, rows) -> list[dict]:
    reports = []
    for url in urls:
        target = datasets.Target(url)
        stdout.write(f"{target.label}: {url}\n")
        stdout.flush()
        args = [
            "import",
            "--worker",
            f"--customers={customers}",
            f"--seed={seed}",
            f"--rows={rows}",
        ]
        reports.append(datasets.worker_report(target, args))
    stdout.write(format_table(reports))
    return reports


def format_table(reports: list[dict]) -> str:
    lines = [
        "| database | run | rows | seconds | rows/s | peak MB | goal |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in reports:
        goal = GOALS.get(r["vendor"], 0)
        for key, label in (
            ("import", "import job (staged: load, SQL checks, merge; new invoices)"),
            ("again", "same file again (all unchanged)"),
            ("bulk_create", "reference: bulk_create, no validation"),
        ):
            run_ = r[key]
            rate = r["rows"] / run_["seconds"]
            mark = ""
            if key == "import":
                ok = rate >= goal and run_.get("status") == "done"
                mark = f"≥ {goal:,} {'✓' if ok else '✗'}"
            lines.append(
                f"| {r['label']} | {label} | {r['rows']:,} | {run_['seconds']:.1f} | "
                f"{rate:,.0f} | {run_['peak_mb']:.0f} | {mark} |"
            )
    for r in reports:
        first = r["import"]
        lines.append(
            f"{r['label']}: {r['customers']:,} customers, file {r['file_mb']:.0f} MB; import "
            f"{first['status']} (created {first['created']:,}, unchanged "
            f"{r['again']['unchanged']:,} on the second run, bad rows {first['bad_rows']}); "
            f"exposures wrong afterwards: {r['exposures_wrong']}"
            + (" ✓" if r["exposures_wrong"] == 0 else " ✗")
            + f"; process memory before the import {first['start_mb']:.0f} MB"
        )
    return "\n".join(lines) + "\n"
