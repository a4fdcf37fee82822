"""Model instances from written-out queries on the hottest paths.

Every API call reads its token's user, and every order check locks its customer's
exposure rows. Through a RawQuerySet each of those reads cost several times the query
itself (mapping columns to fields, looking up converters, on every call). Here the
column list and each field's converters are worked out once per connection, and a row
becomes what the ORM would have built from it: the same converters, then `from_db`.
"""

import weakref

from django.db import DEFAULT_DB_ALIAS, connection, connections

# Per connection (DatabaseWrapper): the backend's converters are its own methods.
_plans: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def columns(model, alias: str) -> str:
    """Every concrete column of `model`, in field order, prefixed with the table alias:
    the SELECT list that `instance` expects at the start of a row."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def instance(model, row):
    """The instance the ORM would build from a row that starts with `columns(model, …)`;
    anything after those columns is left to the caller."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    names, conversions = _plan(model, wrapper)
    values = list(row[: len(names)])
    for index, converters, expression in conversions:
        value = values[index]
        for convert in converters:
            value = convert(value, expression, wrapper)
        values[index] = value
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


def _plan(model, connection):
    plans = _plans.setdefault(connection, {})
    plan = plans.get(model)
    if plan is None:
        fields = model._meta.concrete_fields
        conversions = []
        for index, field in enumerate(fields):
            expression = field.get_col(model._meta.db_table)
            # As the SQL compiler asks them: the backend's, then the field's own.
            converters = connection.ops.get_db_converters(
                expression
            ) + expression.get_db_converters(connection)
            if converters:
                conversions.append((index, converters, expression))
        plan = plans[model] = ([field.attname for field in fields], conversions)
    return plan
