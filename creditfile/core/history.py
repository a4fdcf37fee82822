"""The central change log (R-11): who changed which field of which record, old → new.

Models opt in by declaring HISTORY_ROOT: the name of the attribute that leads to the
record whose timeline shows the change ("" for the record itself). The web request,
a management command or a background task sets who is acting with `acting_as`, so
every change is attributed whichever way it was made.

Fields a model names in HISTORY_REDACT (personal information, R-02) are logged as
changed without their old or new value: the history must not become a second copy of
data that is masked on screen and erased when its retention ends.
"""

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import Signal
from django.utils import timezone

DEFAULT_EXCLUDE = {"id", "created_at", "updated_at", "password", "last_login"}

# Sent once per logged save or delete of a tracked record, after its rows are written:
# sender=the model, instance, root (the record whose timeline shows it), action
# ("create" | "update" | "delete"), fields (names of the changed fields on update).
# The audit trail listens (access/signals.py).
object_changed = Signal()


@dataclass(frozen=True)
class Actor:
    user: object = None
    label: str = ""
    request_id: str = ""


_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("creditfile_actor", default=Actor())  # noqa: B039 (frozen)


def current_actor() -> Actor:
    return _actor.get()


def current_user():
    return _actor.get().user


@contextmanager
def acting_as(user=None, label: str = "", request_id: str = ""):
    token = _actor.set(Actor(user=user, label=label, request_id=request_id or str(uuid.uuid4())))
    try:
        yield
    finally:
        _actor.reset(token)


def is_tracked(model) -> bool:
    return hasattr(model, "HISTORY_ROOT")


def history_root(instance):
    """The record whose timeline shows this change; HISTORY_ROOT may be a dotted path."""
    root = instance
    for name in filter(None, instance.HISTORY_ROOT.split(".")):
        root = getattr(root, name)
    return root


def tracked_fields(model):
    exclude = DEFAULT_EXCLUDE | set(getattr(model, "HISTORY_EXCLUDE", ()))
    return [
        f for f in model._meta.concrete_fields if f.name not in exclude and f.attname not in exclude
    ]


def display_value(instance, field) -> str:
    """A value as a person reads it: choice labels, related names, plain dates."""
    return display_raw(field, getattr(instance, field.attname))


def display_raw(field, value) -> str:
    """display_value for a value of `field` held outside an instance (an id for a foreign key)."""
    if isinstance(field, models.ForeignKey):
        if value is None:
            return ""
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else str(value)
    if value is None:
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(field, models.FileField):
        return getattr(value, "name", value) or ""
    return str(value)


def _snapshot(instance) -> dict:
    return {f.name: getattr(instance, f.attname) for f in tracked_fields(type(instance))}


def _record(instance, action, rows):
    actor = current_actor()
    root = history_root(instance)
    if root is None:
        return
    from creditfile.core.models import ObjectChange

    common = dict(
        time=timezone.now(),
        user=actor.user if getattr(actor.user, "pk", None) else None,
        actor=actor.label,
        request_id=actor.request_id,
        action=action,
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        root_type=ContentType.objects.get_for_model(type(root)),
        root_id=root.pk,
    )
    ObjectChange.objects.bulk_create([ObjectChange(**common, **row) for row in rows])
    object_changed.send(
        sender=type(instance),
        instance=instance,
        root=root,
        action=action,
        fields=[row["field"] for row in rows if row.get("field")],
    )


def record_updates(instances, values: dict) -> int:
    """Log a QuerySet.update() (which sends no signals) as saving each instance would have.

    `instances` hold their values from before the update, `values` what the update set
    (field name → value or model instance). One INSERT for all the rows, and each related
    name looked up once, so moving hundreds of records keeps every timeline right without
    a save per record. Returns how many change rows were written.
    """
    from creditfile.core.models import ObjectChange

    actor = current_actor()
    shown: dict = {}

    def show(field, raw):
        key = (field, raw)
        if key not in shown:
            shown[key] = display_raw(field, raw)
        return shown[key]

    now = timezone.now()
    rows = []
    for instance in instances:
        model = type(instance)
        if not is_tracked(model):
            continue
        root = history_root(instance)
        if root is None:
            continue
        tracked = {f.name: f for f in tracked_fields(model)}
        common = dict(
            time=now,
            user=actor.user if getattr(actor.user, "pk", None) else None,
            actor=actor.label,
            request_id=actor.request_id,
            action=ObjectChange.Action.UPDATE,
            content_type=ContentType.objects.get_for_model(model),
            object_id=instance.pk,
            object_repr=str(instance)[:200],
            root_type=ContentType.objects.get_for_model(type(root)),
            root_id=root.pk,
        )
        for name, value in values.items():
            field = tracked.get(name)
            if field is None:
                continue
            new = getattr(value, "pk", value) if isinstance(field, models.ForeignKey) else value
            old = getattr(instance, field.attname)
            if old == new:
                continue
            rows.append(
                ObjectChange(
                    **common,
                    field=field.name,
                    field_label=str(field.verbose_name),
                    old_value=show(field, old),
                    new_value=show(field, new),
                )
            )
    ObjectChange.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _pre_save(sender, instance, raw=False, **kwargs):
    if raw or not is_tracked(sender) or instance._state.adding or instance.pk is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._history_before = old


def _post_save(sender, instance, created, raw=False, **kwargs):
    if raw or not is_tracked(sender):
        return
    if created:
        _record(instance, "create", [{"new_value": str(instance)[:1000]}])
        return
    old = getattr(instance, "_history_before", None)
    if old is None:
        return
    rows = []
    redacted = set(getattr(sender, "HISTORY_REDACT", ()))
    for field in tracked_fields(sender):
        if getattr(old, field.attname) != getattr(instance, field.attname):
            hidden = field.name in redacted
            rows.append(
                {
                    "field": field.name,
                    "field_label": str(field.verbose_name),
                    "old_value": "" if hidden else display_value(old, field),
                    "new_value": "" if hidden else display_value(instance, field),
                }
            )
    instance._history_before = None
    if rows:
        _record(instance, "update", rows)


def _post_delete(sender, instance, **kwargs):
    if not is_tracked(sender):
        return
    try:
        _record(instance, "delete", [{"old_value": str(instance)[:1000]}])
    except models.ObjectDoesNotExist:
        # The root went with it (cascade); its own deletion is what gets logged.
        pass


def connect_signals():
    pre_save.connect(_pre_save, dispatch_uid="creditfile_history_pre")
    post_save.connect(_post_save, dispatch_uid="creditfile_history_post")
    post_delete.connect(_post_delete, dispatch_uid="creditfile_history_delete")
