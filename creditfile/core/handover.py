"""What a person "owns" and hands over when they leave (R-43): one registry for all apps.

Each app declares, in its own `handover.py`, the things that name a responsible person:
the model, the field naming that person, and which of them are still open (decided and
closed work stays with the person who did it, as history). The handover service moves
whatever the registry lists, so a new app (monitoring alerts, say) adds one `register()`
call in its own `handover.py` and its work follows the customer from then on.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class Handed:
    """One kind of thing that changes hands.

    kind: a stable code kept on handover items ("customer", "collection_case", …).
    label: what people call it, plural-neutral ("客户").
    model: "app_label.ModelName"; field: the foreign key naming the responsible person.
    open: which rows still need someone (Q() for all of them).
    follow: other fields that move with it, given the successor (a customer's department).
    check: why the successor cannot take these ("" when they can); asked only when
        there is something of this kind to move.
    related: select_related paths for the description and the change log.
    customer: the path from the object to its customer ("" for a customer itself), so
        screens can link an item to the file.
    """

    kind: str
    label: object
    model: str
    field: str
    open: Q = field(default_factory=Q)
    follow: Callable[[object], dict] | None = None
    check: Callable[[object], str] | None = None
    related: tuple[str, ...] = ()
    customer: str | None = None
    describe: Callable[[object], str] = str

    @property
    def model_class(self):
        return apps.get_model(self.model)

    def owned_by(self, user) -> QuerySet:
        manager = self.model_class._default_manager
        queryset = manager.filter(self.open, **{self.field: user})
        if self.related:
            queryset = queryset.select_related(*self.related)
        return queryset.order_by("pk")


_registry: dict[str, Handed] = {}
_discovered = False


def register(entry: Handed) -> Handed:
    """Called at import time by each app's handover.py; registering a kind twice replaces it."""
    _registry[entry.kind] = entry
    return entry


def kinds() -> list[Handed]:
    """Every registered kind, in the order the apps declared them."""
    global _discovered
    if not _discovered:
        autodiscover_modules("handover")
        _discovered = True
    return list(_registry.values())


def kind(code: str) -> Handed | None:
    kinds()
    return _registry.get(code)
