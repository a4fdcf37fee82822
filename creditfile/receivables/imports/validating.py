"""Turning the rows of an ERP file into ledger records, or into problems that name the
row, the column (as the file names it) and what is wrong.

Everything that can be told from the file itself is checked here, a batch at a time:
types, negative amounts, dates (and a due date before the invoice date), currencies and
rates, numbers repeated within the file, and the customer (by the source's customer code,
the unified social credit code or the exact name, among the customers the importing user
may see). What depends on the ledger as it stands (an invoice that belongs to another
customer, an order that does not exist) is the ledger's own rule and is reported by the
writing pass.
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils.translation import gettext as _

from creditfile.core.validators import normalize_uscc
from creditfile.customers.imports.values import CellProblem, as_date, as_text
from creditfile.customers.services.visibility import visible_customers
from creditfile.receivables.imports.fields import (
    CUSTOMER_FIELDS,
    DATE,
    MONEY,
    RATE,
    fields_for,
    normalize_header,
)
from creditfile.receivables.models import DocumentKind, ErpCustomerCode, ImportMapping
from creditfile.receivables.services.ledger import LedgerError, _currency, money

_TRACK = object()  # `_parse`: find repeated numbers from the numbers seen so far

# Rows an ERP adds under the data, with the number column empty.
TOTAL_WORDS = {"合计", "总计", "小计", "total", "subtotal"}


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str
    message: str


@dataclass
class Record:
    """One good row, ready for the ledger."""

    row: int
    number: str
    customer: object
    date: dt.date
    amount: Decimal
    currency: str = "CNY"
    rate: Decimal = Decimal(1)
    due_date: dt.date | None = None
    order_number: str = ""
    reference: str = ""
    learned_code: str = ""  # the source's code for the customer, learned from this row


class RowChecker:
    """Checks the rows of one file in batches; remembers the numbers already seen, so a
    number repeated anywhere in the file is reported (memory: one entry per document)."""

    def __init__(self, mapping: ImportMapping, user, headers: list[str]):
        self.mapping = mapping
        self.kind = mapping.kind
        self.user = user
        self.fields = {field.name: field for field in fields_for(mapping.kind)}
        self.positions, self.header_of = self._positions(headers)
        self.seen: dict[str, int] = {}
        self.codes: dict[str, object] = {}  # customer codes learned earlier in this file

    def _positions(self, headers: list[str]) -> tuple[dict[str, int], dict[str, str]]:
        by_exact = {header: index for index, header in enumerate(headers) if header}
        by_normal = {normalize_header(h): i for i, h in enumerate(headers) if h}
        positions, header_of = {}, {}
        for header, name in self.mapping.columns.items():
            if name not in self.fields:
                continue
            index = by_exact.get(header, by_normal.get(normalize_header(header)))
            if index is not None:
                positions[name] = index
                header_of[name] = headers[index]
        # In the file's column order (a JSON field may not keep the mapping's), so a row's
        # problems are reported left to right.
        positions = dict(sorted(positions.items(), key=lambda item: item[1]))
        return positions, header_of

    def missing_columns(self) -> list[Problem]:
        """Header problems: the mapping's required columns that the file does not have."""
        problems = []
        for name, field in self.fields.items():
            if name in self.positions or name not in self.mapping.columns.values():
                continue
            if field.required or name in CUSTOMER_FIELDS:
                header = self.mapping.header_for(name)
                problems.append(
                    Problem(
                        None,
                        header,
                        _("文件中没有列“%(header)s”（映射“%(mapping)s”用它填“%(field)s”）。")
                        % {"header": header, "mapping": self.mapping, "field": field.label},
                    )
                )
        if not set(self.positions) & set(CUSTOMER_FIELDS) and not problems:
            problems.append(Problem(None, "", _("文件中没有映射所指定的客户列。")))
        return problems

    # -- one batch ------------------------------------------------------------------------

    def check(self, rows: list[tuple[int, tuple]]) -> tuple[list[Record], list[Problem]]:
        """Records for the good rows of the batch and every problem of the bad ones."""
        parsed, problems = [], []
        for number, values in rows:
            cells = self._cells(values)
            if cells is None:
                continue
            values_or_problems = self._parse(number, cells)
            if isinstance(values_or_problems, list):
                problems.extend(values_or_problems)
                continue
            parsed.append((number, values_or_problems))
        records = self._resolve_customers(parsed, problems)
        problems.sort(key=lambda problem: problem.row or 0)
        return records, problems

    def _cells(self, values: tuple) -> dict[str, object] | None:
        cells = {
            name: values[index] if index < len(values) else None
            for name, index in self.positions.items()
        }
        texts = [as_text(value) for value in cells.values() if not _blank(value)]
        if not texts:
            return None
        if _blank(cells.get("number")) and any(
            text.replace(" ", "").lower() in TOTAL_WORDS for text in texts
        ):
            return None
        return cells

    def _parse(self, row: int, cells: dict[str, object], first=_TRACK) -> dict | list[Problem]:
        """The row's values, or its problems. `first`: the row that had the same number
        before (None: none), when the caller knows it (the staged import, from SQL);
        otherwise the numbers seen so far in this file tell."""
        values, problems = {}, []

        def problem(name: str, message: str) -> None:
            problems.append(Problem(row, self.header_of.get(name, ""), message))

        for name, raw in cells.items():
            field = self.fields[name]
            if _blank(raw):
                if field.required:
                    problem(name, _("必填，不能为空。"))
                continue
            try:
                values[name] = self._value(field.kind, raw, name)
            except (CellProblem, LedgerError) as error:
                problem(name, str(error))
        number = values.get("number")
        if number is not None:
            if len(number) > 60:
                problem("number", _("单据号最长60个字符。"))
            if first is _TRACK:
                first = self.seen.get(number)
                if first is None:
                    self.seen[number] = row
            if first is not None:
                problem("number", duplicate_message(number, first))
        if not any(not _blank(cells.get(name)) for name in CUSTOMER_FIELDS):
            problem(
                next((n for n in CUSTOMER_FIELDS if n in self.positions), ""),
                _("没有填写客户（客户编码、统一社会信用代码或客户名称）。"),
            )
        failed = {p.column for p in problems}
        if not failed & {self.header_of.get("currency"), self.header_of.get("rate")}:
            currency_problem = self._currency(values)
            if currency_problem:
                problem(*currency_problem)
        if (
            values.get("due_date")
            and values.get("invoice_date")
            and values["due_date"] < values["invoice_date"]
        ):
            problem("due_date", _("到期日不能早于开票日期。"))
        return problems or values

    def parse_row(self, row: int, cells: dict[str, object], first: int | None):
        """`_parse` for the staged import, which finds repeated numbers in SQL."""
        return self._parse(row, cells, first)

    def _value(self, kind: str, raw, name: str):
        if kind == DATE:
            return self._date(raw)
        if kind == MONEY:
            return money(self._decimal(raw), name)
        if kind == RATE:
            return self._decimal(raw)
        text = as_text(raw)
        if name == "customer_uscc":
            return normalize_uscc(text)
        return text

    def _date(self, raw) -> dt.date:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        text = as_text(raw)
        if self.mapping.date_format:
            try:
                return dt.datetime.strptime(text, self.mapping.date_format).date()
            except ValueError:
                raise CellProblem(
                    _("“%(v)s”不是有效日期（映射规定的格式：%(f)s）。")
                    % {"v": text, "f": self.mapping.get_date_format_display()}
                ) from None
        match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                pass
        return as_date(re.sub(r"[ T]\d{1,2}:\d{2}(:\d{2})?$", "", text))

    def _decimal(self, raw) -> Decimal:
        if isinstance(raw, bool):
            raise CellProblem(_("“%(v)s”不是数字。") % {"v": raw})
        if isinstance(raw, int | Decimal):
            return Decimal(raw)
        if isinstance(raw, float):
            return Decimal(repr(raw))
        text = as_text(raw).replace("¥", "").replace("￥", "").replace(" ", "")
        if self.mapping.decimal_comma:
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "").replace("，", "")
        if text.startswith("(") and text.endswith(")"):  # accountants' negative
            text = "-" + text[1:-1]
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise CellProblem(_("“%(v)s”不是数字。") % {"v": as_text(raw)}) from None
        if not value.is_finite():
            raise CellProblem(_("“%(v)s”不是数字。") % {"v": as_text(raw)})
        return value

    def _currency(self, values: dict) -> tuple[str, str] | None:
        """The ledger's own currency and rate rules, with the rate 1 for CNY when blank."""
        code = (values.get("currency") or "CNY").upper()
        rate = values.get("rate")
        if rate is None:
            if code != "CNY":
                return "rate", _("外币单据（%(c)s）必须填写汇率。") % {"c": code}
            rate = Decimal(1)
        try:
            values["currency"], values["rate"] = _currency(code, rate)
        except LedgerError as error:
            return error.field, str(error)
        return None

    # -- customers --------------------------------------------------------------------------

    def _resolve_customers(self, parsed: list[tuple[int, dict]], problems: list[Problem]):
        """Match the batch's rows to customers with three queries, whatever its size."""
        codes = {v["customer_code"] for _row, v in parsed if v.get("customer_code")}
        usccs = {v["customer_uscc"] for _row, v in parsed if v.get("customer_uscc")}
        names = {v["customer_name"] for _row, v in parsed if v.get("customer_name")}
        visible = visible_customers(self.user)
        by_code = {
            code: customer_id
            for code, customer_id in ErpCustomerCode.objects.filter(
                source=self.mapping.source, code__in=codes, customer__in=visible
            ).values_list("code", "customer_id")
        }
        by_uscc, by_name, by_id = {}, {}, {}
        if usccs or names or by_code:
            for customer in visible.filter(
                Q(uscc__in=usccs) | Q(name__in=names) | Q(pk__in=by_code.values())
            ).only("id", "name", "uscc", "lifecycle"):
                by_id[customer.pk] = customer
                if customer.uscc:
                    by_uscc[customer.uscc] = customer
                by_name.setdefault(customer.name, []).append(customer)
        records = []
        for row, values in parsed:
            customer, problem = self._customer(row, values, by_code, by_uscc, by_name, by_id)
            if problem:
                problems.append(problem)
                continue
            records.append(self._record(row, values, customer))
        return records

    def _customer(self, row, values, by_code, by_uscc, by_name, by_id):
        code, uscc, name = (values.get(field) for field in CUSTOMER_FIELDS)
        found, column = None, ""
        if uscc:
            found, column = by_uscc.get(uscc), "customer_uscc"
            if found is None:
                return None, Problem(
                    row, self.header_of["customer_uscc"], customer_message(USCC_UNKNOWN, uscc)
                )
        elif name:
            matches = by_name.get(name, [])
            column = "customer_name"
            if len(matches) > 1:
                return None, Problem(
                    row,
                    self.header_of["customer_name"],
                    customer_message(NAME_AMBIGUOUS, name, count=len(matches)),
                )
            found = matches[0] if matches else None
        if code:
            known = by_id.get(by_code[code]) if code in by_code else self.codes.get(code)
            if known is not None and found is not None and known.pk != found.pk:
                return None, Problem(
                    row,
                    self.header_of["customer_code"],
                    customer_message(CODE_CONFLICT, code, other=known.name),
                )
            found = found or known
        if found is None:
            header = self.header_of.get(column) or self.header_of.get("customer_code", "")
            return None, Problem(row, header, not_found_message(code, name))
        if code and code not in self.codes and code not in by_code:
            self.codes[code] = found
            values["learned_code"] = code
        return found, None

    def _record(self, row: int, values: dict, customer) -> Record:
        date = values.get("invoice_date") or values.get("received_on") or values.get("order_date")
        return Record(
            row=row,
            number=values["number"],
            customer=customer,
            date=date,
            amount=values["amount"],
            currency=values.get("currency", "CNY"),
            rate=values.get("rate", Decimal(1)),
            due_date=values.get("due_date"),
            order_number=values.get("order_number", ""),
            reference=values.get("reference", ""),
            learned_code=values.get("learned_code", ""),
        )


# What can be wrong with a row's customer (the staged import finds them in SQL).
USCC_UNKNOWN, NAME_AMBIGUOUS, CODE_CONFLICT, NOT_FOUND = "uscc", "ambiguous", "conflict", "none"


def customer_message(what: str, value: str, *, count: int = 0, other: str = "") -> str:
    if what == USCC_UNKNOWN:
        return _("没有统一社会信用代码为“%(v)s”的客户（或您无权查看）。") % {"v": value}
    if what == NAME_AMBIGUOUS:
        return _("有%(n)d个名为“%(v)s”的客户，请改用统一社会信用代码或客户编码。") % {
            "n": count,
            "v": value,
        }
    return _("客户编码“%(code)s”已对应另一客户“%(other)s”。") % {"code": value, "other": other}


def not_found_message(code: str | None, name: str | None) -> str:
    if name or not code:
        return _("找不到客户“%(v)s”（或您无权查看）。") % {"v": name or code or ""}
    return _(
        "客户编码“%(v)s”尚未对应到客户：请在文件中同时给出客户名称或统一社会信用代码，"
        "导入一次后即可只用编码。"
    ) % {"v": code}


def duplicate_message(number: str, first: int) -> str:
    return _("单据号“%(n)s”与第%(row)d行重复。") % {"n": number, "row": first}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


__all__ = ["DocumentKind", "Problem", "Record", "RowChecker"]
