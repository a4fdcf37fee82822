"""Staleness (R-11, R-44): a file must be updated the day of a visit and at least monthly."""

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone


def stale_since(now=None):
    return (now or timezone.now()) - timedelta(days=settings.STALE_AFTER_DAYS)


def is_stale(customer, now=None) -> bool:
    if customer.file_updated_at < stale_since(now):
        return True
    updated_day = timezone.localtime(customer.file_updated_at).date()
    return customer.last_visit_on is not None and customer.last_visit_on > updated_day


def stale_reason(customer, now=None) -> str:
    from django.utils.translation import gettext as _

    if (
        customer.last_visit_on
        and customer.last_visit_on > timezone.localtime(customer.file_updated_at).date()
    ):
        return _("%(date)s拜访后档案未更新") % {"date": customer.last_visit_on}
    if customer.file_updated_at < stale_since(now):
        return _("超过%(days)d天未更新") % {"days": settings.STALE_AFTER_DAYS}
    return ""


def stale_filter(now=None) -> Q:
    """The same rule as is_stale, as a query, so the list can filter on it."""
    return Q(file_updated_at__lt=stale_since(now)) | Q(
        last_visit_on__gt=TruncDate(F("file_updated_at"), tzinfo=timezone.get_current_timezone())
    )
