"""Database triggers that make the audit table append-only (R-45).

The application never updates or deletes audit events (AuditEvent.save/delete refuse it);
these triggers refuse it to anyone else with a database connection too: UPDATE and DELETE
on SQLite and PostgreSQL, and TRUNCATE on PostgreSQL. The chain head table is not
protected: record() moves it forward, and `creditfile audit verify` checks it against
the events. Installed by migration access.0002; nothing in the application lifts them.

On SQLite, Django alters a table by rebuilding it, which drops its triggers: a later
migration that alters AuditEvent must run `create_sql` again (the test
test_it_has_the_append_only_triggers_installed fails otherwise).
"""

TABLE = "access_auditevent"
MESSAGE = "audit events are append-only"

SQLITE_TRIGGERS = ("access_auditevent_no_update", "access_auditevent_no_delete")
POSTGRESQL_TRIGGERS = ("access_auditevent_append_only", "access_auditevent_no_truncate")

SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS access_auditevent_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS access_auditevent_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]

POSTGRESQL_CREATE = [
    f"""CREATE OR REPLACE FUNCTION access_auditevent_refuse() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege', DETAIL = TG_OP;
    END;
    $$""",
    f"""CREATE TRIGGER access_auditevent_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION access_auditevent_refuse()""",
    f"""CREATE TRIGGER access_auditevent_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION access_auditevent_refuse()""",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS access_auditevent_append_only ON {TABLE}",
    f"DROP TRIGGER IF EXISTS access_auditevent_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS access_auditevent_refuse()",
]


def create_sql(vendor: str) -> list[str]:
    return {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}.get(vendor, [])


def drop_sql(vendor: str) -> list[str]:
    """Only for reversing the migration; no application code calls it."""
    return {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(vendor, [])


def installed(connection) -> list[str]:
    """Names of the append-only triggers present in the database, for `audit verify`."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                "AND NOT tgisinternal AND tgenabled <> 'D'",
                [TABLE],
            )
        else:
            return []
        return sorted(row[0] for row in cursor.fetchall())


def expected(vendor: str) -> list[str]:
    return sorted({"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(vendor, ()))
