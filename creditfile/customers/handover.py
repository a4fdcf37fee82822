"""What a departing sales rep hands over of the customer file (R-43): see core/handover.py."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from creditfile.core import roles
from creditfile.core.handover import Handed, register


def _may_own_customers(successor) -> str:
    # The same people the customer form offers as a file's sales representative.
    if successor.has_role(roles.SALES_REP, roles.DEPT_MANAGER):
        return ""
    return _("%(user)s 不是销售代表或部门经理，不能负责客户。") % {"user": successor}


def _may_run_routes(successor) -> str:
    # The same people a route may be given to (services/routes.assignable_reps).
    if successor.has_role(roles.SALES_REP):
        return ""
    return _("%(user)s 不是销售代表，不能接手拜访路线。") % {"user": successor}


def _department_of(successor) -> dict:
    """The file goes to the successor's department, so the manager who now answers for the
    customer sees it and the old department's manager no longer does."""
    return {"department": successor.department} if successor.department_id else {}


register(
    Handed(
        kind="customer",
        label=gettext_lazy("客户"),
        model="customers.Customer",
        field="owner",
        follow=_department_of,
        check=_may_own_customers,
        customer="",
    )
)
register(
    Handed(
        kind="route",
        label=gettext_lazy("拜访路线"),
        model="customers.Route",
        field="sales_rep",
        check=_may_run_routes,
        describe=lambda route: _("拜访路线：%(name)s") % {"name": route.name},
    )
)
