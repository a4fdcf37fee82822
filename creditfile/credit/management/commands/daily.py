"""creditfile daily: the credit department's daily chores, safe to run twice.

Expires lines whose validity ended, creates the reviews that fell due (R-23), writes last
month's payment summaries from the receivables ledger, marks broken payment promises and
opens collection cases for customers newly past the first dunning level (R-30), and
proposes sanctions for late payers (R-27), erases key persons' personal details whose
retention date has passed (R-02) and, on Mondays, writes last week's violation summaries for
managers (R-42). Every step is
idempotent, so a rerun after a failure (or by mistake) changes nothing twice.
"""

import datetime
import importlib
import inspect

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from creditfile.core.history import acting_as


def _sanctions_step():
    """The sanctions service arrives with its own work; run it when it is there."""
    try:
        module = importlib.import_module("creditfile.credit.services.sanctions")
    except ImportError:
        return None
    return getattr(module, "propose_sanctions", None)


def _call_with_today(func, today):
    parameters = inspect.signature(func).parameters
    if "today" in parameters:
        return func(today=today)
    if "as_of" in parameters:
        return func(as_of=today)
    return func(today)


def _as_count(result) -> str:
    if isinstance(result, dict):
        return ", ".join(f"{key} {value}" for key, value in result.items())
    if isinstance(result, list | tuple | set):
        return str(len(result))
    return str(result)


class Command(BaseCommand):
    help = (
        "每日任务：额度到期、生成到期复评、信用制裁提议（可重复运行）。"
        " Daily job: expire lines, create due reviews, propose sanctions (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            default=None,
            help="按此日期运行 YYYY-MM-DD（默认今天）· run as of this date",
        )

    def handle(self, *args, today, **options):
        from creditfile.credit.services.lines import expire_lines
        from creditfile.credit.services.reviews import create_due_reviews

        today = today or timezone.localdate()
        rows: list[tuple[str, str]] = []
        with acting_as(label="daily job"):
            with transaction.atomic():
                rows.append(("额度到期 Lines expired", str(expire_lines(today))))
            with transaction.atomic():
                created = create_due_reviews(today)
            rows += [
                ("年度复评 Annual reviews created", str(created["annual"])),
                ("季度监控复核 Quarterly reviews created", str(created["quarterly"])),
                ("额度即将到期复评 Expiring-line reviews created", str(created["expiring"])),
            ]
            from creditfile.receivables.services.habits import months_back, summarise_month

            # Last month's payment behaviour from the ledger, before the sanction rules
            # read it (a rerun rewrites the same rows).
            period_end = months_back(today, 1)
            rows.append(
                (
                    f"付款记录汇总 Payment summaries from the ledger ({period_end})",
                    str(summarise_month(period_end)),
                )
            )
            from creditfile.receivables.services.collections import mark_broken_promises
            from creditfile.receivables.services.dunning import open_cases_for_overdue

            # Collections 商账追讨: promises checked against the payments, new cases for
            # customers past the first dunning level (both reruns change nothing twice).
            rows.append(("违约付款承诺 Broken payment promises", str(mark_broken_promises(today))))
            rows.append(
                ("新立催收案件 Collection cases opened", str(open_cases_for_overdue(today)))
            )
            from creditfile.customers.services.personal_data import (
                erase_expired_personal_details,
            )

            # Key persons' private details past their retention date (PIPL art. 19, 47).
            with transaction.atomic():
                erased = erase_expired_personal_details(today)
            rows.append(("到期个人信息删除 Expired personal details erased", str(erased)))
            propose = _sanctions_step()
            if propose is None:
                rows.append(("信用制裁提议 Sanction proposals", "— (未安装 not installed)"))
            else:
                with transaction.atomic():
                    result = _call_with_today(propose, today)
                if isinstance(result, dict) and "proposals" in result:
                    rows.append(("信用制裁提议 Sanction proposals", str(result["proposals"])))
                    if "blacklist" in result:
                        rows.append(("黑名单提议 Blacklist proposals", str(result["blacklist"])))
                else:
                    rows.append(("信用制裁提议 Sanction proposals", _as_count(result)))
            if today.weekday() == 0:
                from creditfile.access.services.violations import summarise_week

                # Mondays: last week's denied attempts, one summary per manager.
                week = summarise_week(today)
                rows.append(
                    (
                        f"违规汇总 Violation summaries (week of {week.week_start})",
                        f"{week.created} (e-mailed {week.emailed})",
                    )
                )
        self.stdout.write(f"creditfile daily {today.isoformat()}")
        width = max(len(label) for label, _value in rows)
        self.stdout.write(f"{'任务 Task'.ljust(width)}  数量 Count")
        for label, value in rows:
            self.stdout.write(f"{label.ljust(width)}  {value}")
        self.stdout.write(self.style.SUCCESS("完成 Done."))
