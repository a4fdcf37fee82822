"""Personal information of key persons (R-02; PIPL arts. 6, 13–14, 17, 19, 28–30).

Masked for everyone by default, on every page, in the API, exports and PDFs. Someone
holding `customers.view_personal_details` may reveal one person's details for a stated
purpose; every reveal and every deletion is an audit event. Details are kept until the
record's retention date, after which `creditfile daily` erases them.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.access.services import audit
from creditfile.core.history import acting_as, current_actor, display_value
from creditfile.customers.models import KeyPerson
from creditfile.customers.services.visibility import get_customer_for

MASK = "●●●"
# Private details are kept this long after they are recorded unless the person entering
# them sets another date: about three annual credit reviews, after which a relationship
# that continues confirms (and extends) them and one that ended lets them go.
RETENTION_YEARS = 3
RETENTION_ACTOR = "个人信息保存期限届满"


def can_view_personal_details(user) -> bool:
    return user.has_perm("customers.view_personal_details")


def masked_fields(model) -> set[str]:
    """Fields of `model` shown masked — to everyone, whatever their rights."""
    if model is KeyPerson:
        return set(KeyPerson.PRIVATE_FIELDS)
    return set()


def default_retention(today: date | None = None) -> date:
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year + RETENTION_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + RETENTION_YEARS, day=28)


def private_values(person: KeyPerson) -> list[tuple[str, str, str]]:
    """(field name, label, value as read) of each private detail, in their order."""
    rows = []
    for name in KeyPerson.PRIVATE_FIELDS:
        field = KeyPerson._meta.get_field(name)
        rows.append((name, str(field.verbose_name), display_value(person, field)))
    return rows


def reveal_personal_details(user, person: KeyPerson, purpose: str, request=None) -> list[tuple]:
    """One person's private details for `user`, who must hold the right, read the customer
    and say why; the reveal is audited with that purpose. Nothing is cached."""
    get_customer_for(user, person.customer_id, "view")
    if not can_view_personal_details(user):
        audit.record(
            audit.Action.REVEAL,
            user=user,
            request=request,
            customer=person.customer_id,
            obj=person,
            outcome=audit.Outcome.DENIED,
            purpose=(purpose or "").strip(),
        )
        raise PermissionDenied
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationError({"purpose": _("请写明查看个人信息的目的。")})
    audit.record(
        audit.Action.REVEAL,
        user=user,
        request=request,
        customer=person.customer_id,
        obj=person,
        purpose=purpose,
    )
    return private_values(person)


@transaction.atomic
def erase_personal_details(person: KeyPerson, *, reason: str, user=None, request=None) -> list:
    """Blank the person's private details, keeping name, role and title; audited.

    Returns the names of the fields that held something (empty: nothing to erase, and
    nothing is recorded, so running it twice changes nothing twice). The change history
    notes which fields changed and never their values (HISTORY_REDACT).
    """
    erased = [name for name in KeyPerson.PRIVATE_FIELDS if getattr(person, name) not in (None, "")]
    if not erased:
        return []
    for name in erased:
        setattr(person, name, KeyPerson._meta.get_field(name).get_default())
    person.save()
    audit.record(
        audit.Action.DELETE_PERSONAL,
        user=user,
        request=request,
        customer=person.customer_id,
        obj=person,
        purpose=reason[:200],
        detail={"fields": ",".join(erased)},
    )
    return erased


def erase_expired_personal_details(today: date) -> int:
    """The daily step: erase the private details whose retention date has passed."""
    expired = KeyPerson.objects.filter(retention_until__lt=today).select_related("customer")
    count = 0
    actor = current_actor()
    # The customer's timeline names the reason rather than "daily job".
    with acting_as(user=actor.user, label=RETENTION_ACTOR, request_id=actor.request_id):
        for person in expired.iterator(chunk_size=200):
            reason = _("保存期限 %(date)s 已届满") % {"date": person.retention_until.isoformat()}
            if erase_personal_details(person, reason=reason):
                count += 1
    return count
