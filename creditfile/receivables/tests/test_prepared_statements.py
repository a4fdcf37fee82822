"""On PostgreSQL the order check's written-out statements are prepared once per
connection (core/services/rows.cursor), so PostgreSQL stops planning them on every
order; the ORM's own queries stay unprepared, as Django leaves them for poolers."""

import pytest
from django.db import connection

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
    for number in range(7):
        assert check_credit(customer, "100", f"PS-{number}", on_date=TODAY).released
        Customer.objects.filter(name__startswith="预备").count()

    prepared = _prepared()

    assert any(text.startswith("SELECT 'line'") for text in prepared)  # the facts
    assert any("FOR UPDATE" in text and "receivables_exposure" in text for text in prepared)
    assert any(text.startswith("UPDATE receivables_exposure") for text in prepared)
    assert any(text.startswith('INSERT INTO "receivables_salesorder"') for text in prepared)
    assert not any("customers_customer" in text and "COUNT" in text for text in prepared)
