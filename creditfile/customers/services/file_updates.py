"""Keeping a file's derived freshness and completeness in step with its sections."""

from django.utils import timezone


def touch_file(customer_id: int, visit_date=None, count_as_update: bool = True) -> None:
    """Record that the file changed now; a visit also moves the last-visit date forward.

    Recording a visit is not itself an update of the file's content (R-44 wants the
    file brought up to date on the day of the visit), so visits pass count_as_update=False.
    """
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
