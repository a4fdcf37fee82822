from django.db import migrations


def install(apps, schema_editor):
    from creditfile.customers.services import search_index

    search_index.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from creditfile.customers.services import search_index

    search_index.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    """Search indexes for the customer list: SQLite FTS5 trigram + bigram table kept by
    triggers, PostgreSQL GIN indexes (pg_trgm and a character-bigram expression).
    The DDL per database is in creditfile/customers/services/search_index.py."""

    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
