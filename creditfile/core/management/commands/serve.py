"""Production server: gunicorn (pre-forking, several workers) where it runs; waitress on Windows.

Several app servers can run this against one PostgreSQL database (docs/operations.md).
"""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections


class Command(BaseCommand):
    help = "用生产级WSGI服务器运行CreditFile。Serve CreditFile with a production WSGI server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--no-migrate", action="store_true", help="不自动执行数据库迁移")
        parser.add_argument(
            "--no-access-log", action="store_true", help="不记录访问日志（如性能基准测试）"
        )
        parser.add_argument(
            "--server",
            choices=["gunicorn", "waitress"],
            default=None,
            help="默认：gunicorn（Linux）",
        )

    def handle(
        self, *args, host, port, workers, threads, no_migrate, no_access_log, server, **options
    ):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        # Forked workers must not inherit the master's database connection.
        connections.close_all()
        server = server or ("waitress" if os.name == "nt" else "gunicorn")
        self.stdout.write(f"CreditFile: http://{host}:{port}/ ({server})", ending="\n")
        self.stdout.flush()
        if server == "waitress":
            self._waitress(host, port, threads)
        else:
            self._gunicorn(host, port, workers, threads, not no_access_log)

    def _waitress(self, host, port, threads):
        from waitress import serve

        from creditfile.wsgi import application

        serve(application, host=host, port=port, threads=threads, ident="CreditFile")

    def _gunicorn(self, host, port, workers, threads, access_log=True):
        from gunicorn.app.base import BaseApplication

        from creditfile.wsgi import application

        class CreditFileServer(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                # Threaded workers keep connections alive (an ERP sending checks one after
                # another reuses its connection), even with one thread each; gunicorn's
                # default sync worker closes every connection after one request.
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("threads", threads)
                if access_log:
                    self.cfg.set("accesslog", "-")
                self.cfg.set("proc_name", "creditfile")

            def load(self):
                return application

        CreditFileServer().run()
