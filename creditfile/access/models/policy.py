"""Settings of the access policy (R-40, R-41): stored in the database, changed on a screen.

One row. Changes go through the central change log (HISTORY_ROOT), so who widened or
narrowed the readers, and when, stays on record.
"""

from django.conf import settings
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from creditfile.core import roles

DEFAULT_READER_ROLES = [
    roles.CREDIT_STAFF,
    roles.CREDIT_MANAGER,
    roles.FINANCE,
    roles.AUDITOR,
]
# Roles that may be named readers by work. The marketing director, VP and GM read every
# file anyway; sales reps and department managers read by ownership and department.
READER_ROLE_CHOICES = [
    roles.CREDIT_STAFF,
    roles.CREDIT_MANAGER,
    roles.FINANCE,
    roles.AUDITOR,
    roles.ARCHIVIST,
    roles.ADMINISTRATOR,
]
COMPANY_APPROVER_CHOICES = [roles.GENERAL_MANAGER, roles.VP, roles.MARKETING_DIRECTOR]


def default_reader_roles():
    return list(DEFAULT_READER_ROLES)


class AccessSettings(models.Model):
    HISTORY_ROOT = ""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    reader_roles = models.JSONField(
        _("因工作需要查阅全部档案的角色"),
        default=default_reader_roles,
        blank=True,
        help_text=_("这些角色可查阅所有客户档案，不论保密级别。"),
    )
    company_approver_role = models.CharField(
        _("公司级档案查阅的最终审批角色"),
        max_length=30,
        default=roles.GENERAL_MANAGER,
        help_text=_("申请查阅公司级档案时，部门经理之后还须此角色审批。"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("更新人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("查阅权限设置")
        verbose_name_plural = _("查阅权限设置")
        permissions = [("manage_access_settings", _("管理查阅权限设置"))]

    def __str__(self):
        return str(_("查阅权限设置"))

    @classmethod
    def current(cls) -> "AccessSettings":
        found = cls.objects.filter(pk=1).first()
        return found if found is not None else cls(pk=1)

    @classmethod
    def current_reader_roles(cls) -> list[str]:
        """`current().reader_roles`, read with one written-out query: every request of a
        user who is not a superuser or a director asks it (is this a reader by work?), and
        composing the ORM query cost ten times the query itself."""
        field = cls._meta.get_field("reader_roles")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {field.column} FROM {cls._meta.db_table} WHERE id = 1")
            row = cursor.fetchone()
        if row is None:
            return field.get_default()
        return field.from_db_value(row[0], None, connection) or []
