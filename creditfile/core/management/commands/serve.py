"""Production server: waitress, a pure-Python WSGI server that runs on Linux and Windows."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "用生产级WSGI服务器（waitress）运行CreditFile。Serve CreditFile with waitress."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-migrate", action="store_true", help="不自动执行数据库迁移")

    def handle(self, *args, host, port, threads, no_migrate, **options):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        from waitress import serve

        from creditfile.wsgi import application

        self.stdout.write(f"CreditFile: http://{host}:{port}/ (threads={threads})")
        serve(application, host=host, port=port, threads=threads, ident="CreditFile")
