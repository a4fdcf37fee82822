"""What a departing person hands over of credit work (R-43): see core/handover.py.

Open applications only: a decided, granted or withdrawn application keeps its applicant
as a fact of history. Reviews that are due or in progress go to the successor.
"""

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from creditfile.core.handover import Handed, register
from creditfile.credit.choices import ReviewState
from creditfile.credit.services.workflow import OPEN_STATES


def _needs(perm: str, what):
    def check(successor) -> str:
        if successor.has_perm(perm):
            return ""
        return _("%(user)s 没有处理%(what)s的权限，不能接手。") % {"user": successor, "what": what}

    return check


register(
    Handed(
        kind="credit_application",
        label=gettext_lazy("未完成的信用申请"),
        model="credit.CreditApplication",
        field="requested_by",
        open=Q(state__in=OPEN_STATES),
        check=_needs("credit.change_creditapplication", gettext_lazy("信用申请")),
        related=("customer",),
        customer="customer",
        describe=lambda a: (
            _("信用申请 %(number)s %(customer)s（%(state)s）")
            % {"number": a.number, "customer": a.customer, "state": a.get_state_display()}
        ),
    )
)
register(
    Handed(
        kind="credit_review",
        label=gettext_lazy("未完成的信用复评"),
        model="credit.CreditReview",
        field="assigned_to",
        open=Q(state__in=(ReviewState.DUE, ReviewState.IN_PROGRESS)),
        check=_needs("credit.change_creditreview", gettext_lazy("信用复评")),
        related=("customer",),
        customer="customer",
        describe=lambda r: (
            _("信用复评：%(review)s（%(state)s）") % {"review": r, "state": r.get_state_display()}
        ),
    )
)
