"""Every file that leaves the system goes out through here (issue 5; R-42, R-47).

Three things happen to each export, print and download, in one place so that a new one
cannot skip them:

- Spreadsheets come from `spreadsheet()`, whose cells are neutralised as they are
  written: a text starting with = + - @ tab or CR is stored as text (never a formula) and
  marked "quote prefix", so Excel shows it unchanged and will not evaluate it even after
  the cell is edited (OWASP "CSV injection"). Numbers stay numbers, negative ones too.
- Each file names who made it and when (`Stamp`): spreadsheets in a first line above
  the table and in the printed header; internal PDFs (cards) in a light diagonal
  watermark and the footer (core/pdf.py); letters to customers in a small line at the
  bottom of the page instead, since a diagonal "internal" mark does not belong on an
  official letter. Import templates carry no stamp: they hold no customer data, and a
  line above the header would break the template's own import.
- `send()` records the audit event (export, print or download: who, when, from where,
  what, with the filters and row count) and answers with the file, never cached.

Attachments are handed out byte for byte: they are the filed originals, checked by
their SHA-256, so they are only recorded, not stamped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from creditfile.access.services import audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
ZIP = "application/zip"

# What spreadsheet programs read as the start of a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
STAMP_FONT = Font(italic=True, color="6B7280")
STAMP_ROWS = 1  # rows above a stamped sheet's own first row


@dataclass(frozen=True)
class Stamp:
    """Who made a file and when, as every stamped file states it."""

    who: str
    at: datetime

    @property
    def when(self) -> str:
        return timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M")

    def export_line(self) -> str:
        return _("内部资料，注意保密 · 导出人：%(who)s · 导出时间：%(when)s") % {
            "who": self.who,
            "when": self.when,
        }

    def print_line(self) -> str:
        return _("打印人：%(user)s　　打印时间：%(time)s") % {"user": self.who, "time": self.when}

    def watermark(self) -> str:
        return _("内部资料 %(who)s %(when)s") % {"who": self.who, "when": self.when}

    def trace_line(self) -> str:
        """The quiet line on a letter to a customer: the copy's maker, not an internal mark."""
        return _("本文件由 %(who)s 于 %(when)s 生成") % {"who": self.who, "when": self.when}


def stamp_for(user, at: datetime | None = None) -> Stamp:
    """The stamp of `user` now: name and username, e.g. 王丽（wangli）, in Shanghai time."""
    username = getattr(user, "username", "") or ""
    name = getattr(user, "full_name", "") or ""
    who = f"{name}（{username}）" if name and name != username else (username or "—")
    return Stamp(who=who, at=timezone.localtime(at or timezone.now()))


# --- Spreadsheets ----------------------------------------------------------------------------


def neutralise(cell) -> None:
    """Make `cell` plain text if it is (or would be read as) a formula; leave others alone."""
    value = cell.value
    if cell.data_type == "f" or (isinstance(value, str) and value.startswith(FORMULA_PREFIXES)):
        if not isinstance(value, str):
            cell._value = str(value)
        cell.data_type = "s"
        cell.quotePrefix = True


def _escape_header(text: str) -> str:
    # & starts a code in Excel headers and footers (&P, &D…); && is a literal &.
    return text.replace("&", "&&")


def _stamp_print(sheet, stamp: Stamp) -> None:
    sheet.oddHeader.center.text = _escape_header(stamp.export_line())
    sheet.oddHeader.center.size = 8
    sheet.oddFooter.center.text = _("第 &P 页 共 &N 页")
    sheet.oddFooter.center.size = 8


class _StampedWriteOnlySheet(WriteOnlyWorksheet):
    """A streaming sheet that opens with the stamp line and neutralises every cell it writes."""

    def __init__(self, parent, title, stamp: Stamp | None):
        super().__init__(parent, title)
        self._stamp = stamp
        self._stamped = stamp is None
        if stamp is not None:
            _stamp_print(self, stamp)

    def _stamp_row(self) -> None:
        self._stamped = True
        cell = WriteOnlyCell(self, value=self._stamp.export_line())
        cell.font = STAMP_FONT
        super().append([cell])

    def append(self, row):
        if not self._stamped:
            self._stamp_row()
        super().append(row)

    def _values_to_row(self, values, row_idx):
        for cell in super()._values_to_row(values, row_idx):
            neutralise(cell)
            yield cell

    def close(self):
        if not self._stamped:
            self._stamp_row()
        super().close()


class _SafeWorkbook(Workbook):
    def __init__(self, stamp: Stamp | None, write_only: bool):
        self.stamp = stamp
        super().__init__(write_only=write_only)
        if not write_only:
            self._prepare(self.active)

    def _prepare(self, sheet) -> None:
        if self.stamp is not None:
            _stamp_print(sheet, self.stamp)
            sheet.append([self.stamp.export_line()])
            sheet.cell(row=1, column=1).font = STAMP_FONT

    def create_sheet(self, title=None, index=None):
        if self.write_only:
            sheet = _StampedWriteOnlySheet(self, title, self.stamp)
            self._add_sheet(sheet, index)
            return sheet
        sheet = super().create_sheet(title, index)
        self._prepare(sheet)
        return sheet

    def save(self, filename):
        if not self.write_only:
            for sheet in self.worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        neutralise(cell)
        super().save(filename)


def spreadsheet(stamp: Stamp | None, *, write_only: bool = False) -> Workbook:
    """The only way to make a workbook that leaves the system (see the module docstring).

    With a stamp, every sheet's first row is the stamp line (`STAMP_ROWS`), so a sheet's
    own header is row 2; without one (import templates) sheets start at row 1.
    """
    return _SafeWorkbook(stamp, write_only)


def workbook_bytes(workbook: Workbook) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Word letters ----------------------------------------------------------------------------


def stamp_docx(section, stamp: Stamp):
    """Put the stamp's quiet trace line in a Word section's footer; the run, for its fonts."""
    from docx.shared import Pt, RGBColor

    footer = section.footer
    paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    run = paragraph.add_run(stamp.trace_line())
    run.font.size = Pt(7)
    run.font.color.rgb = RGBColor(0x9A, 0xA5, 0xB1)
    return run


# --- Handing the file out --------------------------------------------------------------------


@dataclass
class Subject:
    """One thing a file is about, for one audit event (a zip of letters has one per letter)."""

    customer: object = None
    obj: object = None
    detail: dict = field(default_factory=dict)


def disposition(filename: str, fallback: str, *, inline: bool = False) -> str:
    """RFC 6266: the Chinese name for current browsers, an ASCII name for old clients."""
    for char in '\\/:*?"<>|\r\n\t':
        filename = filename.replace(char, "_")
    fallback = fallback.encode("ascii", "ignore").decode().replace('"', "") or "download"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def send(
    request,
    content,
    *,
    filename: str,
    fallback: str,
    content_type: str,
    action: str,
    stamp: Stamp | None = None,
    customer=None,
    obj=None,
    subjects: list[Subject] | None = None,
    detail: dict | None = None,
    inline: bool = False,
    purpose: str = "",
) -> HttpResponse:
    """Record who takes which file, then answer with it (bytes, or an open binary file).

    One audit event per subject (default: the one `customer`/`obj`); each carries the file
    name, the stamp's time (to match a found copy to its event) and `detail`.
    """
    common = {"file": filename, **(detail or {})}
    if stamp is not None:
        common["stamped_at"] = stamp.when
    for subject in subjects if subjects is not None else [Subject(customer, obj)]:
        audit.record(
            action,
            request=request,
            customer=subject.customer,
            obj=subject.obj,
            purpose=purpose,
            detail={**common, **subject.detail},
        )
    if isinstance(content, bytes | bytearray):
        response = HttpResponse(content, content_type=content_type)
    else:
        response = FileResponse(content, content_type=content_type)
    response["Content-Disposition"] = disposition(filename, fallback, inline=inline)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def filters_text(form) -> str:
    """A bound, valid filter form's chosen values as `label=value；…`, for the audit detail."""
    if not getattr(form, "is_bound", False) or not form.is_valid():
        return ""
    parts = []
    for name, value in form.cleaned_data.items():
        if value in (None, "", [], ()):
            continue
        bound = form.fields[name]
        choices = (
            dict(getattr(bound, "choices", None) or []) if not hasattr(bound, "queryset") else {}
        )
        shown = choices.get(value, value)
        parts.append(f"{bound.label or name}={shown}")
    return "；".join(str(part) for part in parts)[:500]
