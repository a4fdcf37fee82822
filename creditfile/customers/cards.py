"""The printable customer card 客户档案卡 (R-13): a distributor card and an end-customer card.

A card is the one-document summary of a credit file that sales and credit staff file,
sign and take along. Both cards share the registry data, classification, contacts,
key persons, banks, finances and guarantees; a distributor card adds how the
distributor trades (characteristics, business status, competitors), an end-customer
card how the customer buys. Key persons' private details (KeyPerson.PRIVATE_FIELDS)
are never printed: a card leaves the system and cannot record who reads it.
"""

from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer, Table, TableStyle

from creditfile.access.services.deliveries import Stamp, stamp_for
from creditfile.core import pdf
from creditfile.core.fields import MoneyField
from creditfile.customers.choices import CustomerKind
from creditfile.customers.models import (
    BankAccount,
    BusinessStatus,
    Characteristics,
    Competitor,
    Contact,
    Customer,
    FinancialStatement,
    Guarantee,
    KeyPerson,
    TradingStatus,
)
from creditfile.customers.services.completeness import completeness
from creditfile.customers.services.financials import RATIO_LABELS, ratios

LABEL_WIDTH = 34 * mm
KEEP_TOGETHER_UP_TO = 90 * mm
MIN_SECTION_START = 35 * mm
NUMERALS = "一二三四五六七八九"
MONEY_RATIOS = {"working_capital"}
STATEMENT_LINES = (
    "total_assets",
    "total_liabilities",
    "equity",
    "current_assets",
    "current_liabilities",
    "cash",
    "accounts_receivable",
    "inventory",
    "revenue",
    "cost_of_sales",
    "operating_profit",
    "net_profit",
)


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (enough for section numbers)."""
    tens, ones = divmod(n, 10)
    prefix = ("" if tens == 1 else NUMERALS[tens - 1]) + "十" if tens else ""
    return prefix + (NUMERALS[ones - 1] if ones else "")


def card_title(kind: str) -> str:
    return _("经销商档案卡") if kind == CustomerKind.DISTRIBUTOR else _("终端客户档案卡")


def card_number(customer: Customer) -> str:
    return f"{customer.pk:08d}"


def card_filename(customer: Customer) -> str:
    return _("客户档案卡-%(name)s.pdf") % {"name": customer.name}


def label(model: type[Model], field: str) -> str:
    """Field labels come from the models, so the card and the screens always agree."""
    return str(model._meta.get_field(field).verbose_name)


def value(obj: Model | None, field: str, currency: str = "CNY") -> str:
    """A field of `obj` as printed: choices by their label, money as ¥, empty as "—"."""
    if obj is None:
        return pdf.EMPTY
    model_field = obj._meta.get_field(field)
    raw = getattr(obj, field)
    if raw in (None, ""):
        return pdf.EMPTY
    if model_field.choices:
        return str(getattr(obj, f"get_{field}_display")())
    if isinstance(model_field, MoneyField):
        return pdf.money(raw, currency)
    return pdf.display(raw)


@dataclass
class _Card:
    customer: Customer
    kind: str
    styles: dict
    width: float

    def __post_init__(self):
        self.story: list = []
        self._sections = 0

    # Layout helpers --------------------------------------------------------------------

    def heading(self, title: str) -> Paragraph:
        self._sections += 1
        return Paragraph(f"{chinese_numeral(self._sections)}、{title}", self.styles["heading"])

    def section(self, title: str, *flowables):
        """A short section moves whole to the next page rather than break; a long one starts
        where it is, provided its heading and first rows fit, and runs on."""
        parts = [self.heading(title), *flowables]
        height = sum(f.wrap(self.width, 10_000)[1] for f in parts) + 6 * mm
        if height <= KEEP_TOGETHER_UP_TO:
            self.story.append(KeepTogether(parts))
        else:
            self.story += [CondPageBreak(MIN_SECTION_START), *parts]

    def _grid(self, rows, widths, label_cells, header=False, split_in_row=False) -> Table:
        table = Table(
            rows,
            colWidths=widths,
            repeatRows=1 if header else 0,
            splitInRow=1 if split_in_row else 0,
            hAlign="LEFT",
        )
        commands = [
            ("FONTNAME", (0, 0), (-1, -1), pdf.FONT_NAME),
            ("GRID", (0, 0), (-1, -1), 0.5, pdf.RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ]
        commands += [("BACKGROUND", cell, cell, pdf.SHADE) for cell in label_cells]
        if header:
            commands.append(("BACKGROUND", (0, 0), (-1, 0), pdf.SHADE))
        table.setStyle(TableStyle(commands))
        return table

    def pairs(self, items: list[tuple[str, str]]) -> Table:
        """Short fields two to a row: label | value | label | value."""
        body, lab = self.styles["body"], self.styles["label"]
        label_w = LABEL_WIDTH
        value_w = self.width / 2 - label_w
        rows, shaded = [], []
        for i in range(0, len(items), 2):
            chunk = items[i : i + 2]
            row = []
            for j, (name, text) in enumerate(chunk):
                row += [pdf.text(name, lab), pdf.text(text, body)]
                shaded.append((2 * j, len(rows)))
            row += [""] * (4 - len(row))
            rows.append(row)
        return self._grid(rows, [label_w, value_w, label_w, value_w], shaded)

    def lines(self, items: list[tuple[str, str]]) -> Table:
        """Long text, one field a row, allowed to continue on the next page."""
        body, lab = self.styles["body"], self.styles["label"]
        label_w = LABEL_WIDTH
        rows = [[pdf.text(name, lab), pdf.text(text, body)] for name, text in items]
        shaded = [(0, r) for r in range(len(rows))]
        return self._grid(rows, [label_w, self.width - label_w], shaded, split_in_row=True)

    def listing(self, headers: list[str], rows: list[list[str]], fractions: list[float]) -> Table:
        """A list with a header row that repeats on every page the list runs onto."""
        header_style, body = self.styles["header"], self.styles["body"]
        widths = [self.width * f for f in fractions]
        data = [[pdf.text(h, header_style) for h in headers]]
        if rows:
            data += [[pdf.text(cell, body) for cell in row] for row in rows]
        else:
            data.append([pdf.text(pdf.EMPTY, body)] + [""] * (len(headers) - 1))
        table = self._grid(data, widths, [], header=True, split_in_row=True)
        if not rows:
            table.setStyle(TableStyle([("SPAN", (0, 1), (-1, 1))]))
        return table

    # Sections ----------------------------------------------------------------------------

    def build(self) -> list:
        c = self.customer
        meta = Table(
            [
                [
                    Paragraph(_("卡号：%s") % card_number(c), self.styles["small"]),
                    Paragraph(
                        _("打印日期：%s") % pdf.display(timezone.localdate()),
                        self.styles["small_right"],
                    ),
                ]
            ],
            colWidths=[self.width / 2] * 2,
        )
        meta.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), pdf.FONT_NAME),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.4, pdf.RULE),
                ]
            )
        )
        self.story += [Paragraph(card_title(self.kind), self.styles["title"]), meta]
        self.registry()
        self.classification()
        self.contacts()
        self.key_persons()
        self.banks()
        self.financials()
        self.guarantees()
        if self.kind == CustomerKind.DISTRIBUTOR:
            self.distributor_sections()
        else:
            self.end_customer_sections()
        self.trading_status()
        self.completeness_and_signatures()
        return self.story

    def registry(self):
        c = self.customer
        f = lambda name: (label(Customer, name), value(c, name))  # noqa: E731
        office = value(c, "office_address")
        if c.office_address and c.office_address_verified:
            office += _("（已实地核实）")
        short = [
            f("name"),
            f("short_name"),
            f("uscc"),
            f("organisation_form"),
            f("legal_representative"),
            f("registered_capital"),
            f("chairman"),
            f("general_manager"),
            f("established_on"),
            (
                label(Customer, "operating_term_until"),
                value(c, "operating_term_until") if c.operating_term_until else _("长期"),
            ),
            f("ownership"),
            f("industry"),
            (label(Customer, "region"), c.region.full_name if c.region else pdf.EMPTY),
            f("issuing_authority"),
            f("licence_valid_until"),
            f("first_trade_on"),
            f("employees"),
            f("total_assets"),
            f("annual_sales"),
            f("phone"),
            f("fax"),
            f("email"),
            f("postcode"),
            f("website"),
        ]
        if c.is_international:
            short += [f("country"), f("currency")]
        long = [
            (label(Customer, "registered_address"), value(c, "registered_address")),
            (label(Customer, "office_address"), office),
            f("business_scope"),
        ]
        self.section(_("基本登记信息"), self.pairs(short), self.lines(long))

    def classification(self):
        c = self.customer
        f = lambda name: (label(Customer, name), value(c, name))  # noqa: E731
        lifecycle = value(c, "lifecycle")
        if c.lifecycle_reason:
            lifecycle += f"（{c.lifecycle_reason}）"
        items = [
            f("kind"),
            f("channel_type"),
            f("nature"),
            f("location_type"),
            f("volume_grade"),
            f("credit_grade"),
            (label(Customer, "lifecycle"), lifecycle),
            f("last_visit_on"),
            f("owner"),
            f("department"),
        ]
        self.section(_("分类与归属"), self.pairs(items))

    def contacts(self):
        contacts = list(self.customer.contact_set.all())
        shown = [p for p in contacts if p.is_primary or p.is_emergency]
        rows = []
        for p in shown:
            flags = [
                str(name)
                for flag, name in ((p.is_primary, _("主要")), (p.is_emergency, _("紧急")))
                if flag
            ]
            rows.append(
                [
                    "、".join(flags),
                    p.name,
                    p.title or pdf.EMPTY,
                    p.department or pdf.EMPTY,
                    p.phone or pdf.EMPTY,
                    p.mobile or pdf.EMPTY,
                    p.email or pdf.EMPTY,
                ]
            )
        headers = [_("类别")] + [
            label(Contact, n) for n in ("name", "title", "department", "phone", "mobile", "email")
        ]
        flowables = [
            self.listing(headers, rows, [0.1, 0.12, 0.12, 0.12, 0.15, 0.15, 0.24]),
        ]
        others = len(contacts) - len(shown)
        if others:
            flowables.append(
                Paragraph(
                    _("另有 %(count)s 位联系人，详见客户档案。") % {"count": others},
                    self.styles["small"],
                )
            )
        self.section(_("主要联系人与紧急联系人"), *flowables)

    def key_persons(self):
        # Only these three fields: everything in KeyPerson.PRIVATE_FIELDS stays in the system.
        fields = ("name", "role", "title")
        rows = [[value(p, n) for n in fields] for p in self.customer.keyperson_set.all()]
        headers = [label(KeyPerson, n) for n in fields]
        self.section(_("关键人物"), self.listing(headers, rows, [0.3, 0.35, 0.35]))

    def banks(self):
        fields = (
            "bank_name",
            "branch",
            "account_name",
            "account_number",
            "is_primary",
            "relationship_since",
        )
        rows = [[value(b, n) for n in fields] for b in self.customer.bankaccount_set.all()]
        headers = [label(BankAccount, n) for n in fields]
        self.section(
            _("往来银行"), self.listing(headers, rows, [0.17, 0.16, 0.21, 0.23, 0.08, 0.15])
        )

    def financials(self):
        statement = self.customer.financialstatement_set.order_by("-period_end").first()
        if statement is None:
            self.section(_("财务状况"), Paragraph(_("暂无财务报表。"), self.styles["body"]))
            return
        cur = statement.currency
        header = _("最近一期报表：%(period)s（%(kind)s，%(audited)s）") % {
            "period": pdf.display(statement.period_end),
            "kind": statement.get_period_type_display(),
            "audited": _("经审计") if statement.audited else _("未经审计"),
        }
        lines = [(label(FinancialStatement, n), value(statement, n, cur)) for n in STATEMENT_LINES]
        computed = ratios(statement)
        ratio_items = []
        for key, name in RATIO_LABELS.items():
            number = getattr(computed, key)
            if number is None:
                shown = pdf.EMPTY
            elif key in MONEY_RATIOS:
                shown = pdf.money(number, cur)
            else:
                shown = f"{number:,.2f}"
            ratio_items.append((str(name), shown))
        self.section(
            _("财务状况"),
            Paragraph(escape(header), self.styles["body"]),
            Spacer(1, 1 * mm),
            self.pairs(lines),
            Spacer(1, 2 * mm),
            Paragraph(_("主要财务比率"), self.styles["header"]),
            Spacer(1, 1 * mm),
            self.pairs(ratio_items),
        )

    def guarantees(self):
        rows = []
        for g in self.customer.guarantee_set.all():
            period = (
                f"{pdf.display(g.valid_from)} ~ {pdf.display(g.valid_until)}"
                if g.valid_from or g.valid_until
                else pdf.EMPTY
            )
            rows.append(
                [
                    value(g, "kind"),
                    value(g, "guarantor"),
                    value(g, "description"),
                    value(g, "value"),
                    period,
                ]
            )
        headers = [
            label(Guarantee, "kind"),
            label(Guarantee, "guarantor"),
            label(Guarantee, "description"),
            label(Guarantee, "value"),
            _("有效期"),
        ]
        self.section(_("担保与抵押"), self.listing(headers, rows, [0.12, 0.2, 0.3, 0.16, 0.22]))

    def distributor_sections(self):
        ch = _related(self.customer, "characteristics")
        f = lambda name: (label(Characteristics, name), value(ch, name))  # noqa: E731
        self.section(
            _("经销商经营特征"),
            self.pairs(
                [f("service_area"), f("business_trend"), f("staff_count"), f("sales_scale")]
            ),
            self.lines(
                [
                    f("sales_capacity"),
                    f("potential"),
                    f("philosophy"),
                    f("policies"),
                    f("management_style"),
                ]
            ),
        )
        bs = _related(self.customer, "business_status")
        g = lambda name: (label(BusinessStatus, name), value(bs, name))  # noqa: E731
        self.section(
            _("业务状况"),
            self.lines(
                [
                    g("current_results"),
                    g("past_results"),
                    g("management_quality"),
                    g("staff_quality"),
                    g("relations_with_us"),
                    g("cooperation_attitude"),
                ]
            ),
        )
        fields = ("name", "mode", "annual_amount", "payment_terms", "notes")
        rows = [[value(x, n) for n in fields] for x in self.customer.competitor_set.all()]
        headers = [label(Competitor, n) for n in fields]
        self.section(_("竞争对手"), self.listing(headers, rows, [0.22, 0.18, 0.16, 0.18, 0.26]))

    def end_customer_sections(self):
        ch = _related(self.customer, "characteristics")
        f = lambda name: (label(Characteristics, name), value(ch, name))  # noqa: E731
        self.section(_("采购决策与需求"), self.lines([f("purchasing_pattern"), f("needs")]))

    def trading_status(self):
        ts = _related(self.customer, "trading_status")
        fields = (
            "sales_activity",
            "problems",
            "strengths",
            "plans",
            "reputation",
            "credit_status",
            "trade_terms",
            "past_credit_problems",
        )
        self.section(
            _("交易活动现状"),
            self.lines([(label(TradingStatus, n), value(ts, n)) for n in fields]),
        )

    def completeness_and_signatures(self):
        score, missing = completeness(self.customer)
        missing_text = "、".join(missing) if missing else _("无")
        body, lab = self.styles["body"], self.styles["label"]
        label_w = LABEL_WIDTH
        table = self._grid(
            [
                [pdf.text(_("档案完整度"), lab), pdf.text(f"{score}%", body)],
                [pdf.text(_("缺少的信息"), lab), pdf.text(missing_text, body)],
            ],
            [label_w, self.width - label_w],
            [(0, 0), (0, 1)],
        )
        self.section(_("档案完整度"), table)
        signature = Table(
            [
                [
                    pdf.text(_("填表人："), body),
                    "",
                    pdf.text(_("审核人："), body),
                    "",
                    pdf.text(_("日期："), body),
                    "",
                ]
            ],
            colWidths=[18 * mm, 42 * mm, 18 * mm, 42 * mm, 14 * mm, 42 * mm],
            rowHeights=[12 * mm],
            hAlign="LEFT",
        )
        signature.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), pdf.FONT_NAME),
                    ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                    ("LEFTPADDING", (0, 0), (0, 0), 0),
                    ("LINEBELOW", (1, 0), (1, 0), 0.6, pdf.MUTED),
                    ("LINEBELOW", (3, 0), (3, 0), 0.6, pdf.MUTED),
                    ("LINEBELOW", (5, 0), (5, 0), 0.6, pdf.MUTED),
                ]
            )
        )
        self.story.append(KeepTogether([Spacer(1, 8 * mm), signature]))


def _related(customer: Customer, name: str):
    """A one-to-one section, or None when it has not been filled in yet."""
    try:
        return getattr(customer, name)
    except (Characteristics.DoesNotExist, BusinessStatus.DoesNotExist, TradingStatus.DoesNotExist):
        return None


def build_customer_card(
    customer: Customer, *, user=None, stamp: Stamp | None = None, kind: str | None = None
) -> bytes:
    """The card of `customer` as A4 PDF bytes, stamped with `stamp` (or `user` now); `kind`
    overrides the card the customer's kind would print. The caller has already decided the
    user may see the customer."""
    kind = kind or customer.kind
    if kind not in CustomerKind.values:
        raise ValueError(f"unknown card kind {kind!r}")
    customer = (
        Customer.objects.select_related(
            "ownership",
            "industry",
            "channel_type",
            "location_type",
            "nature",
            "region__parent__parent",
            "owner",
            "department",
        )
        .prefetch_related("contact_set", "keyperson_set", "bankaccount_set", "guarantee_set")
        .get(pk=customer.pk)
    )
    styles = pdf.paragraph_styles()
    story = _Card(customer, kind, styles, pdf.content_width()).build()
    return pdf.build_pdf(
        story,
        title=card_title(kind),
        stamp=stamp or stamp_for(user),
        reference=_("卡号 %s") % card_number(customer),
    )
