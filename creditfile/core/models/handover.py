"""Handover when an employee leaves (R-43): what moved to whom, and the letter customers get.

The record is written once, in the same transaction that moves the work; its items say
what moved even after the objects themselves change hands again or are closed.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_USER = settings.AUTH_USER_MODEL


class HandoverRecord(models.Model):
    departing = models.ForeignKey(
        _USER, verbose_name=_("移交人"), on_delete=models.PROTECT, related_name="handovers_given"
    )
    successor = models.ForeignKey(
        _USER, verbose_name=_("接手人"), on_delete=models.PROTECT, related_name="handovers_taken"
    )
    reason = models.TextField(_("交接原因"))
    handed_over_by = models.ForeignKey(
        _USER,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("空白表示由命令行办理"),
    )
    handed_over_at = models.DateTimeField(_("交接时间"), default=timezone.now, db_index=True)
    deactivated = models.BooleanField(_("同时停用移交人账号"), default=False)

    class Meta:
        verbose_name = _("离职交接记录")
        verbose_name_plural = _("离职交接记录")
        ordering = ["-handed_over_at", "-id"]
        permissions = [("hand_over", _("办理离职交接"))]

    def __str__(self):
        return str(_("离职交接 #%(pk)s：%(departing)s → %(successor)s")) % {
            "pk": self.pk,
            "departing": self.departing,
            "successor": self.successor,
        }


class HandoverItem(models.Model):
    """One thing that changed hands; `kind` is the registry entry that moved it."""

    record = models.ForeignKey(
        HandoverRecord, verbose_name=_("交接记录"), on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(_("类别"), max_length=40)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    description = models.CharField(_("内容"), max_length=300)

    class Meta:
        verbose_name = _("交接明细")
        verbose_name_plural = _("交接明细")
        ordering = ["record", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="handover_item_object")]

    def __str__(self):
        return self.description


class HandoverLetterTemplate(models.Model):
    """The one editable text of the letter telling a customer who their new contact is."""

    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        _USER,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("客户经理变更通知函模板")
        verbose_name_plural = _("客户经理变更通知函模板")

    def __str__(self):
        return self.subject
