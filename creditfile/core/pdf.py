"""Shared PDF building blocks for every printed card, report and letter.

The Chinese font ships inside the package (core/fonts/, WenQuanYi Micro Hei, Apache-2.0)
and is embedded as a subset, so a PDF prints the same on any machine and needs nothing
from the internet. Every document gets the same page frame: the company letterhead and
title on top, who printed it and when, and "第 x 页 共 y 页" at the bottom. Internal
documents also carry a light diagonal watermark with the same person and time; letters to
customers carry only a small line saying who made the copy (access/services/deliveries.py).
"""

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

if TYPE_CHECKING:
    from creditfile.access.services.deliveries import Stamp

FONT_NAME = "WenQuanYiMicroHei"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"

EMPTY = "—"
ACCENT = colors.HexColor("#1f4e79")
RULE = colors.HexColor("#8a9bb0")
SHADE = colors.HexColor("#eaf0f6")
MUTED = colors.HexColor("#555555")

MARGIN_X = 15 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 18 * mm

WATERMARK_COLOR = colors.HexColor("#9aa5b1")
WATERMARK_ALPHA = 0.3
WATERMARK_SIZE = 15
WATERMARK_ANGLE = 35


@cache
def register_font() -> str:
    """Register the Chinese font once per process; its bold and italic are itself (it has none)."""
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_FILE), subfontIndex=0))
    pdfmetrics.registerFontFamily(
        FONT_NAME, normal=FONT_NAME, bold=FONT_NAME, italic=FONT_NAME, boldItalic=FONT_NAME
    )
    return FONT_NAME


def company_name() -> str:
    return settings.COMPANY_NAME or _("本公司")


def paragraph_styles() -> dict[str, ParagraphStyle]:
    """Fresh styles per document (ParagraphStyle is mutable). CJK wrapping breaks between
    any two Chinese characters, so long text without spaces still wraps."""
    font = register_font()
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12.5, wordWrap="CJK")
    return {
        "body": body,
        "label": ParagraphStyle("label", parent=body, textColor=colors.HexColor("#333333")),
        "header": ParagraphStyle("header", parent=body, textColor=ACCENT),
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=11, textColor=MUTED),
        "small_right": ParagraphStyle(
            "small_right", parent=body, fontSize=8, leading=11, textColor=MUTED, alignment=TA_RIGHT
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontSize=20, leading=26, alignment=TA_CENTER, textColor=ACCENT
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontSize=9, leading=13, alignment=TA_CENTER, textColor=MUTED
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontSize=11.5,
            leading=16,
            spaceBefore=4 * mm,
            spaceAfter=1.5 * mm,
            textColor=ACCENT,
        ),
    }


def text(value, style: ParagraphStyle) -> Paragraph:
    """A wrapping paragraph of plain text: markup characters are escaped, line breaks kept."""
    raw = display(value)
    return Paragraph(escape(raw).replace("\r\n", "\n").replace("\n", "<br/>"), style)


def display(value) -> str:
    """How a value prints: empty is "—", dates are ISO, yes/no in words."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def money(value, currency: str = "CNY") -> str:
    """¥1,234,567.89 for yuan; other currencies carry their code: USD 1,234.00."""
    if value is None:
        return EMPTY
    amount = f"{Decimal(value):,.2f}"
    if currency in ("CNY", "RMB", ""):
        return f"-¥{amount[1:]}" if amount.startswith("-") else f"¥{amount}"
    return f"{currency} {amount}"


class _NumberedCanvas(canvas.Canvas):
    """Holds the pages back until the end so each can say how many there are in all."""

    def __init__(self, *args, **kwargs):
        # Starting in the Chinese font keeps an unused, unembedded Helvetica out of the file.
        kwargs["initialFontName"] = kwargs.get("initialFontName") or register_font()
        kwargs["lang"] = kwargs.get("lang") or "zh-CN"
        super().__init__(*args, **kwargs)
        self._page_states: list[dict] = []

    def showPage(self):  # noqa: N802 (ReportLab's name)
        self._page_states.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._page_states)
        for state in self._page_states:
            self.__dict__.update(state)
            self._draw_page_number(total)
            super().showPage()
        super().save()

    def _draw_page_number(self, total: int):
        width, _height = self._pagesize
        self.setFont(FONT_NAME, 8)
        self.setFillColor(MUTED)
        label = _("第 %(page)s 页 共 %(pages)s 页") % {"page": self._pageNumber, "pages": total}
        self.drawRightString(width - MARGIN_X, MARGIN_BOTTOM - 10 * mm, label)


def _draw_watermark(canv: canvas.Canvas, text: str, width: float, height: float) -> None:
    """The stamp, light and diagonal, tiled over the page under the content."""
    canv.setFont(FONT_NAME, WATERMARK_SIZE)
    canv.setFillColor(WATERMARK_COLOR)
    canv.setFillAlpha(WATERMARK_ALPHA)
    for row in range(3):
        for column in range(2):
            canv.saveState()
            canv.translate(width * (0.3 + 0.45 * column), height * (0.2 + 0.3 * row))
            canv.rotate(WATERMARK_ANGLE)
            canv.drawCentredString(0, 0, text)
            canv.restoreState()


def build_pdf(
    story: list,
    *,
    title: str,
    stamp: "Stamp",
    reference: str = "",
    pagesize=A4,
    letterhead: str | None = None,
    footer: str | None = None,
    to_customer: bool = False,
) -> bytes:
    """Lay out `story` (platypus flowables) in the shared page frame and return the PDF bytes.

    `stamp` says who made the file and when: an internal document prints it in the footer
    and as a diagonal watermark on every page. A letter to a customer (`to_customer`)
    passes its selling company as `letterhead` and its own `footer`, and carries the stamp
    only as a small line under the footer: an "internal" watermark does not belong on it.
    `reference` (e.g. a card or letter number) is repeated in every page header, so a
    loose page can be put back where it belongs.
    """
    font = register_font()
    letterhead = letterhead or company_name()
    if footer is None:
        footer = stamp.print_line()
    header_right = f"{title}　{reference}" if reference else title

    def decorate(canv: canvas.Canvas, doc):
        width, height = doc.pagesize
        canv.saveState()
        if not to_customer:
            _draw_watermark(canv, stamp.watermark(), width, height)
            canv.restoreState()
            canv.saveState()
        top = height - MARGIN_TOP + 8 * mm
        canv.setFont(font, 11)
        canv.setFillColor(ACCENT)
        canv.drawString(MARGIN_X, top, letterhead)
        canv.setFont(font, 8.5)
        canv.setFillColor(MUTED)
        canv.drawRightString(width - MARGIN_X, top, header_right)
        canv.setStrokeColor(ACCENT)
        canv.setLineWidth(0.8)
        canv.line(MARGIN_X, top - 2.5 * mm, width - MARGIN_X, top - 2.5 * mm)
        bottom = MARGIN_BOTTOM - 6 * mm
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.4)
        canv.line(MARGIN_X, bottom, width - MARGIN_X, bottom)
        canv.setFont(font, 8)
        canv.drawString(MARGIN_X, bottom - 4 * mm, footer)
        if to_customer:  # small, just above the footer rule, inside any printer's margin
            canv.setFont(font, 6.5)
            canv.setFillColor(WATERMARK_COLOR)
            canv.drawRightString(width - MARGIN_X, bottom + 1.5 * mm, stamp.trace_line())
        canv.restoreState()

    buffer = BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=letterhead,
        creator="CreditFile",
    )
    # No frame padding: the text lines up with the letterhead rule and content_width() holds.
    frame = Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])
    doc.build(story, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


def content_width(pagesize=A4) -> float:
    return pagesize[0] - 2 * MARGIN_X
