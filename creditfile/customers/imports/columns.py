"""The columns of the import workbook: header, accepted aliases, target field, value kind.

The Chinese header is what the template shows and what the report names; English
aliases (the field name and a readable label) are accepted so an exported or
hand-made English sheet imports too. Headers are matched by name, in any order.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from creditfile.core.choices import Source
from creditfile.customers.choices import (
    CustomerKind,
    Lifecycle,
    OrganisationForm,
    VolumeGrade,
)

CUSTOMER_SHEET = "客户"
CONTACT_SHEET = "联系人"
HELP_SHEET = "说明"
LISTS_SHEET = "选项"

# Value kinds; the parsers live in values.py.
TEXT = "text"
DATE = "date"
MONEY = "money"
INTEGER = "integer"
BOOLEAN = "boolean"
CHOICE = "choice"
DICTIONARY = "dictionary"
REGION = "region"
USER = "user"


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: str = TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: type | None = None
    model: str = ""
    note: object = ""
    example: str = ""
    width: int = 16
    # False lets a file that only updates existing rows leave the column out.
    header_required: bool = True

    @property
    def template_header(self) -> str:
        return f"{self.header}*" if self.required else self.header


def _choice(header, field_name, choices, aliases=(), **kw):
    return Column(header, field_name, CHOICE, choices=choices, aliases=aliases, **kw)


def _dictionary(header, field_name, model, aliases=(), **kw):
    return Column(header, field_name, DICTIONARY, model=model, aliases=aliases, **kw)


CUSTOMER_COLUMNS: tuple[Column, ...] = (
    Column(
        "客户名称",
        "name",
        required=True,
        aliases=("name", "customer name", "registered name"),
        example="杭州华信科技有限公司",
        width=30,
        header_required=False,
    ),
    Column(
        "统一社会信用代码",
        "uscc",
        required=True,
        aliases=("uscc", "unified social credit code", "credit code"),
        note=_("18位，按GB 32100-2015校验；用于识别客户：已有相同代码的客户会被更新。"),
        width=22,
    ),
    Column("简称", "short_name", aliases=("short_name", "short name")),
    _choice("客户类别", "kind", CustomerKind, aliases=("kind", "customer kind")),
    Column(
        "注册地址",
        "registered_address",
        aliases=("registered_address", "registered address"),
        width=30,
    ),
    Column(
        "实际办公地址", "office_address", aliases=("office_address", "office address"), width=30
    ),
    Column(
        "法定代表人",
        "legal_representative",
        aliases=("legal_representative", "legal representative"),
    ),
    Column(
        "注册资本（元）",
        "registered_capital",
        MONEY,
        aliases=("registered_capital", "registered capital", "注册资本"),
        example="5000000.00",
    ),
    Column(
        "成立日期",
        "established_on",
        DATE,
        aliases=("established_on", "established on", "establishment date"),
        example="2015-03-18",
    ),
    _dictionary("行业", "industry", "Industry", aliases=("industry",)),
    _dictionary(
        "企业类型",
        "ownership",
        "Ownership",
        aliases=("ownership", "enterprise type", "所有制", "企业类型/所有制"),
    ),
    _choice(
        "组织形式",
        "organisation_form",
        OrganisationForm,
        aliases=("organisation_form", "organisation form", "organization form"),
    ),
    Column(
        "地区代码",
        "region",
        REGION,
        aliases=("region", "region code", "行政区划代码"),
        note=_("GB/T 2260 行政区划代码，6位数字，见“选项”表。"),
        example="330106",
    ),
    Column(
        "负责销售代表（用户名）",
        "owner",
        USER,
        aliases=("owner", "sales rep", "负责销售代表"),
        note=_("系统登录用户名；客户的所属部门取该用户的部门。"),
    ),
    Column("电话", "phone", aliases=("phone", "telephone"), example="0571-88886666"),
    Column("传真", "fax", aliases=("fax",)),
    Column("邮编", "postcode", aliases=("postcode", "邮政编码", "postal code"), example="310012"),
    Column("电子邮件", "email", aliases=("email", "e-mail")),
    Column("网址", "website", aliases=("website", "web site")),
    _choice(
        "信息来源",
        "source",
        Source,
        aliases=("source",),
        note=_("新建客户未填写时记为“内部部门”。"),
    ),
    Column("信息日期", "source_date", DATE, aliases=("source_date", "source date")),
    _choice(
        "客户状态",
        "lifecycle",
        Lifecycle,
        aliases=("lifecycle", "status"),
        note=_("已有客户的状态变更须符合状态规则；休眠、流失、黑名单须填写状态原因。"),
    ),
    Column("状态原因", "lifecycle_reason", aliases=("lifecycle_reason", "status reason")),
    _dictionary("渠道类型", "channel_type", "ChannelType", aliases=("channel_type", "channel")),
    _dictionary("地段类型", "location_type", "LocationType", aliases=("location_type",)),
    _dictionary("客户性质", "nature", "CustomerNature", aliases=("nature",)),
    _choice("销量等级", "volume_grade", VolumeGrade, aliases=("volume_grade", "volume grade")),
    Column("经营范围", "business_scope", aliases=("business_scope", "business scope"), width=30),
    Column("董事长", "chairman", aliases=("chairman",)),
    Column("总经理", "general_manager", aliases=("general_manager", "general manager")),
    Column(
        "营业期限至",
        "operating_term_until",
        DATE,
        aliases=("operating_term_until", "operating term until"),
    ),
    Column(
        "执照有效期至",
        "licence_valid_until",
        DATE,
        aliases=("licence_valid_until", "licence valid until", "license valid until"),
    ),
    Column("登记机关", "issuing_authority", aliases=("issuing_authority", "issuing authority")),
    Column(
        "首次交易日期",
        "first_trade_on",
        DATE,
        aliases=("first_trade_on", "first trade date", "first trade on"),
    ),
    Column(
        "资产总额（元）",
        "total_assets",
        MONEY,
        aliases=("total_assets", "total assets", "资产总额"),
    ),
    Column("员工人数", "employees", INTEGER, aliases=("employees",)),
    Column(
        "年销售额（元）",
        "annual_sales",
        MONEY,
        aliases=("annual_sales", "annual sales", "年销售额"),
    ),
)

CONTACT_COLUMNS: tuple[Column, ...] = (
    Column(
        "统一社会信用代码",
        "customer_uscc",
        required=True,
        aliases=(
            "uscc",
            "customer_uscc",
            "customer uscc",
            "unified social credit code",
            "客户统一社会信用代码",
        ),
        note=_("联系人所属客户的代码：客户须在本文件“客户”表中，或已在系统中。"),
        width=22,
    ),
    Column("姓名", "name", required=True, aliases=("name", "contact name")),
    Column("职务", "title", aliases=("title", "position")),
    Column("部门", "department", aliases=("department",)),
    Column("电话", "phone", aliases=("phone", "telephone")),
    Column("手机", "mobile", aliases=("mobile", "mobile phone", "cell")),
    Column("电子邮件", "email", aliases=("email", "e-mail")),
    Column(
        "主要联系人",
        "is_primary",
        BOOLEAN,
        aliases=("is_primary", "primary", "primary contact"),
    ),
    Column(
        "紧急联系人",
        "is_emergency",
        BOOLEAN,
        aliases=("is_emergency", "emergency", "emergency contact"),
    ),
    Column("备注", "notes", aliases=("notes", "remarks"), width=30),
    _choice("信息来源", "source", Source, aliases=("source",)),
)


def normalize_header(text) -> str:
    """Headers compare without the required-mark, case, spaces or full/half-width brackets."""
    value = str(text or "").strip().rstrip("*＊").strip().lower()
    value = value.replace("（", "(").replace("）", ")")
    return " ".join(value.replace("_", " ").split())


def header_index(columns: tuple[Column, ...]) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            index.setdefault(normalize_header(name), column)
    return index
