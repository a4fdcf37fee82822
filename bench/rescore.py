"""`creditfile bench rescore`: score every customer again with the scorecard in force.

The customers come from `creditfile demo` (bench/datasets.py). Their credit records are
then added with one INSERT … SELECT per table, derived from the customer id so they are
the same on every database: an active credit line for every customer (grade as on file,
C where none; a prospect with a line is one approved before its first order), twelve
month-end payment summaries, an external rating for one in ten and a credit insurance
policy for one in twenty. Each timed run starts from no rescore rows (the previous run's
evaluations, factors and proposals are deleted first, untimed), then times
`rescore_all(today)`, which reads, scores and writes everything in one transaction.
"""

import datetime
import json
import statistics
import sys
import time

from bench import datasets

GOALS = {50_000: 10.0, 200_000: 60.0}
CREDIT_RECORD = "bench_rescore_dataset_v2"
MONTHS = 12


def _log(message):
    print(message, file=sys.stderr, flush=True)


def _month_ends(today: datetime.date, count: int) -> list[datetime.date]:
    ends = []
    day = today.replace(day=1) - datetime.timedelta(days=1)
    while len(ends) < count:
        ends.append(day)
        day = day.replace(day=1) - datetime.timedelta(days=1)
    return ends


def _credit_data_ready(customers: int, seed: int) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        if CREDIT_RECORD not in connection.introspection.table_names(cursor):
            return False
        cursor.execute(f"SELECT customers, seed FROM {CREDIT_RECORD}")
        return cursor.fetchone() == (customers, seed)


def ensure_credit_data(customers: int, seed: int, today: datetime.date) -> float | None:
    """Lines, payment summaries, ratings and securities for every demo customer (set-based)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from creditfile.core.models import Company, User
    from creditfile.credit.models import (
        CreditLine,
        CreditSecurity,
        ExternalRating,
        PaymentSummary,
    )
    from creditfile.credit.services.policy import policy_in_force

    if _credit_data_ready(customers, seed):
        return None
    started = time.perf_counter()
    company = Company.default()
    policy = policy_in_force(today)
    granter = User.objects.order_by("pk").values_list("pk", flat=True).first()
    now = timezone.now()
    customer_table = "customers_customer"
    line = CreditLine._meta.db_table
    summary = PaymentSummary._meta.db_table
    rating = ExternalRating._meta.db_table
    security = CreditSecurity._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # The demo may hold credit records of its own: add ours next to them.
        cursor.execute(
            f"""
            INSERT INTO {line} (customer_id, company_id, scope, status, grade, "limit",
                term_days, discount_percent, discount_days, cash_on_delivery, valid_from,
                valid_until, application_id, policy_id, granted_by_id, granted_at, ended_at,
                end_reason)
            SELECT c.id, %s, %s, 'active', g.grade,
                CASE g.grade WHEN 'A' THEN 1000000 WHEN 'B' THEN 500000
                    WHEN 'C' THEN 200000 ELSE 0 END,
                CASE g.grade WHEN 'A' THEN 60 WHEN 'B' THEN 45 WHEN 'C' THEN 30 ELSE 0 END,
                0, 0, g.grade = 'D', %s, NULL, NULL, %s, %s, %s, NULL, ''
            FROM {customer_table} c
            JOIN (SELECT id, CASE WHEN credit_grade = '' THEN 'C' ELSE credit_grade END
                  AS grade FROM {customer_table}) g ON g.id = c.id
            WHERE NOT EXISTS (SELECT 1 FROM {line} l WHERE l.customer_id = c.id
                              AND l.status = 'active' AND l.scope = %s)
            """,
            [company.pk, f"company:{company.pk}", today - datetime.timedelta(days=200)]
            + [policy.pk, granter, now, f"company:{company.pk}"],
        )
        for month, period_end in enumerate(_month_ends(today, MONTHS)):
            # Most customers pay within days, a tenth run up to 44 days late, drifting from
            # month to month; one in 97 was over 90 days late, one in 997 defaulted.
            cursor.execute(
                f"""
                INSERT INTO {summary} (customer_id, period_end, sales_amount, payments_amount,
                    invoices_settled, invoices_paid_on_time, average_days_late, max_days_late,
                    times_late_over_30, times_late_over_90, overdue_amount, malicious_default,
                    source, created_at)
                SELECT id, %s, 100000 + (id * 7919) %% 5000000, 90000 + (id * 7907) %% 4500000,
                    5 + (id * 7) %% 40,
                    ((5 + (id * 7) %% 40) * (40 + (id * 11 + %s) %% 61)) / 100,
                    ((id * 17 + %s * 3) %% 45) * (id %% 10) / 9,
                    (((id * 17 + %s * 3) %% 45) * (id %% 10) / 9) * 2,
                    CASE WHEN ((id * 17 + %s * 3) %% 45) * (id %% 10) / 9 > 25
                        THEN id %% 4 ELSE 0 END,
                    CASE WHEN id %% 97 = 0 THEN 1 ELSE 0 END,
                    (id * 31) %% 200000,
                    id %% 997 = 0,
                    'import', %s
                FROM {customer_table} c
                WHERE NOT EXISTS (SELECT 1 FROM {summary} p WHERE p.customer_id = c.id
                                  AND p.period_end = %s)
                """,
                [period_end, month, month, month, month, now, period_end],
            )
        cursor.execute(
            f"""
            INSERT INTO {rating} (customer_id, agency, provider, rated_on, rating, score,
                summary, report_id, entered_by_id, created_at)
            SELECT id, '某资信评估有限公司', 'file', %s, '', 35 + (id * 13) %% 61, '', NULL,
                NULL, %s
            FROM {customer_table} c WHERE id %% 10 = 0 AND NOT EXISTS (
                SELECT 1 FROM {rating} r WHERE r.customer_id = c.id
                AND r.agency = '某资信评估有限公司' AND r.rated_on = %s)
            """,
            [today - datetime.timedelta(days=120), now, today - datetime.timedelta(days=120)],
        )
        cursor.execute(
            f"""
            INSERT INTO {security} (customer_id, line_id, kind, provider, reference, amount,
                coverage_percent, valid_from, valid_until, notes, document_id, recorded_by_id,
                created_at)
            SELECT id, NULL, 'insurance', '某信用保险公司', '', 100000 + (id * 101) %% 900000,
                90, %s, NULL, '', NULL, NULL, %s
            FROM {customer_table} WHERE id %% 20 = 0
            """,
            [today - datetime.timedelta(days=100), now],
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {CREDIT_RECORD} "
            "(customers integer NOT NULL, seed integer NOT NULL)"
        )
        cursor.execute(f"DELETE FROM {CREDIT_RECORD}")
        cursor.execute(
            f"INSERT INTO {CREDIT_RECORD} (customers, seed) VALUES (%s, %s)", [customers, seed]
        )
    datasets.analyze(full=True)
    return time.perf_counter() - started


def clear_rescore_rows() -> None:
    """Remove what earlier runs wrote, so every run writes the same amount (untimed)."""
    from django.db import connection, transaction

    from creditfile.credit.models import Evaluation, GradeChangeProposal

    proposal = GradeChangeProposal._meta.db_table
    evaluation = Evaluation._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {proposal} WHERE source IN ('rescore', 'sanction')")
        cursor.execute(f"DELETE FROM {evaluation} WHERE kind = 'rescore'")


def worker(customers: int, seed: int, runs: int) -> dict:
    """Measure the configured database; returns what the parent prints."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from creditfile.credit.services.rescore import rescore_all

    call_command("migrate", verbosity=0, interactive=False)
    demo_seconds, _generated = datasets.ensure_demo_data(customers, seed, _log)
    today = timezone.localdate()
    _log("credit lines, payment summaries, ratings …")
    credit_seconds = ensure_credit_data(customers, seed, today)
    datasets.analyze()
    results = []
    for run in range(runs):
        clear_rescore_rows()
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _log(f"  rescore run {run + 1} …")
        outcome = rescore_all(today)
        results.append(
            {
                "seconds": outcome.seconds,
                "cpu_seconds": outcome.cpu_seconds,
                "customers": outcome.customers,
                "evaluations": outcome.evaluations,
                "factors": outcome.factors,
                "proposals": outcome.proposals,
                "sanction_proposals": outcome.sanction_proposals,
                "grades": outcome.grades,
                "phases": outcome.phases,
            }
        )
        _log(f"    {results[-1]}")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
        else:
            cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return {
        "vendor": connection.vendor,
        "version": version,
        "customers": customers,
        "seed": seed,
        "demo_seconds": demo_seconds,
        "credit_data_seconds": credit_seconds,
        "runs": results,
    }


def run(stdout, customers: int, seed: int, urls: list[str], runs: int) -> list[dict]:
    reports = []
    for url in urls:
        target = datasets.Target(url)
        stdout.write(f"{target.label}: {url}\n")
        stdout.flush()
        args = ["rescore", "--worker", f"--customers={customers}", f"--seed={seed}"]
        done = datasets.run_worker(target, [*args, f"--runs={runs}"])
        if done.returncode != 0:
            raise RuntimeError(f"benchmark on {url} failed (exit {done.returncode})")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        report["label"] = target.label
        reports.append(report)
    stdout.write(format_table(reports))
    return reports


def format_table(reports: list[dict]) -> str:
    head = [""] + [r["label"] for r in reports]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def row(label, cell):
        lines.append("| " + " | ".join([label] + [cell(r) for r in reports]) + " |")

    def seconds(r):
        times = [run["seconds"] for run in r["runs"]]
        goal = GOALS.get(r["customers"])
        flag = "" if goal is None else (" ✓" if max(times) <= goal else " ✗")
        text = f"{statistics.median(times):.1f}"
        if len(times) > 1:
            text += f" ({min(times):.1f}–{max(times):.1f})"
        return text + flag

    last = lambda key: lambda r: f"{r['runs'][-1][key]:,}"  # noqa: E731
    row("customers rescored", last("customers"))
    row("seconds (rescore_all)", seconds)
    row("  CPU seconds of the Python process", lambda r: f"{r['runs'][-1]['cpu_seconds']:.1f}")
    row(
        "  read · sanctions · score · write",
        lambda r: " · ".join(f"{v:.1f}" for v in r["runs"][-1]["phases"].values()),
    )
    row("evaluations written", last("evaluations"))
    row("factor scores (in the evaluation rows)", last("factors"))
    row("proposals written", last("proposals"))
    row("  of which from sanction rules", last("sanction_proposals"))
    row(
        "grades",
        lambda r: " · ".join(f"{g} {n:,}" for g, n in r["runs"][-1]["grades"].items()),
    )
    row(
        "creditfile demo --customers N",
        lambda r: f"{r['demo_seconds']:.0f} s" if r["demo_seconds"] else "(not timed)",
    )
    row(
        "credit records (INSERT … SELECT)",
        lambda r: f"{r['credit_data_seconds']:.0f} s" if r["credit_data_seconds"] else "(reused)",
    )
    for r in reports:
        lines.append(f"{r['label']} {r['version']}: {r['customers']:,} customers, seed {r['seed']}")
    return "\n".join(lines) + "\n"
