"""Rows read with written-out SQL become the same instances the ORM builds (the token's
user on every API call, the exposure rows every order check locks)."""

import datetime
from decimal import Decimal

import pytest

from creditfile.core.models import Company, User
from creditfile.core.services import rows
from creditfile.customers.models import Customer
from creditfile.customers.testing import make_customer
from creditfile.receivables.models import Exposure


def _read(model, pk, extra="", fields=None):
    table = model._meta.db_table
    # rows.cursor(): on PostgreSQL the values come back through server-side binding.
    with rows.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(model, 'x', fields)}{extra} FROM {table} x WHERE x.id = %s",
            [pk],
        )
        return cursor.fetchone()


def _same_as_the_orm(model, pk, fields=None):
    built = rows.instance(model, _read(model, pk, fields=fields), fields)
    loaded = model.objects.get(pk=pk)
    for field in model._meta.concrete_fields:
        if fields is not None and field.attname not in fields:
            assert field.attname in built.get_deferred_fields()
            continue
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
def test_an_exposure_row_with_its_amounts_is_built_as_the_orm_builds_it(org):
    customer = make_customer("敞口有限公司", owner=org.alice)
    row = Exposure.objects.create(
        customer=customer,
        company=Company.default(),
        open_receivables=Decimal("1234.50"),
        open_orders=Decimal("0.05"),
    )

    built = _same_as_the_orm(Exposure, row.pk)

    assert built.open_receivables == Decimal("1234.50") and built.updated_at.tzinfo is not None


@pytest.mark.django_db
def test_some_fields_in_any_order_are_built_in_field_order_the_rest_deferred(org):
    customer = make_customer("部分字段有限公司", owner=org.alice)

    built = _same_as_the_orm(Customer, customer.pk, ("owner_id", "created_at", "id", "lifecycle"))

    assert (built.pk, built.owner_id) == (customer.pk, org.alice.pk)
    with pytest.raises(ValueError, match="owner"):
        rows.columns(Customer, "x", ("id", "owner"))  # an attname is owner_id


@pytest.mark.django_db
def test_columns_after_the_models_are_left_to_the_caller(org):
    row = _read(User, org.alice.pk, ", 42, 'tail'")

    user = rows.instance(User, row)

    assert (user.pk, user.username, user.department_id) == (
        org.alice.pk,
        "alice",
        org.alice.department_id,
    )
    assert row[len(User._meta.concrete_fields) :] == (42, "tail")
