"""The letter telling a handed-over customer who their new account manager is (R-43).

It stands on the reply letter's machinery (credit/services/letters.py): the same fixed
{占位符} substitution (a template can name nothing else), the same letterhead, PDF and
DOCX layout. The text is one editable template; letters are filled in when printed, so
they carry the successor's contact details as they are that day.
"""

import io
import zipfile

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from creditfile.core.models import Company, HandoverLetterTemplate, HandoverRecord
from creditfile.credit.services.letters import (
    compose_docx,
    compose_pdf,
    date_cn,
    in_letter_language,
    substitute,
    validate_template_text,
)

PLACEHOLDERS = {
    "客户名称": gettext_lazy("客户名称"),
    "联系人": gettext_lazy("客户联系人（主要联系人，没有则法定代表人）"),
    "原客户经理": gettext_lazy("原负责销售代表"),
    "新客户经理": gettext_lazy("新负责销售代表（接手人）"),
    "联系电话": gettext_lazy("新客户经理电话（没有则本公司电话）"),
    "电子邮件": gettext_lazy("新客户经理电子邮件"),
    "交接日期": gettext_lazy("交接日期，如 2026年12月7日"),
    "日期": gettext_lazy("发函日期"),
    "公司名称": gettext_lazy("本公司名称"),
    "落款": gettext_lazy("函件落款（销售公司设置中的“函件落款”）"),
}

DEFAULT_SUBJECT = "客户经理变更通知"
DEFAULT_BODY = """{客户名称}：

感谢贵公司一直以来对我公司的信任与支持。

因工作调整，自{交接日期}起，您的客户经理变更为{新客户经理}，联系电话：{联系电话}。今后有关订货、对账、付款及其他业务事宜，请与{新客户经理}联系。

原客户经理{原客户经理}经办的业务均已交接完毕，贵公司与我公司之间的合同、信用额度及付款条件均保持不变。如有任何疑问，欢迎随时与我们联系。

此致
敬礼

{公司名称}
{落款}
{日期}"""


def letter_template() -> HandoverLetterTemplate:
    """The template in use; the default text until someone edits it."""
    template = HandoverLetterTemplate.objects.order_by("pk").first()
    return template or HandoverLetterTemplate(subject=DEFAULT_SUBJECT, body=DEFAULT_BODY)


def save_letter_template(subject: str, body: str, user) -> HandoverLetterTemplate:
    """Check every placeholder, then keep the text; ValidationError keyed by field."""
    errors = {}
    for name, text in (("subject", subject), ("body", body)):
        if not (text or "").strip():
            errors[name] = [_("此项不能为空。")]
            continue
        try:
            validate_template_text(text, PLACEHOLDERS)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        template = HandoverLetterTemplate.objects.select_for_update().order_by("pk").first()
        template = template or HandoverLetterTemplate()
        template.subject, template.body, template.updated_by = subject.strip(), body, user
        template.save()
    return template


def customers_to_notify(record: HandoverRecord) -> list:
    """The customers that moved, in the order handed over, with their contacts prefetched."""
    from creditfile.customers.models import Customer

    ids = list(
        record.items.filter(kind="customer").order_by("id").values_list("object_id", flat=True)
    )
    customers = Customer.objects.filter(pk__in=ids).prefetch_related("contact_set")
    by_id = {customer.pk: customer for customer in customers}
    return [by_id[pk] for pk in ids if pk in by_id]


def main_contact(customer):
    """The primary contact (else the first by name), or None."""
    contacts = sorted(customer.contact_set.all(), key=lambda c: (not c.is_primary, c.name))
    return contacts[0] if contacts else None


def _values(record: HandoverRecord, customer, company: Company, on_date=None) -> dict:
    contact = main_contact(customer)
    successor = record.successor
    return {
        "客户名称": customer.name,
        "联系人": contact.name if contact else customer.legal_representative,
        "原客户经理": str(record.departing),
        "新客户经理": str(successor),
        "联系电话": successor.phone or company.phone,
        "电子邮件": successor.email,
        "交接日期": date_cn(timezone.localdate(record.handed_over_at)),
        "日期": date_cn(on_date or timezone.localdate()),
        "公司名称": company.name,
        "落款": company.letter_signatory,
    }


@in_letter_language
def render(record: HandoverRecord, customer, template=None, on_date=None) -> tuple[str, str]:
    """(subject, body) of the letter for one customer of the record."""
    template = template or letter_template()
    values = _values(record, customer, Company.default(), on_date)
    return (
        substitute(template.subject, values, PLACEHOLDERS),
        substitute(template.body, values, PLACEHOLDERS),
    )


def sample(template=None) -> tuple[str, str]:
    """The template filled in with made-up values, for the editor's preview."""
    template = template or letter_template()
    company = Company.default()
    today = date_cn(timezone.localdate())
    values = {
        "客户名称": _("华信科技有限公司"),
        "联系人": _("王经理"),
        "原客户经理": _("张三"),
        "新客户经理": _("李四"),
        "联系电话": "0512-66881234",
        "电子邮件": "lisi@example.com",
        "交接日期": today,
        "日期": today,
        "公司名称": company.name,
        "落款": company.letter_signatory,
    }
    return (
        substitute(template.subject, values, PLACEHOLDERS),
        substitute(template.body, values, PLACEHOLDERS),
    )


@in_letter_language
def letter_filename(record: HandoverRecord, customer, extension: str) -> str:
    return f"{customer.name}-{_('客户经理变更通知')}-{record.pk}.{extension}"


@in_letter_language
def letter_pdf(record: HandoverRecord, customer, stamp) -> bytes:
    subject, body = render(record, customer)
    return compose_pdf(
        Company.default(),
        subject,
        body,
        title=_("客户经理变更通知"),
        reference=f"#{record.pk}",
        stamp=stamp,
    )


def letter_docx(record: HandoverRecord, customer, stamp) -> bytes:
    subject, body = render(record, customer)
    return compose_docx(Company.default(), subject, body, stamp)


def letters_zip(record: HandoverRecord, stamp) -> bytes:
    """Every moved customer's letter as PDF and DOCX in one file, for printing or mailing."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for customer in customers_to_notify(record):
            archive.writestr(
                letter_filename(record, customer, "pdf"), letter_pdf(record, customer, stamp)
            )
            archive.writestr(
                letter_filename(record, customer, "docx"), letter_docx(record, customer, stamp)
            )
    return buffer.getvalue()
