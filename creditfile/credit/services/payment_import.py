"""Importing payment behaviour (PaymentSummary) from the ERP's aging and collection report.

Until the receivables app keeps PaymentSummary up to date, this import is the only way
payment facts reach scoring, sanctions and annual reviews, so it is strict: all or
nothing, every bad cell named by row and column, and idempotent by (customer, period
end) so the same month's report can be loaded again after a correction.
"""

import calendar
import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from creditfile.core.history import acting_as, current_actor
from creditfile.core.validators import normalize_uscc
from creditfile.credit.models import PaymentSummary
from creditfile.credit.services.tabular import (
    TableResult,
    build_template,
    customers_by_uscc,
    read_table,
)
from creditfile.customers.imports import columns as c

IMPORT_PERMISSIONS = ("credit.add_paymentsummary", "credit.change_paymentsummary")
SOURCE = "import"

COLUMNS: tuple[c.Column, ...] = (
    c.Column("统一社会信用代码", "uscc", required=True, aliases=("uscc", "信用代码"), width=22),
    c.Column("统计截止日", "period_end", c.DATE, required=True, aliases=("period_end",)),
    c.Column("12个月销售额", "sales_amount", c.MONEY, required=True, aliases=("sales_amount",)),
    c.Column(
        "12个月回款额", "payments_amount", c.MONEY, required=True, aliases=("payments_amount",)
    ),
    c.Column("已结清发票数", "invoices_settled", c.INTEGER, required=True),
    c.Column("按期付款发票数", "invoices_paid_on_time", c.INTEGER, required=True),
    c.Column("平均逾期天数", "average_days_late", c.MONEY, required=True),
    c.Column("最长逾期天数", "max_days_late", c.INTEGER, required=True),
    c.Column("逾期超过30天次数", "times_late_over_30", c.INTEGER, required=True),
    c.Column("逾期超过90天次数", "times_late_over_90", c.INTEGER, required=True),
    c.Column("期末逾期金额", "overdue_amount", c.MONEY, required=True),
    c.Column(
        "恶意拖欠", "malicious_default", c.BOOLEAN, required=True, aliases=("恶意拖欠 是/否",)
    ),
)
FIELDS = [column.field for column in COLUMNS if column.field != "uscc"]
_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


def can_import(user) -> bool:
    return all(user.has_perm(perm) for perm in IMPORT_PERMISSIONS)


def _check_row(values: dict) -> list[tuple[str, str]]:
    """Rules inside one row; the figures must be possible, not only well-formed."""
    problems = []
    for name in FIELDS:
        value = values.get(name)
        if isinstance(value, Decimal | int) and not isinstance(value, bool) and value < 0:
            problems.append((name, _("不能为负数。")))
    period_end = values.get("period_end")
    if period_end is not None:
        last = calendar.monthrange(period_end.year, period_end.month)[1]
        if period_end.day != last:
            problems.append(
                (
                    "period_end",
                    _("统计截止日应为月末（例如 %(d)s）。") % {"d": period_end.replace(day=last)},
                )
            )
    for name in ("sales_amount", "payments_amount", "overdue_amount"):
        value = values.get(name)
        if isinstance(value, Decimal) and value != value.quantize(_CENT):
            problems.append((name, _("金额最多两位小数。")))
    settled, on_time = values.get("invoices_settled"), values.get("invoices_paid_on_time")
    if settled is not None and on_time is not None and on_time > settled:
        problems.append(("invoices_paid_on_time", _("按期付款发票数不能多于已结清发票数。")))
    over30, over90 = values.get("times_late_over_30"), values.get("times_late_over_90")
    if over30 is not None and over90 is not None and over90 > over30:
        problems.append(("times_late_over_90", _("逾期超过90天次数不能多于逾期超过30天次数。")))
    average, longest = values.get("average_days_late"), values.get("max_days_late")
    if average is not None and longest is not None and average > longest:
        problems.append(("average_days_late", _("平均逾期天数不能大于最长逾期天数。")))
    if average is not None and average != average.quantize(_TENTH):
        problems.append(("average_days_late", _("平均逾期天数最多一位小数。")))
    return problems


def import_payment_summaries(stream, filename: str, user, *, dry_run: bool = False) -> TableResult:
    """Create or update one PaymentSummary per row; nothing is written unless all rows are good."""
    if user is not None and not can_import(user):
        raise PermissionDenied
    result = TableResult(filename=filename, dry_run=dry_run)
    rows = read_table(stream, filename, COLUMNS, result, _check_row)
    if result.file_problem:
        return result
    header = {column.field: column.header for column in COLUMNS}
    customers = customers_by_uscc(user, [row.values["uscc"] for row in rows])
    seen: dict[tuple, int] = {}
    planned = []
    for row in rows:
        code = normalize_uscc(row.values["uscc"])
        customer = customers.get(code)
        if customer is None:
            result.problem(
                row.number, header["uscc"], _("没有统一社会信用代码为“%(v)s”的客户。") % {"v": code}
            )
            continue
        key = (customer.pk, row.values["period_end"])
        if key in seen:
            result.problem(
                row.number,
                header["period_end"],
                _("与第%(n)d行重复：同一客户同一统计截止日只能有一行。") % {"n": seen[key]},
            )
            continue
        seen[key] = row.number
        planned.append((customer, row.values))
    _refuse_ledger_rows(planned, rows, result, header)
    if not result.ok:
        return result
    with acting_as(
        user=user, label=f"import:{filename}"[:100], request_id=current_actor().request_id
    ):
        with transaction.atomic():
            for customer, values in planned:
                _save(customer, values, result)
            if dry_run:
                transaction.set_rollback(True)
            result.committed = not dry_run
    return result


def _refuse_ledger_rows(planned, rows, result: TableResult, header: dict) -> None:
    """Months the receivables ledger already summarised are its, not the ERP report's."""
    if not planned:
        return
    keys = {(customer.pk, values["period_end"]) for customer, values in planned}
    owned = set(
        PaymentSummary.objects.filter(customer__in=[customer for customer, _v in planned])
        .exclude(source=SOURCE)
        .values_list("customer_id", "period_end")
    )
    numbers = {id(row.values): row.number for row in rows}
    for customer, values in planned:
        key = (customer.pk, values["period_end"])
        if key in keys and key in owned:
            result.problem(
                numbers[id(values)],
                header["period_end"],
                _("该客户此统计截止日的付款记录来自应收账款台账，不能用导入覆盖。"),
            )


def _save(customer, values: dict, result: TableResult) -> None:
    data = {name: values[name] for name in FIELDS if name != "period_end"}
    existing = (
        PaymentSummary.objects.select_for_update()
        .filter(customer=customer, period_end=values["period_end"])
        .first()
    )
    if existing is None:
        PaymentSummary.objects.create(
            customer=customer, period_end=values["period_end"], source=SOURCE, **data
        )
        result.created += 1
        return
    changed = [name for name, value in data.items() if getattr(existing, name) != value]
    if not changed and existing.source == SOURCE:
        result.unchanged += 1
        return
    for name in changed:
        setattr(existing, name, data[name])
    existing.source = SOURCE
    existing.save(update_fields=[*changed, "source"])
    result.updated += 1


def template() -> bytes:
    example_day = datetime.date(2026, 6, 30)
    return build_template(
        COLUMNS,
        ["91330106MA2B0X0X0X", example_day, 1200000, 1100000, 48, 40, 6.5, 45, 2, 0, 35000, "否"],
    )
