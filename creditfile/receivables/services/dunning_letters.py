"""Dunning letters 催款函 (R-30): editable Chinese templates, filled in, frozen, printed.

Templates use Django's template syntax over the variables of VARIABLES, through an engine
of their own (services/letter_tags.py): no loaders, no `load`, only conditions, loops and
formatting, and values that are plain text — a credit manager's template cannot reach
anything but what the letter is meant to say. Every body must list the overdue invoices
(`{{ invoice_table }}` or a loop over `invoices`), so no letter can leave one out.

`{{ invoice_table }}` on a line of its own becomes a real table in the PDF and the DOCX
(and a list of lines in the correspondence log).
"""

import datetime
import io
import zipfile
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import VariableNode
from django.template.defaulttags import ForNode, WithNode
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from creditfile.access.services.deliveries import Stamp, stamp_docx
from creditfile.core.models import Company
from creditfile.credit.services.letters import (
    date_cn,
    in_letter_language,
    letter_blocks,
    letter_footer,
    letter_opening,
    letter_styles,
    letterhead_lines,
    money_cn,
    set_fonts,
    use_chinese_fonts,
)

TABLE_MARK = "\ue000invoice_table\ue000"

ENGINE = Engine(
    loaders=[],
    libraries={},
    builtins=["creditfile.receivables.services.letter_tags"],
    autoescape=False,
)

# Name → what it stands for; the template screen lists them, nothing else is there.
VARIABLES = {
    "customer_name": gettext_lazy("客户名称"),
    "customer_address": gettext_lazy("客户地址（实际办公地址，没有则注册地址）"),
    "contact_person": gettext_lazy("客户联系人（主要联系人，没有则法定代表人）"),
    "company_name": gettext_lazy("本公司（销售公司）名称"),
    "company_address": gettext_lazy("本公司地址"),
    "company_phone": gettext_lazy("本公司电话"),
    "signatory": gettext_lazy("函件落款（销售公司设置中的“函件落款”，没有则公司名称）"),
    "letter_date": gettext_lazy("发函日期，如 2026年6月30日"),
    "pay_by": gettext_lazy("限期付款日（发函日期 + 该级别的限期付款天数）"),
    "total_overdue": gettext_lazy("逾期金额合计，如 123,456.00元"),
    "total_overdue_words": gettext_lazy("逾期金额合计大写，如 人民币壹拾贰万叁仟肆佰伍拾陆元整"),
    "invoice_count": gettext_lazy("逾期发票张数"),
    "oldest_days_overdue": gettext_lazy("最长逾期天数"),
    "invoice_table": gettext_lazy("逾期发票明细表（单独成行；打印为表格）"),
    "invoices": gettext_lazy(
        "逾期发票列表，可用 for 循环逐张列出；每张有 number、invoice_date、due_date、"
        "amount、open_amount、days_overdue"
    ),
    "level": gettext_lazy("催收级别（数字）"),
    "level_name": gettext_lazy("催收级别名称"),
    "collector": gettext_lazy("我方催收联系人（案件负责人）"),
    "collector_phone": gettext_lazy("我方催收联系人电话"),
}
_LOOP_NAMES = {"forloop"}
_INVOICE_NAMES = {"invoice_table", "invoices"}


# --- Amounts in words ------------------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def _four(group: int) -> str:
    out, zero = "", False
    for position in (3, 2, 1, 0):
        digit = group // 10**position % 10
        if digit == 0:
            zero = zero or bool(out)
        else:
            out += ("零" if zero else "") + _DIGITS[digit] + _UNITS[position]
            zero = False
    return out


def _integer_words(number: int) -> str:
    groups = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    out, gap = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            gap = gap or bool(out)
            continue
        if out and (gap or group < 1000):
            out += "零"
        out += _four(group) + _GROUPS[index]
        gap = False
    return out


def amount_in_words(value) -> str:
    """人民币壹拾贰万叁仟肆佰伍拾陆元柒角捌分 — how a finance letter states a sum, so a
    figure cannot be misread or altered."""
    amount = Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)
    sign = "负" if amount < 0 else ""
    cents = int(abs(amount) * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "人民币零元整"
    words = _integer_words(yuan) + "元" if yuan else ""
    if jiao == 0 and fen == 0:
        words += "整"
    else:
        if jiao:
            words += _DIGITS[jiao] + "角"
        elif yuan:
            words += "零"
        words += _DIGITS[fen] + "分" if fen else "整"
    return f"人民币{sign}{words}"


# --- Templates -------------------------------------------------------------------------------


def _compile(text: str, field: str) -> Template:
    try:
        return Template(text or "", engine=ENGINE)
    except TemplateSyntaxError as exc:
        raise ValidationError({field: _("模板语法错误：%(error)s") % {"error": exc}}) from exc


def _names(template: Template) -> tuple[set[str], set[str]]:
    """(names the template reads, names its own loops and `with` define)."""
    used: set[str] = set()
    defined: set[str] = set(_LOOP_NAMES)
    for node in template.nodelist.get_nodes_by_type(VariableNode):
        lookups = getattr(node.filter_expression.var, "lookups", None)
        if lookups:
            used.add(lookups[0])
    for node in template.nodelist.get_nodes_by_type(ForNode):
        defined.update(node.loopvars)
        lookups = getattr(node.sequence.var, "lookups", None)
        if lookups:
            used.add(lookups[0])
    for node in template.nodelist.get_nodes_by_type(WithNode):
        defined.update(node.extra_context)
    return used, defined


def validate_template(subject: str, body: str) -> None:
    """ValidationError keyed by field for a syntax error, an unknown variable, or a body
    that does not list the overdue invoices."""
    errors: dict[str, list[str]] = {}
    for field, text in (("subject", subject), ("body", body)):
        try:
            template = _compile(text, field)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        used, defined = _names(template)
        unknown = sorted(used - set(VARIABLES) - defined)
        if unknown:
            errors.setdefault(field, []).append(
                _("未知的变量：%(names)s。可用的变量见右侧列表。")
                % {"names": "、".join("{{ " + name + " }}" for name in unknown)}
            )
        if field == "body" and not used & _INVOICE_NAMES:
            errors.setdefault(field, []).append(
                _(
                    "正文必须列出全部逾期发票：请保留 {{ invoice_table }}"
                    "（或用 for 循环逐张列出 invoices）。"
                )
            )
        if field not in errors:
            try:
                template.render(Context(sample_values(), autoescape=False))
            except Exception as exc:  # noqa: BLE001 (any failure of a user's template is shown)
                errors.setdefault(field, []).append(_("模板无法生成：%(error)s") % {"error": exc})
    if errors:
        raise ValidationError(errors)


def render_text(text: str, values: dict) -> str:
    return Template(text or "", engine=ENGINE).render(Context(values, autoescape=False)).strip()


# --- Values ----------------------------------------------------------------------------------


def invoice_rows(invoices, on_date: datetime.date) -> list[dict]:
    """The overdue invoices as the letter states them (frozen into the letter)."""
    return [
        {
            "number": invoice.number,
            "invoice_date": invoice.invoice_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "amount": f"{invoice.base_amount:,.2f}",
            "open_amount": f"{invoice.open_base:,.2f}",
            "days_overdue": (on_date - invoice.due_date).days,
        }
        for invoice in invoices
    ]


def _contact_person(customer) -> str:
    contact = customer.contact_set.order_by("-is_primary", "name").first()
    return contact.name if contact else customer.legal_representative


@in_letter_language
def letter_values(
    customer, company: Company, rows: list[dict], total: Decimal, letter_date, level, collector
) -> dict:
    pay_within = level.pay_within_days if level is not None else 10
    return {
        "customer_name": customer.name,
        "customer_address": customer.office_address or customer.registered_address,
        "contact_person": _contact_person(customer),
        "company_name": company.name,
        "company_address": company.address,
        "company_phone": company.phone,
        "signatory": company.letter_signatory or company.name,
        "letter_date": date_cn(letter_date),
        "pay_by": date_cn(letter_date + datetime.timedelta(days=pay_within)),
        "total_overdue": money_cn(total),
        "total_overdue_words": amount_in_words(total),
        "invoice_count": len(rows),
        "oldest_days_overdue": max((row["days_overdue"] for row in rows), default=0),
        "invoice_table": TABLE_MARK,
        "invoices": rows,
        "level": level.level if level is not None else "",
        "level_name": level.name if level is not None else "",
        "collector": str(collector) if collector else company.letter_signatory,
        "collector_phone": (getattr(collector, "phone", "") or company.phone),
    }


@in_letter_language
def sample_values() -> dict:
    """Made-up values for validating a template and for the editor's preview."""
    company = Company.default()
    today = timezone.localdate()
    rows = [
        {
            "number": "FP20260315001",
            "invoice_date": "2026-03-15",
            "due_date": "2026-04-14",
            "amount": "80,000.00",
            "open_amount": "80,000.00",
            "days_overdue": 77,
        },
        {
            "number": "FP20260420007",
            "invoice_date": "2026-04-20",
            "due_date": "2026-05-20",
            "amount": "56,000.00",
            "open_amount": "43,456.00",
            "days_overdue": 41,
        },
    ]
    return {
        "customer_name": _("华信科技有限公司"),
        "customer_address": _("深圳市南山区科技园南区12栋"),
        "contact_person": _("王建国"),
        "company_name": company.name,
        "company_address": company.address,
        "company_phone": company.phone,
        "signatory": company.letter_signatory or company.name,
        "letter_date": date_cn(today),
        "pay_by": date_cn(today + datetime.timedelta(days=10)),
        "total_overdue": money_cn(Decimal("123456")),
        "total_overdue_words": amount_in_words(Decimal("123456")),
        "invoice_count": len(rows),
        "oldest_days_overdue": 77,
        "invoice_table": TABLE_MARK,
        "invoices": rows,
        "level": 2,
        "level_name": _("催款函"),
        "collector": _("张明"),
        "collector_phone": "0755-86001234",
    }


# --- Layout ----------------------------------------------------------------------------------

TABLE_HEAD = (
    gettext_lazy("序号"),
    gettext_lazy("发票号"),
    gettext_lazy("开票日期"),
    gettext_lazy("到期日"),
    gettext_lazy("逾期天数"),
    gettext_lazy("发票金额（元）"),
    gettext_lazy("未付金额（元）"),
)


def table_cells(rows: list[dict]) -> list[list[str]]:
    return [
        [
            str(index),
            row["number"],
            row["invoice_date"],
            row["due_date"],
            str(row["days_overdue"]),
            row["amount"],
            row["open_amount"],
        ]
        for index, row in enumerate(rows, 1)
    ]


def layout(body: str) -> list[tuple[str, str]]:
    """The letter's blocks (credit letters' layout), with the invoice table as ("table", "")."""
    return [
        ("table", "") if text.strip() == TABLE_MARK else (kind, text.replace(TABLE_MARK, ""))
        for kind, text in letter_blocks(body)
    ]


def plain_text(body: str, rows: list[dict], total: Decimal) -> str:
    """The letter as text (correspondence log, screen): the table becomes one line per invoice."""
    table = [
        _("%(n)s. 发票 %(number)s，到期日 %(due)s，逾期 %(days)s 天，未付 %(open)s元")
        % {
            "n": index,
            "number": row["number"],
            "due": row["due_date"],
            "days": row["days_overdue"],
            "open": row["open_amount"],
        }
        for index, row in enumerate(rows, 1)
    ]
    table.append(_("合计：%(total)s") % {"total": money_cn(total)})
    lines = []
    for line in (body or "").split("\n"):
        if line.strip() == TABLE_MARK:
            lines.extend(table)
        else:
            lines.append(line.replace(TABLE_MARK, ""))
    return "\n".join(lines)


def send_letter(request, letter, extension: str, *, inline: bool = False):
    """The letter as a PDF or DOCX response, stamped and recorded as printed."""
    from creditfile.access.services import deliveries
    from creditfile.access.services.audit import Action

    stamp = deliveries.stamp_for(request.user)
    build, content_type = {
        "pdf": (letter_pdf, deliveries.PDF),
        "docx": (letter_docx, deliveries.DOCX),
    }[extension]
    return deliveries.send(
        request,
        build(letter, stamp),
        filename=letter_filename(letter, extension),
        fallback=f"dunning-letter-{letter.pk}.{extension}",
        content_type=content_type,
        inline=inline,
        action=Action.PRINT,
        stamp=stamp,
        customer=letter.customer_id,
        obj=letter,
        detail={"format": extension},
    )


def send_run_letters(request, run, letters):
    """Every letter of a run in one zip; one print event per letter, so each customer's
    audit trail shows its own letter."""
    from creditfile.access.services import deliveries
    from creditfile.access.services.audit import Action

    letters = list(letters)
    stamp = deliveries.stamp_for(request.user)
    return deliveries.send(
        request,
        letters_zip(letters, stamp),
        filename=_("催款函-批次%(pk)s.zip") % {"pk": run.pk},
        fallback=f"dunning-run-{run.pk}.zip",
        content_type=deliveries.ZIP,
        action=Action.PRINT,
        stamp=stamp,
        subjects=[
            deliveries.Subject(customer=letter.customer_id, obj=letter) for letter in letters
        ],
        detail={"format": "zip", "run": run.pk, "letters": len(letters)},
    )


def letter_filename(letter, extension: str) -> str:
    name = f"{letter.customer.name}-{letter.subject}-{letter.pk}.{extension}"
    for char in '\\/:*?"<>|\r\n\t':
        name = name.replace(char, "_")
    return name


@in_letter_language
def letter_pdf(letter, stamp: Stamp) -> bytes:
    """A4 on the selling company's letterhead, the Chinese font embedded (core/pdf.py)."""
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table, TableStyle

    from creditfile.core import pdf

    company = letter.company
    styles = letter_styles()
    body, para, right, size = styles.body, styles.para, styles.right, styles.size
    cell = ParagraphStyle("cell", parent=pdf.paragraph_styles()["body"], fontSize=9, leading=12)
    cell_right = ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT)
    story = letter_opening(company, letter.subject, styles)

    def table():
        data = [[pdf.text(str(label), cell) for label in TABLE_HEAD]]
        for cells in table_cells(letter.invoices):
            data.append(
                [pdf.text(value, cell_right if i >= 4 else cell) for i, value in enumerate(cells)]
            )
        total = pdf.text(f"{letter.total_overdue:,.2f}", cell_right)
        data.append([pdf.text(_("合计"), cell), "", "", "", "", "", total])
        widths = [w * mm for w in (10, 40, 22, 22, 18, 34, 34)]
        flowable = Table(data, colWidths=widths, repeatRows=1)
        flowable.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, pdf.RULE),
                    ("BACKGROUND", (0, 0), (-1, 0), pdf.SHADE),
                    ("SPAN", (0, -1), (5, -1)),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return flowable

    for kind, line in layout(letter.body):
        if kind == "table":
            story += [Spacer(1, 2 * mm), table(), Spacer(1, 3 * mm)]
        elif kind == "blank":
            story.append(Spacer(1, size * 0.6))
        elif kind in ("para", "indent"):
            story.append(pdf.text(line, para))
        elif kind == "signature":
            story.append(pdf.text(line, right))
        else:
            story.append(pdf.text(line, body))
    return pdf.build_pdf(
        story,
        title=letter.subject,
        reference=_("第%(pk)s号") % {"pk": letter.pk},
        letterhead=company.name,
        footer=letter_footer(company),
        stamp=stamp,
        to_customer=True,
    )


@in_letter_language
def letter_docx(letter, stamp: Stamp) -> bytes:
    """The same letter as an editable Word file: A4, letterhead in the page header, 宋体."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt, RGBColor

    company = letter.company
    document = Document()
    use_chinese_fonts(document)  # the reply letters' fonts: 宋体, declared for Word and WPS
    props = document.core_properties
    props.title, props.author, props.language = letter.subject, company.name, "zh-CN"
    normal = document.styles["Normal"]
    normal.font.size = Pt(12)
    normal.paragraph_format.line_spacing = 1.5
    normal.paragraph_format.space_after = Pt(0)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(22)
    section.top_margin, section.bottom_margin = Mm(30), Mm(25)

    def add(container, text: str, *, align=None, bold=False, pt=None, color=None, indent=False):
        paragraph = container.add_paragraph()
        if align is not None:
            paragraph.alignment = align
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(24)
        run = paragraph.add_run(text)
        run.bold = bold or None
        if pt:
            run.font.size = Pt(pt)
        if color:
            run.font.color.rgb = color
        set_fonts(run._element.get_or_add_rPr())
        return paragraph

    accent = RGBColor(0x1F, 0x4E, 0x79)
    header = section.header
    first = header.paragraphs[0]
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = first.add_run(company.name)
    run.bold, run.font.size, run.font.color.rgb = True, Pt(18), accent
    set_fonts(run._element.get_or_add_rPr())
    for line in letterhead_lines(company):
        add(header, line, align=WD_ALIGN_PARAGRAPH.CENTER, pt=9, color=accent)

    def table():
        cells = table_cells(letter.invoices)
        grid = document.add_table(rows=len(cells) + 2, cols=len(TABLE_HEAD))
        grid.style = "Table Grid"
        rows = [[str(label) for label in TABLE_HEAD], *cells]
        rows.append([_("合计"), "", "", "", "", "", f"{letter.total_overdue:,.2f}"])
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                target = grid.cell(r, c).paragraphs[0]
                if c >= 4 and r > 0:
                    target.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                text_run = target.add_run(value)
                text_run.font.size = Pt(10)
                text_run.bold = r == 0 or None
                set_fonts(text_run._element.get_or_add_rPr())
        grid.cell(len(rows) - 1, 0).merge(grid.cell(len(rows) - 1, 5))

    add(document, letter.subject, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, pt=16)
    add(document, "")
    for kind, line in layout(letter.body):
        if kind == "table":
            table()
        elif kind == "blank":
            add(document, "")
        elif kind in ("para", "indent"):
            add(document, line, indent=True)
        elif kind == "signature":
            add(document, line, align=WD_ALIGN_PARAGRAPH.RIGHT)
        else:
            add(document, line)
    set_fonts(stamp_docx(section, stamp)._element.get_or_add_rPr())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def letters_zip(letters, stamp: Stamp) -> bytes:
    """Every letter of a run as PDF and DOCX in one file, for printing or mailing."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for letter in letters:
            archive.writestr(letter_filename(letter, "pdf"), letter_pdf(letter, stamp))
            archive.writestr(letter_filename(letter, "docx"), letter_docx(letter, stamp))
    return buffer.getvalue()


# --- Default texts ---------------------------------------------------------------------------

_CLOSING = """
联系人：{{collector}}{% if collector_phone %}　电话：{{collector_phone}}{% endif %}

此致
敬礼

{{signatory}}
{{letter_date}}"""

DEFAULT_TEMPLATES = {
    "催款函": (
        "催款函",
        """{{customer_name}}：

感谢贵公司一直以来对我公司的支持与合作。

经核对，截至{{letter_date}}，贵公司尚有下列{{invoice_count}}张发票的货款已超过约定付款期限，逾期金额合计{{total_overdue}}（大写：{{total_overdue_words}}）：

{{invoice_table}}

请贵公司于{{pay_by}}前将上述款项付至我公司账户。如贵公司已经付款，请将付款凭证发送给我们以便核对；如对上述款项有异议，请在收到本函后及时与我们联系。
"""
        + _CLOSING,
    ),
    "再次催款函": (
        "再次催款函",
        """{{customer_name}}：

我公司此前已就贵公司的逾期货款发函催收，但截至{{letter_date}}，仍未收到下列款项，逾期金额合计{{total_overdue}}（大写：{{total_overdue_words}}），最长已逾期{{oldest_days_overdue}}天：

{{invoice_table}}

请贵公司务必于{{pay_by}}前付清上述全部款项。逾期仍未付款的，我公司将暂停对贵公司的赊销和供货，并保留依法追讨欠款及逾期付款利息的权利。如有特殊困难，请立即与我们联系协商还款安排。
"""
        + _CLOSING,
    ),
    "律师函": (
        "律师函",
        """{{customer_name}}：

{{company_name}}（以下简称“我方”）与贵公司存在买卖合同关系。我方已依约供货，但贵公司未按约定期限支付货款，经我方多次催告仍未付清。截至{{letter_date}}，贵公司拖欠我方下列货款共计{{total_overdue}}（大写：{{total_overdue_words}}）：

{{invoice_table}}

根据《中华人民共和国民法典》第五百七十七条、第五百七十九条的规定，贵公司应当向我方支付上述价款并承担违约责任。现特函告：请贵公司于{{pay_by}}前向我方付清上述全部欠款。逾期未付的，我方将依法提起诉讼或申请支付令，由此产生的诉讼费、保全费、律师费及逾期付款损失均由贵公司承担。

特此函告。
"""
        + _CLOSING,
    ),
}
