"""`creditfile bench checks`: order credit checks over HTTP, as an ERP would call them.

The customers come from `creditfile demo` and their credit lines from the rescore
benchmark's set-based records (bench/rescore.py), so every customer has a line. The
benchmark starts `creditfile serve` (gunicorn, `--workers` processes of `--threads`
threads each, keep-alive), then `--clients` concurrent connections post
`POST /api/v1/credit-checks` for `--seconds`: each check a new order for a customer drawn
from a seeded sequence, with an amount that releases most orders and blocks some.
Afterwards every touched customer's stored exposure is compared with the ledger added up
again: a fast check that reserved wrongly would fail the benchmark.

The load generator is `wrk` (Debian package `wrk`) with a Lua script when it is
installed: a C program that costs the server's two cores little. Without it the clients
are one asyncio process (`--load-generator python`), which on a 2-core machine takes a
good share of the CPU from the server. Either way its CPU time is printed.

Because the machine may be shared, the run also measures the server's own CPU time per
check over `--sequential` checks sent one after another on one connection: the worker
processes' user + system time (SQLite runs inside them; PostgreSQL's server processes
are not counted), which other load changes far less than throughput.
"""

import asyncio
import http.client
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import datasets
from bench.rescore import ensure_credit_data

GOAL_RATE = 800
GOAL_P99_MS = 20.0
SOURCE = "bench-http"
PATH = "/api/v1/credit-checks"


def _log(message):
    print(message, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clear_previous_orders() -> None:
    """Remove the orders of earlier runs and give their customers back what they held.

    Run when the server is idle (`_drained`): a check still running could otherwise
    commit an order between reading who was touched and deleting, and its customer would
    keep a reservation for an order that is gone. Customers are also found by their
    exposure rows written since the first of these orders, for the same reason.
    On PostgreSQL the two tables are vacuumed afterwards: every run leaves tens of
    thousands of dead rows in them, and each later run got slower locking and updating
    exposure rows through them (391 → 174 checks/s over a dozen runs)."""
    from django.db import connection, transaction
    from django.db.models import Min

    from creditfile.receivables.models import Exposure, SalesOrder
    from creditfile.receivables.services import exposure as exposures

    with transaction.atomic():
        orders = SalesOrder.objects.filter(source=SOURCE)
        since = orders.aggregate(first=Min("created_at"))["first"]
        touched = set(orders.values_list("customer_id", "company_id"))
        if since is not None:
            touched |= set(
                Exposure.objects.filter(updated_at__gte=since).values_list(
                    "customer_id", "company_id"
                )
            )
        orders.delete()
        for customer_id, company_id in touched:
            receivables, orders_held = exposures.recompute(customer_id, company_id)
            Exposure.objects.filter(customer_id=customer_id, company_id=company_id).update(
                open_receivables=receivables,
                open_orders=orders_held,
                delivered_orders=exposures.recompute_delivered(customer_id, company_id),
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (SalesOrder, Exposure):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def _drained(seconds: float = 1.0) -> None:
    """Let the checks still in the server finish: when the load generator stops, the
    requests it sent last are still being answered (and commit orders)."""
    time.sleep(seconds)


def _api_key() -> str:
    """A credit manager's key: sees every customer and may check orders."""
    from django.contrib.auth.models import Group

    from creditfile.core import roles
    from creditfile.core.models import ApiToken, Department, User

    roles.sync_roles()
    user = User.objects.filter(username="bench-checker").first()
    if user is None:
        department = Department.objects.order_by("id").first()
        user = User.objects.create_user(
            "bench-checker", password=None, department=department, first_name="bench"
        )
        user.groups.add(Group.objects.get(name=roles.CREDIT_MANAGER))
    _token, key = ApiToken.issue(user, "bench checks")
    return key


def _wait_for(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"creditfile serve exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("creditfile serve did not start")


async def _client(number, port, key, customer_ids, until, seed, latencies, statuses):
    rng = random.Random(seed * 1000 + number)
    sent = 0
    while time.perf_counter() < until:
        sent += 1
        body = json.dumps(
            {
                "customer_id": rng.choice(customer_ids),
                "order_ref": f"B{number}-{sent}",
                "amount": f"{rng.randint(100, 60_000)}.00",
                "source": SOURCE,
            }
        ).encode()
        request = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode() + body
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        answer = await reader.read()
        writer.close()
        latencies.append(time.perf_counter() - started)
        statuses.append(answer[9:12].decode() if answer else "---")


async def _load(port, key, customer_ids, clients, seconds, seed):
    latencies: list[float] = []
    statuses: list[str] = []
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _client(n, port, key, customer_ids, until, seed, latencies, statuses)
            for n in range(clients)
        )
    )
    return latencies, statuses, time.perf_counter() - started


WRK_SCRIPT = """
-- Each wrk thread: its own seeded sequence of customers and amounts, unique order refs.
local ids, counter, tid = {}, 0, 0
local n = 0
function setup(thread)
  thread:set("tid", n)
  n = n + 1
end
function init(args)
  tid = tonumber(wrk.thread:get("tid"))
  math.randomseed(tonumber(args[2]) * 1000 + tid)
  for line in io.lines(args[1]) do ids[#ids + 1] = tonumber(line) end
  prefix = args[3]
end
function request()
  counter = counter + 1
  local body = string.format(
    '{"customer_id": %d, "order_ref": "%s%d-%d", "amount": "%d.00", "source": "%s"}',
    ids[math.random(#ids)], prefix, tid, counter, math.random(100, 60000), "SOURCE")
  return wrk.format("POST", "PATH", nil, body)
end
function done(summary, latency, requests)
  io.write(string.format(
    '\\nWRK {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d,'
    .. ' "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
""".replace("SOURCE", SOURCE).replace("PATH", PATH)


def _wrk(port, key, ids_file, clients, seconds, seed, prefix) -> dict:
    """`wrk` for `seconds` over `clients` keep-alive connections; its summary."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "checks.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        done = subprocess.run(
            [
                "wrk",
                f"--threads={min(2, clients)}",
                f"--connections={clients}",
                f"--duration={seconds}s",
                "--timeout=10s",
                "--header=Content-Type: application/json",
                f"--header=Authorization: Bearer {key}",
                f"--script={script}",
                f"http://127.0.0.1:{port}{PATH}",
                "--",
                str(ids_file),
                str(seed),
                prefix,
            ],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
    line = next(row for row in done.stdout.splitlines() if row.startswith("WRK "))
    return json.loads(line[4:])


def _worker_pids(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    if not children.exists():
        return []
    return [int(pid) for pid in children.read_text().split()]


def _cpu_seconds(pids: list[int]) -> float | None:
    """User + system seconds of the processes (Linux /proc); None elsewhere."""
    total = 0
    try:
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    except (OSError, IndexError, ValueError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


def _sequential(port, key, customer_ids, count, seed, server) -> dict:
    """`count` checks one after another on one keep-alive connection; the server
    workers' CPU time per check (other load on the machine changes it little)."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    pids = _worker_pids(server)
    before, started = _cpu_seconds(pids), time.perf_counter()
    ok = 0
    for number in range(count):
        body = json.dumps(
            {
                "customer_id": rng.choice(customer_ids),
                "order_ref": f"S-{number}",
                "amount": f"{rng.randint(100, 60_000)}.00",
                "source": SOURCE,
            }
        )
        connection.request("POST", PATH, body, headers)
        answer = connection.getresponse()
        answer.read()
        ok += answer.status == 200
    elapsed = time.perf_counter() - started
    after = _cpu_seconds(pids)
    connection.close()
    cpu = None if before is None or after is None else after - before
    return {
        "sequential_checks": count,
        "sequential_ok": ok,
        "sequential_ms_per_check": 1000 * elapsed / count,
        "server_cpu_ms_per_check": None if cpu is None else 1000 * cpu / count,
    }


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _verify() -> dict:
    """Every touched customer's stored exposure against the ledger added up again."""
    from django.db.models import Sum

    from creditfile.receivables.choices import OrderStatus
    from creditfile.receivables.models import Exposure, SalesOrder
    from creditfile.receivables.services import exposure as exposures

    orders = SalesOrder.objects.filter(source=SOURCE)
    wrong = 0
    touched = set(orders.values_list("customer_id", "company_id"))
    for customer_id, company_id in touched:
        row = Exposure.objects.get(customer_id=customer_id, company_id=company_id)
        if (row.open_receivables, row.open_orders) != exposures.recompute(customer_id, company_id):
            wrong += 1
    released = orders.filter(status=OrderStatus.RELEASED)
    return {
        "customers_touched": len(touched),
        "exposures_wrong": wrong,
        "released": released.count(),
        "blocked": orders.filter(status=OrderStatus.BLOCKED).count(),
        "released_amount": str(released.aggregate(total=Sum("base_amount"))["total"] or 0),
    }


def worker(
    customers: int,
    seed: int,
    seconds: int,
    clients: int,
    workers: int,
    threads: int = 1,
    sequential: int = 500,
    load_generator: str = "auto",
) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from creditfile.customers.models import Customer

    if load_generator == "auto":
        load_generator = "wrk" if shutil.which("wrk") else "python"
    call_command("migrate", verbosity=0, interactive=False)
    datasets.ensure_demo_data(customers, seed, _log)
    ensure_credit_data(customers, seed, timezone.localdate())
    _clear_previous_orders()
    key = _api_key()
    customer_ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
    vendor = connection.vendor
    connection.close()  # the server processes open their own

    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "creditfile",
        "serve",
        "--no-migrate",
        "--no-access-log",
        f"--port={port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--server=gunicorn",
    ]
    server = subprocess.Popen(
        command, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    folder = tempfile.TemporaryDirectory()
    ids_file = Path(folder.name) / "customers.txt"
    ids_file.write_text("\n".join(map(str, customer_ids)) + "\n", encoding="utf-8")
    try:
        _wait_for(port, server)
        _log(f"  warming up, then {clients} clients ({load_generator}) for {seconds} s …")
        load_average = os.getloadavg() if hasattr(os, "getloadavg") else None
        if load_generator == "wrk":
            _wrk(port, key, ids_file, clients, 2, seed + 1, "W")
            _drained()
            _clear_previous_orders()
            connection.close()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            pids = _worker_pids(server)
            server_before = _cpu_seconds(pids)
            summary = _wrk(port, key, ids_file, clients, seconds, seed, "R")
            server_after = _cpu_seconds(pids)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            elapsed = summary["duration_us"] / 1e6
            answered = summary["requests"]
            errors = summary["status_errors"] + summary["socket_errors"]
            figures = {
                "checks": answered,
                "errors": errors,
                "error_statuses": ["non-2xx"] if summary["status_errors"] else [],
                "rate": (answered - errors) / elapsed,
                "p50_ms": summary["p50_us"] / 1000,
                "p99_ms": summary["p99_us"] / 1000,
            }
        else:
            asyncio.run(_load(port, key, customer_ids, clients, 2, seed + 1))
            _drained()
            _clear_previous_orders()
            connection.close()
            before = resource.getrusage(resource.RUSAGE_SELF)
            pids = _worker_pids(server)
            server_before = _cpu_seconds(pids)
            latencies, statuses, elapsed = asyncio.run(
                _load(port, key, customer_ids, clients, seconds, seed)
            )
            server_after = _cpu_seconds(pids)
            after = resource.getrusage(resource.RUSAGE_SELF)
            ok = [lat for lat, status in zip(latencies, statuses, strict=True) if status == "200"]
            figures = {
                "checks": len(latencies),
                "errors": len(latencies) - len(ok),
                "error_statuses": sorted(set(statuses) - {"200"}),
                "rate": len(ok) / elapsed,
                "p50_ms": 1000 * statistics.median(ok) if ok else None,
                "p99_ms": 1000 * _percentile(ok, 0.99) if ok else None,
            }
        load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
        _drained()
        verified = _verify()
        connection.close()
        measured = _sequential(port, key, customer_ids, sequential, seed + 2, server)
    finally:
        server.terminate()
        server.wait(timeout=30)
        folder.cleanup()
    server_cpu = (
        None if server_before is None or server_after is None else server_after - server_before
    )
    return {
        "vendor": vendor,
        "customers": customers,
        "clients": clients,
        "workers": workers,
        "threads": threads,
        "load_generator": load_generator,
        "seconds": elapsed,
        **figures,
        "client_cpu_seconds": (after.ru_utime + after.ru_stime)
        - (before.ru_utime + before.ru_stime),
        "server_cpu_seconds": server_cpu,
        "load_average_before": load_average,
        "load_average_after": load_after,
        **verified,
        **measured,
    }


def run(
    stdout,
    customers,
    seed,
    urls,
    seconds,
    clients,
    workers,
    threads=1,
    sequential=500,
    load_generator="auto",
) -> list[dict]:
    reports = []
    for url in urls:
        target = datasets.Target(url)
        stdout.write(f"{target.label}: {url}\n")
        stdout.flush()
        args = [
            "checks",
            "--worker",
            f"--customers={customers}",
            f"--seed={seed}",
            f"--seconds={seconds}",
            f"--clients={clients}",
            f"--workers={workers}",
            f"--threads={threads}",
            f"--sequential={sequential}",
            f"--load-generator={load_generator}",
        ]
        reports.append(datasets.worker_report(target, args))
    stdout.write(format_table(reports))
    return reports


def format_table(reports: list[dict]) -> str:
    head = [""] + [r["label"] for r in reports]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def row(label, cell):
        lines.append("| " + " | ".join([label] + [cell(r) for r in reports]) + " |")

    def rate(r):
        return f"{r['rate']:,.0f}" + (" ✓" if r["rate"] >= GOAL_RATE else " ✗")

    def p99(r):
        if r["p99_ms"] is None:
            return "—"
        return f"{r['p99_ms']:.1f}" + (" ✓" if r["p99_ms"] <= GOAL_P99_MS else " ✗")

    row("checks answered (200)", lambda r: f"{r['checks'] - r['errors']:,}")
    row(f"checks per second (goal ≥ {GOAL_RATE})", rate)
    row("p50 ms", lambda r: "—" if r["p50_ms"] is None else f"{r['p50_ms']:.1f}")
    row(f"p99 ms (goal ≤ {GOAL_P99_MS:.0f})", p99)
    row("errors (not 200)", lambda r: f"{r['errors']:,} {' '.join(r['error_statuses'])}")
    row("released · blocked", lambda r: f"{r['released']:,} · {r['blocked']:,}")
    row(
        "exposures wrong afterwards",
        lambda r: (
            f"{r['exposures_wrong']} of {r['customers_touched']:,}"
            + (" ✓" if r["exposures_wrong"] == 0 else " ✗")
        ),
    )
    row("load generator CPU seconds (same machine)", lambda r: f"{r['client_cpu_seconds']:.1f}")
    row(
        "server CPU ms per check under load",
        lambda r: (
            "—"
            if r.get("server_cpu_seconds") is None
            else f"{1000 * r['server_cpu_seconds'] / max(1, r['checks']):.2f}"
        ),
    )
    row(
        "server CPU ms per check, sequential",
        lambda r: (
            "—"
            if r.get("server_cpu_ms_per_check") is None
            else f"{r['server_cpu_ms_per_check']:.2f} ({r['sequential_checks']} checks)"
        ),
    )
    row(
        "ms per check, sequential (one connection)",
        lambda r: f"{r['sequential_ms_per_check']:.2f}",
    )
    row(
        "load average before → after",
        lambda r: (
            "—"
            if not r.get("load_average_before")
            else f"{r['load_average_before'][0]:.1f} → {r['load_average_after'][0]:.1f}"
        ),
    )
    for r in reports:
        lines.append(
            f"{r['label']}: {r['customers']:,} customers, {r['clients']} clients "
            f"({r.get('load_generator', 'python')}), gunicorn {r['workers']} workers × "
            f"{r.get('threads', 1)} thread(s), keep-alive, {r['seconds']:.0f} s"
        )
    return "\n".join(lines) + "\n"
