"""The credit-check benchmark's own parts: wrk's script sends what the benchmark says
(new orders for the given customers, unique order numbers), the server's CPU time is
read, and the table marks the goal."""

import json
import os
import shutil
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import checks as bench
from creditfile.receivables.models import Exposure, SalesOrder
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.testing import TODAY, credit_customer


def test_it_reads_a_processes_cpu_time():
    assert bench._cpu_seconds([os.getpid()]) > 0


@pytest.mark.skipif(
    not shutil.which("wrk") and os.environ.get("CI") != "true",
    reason="wrk is not installed (.ci/run installs it; on CI a missing wrk fails)",
)
def test_wrks_script_posts_new_orders_for_the_given_customers(tmp_path):
    bodies, headers = [], []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            headers.append((self.path, self.headers["Authorization"]))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ids = tmp_path / "ids.txt"
    ids.write_text("11\n22\n33\n", encoding="utf-8")
    try:
        summary = bench._wrk(server.server_address[1], "cf_key", ids, 2, 1, 5, "T")
    finally:
        server.shutdown()

    assert summary["requests"] > 0 and summary["status_errors"] == 0
    assert {body["customer_id"] for body in bodies} <= {11, 22, 33}
    refs = [body["order_ref"] for body in bodies]
    assert len(refs) == len(set(refs)) and all(ref.startswith("T") for ref in refs)
    assert all(body["source"] == bench.SOURCE for body in bodies)
    assert all(100 <= float(body["amount"]) <= 60_000 for body in bodies)
    assert set(headers) == {(bench.PATH, "Bearer cf_key")}


def test_the_table_marks_the_goal_and_shows_the_cpu_per_check():
    report = {
        "label": "SQLite",
        "customers": 50_000,
        "clients": 16,
        "workers": 2,
        "threads": 1,
        "load_generator": "wrk",
        "seconds": 30.0,
        "checks": 30_000,
        "errors": 0,
        "error_statuses": [],
        "rate": 1000.0,
        "p50_ms": 5.0,
        "p99_ms": 25.0,
        "released": 27_000,
        "blocked": 3_000,
        "exposures_wrong": 0,
        "customers_touched": 20_000,
        "client_cpu_seconds": 3.0,
        "server_cpu_seconds": 45.0,
        "server_cpu_ms_per_check": 1.25,
        "sequential_checks": 500,
        "sequential_ms_per_check": 2.0,
        "load_average_before": [0.5, 0.4, 0.3],
        "load_average_after": [2.1, 1.0, 0.5],
    }

    table = bench.format_table([report])

    assert "| checks per second (goal ≥ 800) | 1,000 ✓ |" in table
    assert "| p99 ms (goal ≤ 20) | 25.0 ✗ |" in table
    assert "| server CPU ms per check under load | 1.50 |" in table
    assert "| server CPU ms per check, sequential | 1.25 (500 checks) |" in table
    assert "| load average before → after | 0.5 → 2.1 |" in table
    assert "0 of 20,000 ✓" in table


@pytest.mark.django_db(transaction=True)
def test_clearing_gives_back_what_orders_gone_before_it_looked_still_held(org):
    first = credit_customer(org.cathy, "100000", name="基准甲有限公司")
    second = credit_customer(org.cathy, "100000", name="基准乙有限公司")
    check_credit(first, "1000", "B-1", on_date=TODAY, source=bench.SOURCE)
    check_credit(second, "2000", "B-2", on_date=TODAY, source=bench.SOURCE)
    # The second order went while its customer still held it (a check that committed
    # during a clearing): only its exposure row, written since, tells who to put right.
    SalesOrder.objects.filter(number="B-2").delete()

    bench._clear_previous_orders()

    assert not SalesOrder.objects.filter(source=bench.SOURCE).exists()
    assert set(Exposure.objects.values_list("open_orders", flat=True)) == {Decimal("0.00")}
