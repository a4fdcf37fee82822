"""Guarantees, collateral, deposits 保证金 and credit insurance behind a customer's credit.

A security counts (as a scorecard input and, where the grade policy says so, as extra
headroom in `lines.available_limit`) only while today is inside its validity, so ending
one means setting its end date, never deleting it: the history of what backed a line
must stay readable for audits and disputes.
"""

import datetime
from dataclasses import dataclass, fields
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.credit.choices import LineStatus, SecurityKind
from creditfile.credit.models import CreditSecurity
from creditfile.credit.services.errors import WorkflowError, require_perm
from creditfile.customers.services.attachments import add_attachment

DOCUMENT_CATEGORY = "grant"


@dataclass
class SecurityInput:
    kind: str
    provider: str
    amount: Decimal
    valid_from: datetime.date
    reference: str = ""
    coverage_percent: Decimal = Decimal(100)
    valid_until: datetime.date | None = None
    notes: str = ""
    line: object = None


def _validate(customer, data: SecurityInput) -> None:
    if data.kind not in SecurityKind.values:
        raise WorkflowError(_("无效的增信类型。"), "invalid", "kind")
    if not (data.provider or "").strip():
        raise WorkflowError(_("请填写担保人/保险公司/存入方。"), "invalid", "provider")
    if data.amount is None or data.amount <= 0:
        raise WorkflowError(_("金额须大于0。"), "invalid", "amount")
    if not Decimal(0) < data.coverage_percent <= Decimal(100):
        raise WorkflowError(_("赔付比例应大于0且不超过100。"), "invalid", "coverage_percent")
    if data.valid_until and data.valid_until < data.valid_from:
        raise WorkflowError(_("到期日期不能早于生效日期。"), "invalid", "valid_until")
    if data.kind == SecurityKind.INSURANCE:
        # An insurer pays only under a named policy for a stated period.
        if not data.reference.strip():
            raise WorkflowError(_("信用保险须填写保单号。"), "invalid", "reference")
        if data.valid_until is None:
            raise WorkflowError(_("信用保险须填写保险期限（到期日期）。"), "invalid", "valid_until")
    if data.line is not None and (
        data.line.customer_id != customer.pk or data.line.status != LineStatus.ACTIVE
    ):
        raise WorkflowError(_("只能关联该客户有效的授信额度。"), "invalid", "line")


def _document(customer, user, uploaded, data: SecurityInput):
    if uploaded is None:
        return None
    kind = SecurityKind(data.kind).label
    try:
        return add_attachment(
            customer,
            uploaded,
            category=DOCUMENT_CATEGORY,
            title=f"{kind} {data.provider} {data.reference}".strip()[:200],
            document_date=data.valid_from,
            user=user,
        )
    except ValidationError as exc:
        message = "；".join(exc.message_dict.get("file", exc.messages))
        raise WorkflowError(message, "invalid", "document") from exc


@transaction.atomic
def add_security(customer, user, data: SecurityInput, document=None) -> CreditSecurity:
    require_perm(user, "credit.add_creditsecurity", _("登记增信措施"))
    _validate(customer, data)
    values = {f.name: getattr(data, f.name) for f in fields(SecurityInput)}
    return CreditSecurity.objects.create(
        customer=customer,
        document=_document(customer, user, document, data),
        recorded_by=user,
        **values,
    )


@transaction.atomic
def update_security(security: CreditSecurity, user, data: SecurityInput, document=None):
    """Correct a security's details; a new document replaces the link, the old stays filed."""
    require_perm(user, "credit.change_creditsecurity", _("修改增信措施"))
    security = CreditSecurity.objects.select_for_update().get(pk=security.pk)
    _validate(security.customer, data)
    for f in fields(SecurityInput):
        setattr(security, f.name, getattr(data, f.name))
    new_document = _document(security.customer, user, document, data)
    if new_document is not None:
        security.document = new_document
    security.save()
    return security


@transaction.atomic
def end_security(
    security: CreditSecurity, user, end_date: datetime.date | None = None, reason: str = ""
) -> CreditSecurity:
    """Released, returned or lapsed: it stops counting after `end_date` (default today)."""
    require_perm(user, "credit.change_creditsecurity", _("终止增信措施"))
    security = CreditSecurity.objects.select_for_update().get(pk=security.pk)
    end_date = end_date or timezone.localdate()
    if end_date < security.valid_from:
        raise WorkflowError(_("终止日期不能早于生效日期。"), "invalid", "end_date")
    if security.valid_until is not None and security.valid_until <= end_date:
        raise WorkflowError(_("该增信措施在此日期前已到期。"), "state")
    security.valid_until = end_date
    if reason.strip():
        stamp = _("%(date)s 终止：%(reason)s") % {"date": end_date, "reason": reason.strip()}
        security.notes = f"{security.notes}\n{stamp}".strip()
    security.save(update_fields=["valid_until", "notes"])
    return security


def is_in_force(security: CreditSecurity, on_date: datetime.date | None = None) -> bool:
    on_date = on_date or timezone.localdate()
    return security.valid_from <= on_date and (
        security.valid_until is None or security.valid_until >= on_date
    )


def securities_for(customer, on_date: datetime.date | None = None) -> tuple[list, list]:
    """(in force, ended or not yet started) securities of the customer."""
    on_date = on_date or timezone.localdate()
    current, other = [], []
    for security in customer.credit_securities.select_related("document", "line"):
        (current if is_in_force(security, on_date) else other).append(security)
    return current, other
