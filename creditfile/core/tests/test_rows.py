"""Rows read with written-out SQL become the same instances the ORM builds (the token's
user on every API call, the exposure rows every order check locks)."""

import datetime

import pytest
from django.db import connection

from creditfile.core.models import User
from creditfile.core.services import rows
from creditfile.customers.models import Customer
from creditfile.customers.testing import make_customer


def _read(model, pk, extra=""):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(model, 'x')}{extra} FROM {table} x WHERE x.id = %s", [pk]
        )
        return cursor.fetchone()


def _same_as_the_orm(model, pk):
    built = rows.instance(model, _read(model, pk))
    loaded = model.objects.get(pk=pk)
    for field in model._meta.concrete_fields:
        mine, theirs = getattr(built, field.attname), getattr(loaded, field.attname)
        assert (mine, type(mine)) == (theirs, type(theirs)), field.name
    assert not built._state.adding and built._state.db == "default"
    return built


@pytest.mark.django_db
def test_a_user_is_built_as_the_orm_builds_it(org):
    User.objects.filter(pk=org.cathy.pk).update(
        last_login=datetime.datetime(2026, 12, 7, 1, 2, 3, 4000, tzinfo=datetime.UTC)
    )

    user = _same_as_the_orm(User, org.cathy.pk)

    assert user.is_active is True and user.last_login.tzinfo is not None


@pytest.mark.django_db
def test_a_customer_with_dates_decimals_and_choices_is_built_as_the_orm_builds_it(org):
    customer = make_customer("行列有限公司", owner=org.alice)

    _same_as_the_orm(Customer, customer.pk)


@pytest.mark.django_db
def test_columns_after_the_models_are_left_to_the_caller(org):
    row = _read(User, org.alice.pk, ", 42, 'tail'")

    user = rows.instance(User, row)

    assert user == org.alice
    assert row[len(User._meta.concrete_fields) :] == (42, "tail")
