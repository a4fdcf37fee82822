"""What a departing person hands over of collections (R-43): see core/handover.py.

Open cases only; a closed case keeps whoever worked it. A proposed dunning run can be
confirmed or cancelled only by whoever started it, so an unconfirmed run moves too.
"""

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from creditfile.core.handover import Handed, register
from creditfile.receivables.choices import CaseStatus, RunStatus


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


def _may_run_dunning(successor) -> str:
    if successor.has_perm("receivables.run_dunning"):
        return ""
    return _("%(user)s 没有发起催收批次的权限，不能接手待确认的批次。") % {"user": successor}


register(
    Handed(
        kind="dunning_run",
        label=gettext_lazy("待确认的催收批次"),
        model="receivables.DunningRun",
        field="created_by",
        open=Q(status=RunStatus.PROPOSED),
        check=_may_run_dunning,
    )
)
