"""Test support for the append-only audit table (never imported by the application).

Tests that play "a database user tampering with the audit table" lift the triggers with
`triggers_lifted()` inside their own transaction; the test runner's database flush
(TransactionTestCase, `django_db(transaction=True)`) lifts them around its own statements
only, through `patch_test_flush()` which the root conftest.py applies for the test session.
"""

from contextlib import contextmanager

from django.db import connection as default_connection

from creditfile.access import triggers


def _lift_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"ALTER TABLE {triggers.TABLE} DISABLE TRIGGER {name}"
            for name in triggers.POSTGRESQL_TRIGGERS
        ]
    return list(triggers.SQLITE_DROP)


def _restore_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"ALTER TABLE {triggers.TABLE} ENABLE TRIGGER {name}"
            for name in triggers.POSTGRESQL_TRIGGERS
        ]
    return list(triggers.SQLITE_CREATE)


@contextmanager
def triggers_lifted(connection=default_connection):
    """Run the body as a database user who has lifted the protection (tests only)."""
    with connection.cursor() as cursor:
        for sql in _lift_sql(connection.vendor):
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in _restore_sql(connection.vendor):
                cursor.execute(sql)


def patch_test_flush(monkeypatch) -> None:
    """Let the test runner's flush empty the audit table, lifting the triggers around the
    flush statements only, in the flush's own transaction."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        vendor = self.connection.vendor
        if vendor in ("sqlite", "postgresql") and any(triggers.TABLE in sql for sql in sql_list):
            sql_list = [*_lift_sql(vendor), *sql_list, *_restore_sql(vendor)]
        return original(self, sql_list)

    monkeypatch.setattr(BaseDatabaseOperations, "execute_sql_flush", execute_sql_flush)
