"""Opening an ERP export, CSV or XLSX, and streaming its rows: memory stays flat however
large the file, because rows are read one at a time and never collected.

CSV files from Chinese ERPs come in UTF-8 (often with a BOM) or GBK/GB18030; the encoding
is decided by one streaming pass over the bytes, line by line, so a file that mixes both
(two exports pasted together) or is neither is refused with the line that shows it,
instead of being imported as mojibake.
"""

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath

from django.utils.translation import gettext as _

from creditfile.customers.imports.reader import FileProblem, open_workbook

__all__ = ["FileProblem", "Table", "open_table", "read_headers"]

UTF8, GB18030 = "utf-8-sig", "gb18030"
_BOM = b"\xef\xbb\xbf"
# Title lines above the header ("应收单列表", "打印日期：…") have one cell; the header has many.
_HEADER_SEARCH_ROWS = 20
CSV_SUFFIXES = (".csv", ".txt")


@dataclass
class Table:
    headers: list[str]
    header_row: int
    rows: Iterator[tuple[int, tuple]]  # (row number as the user sees it, values)
    estimated_rows: int  # data rows below the header, for the progress bar


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def detect_encoding(binary, filename: str) -> tuple[str, int]:
    """(encoding, number of lines) after reading every line once; FileProblem otherwise."""
    binary.seek(0)
    utf8_line = gbk_line = 0
    lines = 0
    for lines, line in enumerate(iter(binary.readline, b""), start=1):
        if lines == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_line = utf8_line or lines
            continue
        except UnicodeDecodeError:
            pass
        try:
            line.decode(GB18030)
            gbk_line = gbk_line or lines
        except UnicodeDecodeError:
            raise FileProblem(
                _("“%(name)s”第%(line)d行既不是UTF-8也不是GBK/GB18030编码，无法读取。")
                % {"name": filename, "line": lines}
            ) from None
        if utf8_line:
            break
    if lines == 0:
        raise FileProblem(_("文件“%(name)s”是空文件（0字节）。") % {"name": filename})
    if utf8_line and gbk_line:
        raise FileProblem(
            _(
                "“%(name)s”混用了两种编码：第%(utf8)d行是UTF-8，第%(gbk)d行是GBK。"
                "请用同一种编码重新导出整个文件。"
            )
            % {"name": filename, "utf8": utf8_line, "gbk": gbk_line}
        )
    return (GB18030 if gbk_line else UTF8), lines


def _find_header(rows: Iterator[tuple[int, tuple]], filename: str) -> tuple[int, list[str]]:
    for number, values in rows:
        if sum(not _is_blank(value) for value in values) >= 2:
            return number, [str(value).strip() if not _is_blank(value) else "" for value in values]
        if number >= _HEADER_SEARCH_ROWS:
            break
    raise FileProblem(
        _("“%(name)s”的前%(n)d行中找不到表头（至少两个列名的一行）。")
        % {"name": filename, "n": _HEADER_SEARCH_ROWS}
    )


def _csv_rows(binary, encoding: str, strip: bool = True) -> Iterator[tuple[int, tuple]]:
    binary.seek(0)
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    try:
        sample = text.read(8192)
        text.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        if strip:
            for number, values in enumerate(csv.reader(text, dialect), start=1):
                yield number, tuple(value.strip() for value in values)
        else:  # the staged import strips in SQL: no Python per cell
            yield from enumerate(csv.reader(text, dialect), start=1)
    finally:
        text.detach()


def _xlsx_rows(sheet) -> Iterator[tuple[int, tuple]]:
    sheet.reset_dimensions()  # some writers record the dimension wrongly and rows get lost
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, tuple(value.strip() if isinstance(value, str) else value for value in values)


def is_csv(filename: str) -> bool:
    return PurePath(filename or "").suffix.lower() in CSV_SUFFIXES


@contextmanager
def open_table(binary, filename: str, *, strip: bool = True):
    """The table of a CSV file or of the first sheet of an XLSX workbook.

    `binary` is a seekable binary file. Rows come from a generator over the open file, so
    they must be read inside the `with` block. `strip=False` (CSV only) gives the csv
    module's lists as they are, cells not stripped, for the staged import.
    """
    if is_csv(filename):
        encoding, lines = detect_encoding(binary, filename)
        rows = _csv_rows(binary, encoding, strip)
        try:
            header_row, headers = _find_header(rows, filename)
            yield Table(headers, header_row, rows, max(lines - header_row, 0))
        finally:
            rows.close()
        return
    workbook = open_workbook(binary, filename)
    try:
        sheet = workbook.worksheets[0]
        estimated = sheet.max_row or 0
        rows = _xlsx_rows(sheet)
        header_row, headers = _find_header(rows, filename)
        yield Table(headers, header_row, rows, max(estimated - header_row, 0))
    finally:
        workbook.close()


def read_headers(binary, filename: str) -> tuple[list[str], list[tuple]]:
    """A sample's headers (blank ones dropped) and its first rows, for the mapping screen."""
    with open_table(binary, filename) as table:
        examples = []
        for _number, values in table.rows:
            examples.append(values)
            if len(examples) == 3:
                break
        return [header for header in table.headers if header], examples
