"""External credit ratings: agency reports as a source (R-10) and a scorecard input (R-23).

Ratings arrive through a `RatingProvider`. The one shipped reads a file the credit
staff downloaded from an agency (CSV or XLSX); a live agency feed can be added later
by registering another provider with the same two members, without touching the
screens or the scorecard. Whatever the provider, ratings are stored by
`store_ratings`, all or nothing, one row per (customer, agency, report date).
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.history import acting_as, current_actor
from creditfile.core.validators import normalize_uscc
from creditfile.credit.models import ExternalRating
from creditfile.credit.services.errors import WorkflowError, require_perm
from creditfile.credit.services.tabular import (
    TableResult,
    build_template,
    customers_by_uscc,
    read_table,
)
from creditfile.customers.imports import columns as c
from creditfile.customers.services.attachments import add_attachment

ADD_PERMISSION = "credit.add_externalrating"
CHANGE_PERMISSION = "credit.change_externalrating"
REPORT_CATEGORY = "investigation"


@dataclass(frozen=True)
class RatingRecord:
    """One agency report as a provider delivers it, before it is matched to a customer.

    `row` is where it came from (a file's row number) so problems can point at it.
    """

    agency: str
    rated_on: datetime.date
    uscc: str = ""
    customer_name: str = ""
    rating: str = ""
    score: Decimal | None = None
    summary: str = ""
    row: int | None = None


@runtime_checkable
class RatingProvider(Protocol):
    """Where ratings come from. `fetch` yields the reports it has for these customers."""

    name: str

    def fetch(self, customers) -> Iterable[RatingRecord]: ...


_REGISTRY: dict[str, type] = {}


def register_provider(provider_class: type) -> type:
    """Make a provider class selectable by its `name` (usable as a class decorator)."""
    name = getattr(provider_class, "name", "")
    if not name:
        raise ValueError("a rating provider needs a name")
    _REGISTRY[name] = provider_class
    return provider_class


def provider_names() -> list[str]:
    return sorted(_REGISTRY)


def get_provider(name: str, **options) -> RatingProvider:
    try:
        provider_class = _REGISTRY[name]
    except KeyError:
        raise WorkflowError(
            _("未知的评级数据来源“%(name)s”。") % {"name": name}, "config"
        ) from None
    return provider_class(**options)


# --- the shipped provider: a file from the agency ---------------------------------------

COLUMNS: tuple[c.Column, ...] = (
    c.Column("统一社会信用代码", "uscc", aliases=("uscc", "信用代码"), width=22),
    c.Column("客户名称", "customer_name", aliases=("企业名称", "name"), width=28),
    c.Column("评级机构", "agency", required=True, aliases=("agency",)),
    c.Column("报告日期", "rated_on", c.DATE, required=True, aliases=("rated_on", "评级日期")),
    c.Column("评级", "rating", aliases=("rating", "信用等级")),
    c.Column("评分", "score", c.MONEY, aliases=("score",)),
    c.Column("摘要", "summary", aliases=("summary", "报告摘要"), width=40),
)


def _check_row(values: dict) -> list[tuple[str, str]]:
    problems = []
    if not values.get("uscc") and not values.get("customer_name"):
        problems.append(("uscc", _("统一社会信用代码和客户名称至少填写一项。")))
    score = values.get("score")
    if score is not None and not Decimal(0) <= score <= Decimal(100):
        problems.append(("score", _("评分应在0–100之间。")))
    if score is not None and score != score.quantize(Decimal("0.01")):
        problems.append(("score", _("评分最多两位小数。")))
    if not values.get("rating") and score is None:
        problems.append(("rating", _("评级和评分至少填写一项。")))
    if len(values.get("rating") or "") > 20:
        problems.append(("rating", _("评级最多20个字符。")))
    if len(values.get("agency") or "") > 100:
        problems.append(("agency", _("评级机构最多100个字符。")))
    rated_on = values.get("rated_on")
    if rated_on is not None and rated_on > timezone.localdate():
        problems.append(("rated_on", _("报告日期不能晚于今天。")))
    return problems


@register_provider
class FileImportProvider:
    """Reads 统一社会信用代码 or 客户名称, 评级机构, 报告日期, 评级, 评分, 摘要 from CSV/XLSX.

    Problems found while reading are kept in `result`; `fetch` yields only clean rows,
    and `store_ratings` refuses to write anything while `result` holds a problem.
    """

    name = "file"
    label = _("文件导入（CSV/XLSX）")

    def __init__(self, stream=None, filename: str = "", result: TableResult | None = None):
        self.stream = stream
        self.filename = filename
        self.result = result or TableResult(filename=filename)
        self._records: list[RatingRecord] | None = None

    def records(self) -> list[RatingRecord]:
        if self._records is None:
            rows = read_table(self.stream, self.filename, COLUMNS, self.result, _check_row)
            self._records = [
                RatingRecord(
                    agency=row.values["agency"],
                    rated_on=row.values["rated_on"],
                    uscc=normalize_uscc(row.values.get("uscc", "")),
                    customer_name=row.values.get("customer_name", ""),
                    rating=row.values.get("rating", ""),
                    score=row.values.get("score"),
                    summary=row.values.get("summary", ""),
                    row=row.number,
                )
                for row in rows
            ]
        return self._records

    def fetch(self, customers=None) -> Iterable[RatingRecord]:
        """Every report in the file, or those naming one of `customers` (by code or name)."""
        records = self.records()
        if customers is None:
            return list(records)
        codes = {customer.uscc for customer in customers}
        names = {customer.name for customer in customers}
        return [r for r in records if r.uscc in codes or (not r.uscc and r.customer_name in names)]


# --- storing --------------------------------------------------------------------------


def _match(records: list[RatingRecord], user, result: TableResult) -> list[tuple]:
    """(customer, record) pairs; a code decides, the name only when the code is blank."""
    from creditfile.customers.services.visibility import visible_customers

    by_code = customers_by_uscc(user, [r.uscc for r in records])
    names = {r.customer_name for r in records if not r.uscc and r.customer_name}
    by_name: dict[str, list] = {}
    for customer in visible_customers(user).filter(name__in=names):
        by_name.setdefault(customer.name, []).append(customer)
    pairs, seen = [], {}
    for record in records:
        if record.uscc:
            customer = by_code.get(record.uscc)
            if customer is None:
                result.problem(
                    record.row,
                    "统一社会信用代码",
                    _("没有统一社会信用代码为“%(v)s”的客户。") % {"v": record.uscc},
                )
                continue
        else:
            found = by_name.get(record.customer_name, [])
            if len(found) != 1:
                message = (
                    _("没有名称为“%(v)s”的客户。")
                    if not found
                    else _("名称为“%(v)s”的客户有多个，请填写统一社会信用代码。")
                )
                result.problem(record.row, "客户名称", message % {"v": record.customer_name})
                continue
            customer = found[0]
        key = (customer.pk, record.agency, record.rated_on)
        if key in seen:
            result.problem(
                record.row,
                "报告日期",
                _("与第%(n)s行重复：同一客户、同一评级机构、同一报告日期只能有一行。")
                % {"n": seen[key]},
            )
            continue
        seen[key] = record.row
        pairs.append((customer, record))
    return pairs


def store_ratings(
    provider: RatingProvider, user, *, customers=None, dry_run: bool = False
) -> TableResult:
    """Fetch from `provider` and store, all or nothing; a report already stored is updated."""
    if user is not None and not (
        user.has_perm(ADD_PERMISSION) and user.has_perm(CHANGE_PERMISSION)
    ):
        raise PermissionDenied
    result = getattr(provider, "result", None) or TableResult(filename=provider.name)
    result.dry_run = dry_run
    records = list(provider.fetch(customers))
    if result.file_problem:
        return result
    pairs = _match(records, user, result)
    if not result.ok:
        return result
    label = f"ratings:{provider.name}"[:100]
    with acting_as(user=user, label=label, request_id=current_actor().request_id):
        with transaction.atomic():
            for customer, record in pairs:
                _save(customer, record, provider.name, user, result)
            if dry_run:
                transaction.set_rollback(True)
            result.committed = not dry_run
    return result


def _save(customer, record: RatingRecord, provider_name: str, user, result: TableResult) -> None:
    data = {"rating": record.rating, "score": record.score, "summary": record.summary}
    existing = ExternalRating.objects.filter(
        customer=customer, agency=record.agency, rated_on=record.rated_on
    ).first()
    if existing is None:
        ExternalRating.objects.create(
            customer=customer,
            agency=record.agency,
            rated_on=record.rated_on,
            provider=provider_name,
            entered_by=user,
            **data,
        )
        result.created += 1
        return
    changed = [name for name, value in data.items() if getattr(existing, name) != value]
    if not changed:
        result.unchanged += 1
        return
    for name in changed:
        setattr(existing, name, data[name])
    existing.save(update_fields=changed)
    result.updated += 1


def import_ratings_file(stream, filename: str, user, *, dry_run: bool = False) -> TableResult:
    return store_ratings(FileImportProvider(stream, filename), user, dry_run=dry_run)


def template() -> bytes:
    return build_template(
        COLUMNS,
        ["91330106MA2B0X0X0X", "", "某资信评估有限公司", datetime.date(2026, 6, 30), "AA", 82, ""],
    )


# --- by hand ---------------------------------------------------------------------------


@dataclass
class RatingInput:
    agency: str
    rated_on: datetime.date
    rating: str = ""
    score: Decimal | None = None
    summary: str = ""


@transaction.atomic
def add_rating(customer, user, data: RatingInput, report_file=None) -> ExternalRating:
    """A report entered by hand, with the agency's file filed in the customer's documents."""
    require_perm(user, ADD_PERMISSION, _("录入外部评级"))
    if not data.rating and data.score is None:
        raise WorkflowError(_("评级和评分至少填写一项。"), "invalid", "rating")
    if data.score is not None and not Decimal(0) <= data.score <= Decimal(100):
        raise WorkflowError(_("评分应在0–100之间。"), "invalid", "score")
    if ExternalRating.objects.filter(
        customer=customer, agency=data.agency, rated_on=data.rated_on
    ).exists():
        raise WorkflowError(_("该客户已有此评级机构同一日期的报告。"), "invalid", "rated_on")
    report = None
    if report_file is not None:
        try:
            report = add_attachment(
                customer,
                report_file,
                category=REPORT_CATEGORY,
                title=_("%(agency)s 信用评级报告") % {"agency": data.agency},
                document_date=data.rated_on,
                user=user,
            )
        except ValidationError as exc:
            message = "；".join(exc.message_dict.get("file", exc.messages))
            raise WorkflowError(message, "invalid", "report") from exc
    return ExternalRating.objects.create(
        customer=customer,
        agency=data.agency,
        provider="manual",
        rated_on=data.rated_on,
        rating=data.rating,
        score=data.score,
        summary=data.summary,
        report=report,
        entered_by=user,
    )
