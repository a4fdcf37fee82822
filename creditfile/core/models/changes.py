from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class ObjectChange(models.Model):
    """One changed field of one record, with who, when and the request it came from (R-11).

    `root` is the record a change belongs to for display: for every section of a
    customer file it is the customer, so the customer's timeline is one indexed query.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("新建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")

    time = models.DateTimeField(_("时间"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.CharField(_("来源"), max_length=100, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    action = models.CharField(_("动作"), max_length=10, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    object_repr = models.CharField(_("对象"), max_length=200)
    root_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    root_id = models.BigIntegerField()
    field = models.CharField(_("字段"), max_length=100, blank=True)
    field_label = models.CharField(_("字段名称"), max_length=100, blank=True)
    old_value = models.TextField(_("原值"), blank=True)
    new_value = models.TextField(_("新值"), blank=True)

    class Meta:
        verbose_name = _("变更记录")
        verbose_name_plural = _("变更记录")
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["root_type", "root_id", "-time"], name="change_root_time")]

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M} {self.object_repr} {self.field}"
