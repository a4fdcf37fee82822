"""The ledger fields an ERP file can fill, per kind of document, and the header names
用友/金蝶-style 应收 exports (and English ones) use for them, for the mapping screen's
suggestions."""

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from creditfile.receivables.models import DocumentKind

DATE, TEXT, MONEY, RATE = "date", "text", "money", "rate"


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()


# Customer fields: at least one must be mapped; rows are matched by code, then credit code,
# then exact name (services in validating.py).
CUSTOMER_FIELDS = ("customer_code", "customer_uscc", "customer_name")

_CUSTOMER = (
    Field(
        "customer_code",
        _("客户编码"),
        aliases=(
            "客户编码",
            "客户编号",
            "客户代码",
            "往来单位编码",
            "customer code",
            "customer no",
        ),
    ),
    Field(
        "customer_uscc",
        _("统一社会信用代码"),
        aliases=("统一社会信用代码", "社会信用代码", "信用代码", "纳税人识别号", "税号", "uscc"),
    ),
    Field(
        "customer_name",
        _("客户名称"),
        aliases=(
            "客户名称",
            "客户",
            "客户全称",
            "往来单位",
            "单位名称",
            "customer",
            "customer name",
        ),
    ),
)
_MONEY = (
    Field("currency", _("币种"), aliases=("币种", "币别", "货币", "currency")),
    Field("rate", _("汇率"), RATE, aliases=("汇率", "exchange rate", "rate", "fx rate")),
)


def _amount(*extra: str) -> Field:
    return Field(
        "amount",
        _("金额（原币）"),
        MONEY,
        required=True,
        aliases=(
            *extra,
            "价税合计",
            "原币价税合计",
            "金额",
            "原币金额",
            "含税金额",
            "amount",
            "total",
        ),
    )


FIELDS: dict[str, tuple[Field, ...]] = {
    DocumentKind.INVOICE: (
        Field(
            "number",
            _("发票号"),
            required=True,
            aliases=("发票号", "发票号码", "发票编号", "单据号", "单据编号", "应收单号")
            + ("invoice no", "invoice number", "document no", "number"),
        ),
        *_CUSTOMER,
        Field(
            "invoice_date",
            _("开票日期"),
            DATE,
            required=True,
            aliases=("开票日期", "发票日期", "单据日期", "日期", "invoice date", "date"),
        ),
        Field(
            "due_date",
            _("到期日"),
            DATE,
            aliases=("到期日", "到期日期", "收款到期日", "应收到期日", "due date"),
        ),
        _amount("应收金额", "发票金额", "invoice amount"),
        *_MONEY,
        Field(
            "order_number",
            _("销售订单号"),
            aliases=("销售订单号", "订单号", "订单编号", "源单号", "order no", "sales order"),
        ),
    ),
    DocumentKind.PAYMENT: (
        Field(
            "number",
            _("收款单号"),
            required=True,
            aliases=("收款单号", "收款单编号", "单据号", "单据编号", "payment no", "receipt no")
            + ("document no", "number"),
        ),
        *_CUSTOMER,
        Field(
            "received_on",
            _("收款日期"),
            DATE,
            required=True,
            aliases=("收款日期", "到账日期", "单据日期", "日期", "payment date", "receipt date")
            + ("date",),
        ),
        _amount("收款金额", "原币收款金额", "payment amount"),
        *_MONEY,
        Field(
            "reference",
            _("核销发票号"),
            aliases=("核销发票号", "对应发票号", "发票号", "发票号码", "invoice no", "reference"),
        ),
    ),
    DocumentKind.CREDIT_NOTE: (
        Field(
            "number",
            _("贷项通知单号"),
            required=True,
            aliases=("贷项通知单号", "红字发票号", "单据号", "单据编号", "credit note no")
            + ("document no", "number"),
        ),
        *_CUSTOMER,
        Field(
            "received_on",
            _("单据日期"),
            DATE,
            required=True,
            aliases=("单据日期", "开票日期", "日期", "credit note date", "date"),
        ),
        _amount("贷项金额", "红字金额", "credit amount"),
        *_MONEY,
        Field(
            "reference",
            _("核销发票号"),
            aliases=(
                "核销发票号",
                "对应发票号",
                "原发票号",
                "蓝字发票号",
                "invoice no",
                "reference",
            ),
        ),
    ),
    DocumentKind.ORDER: (
        Field(
            "number",
            _("订单号"),
            required=True,
            aliases=("订单号", "销售订单号", "订单编号", "单据号", "order no", "order number")
            + ("number",),
        ),
        *_CUSTOMER,
        Field(
            "order_date",
            _("订单日期"),
            DATE,
            required=True,
            aliases=("订单日期", "单据日期", "日期", "order date", "date"),
        ),
        _amount("订单金额", "order amount"),
        *_MONEY,
    ),
}


def fields_for(kind: str) -> tuple[Field, ...]:
    return FIELDS[kind]


def field_named(kind: str, name: str) -> Field | None:
    return next((field for field in FIELDS[kind] if field.name == name), None)


def normalize_header(text) -> str:
    """Headers compared without case, width, spaces, marks like '*' or a trailing '：'."""
    text = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    return re.sub(r"[\s*:：_\-./]", "", text)


def _bare(text: str) -> str:
    """The header without what it says in brackets: 价税合计(原币) → 价税合计."""
    return re.sub(r"[(\[（【].*?[)\]）】]", "", text)


def suggest_mapping(headers: list[str], kind: str) -> dict[str, str]:
    """header → field for the headers a known name recognises; each field once, the first
    header that names it winning, exact names before names with a bracketed remark."""
    lookup: dict[str, str] = {}
    for field in FIELDS[kind]:
        for alias in field.aliases:
            lookup.setdefault(normalize_header(alias), field.name)
    suggested: dict[str, str] = {}
    taken: set[str] = set()
    for matcher in (normalize_header, lambda h: normalize_header(_bare(h))):
        for header in headers:
            if header in suggested:
                continue
            name = lookup.get(matcher(header))
            if name and name not in taken:
                suggested[header] = name
                taken.add(name)
    return suggested


def mapping_problems(columns: dict[str, str], kind: str) -> list[str]:
    """What a mapping lacks to be usable: the required fields and one customer field."""
    mapped = set(columns.values())
    problems = [
        gettext("必须指定哪一列是“%(field)s”。") % {"field": field.label}
        for field in FIELDS[kind]
        if field.required and field.name not in mapped
    ]
    if not mapped & set(CUSTOMER_FIELDS):
        problems.append(gettext("至少指定一列客户编码、统一社会信用代码或客户名称，用于识别客户。"))
    taken: dict[str, str] = {}
    for header, name in columns.items():
        if name in taken:
            label = field_named(kind, name).label if field_named(kind, name) else name
            problems.append(
                gettext("“%(a)s”和“%(b)s”两列都对应“%(field)s”，只能选一列。")
                % {"a": taken[name], "b": header, "field": label}
            )
        taken[name] = header
    return problems
