"""Importing customers and their contacts from the template workbook (R-01, R-07).

All or nothing: the whole file is processed inside one transaction and rolled back
when any row is bad, so the report can name every bad row while the database stays
untouched. Rows are saved one by one with plain save(), so the change log, pinyin
and freshness signals fire exactly as for an edit made on screen.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from creditfile.core.choices import Source
from creditfile.core.history import acting_as, current_actor
from creditfile.core.validators import normalize_uscc
from creditfile.customers.imports import columns as c
from creditfile.customers.imports.reader import (
    FileProblem,
    find_sheet,
    iter_rows,
    map_headers,
    open_workbook,
)
from creditfile.customers.imports.values import CellProblem, ValueParser, is_blank
from creditfile.customers.models import Contact, Customer
from creditfile.customers.services import lifecycle, visibility
from creditfile.customers.services.file_updates import touches_deferred

CUSTOMERS = "customers"
CONTACTS = "contacts"
KINDS = (CUSTOMERS, CONTACTS)
IMPORT_PERMISSION = "customers.import_customers"
DEFAULT_SOURCE = Source.INTERNAL


@dataclass(frozen=True)
class Problem:
    """One line of the report: where (sheet, Excel row, column header) and what is wrong."""

    sheet: str
    row: int | None
    column: str
    message: str


@dataclass
class SheetCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    @property
    def written(self) -> int:
        return self.created + self.updated


@dataclass
class ImportResult:
    filename: str
    kind: str = CUSTOMERS
    dry_run: bool = False
    skip_bad_rows: bool = False
    counts: dict[str, SheetCounts] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    file_problem: bool = False
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> int:
        return len({(p.sheet, p.row) for p in self.problems if p.row is not None})


def can_import(user) -> bool:
    return user is None or user.has_perm(IMPORT_PERMISSION)


def import_workbook(
    stream,
    filename: str,
    user,
    kind: str = CUSTOMERS,
    *,
    skip_bad_rows: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Import a workbook; `user` None means the operator at the server's command line.

    kind "customers" imports the 客户 sheet and, when present, the 联系人 sheet of the
    same workbook in the same transaction; kind "contacts" imports only 联系人.
    """
    if kind not in KINDS:
        raise ValueError(kind)
    if not can_import(user):
        raise PermissionDenied
    result = ImportResult(
        filename=filename, kind=kind, dry_run=dry_run, skip_bad_rows=skip_bad_rows
    )
    try:
        workbook = open_workbook(stream, filename)
    except FileProblem as exc:
        return _file_problem(result, "", str(exc))
    try:
        _Importer(workbook, result, user).run()
    finally:
        workbook.close()
    return result


def _file_problem(result: ImportResult, sheet: str, message: str, column: str = "") -> ImportResult:
    result.file_problem = True
    result.problems.append(Problem(sheet, None, column, message))
    return result


@dataclass
class _Sheet:
    title: str
    worksheet: object
    columns: dict[int, c.Column]

    def cells(self, values: tuple) -> dict[c.Column, object] | None:
        """Column → raw value of one row; None for a row with nothing in it."""
        cells = {
            column: values[position] if position < len(values) else None
            for position, column in self.columns.items()
        }
        if all(is_blank(raw) for raw in cells.values()):
            return None
        return cells

    def rows(self):
        for number, values in iter_rows(self.worksheet):
            if number == 1:
                continue
            cells = self.cells(values)
            if cells is not None:
                yield number, cells


class _Importer:
    def __init__(self, workbook, result: ImportResult, user):
        self.workbook = workbook
        self.result = result
        self.user = user
        self.parser = ValueParser()
        self.customer_sheet: _Sheet | None = None
        self.contact_sheet: _Sheet | None = None
        # USCC → the customer written from this file, or the row it was refused on.
        self.file_customers: dict[str, object] = {}
        self.bad_customer_rows: dict[str, int] = {}
        self.known_customers: dict[str, object] = {}

    # -- the file as a whole -------------------------------------------------

    def run(self) -> None:
        if not self._open_sheets():
            return
        if not any(True for sheet in self._sheets() for _row in sheet.rows()):
            _file_problem(self.result, "", _("文件中没有数据行（表头下方为空）。"))
            return
        label = f"import:{self.result.filename}"[:100]
        with acting_as(user=self.user, label=label, request_id=current_actor().request_id):
            with transaction.atomic():
                # Freshness and completeness are worked out once per customer at the end.
                with touches_deferred() as touched:
                    if self.customer_sheet is not None:
                        self._import_customers(self.customer_sheet)
                    if self.contact_sheet is not None:
                        self._import_contacts(self.contact_sheet)
                    keep = not self.result.dry_run and (self.result.ok or self.result.skip_bad_rows)
                    if not keep:
                        touched.clear()
                if not keep:
                    transaction.set_rollback(True)
                self.result.committed = keep

    def _sheets(self):
        return [s for s in (self.customer_sheet, self.contact_sheet) if s is not None]

    def _open_sheets(self) -> bool:
        wanted = [(c.CONTACT_SHEET, c.CONTACT_COLUMNS, True)]
        if self.result.kind == CUSTOMERS:
            wanted = [
                (c.CUSTOMER_SHEET, c.CUSTOMER_COLUMNS, True),
                (c.CONTACT_SHEET, c.CONTACT_COLUMNS, False),
            ]
        ok = True
        for title, columns, required in wanted:
            worksheet = find_sheet(self.workbook, title)
            if worksheet is None:
                if required:
                    found = "、".join(self.workbook.sheetnames) or "—"
                    _file_problem(
                        self.result,
                        title,
                        _("工作簿中没有名为“%(sheet)s”的工作表（现有：%(found)s）。")
                        % {"sheet": title, "found": found},
                    )
                    ok = False
                continue
            header = next((values for number, values in iter_rows(worksheet)), ())
            if not any(not is_blank(v) for v in header or ()):
                if required:
                    _file_problem(
                        self.result, title, _("“%(sheet)s”表第1行没有表头。") % {"sheet": title}
                    )
                    ok = False
                continue
            mapping, problems = map_headers(title, header, columns)
            for column, message in problems:
                self.result.problems.append(Problem(title, 1, column, message))
            if problems:
                self.result.file_problem = True
                ok = False
                continue
            sheet = _Sheet(title, worksheet, mapping)
            self.result.counts[title] = SheetCounts()
            if title == c.CUSTOMER_SHEET:
                self.customer_sheet = sheet
            else:
                self.contact_sheet = sheet
        return ok

    # -- helpers ---------------------------------------------------------------

    def _visible(self, queryset):
        return queryset if self.user is None else visibility.restrict(queryset, self.user, "view")

    def _can_edit(self, customer) -> bool:
        return self.user is None or visibility.can_edit(self.user, customer)

    def _parse(self, cells) -> tuple[dict, list[tuple[str, str]]]:
        values, problems = {}, []
        for column, raw in cells.items():
            if is_blank(raw):
                if column.required:
                    problems.append((column.header, _("必填项，不能为空。")))
                continue
            try:
                values[column.field] = self.parser.parse(column, raw)
            except CellProblem as exc:
                problems.append((column.header, str(exc)))
        return values, problems

    def _duplicates(self, sheet: _Sheet, key) -> dict:
        """Key → the rows it appears on, for keys that appear more than once."""
        rows = defaultdict(list)
        for number, cells in sheet.rows():
            k = key(cells)
            if k:
                rows[k].append(number)
        return {k: numbers for k, numbers in rows.items() if len(numbers) > 1}

    def _refuse(self, sheet: _Sheet, number: int, problems: list[tuple[str, str]]) -> None:
        for column, message in problems:
            self.result.problems.append(Problem(sheet.title, number, column, message))
        self.result.counts[sheet.title].skipped += 1

    def _add_validation(self, sheet, instance, problems: list[tuple[str, str]]) -> None:
        """full_clean()'s objections, except on columns that already have a problem.

        Related objects are left out: the import fetched every one of them itself, and
        checking each again would cost a query per foreign key per row. So is the code's
        uniqueness: the row was matched by its code and duplicates in the file are refused,
        while the model's clean() still checks the code itself.
        """
        exclude = [f.name for f in type(instance)._meta.concrete_fields if f.is_relation]
        if isinstance(instance, Customer):
            exclude.append("uscc")
        try:
            instance.full_clean(exclude=exclude)
        except ValidationError as exc:
            flagged = {column for column, _message in problems}
            problems.extend(
                problem
                for problem in self._validation_problems(sheet, instance, exc)
                if problem[0] not in flagged
            )

    def _validation_problems(self, sheet: _Sheet, instance, exc: ValidationError):
        headers = {column.field: column.header for column in sheet.columns.values()}
        problems = []
        if not hasattr(exc, "error_dict"):
            return [("", message) for message in exc.messages]
        for field_name, messages in exc.message_dict.items():
            if field_name == NON_FIELD_ERRORS:
                header = ""
            elif field_name in headers:
                header = headers[field_name]
            else:
                header = str(type(instance)._meta.get_field(field_name).verbose_name)
            problems.extend((header, message) for message in messages)
        return problems

    @staticmethod
    def _assign(instance, values: dict) -> bool:
        """Set the values on the instance; True when anything differs from what it held."""
        changed = False
        for name, value in values.items():
            model_field = type(instance)._meta.get_field(name)
            before = getattr(instance, model_field.attname)
            setattr(instance, name, value)
            if getattr(instance, model_field.attname) != before:
                changed = True
        return changed

    def _save(self, sheet, number, instance, after=None) -> bool:
        """Save in a savepoint, so one failing row never poisons the transaction."""
        try:
            with transaction.atomic():
                instance.save()
                if after is not None:
                    after()
        except (ValidationError, DatabaseError) as exc:
            if isinstance(exc, ValidationError):
                problems = self._validation_problems(sheet, instance, exc)
            else:
                problems = [("", _("保存失败：%(e)s") % {"e": exc})]
            self._refuse(sheet, number, problems)
            return False
        return True

    def _count(self, sheet, created: bool, changed: bool) -> None:
        counts = self.result.counts[sheet.title]
        if created:
            counts.created += 1
        elif changed:
            counts.updated += 1
        else:
            counts.unchanged += 1

    # -- customers ---------------------------------------------------------------

    def _import_customers(self, sheet: _Sheet) -> None:
        uscc_column = next(col for col in sheet.columns.values() if col.field == "uscc")
        duplicates = self._duplicates(
            sheet, lambda cells: normalize_uscc(str(cells.get(uscc_column) or ""))
        )
        for number, cells in sheet.rows():
            values, problems = self._parse(cells)
            uscc = normalize_uscc(values.get("uscc", ""))
            if uscc:
                values["uscc"] = uscc
            if uscc in duplicates:
                problems.append((uscc_column.header, self._duplicate_message(duplicates[uscc])))
            existing = Customer.objects.filter(uscc=uscc).first() if uscc else None
            if existing is not None and not self._can_edit(existing):
                problems.append(
                    (
                        uscc_column.header,
                        _("客户“%(name)s”已在系统中，但您无权修改它。") % {"name": existing.name},
                    )
                )
                self._refuse_customer(sheet, number, uscc, problems)
                continue
            instance = existing or Customer(source=DEFAULT_SOURCE, entered_by=self.user)
            target = values.pop("lifecycle", None)
            reason = values.get("lifecycle_reason", "")
            transition = None
            if existing is not None and target and target != existing.lifecycle:
                values.pop("lifecycle_reason", None)
                message = self._transition_problem(existing.lifecycle, target, reason)
                if message:
                    problems.append((self._header(sheet, "lifecycle"), message))
                transition = target
            elif existing is None and target:
                instance.lifecycle = target
                if target in lifecycle.REASON_REQUIRED and not reason:
                    problems.append(
                        (self._header(sheet, "lifecycle"), self._reason_message(target))
                    )
            if "owner" in values:
                values["department"] = values["owner"].department
            changed = self._assign(instance, values) or transition is not None
            self._add_validation(sheet, instance, problems)
            if problems:
                self._refuse_customer(sheet, number, uscc, problems)
                continue
            if existing is not None and not changed:
                self.file_customers[uscc] = instance
                self._count(sheet, created=False, changed=False)
                continue

            def after(instance=instance, transition=transition, reason=reason):
                if transition is not None:
                    lifecycle.change_lifecycle(instance, transition, reason, self.user)

            if self._save(sheet, number, instance, after):
                self.file_customers[uscc] = instance
                self._count(sheet, created=existing is None, changed=True)
            else:
                self.bad_customer_rows[uscc] = number

    def _refuse_customer(self, sheet, number, uscc, problems) -> None:
        if uscc:
            self.bad_customer_rows.setdefault(uscc, number)
        self._refuse(sheet, number, problems)

    @staticmethod
    def _header(sheet: _Sheet, field_name: str) -> str:
        return next(col.header for col in sheet.columns.values() if col.field == field_name)

    @staticmethod
    def _duplicate_message(rows: list[int]) -> str:
        return _("同一代码在本表第%(rows)s行重复出现，每个客户只能出现一次。") % {
            "rows": "、".join(str(n) for n in rows)
        }

    @staticmethod
    def _reason_message(target: str) -> str:
        return _("变为“%(b)s”必须填写状态原因。") % {"b": lifecycle.L(target).label}

    def _transition_problem(self, current: str, target: str, reason: str) -> str:
        """The lifecycle rule's objection to this move, checked before anything is saved."""
        if lifecycle.L(target) not in lifecycle.ALLOWED[lifecycle.L(current)]:
            return _("不能从“%(a)s”直接变为“%(b)s”。") % {
                "a": lifecycle.L(current).label,
                "b": lifecycle.L(target).label,
            }
        if target in lifecycle.REASON_REQUIRED and not reason:
            return self._reason_message(target)
        return ""

    # -- contacts ----------------------------------------------------------------

    def _customer_for_contact(self, uscc: str):
        """(customer, problem message) for the USCC a contact row names."""
        if uscc in self.bad_customer_rows:
            return None, _("该客户在“%(sheet)s”表第%(row)d行有错误，未导入。") % {
                "sheet": c.CUSTOMER_SHEET,
                "row": self.bad_customer_rows[uscc],
            }
        if uscc in self.file_customers:
            return self.file_customers[uscc], ""
        if uscc not in self.known_customers:
            self.known_customers[uscc] = self._visible(Customer.objects.filter(uscc=uscc)).first()
        customer = self.known_customers[uscc]
        if customer is None:
            return None, _(
                "统一社会信用代码为“%(code)s”的客户既不在本文件的“客户”表中，"
                "也不在您可见的客户档案中。"
            ) % {"code": uscc}
        if not self._can_edit(customer):
            return None, _("您无权修改客户“%(name)s”的联系人。") % {"name": customer.name}
        return customer, ""

    def _import_contacts(self, sheet: _Sheet) -> None:
        by_field = {col.field: col for col in sheet.columns.values()}
        uscc_column, name_column = by_field["customer_uscc"], by_field["name"]

        def key(cells):
            uscc = normalize_uscc(str(cells.get(uscc_column) or ""))
            name = str(cells.get(name_column) or "").strip()
            return (uscc, name) if uscc and name else None

        duplicates = self._duplicates(sheet, key)
        for number, cells in sheet.rows():
            values, problems = self._parse(cells)
            uscc = normalize_uscc(values.pop("customer_uscc", ""))
            name = values.get("name", "")
            if (uscc, name) in duplicates:
                problems.append(
                    (
                        name_column.header,
                        _("同一客户的联系人“%(name)s”在本表第%(rows)s行重复出现。")
                        % {"name": name, "rows": "、".join(map(str, duplicates[(uscc, name)]))},
                    )
                )
            customer = None
            if uscc:
                customer, message = self._customer_for_contact(uscc)
                if message:
                    problems.append((uscc_column.header, message))
            if customer is None or not name:
                self._refuse(sheet, number, problems)
                continue
            matches = list(Contact.objects.filter(customer=customer, name=name)[:2])
            if len(matches) > 1:
                problems.append(
                    (
                        name_column.header,
                        _("客户“%(customer)s”已有多个名为“%(name)s”的联系人，无法确定更新哪一个。")
                        % {"customer": customer.name, "name": name},
                    )
                )
                self._refuse(sheet, number, problems)
                continue
            existing = matches[0] if matches else None
            instance = existing or Contact(
                customer=customer, source=DEFAULT_SOURCE, entered_by=self.user
            )
            changed = self._assign(instance, values)
            self._add_validation(sheet, instance, problems)
            if problems:
                self._refuse(sheet, number, problems)
                continue
            if existing is not None and not changed:
                self._count(sheet, created=False, changed=False)
                continue
            if self._save(sheet, number, instance):
                self._count(sheet, created=existing is None, changed=True)
