from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluation",
            name="factor_scores",
            field=models.JSONField(blank=True, default=list, verbose_name="各因素得分"),
        ),
    ]
