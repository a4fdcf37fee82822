"""The aging report 账龄分析 as an Excel workbook (R-30).

The conventions of the customer list export (customers/exports.py): write-only openpyxl,
Chinese headers in bold on a grey band, money as numbers with two decimals so the sheet
sums and sorts in Excel, dates as dates. A second sheet lists the open invoices behind
the report, up to the same cap as the customer list, with a row saying so past it. Both
sheets open with the stamp line of access/services/deliveries.py.
"""

from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from creditfile.access.services.deliveries import STAMP_ROWS, Stamp, spreadsheet
from creditfile.customers.exports import DATE_FORMAT, EXPORT_CAP, MONEY_FORMAT
from creditfile.receivables.services.aging import AgingReport, AgingRow, age, aged_invoices

SHARE_FORMAT = "0.0%"
BOLD = Font(bold=True)
FILL = PatternFill("solid", fgColor="EEF2F6")


def _cell(sheet, value, fmt=None, bold=False, fill=False):
    cell = WriteOnlyCell(sheet, value=value)
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = BOLD
    if fill:
        cell.fill = FILL
    return cell


def _share(value: Decimal | None) -> Decimal | None:
    """Percent figures become fractions, shown by Excel as 12.3%."""
    return None if value is None else value / 100


def _summary_row(sheet, row: AgingRow, grand_total: Decimal, bold=False) -> list:
    cells = [_cell(sheet, row.label, bold=bold)]
    cells += [_cell(sheet, amount, MONEY_FORMAT, bold) for amount in row.amounts]
    cells += [
        _cell(sheet, row.total, MONEY_FORMAT, bold),
        _cell(sheet, _share(row.share_of(grand_total)), SHARE_FORMAT, bold),
        _cell(sheet, _share(row.overdue_share), SHARE_FORMAT, bold),
        _cell(sheet, row.invoices, "0", bold),
    ]
    return cells


def write_aging(
    report: AgingReport, customers, target, *, stamp: Stamp | None, cap: int = EXPORT_CAP
) -> int:
    """Write `report` (summary and its open invoices, of `customers` only) to `target`;
    the number of invoice rows written."""
    workbook = spreadsheet(stamp, write_only=True)
    top = STAMP_ROWS if stamp else 0
    summary = workbook.create_sheet(_("账龄汇总"))
    widths = [30] + [16] * len(report.buckets) + [18, 10, 10, 8]
    for index, width in enumerate(widths, 1):
        summary.column_dimensions[get_column_letter(index)].width = width
    summary.freeze_panes = f"B{top + 3}"
    title = _("账龄分析 截至 %(date)s · %(company)s · 按%(group)s") % {
        "date": report.as_of.isoformat(),
        "company": report.company,
        "group": report.group_label,
    }
    summary.append([_cell(summary, title, bold=True)])
    headers = [report.group_label] + [bucket.label for bucket in report.buckets]
    headers += [_("合计"), _("占比"), _("逾期占比"), _("发票数")]
    summary.append([_cell(summary, text, bold=True, fill=True) for text in headers])
    totals = report.totals
    for row in report.rows:
        summary.append(_summary_row(summary, row, totals.total))
    summary.append(_summary_row(summary, totals, totals.total, bold=True))
    shares = [_cell(summary, _("各段占比"), bold=True)]
    shares += [_cell(summary, _share(share), SHARE_FORMAT, True) for share in report.bucket_shares]
    summary.append(shares)
    written = _write_invoices(workbook, report, customers, cap, top)
    workbook.save(target)
    return written


def _write_invoices(workbook, report: AgingReport, customers, cap: int, top: int) -> int:
    sheet = workbook.create_sheet(_("未收发票明细"))
    columns = [
        (_("客户名称"), 32),
        (_("发票号"), 18),
        (_("开票日期"), 12),
        (_("到期日"), 12),
        (_("逾期天数"), 9),
        (_("账龄分段"), 12),
        (_("币种"), 6),
        (_("发票金额（原币）"), 16),
        (_("发票金额（人民币）"), 16),
        (_("未收金额（人民币）"), 16),
    ]
    for index, (_header, width) in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{top + 2}"
    sheet.append([_cell(sheet, header, bold=True, fill=True) for header, _w in columns])
    invoices = aged_invoices(
        report.as_of, report.group_by, None, company=report.company, customers=customers
    )
    written = 0
    for invoice in invoices[: cap + 1].iterator(chunk_size=2000):
        if written == cap:
            note = _("结果超过%(cap)d行，只导出了前%(cap)d行。请增加筛选条件后分批导出。") % {
                "cap": cap
            }
            sheet.append([WriteOnlyCell(sheet, value=note)])
            break
        aged = age(invoice, report.as_of, report.buckets)
        sheet.append(
            [
                _cell(sheet, invoice.customer.name),
                _cell(sheet, invoice.number),
                _cell(sheet, invoice.invoice_date, DATE_FORMAT),
                _cell(sheet, invoice.due_date, DATE_FORMAT),
                _cell(sheet, aged.days_overdue, "0"),
                _cell(sheet, report.buckets[aged.bucket].label),
                _cell(sheet, invoice.currency),
                _cell(sheet, invoice.amount, MONEY_FORMAT),
                _cell(sheet, invoice.base_amount, MONEY_FORMAT),
                _cell(sheet, aged.open_amount, MONEY_FORMAT),
            ]
        )
        written += 1
    return written
