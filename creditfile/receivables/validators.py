"""Field rules of the receivables models that need no database."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_AGING_BUCKETS = "30,60,90,180"
MAX_BUCKETS = 12


def parse_bucket_bounds(text: str) -> tuple[int, ...]:
    """The upper bounds (days overdue) of the aging buckets, e.g. "30,60,90,180".

    Each bound closes a bucket (1–30, 31–60, …); the last bucket is everything beyond the
    largest bound. Bounds must be positive whole numbers in ascending order, so that every
    number of days falls in exactly one bucket.
    """
    parts = [part.strip() for part in (text or "").replace("，", ",").split(",")]
    if not parts or parts == [""]:
        raise ValidationError(_("至少填写一个账龄分段上限。"), code="empty")
    if len(parts) > MAX_BUCKETS:
        raise ValidationError(
            _("账龄分段上限最多 %(count)s 个。") % {"count": MAX_BUCKETS}, code="too_many"
        )
    bounds = []
    for part in parts:
        if not part.isdigit() or int(part) < 1:
            raise ValidationError(
                _("账龄分段上限应为正整数天数：%(value)s") % {"value": part}, code="invalid"
            )
        bounds.append(int(part))
    for lower, upper in zip(bounds, bounds[1:], strict=False):
        if upper <= lower:
            raise ValidationError(
                _("账龄分段上限须按升序排列：%(upper)s 不大于 %(lower)s。")
                % {"upper": upper, "lower": lower},
                code="order",
            )
    return tuple(bounds)


def validate_bucket_bounds(text: str) -> None:
    parse_bucket_bounds(text)
