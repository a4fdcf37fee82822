"""Written-out queries on the hottest paths: every API call and every order check.

Every API call reads its token's user, and every order check locks its customer's
exposure rows. Through a RawQuerySet each of those reads cost several times the query
itself (mapping columns to fields, looking up converters, on every call). Here the
column list and each field's converters are worked out once per connection, and a row
becomes what the ORM would have built from it: the same converters, then `from_db`.

`cursor()` is Django's cursor, except that on PostgreSQL it binds parameters on the
server. psycopg then prepares a statement it has run five times on a connection, and
PostgreSQL no longer plans it on every run: the order check's facts query took 0.37 ms
to plan and 0.08 ms to run.
"""

import functools
import time
import weakref

from django.db import DEFAULT_DB_ALIAS, connection, connections

# Per connection (DatabaseWrapper): the backend's converters are its own methods.
_plans: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def cursor():
    """`connection.cursor()`; on PostgreSQL with parameters bound on the server, so that
    statements run again and again are prepared (see above). Only for written-out SQL
    whose parameters PostgreSQL can type: the ORM's own queries stay client-bound."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql import base as postgresql

    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    with wrapper.wrap_database_errors:
        raw = _hot_cursor_class()(wrapper.connection)
        # What Django's create_cursor does for its own cursors.
        loader = wrapper.connection.adapters.get_loader(
            postgresql.TIMESTAMPTZ_OID, postgresql.Format.TEXT
        )
        if wrapper.timezone != loader.timezone:
            postgresql.register_tzloader(wrapper.timezone, raw)
        return wrapper._prepare_cursor(raw)


@functools.cache
def _hot_cursor_class():
    import psycopg
    from django.db.backends.postgresql.base import ServerBindingCursor

    class HotCursor(ServerBindingCursor):
        """A prepared statement whose result columns changed type (a migration run
        while this process kept its connection) fails with "cached plan must not change
        result type" until the connection's prepared statements are gone: this request
        fails, and the connection is closed when it ends (Django's CONN_MAX_AGE check),
        so the next request prepares afresh."""

        def execute(self, query, params=None, **kwargs):
            try:
                return super().execute(query, params, **kwargs)
            except psycopg.errors.FeatureNotSupported as error:
                if "cached plan" in str(error):
                    connections[DEFAULT_DB_ALIAS].close_at = time.monotonic()
                raise

    return HotCursor


def columns(model, alias: str, fields: tuple[str, ...] | None = None) -> str:
    """The concrete columns of `model` (all, or those of the `fields` attnames), in field
    order, prefixed with the table alias: the SELECT list that `instance` expects at the
    start of a row."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in _fields(model, fields))


def instance(model, row, fields: tuple[str, ...] | None = None):
    """The instance the ORM would build from a row that starts with
    `columns(model, …, fields)` (the other fields deferred); anything after those columns
    is left to the caller."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    names, conversions = _plan(model, wrapper, fields)
    values = list(row[: len(names)])
    for index, converters, expression in conversions:
        value = values[index]
        for convert in converters:
            value = convert(value, expression, wrapper)
        values[index] = value
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


def _fields(model, names):
    fields = model._meta.concrete_fields
    if names is None:
        return list(fields)
    unknown = set(names) - {field.attname for field in fields}
    if unknown:
        raise ValueError(f"not concrete attnames of {model.__name__}: {sorted(unknown)}")
    return [field for field in fields if field.attname in names]


def _plan(model, connection, names):
    plans = _plans.setdefault(connection, {})
    key = (model, None if names is None else frozenset(names))
    plan = plans.get(key)
    if plan is None:
        fields = _fields(model, names)
        conversions = []
        for index, field in enumerate(fields):
            expression = field.get_col(model._meta.db_table)
            # As the SQL compiler asks them: the backend's, then the field's own.
            converters = connection.ops.get_db_converters(
                expression
            ) + expression.get_db_converters(connection)
            if converters:
                conversions.append((index, converters, expression))
        plan = plans[key] = ([field.attname for field in fields], conversions)
    return plan
