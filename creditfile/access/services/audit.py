"""Writing the audit trail: the one function that adds events, and the hash that chains them.

Each event's hash covers its content and the previous event's hash, so editing, deleting,
reordering or forging any row breaks the chain from there on (`creditfile audit verify`).
Writers take the chain head row FOR UPDATE, which puts concurrent events in one order.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
from datetime import UTC

from django.db import connection, transaction
from django.utils import timezone

from creditfile.access.models import AuditChainHead, AuditEvent
from creditfile.access.models.audit import GENESIS_HASH
from creditfile.core.history import current_actor
from creditfile.core.request_context import client_address, current_request_info
from creditfile.core.services import rows as model_rows

Action = AuditEvent.Action
Outcome = AuditEvent.Outcome

HASHED_FIELDS = (
    "id",
    "time",
    "user_id",
    "username",
    "address",
    "action",
    "outcome",
    "customer_id",
    "object_type",
    "object_id",
    "object_repr",
    "purpose",
    "detail",
    "request_id",
    "prev_hash",
)


_esc = json.encoder.encode_basestring  # JSON string literal, non-ASCII kept (C-accelerated)


def canonical_detail(detail) -> str:
    return json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _number(value) -> str:
    return "null" if value is None else str(value) if type(value) is int else json.dumps(value)


def canonical_text(id, *fields) -> str:
    """The hashed form of an event: the JSON object of HASHED_FIELDS with sorted keys and no
    spaces (json.dumps(..., sort_keys=True, ensure_ascii=False, separators=(",", ":"))),
    written out directly because `audit verify` computes it a million times. `fields` are
    the values of HASHED_FIELDS after the id, in order: the time in UTC in ISO form, the
    detail as canonical_detail, and last the previous hash."""
    before_id, before_prev, after_prev = _text_around(*fields[:-1])
    return before_id + _number(id) + before_prev + _esc(fields[-1]) + after_prev


def _text_around(
    time_iso,
    user_id,
    username,
    address,
    action,
    outcome,
    customer_id,
    object_type,
    object_id,
    object_repr,
    purpose,
    detail_text,
    request_id,
) -> tuple[str, str, str]:
    """canonical_text in three pieces around the id and the previous hash, the two values
    only the chain head knows."""
    return (
        f'{{"action":{_esc(action)},"address":{_esc(address)},'
        f'"customer_id":{_number(customer_id)},"detail":{detail_text},"id":',
        f',"object_id":{_esc(object_id)},"object_repr":{_esc(object_repr)},'
        f'"object_type":{_esc(object_type)},"outcome":{_esc(outcome)},"prev_hash":',
        f',"purpose":{_esc(purpose)},"request_id":{_esc(request_id)},"time":{_esc(time_iso)},'
        f'"user_id":{_number(user_id)},"username":{_esc(username)}}}',
    )


def text_around_chain(event: AuditEvent) -> tuple[str, str, str]:
    """The event's hashed text as (before the id, between the id and the previous hash,
    after it): the text is before + str(id) + between + prev_hash + after for a previous
    hash in hex (as the chain head holds). PostgreSQL joins them in the statement that
    takes the head (_append_in_one_statement)."""
    before_id, before_prev, after_prev = _text_around(*_content(event))
    return before_id, before_prev + '"', '"' + after_prev


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the event's content and the previous hash, in a fixed JSON form."""
    text = canonical_text(event.id, *_content(event), event.prev_hash)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _content(event: AuditEvent) -> tuple:
    """HASHED_FIELDS but the id and the previous hash, in the form they are hashed in."""
    return (
        event.time.astimezone(UTC).isoformat(),
        event.user_id,
        event.username,
        event.address,
        event.action,
        event.outcome,
        event.customer_id,
        event.object_type,
        event.object_id,
        event.object_repr,
        event.purpose,
        canonical_detail(event.detail),
        event.request_id,
    )


def plain_detail(value):
    """`detail` as it survives every database's JSON unchanged, so its hash does too: keys
    become text; text, whole numbers, booleans and None stay; anything else (floats,
    Decimals, dates) is kept as its text — PostgreSQL's jsonb would rewrite 1e20 or 2.50."""
    if isinstance(value, dict):
        return {str(key): plain_detail(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_detail(item) for item in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    return str(value)


def _describe(obj) -> tuple[str, str, str]:
    if not hasattr(obj, "_meta"):  # nothing, or only a customer's id
        return "", "", ""
    return obj._meta.label_lower, str(obj.pk), str(obj)[:200]


def record(
    action: str,
    *,
    user=None,
    request=None,
    customer=None,
    obj=None,
    outcome: str = Outcome.OK,
    purpose: str = "",
    detail: dict | None = None,
    username: str = "",
) -> AuditEvent:
    """Append one event. Who acts defaults to the request's or the current actor's user;
    the client address and request id default to the current web request's (set by
    RequestContextMiddleware), so callers deep inside a service need not pass `request`.

    `customer` may be a Customer or its id; `obj` is the record acted on when it is not
    the customer itself. `detail` is a dict of text and whole numbers (it is hashed;
    other values are stored as their text, see plain_detail).

    The time is when the action was recorded, taken before the chain head is locked: the
    trail's order is the ids', and two events racing for the head may carry times a
    moment out of that order.
    """
    actor = current_actor()
    info = current_request_info()
    if user is None and request is not None and request.user.is_authenticated:
        user = request.user
    if user is None:
        user = actor.user
    customer_id = getattr(customer, "pk", customer)
    # Hashed as stored: an id given as text would otherwise hash differently from what
    # `audit verify` reads back.
    customer_id = int(customer_id) if customer_id is not None else None
    detail = plain_detail(detail or {})
    object_type, object_id, object_repr = _describe(obj if obj is not None else customer)
    request_id = getattr(request, "id", "") or info.request_id or actor.request_id or ""
    event = AuditEvent(
        time=timezone.now(),
        user_id=getattr(user, "pk", None),
        username=(getattr(user, "username", "") or username)[:150],
        address=client_address(request) or info.address,
        action=action,
        outcome=outcome,
        customer_id=customer_id,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        purpose=(purpose or "")[:200],
        detail=detail,
        request_id=request_id[:36],
    )
    if connection.vendor == "postgresql":
        return _append_in_one_statement(event)
    return _append(event)


def _append(event: AuditEvent) -> AuditEvent:
    """Give the event the next id and chain it to the head, in one transaction."""
    with transaction.atomic():
        head = _locked_head()
        event.id = head.last_id + 1
        event.prev_hash = head.last_hash
        event.hash = event_hash(event)
        event.save()
        AuditChainHead.objects.filter(pk=head.pk).update(last_id=event.id, last_hash=event.hash)
    return event


_FIELDS = [name for name in HASHED_FIELDS if name not in ("id", "prev_hash")]


@functools.cache
def _append_sql() -> str:
    """The statement of _append_in_one_statement (PostgreSQL only, so built once)."""
    quote = connection.ops.quote_name
    event_table, head_table = quote(AuditEvent._meta.db_table), quote(AuditChainHead._meta.db_table)
    # Typed: INSERT … SELECT would take an untyped NULL for text, not for the bigint column.
    # Without a length: an explicit cast to varchar(n) cuts a longer text silently (after
    # it was hashed whole); the insert's own conversion refuses it instead.
    placeholders = ", ".join(
        "%s::" + re.sub(r"\(\d+\)", "", AuditEvent._meta.get_field(name).db_type(connection))
        for name in _FIELDS
    )
    return f"""
        WITH head AS (
            SELECT last_id, last_hash FROM {head_table} WHERE id = 1 FOR UPDATE
        ), event AS (
            INSERT INTO {event_table} ({", ".join(quote(n) for n in _FIELDS)}, id, prev_hash, hash)
            SELECT {placeholders}, head.last_id + 1, head.last_hash, encode(sha256(convert_to(
                %s || (head.last_id + 1)::text || %s || head.last_hash || %s, 'UTF8')), 'hex')
            FROM head
            RETURNING id, prev_hash, hash
        )
        UPDATE {head_table} SET last_id = event.id, last_hash = event.hash FROM event
        WHERE {head_table}.id = 1
        RETURNING event.id, event.prev_hash, event.hash
    """


def _append_in_one_statement(event: AuditEvent) -> AuditEvent:
    """_append as one statement on PostgreSQL: take the head FOR UPDATE, insert the event
    hashed by the database's sha256() over text_around_chain, move the head. Each of the
    five round trips of the ORM way cost as much as the insert; every page read is one
    event, so this is most of audit logging's cost per request."""
    values = [getattr(event, name) for name in _FIELDS]
    values[_FIELDS.index("detail")] = json.dumps(event.detail, ensure_ascii=False)
    params = [*values, *text_around_chain(event)]
    sql = _append_sql()
    # Alone, one statement is atomic without BEGIN and COMMIT (a page's read event). Inside
    # a caller's transaction a savepoint keeps a refused event from aborting all of it.
    within = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with within, model_rows.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:  # a flushed test database has no head row yet
            AuditChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS_HASH})
            cursor.execute(sql, params)
            row = cursor.fetchone()
    event.id, event.prev_hash, event.hash = row
    event._state.adding, event._state.db = False, connection.alias
    return event


def record_view(customer, *, request=None, section: str = "", purpose: str = ""):
    """A read of a customer's file: one `view` event per request per customer, however many
    queries or panels the request shows. Outside a web request every call is an event.
    Returns the event, or None when this request already logged the customer."""
    info = current_request_info()
    key = getattr(customer, "pk", customer)
    if info.request_id:
        if key in info.viewed:
            return None
        info.viewed.add(key)
    return record(
        Action.VIEW,
        request=request,
        customer=customer,
        purpose=purpose,
        detail={"section": section} if section else None,
    )


def _locked_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # A flushed test database has no head row; the first writer makes it.
        AuditChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS_HASH})
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head
