"""Everything the order check reads about a customer, in one query (issue 4 benchmark).

An ERP asks for a credit check on every order, so the check is the system's hottest
path. Built with the ORM it took ~15 queries, and Django spent about 0.5 ms of Python
composing each one — far more than the database spent answering. `read` asks the same
questions in one hand-written `UNION ALL` (one row per fact, every column as text so
both databases accept the union): the lines in force with their temporary amounts and
whether the grade's terms count securities, the securities in force, the open overdue
balances per due date (added up here, past the tolerance the settings in the same query
give), blacklist and blocking-measure counts, the company's check settings and whether
the order exists.

It must run after `exposure.locked_exposures(…)`: every change to these rows' ledger
happens under the customer's exposure lock, so a query started after the lock sees all
that the previous holder committed (PostgreSQL's READ COMMITTED takes a new snapshot
per statement; SQLite's IMMEDIATE transaction holds the write lock throughout).

What the facts mean stays with the rules: `checks.reasons_against` decides, and
`credit.services.lines.available_limit` adds up the limit from the line (the values read
here are set on the line exactly as `lines_in_force` sets `temporary_on_date`). The tests
compare the facts with the ORM functions they replace.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import BooleanField

from creditfile.core.fields import ZERO
from creditfile.core.services import rows as model_rows
from creditfile.credit.choices import BlacklistState, LineStatus
from creditfile.credit.models import (
    BlacklistEntry,
    CreditLine,
    CreditSecurity,
    GradeTerms,
    Measure,
    TemporaryLimit,
)
from creditfile.credit.services.lines import headroom_of
from creditfile.receivables.models import CreditControl, Invoice, SalesOrder
from creditfile.receivables.services.exposure import Overdue

CENT = Decimal("0.01")
CONTROL_FIELDS = [f for f in CreditControl._meta.concrete_fields if f.name != "company"]
WIDTH = max(8, len(CONTROL_FIELDS) + 1)  # columns of every row of the union


@dataclass
class CheckFacts:
    line: CreditLine | None
    group: CreditLine | None
    overdue: Overdue  # everything past due
    beyond: Overdue  # past due by more than the company's tolerated days
    listed: bool  # an entry on the blacklist in state "listed"
    blocking_measures: int  # measures of BLOCKING_MEASURES in force
    control: CreditControl
    order_id: int | None  # the order (company, source, number), if it exists


def _money(text) -> Decimal:
    # SQLite keeps decimals as REAL; a sum can come back as 1234.5699999: whole cents.
    return ZERO if text is None else Decimal(text).quantize(CENT)


def _date(text) -> datetime.date | None:
    return None if text is None else datetime.date.fromisoformat(text[:10])


def _flag(text) -> bool:
    return str(text).lower() in ("1", "true", "t")


def _row(kind: str, *columns: str) -> str:
    cells = [f"'{kind}'"] + [f"CAST({c} AS TEXT)" for c in columns]
    cells += ["CAST(NULL AS TEXT)"] * (WIDTH + 1 - len(cells))
    return "SELECT " + ", ".join(cells)


def _sql(blocking_kinds) -> str:
    q = connection.ops.quote_name
    line, temp = CreditLine._meta.db_table, TemporaryLimit._meta.db_table
    terms, security = GradeTerms._meta.db_table, CreditSecurity._meta.db_table
    invoice, listed = Invoice._meta.db_table, BlacklistEntry._meta.db_table
    measure, control = Measure._meta.db_table, CreditControl._meta.db_table
    order = SalesOrder._meta.db_table
    kinds = ", ".join(["%s"] * len(blocking_kinds))
    # PostgreSQL writes a date as text in the session's DateStyle: ask for ISO.
    due_date = (
        "to_char(i.due_date, 'YYYY-MM-DD')" if connection.vendor == "postgresql" else "i.due_date"
    )
    return "\nUNION ALL\n".join(
        [
            _row(
                "line",
                "l.id",
                "l.company_id",
                f"l.{q('limit')}",
                "l.cash_on_delivery",
                "l.policy_id",
                "l.grade",
                f"(SELECT SUM(t.amount) FROM {temp} t WHERE t.line_id = l.id"
                " AND t.valid_from <= %(day)s AND t.valid_until >= %(day)s)",
                f"(SELECT g.security_counts_as_headroom FROM {terms} g"
                " WHERE g.policy_id = l.policy_id AND g.grade = l.grade ORDER BY g.id LIMIT 1)",
            )
            + f" FROM {line} l WHERE l.customer_id = %(customer)s AND l.status = %(active)s"
            " AND (l.company_id = %(company)s OR l.company_id IS NULL)"
            " AND l.valid_from <= %(day)s AND (l.valid_until IS NULL OR l.valid_until >= %(day)s)",
            _row("security", "s.amount", "s.coverage_percent")
            + f" FROM {security} s WHERE s.customer_id = %(customer)s"
            " AND s.valid_from <= %(day)s AND (s.valid_until IS NULL OR s.valid_until >= %(day)s)",
            _row("due", due_date, "SUM(i.open_base)")
            + f" FROM {invoice} i WHERE i.customer_id = %(customer)s"
            " AND i.company_id = %(company)s AND i.open_base > 0 AND i.due_date < %(day)s"
            " GROUP BY i.due_date",
            _row("listed", "COUNT(*)")
            + f" FROM {listed} b WHERE b.customer_id = %(customer)s AND b.state = %(listed)s",
            _row("measures", "COUNT(*)") + f" FROM {measure} m WHERE m.customer_id = %(customer)s"
            f" AND m.kind IN ({kinds}) AND m.effective_from <= %(day)s"
            " AND (m.ended_on IS NULL OR m.ended_on > %(day)s)",
            _row("control", *(f"c.{q(f.column)}" for f in CONTROL_FIELDS))
            + f" FROM {control} c WHERE c.company_id = %(company)s",
            _row("order", "o.id")
            + f" FROM {order} o WHERE o.company_id = %(company)s AND o.source = %(source)s"
            " AND o.number = %(number)s",
        ]
    )


_cache: dict[tuple, str] = {}


def read(
    customer_id: int,
    company_id: int,
    on_date: datetime.date,
    source: str,
    number: str,
    blocking_kinds,
) -> CheckFacts:
    """The facts of one check of order (company, source, number) for the customer."""
    key = (connection.vendor, tuple(blocking_kinds))
    if key not in _cache:
        # Named parameters are %(name)s on both backends; the IN list is positional, so
        # it is spelled out as named ones too.
        sql = _sql(blocking_kinds)
        for index in range(len(blocking_kinds)):
            sql = sql.replace("%s", f"%(kind{index})s", 1)
        _cache[key] = sql
    params = {
        "customer": customer_id,
        "company": company_id,
        "day": on_date,
        "active": LineStatus.ACTIVE,
        "listed": BlacklistState.LISTED,
        "source": source,
        "number": number,
        **{f"kind{index}": kind for index, kind in enumerate(blocking_kinds)},
    }
    with model_rows.cursor() as cursor:
        cursor.execute(_cache[key], params)
        rows = cursor.fetchall()
    return _facts(rows, customer_id, company_id, on_date)


def _facts(rows, customer_id: int, company_id: int, on_date: datetime.date) -> CheckFacts:
    lines, securities, due = [], [], []
    listed, measures, order_id = False, 0, None
    control = CreditControl(company_id=company_id)
    for row in rows:
        kind = row[0]
        if kind == "line":
            line = CreditLine(
                id=int(row[1]),
                customer_id=customer_id,
                company_id=None if row[2] is None else int(row[2]),
                limit=_money(row[3]),
                cash_on_delivery=_flag(row[4]),
                policy_id=None if row[5] is None else int(row[5]),
                grade=row[6],
            )
            line.temporary_on_date = None if row[7] is None else _money(row[7])
            # None: the policy has no terms for the grade (available_limit: not counted).
            line.security_counts_on_date = None if row[8] is None else _flag(row[8])
            lines.append(line)
        elif kind == "security":
            securities.append((_money(row[1]), Decimal(row[2])))
        elif kind == "due":
            due.append((_date(row[1]), _money(row[2])))
        elif kind == "listed":
            listed = int(row[1]) > 0
        elif kind == "measures":
            measures = int(row[1])
        elif kind == "control":
            for index, field_ in enumerate(CONTROL_FIELDS, start=1):
                value = _flag(row[index]) if isinstance(field_, BooleanField) else row[index]
                setattr(control, field_.attname, field_.to_python(value))
            control._state.adding = False
        elif kind == "order":
            order_id = int(row[1])
    # What `exposure.overdue_and_beyond` adds up, from the open balances per due date.
    cutoff = on_date - datetime.timedelta(days=control.overdue_tolerance_days or 0)
    late = [(day, amount) for day, amount in due if day < cutoff]
    headroom = headroom_of(securities)
    for one in lines:
        one.security_headroom_on_date = headroom
    line = group = None
    for row in sorted(lines, key=lambda one: one.id):  # as lines_in_force: lowest id first
        if row.company_id is None:
            group = group or row
        else:
            line = line or row
    return CheckFacts(
        line=line,
        group=group,
        overdue=Overdue(sum((a for _d, a in due), ZERO), min((d for d, _a in due), default=None)),
        beyond=Overdue(sum((a for _d, a in late), ZERO), min((d for d, _a in late), default=None)),
        listed=listed,
        blocking_measures=measures,
        control=control,
        order_id=order_id,
    )
