"""What a departing person hands over of collections (R-43): see core/handover.py.

Open cases only; a closed case keeps whoever worked it.
"""

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from creditfile.core.handover import Handed, register
from creditfile.receivables.choices import CaseStatus


def _may_work_cases(successor) -> str:
    if successor.has_perm("receivables.change_collectioncase"):
        return ""
    return _("%(user)s 没有处理催收案件的权限，不能接手。") % {"user": successor}


register(
    Handed(
        kind="collection_case",
        label=gettext_lazy("未结催收案件"),
        model="receivables.CollectionCase",
        field="owner",
        open=Q(status=CaseStatus.OPEN),
        check=_may_work_cases,
        related=("customer",),
        customer="customer",
    )
)
