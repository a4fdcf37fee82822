"""creditfile demo --customers N --seed S: deterministic demo company and customer files."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = (
        "生成演示数据：演示公司的部门、各角色用户和N个客户档案（同一种子结果相同）。"
        " Generate deterministic demo data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300, help="客户数量")
        parser.add_argument("--seed", type=int, default=1, help="随机种子")
        parser.add_argument(
            "--append", action="store_true", help="数据库已有客户时继续追加（编号接续）"
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="基准日期 YYYY-MM-DD（默认今天）；日期都相对它生成",
        )
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, customers, seed, append, today, batch_size, **options):
        from creditfile.customers.demo import DEMO_PASSWORD, PEOPLE, DemoRefused, run_demo

        if customers < 0:
            raise CommandError("--customers 不能为负数。")
        if batch_size < 1:
            raise CommandError("--batch-size 至少为1。")
        today = today or timezone.localdate()

        def progress(done, seconds):
            self.stdout.write(f"  {done:,} 个客户 customers, {seconds:.0f} s")
            self.stdout.flush()

        try:
            result = run_demo(
                customers, seed, today, append=append, batch_size=batch_size, progress=progress
            )
        except DemoRefused as exc:
            raise CommandError(
                f"数据库中已有{exc.args[0]}个客户，未生成演示数据。如需追加，请加 --append。"
                f" The database already holds {exc.args[0]} customers; use --append to add more."
            ) from exc
        report = result.report
        rows = sum(report.rows.values()) + report.attachments
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成 {report.customers:,} 个客户（编号 {result.start}–"
                f"{result.start + report.customers - 1}，种子 {seed}，基准日 {today}），"
                f"{rows:,} 条档案记录，{report.attachments} 个附件，用时 {report.seconds:.1f} 秒。"
            )
        )
        credit = result.credit
        if credit is not None:
            self.stdout.write(
                f"信用管理 Credit: {credit.lines:,} 个授信额度 lines, {credit.evaluations:,} 份评估"
                f" evaluations, {credit.payment_summaries:,} 条付款记录汇总 payment summaries,"
                f" {sum(credit.applications.values())} 个信用申请 applications，"
                f"用时 {credit.seconds:.1f} 秒 {credit.phases}"
            )
            if credit.receivables:
                r = credit.receivables
                self.stdout.write(
                    f"应收账款 Receivables: {r['invoices']} 张发票 invoices, {r['payments']} 笔回款"
                    f" payments, 订单 orders {r['released']} 放行 released /"
                    f" {r['blocked']} 信用冻结 blocked"
                )
        self.stdout.write(f"\n演示用户 Demo users（密码 password: {DEMO_PASSWORD}）:")
        for username, full_name, department, role in PEOPLE:
            self.stdout.write(f"  {username:<15} {full_name:<6} {department:<12} {role}")
