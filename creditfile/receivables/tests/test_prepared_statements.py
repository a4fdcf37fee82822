"""On PostgreSQL the order check's written-out statements are prepared once per
connection (core/services/rows.cursor), so PostgreSQL stops planning them on every
order; the ORM's own queries stay unprepared, as Django leaves them for poolers."""

import pytest
from django.db import NotSupportedError, connection

from creditfile.core.api_auth import has_permission
from creditfile.core.models import ApiToken
from creditfile.customers.models import Customer
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.testing import TODAY, credit_customer

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_checks_statements_are_prepared_and_the_orms_are_not(org):
    customer = credit_customer(org.cathy, "100000", name="预备语句有限公司")
    _token, key = ApiToken.issue(org.cathy, "ERP")
    for number in range(7):
        user = ApiToken.user_for_key(key)
        assert has_permission(user, "receivables.check_credit")
        assert check_credit(customer, "100", f"PS-{number}", on_date=TODAY).released
        Customer.objects.filter(name__startswith="预备").count()

    prepared = _prepared()

    assert any("core_apitoken" in text and "key_hash" in text for text in prepared)
    assert any(text.startswith("SELECT 1 FROM auth_permission") for text in prepared)
    assert any(text.startswith("SELECT 'line'") for text in prepared)  # the facts
    assert any("FOR UPDATE" in text and "receivables_exposure" in text for text in prepared)
    assert any(text.startswith("UPDATE receivables_exposure") for text in prepared)
    assert any(text.startswith('INSERT INTO "receivables_salesorder"') for text in prepared)
    assert not any("customers_customer" in text and "COUNT" in text for text in prepared)


@pytest.mark.django_db(transaction=True)
def test_a_connection_whose_prepared_statement_went_stale_is_closed_after_the_request(org):
    _token, key = ApiToken.issue(org.cathy, "ERP")
    for _ in range(6):
        assert ApiToken.user_for_key(key) is not None
    _alter("varchar(250)")  # another process migrates a column the statement selects
    try:
        with pytest.raises(NotSupportedError, match="cached plan"):
            ApiToken.user_for_key(key)

        connection.close_if_unusable_or_obsolete()  # what Django does when a request ends

        assert ApiToken.user_for_key(key) == org.cathy
    finally:
        _alter("varchar(50)")


def _alter(new_type: str) -> None:
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute(f"ALTER TABLE core_user ALTER COLUMN full_name TYPE {new_type}")
