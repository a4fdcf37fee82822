"""`creditfile bench search`: the customer search box and the filtered list page at scale.

For every query kind, K query strings are drawn deterministically (from --seed) from
random existing customers, a few are run to warm up, then each of the K is timed
through Django exactly as the list page runs it: visible_customers → search → order by
name → first page of 50 → total counted up to 10,001. The list-page rows time whole
requests of the real view through Django's test client, signed in as a credit manager
(sees everything) and as a sales rep (sees own customers only).
"""

import json
import random
import statistics
import sys
import time
from collections.abc import Callable

from bench import datasets

PAGE_CAP = 10_000
WARM_UP = 10
GOAL_MS = 20.0

KINDS = [
    ("name2", "名称片段 name, 2 chars"),
    ("name2_broad", "名称片段 name, 2 chars, common (科技/有限/公司…)"),
    ("name4", "名称片段 name, 4 chars"),
    ("initials", "拼音首字母 pinyin initials (4)"),
    ("pinyin", "全拼 full pinyin (2–3 syllables)"),
    ("uscc", "统一社会信用代码 credit code (18)"),
    ("phone", "电话 phone, full mobile"),
    ("phone4", "电话 phone, last 4 digits"),
    ("list_manager", "列表页 list page, credit manager, region+active"),
    ("list_manager_q", "列表页 list page, credit manager, region+active+q"),
    ("list_manager_q_htmx", "  same, htmx partial (typing in the search box)"),
    ("list_rep", "列表页 list page, sales rep, region+active"),
    ("list_rep_q", "列表页 list page, sales rep, region+active+q"),
    ("list_rep_q_htmx", "  same, htmx partial (typing in the search box)"),
]
BROAD = ["科技", "有限", "公司", "贸易", "实业", "电子", "机械", "商行", "集团", "发展"]


def _users():
    from creditfile.core import roles
    from creditfile.core.models import User

    def first(role):
        user = User.objects.filter(groups__name=role, is_active=True).order_by("pk").first()
        if user is None:
            raise RuntimeError(f"no active user with role {role}; is this demo data?")
        return user

    return first(roles.CREDIT_MANAGER), first(roles.SALES_REP)


def _random_rows(model, rng: random.Random, count: int, fields: list[str], **filters):
    """`count` rows picked at random by id (ids of demo data are dense)."""
    from django.db.models import Max, Min

    queryset = model.objects.filter(**filters).order_by("pk")
    bounds = queryset.aggregate(low=Min("pk"), high=Max("pk"))
    rows = []
    while len(rows) < count:
        pick = rng.randint(bounds["low"], bounds["high"])
        row = queryset.filter(pk__gte=pick).values(*fields).first()
        if row:
            rows.append(row)
    return rows


def _fragment(rng: random.Random, text: str, length: int) -> str:
    start = rng.randrange(0, max(1, len(text) - length + 1))
    return text[start : start + length]


def _cjk_fragment(rng: random.Random, name: str, length: int) -> str:
    """A fragment of only Chinese characters when the name has such a run."""
    for _ in range(20):
        piece = _fragment(rng, name, length)
        if len(piece) == length and not any(ch.isascii() for ch in piece):
            return piece
    return _fragment(rng, name, length)


def _pinyin_fragment(rng: random.Random, row: dict) -> str:
    """2 or 3 consecutive syllables of the name, as a user types them (huaxin)."""
    from pypinyin import lazy_pinyin

    syllables = [s.lower() for s in lazy_pinyin(row["name"]) if s.isalpha()]
    for _ in range(20):
        n = rng.choice([2, 3])
        start = rng.randrange(0, max(1, len(syllables) - n + 1))
        piece = "".join(syllables[start : start + n])
        if len(piece) >= 3 and piece in row["name_pinyin"]:
            return piece
    return _fragment(rng, row["name_pinyin"], 6)


def draw_queries(seed: int, count: int, manager, rep) -> dict[str, list]:
    from creditfile.customers.models import Contact, Customer

    rng = random.Random(seed)
    fields = ["name", "name_initials", "name_pinyin", "uscc", "region__code"]
    rows = _random_rows(Customer, rng, count, fields)
    contacts = _random_rows(Contact, rng, count, ["mobile"], mobile__gt="")
    rep_rows = _random_rows(Customer, rng, count, fields, owner=rep)

    def province(row):
        return (row["region__code"] or "110000")[:2] + "0000"

    return {
        "name2": [_cjk_fragment(rng, r["name"], 2) for r in rows],
        "name2_broad": [BROAD[i % len(BROAD)] for i in range(count)],
        "name4": [_cjk_fragment(rng, r["name"], 4) for r in rows],
        "initials": [_fragment(rng, r["name_initials"], 4) for r in rows],
        "pinyin": [_pinyin_fragment(rng, r) for r in rows],
        "uscc": [r["uscc"] for r in rows],
        "phone": [c["mobile"] for c in contacts],
        "phone4": [c["mobile"][-4:] for c in contacts],
        "list_manager": [{"region": province(r), "lifecycle": "active"} for r in rows],
        "list_manager_q": [
            {"region": province(r), "lifecycle": "active", "q": _cjk_fragment(rng, r["name"], 2)}
            for r in rows
        ],
        "list_rep": [{"region": province(r), "lifecycle": "active"} for r in rep_rows],
        "list_rep_q": [
            {"region": province(r), "lifecycle": "active", "q": _cjk_fragment(rng, r["name"], 2)}
            for r in rep_rows
        ],
    }


def _search_runner(user) -> Callable[[str], int]:
    from creditfile.customers.filters import DEFAULT_SORT, capped_page, ordering_for
    from creditfile.customers.services.search import search_customers
    from creditfile.customers.services.visibility import visible_customers

    def run(q: str) -> int:
        queryset = search_customers(visible_customers(user), q).order_by(
            *ordering_for(DEFAULT_SORT)
        )
        return capped_page(queryset, 1, 50, PAGE_CAP).count

    return run


def _page_runner(user, htmx: bool = False) -> Callable[[dict], int]:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    url = reverse("customers:list")
    headers = {"HX-Request": "true"} if htmx else {}

    def run(params: dict) -> int:
        response = client.get(url, params, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} {params} answered {response.status_code}")
        return -1  # the page's total is not exposed outside tests

    return run


def _time(run, queries) -> dict:
    for q in queries[:WARM_UP]:
        run(q)
    times, hits = [], []
    for q in queries:
        started = time.perf_counter()
        hits.append(run(q))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p95_ms": times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)],
        "max_ms": times[-1],
        "median_hits": statistics.median(hits),
        "runs": len(times),
    }


def selected_kinds(only: list[str] | None) -> list[tuple[str, str]]:
    """The rows to measure: all, or those whose kind starts with one of `only`."""
    if not only:
        return KINDS
    return [(kind, label) for kind, label in KINDS if kind.startswith(tuple(only))]


def worker(customers: int, seed: int, queries: int, only: list[str] | None = None) -> dict:
    """Measure the configured database; returns what the parent prints."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    def log(message):
        print(message, file=sys.stderr, flush=True)

    call_command("migrate", verbosity=0, interactive=False)
    demo_seconds, generated = datasets.ensure_demo_data(customers, seed, log)
    datasets.analyze()
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    manager, rep = _users()
    drawn = draw_queries(seed, queries, manager, rep)
    runners = {
        "list_manager": _page_runner(manager),
        "list_manager_q": _page_runner(manager),
        "list_manager_q_htmx": _page_runner(manager, htmx=True),
        "list_rep": _page_runner(rep),
        "list_rep_q": _page_runner(rep),
        "list_rep_q_htmx": _page_runner(rep, htmx=True),
    }
    search = _search_runner(manager)
    results = {}
    for kind, _label in selected_kinds(only):
        log(f"  {kind} …")
        runner = runners.get(kind, search)
        results[kind] = _time(runner, drawn[kind.removesuffix("_htmx")])
        log(f"    {results[kind]}")
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
        "generated_now": generated,
        "samples": {
            kind: drawn[kind.removesuffix("_htmx")][:3] for kind, _ in selected_kinds(only)
        },
        "results": results,
    }


def run(
    stdout, customers: int, seed: int, urls: list[str], queries: int, only: list[str] | None = None
) -> list[dict]:
    """Run the worker once per database, one after the other, and print one table."""
    reports = []
    for url in urls:
        target = datasets.Target(url)
        stdout.write(f"{target.label}: {url}\n")
        stdout.flush()
        args = ["search", "--worker", f"--customers={customers}", f"--seed={seed}"]
        args += [f"--only={prefix}" for prefix in only or []]
        done = datasets.run_worker(target, [*args, f"--queries={queries}"])
        if done.returncode != 0:
            raise RuntimeError(f"benchmark on {url} failed (exit {done.returncode})")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        report["label"] = target.label
        reports.append(report)
    stdout.write(format_table(reports, queries))
    return reports


def format_table(reports: list[dict], queries: int) -> str:
    head = ["query kind"]
    for r in reports:
        head += [f"{r['label']} median", "p95", "hits"]
    lines = [
        f"{queries} timed runs per row after {WARM_UP} warm-up runs; ms through Django; "
        f"hits = median total (counted up to {PAGE_CAP + 1:,}); goal p95 ≤ {GOAL_MS:g} ms",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for kind, label in KINDS:
        if not all(kind in r["results"] for r in reports):
            continue
        cells = [label]
        for r in reports:
            m = r["results"][kind]
            flag = "" if m["p95_ms"] <= GOAL_MS else " ✗"
            hits = f"{m['median_hits']:g}" if m["median_hits"] >= 0 else "—"
            cells += [f"{m['median_ms']:.1f}", f"{m['p95_ms']:.1f}{flag}", hits]
        lines.append("| " + " | ".join(cells) + " |")
    demo = ["creditfile demo --customers N"]
    for r in reports:
        seconds = r["demo_seconds"]
        demo += [f"{seconds:.0f} s" if seconds else "(not timed)", "", ""]
    lines.append("| " + " | ".join(demo) + " |")
    for r in reports:
        lines.append(f"{r['label']} {r['version']}: {r['customers']:,} customers, seed {r['seed']}")
    return "\n".join(lines) + "\n"
