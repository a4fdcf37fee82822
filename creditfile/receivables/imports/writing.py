"""Writing checked records into the ledger through the ledger's own posting functions,
so an imported document follows exactly the rules of one posted by the API or on screen
and the exposure stays exact.

Records go a batch at a time: one query finds the batch's documents that already exist,
rows identical to what is stored are left alone (importing a file again changes
nothing). Invoices, the bulk of an ERP's receivables export, are then posted set-based
(services/invoice_batch.py: a few statements per batch, the same outcome as posting them
one by one). Payments, credit notes and orders are posted one by one inside one
savepoint; only when the ledger refuses a row is the batch rolled back and posted again
row by row, to name the refused rows.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.receivables.choices import OrderStatus, PaymentKind
from creditfile.receivables.imports.fields import CUSTOMER_FIELDS
from creditfile.receivables.imports.validating import Problem, Record
from creditfile.receivables.models import (
    DocumentKind,
    ErpCustomerCode,
    ImportMapping,
    Invoice,
    Payment,
    SalesOrder,
)
from creditfile.receivables.services import ledger
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.invoice_batch import InvoiceInput, post_invoices
from creditfile.receivables.services.ledger import LedgerError

_PAYMENT_KIND = {
    DocumentKind.PAYMENT: PaymentKind.PAYMENT,
    DocumentKind.CREDIT_NOTE: PaymentKind.CREDIT_NOTE,
}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class LedgerWriter:
    """Posts the records of one file; must run inside the file's transaction."""

    def __init__(self, mapping: ImportMapping, header_of: dict[str, str]):
        self.mapping = mapping
        self.header_of = header_of
        self.counts = Counts()
        self.today = timezone.localdate()

    def write(self, records: list[Record]) -> list[Problem]:
        existing = self._existing([record.number for record in records])
        todo = []
        for record in records:
            document = existing.get(record.number)
            if document is not None and self._unchanged(document, record):
                self.counts.unchanged += 1
            else:
                todo.append((record, document is None))
        if self.mapping.kind == DocumentKind.INVOICE:
            return self._write_invoices(todo)
        try:
            with transaction.atomic():
                for record, _new in todo:
                    self._post(record)
        except LedgerError:
            return self._write_one_by_one(todo)
        self._count(todo)
        self._learn_codes([record for record, _new in todo])
        return []

    def _write_invoices(self, todo) -> list[Problem]:
        """All of the batch's new and changed invoices at once; the refused ones named."""
        result = post_invoices(
            self.mapping.company,
            self.mapping.source,
            [
                InvoiceInput(
                    customer=record.customer,
                    number=record.number,
                    invoice_date=record.date,
                    amount=record.amount,
                    currency=record.currency,
                    rate=record.rate,
                    due_date=record.due_date,
                    order_number=record.order_number,
                )
                for record, _new in todo
            ],
        )
        self.counts.created += len(result.created)
        self.counts.updated += len(result.updated)
        self._learn_codes([todo[p][0] for p in sorted(result.created + result.updated)])
        problems = [
            Problem(todo[p][0].row, self._header(error.field), str(error))
            for p, error in result.refused
        ]
        return sorted(problems, key=lambda problem: problem.row)

    def _write_one_by_one(self, todo) -> list[Problem]:
        problems, posted = [], []
        for record, new in todo:
            try:
                with transaction.atomic():
                    self._post(record)
            except LedgerError as error:
                problems.append(Problem(record.row, self._header(error.field), str(error)))
            else:
                posted.append((record, new))
        self._count(posted)
        self._learn_codes([record for record, _new in posted])
        return problems

    def _count(self, posted) -> None:
        for _record, new in posted:
            if new:
                self.counts.created += 1
            else:
                self.counts.updated += 1

    def _header(self, field: str) -> str:
        if field == "customer":
            return next((self.header_of[n] for n in CUSTOMER_FIELDS if n in self.header_of), "")
        if field == "order_ref":
            field = "number"
        return self.header_of.get(field, "")

    def _learn_codes(self, records: list[Record]) -> None:
        codes = [
            ErpCustomerCode(source=self.mapping.source, code=r.learned_code, customer=r.customer)
            for r in records
            if r.learned_code
        ]
        ErpCustomerCode.objects.bulk_create(codes, ignore_conflicts=True)

    # -- what is there already ----------------------------------------------------------------

    def _existing(self, numbers: list[str]) -> dict:
        mapping, kind = self.mapping, self.mapping.kind
        where = {"company": mapping.company, "source": mapping.source, "number__in": numbers}
        if kind == DocumentKind.INVOICE:
            documents = Invoice.objects.filter(**where).select_related("order")
        elif kind == DocumentKind.ORDER:
            documents = SalesOrder.objects.filter(**where)
        else:
            documents = Payment.objects.filter(**where, kind=_PAYMENT_KIND[kind])
        return {document.number: document for document in documents}

    def _unchanged(self, document, record: Record) -> bool:
        same = (
            document.customer_id == record.customer.pk
            and document.amount == record.amount
            and document.currency == record.currency
            and document.rate == record.rate
        )
        kind = self.mapping.kind
        if kind == DocumentKind.INVOICE:
            order_number = document.order.number if document.order else ""
            return (
                same
                and document.invoice_date == record.date
                and (record.due_date is None or document.due_date == record.due_date)
                and order_number == record.order_number
            )
        if kind == DocumentKind.ORDER:
            return same and document.order_date == record.date
        return (
            same and document.received_on == record.date and document.reference == record.reference
        )

    # -- posting --------------------------------------------------------------------------------

    def _post(self, record: Record) -> None:
        mapping, kind = self.mapping, self.mapping.kind
        common = {
            "company": mapping.company,
            "currency": record.currency,
            "rate": record.rate,
            "source": mapping.source,
        }
        if kind == DocumentKind.INVOICE:
            ledger.post_invoice(
                record.customer,
                record.number,
                record.date,
                record.amount,
                due_date=record.due_date,
                order_number=record.order_number,
                **common,
            )
        elif kind == DocumentKind.ORDER:
            self._check_order(record, common)
        else:
            ledger.post_payment(
                record.customer,
                record.number,
                record.date,
                record.amount,
                kind=_PAYMENT_KIND[kind],
                reference=record.reference,
                **common,
            )

    def _check_order(self, record: Record, common: dict) -> None:
        """An imported order goes through the credit check like any other (R-19): checked
        today, dated as the ERP dated it; a rejected order is not revived by importing."""
        order = SalesOrder.objects.filter(
            company=common["company"], source=common["source"], number=record.number
        ).first()
        if order is not None and order.status == OrderStatus.REJECTED:
            raise LedgerError(
                _("订单 %(number)s 已被拒绝，不能通过导入重新检查。") % {"number": record.number},
                "number",
            )
        check_credit(
            record.customer,
            record.amount,
            record.number,
            on_date=self.today,
            order_date=record.date,
            **common,
        )
