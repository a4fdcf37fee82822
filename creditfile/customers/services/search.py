"""The one search box of the customer list: name fragment, pinyin, credit code or phone.

`search_customers(queryset, q)` returns the customers of `queryset` that match every
whitespace-separated term of `q` (a phone number may contain spaces). What a term matches
depends on what it looks like:

- Chinese (or other non-ASCII) text: a fragment of the name, any length.
- ASCII letters: a fragment of the name, of the pinyin initials (`hxkj` → 华信科技…) or of
  the full pinyin (`huaxin`).
- digits: a fragment of the customer's phone or of any contact's phone or mobile
  (separators ignored), of the name, or — from 6 digits — the start of the credit code.
- letters and digits that can be a credit code: the code (18 characters) or its start.
- Chinese mixed with letters (`华信kj`): names containing every Chinese part whose pinyin
  initials or pinyin contain the term read as pinyin (华信kj → hxkj / huaxinkj).

Matching ignores ASCII case. The result is always exactly what a substring scan would
find; the indexes of services/search_index.py only make it fast, and the query is a plain
filter, so it composes with visibility, other filters, ordering and slicing.
"""

import re
import string
import time
from contextvars import ContextVar

from django.db import connections
from django.db.models import BooleanField, CharField, Expression, F, Func, Q, QuerySet
from django.db.models.expressions import Col, OrderBy, RawSQL
from django.db.models.sql.where import AND, WhereNode

from creditfile.core.validators import phone_digits
from creditfile.customers.services.pinyin import name_pinyin

DIGITS = "digits"
LETTERS = "letters"
USCC = "uscc"
NAME = "name"
MIXED = "mixed"

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_USCC_PART = re.compile(r"[0-9A-HJ-NP-RTUWXY]{6,18}")
_PHONE = re.compile(r"\+?\d+")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_USCC_PREFIX_MIN = 6


def ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def parse_query(q: str) -> list[tuple[str, str]]:
    """The (kind, term) pairs of a query; terms are ASCII-lower-cased except credit codes."""
    q = (q or "").strip()
    if not q:
        return []
    compact = phone_digits(q)
    if _PHONE.fullmatch(compact):
        return [(DIGITS, compact)]
    return [_classify(term) for term in q.split()]


def _classify(term: str) -> tuple[str, str]:
    if term.isascii():
        if _PHONE.fullmatch(term):
            return DIGITS, term
        if term.isalpha():
            return LETTERS, ascii_lower(term)
        code = term.upper()
        if _USCC_PART.fullmatch(code) and not code.isdigit():
            return USCC, code
        return NAME, ascii_lower(term)
    if any(ch.isascii() and ch.isalnum() for ch in term):
        return MIXED, ascii_lower(term)
    return NAME, ascii_lower(term)


def search_customers(queryset: QuerySet, q: str) -> QuerySet:
    terms = parse_query(q)
    if not terms:
        return queryset
    vendor = connections[queryset.db].vendor
    dialect = _Postgres(queryset.db) if vendor == "postgresql" else _Sqlite(queryset.db)
    for kind, term in terms:
        queryset = queryset.filter(dialect.term(kind, term))
    # Read by list pages (filters._page_rows); the attribute survives Query.clone().
    queryset.query.cf_searched = True
    return queryset


class _Condition(Expression):
    """A boolean SQL fragment over columns of the customer, e.g. "{0} LIKE %s".

    Columns are resolved like F() so the table alias is right when the queryset ends up
    as a subquery; parameters stay parameters.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, sql: str, *columns: str, params=()):
        super().__init__()
        self.sql, self.columns, self.params = sql, [F(c) for c in columns], list(params)

    def get_source_expressions(self):
        return self.columns

    def set_source_expressions(self, exprs):
        self.columns = list(exprs)

    def as_sql(self, compiler, connection):
        compiled, params = [], []
        for column in self.columns:
            sql, column_params = compiler.compile(column)
            compiled.append(sql)
            params.extend(column_params)
        return f"({self.sql.format(*compiled)})", [*params, *self.params]


def _has_case(text: str) -> bool:
    return any(ch.lower() != ch.upper() for ch in text)


def _grams(fragment: str) -> list[str]:
    """What cf_name_grams() stores that a name containing `fragment` must have."""
    if len(fragment) == 1:
        return [fragment]
    return sorted({fragment[i : i + 2] for i in range(len(fragment) - 1)})


def _contains(column: str, fragment: str, function: str, fold: bool | None = None) -> _Condition:
    """Exact case-insensitive substring test, used to re-check index candidates.

    SQLite's lower() folds ASCII only, PostgreSQL's all letters; without letters to fold,
    skipping lower() makes a scan of the column much cheaper.
    """
    if fold is None:
        fold = any(ch.isascii() and ch.isalpha() for ch in fragment)
    if not fold:
        return _Condition(f"{function}({{0}}, %s) > 0", column, params=[fragment])
    return _Condition(f"{function}(lower({{0}}), lower(%s)) > 0", column, params=[fragment])


def _uscc(code: str) -> Q:
    if len(code) == 18:
        return Q(uscc=code)
    # The code alphabet ends at Y, so every code starting with `code` sorts below code+"Z".
    return Q(uscc__gte=code, uscc__lt=code + "Z")


# A term with more index entries than BROAD_FROM is "broad": on a sorted page it is
# cheaper to walk the name order and test each row than to fetch and sort every candidate.
# Past VERY_BROAD_FROM the same holds for counts: SQLite copies an IN (subquery) into a
# temporary index before using it, while a scan finds 10,001 such rows within a few
# hundred thousand.
BROAD_FROM = 20_000
VERY_BROAD_FROM = 50_000
# A fragment of 3+ characters with more trigram candidates than this is paged from the
# rarest of its 2-character windows (see _Indexed._page_walk); fewer are fetched and sorted.
PAGE_WALK_FROM = 500
# A count of a term with more candidates than this, under other conditions (a region, a
# rep's customers), tests the name in the index of those conditions instead.
FILTERED_COUNT_SCAN_FROM = 2_000
RAREST_GRAM_CAP = 5_000


# Set while the conditions of a page walk are compiled for one row at a time.
_IN_PAGE_WALK: ContextVar[bool] = ContextVar("_IN_PAGE_WALK", default=False)


class SameOrder(Func):
    """A text column that sorts exactly like itself but matches no index (see
    filters._page_rows); name_order() reads it as the column."""

    template = "(%(expressions)s || '')"
    output_field = CharField()


def name_order(query) -> str | None:
    """ "ASC" or "DESC" when the query is ordered by name then id, or by name alone."""
    if query.extra_order_by or query.combinator:
        return None
    order = list(query.order_by)
    if not order and query.default_ordering:
        order = list(query.get_meta().ordering)
    if order and isinstance(order[0], OrderBy) and isinstance(order[0].expression, SameOrder):
        (column,) = order[0].expression.get_source_expressions()
        if isinstance(column, F) and column.name == "name":
            order[0] = "-name" if order[0].descending else "name"
    if not order or not all(isinstance(o, str) for o in order):
        return None
    if order in (["name"], ["name", "pk"], ["name", "id"]):
        return "ASC"
    if order in (["-name"], ["-name", "-pk"], ["-name", "-id"]):
        return "DESC"
    return None


def _only_columns_of(node, alias: str) -> bool:
    """Whether a where-clause node reads no table but the customer row `alias`."""
    if isinstance(node, Col):
        return node.alias == alias
    if isinstance(node, WhereNode):
        parts = node.children
    elif hasattr(node, "get_source_expressions"):
        parts = node.get_source_expressions()
    else:
        return True
    return all(part is None or _only_columns_of(part, alias) for part in parts)


def pages_from_bigrams(query) -> bool:
    """Whether a search term of the query reads its sorted pages from the bigram table."""
    return any(
        getattr(getattr(child, "lhs", None), "page_gram", None) is not None
        for child in query.where.children
    )


def has_region_filter(query) -> bool:
    return any(
        getattr(getattr(child, "lhs", None), "region_filter", False)
        for child in query.where.children
    )


def has_selective_term(query) -> bool:
    """Whether a search term with few candidates drives the query (so other conditions
    should be tested on its rows rather than read from their own indexes)."""
    return any(
        isinstance(term := getattr(child, "lhs", None), _Indexed)
        and term.matches <= FILTERED_COUNT_SCAN_FROM
        for child in query.where.children
    )


def is_sorted_page(query) -> bool:
    ordered = bool(query.order_by) or (query.default_ordering and bool(query.get_meta().ordering))
    return ordered and query.high_mark is not None


class _Indexed(Expression):
    """`pk IN (index candidates) AND exact test` — SQLite's form of one indexed term.

    SQLite's planner cannot tell how many rows an index subquery yields, so the term
    decides from a capped count of its candidates taken when the queryset is built: a
    broad term in a sorted, sliced query (the first page of the list) becomes the exact
    test alone, so the page walks the name index and stops after 50 hits; a very broad
    one does so in counts too; everywhere else the candidates drive the query.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(
        self, candidates: str, params: list, exact: Expression, matches: int, exact_candidates
    ):
        super().__init__()
        self.candidates, self.params, self.matches = candidates, list(params), matches
        # True when every candidate passes the exact test (no case folding differences).
        self.exact_candidates = exact_candidates
        # Survives the copies Django makes while resolving and compiling.
        self.token = object()
        self.pk, self.exact = F("pk"), exact

    def get_source_expressions(self):
        return [self.pk, self.exact]

    def set_source_expressions(self, exprs):
        self.pk, self.exact = exprs

    # (gram, fragment, fold): walk this gram of customer_search_bigram in name order for a
    # sorted page; None when the term cannot (pinyin, phone, 1 character).
    page_gram: tuple[str, str, bool] | None = None
    # True when `matches` is the exact number of matching rows (up to its cap).
    counted = False

    def as_sql(self, compiler, connection):
        query = compiler.query
        exact_sql, exact_params = compiler.compile(self.exact)
        if _IN_PAGE_WALK.get():
            # Tested on one row at a time inside another term's page walk.
            return exact_sql, exact_params
        page = self._page_walk(compiler, connection)
        if page is not None:
            pk_sql, pk_params = compiler.compile(self.pk)
            page_sql, page_params = page
            return (
                f"({pk_sql} IN ({page_sql}) AND {exact_sql})",
                [*pk_params, *page_params, *exact_params],
            )
        candidates = self.candidates
        if self._is_filtered_count(query):
            # e.g. a province and a broad fragment: the filters' index, which holds the
            # name, is read and tested row by row; fetching every candidate costs more.
            return exact_sql, exact_params
        if self._only_condition_of_capped_count(query):
            # e.g. the list's "count up to 10,001" with nothing but this term: the first
            # 10,001 candidates are all matches, so only they need copying.
            candidates = f"{candidates} LIMIT {int(query.high_mark)}"
        elif self.matches > (BROAD_FROM if is_sorted_page(query) else VERY_BROAD_FROM):
            return exact_sql, exact_params
        pk_sql, pk_params = compiler.compile(self.pk)
        return (
            f"({pk_sql} IN ({candidates}) AND {exact_sql})",
            [*pk_params, *self.params, *exact_params],
        )

    def gram_condition(self, vendor: str) -> tuple[str, list]:
        """The rows of customer_search_bigram `cf_b` that stand for the term's matches, one
        per matching customer (a customer has one row per distinct gram)."""
        gram, fragment, fold = self.page_gram
        sql, params = "cf_b.gram = lower(%s)", [gram]
        if len(fragment) > 2 or not self.counted:
            find = "strpos" if vendor == "postgresql" else "instr"
            test = f"{find}(lower(cf_b.name), lower(%s))" if fold else f"{find}(cf_b.name, %s)"
            sql += f" AND {test} > 0"
            params.append(fragment)
        return sql, params

    def _page_walk(self, compiler, connection) -> tuple[str, list] | None:
        """The ids of the page, read from the gram's range of customer_search_bigram in name
        order, each tested against the query's other conditions, stopping when the page is
        full: a sorted page then costs the same whether the term has 30 or 300,000 matches
        and wherever in name order they lie.

        Only for a page ordered by (name, id) whose other conditions are on the customer row
        alone (visibility of a rep, the list's filters); anything else keeps the usual form.
        """
        query = compiler.query
        if self.page_gram is None or not is_sorted_page(query) or query.distinct:
            return None
        direction = name_order(query)
        where = query.where
        if direction is None or where.connector != AND or where.negated:
            return None
        rest = [
            child
            for child in where.children
            if getattr(getattr(child, "lhs", None), "token", None) is not self.token
        ]
        if len(rest) == len(where.children) or has_region_filter(query):
            return None
        alias = query.get_initial_alias()
        if not all(_only_columns_of(child, alias) for child in rest):
            return None
        condition, params = self.gram_condition(connection.vendor)
        sql = f"SELECT cf_b.customer_id FROM customer_search_bigram cf_b WHERE {condition}"
        if rest:
            table = query.get_meta().db_table
            quoted = compiler.quote_name_unless_alias(alias)
            source = table if alias == table else f"{table} {quoted}"
            conditions, flag = [], _IN_PAGE_WALK.set(True)
            try:
                for child in rest:
                    child_sql, child_params = compiler.compile(child)
                    conditions.append(child_sql)
                    params.extend(child_params)
            finally:
                _IN_PAGE_WALK.reset(flag)
            row = (
                f"SELECT true FROM {source} WHERE {quoted}.id = cf_b.customer_id AND "
                + " AND ".join(conditions)
            )
            # PostgreSQL would turn an EXISTS into a join, misjudge how many rows pass the
            # filters, and sort the whole range; a scalar subquery stays a per-row test.
            sql += f" AND ({row}) IS NOT NULL"
        sql += (
            f" ORDER BY cf_b.name {direction}, cf_b.customer_id {direction}"
            f" LIMIT {int(query.high_mark)}"
        )
        return sql, params

    def _is_filtered_count(self, query) -> bool:
        """A count of a term with many matches under other conditions, or a page under a
        region filter: the conditions' index is read and the name tested there."""
        if self.matches <= FILTERED_COUNT_SCAN_FROM or _IN_PAGE_WALK.get():
            return False
        if query.where.connector != AND:
            return False
        others = [
            getattr(child, "lhs", None)
            for child in query.where.children
            if getattr(getattr(child, "lhs", None), "token", None) is not self.token
        ]
        if not others:
            return False
        return not is_sorted_page(query) or has_region_filter(query)

    def _only_condition_of_capped_count(self, query) -> bool:
        children = query.where.children
        return (
            self.exact_candidates
            and query.high_mark is not None
            and not query.low_mark
            and self.matches > query.high_mark
            and not is_sorted_page(query)
            and len(children) == 1
            and getattr(getattr(children[0], "lhs", None), "token", None) is self.token
        )


def known_count(queryset: QuerySet, limit: int) -> int | None:
    """How many rows `queryset` has, up to `limit`, when it is filtered by one name term only
    (the credit manager typing in the search box); None means "ask the database".

    The search may have counted the matches already while reading the term (SQLite), or
    they are an index-only count of one range of customer_search_bigram; counting customer
    rows instead would visit every match (PostgreSQL's GIN index cannot count by itself).
    """
    query = queryset.query
    where = query.where
    if query.is_sliced or query.distinct or where.negated or len(where.children) != 1:
        return None
    term = getattr(where.children[0], "lhs", None)
    if not isinstance(term, _Indexed):
        return None
    if term.counted and limit <= BROAD_FROM + 1:
        return min(term.matches, limit)
    if term.page_gram is None:
        return None
    connection = connections[queryset.db]
    condition, params = term.gram_condition(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM customer_search_bigram cf_b "
            f"WHERE {condition} LIMIT {int(limit)}) AS g",
            params,
        )
        return cursor.fetchone()[0]


class _Sqlite:
    find = "instr"

    def __init__(self, using: str = "default"):
        self.using = using

    def term(self, kind: str, term: str) -> Q:
        if kind == USCC:
            return _uscc(term)
        if kind == NAME:
            return self.name(term)
        if kind == LETTERS:
            exact = _Condition(
                "instr(lower({0}), %s) > 0 OR instr({1}, %s) > 0 OR instr({2}, %s) > 0",
                "name",
                "name_initials",
                "name_pinyin",
                params=[term] * 3,
            )
            if len(term) < 3:
                return Q(exact)
            return self.indexed(*self.fts("{name initials pinyin}", term), exact, term)
        if kind == DIGITS:
            return self.digits(term)
        return self.mixed(term)

    def indexed(
        self,
        candidates: str,
        params: list,
        exact: Expression,
        term: str | None,
        caps: tuple[int, ...] | None = None,
    ) -> Q:
        """`term` is None when the candidates may repeat a customer. A name term, whose
        pages and lone totals come from the bigram table, counts only up to BROAD_FROM."""
        matches = 0
        with connections[self.using].cursor() as cursor:
            for cap in caps or (BROAD_FROM, VERY_BROAD_FROM):
                cursor.execute(f"SELECT count(*) FROM ({candidates} LIMIT {cap + 1})", params)
                matches = cursor.fetchone()[0]
                if matches <= cap:
                    break
        # FTS5 also folds the case of non-ASCII letters, where the exact test does not.
        exact_candidates = term is not None and all(
            ch.isascii() or ch.lower() == ch.upper() for ch in term
        )
        indexed = _Indexed(candidates, params, exact, matches, exact_candidates)
        indexed.counted = exact_candidates
        return Q(indexed)

    def name(self, fragment: str) -> Q:
        exact = _contains("name", fragment, self.find)
        if len(fragment) == 1:
            # The last character of a name is stored alone, so every position is covered.
            return self.indexed(
                "SELECT customer_id FROM customer_search_bigram WHERE gram BETWEEN %s AND %s",
                [fragment, fragment + "\U0010ffff"],
                exact,
                term=None,  # one customer can have several of these windows
            )
        fold = any(ch.isascii() and ch.isalpha() for ch in fragment)
        if len(fragment) == 2:
            found = self.indexed(
                "SELECT customer_id FROM customer_search_bigram WHERE gram = %s",
                [fragment],
                exact,
                fragment,
                caps=(BROAD_FROM,),
            )
            found.children[0].page_gram = (fragment, fragment, fold)
            return found
        found = self.indexed(*self.fts("name", fragment), exact, fragment, caps=(BROAD_FROM,))
        matches = found.children[0].matches
        if matches > PAGE_WALK_FROM:
            found.children[0].page_gram = (self.rarest_gram(fragment, matches), fragment, fold)
        return found

    def rarest_gram(self, fragment: str, matches: int = 0) -> str:
        """The 2-character window of `fragment` with the fewest names, counted in the bigram
        table up to a cap (counting further costs more than it saves on SQLite: the total of
        a lone term with up to BROAD_FROM matches is known from its trigram count, and a
        page stops after 51 hits, testing the name in the index)."""
        counts = {}
        with connections[self.using].cursor() as cursor:
            for gram in _grams(fragment):
                cursor.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM customer_search_bigram "
                    f"WHERE gram = lower(%s) LIMIT {RAREST_GRAM_CAP}) AS g",
                    [gram],
                )
                counts[gram] = cursor.fetchone()[0]
        return min(counts, key=counts.get)

    def recheck_name(self, fragment: str) -> Q:
        return Q(_contains("name", fragment, self.find))

    @staticmethod
    def fts(columns: str, fragment: str) -> tuple[str, list]:
        phrase = '"' + fragment.replace('"', '""') + '"'
        return (
            "SELECT rowid FROM customer_search_fts WHERE customer_search_fts MATCH %s",
            [f"{columns} : {phrase}"],
        )

    def digits(self, digits: str) -> Q:
        if len(digits) >= 3:
            phrase = '"' + digits + '"'
            subquery = RawSQL(
                "SELECT rowid FROM customer_search_fts WHERE customer_search_fts MATCH %s "
                "UNION SELECT customer_id FROM customers_contact WHERE id IN ("
                "SELECT rowid FROM contact_search_fts WHERE contact_search_fts MATCH %s)",
                [f"{{name phone}} : {phrase}", phrase],
            )
            found = Q(pk__in=subquery)
        else:
            from creditfile.customers.services.search_index import phone_digits_sql

            found = (
                self.name(digits)
                | Q(
                    _Condition(
                        f"instr({phone_digits_sql('{0}')}, %s) > 0", "phone", params=[digits]
                    )
                )
                | Q(
                    pk__in=RawSQL(
                        "SELECT customer_id FROM customers_contact "
                        "WHERE instr(phone_search, %s) > 0",
                        [digits],
                    )
                )
            )
        if len(digits) >= _USCC_PREFIX_MIN and digits.isdigit():
            found |= _uscc(digits)
        return found

    def mixed(self, term: str) -> Q:
        full, initials = name_pinyin(term)
        condition = Q()
        for run in _NON_ASCII_RUN.findall(term):
            condition &= self.name(run)
        return condition & (
            self.recheck_name(term)
            | Q(_contains("name_initials", initials, self.find))
            | Q(_contains("name_pinyin", full, self.find))
        )


class _GramsPg(_Indexed):
    """`exact test AND name_grams @> grams` — PostgreSQL's form of one name term.

    PostgreSQL underestimates how many names contain several grams together (it
    multiplies their frequencies), and then sorts thousands of rows for a first page, so
    the same broad-term rule as on SQLite applies, from the column's statistics.
    """

    def as_sql(self, compiler, connection):
        exact_sql, exact_params = compiler.compile(self.exact)
        if _IN_PAGE_WALK.get():
            return exact_sql, exact_params
        page = self._page_walk(compiler, connection)
        if page is not None:
            pk_sql, pk_params = compiler.compile(self.pk)
            page_sql, page_params = page
            return (
                f"({pk_sql} IN ({page_sql}) AND {exact_sql})",
                [*pk_params, *page_params, *exact_params],
            )
        # A heap row costs more to test than SQLite's, so counts scan only for very broad
        # terms (有限, 公司), where 10,001 hits come within the first 50,000 rows.
        scan_from = BROAD_FROM if is_sorted_page(compiler.query) else 4 * VERY_BROAD_FROM
        if self.matches > scan_from or self._is_filtered_count(compiler.query):
            return exact_sql, exact_params
        pk_sql, pk_params = compiler.compile(self.pk)
        qualifier = pk_sql.rsplit(".", 1)[0] + "." if "." in pk_sql else ""
        return (
            f"({exact_sql} AND {qualifier}name_grams @> {self.candidates})",
            [*exact_params, *self.params],
        )


_GRAM_STATS: dict[str, tuple[float, dict[str, float], float, float]] = {}
_GRAM_STATS_SECONDS = 600


def _pg_gram_matches(using: str, grams: list[str]) -> float:
    """Estimated names containing all `grams`: the rarest gram's count (an upper bound)."""
    now = time.monotonic()
    cached = _GRAM_STATS.get(using)
    if cached is None or now - cached[0] > _GRAM_STATS_SECONDS:
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, "
                "c.reltuples FROM pg_class c LEFT JOIN pg_stats s "
                "ON s.tablename = c.relname AND s.attname = 'name_grams' "
                "WHERE c.relname = 'customers_customer'"
            )
            row = cursor.fetchone() or (None, None, 0)
        elems, freqs, rows = row
        # The frequency list ends with min, max and null fraction; an unlisted gram is
        # rarer than the rarest listed one.
        frequencies = dict(zip(elems or [], freqs or [], strict=False))
        floor = min(frequencies.values()) if frequencies else 0.0
        cached = (now, frequencies, floor, max(rows or 0, 0))
        _GRAM_STATS[using] = cached
    _, frequencies, floor, rows = cached
    return min(frequencies.get(g.lower(), floor) for g in grams) * rows


class _Postgres(_Sqlite):
    find = "strpos"

    def term(self, kind: str, term: str) -> Q:
        if kind == LETTERS:
            return (
                self.name(term, page=False)
                | self.trigram("name_initials", term)
                | self.trigram("name_pinyin", term)
            )
        return super().term(kind, term)

    def name(self, fragment: str, page: bool = True) -> Q:
        """`page`: whether a sorted page may walk the bigram table (not inside an OR)."""
        exact = _contains("name", fragment, "strpos", fold=_has_case(fragment))
        grams = _grams(fragment)
        array = "ARRAY[" + ", ".join(["lower(%s)"] * len(grams)) + "]::text[]"
        fold = _has_case(fragment)
        matches = _pg_gram_matches(self.using, grams)
        term = _GramsPg(array, grams, exact, matches, exact_candidates=False)
        if page and len(fragment) == 2:
            term.page_gram = (fragment, fragment, fold)
        elif page and len(fragment) > 2 and matches > PAGE_WALK_FROM:
            term.page_gram = (self.rarest_gram(fragment), fragment, fold)
        return Q(term)

    def rarest_gram(self, fragment: str, matches: int = 0) -> str:
        """The window the column statistics call rarest (no query once they are cached)."""
        grams = _grams(fragment)
        return min(grams, key=lambda gram: _pg_gram_matches(self.using, [gram]))

    @staticmethod
    def name_sql(fragment: str) -> tuple[str, list]:
        """The name test as plain SQL on customers_customer, for candidate subqueries."""
        grams = _grams(fragment)
        array = "ARRAY[" + ", ".join(["lower(%s)"] * len(grams)) + "]::text[]"
        haystack = "lower(name)" if _has_case(fragment) else "name"
        return (
            f"strpos({haystack}, lower(%s)) > 0 AND name_grams @> {array}",
            [fragment, *grams],
        )

    def trigram(self, column: str, fragment: str, expression: str = "{0}") -> Q:
        pattern = "%" + fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return Q(_Condition(f"{expression} LIKE %s", column, params=[pattern]))

    def digits(self, digits: str) -> Q:
        # One subquery of candidates: an OR with a subquery on contacts would rule out
        # combining the customer indexes (BitmapOr) and end in a scan.
        pattern = "%" + digits + "%"
        name_sql, name_params = self.name_sql(digits)
        parts = [
            "SELECT id FROM customers_customer WHERE cf_phone_digits(phone) LIKE %s",
            "SELECT customer_id FROM customers_contact WHERE phone_search LIKE %s",
            f"SELECT id FROM customers_customer WHERE {name_sql}",
        ]
        params = [pattern, pattern, *name_params]
        if len(digits) >= _USCC_PREFIX_MIN and digits.isdigit():
            parts.append("SELECT id FROM customers_customer WHERE uscc >= %s AND uscc < %s")
            params += [digits, digits + "Z"]
        return Q(pk__in=RawSQL(" UNION ".join(parts), params))
