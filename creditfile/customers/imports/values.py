"""Turning one spreadsheet cell into the value a model field takes, or a clear problem.

Cells arrive as openpyxl gives them: str, int, float, datetime, bool or None.
Numbers become Decimal through their text, never through float arithmetic.
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from creditfile.customers.imports import columns as c


class CellProblem(Exception):
    """A cell whose content cannot become a value; the message says what is wrong."""


TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "对"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "x", "不是"}


def is_blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def as_text(raw) -> str:
    """Text of a cell; whole numbers typed into a text column lose their '.0'."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat(" ")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw).strip()


def as_date(raw) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = as_text(raw)
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellProblem(_("“%(v)s”不是有效日期，请填写日期格式单元格或“YYYY-MM-DD”。") % {"v": text})


def as_decimal(raw) -> Decimal:
    if isinstance(raw, bool):
        raise CellProblem(_("“%(v)s”不是数字。") % {"v": raw})
    text = as_text(raw) if not isinstance(raw, float) else repr(raw)
    text = text.replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellProblem(_("“%(v)s”不是数字。") % {"v": as_text(raw)}) from None
    if not value.is_finite():
        raise CellProblem(_("“%(v)s”不是数字。") % {"v": as_text(raw)})
    return value


def as_integer(raw) -> int:
    value = as_decimal(raw)
    if value != value.to_integral_value():
        raise CellProblem(_("“%(v)s”应为整数。") % {"v": as_text(raw)})
    return int(value)


def as_boolean(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = as_text(raw).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellProblem(_("“%(v)s”应填写“是”或“否”。") % {"v": as_text(raw)})


def choice_labels(choices) -> list[tuple[str, str]]:
    """(value, Chinese label) of a TextChoices class, whatever language is active."""
    with translation.override("zh-hans"):
        return [(value, str(label)) for value, label in choices.choices]


def _choice_lookup(choices) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for value, label in choices.choices:
                lookup.setdefault(str(label).strip().lower(), value)
    for value in choices.values:
        lookup[value.lower()] = value
    return lookup


class ValueParser:
    """Parses cells, caching the dictionary, region and user look-ups of one import."""

    def __init__(self):
        self._choices: dict[type, dict[str, str]] = {}
        self._dictionaries: dict[str, dict[str, object]] = {}
        self._regions: dict[str, object] = {}
        self._users: dict[str, object] = {}

    def parse(self, column: c.Column, raw):
        kind = column.kind
        if kind == c.TEXT:
            return as_text(raw)
        if kind == c.DATE:
            return as_date(raw)
        if kind == c.MONEY:
            return as_decimal(raw)
        if kind == c.INTEGER:
            return as_integer(raw)
        if kind == c.BOOLEAN:
            return as_boolean(raw)
        if kind == c.CHOICE:
            return self._choice(column, raw)
        if kind == c.DICTIONARY:
            return self._dictionary(column, raw)
        if kind == c.REGION:
            return self._region(raw)
        if kind == c.USER:
            return self._user(raw)
        raise AssertionError(kind)

    def _choice(self, column, raw) -> str:
        lookup = self._choices.get(column.choices)
        if lookup is None:
            lookup = self._choices[column.choices] = _choice_lookup(column.choices)
        text = as_text(raw)
        value = lookup.get(text.lower())
        if value is None:
            allowed = "、".join(label for _value, label in choice_labels(column.choices))
            raise CellProblem(
                _("“%(v)s”不是允许的值；可填写：%(allowed)s。") % {"v": text, "allowed": allowed}
            )
        return value

    def _dictionary(self, column, raw):
        entries = self._dictionaries.get(column.model)
        if entries is None:
            model = apps.get_model("customers", column.model)
            entries = {}
            for entry in model.objects.all():
                for key in (entry.name, entry.name_en, entry.code):
                    if key:
                        entries.setdefault(key.strip().lower(), entry)
            self._dictionaries[column.model] = entries
        text = as_text(raw)
        entry = entries.get(text.lower())
        if entry is None:
            raise CellProblem(
                _("“%(v)s”不在“%(dict)s”字典中；请填写“选项”表中的名称或代码。")
                % {"v": text, "dict": column.header}
            )
        if not entry.active:
            raise CellProblem(_("“%(v)s”已停用，不能再使用。") % {"v": text})
        return entry

    def _region(self, raw):
        from creditfile.customers.models import Region

        code = as_text(raw)
        if not re.fullmatch(r"\d{6}", code):
            raise CellProblem(_("地区代码“%(v)s”应为6位GB/T 2260行政区划代码。") % {"v": code})
        if code not in self._regions:
            self._regions[code] = Region.objects.filter(code=code).first()
        region = self._regions[code]
        if region is None:
            raise CellProblem(_("地区代码“%(v)s”不存在。") % {"v": code})
        return region

    def _user(self, raw):
        username = as_text(raw)
        if username not in self._users:
            users = get_user_model().objects.select_related("department")
            self._users[username] = (
                users.filter(username=username).first()
                or users.filter(username__iexact=username).first()
            )
        user = self._users[username]
        if user is None:
            raise CellProblem(_("用户名“%(v)s”不存在。") % {"v": username})
        if not user.is_active:
            raise CellProblem(_("用户“%(v)s”已停用。") % {"v": username})
        return user
