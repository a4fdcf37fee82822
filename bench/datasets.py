"""Benchmark databases: which ones to run on, and demo data generated once and reused.

A database is given as a URL. `sqlite:////path/to/dir` means the built-in SQLite set-up
with its data folder at that path (CREDITFILE_DATA_DIR); any other URL is passed on as
CREDITFILE_DATABASE_URL. Each database is benchmarked in its own process, so Django's
settings are the ones a real deployment on it would have.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlparse

from django.core.management.base import CommandError
from django.db import connection

RECORD_TABLE = "bench_dataset"


@dataclass
class Target:
    url: str

    @property
    def label(self) -> str:
        parsed = urlparse(self.url)
        if parsed.scheme == "sqlite":
            return "SQLite"
        if parsed.scheme.startswith("postgres"):
            return "PostgreSQL"
        return parsed.scheme

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        parsed = urlparse(self.url)
        if parsed.scheme == "sqlite":
            env.pop("CREDITFILE_DATABASE_URL", None)
            env["CREDITFILE_DATA_DIR"] = parsed.path
        else:
            env["CREDITFILE_DATABASE_URL"] = self.url
        return env


def current_target_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings.DATA_DIR}"
    return os.environ.get("CREDITFILE_DATABASE_URL", "")


def run_worker(target: Target, args: list[str]) -> subprocess.CompletedProcess:
    """Run `creditfile bench …` against `target` in a child process; its stdout is JSON."""
    command = [sys.executable, "-m", "creditfile", "bench", *args]
    return subprocess.run(
        command, env=target.environment(), stdout=subprocess.PIPE, text=True, check=False
    )


def worker_report(target: Target, args: list[str]) -> dict:
    """Run a worker (`run_worker`) and return its JSON report, labelled with the target."""
    done = run_worker(target, args)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark on {target.label} failed (exit {done.returncode})")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["label"] = target.label
    return report


def _record() -> tuple[int, int, float | None] | None:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if RECORD_TABLE not in tables:
            return None
        cursor.execute(f"SELECT customers, seed, demo_seconds FROM {RECORD_TABLE}")
        row = cursor.fetchone()
    return tuple(row) if row else None


def _write_record(customers: int, seed: int, seconds: float | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {RECORD_TABLE} "
            "(customers integer NOT NULL, seed integer NOT NULL, demo_seconds real)"
        )
        cursor.execute(f"DELETE FROM {RECORD_TABLE}")
        cursor.execute(
            f"INSERT INTO {RECORD_TABLE} (customers, seed, demo_seconds) VALUES (%s, %s, %s)",
            [customers, seed, seconds],
        )


def ensure_demo_data(customers: int, seed: int, log) -> tuple[float | None, bool]:
    """(seconds `creditfile demo` took, whether it ran now); reuses matching data."""
    from creditfile.customers.models import Customer

    record = _record()
    if record and record[0] == customers and record[1] == seed:
        return record[2], False
    existing = Customer.objects.count()
    if existing:
        raise CommandError(
            f"The benchmark database already holds {existing:,} customers that are not "
            f"demo data with --customers {customers} --seed {seed}; use an empty database "
            "(see docs/performance.md)."
        )
    command = [
        sys.executable,
        "-m",
        "creditfile",
        "demo",
        "--customers",
        str(customers),
        "--seed",
        str(seed),
    ]
    log(f"creditfile demo --customers {customers} --seed {seed} …")
    started = time.perf_counter()
    # The demo's own output goes to stderr so that stdout stays the worker's JSON.
    subprocess.run(command, env=dict(os.environ), stdout=sys.stderr, check=True)
    seconds = time.perf_counter() - started
    _write_record(customers, seed, seconds)
    analyze(full=True)
    return seconds, True


def analyze(full: bool = False) -> None:
    """Planner statistics; SQLite's ANALYZE reads every row, so only after generating.

    PostgreSQL also gets VACUUM: after a bulk load no page is marked all-visible yet, and
    until autovacuum gets there every "index-only" count visits the table.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE" if full else "ANALYZE")
        elif full:
            cursor.execute("ANALYZE")
        else:
            cursor.execute("PRAGMA optimize")
