"""Opening an uploaded workbook and streaming its rows, with every way a file can be wrong
turned into one clear message instead of a traceback."""

import zipfile
from collections.abc import Iterator
from pathlib import PurePath

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from creditfile.customers.imports.columns import Column, header_index, normalize_header


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says why."""


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC_NAMES = (
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"%PDF", "PDF"),
)


def _size(stream) -> int:
    position = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(position)
    return size


def open_workbook(stream, filename: str):
    """A read-only workbook, or FileProblem. `stream` must be a seekable binary file."""
    suffix = PurePath(filename or "").suffix.lower()
    stream.seek(0)
    if _size(stream) == 0:
        raise FileProblem(_("文件“%(name)s”是空文件（0字节）。") % {"name": filename})
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise FileProblem(
            _("“%(name)s”是旧版Excel 97-2003（.xls）格式，请在Excel中另存为.xlsx后再导入。")
            % {"name": filename}
        )
    if suffix in (".csv", ".txt"):
        raise FileProblem(
            _("“%(name)s”是文本/CSV文件，请使用导入模板（.xlsx）。") % {"name": filename}
        )
    if not head.startswith(b"PK"):
        kind = next((label for magic, label in _MAGIC_NAMES if head.startswith(magic)), None)
        detail = _("实际是%(kind)s文件") % {"kind": kind} if kind else _("内容不是Excel格式")
        raise FileProblem(
            _("“%(name)s”不是有效的Excel（.xlsx）文件（%(detail)s），可能是改了扩展名的其他文件。")
            % {"name": filename, "detail": detail}
        )
    try:
        return load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError, OSError):
        raise FileProblem(
            _("“%(name)s”无法作为Excel（.xlsx）文件打开，文件可能已损坏或不是Excel文件。")
            % {"name": filename}
        ) from None


def sheet_names(workbook) -> list[str]:
    return list(workbook.sheetnames)


def find_sheet(workbook, name: str):
    """The sheet called `name` (surrounding spaces ignored), or None."""
    for title in workbook.sheetnames:
        if title.strip() == name:
            return workbook[title]
    return None


def iter_rows(sheet) -> Iterator[tuple[int, tuple]]:
    """(Excel row number, values) for every row, streamed.

    The stored dimension is ignored because some writers record it wrongly, which
    would silently cut rows off.
    """
    sheet.reset_dimensions()
    yield from enumerate(sheet.iter_rows(values_only=True), start=1)


def map_headers(
    sheet_title: str, values: tuple, columns: tuple[Column, ...]
) -> tuple[dict[int, Column], list[tuple[str, str]]]:
    """Column position → Column, and the header problems as (header, message)."""
    index = header_index(columns)
    found: dict[int, Column] = {}
    seen: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for position, raw in enumerate(values or ()):
        text = str(raw).strip() if raw is not None else ""
        if not text:
            continue
        column = index.get(normalize_header(text))
        if column is None:
            problems.append((text, _("无法识别的列“%(h)s”；请使用模板中的列名。") % {"h": text}))
            continue
        if column.field in seen:
            problems.append(
                (
                    text,
                    _("列“%(h)s”与列“%(other)s”重复。") % {"h": text, "other": seen[column.field]},
                )
            )
            continue
        seen[column.field] = text
        found[position] = column
    present = {column.field for column in found.values()}
    for column in columns:
        if column.required and column.header_required and column.field not in present:
            problems.append(
                (
                    column.template_header,
                    _("缺少必填列“%(h)s”（%(sheet)s表第1行）。")
                    % {"h": column.template_header, "sheet": sheet_title},
                )
            )
    return found, problems
