"""The database objects behind the customer search box (see docs/performance.md).

They live in the database, not in Python signals, so that every way of writing rows
(save, bulk_create, queryset.update, deletes, raw SQL) keeps them right.

SQLite
  customer_search_fts   contentless FTS5 table, trigram tokenizer, one row per customer
                        (rowid = customer id): name, pinyin initials, full pinyin, phone
                        digits. Serves substrings of 3 or more characters.
  contact_search_fts    the same for contact phones (rowid = contact id).
  customer_search_bigram (gram, name, customer_id): every 2-character window of the
                        lower-cased name plus its last character alone, so a 2-character
                        fragment is one key range and a 1-character fragment one key range;
                        with the name in the key, the first page by name of a fragment is
                        the start of that range, whatever the fragment's frequency.
  customer_search_n     the integers 1..300, to cut a name into windows inside a trigger
                        (SQLite triggers cannot use recursive CTEs).
  Triggers on customers_customer and customers_contact keep all three tables in step.

PostgreSQL
  cf_name_grams(text)   immutable function: the characters and 2-character windows of the
                        lower-cased text, stored in the generated column
                        customers_customer.name_grams. Its GIN index serves name
                        fragments of any length in any locale (pg_trgm ignores characters
                        the locale does not call alphanumeric, and a trigram index cannot
                        serve 2-character fragments anyway).
  pg_trgm GIN indexes   on name_initials, name_pinyin, cf_phone_digits(phone) and
                        customers_contact.phone_search, for the ASCII kinds.
  The column and indexes are maintained by PostgreSQL itself; no triggers are needed.
"""

from django.db import connection as default_connection

# Characters phone_digits() removes; the database must strip the same ones.
PHONE_SEPARATORS = (" ", "\t", "\n", "\r", "-", "(", ")", "（", "）")


def phone_digits_sql(column: str, vendor: str = "sqlite") -> str:
    """SQL that mirrors creditfile.core.validators.phone_digits for the common separators."""
    sql, char = column, "chr" if vendor == "postgresql" else "char"
    for ch in PHONE_SEPARATORS:
        literal = {"\t": 9, "\n": 10, "\r": 13}.get(ch)
        literal = f"{char}({literal})" if literal else f"'{ch}'"
        sql = f"replace({sql}, {literal}, '')"
    return sql


def _sqlite_fts_values(row: str) -> str:
    return (
        f"{row}.id, {row}.name, {row}.name_initials, {row}.name_pinyin, "
        f"{phone_digits_sql(row + '.phone')}"
    )


def _sqlite_bigrams(row: str) -> str:
    return (
        f"SELECT substr(lower({row}.name), n, 2), {row}.name, {row}.id FROM customer_search_n "
        f"WHERE n <= length({row}.name)"
    )


def _sqlite_unindex_customer(row: str) -> str:
    return (
        "INSERT INTO customer_search_fts(customer_search_fts, rowid, name, initials, pinyin, "
        f"phone) VALUES ('delete', {_sqlite_fts_values(row)});\n"
        f"DELETE FROM customer_search_bigram WHERE customer_id = {row}.id "
        f"AND name = {row}.name AND gram IN "
        f"(SELECT substr(lower({row}.name), n, 2) FROM customer_search_n "
        f"WHERE n <= length({row}.name));"
    )


def _sqlite_index_customer(row: str) -> str:
    return (
        "INSERT INTO customer_search_fts(rowid, name, initials, pinyin, phone) "
        f"VALUES ({_sqlite_fts_values(row)});\n"
        "INSERT OR IGNORE INTO customer_search_bigram(gram, name, customer_id) "
        f"{_sqlite_bigrams(row)};"
    )


_SQLITE_CUSTOMER_CHANGED = " OR ".join(
    f"OLD.{c} IS NOT NEW.{c}" for c in ("id", "name", "name_initials", "name_pinyin", "phone")
)

SQLITE_INSTALL = [
    "CREATE TABLE customer_search_n (n INTEGER PRIMARY KEY)",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 300) "
    "INSERT INTO customer_search_n(n) SELECT n FROM s",
    "CREATE TABLE customer_search_bigram (gram TEXT NOT NULL, name TEXT NOT NULL, "
    "customer_id INTEGER NOT NULL, PRIMARY KEY (gram, name, customer_id)) WITHOUT ROWID",
    "CREATE VIRTUAL TABLE customer_search_fts USING fts5("
    "name, initials, pinyin, phone, content='', tokenize='trigram')",
    "CREATE VIRTUAL TABLE contact_search_fts USING fts5(phone, content='', tokenize='trigram')",
]

SQLITE_TRIGGERS = [
    "CREATE TRIGGER customer_search_ai AFTER INSERT ON customers_customer BEGIN\n"
    f"{_sqlite_index_customer('NEW')}\nEND",
    "CREATE TRIGGER customer_search_ad AFTER DELETE ON customers_customer BEGIN\n"
    f"{_sqlite_unindex_customer('OLD')}\nEND",
    "CREATE TRIGGER customer_search_au AFTER UPDATE ON customers_customer "
    f"WHEN {_SQLITE_CUSTOMER_CHANGED} BEGIN\n"
    f"{_sqlite_unindex_customer('OLD')}\n{_sqlite_index_customer('NEW')}\nEND",
    "CREATE TRIGGER contact_search_ai AFTER INSERT ON customers_contact BEGIN\n"
    "INSERT INTO contact_search_fts(rowid, phone) VALUES (NEW.id, NEW.phone_search);\nEND",
    "CREATE TRIGGER contact_search_ad AFTER DELETE ON customers_contact BEGIN\n"
    "INSERT INTO contact_search_fts(contact_search_fts, rowid, phone) "
    "VALUES ('delete', OLD.id, OLD.phone_search);\nEND",
    "CREATE TRIGGER contact_search_au AFTER UPDATE ON customers_contact "
    "WHEN OLD.id IS NOT NEW.id OR OLD.phone_search IS NOT NEW.phone_search BEGIN\n"
    "INSERT INTO contact_search_fts(contact_search_fts, rowid, phone) "
    "VALUES ('delete', OLD.id, OLD.phone_search);\n"
    "INSERT INTO contact_search_fts(rowid, phone) VALUES (NEW.id, NEW.phone_search);\nEND",
]
SQLITE_TRIGGER_NAMES = [sql.split()[2] for sql in SQLITE_TRIGGERS]

SQLITE_FILL = [
    "INSERT INTO customer_search_fts(rowid, name, initials, pinyin, phone) "
    f"SELECT {_sqlite_fts_values('c')} FROM customers_customer c",
    "INSERT OR IGNORE INTO customer_search_bigram(gram, name, customer_id) "
    "SELECT substr(lower(c.name), n.n, 2), c.name, c.id FROM customers_customer c "
    "JOIN customer_search_n n ON n.n <= length(c.name)",
    "INSERT INTO contact_search_fts(rowid, phone) SELECT id, phone_search FROM customers_contact",
]

SQLITE_UNINSTALL = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGER_NAMES] + [
    "DROP TABLE IF EXISTS contact_search_fts",
    "DROP TABLE IF EXISTS customer_search_fts",
    "DROP TABLE IF EXISTS customer_search_bigram",
    "DROP TABLE IF EXISTS customer_search_n",
]

POSTGRES_INSTALL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Characters and 2-character windows of the lower-cased text, without duplicates.
    "CREATE OR REPLACE FUNCTION cf_name_grams(t text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT coalesce(array_agg(DISTINCT g), '{}') FROM ("
    "SELECT substr(lower(t), i, 2) AS g FROM generate_series(1, char_length(t) - 1) AS i "
    "UNION ALL SELECT substr(lower(t), i, 1) FROM generate_series(1, char_length(t)) AS i"
    ") AS grams $$",
    "CREATE OR REPLACE FUNCTION cf_phone_digits(t text) RETURNS text "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
    f"$$ SELECT {phone_digits_sql('t', 'postgresql')} $$",
    # A stored column rather than an expression index: a plan that tests rows one by one
    # (a broad term walking the name order) then reads the array instead of computing it.
    # Django does not know the column; INSERTs leave it out and PostgreSQL fills it.
    "ALTER TABLE customers_customer ADD COLUMN name_grams text[] "
    "GENERATED ALWAYS AS (cf_name_grams(name)) STORED",
    "CREATE INDEX customer_name_grams ON customers_customer USING gin (name_grams)",
    "CREATE INDEX customer_initials_trgm ON customers_customer "
    "USING gin (name_initials gin_trgm_ops)",
    "CREATE INDEX customer_pinyin_trgm ON customers_customer USING gin (name_pinyin gin_trgm_ops)",
    "CREATE INDEX customer_phone_trgm ON customers_customer "
    "USING gin (cf_phone_digits(phone) gin_trgm_ops)",
    "CREATE INDEX contact_phone_trgm ON customers_contact USING gin (phone_search gin_trgm_ops)",
]

# Every 2-character window of the lower-cased name plus its last character, with the name,
# as in SQLite's customer_search_bigram: the first page by name of a fragment is the start
# of one index range, and the number of names holding a 2-character fragment is an
# index-only count (GIN can neither return rows in name order nor count without the heap).
_PG_BIGRAMS = (
    "SELECT DISTINCT substr(lower({0}.name), i, 2), {0}.name, {0}.id "
    "FROM generate_series(1, char_length({0}.name)) AS i"
)
POSTGRES_BIGRAMS = [
    "CREATE TABLE customer_search_bigram (gram text NOT NULL, name text NOT NULL, "
    "customer_id bigint NOT NULL)",
    "INSERT INTO customer_search_bigram "
    + _PG_BIGRAMS.format("c").replace(
        "FROM generate_series", "FROM customers_customer c, generate_series"
    ),
    "ALTER TABLE customer_search_bigram ADD PRIMARY KEY (gram, name, customer_id)",
    "CREATE OR REPLACE FUNCTION cf_customer_bigrams() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
    "DELETE FROM customer_search_bigram WHERE customer_id = OLD.id AND name = OLD.name "
    "AND gram IN (SELECT substr(lower(OLD.name), i, 2) "
    "FROM generate_series(1, char_length(OLD.name)) AS i); "
    "END IF; "
    "IF TG_OP IN ('UPDATE', 'INSERT') THEN "
    f"INSERT INTO customer_search_bigram {_PG_BIGRAMS.format('NEW')} ON CONFLICT DO NOTHING; "
    "END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER customer_search_bigram_ai AFTER INSERT ON customers_customer "
    "FOR EACH ROW EXECUTE FUNCTION cf_customer_bigrams()",
    "CREATE TRIGGER customer_search_bigram_ad AFTER DELETE ON customers_customer "
    "FOR EACH ROW EXECUTE FUNCTION cf_customer_bigrams()",
    "CREATE TRIGGER customer_search_bigram_au AFTER UPDATE ON customers_customer FOR EACH ROW "
    "WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.id IS DISTINCT FROM NEW.id) "
    "EXECUTE FUNCTION cf_customer_bigrams()",
    "ANALYZE customer_search_bigram",
]
POSTGRES_INSTALL += POSTGRES_BIGRAMS

POSTGRES_UNINSTALL = [
    "DROP TRIGGER IF EXISTS customer_search_bigram_ai ON customers_customer",
    "DROP TRIGGER IF EXISTS customer_search_bigram_ad ON customers_customer",
    "DROP TRIGGER IF EXISTS customer_search_bigram_au ON customers_customer",
    "DROP TABLE IF EXISTS customer_search_bigram",
    "DROP FUNCTION IF EXISTS cf_customer_bigrams()",
    "DROP INDEX IF EXISTS contact_phone_trgm",
    "DROP INDEX IF EXISTS customer_phone_trgm",
    "DROP INDEX IF EXISTS customer_pinyin_trgm",
    "DROP INDEX IF EXISTS customer_initials_trgm",
    "DROP INDEX IF EXISTS customer_name_grams",
    "ALTER TABLE customers_customer DROP COLUMN IF EXISTS name_grams",
    "DROP FUNCTION IF EXISTS cf_phone_digits(text)",
    "DROP FUNCTION IF EXISTS cf_name_grams(text)",
    # pg_trgm stays: other objects may use it, and dropping an extension needs more rights.
]


# Indexes for the customer list's pages and counts (docs/performance.md). A region's page
# or count reads the region's ranges of (…, region, name, id) — every column the list
# filters, sorts and searches on — and tests the search term's name there, without
# visiting the table; the cost follows the region's size. (An index in name order that
# stops after 50 hits of the region is not offered on purpose: names start with their city
# or province, so one province's customers lie together somewhere in that order and such
# a walk can pass 600,000 others first.) Created with the search objects, so that a bulk
# load builds them once at the end.
LIST_INDEXES = {
    "customer_list_region": "(lifecycle, region_id, name, id)",
    "customer_list_owner_region": "(owner_id, lifecycle, region_id, name, id)",
}
# Indexes of earlier versions of this module, dropped by upgrade().
_DROPPED_LIST_INDEXES = ["customer_list_lifecycle", "customer_list_owner"]


def install_list_indexes(connection=default_connection) -> None:
    _run(
        connection,
        [
            f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer {columns}"
            for name, columns in LIST_INDEXES.items()
        ],
    )


def uninstall_list_indexes(connection=default_connection) -> None:
    _run(connection, [f"DROP INDEX IF EXISTS {name}" for name in LIST_INDEXES])


def upgrade(connection=default_connection) -> None:
    """Bring a database indexed by an older version of this module up to date in place
    (migration 0004): the SQLite bigram table gained the name; the list indexes are new."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pragma_table_info('customer_search_bigram')")
            columns = {row[0] for row in cursor.fetchall()}
        if columns and "name" not in columns:
            customer_triggers = [sql for sql in SQLITE_TRIGGERS if " ON customers_customer " in sql]
            _run(
                connection,
                [f"DROP TRIGGER IF EXISTS {sql.split()[2]}" for sql in customer_triggers]
                + ["DROP TABLE customer_search_bigram"]
                + [sql for sql in SQLITE_INSTALL if "customer_search_bigram" in sql]
                + [sql for sql in SQLITE_FILL if "customer_search_bigram" in sql]
                + customer_triggers
                + ["ANALYZE customer_search_bigram"],
            )
    elif connection.vendor == "postgresql" and not _has_table(connection, "customer_search_bigram"):
        _run(connection, POSTGRES_BIGRAMS)
    _run(connection, [f"DROP INDEX IF EXISTS {name}" for name in _DROPPED_LIST_INDEXES])
    install_list_indexes(connection)
    if connection.vendor == "sqlite":
        _run(connection, [f"ANALYZE {name}" for name in LIST_INDEXES])


def _run(connection, statements) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install(connection=default_connection) -> None:
    """Create the search objects and index the rows already there."""
    if connection.vendor == "sqlite":
        _run(connection, SQLITE_INSTALL + SQLITE_FILL + SQLITE_TRIGGERS)
    elif connection.vendor == "postgresql":
        _run(connection, POSTGRES_INSTALL)
    if _has_table(connection, "django_migrations") and _applied(connection, "0004_list_indexes"):
        install_list_indexes(connection)


def uninstall(connection=default_connection) -> None:
    if connection.vendor == "sqlite":
        _run(connection, SQLITE_UNINSTALL)
    elif connection.vendor == "postgresql":
        _run(connection, POSTGRES_UNINSTALL)
    uninstall_list_indexes(connection)


def _has_table(connection, table: str) -> bool:
    with connection.cursor() as cursor:
        return table in connection.introspection.table_names(cursor)


def _applied(connection, migration: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM django_migrations WHERE app = 'customers' AND name = %s", [migration]
        )
        return cursor.fetchone() is not None


def missing_triggers(connection=default_connection) -> list[str]:
    """Triggers that should exist but do not.

    Django's SQLite schema editor rebuilds a table to alter a column, and dropping the old
    table drops its triggers; a later migration on customers_customer or customers_contact
    must therefore call repair(). A test checks this after all migrations.
    """
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in SQLITE_TRIGGER_NAMES if name not in present]


def repair(connection=default_connection) -> None:
    """Drop and rebuild the search objects from the current rows (after a table rebuild)."""
    uninstall(connection)
    install(connection)
