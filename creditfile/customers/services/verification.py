"""Verifying a section of the file (R-10): only credit staff turn 'unverified' into 'verified'."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone


def can_verify(user) -> bool:
    return user.has_perm("customers.verify_section")


def verify_section(section, user):
    if not can_verify(user):
        raise PermissionDenied
    section.verified_by = user
    section.verified_at = timezone.now()
    section.save()
    return section
