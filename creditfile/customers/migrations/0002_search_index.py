from django.db import migrations


class Migration(migrations.Migration):
    """Search indexes for the customer list (filled in by the search work)."""

    dependencies = [("customers", "0001_initial")]

    operations = []
