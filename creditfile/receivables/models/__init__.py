"""The receivables ledger (R-19, R-30): orders, invoices, payments, and each customer's
exposure kept exact with them; and the ERP file imports that feed them."""

from creditfile.receivables.models.exposure import CreditControl, Exposure
from creditfile.receivables.models.imports import (
    DocumentKind,
    ErpCustomerCode,
    ImportJob,
    ImportMapping,
    ImportProblem,
    JobStatus,
)
from creditfile.receivables.models.ledger import Allocation, Invoice, Payment, SalesOrder

__all__ = [
    "Allocation",
    "CreditControl",
    "DocumentKind",
    "ErpCustomerCode",
    "Exposure",
    "ImportJob",
    "ImportMapping",
    "ImportProblem",
    "Invoice",
    "JobStatus",
    "Payment",
    "SalesOrder",
]
