from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0003_copy_factor_rows"),
    ]

    operations = [
        migrations.DeleteModel(
            name="EvaluationFactor",
        ),
    ]
