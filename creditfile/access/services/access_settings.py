"""Changing the access policy's settings (who reads by work, who approves company files).

The change log (core/history.py, AccessSettings.HISTORY_ROOT) records each change with who
made it; the settings screen shows it.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from creditfile.access.models import AccessSettings
from creditfile.access.models.policy import COMPANY_APPROVER_CHOICES, READER_ROLE_CHOICES
from creditfile.access.services.requests import RequestError

PERMISSION = "access.manage_access_settings"


@transaction.atomic
def save_settings(user, reader_roles, company_approver_role: str) -> AccessSettings:
    if not user.has_perm(PERMISSION):
        raise RequestError(_("您没有权限修改查阅权限设置。"), "forbidden")
    unknown = sorted(set(reader_roles) - set(READER_ROLE_CHOICES))
    if unknown:
        raise RequestError(
            _("不能设为查阅角色：%(roles)s") % {"roles": "、".join(unknown)},
            "invalid",
            "reader_roles",
        )
    if company_approver_role not in COMPANY_APPROVER_CHOICES:
        raise RequestError(_("请选择审批角色。"), "invalid", "company_approver_role")
    current = AccessSettings.objects.select_for_update().filter(pk=1).first()
    current = current or AccessSettings(pk=1)
    current.reader_roles = [code for code in READER_ROLE_CHOICES if code in set(reader_roles)]
    current.company_approver_role = company_approver_role
    current.updated_by = user
    current.save()
    return current
