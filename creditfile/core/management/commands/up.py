"""First run and everyday single-machine use: migrate, seed when empty, print the login, serve."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from creditfile.core.services.setup import ensure_administrator, needs_demo_data


class Command(BaseCommand):
    help = "初始化并启动CreditFile（内置SQLite）。Set up and start CreditFile."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--demo-customers", type=int, default=300)
        parser.add_argument("--no-demo", action="store_true", help="空库时不加载演示数据")
        parser.add_argument("--no-serve", action="store_true", help="只初始化，不启动服务")

    def handle(self, *args, host, port, demo_customers, no_demo, no_serve, **options):
        from django.conf import settings

        self.stdout.write(f"数据目录 Data folder: {settings.DATA_DIR}")
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo and needs_demo_data():
            self.stdout.write(f"加载演示数据 Loading demo data ({demo_customers} customers)…")
            call_command("demo", customers=demo_customers, seed=1)
        password = ensure_administrator()
        if password:
            self.stdout.write(
                self.style.SUCCESS(
                    "\n管理员账号 Administrator login (shown once):\n"
                    f"  用户名 username: admin\n  密码 password: {password}\n"
                )
            )
        if no_serve:
            return
        # Imports of ERP files run in the background (docs/decisions.md): here in a thread
        # of this single process, so a fresh install needs no second program.
        from creditfile.receivables.imports import start_worker_thread

        start_worker_thread()
        call_command("serve", host=host, port=port, no_migrate=True, server="waitress")
