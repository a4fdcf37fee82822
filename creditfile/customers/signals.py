"""Keep derived data of a file (pinyin, freshness, completeness) in step with every change."""

from django.db.models.signals import post_delete, post_save, pre_save

from creditfile.customers.services.file_updates import touch_file
from creditfile.customers.services.pinyin import name_pinyin


def _customer_pre_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    instance.name_pinyin, instance.name_initials = name_pinyin(instance.name)
    if instance.uscc == "":
        instance.uscc = None


def _customer_post_save(sender, instance, raw=False, **kwargs):
    if not raw:
        touch_file(instance.pk)


def _section_changed(sender, instance, raw=False, **kwargs):
    from creditfile.customers.models import Visit

    if raw or not getattr(sender, "HISTORY_ROOT", None) == "customer":
        return
    if isinstance(instance, Visit):
        touch_file(instance.customer_id, visit_date=instance.visit_date, count_as_update=False)
    else:
        touch_file(instance.customer_id)


def connect():
    from creditfile.customers.models import Customer

    pre_save.connect(_customer_pre_save, sender=Customer, dispatch_uid="customer_pinyin")
    post_save.connect(_customer_post_save, sender=Customer, dispatch_uid="customer_touch")
    post_save.connect(_section_changed, dispatch_uid="customer_section_saved")
    post_delete.connect(_section_changed, dispatch_uid="customer_section_deleted")
