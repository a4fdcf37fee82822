"""Customer lifecycle (R-12): which moves are allowed, and who made each and why."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from creditfile.customers.choices import Lifecycle as L

ALLOWED = {
    L.PROSPECT: {L.NEW, L.LOST, L.BLACKLISTED},
    L.NEW: {L.ACTIVE, L.DORMANT, L.LOST, L.BLACKLISTED},
    L.ACTIVE: {L.DORMANT, L.LOST, L.BLACKLISTED},
    L.DORMANT: {L.ACTIVE, L.LOST, L.BLACKLISTED},
    L.LOST: {L.PROSPECT, L.ACTIVE, L.BLACKLISTED},
    L.BLACKLISTED: {L.DORMANT},
}
REASON_REQUIRED = {L.LOST, L.BLACKLISTED, L.DORMANT}


def allowed_targets(customer) -> list[L]:
    return [L(s) for s in L.values if s in ALLOWED[L(customer.lifecycle)]]


@transaction.atomic
def change_lifecycle(customer, to_state: str, reason: str, user):
    """Move the customer to `to_state`, refusing moves the lifecycle does not allow."""
    from creditfile.customers.models import Customer, LifecycleTransition

    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    reason = (reason or "").strip()
    current = L(customer.lifecycle)
    if to_state not in L.values:
        raise ValidationError({"to_state": _("未知的客户状态：%(s)s") % {"s": to_state}})
    target = L(to_state)
    if target not in ALLOWED[current]:
        raise ValidationError(
            {
                "to_state": _("不能从“%(a)s”直接变为“%(b)s”。")
                % {"a": current.label, "b": target.label}
            }
        )
    if target in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": _("变为“%(b)s”必须填写原因。") % {"b": target.label}})
    LifecycleTransition.objects.create(
        customer=customer, from_state=current, to_state=target, reason=reason, changed_by=user
    )
    customer.lifecycle = target
    customer.lifecycle_reason = reason
    customer.save()
    return customer
