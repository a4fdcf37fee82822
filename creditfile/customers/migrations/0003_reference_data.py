from django.db import migrations


def load(apps, schema_editor):
    from creditfile.customers.services.reference_data import load_reference_data

    load_reference_data(lambda name: apps.get_model("customers", name))


class Migration(migrations.Migration):
    """GB/T 2260 regions and the default classification dictionaries."""

    dependencies = [("customers", "0002_search_index")]

    # Reversing keeps the rows: customers may already point at them.
    operations = [migrations.RunPython(load, migrations.RunPython.noop, elidable=False)]
