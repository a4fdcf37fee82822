"""Keeping a file's derived freshness and completeness in step with its sections."""

import contextvars
from contextlib import contextmanager

from django.utils import timezone

_deferred: contextvars.ContextVar[set | None] = contextvars.ContextVar(
    "creditfile_deferred_touches", default=None
)


@contextmanager
def touches_deferred():
    """Touch each changed file once when the block ends, not after every save.

    For bulk work (the Excel import) that saves one file many times in a row; the
    caller may clear the yielded set to drop the touches, e.g. before a rollback.
    """
    pending: set[int] = set()
    token = _deferred.set(pending)
    try:
        yield pending
    finally:
        _deferred.reset(token)
    for customer_id in sorted(pending):
        touch_file(customer_id)


def touch_file(customer_id: int, visit_date=None, count_as_update: bool = True) -> None:
    """Record that the file changed now; a visit also moves the last-visit date forward.

    Recording a visit is not itself an update of the file's content (R-44 wants the
    file brought up to date on the day of the visit), so visits pass count_as_update=False.
    """
    pending = _deferred.get()
    if pending is not None and visit_date is None and count_as_update:
        pending.add(customer_id)
        return
    from creditfile.customers.models import Customer

    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return
    from creditfile.customers.services.completeness import completeness

    fields = {"completeness": completeness(customer)[0]}
    if count_as_update:
        fields["file_updated_at"] = timezone.now()
    if visit_date and (customer.last_visit_on is None or visit_date > customer.last_visit_on):
        fields["last_visit_on"] = visit_date
    Customer.objects.filter(pk=customer_id).update(**fields)
