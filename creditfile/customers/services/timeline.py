"""A customer's timeline (R-11): changes, lifecycle moves, events, visits and correspondence."""

from dataclasses import dataclass, field
from datetime import datetime, time

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.models import ObjectChange


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # change, lifecycle, event, visit, correspondence
    title: str
    detail: str
    who: str
    changes: list  # [(field label, old, new)] for kind == "change"
    # For changes: the changed model and field names (parallel to `changes`), so a screen
    # can mask personal information it must not show.
    model: type | None = None
    field_names: list = field(default_factory=list)


def _at_day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def timeline(customer, limit: int = 300) -> list[TimelineEntry]:
    from creditfile.customers.models import Customer

    entries: list[TimelineEntry] = []
    changes = (
        ObjectChange.objects.filter(
            root_type=ContentType.objects.get_for_model(Customer), root_id=customer.pk
        )
        .select_related("user", "content_type")
        .order_by("-time", "-id")[: limit * 3]
    )
    grouped: dict[tuple, TimelineEntry] = {}
    for change in changes:
        key = (change.request_id, change.content_type_id, change.object_id, change.action)
        entry = grouped.get(key)
        if entry is None:
            model = change.content_type.model_class()
            section = str(model._meta.verbose_name) if model else change.content_type.model
            entry = TimelineEntry(
                at=change.time,
                kind="change",
                title=_("%(action)s%(section)s：%(object)s")
                % {
                    "action": change.get_action_display(),
                    "section": section,
                    "object": change.object_repr,
                },
                detail="",
                who=str(change.user) if change.user else change.actor,
                changes=[],
                model=model,
            )
            grouped[key] = entry
            entries.append(entry)
        if change.field:
            entry.changes.append((change.field_label, change.old_value, change.new_value))
            entry.field_names.append(change.field)
    for t in customer.lifecycle_transitions.select_related("changed_by")[:limit]:
        entries.append(
            TimelineEntry(
                t.changed_at,
                "lifecycle",
                _("状态变更：%(a)s → %(b)s")
                % {"a": t.get_from_state_display() or "—", "b": t.get_to_state_display()},
                t.reason,
                str(t.changed_by or ""),
                [],
            )
        )
    for e in customer.fileevent_set.select_related("recorded_by")[:limit]:
        entries.append(
            TimelineEntry(
                _at_day_start(e.occurred_on),
                "event",
                _("%(severity)s：%(title)s")
                % {"severity": e.get_severity_display(), "title": e.title},
                e.description,
                str(e.recorded_by or ""),
                [],
            )
        )
    for v in customer.visit_set.select_related("recorded_by")[:limit]:
        entries.append(
            TimelineEntry(
                _at_day_start(v.visit_date),
                "visit",
                _("拜访：%(p)s") % {"p": v.purpose},
                v.findings,
                str(v.recorded_by or ""),
                [],
            )
        )
    for c in customer.correspondence_set.select_related("recorded_by")[:limit]:
        entries.append(
            TimelineEntry(
                c.occurred_at,
                "correspondence",
                _("%(channel)s（%(direction)s）：%(subject)s")
                % {
                    "channel": c.get_channel_display(),
                    "direction": c.get_direction_display(),
                    "subject": c.subject,
                },
                c.summary,
                str(c.recorded_by or ""),
                [],
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
