"""The customer list 客户一览表 as an Excel workbook (R-13).

openpyxl's write-only mode keeps memory flat however many rows there are; the rows
come from a database iterator in chunks. Dates stay dates and money stays Decimal
so the sheet sorts and sums correctly in Excel. The workbook comes from
access/services/deliveries.py: its first row names who exported it and when, and no cell
can turn into a formula.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from creditfile.access.services.deliveries import STAMP_ROWS, Stamp, spreadsheet
from creditfile.customers.services.freshness import stale_reason

EXPORT_CAP = 100_000
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MONEY_FORMAT = "#,##0.00"
CENT = Decimal("0.01")

# Columns shown by the export, each: header msgid, width, number format, value of a customer.
COLUMNS = [
    (gettext_noop("客户名称"), 36, None, lambda c: c.name),
    (gettext_noop("统一社会信用代码"), 22, None, lambda c: c.uscc or ""),
    (gettext_noop("客户类别"), 10, None, lambda c: c.get_kind_display()),
    (gettext_noop("地区"), 24, None, lambda c: c.region.full_name if c.region_id else ""),
    (gettext_noop("行业"), 16, None, lambda c: c.industry.name if c.industry_id else ""),
    (gettext_noop("负责销售代表"), 12, None, lambda c: str(c.owner) if c.owner_id else ""),
    (gettext_noop("所属部门"), 14, None, lambda c: c.department.name if c.department_id else ""),
    (gettext_noop("信用等级"), 9, None, lambda c: c.credit_grade),
    (gettext_noop("销量等级"), 10, None, lambda c: c.get_volume_grade_display()),
    (gettext_noop("客户状态"), 10, None, lambda c: c.get_lifecycle_display()),
    (gettext_noop("完整度（%）"), 10, "0", lambda c: c.completeness),
    (gettext_noop("注册资本（元）"), 18, MONEY_FORMAT, lambda c: _money(c.registered_capital)),
    (gettext_noop("年销售额（元）"), 18, MONEY_FORMAT, lambda c: _money(c.annual_sales)),
    (gettext_noop("成立日期"), 12, DATE_FORMAT, lambda c: c.established_on),
    (gettext_noop("首次交易日期"), 12, DATE_FORMAT, lambda c: c.first_trade_on),
    (gettext_noop("最近拜访日期"), 12, DATE_FORMAT, lambda c: c.last_visit_on),
    (gettext_noop("档案更新时间"), 17, DATETIME_FORMAT, lambda c: _local(c.file_updated_at)),
    (gettext_noop("档案时效"), 24, None, lambda c: stale_reason(c)),
    (gettext_noop("电话"), 16, None, lambda c: c.phone),
    (gettext_noop("办公地址"), 40, None, lambda c: c.office_address or c.registered_address),
]
RELATED = ("region__parent__parent", "industry", "owner", "department")


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT)


def _local(value: datetime | None) -> datetime | None:
    """Excel has no time zones: write the Shanghai wall-clock time."""
    return None if value is None else timezone.localtime(value).replace(tzinfo=None)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


@dataclass
class ExportResult:
    rows: int
    capped: bool


def write_customer_list(
    queryset: QuerySet, target, *, stamp: Stamp | None, cap: int = EXPORT_CAP
) -> ExportResult:
    """Write the customers of `queryset`, in its order, as an .xlsx file to `target`.

    The header is the row under the stamp line. Past `cap` rows the sheet ends with a row
    saying so, instead of silently stopping.
    """
    workbook = spreadsheet(stamp, write_only=True)
    sheet = workbook.create_sheet(_("客户一览表"))
    # Write-only sheets take layout only before the first row is written.
    for index, (_header, width, _fmt, _value) in enumerate(COLUMNS, 1):
        sheet.column_dimensions[_column_letter(index)].width = width
    sheet.freeze_panes = f"A{STAMP_ROWS + 2 if stamp else 2}"

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF2F6")
    header = []
    for msgid, _width, _fmt, _value in COLUMNS:
        cell = WriteOnlyCell(sheet, value=_(msgid))
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(vertical="center")
        header.append(cell)
    sheet.append(header)

    written = 0
    capped = False
    for customer in queryset.select_related(*RELATED)[: cap + 1].iterator(chunk_size=2000):
        if written == cap:
            capped = True
            break
        row = []
        for _msgid, _width, fmt, value_of in COLUMNS:
            cell = WriteOnlyCell(sheet, value=value_of(customer))
            if fmt:
                cell.number_format = fmt
            row.append(cell)
        sheet.append(row)
        written += 1

    if capped:
        note = WriteOnlyCell(
            sheet,
            value=_("结果超过%(cap)d行，只导出了前%(cap)d行。请增加筛选条件后分批导出。")
            % {"cap": cap},
        )
        note.font = Font(bold=True, color="B91C1C")
        sheet.append([note])
    workbook.save(target)
    return ExportResult(rows=written, capped=capped)
