"""Reading the audit trail for the auditor's screen 审计记录 (R-47): filters and the Excel export.

Read-only by design: nothing here writes audit events except the export's own `export`
event (an export of the trail is itself something an auditor's auditor wants to see).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from creditfile.access.models import AuditEvent

EXPORT_CAP = 200_000
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


@dataclass
class TrailFilters:
    user_id: int | None = None
    customer_ids: list[int] | None = None
    action: str = ""
    outcome: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_events(filters: TrailFilters, queryset: QuerySet | None = None) -> QuerySet:
    """Events matching every given filter, newest first; the dates are Shanghai days,
    both ends included."""
    events = AuditEvent.objects.all() if queryset is None else queryset
    if filters.user_id is not None:
        events = events.filter(user_id=filters.user_id)
    if filters.customer_ids is not None:
        events = events.filter(customer_id__in=filters.customer_ids)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.date_from:
        events = events.filter(time__gte=_day_start(filters.date_from))
    if filters.date_to:
        events = events.filter(time__lt=_day_start(filters.date_to + timedelta(days=1)))
    return events.order_by("-id")


def customer_names(ids) -> dict[int, str]:
    from creditfile.customers.models import Customer

    ids = {i for i in ids if i is not None}
    return dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


COLUMNS = [
    (gettext_noop("编号"), 10),
    (gettext_noop("时间"), 20),
    (gettext_noop("用户名"), 14),
    (gettext_noop("地址"), 16),
    (gettext_noop("动作"), 12),
    (gettext_noop("结果"), 8),
    (gettext_noop("客户"), 30),
    (gettext_noop("对象"), 30),
    (gettext_noop("目的"), 24),
    (gettext_noop("详情"), 40),
    (gettext_noop("请求编号"), 38),
    (gettext_noop("哈希"), 66),
]


def _detail_text(detail: dict) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted((detail or {}).items()))


def write_trail(events: QuerySet, target, *, stamp, cap: int = EXPORT_CAP) -> int:
    """The events as an .xlsx workbook in `target`, stamped and with formula-like text kept
    as text (deliveries.spreadsheet); rows written (at most `cap`, then a row saying the
    export stopped there)."""
    from openpyxl.utils import get_column_letter

    from creditfile.access.services.deliveries import spreadsheet

    workbook = spreadsheet(stamp, write_only=True)
    sheet = workbook.create_sheet(_("审计记录"))
    for index, (_header, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for msgid, _width in COLUMNS:
        cell = WriteOnlyCell(sheet, value=_(msgid))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    actions = dict(AuditEvent.Action.choices)
    outcomes = dict(AuditEvent.Outcome.choices)
    written = 0
    chunk: list[AuditEvent] = []

    def flush():
        names = customer_names(e.customer_id for e in chunk)
        for e in chunk:
            time_cell = WriteOnlyCell(sheet, value=timezone.localtime(e.time).replace(tzinfo=None))
            time_cell.number_format = DATETIME_FORMAT
            customer = names.get(e.customer_id, str(e.customer_id or ""))
            obj = f"{e.object_type} #{e.object_id} {e.object_repr}".strip() if e.object_type else ""
            row = [
                e.id,
                time_cell,
                e.username,
                e.address,
                str(actions.get(e.action, e.action)),
                str(outcomes.get(e.outcome, e.outcome)),
                customer,
                obj,
                e.purpose,
                _detail_text(e.detail),
                e.request_id,
                e.hash,
            ]
            sheet.append(row)
        chunk.clear()

    for event in events.iterator(chunk_size=2000):
        if written >= cap:
            sheet.append([_("仅导出前 %(n)s 条，请缩小筛选范围。") % {"n": cap}])
            break
        chunk.append(event)
        written += 1
        if len(chunk) >= 2000:
            flush()
    flush()
    workbook.save(target)
    return written
