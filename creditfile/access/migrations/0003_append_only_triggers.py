"""Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of audit events in the database."""

from django.db import migrations

from creditfile.access import triggers


def install(apps, schema_editor):
    for sql in triggers.create_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    for sql in triggers.drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [("access", "0002_access_policy_and_read_requests")]

    operations = [migrations.RunPython(install, uninstall)]
