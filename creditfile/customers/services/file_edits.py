"""Saving what a person types into a customer file (R-01…R-10).

Whoever saves a changed record becomes the one who entered it, and a changed record is no
longer verified: a verification vouches for the values that were checked, not for new ones.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from creditfile.core.models import ProvenanceModel
from creditfile.customers.services.visibility import can_edit

# Fields the system keeps; a person changing none of the others has not changed the record.
SYSTEM_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "customer",
    "entered_by",
    "verified_by",
    "verified_at",
    "recorded_by",
}


def has_changed(record) -> bool:
    """Whether `record` differs from what is stored in any field a person fills in."""
    if record._state.adding or record.pk is None:
        return True
    skip = SYSTEM_FIELDS | set(getattr(record, "HISTORY_EXCLUDE", ()))
    names = [f.attname for f in record._meta.concrete_fields if f.name not in skip]
    stored = type(record)._default_manager.filter(pk=record.pk).values(*names).first()
    return stored is None or any(stored[n] != getattr(record, n) for n in names)


def _stamp(record: ProvenanceModel, user) -> None:
    if has_changed(record):
        record.entered_by = user
        record.verified_by = None
        record.verified_at = None


@transaction.atomic
def save_customer(customer, user):
    """Save the basic registry data; refuse a save that would leave `user` unable to edit it.

    The access check runs after the save inside the transaction (as NetBox does), so the
    owner and department just chosen are what is checked, and a refusal leaves no trace.
    """
    _stamp(customer, user)
    customer.save()
    if not can_edit(user, customer):
        raise ValidationError(
            {
                "owner": _(
                    "保存后您将无权编辑该客户：请把负责销售代表或所属部门设为您自己或您所在的部门。"
                )
            }
        )
    return customer


@transaction.atomic
def save_record(record, customer, user):
    """Save one record of a section (a contact, a visit, the characteristics…) into the file."""
    record.customer = customer
    if isinstance(record, ProvenanceModel):
        _stamp(record, user)
    elif record._state.adding and hasattr(record, "recorded_by_id"):
        record.recorded_by = user
    record.save()
    return record


@transaction.atomic
def delete_record(record) -> None:
    record.delete()
