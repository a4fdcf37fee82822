"""`creditfile bench checks`: order credit checks over HTTP, as an ERP would call them.

The customers come from `creditfile demo` and their credit lines from the rescore
benchmark's set-based records (bench/rescore.py), so every customer has a line. The
benchmark starts `creditfile serve` (gunicorn, `--workers` processes, one thread each),
then `--clients` concurrent clients post `POST /api/v1/credit-checks` for `--seconds`:
each check a new order for a customer drawn from a seeded sequence, with an amount that
releases most orders and blocks some. Every answer is timed from connect to the last
byte. Afterwards every touched customer's stored exposure is compared with the ledger
added up again: a fast check that reserved wrongly would fail the benchmark.

The clients are one asyncio process on the same machine, so they take CPU from the
server; their CPU time is printed with the figures.
"""

import asyncio
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time

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
    """Remove the orders of earlier runs and give their customers back what they held."""
    from django.db import transaction

    from creditfile.receivables.models import Exposure, SalesOrder
    from creditfile.receivables.services import exposure as exposures

    with transaction.atomic():
        touched = set(
            SalesOrder.objects.filter(source=SOURCE).values_list("customer_id", "company_id")
        )
        SalesOrder.objects.filter(source=SOURCE).delete()
        for customer_id, company_id in touched:
            receivables, orders = exposures.recompute(customer_id, company_id)
            Exposure.objects.filter(customer_id=customer_id, company_id=company_id).update(
                open_receivables=receivables,
                open_orders=orders,
                delivered_orders=exposures.recompute_delivered(customer_id, company_id),
            )


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


def worker(customers: int, seed: int, seconds: int, clients: int, workers: int) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from creditfile.customers.models import Customer

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
        f"--port={port}",
        f"--workers={workers}",
        "--threads=1",
        "--server=gunicorn",
    ]
    server = subprocess.Popen(
        command, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for(port, server)
        _log(f"  warming up, then {clients} clients for {seconds} s …")
        asyncio.run(_load(port, key, customer_ids, clients, 2, seed + 1))
        _clear_previous_orders()
        before = resource.getrusage(resource.RUSAGE_SELF)
        latencies, statuses, elapsed = asyncio.run(
            _load(port, key, customer_ids, clients, seconds, seed)
        )
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ok = [lat for lat, status in zip(latencies, statuses, strict=True) if status == "200"]
    return {
        "vendor": vendor,
        "customers": customers,
        "clients": clients,
        "workers": workers,
        "seconds": elapsed,
        "checks": len(latencies),
        "errors": len(latencies) - len(ok),
        "error_statuses": sorted(set(statuses) - {"200"}),
        "rate": len(ok) / elapsed,
        "p50_ms": 1000 * statistics.median(ok) if ok else None,
        "p99_ms": 1000 * _percentile(ok, 0.99) if ok else None,
        "client_cpu_seconds": (after.ru_utime + after.ru_stime)
        - (before.ru_utime + before.ru_stime),
        **_verify(),
    }


def run(stdout, customers, seed, urls, seconds, clients, workers) -> list[dict]:
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
        ]
        done = datasets.run_worker(target, args)
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
    row("client CPU seconds (same machine)", lambda r: f"{r['client_cpu_seconds']:.1f}")
    for r in reports:
        lines.append(
            f"{r['label']}: {r['customers']:,} customers, {r['clients']} clients, "
            f"gunicorn {r['workers']} workers × 1 thread, {r['seconds']:.0f} s"
        )
    return "\n".join(lines) + "\n"
