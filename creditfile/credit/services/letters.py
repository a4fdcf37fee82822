"""The standard reply letter 回复客户的标准函 (R-25, workflow step 5).

Templates are edited by administrators and credit managers, so their text is never run
through Django's template engine: only the fixed placeholders of PLACEHOLDERS are
replaced, in one pass (a value that itself contains "{…}" stays as it is), and a
template naming anything else is refused when it is saved. A generated letter keeps its
subject and body as they were sent; PDF and DOCX are laid out from that frozen text.
"""

import datetime
import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from creditfile.access.services.deliveries import Stamp, stamp_docx
from creditfile.core.models import Company
from creditfile.credit.choices import ApplicationKind, ApplicationState, Decision, LetterKind
from creditfile.credit.models import (
    CreditApplication,
    GradeTerms,
    LetterTemplate,
    ReplyLetter,
)
from creditfile.credit.services import workflow
from creditfile.credit.services.errors import (
    WorkflowError,
    require_perm,
    require_visible,
)

S = ApplicationState

# Name → what it stands for; the edit screen lists these, and nothing else is substituted.
PLACEHOLDERS = {
    "客户名称": gettext_lazy("客户名称"),
    "申请额度": gettext_lazy("申请额度，如 1,000,000.00元"),
    "批准额度": gettext_lazy("批准额度，如 800,000.00元"),
    "信用等级": gettext_lazy("批准的信用等级，如 B级（良好）"),
    "信用期限": gettext_lazy("批准的信用期限，如 45天"),
    "付款条件": gettext_lazy("付款条件及其文字说明，如 2/10 n/30，即……"),
    "有效期至": gettext_lazy("额度有效期，如 2027年11月22日"),
    "理由": gettext_lazy("审批意见中的理由（拒绝或降低额度时）"),
    "需补充资料": gettext_lazy("审批人要求补充的资料"),
    "申请编号": gettext_lazy("信用申请编号"),
    "日期": gettext_lazy("发函日期，如 2026年11月23日"),
    "公司名称": gettext_lazy("本公司（销售公司）名称"),
    "落款": gettext_lazy("函件落款部门，如 信用管理部（销售公司设置中的“函件落款”）"),
}

# "{{" and "}}" are literal braces (as in str.format); a full-width ｛…｝ typed with a
# Chinese input method counts as a placeholder too; any other lone brace is an error.
_TOKEN = re.compile(r"\{\{|\}\}|[{｛]([^{}｛｝\n]*)[}｝]|[{}｛｝]")

_KIND_BY_STATE = {
    S.APPROVED: LetterKind.APPROVED,
    S.PARTLY_APPROVED: LetterKind.PARTLY_APPROVED,
    S.REJECTED: LetterKind.REJECTED,
    S.INFO_REQUESTED: LetterKind.MORE_INFO,
}


LETTER_LANGUAGE = "zh-hans"


def in_letter_language(function):
    """Letters go to Chinese customers: their wording does not follow the user's UI language."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with translation.override(LETTER_LANGUAGE):
            return function(*args, **kwargs)

    return wrapper


# --- Formatting ------------------------------------------------------------------------------


def money_cn(value) -> str:
    """1,000,000.00元 — letters spell amounts the way a finance department writes them."""
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}元"


def date_cn(value: datetime.date | None) -> str:
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def _number(value) -> str:
    """2.00 → 2, 1.50 → 1.5, never 1E+1."""
    return f"{Decimal(value).normalize():f}"


def terms_label(
    discount_percent, discount_days: int, term_days: int, cash_on_delivery: bool = False
) -> str:
    """The trade terms as credit managers write them: 2/10 n/30, n/30, or 即时清结."""
    if cash_on_delivery or not term_days:
        return _("即时清结")
    if discount_percent and discount_days:
        return f"{_number(discount_percent)}/{discount_days} n/{term_days}"
    return f"n/{term_days}"


_TERMS = re.compile(
    r"^\s*(?:(?P<rate>\d+(?:\.\d+)?)\s*/\s*(?P<days>\d+)\s*[,，、]?\s*)?"
    r"(?:n|net)\s*/?\s*(?P<term>\d+)\s*$",
    re.IGNORECASE,
)


def explain_payment_terms(label: str) -> str:
    """Spell out trade terms: 2/10 n/30 → 2/10 n/30，即自发票日起10天内付款可享受2%的现金折扣，
    最迟30天内付清全部货款.

    Customers read the letter, not our policy: the shorthand alone is easy to misread.
    Text that is not in the shorthand is returned unchanged.
    """
    label = (label or "").strip()
    if label in ("", _("即时清结")):
        return _("即时清结（现款现货），不予赊销")
    match = _TERMS.match(label)
    if match is None:
        return label
    term = int(match["term"])
    if match["rate"] and match["days"]:
        return _(
            "%(label)s，即自发票日起%(days)s天内付款可享受%(rate)s%%的现金折扣，"
            "最迟%(term)s天内付清全部货款"
        ) % {
            "label": label,
            "days": int(match["days"]),
            "rate": _number(match["rate"]),
            "term": term,
        }
    return _("%(label)s，即自发票日起%(term)s天内付清全部货款") % {"label": label, "term": term}


# --- Placeholders ----------------------------------------------------------------------------


def _scan(text: str):
    """Yield ("text", str) and ("placeholder", name) pieces; ("error", brace) for a lone one."""
    position = 0
    for match in _TOKEN.finditer(text or ""):
        if match.start() > position:
            yield "text", text[position : match.start()]
        token = match.group(0)
        if token == "{{":
            yield "text", "{"
        elif token == "}}":
            yield "text", "}"
        elif match.group(1) is not None:
            yield "placeholder", match.group(1).strip()
        else:
            yield "error", token
        position = match.end()
    if position < len(text or ""):
        yield "text", text[position:]


def validate_template_text(text: str, placeholders=None) -> list[str]:
    """The placeholders `text` uses; ValidationError naming each unknown one or stray brace.

    `placeholders` is the set of names another letter (the handover notice) allows;
    by default those of the reply letter.
    """
    placeholders = PLACEHOLDERS if placeholders is None else placeholders
    used: list[str] = []
    unknown: list[str] = []
    stray = False
    for kind, value in _scan(text):
        if kind == "placeholder":
            if value in placeholders:
                used.append(value)
            elif value not in unknown:
                unknown.append(value)
        elif kind == "error":
            stray = True
    errors = []
    if unknown:
        errors.append(
            ValidationError(
                _("未知的占位符：%(names)s。可用的占位符：%(known)s。"),
                code="unknown_placeholder",
                params={
                    "names": "、".join("{" + name + "}" for name in unknown),
                    "known": " ".join("{" + name + "}" for name in placeholders),
                },
            )
        )
    if stray:
        errors.append(
            ValidationError(
                _("花括号不成对。占位符写作 {客户名称}；要显示花括号本身，请写 {{ 或 }}。"),
                code="stray_brace",
            )
        )
    if errors:
        raise ValidationError(errors)
    return used


def substitute(text: str, values: dict[str, str], placeholders=None) -> str:
    """Replace the placeholders of `text` in one pass; unknown names are an error.

    A line that held only placeholders which came out empty (a company without a
    落款, say) is dropped, so the letter has no gap where it was.
    """
    validate_template_text(text, placeholders)
    lines = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        pieces = list(_scan(line))
        out = "".join(str(values.get(v, "")) if k == "placeholder" else v for k, v in pieces)
        has_placeholder = any(k == "placeholder" for k, _v in pieces)
        if has_placeholder and not out.strip():
            continue
        lines.append(out)
    return "\n".join(lines)


# --- What the letter says --------------------------------------------------------------------


@dataclass(frozen=True)
class LetterTerms:
    grade: str
    grade_label: str
    limit: Decimal | None
    term_days: int | None
    discount_percent: Decimal
    discount_days: int
    cash_on_delivery: bool
    valid_until: datetime.date | None


def _grade_terms(application: CreditApplication) -> GradeTerms | None:
    """The grade's terms in the policy the application was scored under (else the one in force)."""
    from creditfile.credit.services.policy import policy_in_force

    if not application.approved_grade:
        return None
    evaluation = application.evaluations.order_by("-created_at", "-id").first()
    policy = evaluation.policy if evaluation is not None else None
    if policy is None:
        try:
            policy = policy_in_force()
        except WorkflowError:
            return None
    return policy.grades.filter(grade=application.approved_grade).first()


def letter_terms(application: CreditApplication) -> LetterTerms:
    """Once granted, what the line says; before that, the approval and the grade's policy."""
    terms = _grade_terms(application)
    line = application.lines.order_by("-granted_at", "-id").first()
    temporary = application.temporary_limits.order_by("-id").first()
    if line is not None:
        return LetterTerms(
            grade=line.grade,
            grade_label=terms.label if terms else "",
            limit=line.limit,
            term_days=line.term_days,
            discount_percent=line.discount_percent,
            discount_days=line.discount_days,
            cash_on_delivery=line.cash_on_delivery,
            valid_until=line.valid_until,
        )
    term_days = application.approved_term_days
    if term_days is None:
        term_days = terms.credit_term_days if terms else application.requested_term_days
    valid_until = application.temporary_until
    if temporary is not None:
        valid_until = temporary.valid_until
    return LetterTerms(
        grade=application.approved_grade,
        grade_label=terms.label if terms else "",
        limit=application.approved_limit,
        term_days=term_days,
        discount_percent=terms.discount_percent if terms else Decimal("0"),
        discount_days=terms.discount_days if terms else 0,
        cash_on_delivery=terms.cash_on_delivery if terms else False,
        valid_until=valid_until,
    )


def _reason(application: CreditApplication, kind: str) -> str:
    """The approvers' reasons of the deciding round, in level order."""
    decisions = application.decisions.filter(round=application.approval_round).order_by("level")
    if kind == LetterKind.REJECTED:
        decisions = decisions.filter(decision=Decision.REJECT)
    elif kind == LetterKind.PARTLY_APPROVED:
        decisions = decisions.filter(decision=Decision.APPROVE_LOWER)
    reasons = [r.strip().rstrip("。；;.") for r in decisions.values_list("reason", flat=True)]
    return "；".join(r for r in reasons if r)


def _info_requested(application: CreditApplication) -> str:
    step = application.steps.filter(action="request_info").order_by("-at", "-id").first()
    return step.comment.strip() if step is not None else ""


@in_letter_language
def placeholder_values(
    application: CreditApplication, kind: str, on_date: datetime.date | None = None
) -> dict[str, str]:
    terms = letter_terms(application)
    company = application.company
    cod = terms.cash_on_delivery or not terms.term_days
    label = terms_label(
        terms.discount_percent, terms.discount_days, terms.term_days or 0, terms.cash_on_delivery
    )
    grade = ""
    if terms.grade:
        grade = _("%(grade)s级") % {"grade": terms.grade}
        if terms.grade_label:
            grade += f"（{terms.grade_label}）"
    if terms.valid_until:
        valid_until = date_cn(terms.valid_until)
    elif application.kind == ApplicationKind.TEMPORARY:
        valid_until = _("临时额度到期日")
    else:
        valid_until = _("下一次年度复评时")
    reason = _reason(application, kind) or _("根据我公司信用政策及对贵公司的综合评估")
    return {
        "客户名称": application.customer.name,
        "申请额度": money_cn(application.requested_limit),
        "批准额度": money_cn(terms.limit),
        "信用等级": grade,
        "信用期限": _("即时清结（现款现货）")
        if cod
        else _("%(days)s天") % {"days": terms.term_days},
        "付款条件": explain_payment_terms(label),
        "有效期至": valid_until,
        "理由": reason,
        "需补充资料": _info_requested(application),
        "申请编号": application.number,
        "日期": date_cn(on_date or timezone.localdate()),
        "公司名称": company.name,
        "落款": company.letter_signatory,
    }


@in_letter_language
def sample_values(company: Company | None = None) -> dict[str, str]:
    """Made-up values for the template editor's live preview."""
    company = company or Company.default()
    return {
        "客户名称": _("华信科技有限公司"),
        "申请额度": money_cn(Decimal("1000000")),
        "批准额度": money_cn(Decimal("800000")),
        "信用等级": _("B级（良好）"),
        "信用期限": _("%(days)s天") % {"days": 45},
        "付款条件": explain_payment_terms("1/10 n/45"),
        "有效期至": date_cn(timezone.localdate().replace(month=12, day=31)),
        "理由": _("近12个月有两次逾期超过30天的付款记录"),
        "需补充资料": _("1. 最近一年经审计的财务报表；\n2. 法定代表人授权委托书。"),
        "申请编号": f"XS{timezone.localdate().year}-00001",
        "日期": date_cn(timezone.localdate()),
        "公司名称": company.name,
        "落款": company.letter_signatory,
    }


def letter_kind_for(application: CreditApplication) -> str:
    """Which standard letter answers the application in its present state."""
    if application.state == S.GRANTED:
        approved = application.approved_limit
        if approved is not None and approved < application.requested_limit:
            return LetterKind.PARTLY_APPROVED
        return LetterKind.APPROVED
    try:
        return _KIND_BY_STATE[application.state]
    except KeyError:
        raise WorkflowError(
            _("申请当前状态为“%(state)s”，还不能给客户回函。")
            % {"state": application.get_state_display()}
        ) from None


def render(template: LetterTemplate, application: CreditApplication, on_date=None):
    """(subject, body) of `template` filled in for `application`."""
    values = placeholder_values(application, template.kind, on_date)
    try:
        return substitute(template.subject, values), substitute(template.body, values)
    except ValidationError as exc:
        raise WorkflowError(
            _("回函模板“%(kind)s”有误：%(error)s")
            % {"kind": template.get_kind_display(), "error": "；".join(exc.messages)},
            "config",
        ) from exc


def can_generate(user, application: CreditApplication) -> bool:
    return user.has_perm("credit.add_replyletter") and application.state in workflow.LETTER_STATES


def generate_letter(application: CreditApplication, user, kind: str | None = None) -> ReplyLetter:
    """Fill in the template for the application's outcome and keep the text as sent."""
    require_perm(user, "credit.add_replyletter", _("生成回复函"))
    require_visible(user, application.customer_id)
    application.refresh_from_db()
    if application.state not in workflow.LETTER_STATES:
        raise WorkflowError(
            _("申请当前状态为“%(state)s”，还不能给客户回函。")
            % {"state": application.get_state_display()}
        )
    expected = letter_kind_for(application)
    kind = kind or expected
    if kind != expected:
        raise WorkflowError(
            _("申请状态为“%(state)s”，应发送“%(expected)s”，不能发送“%(kind)s”。")
            % {
                "state": application.get_state_display(),
                "expected": LetterKind(expected).label,
                "kind": LetterKind(kind).label if kind in LetterKind.values else kind,
            },
            "invalid",
            "kind",
        )
    template = LetterTemplate.objects.filter(kind=kind).first()
    if template is None:
        raise WorkflowError(
            _("尚未设置“%(kind)s”模板。") % {"kind": LetterKind(kind).label}, "config"
        )
    subject, body = render(template, application)
    with transaction.atomic():
        letter = ReplyLetter.objects.create(
            application=application, kind=kind, subject=subject, body=body, generated_by=user
        )
        workflow.record_step_note(
            application,
            user,
            "letter",
            _("生成回复函：%(subject)s") % {"subject": subject},
        )
    return letter


def save_company(company: Company) -> Company:
    """Save a selling company's letterhead; only one company is the default."""
    with transaction.atomic():
        company.save()
        if company.is_default:
            Company.objects.exclude(pk=company.pk).filter(is_default=True).update(is_default=False)
    return company


# --- Layout shared by PDF and DOCX -----------------------------------------------------------

_DATE_LINE = re.compile(r"^\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*$")


def letter_blocks(body: str) -> list[tuple[str, str]]:
    """Classify the lines of a letter as a Chinese business letter lays them out.

    salutation 称谓 (first line ending in "：") and 敬礼 flush left, 此致 indented,
    落款 and 日期 (the lines after 敬礼, or the closing block ending in a date) flush
    right, every other line a paragraph indented by two characters, "" a blank line.
    """
    lines = [line.rstrip() for line in (body or "").replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    signature_from = len(lines)
    for index, line in enumerate(lines):
        if line.strip().startswith("敬礼"):
            signature_from = index + 1
    if signature_from == len(lines) and lines and _DATE_LINE.match(lines[-1]):
        signature_from = len(lines) - 1
        while signature_from > 0 and lines[signature_from - 1].strip():
            signature_from -= 1
    blocks: list[tuple[str, str]] = []
    salutation_seen = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            blocks.append(("blank", ""))
        elif index >= signature_from:
            blocks.append(("signature", stripped))
        elif not salutation_seen and stripped.endswith(("：", ":")):
            blocks.append(("salutation", stripped))
        elif stripped == "此致":
            blocks.append(("indent", stripped))
        elif stripped.startswith("敬礼"):
            blocks.append(("flush", stripped))
        else:
            blocks.append(("para", stripped))
        if stripped:
            salutation_seen = True
    return blocks


def letterhead_lines(company: Company) -> list[str]:
    """The contact line(s) under the company name."""
    parts = [
        (_("地址"), company.address),
        (_("邮编"), company.postcode),
        (_("电话"), company.phone),
        (_("传真"), company.fax),
        (_("电子邮件"), company.email),
        (_("网址"), company.website),
    ]
    filled = [f"{label}：{value}" for label, value in parts if value]
    if len(filled) <= 3:
        return ["　".join(filled)] if filled else []
    return ["　".join(filled[:2]), "　".join(filled[2:])]


def letter_filename(letter: ReplyLetter, extension: str) -> str:
    return f"{letter.application.customer.name}-{letter.get_kind_display()}-{letter.pk}.{extension}"


def send_letter(request, letter: ReplyLetter, extension: str, *, inline: bool = False):
    """The letter as a PDF or DOCX response, stamped and recorded as printed (web and API)."""
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
        fallback=f"reply-letter-{letter.pk}.{extension}",
        content_type=content_type,
        inline=inline,
        action=Action.PRINT,
        stamp=stamp,
        customer=letter.application.customer_id,
        obj=letter,
        detail={"format": extension},
    )


# --- PDF ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterStyles:
    size: float
    body: object
    para: object
    right: object
    head: object
    contact: object
    subject: object


def letter_styles() -> "LetterStyles":
    """The type of every letter the company sends (reply letters, dunning letters)."""
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm

    from creditfile.core import pdf

    styles = pdf.paragraph_styles()
    size = 11.5
    body = ParagraphStyle("letter", parent=styles["body"], fontSize=size, leading=size * 1.8)
    return LetterStyles(
        size=size,
        body=body,
        para=ParagraphStyle("letter_para", parent=body, firstLineIndent=2 * size),
        right=ParagraphStyle("letter_right", parent=body, alignment=TA_RIGHT),
        head=ParagraphStyle(
            "letterhead", parent=styles["title"], fontSize=18, leading=24, alignment=TA_CENTER
        ),
        contact=ParagraphStyle("contact", parent=styles["subtitle"], fontSize=8.5, leading=12),
        subject=ParagraphStyle(
            "subject", parent=body, fontSize=15, leading=22, alignment=TA_CENTER, spaceAfter=4 * mm
        ),
    )


def letter_opening(company, subject: str, styles: "LetterStyles") -> list:
    """The letterhead (name, contact lines, double rule) and the subject line."""
    from reportlab.lib.units import mm
    from reportlab.platypus import HRFlowable, Spacer

    from creditfile.core import pdf

    story = [pdf.text(company.name, styles.head)]
    story += [pdf.text(line, styles.contact) for line in letterhead_lines(company)]
    return story + [
        Spacer(1, 1.5 * mm),
        HRFlowable(width="100%", thickness=1.2, color=pdf.ACCENT, spaceAfter=0.6 * mm),
        HRFlowable(width="100%", thickness=0.4, color=pdf.ACCENT, spaceAfter=8 * mm),
        pdf.text(subject, styles.subject),
    ]


def letter_footer(company) -> str:
    return "　".join(
        part for part in (company.name, company.phone and _("电话：") + company.phone) if part
    )


@in_letter_language
def letter_pdf(letter: ReplyLetter, stamp: Stamp) -> bytes:
    """A4 on the selling company's letterhead, the Chinese font embedded (core/pdf.py)."""
    return compose_pdf(
        letter.application.company,
        letter.subject,
        letter.body,
        title=_("回复函"),
        reference=letter.application.number,
        stamp=stamp,
    )


@in_letter_language
def compose_pdf(
    company, subject: str, body_text: str, *, title, stamp: Stamp, reference: str = ""
) -> bytes:
    """Any plain letter (subject and body text) on `company`'s letterhead, as PDF."""
    from reportlab.platypus import Spacer

    from creditfile.core import pdf

    styles = letter_styles()
    body, para, right, size = styles.body, styles.para, styles.right, styles.size
    story = letter_opening(company, subject, styles)
    for kind, line in letter_blocks(body_text):
        if kind == "blank":
            story.append(Spacer(1, size * 0.6))
        elif kind == "para":
            story.append(pdf.text(line, para))
        elif kind == "indent":
            story.append(pdf.text(line, para))
        elif kind == "signature":
            story.append(pdf.text(line, right))
        else:
            story.append(pdf.text(line, body))
    return pdf.build_pdf(
        story,
        title=title,
        reference=reference,
        letterhead=company.name,
        footer=letter_footer(company),
        stamp=stamp,
        to_customer=True,
    )


# --- DOCX --------------------------------------------------------------------------------------

# 宋体 is what Chinese Word and WPS call SimSun; the font table entry below also gives its
# English name and the GB2312 charset, so a machine without it substitutes another
# Chinese font instead of showing boxes.
EAST_ASIAN_FONT = "宋体"
EAST_ASIAN_FONT_ALT = "SimSun"
LATIN_FONT = "Times New Roman"


def set_fonts(rpr) -> None:
    """Name the Latin and the East Asian font explicitly, dropping theme fonts that win over
    explicit names (python-docx's default document points East Asian text at a theme font)."""
    from docx.oxml.ns import qn

    fonts = rpr.get_or_add_rFonts()
    for theme in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{theme}"), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    fonts.set(qn("w:cs"), LATIN_FONT)
    fonts.set(qn("w:hint"), "eastAsia")


def use_chinese_fonts(document) -> None:
    """宋体 and Chinese as the document default, so text added later in Word follows."""
    from docx.oxml.ns import qn

    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}") if defaults is not None else None
    if rpr is not None:
        set_fonts(rpr)
        lang = rpr.find(qn("w:lang"))
        if lang is not None:
            lang.set(qn("w:eastAsia"), "zh-CN")
    set_fonts(document.styles["Normal"].element.get_or_add_rPr())
    _declare_font(document)


def _declare_font(document) -> None:
    """Add 宋体 to the font table with its alternative name and Chinese charset."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn

    try:
        part = document.part.part_related_by(RT.FONT_TABLE)
    except KeyError:
        return
    from lxml import etree

    root = etree.fromstring(part.blob)
    if root.find(f"{qn('w:font')}[@{qn('w:name')}='{EAST_ASIAN_FONT}']") is not None:
        return
    font = etree.SubElement(root, qn("w:font"), {qn("w:name"): EAST_ASIAN_FONT})
    etree.SubElement(font, qn("w:altName"), {qn("w:val"): EAST_ASIAN_FONT_ALT})
    etree.SubElement(font, qn("w:panose1"), {qn("w:val"): "02010600030101010101"})
    etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})
    etree.SubElement(font, qn("w:family"), {qn("w:val"): "auto"})
    etree.SubElement(font, qn("w:pitch"), {qn("w:val"): "variable"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# What may follow w:pBdr inside w:pPr (ECMA-376 order); Word rejects elements out of order.
_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip


@in_letter_language
def letter_docx(letter: ReplyLetter, stamp: Stamp) -> bytes:
    """The same letter as an editable Word file: A4, letterhead in the page header, 宋体."""
    return compose_docx(letter.application.company, letter.subject, letter.body, stamp)


@in_letter_language
def compose_docx(company, subject: str, body_text: str, stamp: Stamp) -> bytes:
    """Any plain letter (subject and body text) on `company`'s letterhead, as Word."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    document = Document()
    use_chinese_fonts(document)
    props = document.core_properties
    props.title = subject
    props.author = company.name
    props.language = "zh-CN"

    size = Pt(12)
    normal = document.styles["Normal"]
    normal.font.size = size
    normal.paragraph_format.line_spacing = 1.5
    normal.paragraph_format.space_after = Pt(0)

    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin, section.bottom_margin = Mm(30), Mm(25)
    section.header_distance = Mm(12)

    def add(container, text: str, *, align=None, bold=False, pt=None, color=None, indent=False):
        paragraph = container.add_paragraph()
        if align is not None:
            paragraph.alignment = align
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(24)
        run = paragraph.add_run(text)
        if bold:
            run.bold = True
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
    last = first
    for line in letterhead_lines(company):
        last = add(header, line, align=WD_ALIGN_PARAGRAPH.CENTER, pt=9, color=accent)
    # A double rule under the letterhead, as on printed company stationery.
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("val", "thinThickSmallGap"), ("sz", "18"), ("space", "4")):
        bottom.set(qn(f"w:{name}"), value)
    bottom.set(qn("w:color"), "1F4E79")
    borders.append(bottom)
    last._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PBDR)

    add(document, subject, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, pt=16)
    add(document, "")
    for kind, line in letter_blocks(body_text):
        if kind == "blank":
            add(document, "")
        elif kind in ("para", "indent"):
            add(document, line, indent=True)
        elif kind == "signature":
            add(document, line, align=WD_ALIGN_PARAGRAPH.RIGHT)
        else:
            add(document, line)
    set_fonts(stamp_docx(section, stamp)._element.get_or_add_rPr())
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
