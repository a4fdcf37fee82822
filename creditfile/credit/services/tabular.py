"""Reading a CSV or XLSX table of customer facts, all or nothing (ratings, payment summaries).

Both credit imports follow the customer import's rules (customers/imports/): a header row
with Chinese column names, every bad cell reported by row and column, and nothing written
unless the whole file is clean. The cell parsers, the workbook opener and the problem
report are reused from there; what is added is CSV (ERP systems and agencies export it
more often than XLSX) and matching rows to customers by their unified social credit code.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

from django.utils.translation import gettext as _

from creditfile.core.validators import normalize_uscc
from creditfile.customers.imports import Problem
from creditfile.customers.imports import columns as c
from creditfile.customers.imports.reader import FileProblem, iter_rows, map_headers, open_workbook
from creditfile.customers.imports.values import CellProblem, ValueParser, is_blank
from creditfile.customers.imports.workbooks import XLSX_CONTENT_TYPE, build_report

__all__ = [
    "XLSX_CONTENT_TYPE",
    "CellProblem",
    "Problem",
    "TableResult",
    "TableRow",
    "build_report",
    "build_template",
    "read_table",
]

CSV_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class TableRow:
    number: int
    values: dict[str, object]


@dataclass
class TableResult:
    """What an import did, or would do with `dry_run`; `problems` empty means it was clean."""

    filename: str
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    file_problem: bool = False
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def problem(self, row: int | None, column: str, message: str) -> None:
        self.problems.append(Problem("", row, column, message))
        # Kept in file order, whichever check found them, so the report reads top to bottom.
        self.problems.sort(key=lambda p: -1 if p.row is None else p.row)


def _csv_rows(stream, filename: str) -> Iterator[tuple[int, tuple]]:
    stream.seek(0)
    raw = stream.read()
    if not raw:
        raise FileProblem(_("文件“%(name)s”是空文件（0字节）。") % {"name": filename})
    for encoding in CSV_ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileProblem(_("“%(name)s”不是UTF-8或GBK编码的CSV文件。") % {"name": filename})
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    for number, values in enumerate(reader, start=1):
        yield number, tuple(value.strip() or None for value in values)


def _rows(stream, filename: str) -> Iterator[tuple[int, tuple]]:
    if PurePath(filename or "").suffix.lower() in (".csv", ".txt"):
        yield from _csv_rows(stream, filename)
        return
    workbook = open_workbook(stream, filename)
    try:
        yield from iter_rows(workbook.worksheets[0])
    finally:
        workbook.close()


def read_table(
    stream,
    filename: str,
    columns: tuple[c.Column, ...],
    result: TableResult,
    check_row: Callable[[dict[str, object]], list[tuple[str, str]]] | None = None,
) -> list[TableRow]:
    """Parse every row of the first sheet (or the CSV) into field → value.

    Problems go into `result` with their Excel/CSV row number and column header; rows
    with a problem are left out of the returned list, so the caller can still check the
    good rows (duplicates, unknown customers) and report everything in one pass.
    """
    headers = {column.field: column.header for column in columns}
    rows: list[TableRow] = []
    parser = ValueParser()
    try:
        found = None
        for number, values in _rows(stream, filename):
            if found is None:
                found, header_problems = map_headers(_("数据"), values, columns)
                for header, message in header_problems:
                    result.problem(1, header, message)
                if header_problems:
                    result.file_problem = True
                    return []
                continue
            cells = {col: values[pos] if pos < len(values) else None for pos, col in found.items()}
            if all(is_blank(raw) for raw in cells.values()):
                continue
            parsed, bad = {}, False
            for column, raw in cells.items():
                if is_blank(raw):
                    if column.required:
                        result.problem(number, column.header, _("必填，不能为空。"))
                        bad = True
                    continue
                try:
                    parsed[column.field] = parser.parse(column, raw)
                except CellProblem as exc:
                    result.problem(number, column.header, str(exc))
                    bad = True
            if not bad and check_row is not None:
                for field_name, message in check_row(parsed):
                    result.problem(number, headers.get(field_name, field_name), message)
                    bad = True
            if not bad:
                rows.append(TableRow(number, parsed))
    except FileProblem as exc:
        result.file_problem = True
        result.problem(None, "", str(exc))
        return []
    if found is None or (not rows and not result.problems):
        result.file_problem = True
        result.problem(None, "", _("文件中没有数据行（表头下方为空）。"))
    return rows


def customers_by_uscc(user, usccs) -> dict[str, object]:
    """The customers the user can see whose code is in `usccs`; others simply do not match."""
    from creditfile.customers.services.visibility import visible_customers

    codes = {normalize_uscc(code) for code in usccs if code}
    return {
        customer.uscc: customer
        for customer in visible_customers(user).filter(uscc__in=codes)
        if customer.uscc
    }


def build_template(columns: tuple[c.Column, ...], example: list | None = None) -> bytes:
    """A one-sheet workbook with the headers people fill in (required ones marked *); made
    by deliveries.spreadsheet (neutralised, unstamped: see customers/imports/workbooks.py)."""
    from creditfile.access.services.deliveries import spreadsheet
    from creditfile.customers.imports.workbooks import _bytes, _header_row

    workbook = spreadsheet(None)
    sheet = workbook.active
    sheet.title = _("数据")
    headers = [column.template_header for column in columns]
    _header_row(
        sheet,
        headers,
        required={column.template_header for column in columns if column.required},
        widths={column.template_header: column.width for column in columns},
    )
    if example:
        sheet.append(example)
    return _bytes(workbook)
