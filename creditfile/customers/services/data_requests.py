"""Requests people make about their own data 个人信息主体请求 (PIPL arts. 44–47, 50).

A key person (or someone whose record is gone) asks for a copy, a correction or the
deletion of their data. Each request is registered with how the person's identity was
checked, handled through the file's normal services, and closed with its outcome; the
register shows what is due (15 working days) and what is overdue.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl.styles import Font

from creditfile.access.models import AuditEvent
from creditfile.access.services import audit, deliveries
from creditfile.core.history import display_value
from creditfile.customers.choices import DataRequestKind
from creditfile.customers.models import DataSubjectRequest, KeyPerson
from creditfile.customers.services.file_edits import delete_record
from creditfile.customers.services.personal_data import erase_personal_details
from creditfile.customers.services.visibility import get_customer_for

COPY_FIELDS = (
    "name",
    "role",
    "title",
    *KeyPerson.PRIVATE_FIELDS,
    "source",
    "source_date",
    "purpose",
    "legal_basis",
    "consent_reference",
    "basis_note",
    "retention_until",
)


def register_request(
    *,
    kind: str,
    person_name: str,
    received_on: date,
    identity_check: str,
    handled_by,
    key_person: KeyPerson | None = None,
    details: str = "",
) -> DataSubjectRequest:
    dsr = DataSubjectRequest(
        kind=kind,
        key_person=key_person,
        customer_id=key_person.customer_id if key_person else None,
        person_name=person_name or (key_person.name if key_person else ""),
        received_on=received_on,
        identity_check=identity_check,
        handled_by=handled_by,
        details=details,
    )
    dsr.full_clean()
    dsr.save()
    return dsr


def _purpose(dsr: DataSubjectRequest) -> str:
    return _("个人信息主体请求 #%(id)s（%(kind)s）") % {
        "id": dsr.pk,
        "kind": dsr.get_kind_display(),
    }


def _person_for(user, dsr: DataSubjectRequest, action: str) -> KeyPerson:
    if dsr.key_person_id is None:
        raise ValidationError(_("此请求没有对应的关键人物记录（可能已删除），无法处理。"))
    get_customer_for(user, dsr.customer_id, action)
    return dsr.key_person


def copy_workbook(user, dsr: DataSubjectRequest, stamp) -> tuple[str, bytes, KeyPerson]:
    """The person's data as an Excel file to hand over: every field held about them, why,
    until when, and who looked at it. The caller hands it out through deliveries.send,
    which records the export with `handover_purpose(dsr)`."""
    person = _person_for(user, dsr, "view")
    # Handed to the person, so in Chinese whatever language the handler works in.
    with translation.override("zh-hans"):
        content = _copy_content(dsr, person, stamp)
    return f"personal-data-{dsr.pk}.xlsx", content, person


def handover_purpose(dsr: DataSubjectRequest) -> str:
    return _purpose(dsr)


def _copy_content(dsr: DataSubjectRequest, person: KeyPerson, stamp) -> bytes:
    workbook = deliveries.spreadsheet(stamp)
    sheet = workbook.active
    sheet.title = _("个人信息")
    bold = Font(bold=True)
    sheet.append([_("客户"), str(person.customer)])
    sheet.append([_("请求编号"), dsr.pk])
    sheet.append([_("生成日期"), timezone.localdate().isoformat()])
    sheet.append([])
    sheet.append([_("项目"), _("内容")])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for name in COPY_FIELDS:
        field = KeyPerson._meta.get_field(name)
        sheet.append([str(field.verbose_name), display_value(person, field)])
    if person.consent_attachment_id:
        sheet.append([_("同意书附件"), str(person.consent_attachment)])
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 60

    uses = workbook.create_sheet(_("查看与处理记录"))
    uses.append([_("时间"), _("动作"), _("用户"), _("目的")])
    for cell in uses[1]:
        cell.font = bold
    events = AuditEvent.objects.filter(
        object_type=KeyPerson._meta.label_lower, object_id=str(person.pk)
    ).order_by("id")
    for event in events:
        uses.append(
            [
                timezone.localtime(event.time).strftime("%Y-%m-%d %H:%M"),
                event.get_action_display(),
                event.username,
                event.purpose,
            ]
        )
    for letter, width in zip("ABCD", (18, 16, 14, 40), strict=True):
        uses.column_dimensions[letter].width = width

    return deliveries.workbook_bytes(workbook)


@transaction.atomic
def erase_for_request(user, dsr: DataSubjectRequest, *, remove_record: bool, request=None):
    """Delete what the person asked to have deleted: their private details, and with
    `remove_record` the key-person record itself. The outcome is noted on the request."""
    if dsr.kind != DataRequestKind.DELETION:
        raise ValidationError(_("只有删除请求才能删除个人信息。"))
    person = _person_for(user, dsr, "edit")
    erased = erase_personal_details(person, reason=_purpose(dsr), user=user, request=request)
    notes = []
    if erased:
        labels = "、".join(str(KeyPerson._meta.get_field(n).verbose_name) for n in erased)
        notes.append(_("已删除个人信息：%(fields)s。") % {"fields": labels})
    if remove_record:
        if not erased:
            audit.record(
                audit.Action.DELETE_PERSONAL,
                user=user,
                request=request,
                customer=person.customer_id,
                obj=person,
                purpose=_purpose(dsr),
                detail={"fields": "record"},
            )
        delete_record(person)
        notes.append(_("已删除关键人物记录。"))
    if not notes:
        notes.append(_("没有需要删除的个人信息。"))
    dsr.refresh_from_db()
    dsr.outcome = "\n".join(filter(None, [dsr.outcome.strip(), *notes]))
    dsr.save(update_fields=["outcome", "updated_at"])
    return dsr


def close_request(dsr: DataSubjectRequest, *, outcome: str, closed_on: date) -> DataSubjectRequest:
    dsr.outcome = outcome
    dsr.closed_on = closed_on
    dsr.full_clean()
    dsr.save()
    return dsr


def register_rows(queryset, today: date) -> list[dict]:
    """The register as shown: each request with its due date and whether it is overdue."""
    return [
        {"request": r, "due_on": r.due_on, "overdue": r.is_overdue(today)}
        for r in queryset.select_related("handled_by", "customer")
    ]
