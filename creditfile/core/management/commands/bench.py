"""creditfile bench <benchmark>: performance benchmarks (see docs/performance.md).

Each benchmark is a subcommand whose code lives in the top-level `bench` package of the
source tree; add `bench aging` etc. as further subparsers below.
"""

import json
import shutil
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def _bench_package():
    try:
        import bench  # noqa: F401
    except ImportError:
        # Installed as a console script, the source tree is not on sys.path.
        sys.path.insert(0, str(settings.PACKAGE_DIR.parent))
    import bench.aging
    import bench.audit
    import bench.checks
    import bench.imports
    import bench.rescore
    import bench.search

    return bench


class Command(BaseCommand):
    help = "性能基准测试 Performance benchmarks: creditfile bench search|rescore …"

    def add_arguments(self, parser):
        benchmarks = parser.add_subparsers(dest="benchmark", required=True)
        search = benchmarks.add_parser(
            "search", help="客户搜索与列表页 customer search box and list page"
        )
        search.add_argument("--customers", type=int, default=1_000_000)
        search.add_argument("--seed", type=int, default=1)
        search.add_argument(
            "--database-url",
            action="append",
            dest="database_urls",
            help="repeatable; sqlite:////DATA/DIR or postgres://…; default: the configured one",
        )
        search.add_argument("--queries", type=int, default=200, help="timed runs per row")
        search.add_argument("--json", dest="json_path", help="also write the results here")
        search.add_argument(
            "--only",
            action="append",
            dest="only",
            help="repeatable; measure only the rows whose kind starts with this (e.g. list_rep)",
        )
        search.add_argument("--worker", action="store_true", help="(internal) measure this DB")
        rescore = benchmarks.add_parser(
            "rescore", help="全部客户重新评分 rescore every customer (scorecard + sanctions)"
        )
        rescore.add_argument("--customers", type=int, default=50_000)
        rescore.add_argument("--seed", type=int, default=1)
        rescore.add_argument(
            "--database-url",
            action="append",
            dest="database_urls",
            help="repeatable; sqlite:////DATA/DIR or postgres://…; default: the configured one",
        )
        rescore.add_argument("--runs", type=int, default=1, help="timed runs per database")
        rescore.add_argument("--json", dest="json_path", help="also write the results here")
        rescore.add_argument("--worker", action="store_true", help="(internal) measure this DB")

        checks = benchmarks.add_parser(
            "checks", help="通过HTTP做订单信用检查 order credit checks over HTTP (gunicorn)"
        )
        checks.add_argument("--customers", type=int, default=50_000)
        checks.add_argument("--seed", type=int, default=1)
        checks.add_argument(
            "--database-url",
            action="append",
            dest="database_urls",
            help="repeatable; sqlite:////DATA/DIR or postgres://…; default: the configured one",
        )
        checks.add_argument("--seconds", type=int, default=30)
        checks.add_argument("--clients", type=int, default=16)
        checks.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        checks.add_argument("--threads", type=int, default=1, help="threads per worker")
        checks.add_argument(
            "--sequential",
            type=int,
            default=500,
            help="checks sent one by one afterwards to measure the server's CPU per check",
        )
        checks.add_argument(
            "--load-generator",
            choices=["auto", "wrk", "python"],
            default="auto",
            help="wrk (Debian package) when installed, else an asyncio client",
        )
        checks.add_argument("--json", dest="json_path", help="also write the results here")
        checks.add_argument("--worker", action="store_true", help="(internal) measure this DB")

        aging = benchmarks.add_parser(
            "aging", help="账龄分析汇总与 DuckDB 对比 aging summary vs in-memory DuckDB"
        )
        aging.add_argument("--customers", type=int, default=50_000)
        aging.add_argument("--invoices", type=int, default=3_000_000)
        aging.add_argument("--payments", type=int, default=2_000_000)
        aging.add_argument("--seed", type=int, default=1)
        aging.add_argument(
            "--database-url",
            action="append",
            dest="database_urls",
            help="repeatable; sqlite:////DATA/DIR or postgres://…; default: the configured one",
        )
        aging.add_argument("--runs", type=int, default=3, help="timed runs per engine (median)")
        aging.add_argument(
            "--group", default="customer", choices=["customer", "owner", "department", "grade"]
        )
        aging.add_argument(
            "--no-documents",
            dest="documents",
            action="store_false",
            help="skip the aging worked out from the documents (the past-date way)",
        )
        aging.add_argument("--json", dest="json_path", help="also write the results here")
        aging.add_argument("--worker", action="store_true", help="(internal) measure this DB")

        imports = benchmarks.add_parser(
            "import", help="ERP发票文件导入 ERP invoice CSV import (check, de-duplicate, write)"
        )
        imports.add_argument("--customers", type=int, default=50_000)
        imports.add_argument("--seed", type=int, default=1)
        imports.add_argument("--rows", type=int, default=1_000_000, help="invoice rows in the file")
        imports.add_argument(
            "--database-url",
            action="append",
            dest="database_urls",
            help="repeatable; sqlite:////DATA/DIR or postgres://…; default: the configured one",
        )
        imports.add_argument("--json", dest="json_path", help="also write the results here")
        imports.add_argument("--worker", action="store_true", help="(internal) measure this DB")
        imports.add_argument(
            "--measure", choices=["import", "bulk_create"], help="(internal) one timed run"
        )
        imports.add_argument("--file", help="(internal) the generated file of --measure")

        audit = benchmarks.add_parser(
            "audit", help="审计记录校验与页面开销 audit verify over N events, page overhead"
        )
        audit.add_argument("--events", type=int, default=1_000_000)
        audit.add_argument("--customers", type=int, default=1_000, help="demo customers")
        audit.add_argument("--seed", type=int, default=1)
        audit.add_argument(
            "--database-url",
            action="append",
            dest="database_urls",
            help="repeatable; sqlite:////DATA/DIR or postgres://…; default: the configured one",
        )
        audit.add_argument("--runs", type=int, default=3, help="timed verify runs (median)")
        audit.add_argument("--requests", type=int, default=300, help="page requests each way")
        audit.add_argument("--json", dest="json_path", help="also write the results here")
        audit.add_argument("--worker", action="store_true", help="(internal) measure this DB")

    def handle(self, *args, benchmark, **options):
        bench = _bench_package()
        if benchmark == "search":
            self._search(bench, **options)
        elif benchmark == "rescore":
            self._rescore(bench, **options)
        elif benchmark == "checks":
            self._checks(bench, **options)
        elif benchmark == "aging":
            self._aging(bench, **options)
        elif benchmark == "import":
            self._import(bench, **options)
        elif benchmark == "audit":
            self._audit(bench, **options)

    def _audit(
        self, bench, events, customers, seed, database_urls, runs, requests, json_path, worker, **_
    ):
        if min(events, customers, runs, requests) < 1:
            raise CommandError("--events, --customers, --runs and --requests must be ≥ 1.")
        if worker:
            report = bench.audit.worker(events, customers, seed, runs, requests)
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        urls = database_urls or [bench.datasets.current_target_url()]
        try:
            reports = bench.audit.run(self.stdout, events, customers, seed, urls, runs, requests)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if json_path:
            with open(json_path, "w", encoding="utf-8") as out:
                json.dump(reports, out, ensure_ascii=False, indent=2)

    def _checks(
        self,
        bench,
        customers,
        seed,
        database_urls,
        seconds,
        clients,
        workers,
        json_path,
        worker,
        threads=1,
        sequential=500,
        load_generator="auto",
        **_,
    ):
        if min(customers, seconds, clients, workers, threads, sequential) < 1:
            raise CommandError(
                "--customers, --seconds, --clients, --workers, --threads and --sequential "
                "must be ≥ 1."
            )
        if load_generator == "wrk" and not shutil.which("wrk"):
            raise CommandError("wrk is not installed (Debian: apt-get install wrk).")
        if worker:
            report = bench.checks.worker(
                customers, seed, seconds, clients, workers, threads, sequential, load_generator
            )
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        urls = database_urls or [bench.datasets.current_target_url()]
        try:
            reports = bench.checks.run(
                self.stdout,
                customers,
                seed,
                urls,
                seconds,
                clients,
                workers,
                threads,
                sequential,
                load_generator,
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if json_path:
            with open(json_path, "w", encoding="utf-8") as out:
                json.dump(reports, out, ensure_ascii=False, indent=2)

    def _rescore(self, bench, customers, seed, database_urls, runs, json_path, worker, **_):
        if customers < 1 or runs < 1:
            raise CommandError("--customers and --runs must be at least 1.")
        if worker:
            report = bench.rescore.worker(customers, seed, runs)
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        urls = database_urls or [bench.datasets.current_target_url()]
        try:
            reports = bench.rescore.run(self.stdout, customers, seed, urls, runs)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if json_path:
            with open(json_path, "w", encoding="utf-8") as out:
                json.dump(reports, out, ensure_ascii=False, indent=2)

    def _search(
        self, bench, customers, seed, database_urls, queries, json_path, worker, only=None, **_
    ):
        if customers < 1 or queries < 1:
            raise CommandError("--customers and --queries must be at least 1.")
        if worker:
            report = bench.search.worker(customers, seed, queries, only)
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        urls = database_urls or [bench.datasets.current_target_url()]
        try:
            reports = bench.search.run(self.stdout, customers, seed, urls, queries, only)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if json_path:
            with open(json_path, "w", encoding="utf-8") as out:
                json.dump(reports, out, ensure_ascii=False, indent=2)

    def _aging(self, bench, database_urls, runs, group, documents, json_path, worker, **options):
        spec = bench.aging.Spec(
            options["customers"], options["invoices"], options["payments"], options["seed"]
        )
        if min(spec.customers, spec.invoices, runs) < 1 or spec.payments < 0:
            raise CommandError("--customers, --invoices and --runs must be at least 1.")
        if spec.payments > spec.invoices:
            raise CommandError(
                "--payments cannot exceed --invoices (one payment per paid invoice)."
            )
        if worker:
            report = bench.aging.worker(spec, runs, group, documents)
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        urls = database_urls or [bench.datasets.current_target_url()]
        try:
            reports = bench.aging.run(self.stdout, spec, urls, runs, group, documents)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if json_path:
            with open(json_path, "w", encoding="utf-8") as out:
                json.dump(reports, out, ensure_ascii=False, indent=2)

    def _import(
        self, bench, customers, seed, rows, database_urls, json_path, worker, measure, file, **_
    ):
        if min(customers, rows) < 1:
            raise CommandError("--customers and --rows must be at least 1.")
        if measure:
            self.stdout.write(json.dumps(bench.imports.measure(measure, file), default=str))
            return
        if worker:
            report = bench.imports.worker(customers, seed, rows)
            self.stdout.write(json.dumps(report, ensure_ascii=False, default=str))
            return
        urls = database_urls or [bench.datasets.current_target_url()]
        try:
            reports = bench.imports.run(self.stdout, customers, seed, urls, rows)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if json_path:
            with open(json_path, "w", encoding="utf-8") as out:
                json.dump(reports, out, ensure_ascii=False, indent=2, default=str)
