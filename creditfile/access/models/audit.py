"""The audit trail (R-42, R-45, R-47): every read, change, export, print, download,
sign-in and denied attempt, append-only and hash-chained so tampering shows.

Rows are written only by `access.services.audit.record`; nothing in the application
updates or deletes them, and database triggers refuse it (see the migrations).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", _("登录")
        LOGOUT = "logout", _("退出")
        LOGIN_FAILED = "login_failed", _("登录失败")
        VIEW = "view", _("查阅")
        CHANGE = "change", _("修改")
        EXPORT = "export", _("导出")
        PRINT = "print", _("打印")
        DOWNLOAD = "download", _("下载附件")
        REVEAL = "reveal", _("查看个人信息")
        DENIED = "denied", _("越权尝试")
        GRANT = "grant", _("授权查阅")
        HANDOVER = "handover", _("工作交接")
        DELETE_PERSONAL = "delete_personal", _("删除个人信息")
        SYSTEM = "system", _("系统")

    class Outcome(models.TextChoices):
        OK = "ok", _("成功")
        DENIED = "denied", _("拒绝")
        FAILED = "failed", _("失败")

    # Numbered by the chain head, not the database: ids run 1, 2, 3… so a gap is a deletion.
    id = models.BigIntegerField(primary_key=True)
    time = models.DateTimeField(_("时间"), db_index=True)
    # No foreign keys: an audit row must outlive and never block whatever it names.
    user_id = models.BigIntegerField(_("用户"), null=True, blank=True, db_index=True)
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    address = models.CharField(_("地址"), max_length=45, blank=True)
    action = models.CharField(_("动作"), max_length=20, choices=Action.choices)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    customer_id = models.BigIntegerField(_("客户"), null=True, blank=True, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    purpose = models.CharField(_("目的"), max_length=200, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-id"]
        indexes = [models.Index(fields=["action", "time"], name="access_audit_action_time")]
        permissions = [("view_audit_trail", _("可查阅审计记录"))]

    def __str__(self):
        return f"#{self.pk} {self.time:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("audit events are append-only")
        super().save(*args, force_insert=True)

    def delete(self, *args, **kwargs):
        raise TypeError("audit events are append-only")


class AuditChainHead(models.Model):
    """One row: the last event's id and hash. Locking it orders writers into one chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("审计链头")

    def __str__(self):
        return f"{self.last_id} {self.last_hash}"
