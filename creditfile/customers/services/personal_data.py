"""Personal information of key persons (R-02): masked unless the user holds the right."""

from creditfile.customers.models import KeyPerson

MASK = "●●●"


def can_view_personal_details(user) -> bool:
    return user.has_perm("customers.view_personal_details")


def masked_fields(user, model) -> set[str]:
    """Fields of `model` that must be shown masked to `user`."""
    if model is KeyPerson and not can_view_personal_details(user):
        return set(KeyPerson.PRIVATE_FIELDS)
    return set()
