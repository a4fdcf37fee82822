"""The one exception every credit rule raises, so views and the API answer alike."""

from django.utils.translation import gettext_lazy as _


class WorkflowError(Exception):
    """A refused action. `code` tells the caller how to answer:

    forbidden → 403 (wrong role, self-approval, segregation of duties),
    state → 409 (skipped step, already decided, someone else was faster),
    invalid → 400/422 (missing or bad input), config → 409 (policy not set up).
    """

    def __init__(self, message, code: str = "state", field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field


def forbidden(message) -> WorkflowError:
    return WorkflowError(message, "forbidden")


def require_perm(user, perm: str, what) -> None:
    if not user.has_perm(perm):
        raise forbidden(_("您没有权限：%(what)s。") % {"what": what})


def require_visible(user, customer_id: int) -> None:
    """The credit rules act only on customers the user may see (customers' one visibility rule)."""
    from creditfile.customers.services.visibility import visible_customers

    if not visible_customers(user).filter(pk=customer_id).exists():
        raise forbidden(_("您无权查看该客户的档案。"))
