"""Aging of receivables 账龄分析 as of any date (R-30), grouped, with drill-down.

Two ways to the same figures. As of a date on or after the ledger's last settlement (no
allocation, write-off or reversal dated later), an invoice's open amount on that date is
the maintained `Invoice.open_base`: one set-based GROUP BY over the partial index of open
invoices, never a walk of the whole ledger, so the summary stays fast at millions of
invoices. As of an earlier date the open amounts are worked out from the documents:
amount − allocations dated by then − write-offs in force then. Both are the same rule
(`open_on`); the tests check that they agree.

Amounts are CNY (`base_*`). Buckets come from the selling company's `CreditControl`
(default: not yet due, 1–30, 31–60, 61–90, 91–180, over 180 days overdue); an invoice due
on the date itself is not yet overdue.
"""

import contextlib
import datetime
import gc
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from creditfile.core.fields import ZERO, MoneyField
from creditfile.core.models import Company, Department, User
from creditfile.customers.models import Customer, Region
from creditfile.receivables.choices import WriteOffStatus
from creditfile.receivables.models import Allocation, CreditControl, Invoice, WriteOff
from creditfile.receivables.validators import DEFAULT_AGING_BUCKETS, parse_bucket_bounds

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
# Write-offs that were in force at some time; a reversed one only until its reversal.
EVER_IN_FORCE = (WriteOffStatus.APPROVED, WriteOffStatus.REVERSED)

GROUPINGS = {
    "customer": gettext_lazy("客户"),
    "owner": gettext_lazy("销售代表"),
    "department": gettext_lazy("部门"),
    "region": gettext_lazy("地区（省）"),
    "grade": gettext_lazy("信用等级"),
}
_GROUP_COLUMN = {
    "customer": "customer_id",
    "owner": "owner_id",
    "department": "department_id",
    "region": "region_id",
    "grade": "credit_grade",
}
NONE_KEY = "none"  # the group of customers without an owner, department, region or grade


class AgingError(ValueError):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Bucket:
    """Days overdue from `low` to `high` (inclusive); `high` None: and more. The first
    bucket (low None) is not yet due: due on the date or later."""

    low: int | None
    high: int | None

    @property
    def label(self) -> str:
        if self.low is None:
            return _("未到期")
        if self.high is None:
            return _("%(days)s天以上") % {"days": self.low - 1}
        return _("%(low)s–%(high)s天") % {"low": self.low, "high": self.high}

    def holds(self, days_overdue: int) -> bool:
        if self.low is None:
            return days_overdue <= 0
        return days_overdue >= self.low and (self.high is None or days_overdue <= self.high)


def buckets_from(bounds: tuple[int, ...]) -> list[Bucket]:
    buckets = [Bucket(None, 0)]
    low = 1
    for high in bounds:
        buckets.append(Bucket(low, high))
        low = high + 1
    buckets.append(Bucket(low, None))
    return buckets


def set_buckets(company: Company, text: str, user) -> list[Bucket]:
    """Set the company's bucket bounds (e.g. "30,60,90,180"); a refused text names why."""
    if not user.has_perm("receivables.change_creditcontrol"):
        raise PermissionDenied
    try:
        bounds = parse_bucket_bounds(text)
    except ValidationError as exc:
        raise AgingError(exc.messages[0], "aging_buckets") from exc
    control = CreditControl.objects.filter(company=company).first() or CreditControl(
        company=company
    )
    control.aging_buckets = ",".join(str(bound) for bound in bounds)
    control.save()
    return buckets_from(bounds)


def buckets_for(company: Company) -> list[Bucket]:
    """The company's buckets (CreditControl.aging_buckets), else the default ones."""
    controls = CreditControl.objects.filter(company=company)
    text = controls.values_list("aging_buckets", flat=True).first()
    return buckets_from(parse_bucket_bounds(text or DEFAULT_AGING_BUCKETS))


@dataclass
class AgingRow:
    """One group's open amounts per bucket, kept in whole cents (exact, and cheap for the
    tens of thousands of rows a report by customer has); Decimal CNY when read."""

    key: str
    label: str
    cents: list[int]
    invoices: int = 0

    @property
    def amounts(self) -> list[Decimal]:
        return [Decimal(value).scaleb(-2) for value in self.cents]

    @property
    def total(self) -> Decimal:
        return Decimal(sum(self.cents)).scaleb(-2)

    @property
    def overdue(self) -> Decimal:
        return Decimal(sum(self.cents[1:])).scaleb(-2)

    def share_of(self, total: Decimal) -> Decimal | None:
        return percent(self.total, total)

    @property
    def overdue_share(self) -> Decimal | None:
        return percent(self.overdue, self.total)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part * HUNDRED / whole).quantize(Decimal("0.1"))


@dataclass
class AgingReport:
    as_of: datetime.date
    company: Company
    group_by: str
    buckets: list[Bucket]
    rows: list[AgingRow] = field(default_factory=list)
    from_documents: bool = False  # True: as of a past date, worked out from the documents

    @property
    def totals(self) -> AgingRow:
        cents = [sum(column) for column in zip(*(row.cents for row in self.rows), strict=True)]
        invoices = sum(row.invoices for row in self.rows)
        return AgingRow("total", _("合计"), cents or [0] * len(self.buckets), invoices)

    @property
    def bucket_shares(self) -> list[Decimal | None]:
        totals = self.totals
        return [percent(amount, totals.total) for amount in totals.amounts]

    @property
    def group_label(self) -> str:
        return str(GROUPINGS[self.group_by])


def settled_after(as_of: datetime.date) -> bool:
    """Whether anything settled, wrote off or reopened an invoice after `as_of`; if not,
    today's open amounts are those of `as_of` (indexes make this two look-ups)."""
    return (
        Allocation.objects.filter(allocated_on__gt=as_of).exists()
        or WriteOff.objects.filter(
            Q(status__in=EVER_IN_FORCE, written_off_on__gt=as_of) | Q(reversed_on__gt=as_of)
        ).exists()
    )


def aging_report(
    as_of: datetime.date,
    *,
    company: Company | None = None,
    group_by: str = "customer",
    customers: QuerySet | None = None,
    from_documents: bool | None = None,
) -> AgingReport:
    """Open receivables as of `as_of` by bucket, one row per group, largest total first.

    `customers` limits the report to those customers (visible_customers(user) for a
    person); None means all. `from_documents` forces the way the open amounts are read
    (tests and the benchmark compare both); by default the fast one whenever it is right.
    """
    if group_by not in GROUPINGS:
        raise AgingError(_("未知的分组方式：%(value)s") % {"value": group_by}, "group")
    company = company or Company.default()
    report = AgingReport(as_of, company, group_by, buckets_for(company))
    report.from_documents = settled_after(as_of) if from_documents is None else from_documents
    sql, params = _summary_sql(report, customers)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if group_by == "customer":
            # One row per customer already (tens of thousands at full size): no roll-up.
            with _without_collections():
                rows = [
                    AgingRow(str(r[0]), r[1] or "", list(r[3:]), int(r[2]))
                    for r in cursor.fetchall()
                ]
                report.rows = _largest_first(rows)
            return report
        fetched = cursor.fetchall()
    report.rows = _largest_first(_rows_by_group(group_by, fetched))
    return report


def _largest_first(rows: list[AgingRow]) -> list[AgingRow]:
    return sorted(rows, key=lambda r: (-sum(r.cents), r.label))


@contextlib.contextmanager
def _without_collections():
    """No garbage collection while the rows by customer are fetched, built and sorted:
    100,000+ new objects set off full collections over every object of the process (up
    to a third of the report's time at 50,000 customers), and none of them is part of a
    cycle. The pause is process-wide, so it covers only that (about a second at most)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _rows_by_group(group_by: str, fetched) -> list[AgingRow]:
    by_key: dict[str, AgingRow] = {}
    for key, label, invoices, *cents in _rolled_up(group_by, fetched):
        row = by_key.get(key)
        if row is None:
            by_key[key] = AgingRow(key, label or "", cents, int(invoices))
        else:  # regions of one province
            row.cents = [a + b for a, b in zip(row.cents, cents, strict=True)]
            row.invoices += int(invoices)
    labels = _labels(group_by, [key for key in by_key if key != NONE_KEY])
    for row in by_key.values():
        row.label = labels.get(row.key) or _none_label(group_by)
    return list(by_key.values())


# --- the summary query ------------------------------------------------------------------


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _cents(expression: str) -> str:
    """SQLite keeps decimals as floating point: add them up as whole cents so totals over
    millions of invoices are exact. PostgreSQL's numeric is exact already."""
    if connection.vendor == "sqlite":
        return f"CAST(ROUND(({expression}) * 100) AS INTEGER)"
    return expression


def _whole_cents(expression: str) -> str:
    """An aggregated amount as whole cents (an integer) on both databases."""
    if connection.vendor == "sqlite":
        return f"COALESCE({expression}, 0)"
    return f"CAST(COALESCE({expression}, 0) * 100 AS BIGINT)"


def _date(value: datetime.date):
    return connection.ops.adapt_datefield_value(value)


def _open_condition(alias: str) -> str:
    """The partial index's own condition, written as its migration wrote it, so SQLite
    sees that the index holds every row the query needs."""
    zero = "'0'" if connection.vendor == "sqlite" else "0"
    return f'{alias}."open_base" > {zero}'


def _open_rows_sql(report: AgingReport) -> tuple[str, list]:
    """(customer_id, due_date, open) of every invoice open on the date."""
    as_of, company_id = _date(report.as_of), report.company.pk
    invoice = _table(Invoice)
    if not report.from_documents:
        # open_base ≥ half a cent is open_amount > 0 (whole cents, rounded half up), tested
        # on the stored column rather than on the computed cents of 1M+ rows.
        return (
            f"SELECT i.customer_id, i.due_date, {_cents('i.open_base')} AS open_amount "
            f"FROM {invoice} i WHERE i.company_id = %s AND {_open_condition('i')} "
            "AND i.open_base >= 0.005 AND i.invoice_date <= %s",
            [company_id, as_of],
        )
    allocation, write_off = _table(Allocation), _table(WriteOff)
    statuses = ", ".join(f"'{status}'" for status in EVER_IN_FORCE)
    sql = f"""
        SELECT i.customer_id, i.due_date,
            {_cents("i.base_amount")} - COALESCE(a.paid, 0) - COALESCE(w.written_off, 0)
            AS open_amount
        FROM {invoice} i
        LEFT JOIN (SELECT invoice_id, SUM({_cents("base_amount")}) AS paid FROM {allocation}
                   WHERE allocated_on <= %s GROUP BY invoice_id) a ON a.invoice_id = i.id
        LEFT JOIN (SELECT invoice_id, SUM({_cents("base_amount")}) AS written_off
                   FROM {write_off}
                   WHERE status IN ({statuses}) AND written_off_on <= %s
                     AND (reversed_on IS NULL OR reversed_on > %s)
                   GROUP BY invoice_id) w ON w.invoice_id = i.id
        WHERE i.company_id = %s AND i.invoice_date <= %s
    """
    return sql, [as_of, as_of, as_of, company_id, as_of]


def _bucket_sums(report: AgingReport) -> tuple[list[str], list]:
    """One SUM … FILTER per bucket on the due date, compared with dates computed here
    (FILTER adds each invoice to its own bucket only; CASE … ELSE 0 adds to all)."""
    parts, params = [], []
    for bucket in report.buckets:
        conditions = []
        if bucket.low is None:
            conditions.append("o.due_date >= %s")
            params.append(_date(report.as_of))
        else:
            conditions.append("o.due_date <= %s")
            params.append(_date(report.as_of - datetime.timedelta(days=bucket.low)))
            if bucket.high is not None:
                conditions.append("o.due_date >= %s")
                params.append(_date(report.as_of - datetime.timedelta(days=bucket.high)))
        parts.append(f"SUM(o.open_amount) FILTER (WHERE {' AND '.join(conditions)})")
    return parts, params


def _summary_sql(report: AgingReport, customers: QuerySet | None) -> tuple[str, list]:
    """Totals per customer first (the index holds the open invoices customer by customer,
    so this streams), then per group: the customer table is read once per customer, not
    once per invoice."""
    rows_sql, rows_params = _open_rows_sql(report)
    sums, sum_params = _bucket_sums(report)
    inner = ", ".join(f"{part} AS b{index}" for index, part in enumerate(sums))
    outer = ", ".join(_whole_cents(f"SUM(g.b{index})") for index in range(len(sums)))
    # The maintained rows are open already (_open_rows_sql); the documents' are worked out.
    where, where_params = (["o.open_amount > 0"] if report.from_documents else []), []
    if customers is not None and customers.query.where:
        scope_sql, scope_params = customers.values("pk").query.sql_with_params()
        where.append(f"o.customer_id IN ({scope_sql})")
        where_params = list(scope_params)
    per_customer = (
        f"SELECT o.customer_id, COUNT(*) AS invoices, {inner} FROM ({rows_sql}) o "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} GROUP BY o.customer_id"
    )
    params = sum_params + rows_params + where_params
    customer = _table(Customer)
    if report.group_by == "customer":
        cents = ", ".join(_whole_cents(f"g.b{index}") for index in range(len(sums)))
        sql = (
            f"SELECT g.customer_id, c.name, g.invoices, {cents} FROM ({per_customer}) g "
            f"JOIN {customer} c ON c.id = g.customer_id"
        )
        return sql, params
    key = f"c.{connection.ops.quote_name(_GROUP_COLUMN[report.group_by])}"
    sql = (
        f"SELECT {key}, NULL, SUM(g.invoices), {outer} FROM ({per_customer}) g "
        f"JOIN {customer} c ON c.id = g.customer_id GROUP BY {key}"
    )
    return sql, params


def _rolled_up(group_by: str, fetched):
    """Rows keyed by text; regions roll up to their province."""
    province = _province_of() if group_by == "region" else {}
    for key, label, invoices, *cents in fetched:
        if key is None or key == "":
            text = NONE_KEY
        elif group_by == "region":
            text = str(province.get(key, key))
        else:
            text = str(key)
        yield text, label, invoices, *cents


def _province_of() -> dict[int, int]:
    parents = dict(Region.objects.values_list("pk", "parent_id"))

    def top(region_id):
        while parents.get(region_id):
            region_id = parents[region_id]
        return region_id

    return {region_id: top(region_id) for region_id in parents}


def _labels(group_by: str, keys: list[str]) -> dict[str, str]:
    if group_by == "grade":
        return {key: key for key in keys}
    ids = [int(key) for key in keys]
    if group_by == "customer":
        pairs = Customer.objects.filter(pk__in=ids).values_list("pk", "name")
    elif group_by == "owner":
        pairs = ((user.pk, str(user)) for user in User.objects.filter(pk__in=ids))
    elif group_by == "department":
        pairs = Department.objects.filter(pk__in=ids).values_list("pk", "name")
    else:
        pairs = Region.objects.filter(pk__in=ids).values_list("pk", "name")
    return {str(pk): label for pk, label in pairs}


def _none_label(group_by: str) -> str:
    return {
        "owner": _("未分配销售代表"),
        "department": _("未分配部门"),
        "region": _("未填地区"),
        "grade": _("未评级"),
    }.get(group_by, "")


# --- open amounts on a date, invoice by invoice ------------------------------------------


def open_on(invoices: QuerySet, as_of: datetime.date) -> QuerySet:
    """The invoices issued by `as_of`, each annotated with `open_at`: what was still open
    on that date (amount − allocations dated by then − write-offs in force then).

    For one customer's or one group's invoices (payment habits, the drill-down); the
    summary over all of them is `aging_report`.
    """
    money = MoneyField()
    paid = (
        Allocation.objects.filter(invoice=OuterRef("pk"), allocated_on__lte=as_of)
        .order_by()
        .values("invoice")
        .annotate(total=Sum("base_amount"))
        .values("total")
    )
    written_off = (
        WriteOff.objects.filter(
            invoice=OuterRef("pk"), status__in=EVER_IN_FORCE, written_off_on__lte=as_of
        )
        .exclude(reversed_on__lte=as_of)
        .order_by()
        .values("invoice")
        .annotate(total=Sum("base_amount"))
        .values("total")
    )
    zero = Value(ZERO, output_field=money)
    return invoices.filter(invoice_date__lte=as_of).annotate(
        open_at=ExpressionWrapper(
            F("base_amount")
            - Coalesce(Subquery(paid, output_field=money), zero)
            - Coalesce(Subquery(written_off, output_field=money), zero),
            output_field=DecimalField(max_digits=18, decimal_places=2),
        )
    )


def _group_filter(group_by: str, key: str) -> Q:
    column = {
        "customer": "customer_id",
        "owner": "customer__owner_id",
        "department": "customer__department_id",
        "region": "customer__region_id",
        "grade": "customer__credit_grade",
    }[group_by]
    if key == NONE_KEY:
        if group_by == "grade":
            return Q(customer__credit_grade="")
        return Q(**{f"{column}__isnull": True})
    if group_by == "grade":
        return Q(customer__credit_grade=key)
    try:
        pk = int(key)
    except ValueError as exc:
        raise AgingError(_("分组值无效：%(value)s") % {"value": key}, "key") from exc
    if group_by == "region":
        province = _province_of()
        return Q(customer__region_id__in=[r for r, top in province.items() if top == pk])
    return Q(**{column: pk})


def group_label(group_by: str, key: str) -> str:
    if key == NONE_KEY:
        return _none_label(group_by)
    return _labels(group_by, [key]).get(key, key)


@dataclass(frozen=True)
class AgedInvoice:
    invoice: Invoice
    open_amount: Decimal
    days_overdue: int
    bucket: int


def aged_invoices(
    as_of: datetime.date,
    group_by: str,
    key: str | None,
    *,
    company: Company | None = None,
    customers: QuerySet | None = None,
) -> QuerySet:
    """The invoices behind one row of the report (`key` None: behind all of them), oldest
    due first, each with `open_at`, its open amount on `as_of`."""
    if group_by not in GROUPINGS:
        raise AgingError(_("未知的分组方式：%(value)s") % {"value": group_by}, "group")
    company = company or Company.default()
    invoices = Invoice.objects.filter(company=company)
    if key is not None:
        invoices = invoices.filter(_group_filter(group_by, key))
    if customers is not None:
        invoices = invoices.filter(customer__in=customers)
    if settled_after(as_of):
        # open_at is exact in cents; the half cent keeps SQLite's floating point honest.
        invoices = open_on(invoices, as_of).filter(open_at__gt=Decimal("0.005"))
    else:
        invoices = invoices.filter(open_base__gt=0, invoice_date__lte=as_of).annotate(
            open_at=F("open_base")
        )
    return invoices.select_related("customer").order_by("due_date", "id")


def age(invoice: Invoice, as_of: datetime.date, buckets: list[Bucket]) -> AgedInvoice:
    """One invoice of `aged_invoices` with its days overdue and bucket on `as_of`."""
    days = (as_of - invoice.due_date).days
    bucket = next(index for index, b in enumerate(buckets) if b.holds(days))
    return AgedInvoice(invoice, Decimal(invoice.open_at).quantize(CENT), max(days, 0), bucket)
