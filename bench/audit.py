"""`creditfile bench audit`: the audit trail at scale.

1. Generates --events chained audit events (default 1,000,000) once per database, fast:
   the chain is computed in Python and written with bulk inserts continuing from the
   chain head (the trail is append-only, so an existing trail is only ever extended).
2. Times `creditfile audit verify` over the whole trail (verify_chain, as the command
   runs it), --runs times, median. Goal < 10 s for 1,000,000 events.
3. Times the customer page (`customers:detail`, through Django's test client, signed in
   as a credit manager) with and without its audit `view` event, each customer both ways
   (which goes first alternates), and reports
   the medians and their difference. Goal: < 2 ms per request. Also times record()
   alone (one chained event: lock the head, insert, move the head).
The customers come from `creditfile demo` (bench/datasets.py).
"""

import random
import statistics
import sys
import time
from datetime import timedelta

from bench import datasets

VERIFY_GOAL_EVENTS = 1_000_000
VERIFY_GOAL_S = 10.0
OVERHEAD_GOAL_MS = 2.0
BATCH = 5_000
ACTIONS = ["view"] * 14 + ["change"] * 4 + ["login", "logout", "export", "print", "download"]
SECTIONS = ["basic", "contacts", "credit", "receivables", "collections", "timeline"]


def _log(message):
    print(message, file=sys.stderr, flush=True)


def generate_events(target: int, seed: int) -> tuple[int, float]:
    """Extend the trail to `target` events; (events added, seconds)."""
    from django.db import transaction
    from django.utils import timezone

    from creditfile.access.models import AuditChainHead, AuditEvent
    from creditfile.access.services.audit import _locked_head, event_hash
    from creditfile.core.models import User
    from creditfile.customers.models import Customer

    existing = AuditEvent.objects.count()
    if existing >= target:
        return 0, 0.0
    rng = random.Random(seed * 7919 + existing)
    users = list(User.objects.values_list("pk", "username")[:200]) or [(None, "system")]
    customers = list(Customer.objects.values_list("pk", "name")[:5000]) or [(None, "")]
    started = time.perf_counter()
    # Spread over the last half year, in order, as a real trail would be.
    now = timezone.now()
    start = now - timedelta(days=183)
    step = (now - start) / max(target - existing, 1)
    with transaction.atomic():
        head = _locked_head()
        last_id, prev = head.last_id, head.last_hash
        batch = []
        for n in range(target - existing):
            user_id, username = rng.choice(users)
            customer_id, name = rng.choice(customers)
            action = rng.choice(ACTIONS)
            event = AuditEvent(
                id=last_id + 1,
                time=start + step * n,
                user_id=user_id,
                username=username,
                address=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                action=action,
                outcome="ok" if rng.random() > 0.01 else "denied",
                customer_id=customer_id,
                object_type="customers.customer" if customer_id else "",
                object_id=str(customer_id or ""),
                object_repr=name[:200],
                purpose="",
                detail={"section": rng.choice(SECTIONS)}
                if action == "view"
                else (
                    {"op": "update", "fields": "phone,office_address"} if action == "change" else {}
                ),
                request_id=f"{rng.getrandbits(128):032x}",
                prev_hash=prev,
            )
            event.hash = prev = event_hash(event)
            last_id += 1
            batch.append(event)
            if len(batch) >= BATCH:
                AuditEvent.objects.bulk_create(batch)
                batch.clear()
                if last_id % 100_000 == 0:
                    _log(f"    {last_id:,} events …")
        if batch:
            AuditEvent.objects.bulk_create(batch)
        AuditChainHead.objects.filter(pk=head.pk).update(last_id=last_id, last_hash=prev)
    return target - existing, time.perf_counter() - started


def time_verify(runs: int) -> list[dict]:
    from creditfile.access.services.verify import verify_chain

    results = []
    for run in range(runs):
        _log(f"  audit verify run {run + 1} …")
        started = time.perf_counter()
        cpu = time.process_time()
        report = verify_chain()
        results.append(
            {
                "seconds": time.perf_counter() - started,
                "cpu_seconds": time.process_time() - cpu,
                "events": report.checked,
                "ok": report.ok,
            }
        )
        _log(f"    {results[-1]}")
        if not report.ok:
            raise RuntimeError(f"the generated chain does not verify: {report.problem}")
    return results


def _manager():
    from creditfile.core import roles
    from creditfile.core.models import User

    user = User.objects.filter(groups__name=roles.CREDIT_MANAGER, is_active=True).first()
    if user is None:
        raise RuntimeError("no active credit manager; is this demo data?")
    return user


def time_page(requests: int, seed: int) -> dict:
    """The customer page with and without its audit event, alternating, per request (ms)."""
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from creditfile.access.models import AuditEvent
    from creditfile.access.services import audit
    from creditfile.customers.models import Customer

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    rng = random.Random(seed)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:2000])
    picks = [rng.choice(ids) for _ in range(requests)]
    client = Client()
    client.force_login(_manager())
    real = audit.record_view

    def get(pk):
        started = time.perf_counter()
        response = client.get(reverse("customers:detail", args=[pk]))
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"customer page {pk} answered {response.status_code}")
        return elapsed

    for pk in picks[:20]:  # warm up
        get(pk)
    before = AuditEvent.objects.count()
    with_audit, without = [], []
    try:
        for n, pk in enumerate(picks):
            # Each customer is asked for twice; the first time reads colder caches, so
            # which way goes first alternates.
            for logging in (True, False) if n % 2 == 0 else (False, True):
                audit.record_view = real if logging else (lambda *args, **kwargs: None)
                (with_audit if logging else without).append(get(pk))
    finally:
        audit.record_view = real
    logged = AuditEvent.objects.count() - before
    record_ms = []
    for n in range(max(requests, 200)):
        started = time.perf_counter()
        audit.record(audit.Action.SYSTEM, username="bench", detail={"n": n})
        record_ms.append((time.perf_counter() - started) * 1000)
    return {
        "requests": requests,
        "with_ms": statistics.median(with_audit),
        "without_ms": statistics.median(without),
        "overhead_ms": statistics.median(with_audit) - statistics.median(without),
        "paired_overhead_ms": statistics.median(
            [a - b for a, b in zip(with_audit, without, strict=True)]
        ),
        "record_ms": statistics.median(record_ms),
        "record_p95_ms": sorted(record_ms)[int(len(record_ms) * 0.95)],
        "events_logged": logged,
    }


def worker(events: int, customers: int, seed: int, runs: int, requests: int) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from creditfile.core.history import acting_as

    call_command("migrate", verbosity=0, interactive=False)
    demo_seconds, _generated = datasets.ensure_demo_data(customers, seed, _log)
    _log(f"audit events up to {events:,} …")
    added, generate_seconds = generate_events(events, seed)
    datasets.analyze(full=bool(added))
    verify = time_verify(runs)
    _log("customer page with and without the audit event …")
    with acting_as(label="bench audit"):
        page = time_page(requests, seed)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
        )
        version = cursor.fetchone()[0]
    return {
        "vendor": connection.vendor,
        "version": version,
        "events": verify[-1]["events"],
        "generated": added,
        "generate_seconds": generate_seconds,
        "customers": customers,
        "seed": seed,
        "verify": verify,
        "page": page,
    }


def run(stdout, events, customers, seed, urls, runs, requests) -> list[dict]:
    reports = []
    for url in urls:
        target = datasets.Target(url)
        stdout.write(f"{target.label}: {url}\n")
        stdout.flush()
        args = [
            "audit",
            "--worker",
            f"--events={events}",
            f"--customers={customers}",
            f"--seed={seed}",
            f"--runs={runs}",
            f"--requests={requests}",
        ]
        reports.append(datasets.worker_report(target, args))
    stdout.write(format_table(reports))
    return reports


def format_table(reports: list[dict]) -> str:
    head = [""] + [r["label"] for r in reports]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def row(label, cell):
        lines.append("| " + " | ".join([label] + [cell(r) for r in reports]) + " |")

    def verify_seconds(r):
        times = [run["seconds"] for run in r["verify"]]
        flag = ""
        if r["events"] >= VERIFY_GOAL_EVENTS:
            flag = " ✓" if max(times) <= VERIFY_GOAL_S else " ✗"
        text = f"{statistics.median(times):.1f}"
        if len(times) > 1:
            text += f" ({min(times):.1f}–{max(times):.1f})"
        return text + flag

    def overhead(r):
        ms = r["page"]["overhead_ms"]
        return f"{ms:.2f}" + (" ✓" if ms <= OVERHEAD_GOAL_MS else " ✗")

    row("audit events in the chain", lambda r: f"{r['events']:,}")
    row("audit verify, seconds (goal < 10 s at 1M)", verify_seconds)
    row("  CPU seconds of the verifying process", lambda r: f"{r['verify'][-1]['cpu_seconds']:.1f}")
    row("customer page, median ms, with its audit event", lambda r: f"{r['page']['with_ms']:.1f}")
    row("customer page, median ms, without", lambda r: f"{r['page']['without_ms']:.1f}")
    row("audit overhead per request, ms (goal < 2 ms)", overhead)
    row(
        "  paired median of the differences, ms", lambda r: f"{r['page']['paired_overhead_ms']:.2f}"
    )
    row(
        "record() alone, median (p95) ms",
        lambda r: f"{r['page']['record_ms']:.2f} ({r['page']['record_p95_ms']:.2f})",
    )
    row(
        "generating the events (bulk insert)",
        lambda r: (
            f"{r['generate_seconds']:.0f} s for {r['generated']:,}"
            if r["generated"]
            else "(reused)"
        ),
    )
    for r in reports:
        lines.append(
            f"{r['label']} {r['version']}: {r['page']['requests']} page requests each way, "
            f"{r['customers']:,} demo customers, seed {r['seed']}"
        )
    return "\n".join(lines) + "\n"
