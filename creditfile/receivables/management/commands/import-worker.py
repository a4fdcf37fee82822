"""The background worker of ERP file imports, for production (docs/operations.md).

`creditfile up` runs the same loop in a thread of its own process; with `creditfile serve`
(several processes) run exactly one of these beside the web server.
"""

import signal
import threading

from django.core.management.base import BaseCommand

from creditfile.receivables.imports import drain, work


class Command(BaseCommand):
    help = "运行排队的ERP文件导入。Run queued ERP file imports."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="处理完当前排队的任务后退出")

    def handle(self, *args, once, **options):
        if once:
            self.stdout.write(f"{drain()} import job(s) run")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_args: stop.set())
        self.stdout.write("CreditFile import worker: waiting for jobs (Ctrl+C to stop)")
        self.stdout.flush()
        work(stop)  # a job under way when asked to stop is finished first
