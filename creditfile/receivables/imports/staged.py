"""The invoice CSV import done in SQL: the file is streamed once into a staging table
(COPY on PostgreSQL, executemany on SQLite), checked there, and merged into the ledger
with a few set-based statements (issue 4: 1,000,000 rows, memory flat in file size).

Python touches each row once, to hand the csv module's cells to the database. The
rest is SQL over the whole file at once:

- cells are trimmed, blank and 合计 rows dropped, repeated numbers found (GROUP BY …
  HAVING), and every cell in the plain form an export writes (2026-06-30, 1234.56, a
  known ISO currency with its rate) is typed and its row checked (due date not before
  the invoice date, currency and rate rules);
- a row with any other cell (2026/6/30, "11,300.00", a negative amount, an unknown
  currency, a missing rate …) is read back and checked by the same Python the per-row
  import uses (`RowChecker.parse_row`), so its values or problems are exactly the same;
- customers are matched by credit code, exact name and the source's codes (learned in
  this file from an earlier row that also gave the credit code or name) with joins;
- the merge: identical rows are counted, new invoices without an order for customers
  with no payments waiting are inserted with one INSERT … SELECT (due date from the term
  of the line in force) and their customers' exposures changed once each; changed
  invoices, invoices naming an order and customers with waiting payments go through
  `post_invoices` (services/invoice_batch.py, the ledger's own rules) a batch at a time.

Problems are reported with row, column (as the file heads it) and message, the same
messages as the per-row path (the messages come from validating.py). The caller
(running.py) runs the merge in one transaction and rolls it back when a row was bad and
the user did not choose to skip bad rows.
"""

import datetime
import logging
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import islice
from operator import itemgetter

from django.db import connection, transaction

from creditfile.credit.choices import LineStatus
from creditfile.credit.models import CreditLine
from creditfile.customers.models import Customer
from creditfile.customers.services.visibility import visible_customers
from creditfile.receivables.currencies import ISO_4217
from creditfile.receivables.imports.fields import CUSTOMER_FIELDS
from creditfile.receivables.imports.reading import is_csv
from creditfile.receivables.imports.validating import (
    CODE_CONFLICT,
    NAME_AMBIGUOUS,
    TOTAL_WORDS,
    USCC_UNKNOWN,
    Problem,
    RowChecker,
    customer_message,
    not_found_message,
)
from creditfile.receivables.models import (
    DocumentKind,
    ErpCustomerCode,
    Exposure,
    Invoice,
    Payment,
    SalesOrder,
)
from creditfile.receivables.services.invoice_batch import InvoiceInput, post_invoices
from creditfile.receivables.services.ledger import base_amount

logger = logging.getLogger(__name__)

FIELDS = (
    "number",
    "customer_code",
    "customer_uscc",
    "customer_name",
    "invoice_date",
    "due_date",
    "currency",
    "rate",
    "amount",
    "order_number",
)
TABLES = (
    "cf_stage",
    "cf_typed",
    "cf_dups",
    "cf_good",
    "cf_odd",
    "cf_bad",
    "cf_resolved",
    "cf_plan",
)
LOAD_ROWS = 100_000  # rows per COPY / executemany: progress is saved between them
READ_ROWS = 2_000  # rows read back at a time (odd rows, customer problems, post_invoices)
# What Python's str.strip() removes that an ERP export may contain.
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u3000"


def applies(job) -> bool:
    """Invoices from CSV files take the staged path; XLSX and the other kinds of document
    (payments, credit notes, orders: posted one by one anyway) keep the per-row path."""
    return job.mapping.kind == DocumentKind.INVOICE and is_csv(job.filename)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


class _Dialect:
    """The few expressions PostgreSQL and SQLite write differently."""

    def __init__(self, decimal_comma: bool, date_format: str):
        self.pg = connection.vendor == "postgresql"
        self.decimal_comma = decimal_comma
        self.plain_dates = not date_format  # a mapping's own format: Python reads dates

    def trim(self, column: str) -> str:
        return f"nullif({'btrim' if self.pg else 'trim'}({column}, %s), '')"

    def date(self, c: str) -> str:
        """The date of a cell written YYYY-MM-DD, else NULL (never an error)."""
        if not self.plain_dates:
            return "NULL"
        if self.pg:
            return (
                f"CASE WHEN {c} ~ '^[0-9]{{4}}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'"
                f" AND {c} >= '0001' THEN CASE WHEN substr({c}, 9, 2) <= '28' OR"
                f" substr({c}, 9, 2)::int <= extract(day from (substr({c}, 1, 8) || '01')::date"
                f" + interval '1 month - 1 day') THEN {c}::date END END"
            )
        return (
            f"CASE WHEN {c} GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'"
            # date() alone keeps 2026-02-30; a modifier makes it count on to March.
            f" AND {c} >= '0001' AND date({c}, '+0 days') = {c} THEN {c} END"
        )

    def number(self, c: str, digits: int, places: int, positive: bool = False) -> str:
        """A plain non-negative decimal (up to `digits`.`places`), else NULL."""
        if self.decimal_comma:
            places = 0  # 1.234 means 1234 there: Python reads it
        if self.pg:
            pattern = f"^[0-9]{{1,{digits}}}" + (f"(\\.[0-9]{{1,{places}}})?$" if places else "$")
            test = f" AND {c}::numeric > 0" if positive else ""
            typed = f"CASE WHEN true{test} THEN {c}::numeric END"
            return f"CASE WHEN {c} ~ '{pattern}' THEN {typed} END"
        too_many = "[0-9]" * (places + 1)
        checks = [
            f"{c} GLOB '[0-9]*'",
            f"{c} NOT GLOB '*[^0-9.]*'" if places else f"{c} NOT GLOB '*[^0-9]*'",
            f"{c} NOT GLOB '*.*.*'",
            f"{c} NOT GLOB '*.'",
            f"{c} NOT GLOB '*.{too_many}*'",
            f"(instr({c}, '.') = 0 AND length({c}) <= {digits}"
            f" OR instr({c}, '.') BETWEEN 2 AND {digits + 1})",
        ]
        if positive:
            checks.append(f"CAST({c} AS REAL) > 0")
        return f"CASE WHEN {' AND '.join(checks)} THEN {c} END"

    def is_one(self, expression: str) -> str:
        return f"{expression} = 1" if self.pg else f"CAST({expression} AS REAL) = 1"

    def base(self, amount: str, rate: str) -> str:
        """The amount in CNY; `rate` NULL: a CNY row without a rate."""
        if self.pg:
            return f"round({amount} * coalesce({rate}, 1), 2)"
        # SQLite has no decimal type: the product is Python's Decimal (cf_base), called
        # only for rows with a rate.
        return f"CASE WHEN {rate} IS NULL THEN {amount} ELSE cf_base({amount}, {rate}) END"

    def one(self) -> str:
        return "1" if self.pg else "'1'"

    def plus_days(self, date: str, days: str) -> str:
        if self.pg:
            return f"({date} + {days})"
        return f"date({date}, '+' || ({days}) || ' days')"

    def types(self) -> tuple[str, str]:
        """(date, decimal) column types of the work tables: SQLite keeps the text."""
        return ("date", "numeric") if self.pg else ("text", "text")


def _sqlite_base(amount, rate) -> str:
    return str(base_amount(Decimal(str(amount)), Decimal(str(rate))))


class StagedInvoices:
    """One CSV file of invoices on its way through the work tables of this connection."""

    def __init__(self, mapping, user, checker: RowChecker):
        self.mapping = mapping
        self.user = user
        self.checker = checker
        self.sql = _Dialect(mapping.decimal_comma, mapping.date_format)
        self.mapped = [name for name in checker.positions if name in FIELDS]
        self.rows = 0
        self.bad = 0
        self.counts = {"created": 0, "updated": 0, "unchanged": 0}

    # -- work tables ------------------------------------------------------------------------

    def _execute(self, sql: str, params=()) -> int:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            count = cursor.rowcount
        logger.debug("%.2f s, %s rows: %s", time.perf_counter() - started, count, sql[:70])
        return count

    def drop(self) -> None:
        for table in TABLES:
            self._execute(f"DROP TABLE IF EXISTS {'pg_temp' if self.sql.pg else 'temp'}.{table}")

    def drop_quietly(self) -> None:
        """The work tables gone (they are the connection's own and would outlive the job);
        a broken connection takes them with it, so a failure here is only logged."""
        try:
            self.drop()
        except Exception:
            logger.warning("import work tables not dropped", exc_info=True)

    def _create(self) -> None:
        self.drop()
        date, decimal = self.sql.types()
        cells = ", ".join(f"{name} text" for name in self.mapped)
        self._execute(f"CREATE TEMP TABLE cf_stage (row_no integer, {cells})")
        self._execute("CREATE TEMP TABLE cf_bad (row_no integer PRIMARY KEY)")
        self._execute(
            "CREATE TEMP TABLE cf_good (row_no integer PRIMARY KEY, number text,"
            " customer_code text, customer_uscc text, customer_name text,"
            f" invoice_date {date}, due_date {date}, amount {decimal}, currency text,"
            f" rate {decimal}, order_number text, base {decimal})"
        )
        if not self.sql.pg:
            connection.connection.create_function("cf_base", 2, _sqlite_base, deterministic=True)

    # -- 1. the file into the staging table ------------------------------------------------

    def load(self, rows: Iterator[tuple[int, list]], progress: Callable[[int], None]) -> None:
        """Stream the file's rows (numbered, not stripped) into cf_stage."""
        self._create()
        indexes = [self.checker.positions[name] for name in self.mapped]
        pick = itemgetter(*indexes) if len(indexes) > 1 else (lambda v: (v[indexes[0]],))

        def cells() -> Iterator[tuple]:
            for number, values in rows:
                try:
                    yield (number, *pick(values))
                except IndexError:  # a short row (a 合计 line, a blank line)
                    yield (number, *(values[i] if i < len(values) else "" for i in indexes))

        stream = cells()
        connection.ensure_connection()
        raw = connection.connection
        names = ", ".join(("row_no", *self.mapped))
        with connection.wrap_database_errors:
            while True:
                before = self.rows
                chunk = islice(stream, LOAD_ROWS)
                cursor = raw.cursor()
                try:
                    if self.sql.pg:
                        with cursor.copy(f"COPY cf_stage ({names}) FROM STDIN") as copy:
                            for row in chunk:
                                copy.write_row(row)
                                self.rows += 1
                    else:  # one transaction per chunk, not one per row
                        marks = ", ".join("?" * (len(self.mapped) + 1))
                        with transaction.atomic():
                            cursor.executemany(
                                f"INSERT INTO cf_stage ({names}) VALUES ({marks})",
                                self._count(chunk),
                            )
                finally:
                    cursor.close()
                if self.rows == before:
                    break
                progress(self.rows)

    def _count(self, chunk):
        for row in chunk:
            self.rows += 1
            yield row

    # -- 2. checking --------------------------------------------------------------------

    def _rows_sql(self) -> tuple[str, list]:
        """The staged rows that are data (not blank, not 合计), their cells trimmed."""
        columns, params = [], []
        for name in FIELDS:
            if name in self.mapped:
                columns.append(f"{self.sql.trim(name)} AS {name}")
                params.append(WHITESPACE)
            else:
                columns.append(f"CAST(NULL AS text) AS {name}")
        present = [name for name in FIELDS if name in self.mapped]
        all_blank = " AND ".join(f"{name} IS NULL" for name in present)
        words = ", ".join(f"'{word}'" for word in sorted(TOTAL_WORDS))
        total = " OR ".join(
            f"coalesce(lower(replace({name}, ' ', '')) IN ({words}), false)" for name in present
        )
        sql = (
            f"SELECT * FROM (SELECT row_no, {', '.join(columns)} FROM cf_stage) t"
            f" WHERE NOT ({all_blank}) AND NOT (number IS NULL AND ({total}))"
        )
        return sql, params

    def check(self) -> Iterator[list[Problem]]:
        """Every problem the file shows, a few rows at a time, in row order within each
        of the two kinds (the cells, then the customers)."""
        self._typed_rows()
        self._execute(
            "CREATE TEMP TABLE cf_dups AS SELECT number, min(row_no) AS first_row"
            " FROM cf_typed WHERE number IS NOT NULL GROUP BY number HAVING count(*) > 1"
        )
        self._good()
        yield from self._odd_rows()
        self._execute("ANALYZE cf_good")
        yield from self._customers()

    def _typed_rows(self) -> None:
        """cf_typed: the data rows, trimmed, with the value of every cell written in the
        plain form (NULL where it is not), each expression evaluated once per row."""
        sql = self.sql
        rows, params = self._rows_sql()
        self._execute(
            f"CREATE TEMP TABLE cf_typed AS WITH r AS MATERIALIZED ({rows})"
            f" SELECT r.*, {sql.date('invoice_date')} AS inv, {sql.date('due_date')} AS due,"
            f" {sql.number('amount', 13, 2)} AS amt, upper(coalesce(currency, 'CNY')) AS cur,"
            f" {sql.number('rate', 6, 6, positive=True)} AS rt FROM r",
            params,
        )

    def _good(self) -> None:
        """cf_good: the rows whose cells are all plain and pass the row's rules."""
        sql = self.sql
        codes = sorted(ISO_4217)
        in_codes = ", ".join(["%s"] * len(codes))
        self._execute(
            "INSERT INTO cf_good SELECT t.row_no, t.number, customer_code,"
            " upper(replace(customer_uscc, ' ', '')), customer_name, inv, due, amt, cur,"
            f" coalesce(rt, {sql.one()}), order_number, {sql.base('amt', 'rt')}"
            " FROM cf_typed t LEFT JOIN cf_dups d ON d.number = t.number"
            " WHERE (d.number IS NULL OR d.first_row = t.row_no)"
            " AND t.number IS NOT NULL AND length(t.number) <= 60"
            " AND (customer_code IS NOT NULL OR customer_uscc IS NOT NULL"
            " OR customer_name IS NOT NULL)"
            " AND inv IS NOT NULL AND (due_date IS NULL OR due >= inv)"
            f" AND amt IS NOT NULL AND cur IN ({in_codes})"
            f" AND (rate IS NULL AND cur = 'CNY' OR rt IS NOT NULL"
            f" AND (cur <> 'CNY' OR {sql.is_one('rt')}))",
            codes,
        )

    def _odd_rows(self) -> Iterator[list[Problem]]:
        """The rows SQL did not take: checked in Python, cell by cell, as ever."""
        checker = self.checker
        order = list(checker.positions)  # file order: problems left to right
        cells = ", ".join(f"t.{name}" for name in FIELDS)
        self._execute(
            f"CREATE TEMP TABLE cf_odd AS SELECT t.row_no, {cells}, d.first_row FROM cf_typed t"
            " LEFT JOIN cf_dups d ON d.number = t.number"
            " WHERE NOT EXISTS (SELECT 1 FROM cf_good g WHERE g.row_no = t.row_no)"
        )
        self._execute("CREATE INDEX cf_odd_row ON cf_odd (row_no)")
        last = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT * FROM cf_odd WHERE row_no > %s ORDER BY row_no LIMIT %s",
                    [last, READ_ROWS],
                )
                found = cursor.fetchall()
            if not found:
                return
            good, problems = [], []
            for row_no, *cells, first_row in found:
                values = dict(zip(FIELDS, cells, strict=True))
                first = first_row if first_row is not None and first_row < row_no else None
                parsed = checker.parse_row(row_no, {name: values[name] for name in order}, first)
                if isinstance(parsed, list):
                    problems.extend(parsed)
                else:
                    good.append(self._typed(row_no, parsed))
            last = found[-1][0]
            self._insert_good(good)
            self._mark_bad({p.row for p in problems})
            yield problems

    def _typed(self, row_no: int, values: dict) -> tuple:
        amount, rate = values["amount"], values.get("rate", Decimal(1))
        row = (
            row_no,
            values["number"],
            values.get("customer_code"),
            values.get("customer_uscc"),
            values.get("customer_name"),
            values["invoice_date"],
            values.get("due_date"),
            amount,
            values.get("currency", "CNY"),
            rate,
            values.get("order_number"),
            base_amount(amount, rate),
        )
        if self.sql.pg:
            return row
        return tuple(
            str(value) if isinstance(value, Decimal | datetime.date) else value for value in row
        )

    def _insert_good(self, rows: list[tuple]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO cf_good VALUES ({', '.join(['%s'] * 12)})", rows)

    def _mark_bad(self, rows: set[int]) -> None:
        if rows:
            self.bad += len(rows)
            with connection.cursor() as cursor:
                cursor.executemany("INSERT INTO cf_bad VALUES (%s)", [(row,) for row in rows])

    def _customers(self) -> Iterator[list[Problem]]:
        """Match the good rows' customers among those the importer may see; a source's
        code is learned from the first row that gives it with the credit code or name."""
        visible_ids = visible_customers(self.user).order_by().values("id")
        visible, visible_params = visible_ids.query.sql_with_params()
        customer, codes = _table(Customer), _table(ErpCustomerCode)
        uscc, name = _column(Customer, "uscc"), _column(Customer, "name")
        self._execute(
            "CREATE TEMP TABLE cf_resolved AS WITH v AS (" + visible + "),"
            " d AS (SELECT g.row_no, g.customer_code, g.customer_uscc, g.customer_name,"
            " CASE WHEN g.customer_uscc IS NOT NULL THEN u.id"
            " WHEN g.customer_name IS NOT NULL AND n.cnt = 1 THEN n.id END AS direct_id,"
            " CASE WHEN g.customer_uscc IS NULL THEN coalesce(n.cnt, 0) ELSE 0 END AS names,"
            " k.customer_id AS code_id FROM cf_good g"
            f" LEFT JOIN (SELECT {uscc} AS uscc, max(id) AS id FROM {customer}"
            f" WHERE id IN (SELECT id FROM v) AND {uscc} <> '' GROUP BY {uscc}) u"
            " ON u.uscc = g.customer_uscc"
            f" LEFT JOIN (SELECT {name} AS name, min(id) AS id, count(*) AS cnt FROM {customer}"
            f" WHERE id IN (SELECT id FROM v) GROUP BY {name}) n"
            " ON g.customer_uscc IS NULL AND n.name = g.customer_name"
            f" LEFT JOIN (SELECT code, customer_id FROM {codes} WHERE source = %s"
            " AND customer_id IN (SELECT id FROM v)) k ON k.code = g.customer_code"
            " WHERE NOT EXISTS (SELECT 1 FROM cf_bad b WHERE b.row_no = g.row_no)),"
            " l AS (SELECT d.customer_code, d.row_no AS learn_row, d.direct_id AS learned_id"
            " FROM d JOIN (SELECT customer_code, min(row_no) AS first_row FROM d"
            " WHERE customer_code IS NOT NULL AND code_id IS NULL AND direct_id IS NOT NULL"
            " GROUP BY customer_code) f ON f.first_row = d.row_no)"
            " SELECT d.row_no, d.customer_code, d.customer_uscc, d.customer_name,"
            " d.direct_id, d.names,"
            " coalesce(d.code_id, CASE WHEN l.learn_row < d.row_no THEN l.learned_id END)"
            " AS known_id, CASE WHEN l.learn_row = d.row_no THEN 1 ELSE 0 END AS learned"
            " FROM d LEFT JOIN l ON l.customer_code = d.customer_code",
            [*visible_params, self.mapping.source],
        )
        self._execute("CREATE INDEX cf_resolved_row ON cf_resolved (row_no)")
        self._execute("ANALYZE cf_resolved")
        header = self.checker.header_of
        last = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT row_no, customer_code, customer_uscc, customer_name, direct_id,"
                    " names, known_id FROM cf_resolved WHERE row_no > %s AND ("
                    "customer_uscc IS NOT NULL AND direct_id IS NULL OR names > 1"
                    " OR known_id <> direct_id OR coalesce(direct_id, known_id) IS NULL)"
                    " ORDER BY row_no LIMIT %s",
                    [last, READ_ROWS],
                )
                found = cursor.fetchall()
            if not found:
                return
            others = Customer.objects.in_bulk({row[6] for row in found if row[6]})
            problems = []
            for row, code, uscc, name, direct, names, known in found:
                if uscc is not None and direct is None:
                    problem = ("customer_uscc", customer_message(USCC_UNKNOWN, uscc))
                elif uscc is None and names > 1:
                    message = customer_message(NAME_AMBIGUOUS, name, count=names)
                    problem = ("customer_name", message)
                elif known is not None and direct is not None:
                    message = customer_message(CODE_CONFLICT, code, other=others[known].name)
                    problem = ("customer_code", message)
                else:
                    column = "customer_name" if name else "customer_code"
                    problem = (column, not_found_message(code, name))
                column, message = problem
                problems.append(Problem(row, header.get(column, ""), message))
            last = found[-1][0]
            self._mark_bad({p.row for p in problems})
            yield problems

    # -- 3. writing --------------------------------------------------------------------------

    def write(self, company, now, *, refusing: bool, header: Callable[[str], str], progress):
        """Merge the good rows into the ledger; the ledger's refusals as problems. Must run
        in the caller's transaction. `refusing`: the file is refused anyway, so only the
        rows the ledger could refuse are tried (to name them), nothing else is written."""
        self._plan(company)
        with connection.cursor() as cursor:
            cursor.execute("SELECT action, count(*) FROM cf_plan GROUP BY action")
            actions = dict(cursor.fetchall())
        self.counts["unchanged"] = actions.get("same", 0)
        done = actions.get("same", 0)
        if not refusing and actions.get("new"):
            self.counts["created"] += self._insert_new(company, now)
            done += actions["new"]
        progress(done)
        problems = []
        for chunk_problems, chunk_rows in self._post(company, header):
            problems.extend(chunk_problems)
            done += chunk_rows
            progress(done)
        self._mark_bad({p.row for p in problems})
        if not refusing:
            self._learn_codes()
        return problems

    def _plan(self, company) -> None:
        invoice, order, payment = _table(Invoice), _table(SalesOrder), _table(Payment)
        self._execute(
            "CREATE TEMP TABLE cf_plan AS SELECT g.row_no,"
            " coalesce(r.direct_id, r.known_id) AS customer_id,"
            " CASE WHEN i.id IS NOT NULL AND i.customer_id = coalesce(r.direct_id, r.known_id)"
            " AND i.amount = g.amount AND i.currency = g.currency AND i.rate = g.rate"
            " AND i.invoice_date = g.invoice_date"
            " AND (g.due_date IS NULL OR i.due_date = g.due_date)"
            " AND coalesce(o.number, '') = coalesce(g.order_number, '') THEN 'same'"
            " WHEN i.id IS NULL AND g.order_number IS NULL AND w.customer_id IS NULL"
            " THEN 'new' ELSE 'post' END AS action"
            " FROM cf_good g JOIN cf_resolved r ON r.row_no = g.row_no"
            f" LEFT JOIN {invoice} i ON i.company_id = %s AND i.source = %s"
            " AND i.number = g.number"
            f" LEFT JOIN {order} o ON o.id = i.order_id"
            f" LEFT JOIN (SELECT DISTINCT customer_id FROM {payment} WHERE company_id = %s"
            " AND unallocated_base > 0) w ON w.customer_id = coalesce(r.direct_id, r.known_id)"
            " WHERE NOT EXISTS (SELECT 1 FROM cf_bad b WHERE b.row_no = g.row_no)",
            [company.pk, self.mapping.source, company.pk],
        )
        self._execute("CREATE INDEX cf_plan_row ON cf_plan (row_no)")
        self._execute("ANALYZE cf_plan")

    def _insert_new(self, company, now) -> int:
        sql = self.sql
        invoice, exposure, line = _table(Invoice), _table(Exposure), _table(CreditLine)
        term = (
            f"(SELECT l.term_days FROM {line} l WHERE l.customer_id = p.customer_id"
            " AND l.company_id = %s AND l.status = %s AND l.valid_from <= g.invoice_date"
            " AND (l.valid_until IS NULL OR l.valid_until >= g.invoice_date)"
            " ORDER BY l.granted_at DESC LIMIT 1)"
        )
        due = f"coalesce(g.due_date, {sql.plus_days('g.invoice_date', f'coalesce({term}, 0)')})"
        created = self._execute(
            f"INSERT INTO {invoice} (company_id, customer_id, source, number, currency, rate,"
            " amount, base_amount, created_at, updated_at, invoice_date, due_date, open_base,"
            " order_base, settled_on)"
            " SELECT %s, p.customer_id, %s, g.number, g.currency, g.rate, g.amount, g.base,"
            f" %s, %s, g.invoice_date, {due}, g.base, 0, NULL"
            " FROM cf_plan p JOIN cf_good g ON g.row_no = p.row_no WHERE p.action = 'new'"
            " ORDER BY p.row_no",
            [company.pk, self.mapping.source, now, now, company.pk, LineStatus.ACTIVE],
        )
        new_customers = "SELECT DISTINCT customer_id FROM cf_plan WHERE action = 'new'"
        self._execute(
            f"INSERT INTO {exposure} (company_id, customer_id, open_receivables, open_orders,"
            f" delivered_orders, updated_at) SELECT %s, c.customer_id, 0, 0, 0, %s"
            f" FROM ({new_customers}) c WHERE NOT EXISTS (SELECT 1 FROM {exposure} e"
            " WHERE e.customer_id = c.customer_id AND e.company_id = %s)"
            " ON CONFLICT DO NOTHING",
            [company.pk, now, company.pk],
        )
        if sql.pg:  # every exposure row of these customers, in id order, as a posting does
            self._execute(
                f"SELECT id FROM {exposure} WHERE customer_id IN ({new_customers})"
                " ORDER BY id FOR UPDATE"
            )
            total = "sum(g.base)"
        else:  # whole cents, so the sum is exact
            total = "sum(CAST(round(g.base * 100) AS INTEGER)) / 100.0"
        self._execute(
            f"UPDATE {exposure} SET open_receivables = round(open_receivables + s.total, 2),"
            f" updated_at = %s FROM (SELECT p.customer_id, {total} AS total FROM cf_plan p"
            " JOIN cf_good g ON g.row_no = p.row_no WHERE p.action = 'new'"
            f" GROUP BY p.customer_id) s WHERE {exposure}.customer_id = s.customer_id"
            f" AND {exposure}.company_id = %s",
            [now, company.pk],
        )
        return created

    def _post(self, company, header) -> Iterator[tuple[list[Problem], int]]:
        """Changed invoices, invoices naming an order, customers with waiting payments:
        through the ledger's batch posting, in the file's order."""
        last = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT g.row_no, p.customer_id, g.number, g.invoice_date, g.amount,"
                    " g.currency, g.rate, g.due_date, g.order_number FROM cf_plan p"
                    " JOIN cf_good g ON g.row_no = p.row_no"
                    " WHERE p.action = 'post' AND g.row_no > %s ORDER BY g.row_no LIMIT %s",
                    [last, READ_ROWS],
                )
                found = cursor.fetchall()
            if not found:
                return
            customers = Customer.objects.in_bulk({row[1] for row in found})
            invoices = [
                InvoiceInput(
                    customer=customers[customer_id],
                    number=number,
                    invoice_date=_date(day),
                    amount=Decimal(str(amount)).quantize(Decimal("0.01")),
                    currency=currency,
                    rate=Decimal(str(rate)),
                    due_date=_date(due) if due else None,
                    order_number=order or "",
                )
                for _row, customer_id, number, day, amount, currency, rate, due, order in found
            ]
            result = post_invoices(company, self.mapping.source, invoices)
            self.counts["created"] += len(result.created)
            self.counts["updated"] += len(result.updated)
            problems = [
                Problem(found[position][0], header(error.field), str(error))
                for position, error in result.refused
            ]
            last = found[-1][0]
            yield sorted(problems, key=lambda problem: problem.row), len(found)

    def _learn_codes(self) -> None:
        codes = _table(ErpCustomerCode)
        self._execute(
            f"INSERT INTO {codes} (source, code, customer_id)"
            " SELECT %s, customer_code, coalesce(direct_id, known_id) FROM cf_resolved r"
            " WHERE learned = 1 AND NOT EXISTS (SELECT 1 FROM cf_bad b WHERE b.row_no = r.row_no)"
            " ON CONFLICT DO NOTHING",
            [self.mapping.source],
        )


def _date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


__all__ = ["CUSTOMER_FIELDS", "StagedInvoices", "applies"]
