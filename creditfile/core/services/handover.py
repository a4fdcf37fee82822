"""Handing over a departing employee's work to a named successor (R-43).

Everything the registry (core/handover.py) lists as the person's open work moves in one
transaction together with the handover record that lists it: a failure anywhere moves
nothing. Each moved record's timeline shows the change of hands through the central
change log, and the audit trail gets one HANDOVER event. Deactivating the departing
user (the default) ends all their sessions at once (core/session_rules.py).
"""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core import history, roles
from creditfile.core.handover import Handed, kinds
from creditfile.core.models import HandoverItem, HandoverRecord, User

PREVIEW_NAMES = 20
_CHUNK = 500


class HandoverError(Exception):
    """A refused handover; `field` names the form field the message belongs to."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass
class Pending:
    """What of one kind would move: the entry, how many, and the first few for a preview."""

    entry: Handed
    count: int
    first: list

    @property
    def names(self) -> list[str]:
        return [str(self.entry.describe(obj)) for obj in self.first[:PREVIEW_NAMES]]


# --- Who may hand over whom --------------------------------------------------------------------


def may_hand_over(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and user.has_perm("core.hand_over")
    )


def people_in_reach(by) -> QuerySet:
    """The people `by` may hand over or hand to: a department manager those of their own
    department and below; the marketing director and the administrator everyone."""
    people = User.objects.select_related("department").order_by("department__code", "username")
    if not may_hand_over(by):
        return people.none()
    if by.is_superuser or by.has_role(roles.ADMINISTRATOR, roles.MARKETING_DIRECTOR):
        return people
    if by.has_role(roles.DEPT_MANAGER) and by.department_id:
        return people.filter(department_id__in=by.department.subtree_ids())
    return people.none()


def records_for(by) -> QuerySet:
    """Handover records `by` may read: those whose departing or successor is in their reach,
    everything for anyone who sees all people (and the auditor)."""
    records = HandoverRecord.objects.select_related(
        "departing", "successor", "handed_over_by"
    ).order_by("-handed_over_at", "-id")
    if not by.has_perm("core.view_handoverrecord"):
        return records.none()
    if by.is_superuser or by.has_role(roles.ADMINISTRATOR, roles.MARKETING_DIRECTOR, roles.AUDITOR):
        return records
    reach = people_in_reach(by).values("pk")
    return records.filter(departing__in=reach) | records.filter(successor__in=reach)


# --- What would move --------------------------------------------------------------------------


def pending(departing) -> list[Pending]:
    """Every registered kind with what of it `departing` holds (kinds with nothing included)."""
    out = []
    for entry in kinds():
        owned = entry.owned_by(departing)
        out.append(Pending(entry, owned.count(), list(owned[:PREVIEW_NAMES])))
    return out


def _check(
    departing, successor, reason: str, moving: list[Pending], deactivate: bool, by=None
) -> None:
    if by is not None and by.pk == departing.pk:
        raise HandoverError(_("不能办理本人的交接，请由上级或系统管理员办理。"), "departing")
    if successor is None:
        raise HandoverError(_("请选择接手人。"), "successor")
    if successor.pk == departing.pk:
        raise HandoverError(_("接手人不能是移交人本人。"), "successor")
    if not successor.is_active:
        raise HandoverError(
            _("接手人 %(user)s 的账号已停用，不能接手。") % {"user": successor}, "successor"
        )
    if not reason:
        raise HandoverError(_("请填写交接原因。"), "reason")
    for item in moving:
        if item.count and item.entry.check is not None:
            problem = item.entry.check(successor)
            if problem:
                raise HandoverError(problem, "successor")
    if not deactivate and not any(item.count for item in moving):
        raise HandoverError(
            _("%(user)s 名下没有需要移交的客户或工作。") % {"user": departing}, "departing"
        )


def check(departing, successor, reason: str, deactivate: bool = True, by=None) -> list[Pending]:
    """Raise HandoverError when the handover cannot be done; else what would move."""
    moving = pending(departing)
    _check(departing, successor, (reason or "").strip(), moving, deactivate, by)
    return moving


# --- Doing it ---------------------------------------------------------------------------------


def _move(entry: Handed, objects: list, successor) -> None:
    values = {entry.field: successor}
    if entry.follow is not None:
        values.update(entry.follow(successor))
    stamped = dict(values)
    now = timezone.now()
    for model_field in entry.model_class._meta.concrete_fields:
        if getattr(model_field, "auto_now", False):
            stamped[model_field.name] = now
    manager = entry.model_class._default_manager
    ids = [obj.pk for obj in objects]
    for start in range(0, len(ids), _CHUNK):
        manager.filter(pk__in=ids[start : start + _CHUNK]).update(**stamped)
    # update() sends no signals: log the change of hands as a save would have.
    history.record_updates(objects, values)


def hand_over(departing, successor, *, by, reason: str, deactivate: bool = True):
    """Move all open work of `departing` to `successor`, record it, optionally deactivate.

    `by` is who does it (None from the command line). Returns the HandoverRecord.
    """
    from creditfile.access.services import audit

    reason = (reason or "").strip()
    actor = history.current_actor()
    acting = history.acting_as(
        user=actor.user or by,
        label=actor.label or "handover",
        request_id=actor.request_id,
    )
    with acting, transaction.atomic():
        # Locking the departing person serialises two handovers of the same person.
        departing = User.objects.select_for_update().get(pk=departing.pk)
        successor = User.objects.filter(pk=getattr(successor, "pk", None)).first()
        moving = []
        for entry in kinds():
            owned = entry.owned_by(departing).select_for_update(of=("self",))
            objects = list(owned)
            moving.append(Pending(entry, len(objects), objects))
        _check(departing, successor, reason, moving, deactivate, by)

        record = HandoverRecord.objects.create(
            departing=departing,
            successor=successor,
            reason=reason,
            handed_over_by=by,
            deactivated=deactivate and departing.is_active,
        )
        items = []
        for item in moving:
            if not item.count:
                continue
            content_type = ContentType.objects.get_for_model(item.entry.model_class)
            items += [
                HandoverItem(
                    record=record,
                    kind=item.entry.kind,
                    content_type=content_type,
                    object_id=obj.pk,
                    description=str(item.entry.describe(obj))[:300],
                )
                for obj in item.first
            ]
            _move(item.entry, item.first, successor)
        HandoverItem.objects.bulk_create(items, batch_size=_CHUNK)

        if record.deactivated:
            departing.is_active = False
            departing.save(update_fields=["is_active"])  # ends every session (session_rules)

        audit.record(
            audit.Action.HANDOVER,
            user=by,
            obj=record,
            purpose=reason[:200],
            detail={
                "departing": departing.username,
                "successor": successor.username,
                "deactivated": int(record.deactivated),
                **{item.entry.kind: item.count for item in moving if item.count},
            },
        )
    return record


# --- Reading a record -------------------------------------------------------------------------


@dataclass
class ItemGroup:
    kind: str
    label: str
    items: list


def grouped_items(record: HandoverRecord) -> list[ItemGroup]:
    """The record's items by kind, in registry order (kinds no longer registered last)."""
    labels = {entry.kind: str(entry.label) for entry in kinds()}
    order = {code: index for index, code in enumerate(labels)}
    groups: dict[str, ItemGroup] = {}
    for item in record.items.order_by("id"):
        group = groups.setdefault(
            item.kind, ItemGroup(item.kind, labels.get(item.kind, item.kind), [])
        )
        item.customer_id = None
        group.items.append(item)
    for group in groups.values():
        _attach_customers(group)
    return sorted(groups.values(), key=lambda g: order.get(g.kind, len(order)))


def _attach_customers(group: ItemGroup) -> None:
    """Set each item's customer_id (for a link to the file) where its kind has a customer."""
    from creditfile.core.handover import kind

    entry = kind(group.kind)
    if entry is None or entry.customer is None:
        return
    path = f"{entry.customer}_id" if entry.customer else "pk"
    ids = [item.object_id for item in group.items]
    customers = dict(entry.model_class._default_manager.filter(pk__in=ids).values_list("pk", path))
    for item in group.items:
        item.customer_id = customers.get(item.object_id)
