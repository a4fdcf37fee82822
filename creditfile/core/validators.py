"""Validators for Chinese identifiers and contact data; messages say exactly what is wrong."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# GB 32100-2015: the 31 characters a unified social credit code may use (no I, O, S, V, Z).
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_AUTHORITIES = "123456789ANY"


def uscc_check_digit(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015 §4.4)."""
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def validate_uscc(value: str) -> None:
    code = normalize_uscc(value)
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，实际为%(n)d位。"),
            code="uscc_length",
            params={"n": len(code)},
        )
    for position, ch in enumerate(code, start=1):
        if ch not in USCC_CHARSET:
            raise ValidationError(
                _("统一社会信用代码第%(pos)d位“%(ch)s”不是允许的字符（不可使用I、O、S、V、Z）。"),
                code="uscc_charset",
                params={"pos": position, "ch": ch},
            )
    if code[0] not in USCC_AUTHORITIES:
        raise ValidationError(
            _("统一社会信用代码第1位“%(ch)s”不是有效的登记管理部门代码。"),
            code="uscc_authority",
            params={"ch": code[0]},
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            _("统一社会信用代码第3–8位应为行政区划代码（6位数字），实际为“%(part)s”。"),
            code="uscc_region",
            params={"part": code[2:8]},
        )
    expected = uscc_check_digit(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("统一社会信用代码校验位错误：第18位应为“%(expected)s”，实际为“%(actual)s”。"),
            code="uscc_check_digit",
            params={"expected": expected, "actual": code[17]},
        )


_MOBILE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(\+?86)?0\d{2,3}\d{7,8}(\d{1,6})?$")
_SERVICE = re.compile(r"^(400|800)\d{7}$")
_INTERNATIONAL = re.compile(r"^\+\d{7,15}$")


def phone_digits(value: str) -> str:
    """The number with separators removed, as stored for search."""
    return re.sub(r"[\s\-()（）]", "", value or "")


def validate_phone(value: str) -> None:
    raw = (value or "").strip()
    compact = phone_digits(raw)
    # An extension may be written after a "转" or "ext".
    compact = re.sub(r"(转|ext\.?|x)\d{1,6}$", "", compact, flags=re.IGNORECASE)
    if not compact:
        return
    if any(p.match(compact) for p in (_MOBILE, _LANDLINE, _SERVICE, _INTERNATIONAL)):
        return
    raise ValidationError(
        _(
            "电话号码“%(value)s”格式不正确：手机为11位（如13812345678），"
            "座机需带区号（如010-12345678），国外号码以+和国家代码开头。"
        ),
        code="phone",
        params={"value": raw},
    )


def validate_postcode(value: str) -> None:
    if value and not re.fullmatch(r"\d{6}", value.strip()):
        raise ValidationError(
            _("邮政编码“%(value)s”应为6位数字。"), code="postcode", params={"value": value}
        )


def validate_date_order(
    errors: dict, earlier, later, later_field: str, earlier_label: str, later_label: str
) -> None:
    """Add an error on `later_field` when `later` falls before `earlier` (both optional)."""
    if earlier and later and later < earlier:
        errors.setdefault(later_field, []).append(
            ValidationError(
                _("%(later)s不能早于%(earlier)s。"),
                code="date_order",
                params={"later": later_label, "earlier": earlier_label},
            )
        )
