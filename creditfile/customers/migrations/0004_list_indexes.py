from django.db import migrations


def upgrade(apps, schema_editor):
    from creditfile.customers.services import search_index

    search_index.upgrade(schema_editor.connection)


def drop_list_indexes(apps, schema_editor):
    from creditfile.customers.services import search_index

    search_index.uninstall_list_indexes(schema_editor.connection)


class Migration(migrations.Migration):
    """Indexes for the customer list's filtered pages and counts, and the name in SQLite's
    bigram table so a fragment's first page by name is a range scan (docs/performance.md).
    Does not alter customers_customer's columns, so SQLite keeps its search triggers.
    The DDL is in creditfile/customers/services/search_index.py."""

    dependencies = [("customers", "0003_reference_data")]

    operations = [migrations.RunPython(upgrade, drop_list_indexes, elidable=False)]
