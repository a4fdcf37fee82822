"""Existing key persons get a stated basis and a retention date; old history loses the
personal values it copied before HISTORY_REDACT existed."""

import datetime

from django.db import migrations

PRIVATE_FIELDS = (
    "birthday",
    "mobile",
    "education",
    "personality",
    "hobbies",
    "family",
    "abilities",
)
# Records entered before the basis was asked for: nobody knows yet whether a signed
# consent exists, so say so (the form shows it) and let the details lapse in a year
# unless someone confirms the basis and sets a date.
UNKNOWN_BASIS = "系统升级前录入，处理依据待核实补登"
GRACE_DAYS = 365


def forwards(apps, schema_editor):
    KeyPerson = apps.get_model("customers", "KeyPerson")
    ObjectChange = apps.get_model("core", "ObjectChange")
    ContentType = apps.get_model("contenttypes", "ContentType")
    until = datetime.date.today() + datetime.timedelta(days=GRACE_DAYS)
    for person in KeyPerson.objects.all().iterator(chunk_size=500):
        if any(getattr(person, name) not in (None, "") for name in PRIVATE_FIELDS):
            KeyPerson.objects.filter(pk=person.pk).update(
                legal_basis="other", basis_note=UNKNOWN_BASIS, retention_until=until
            )
    content_type = ContentType.objects.filter(app_label="customers", model="keyperson").first()
    if content_type is not None:
        ObjectChange.objects.filter(content_type=content_type, field__in=PRIVATE_FIELDS).update(
            old_value="", new_value=""
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_key_person_processing_basis_and_data_requests"),
        ("core", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
