"""The receivables ledger (R-19, R-30): orders, invoices, payments, and each customer's
exposure kept exact with them; the ERP file imports that feed them; collection cases and
dunning."""

from creditfile.receivables.models.collections import (
    CollectionAction,
    CollectionCase,
    PaymentPromise,
)
from creditfile.receivables.models.dunning import (
    DunningLetter,
    DunningLevel,
    DunningNotice,
    DunningPolicy,
    DunningProposal,
    DunningProposalLine,
    DunningRun,
    DunningTemplate,
)
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
from creditfile.receivables.models.writeoff import WriteOff

__all__ = [
    "Allocation",
    "CollectionAction",
    "CollectionCase",
    "CreditControl",
    "DocumentKind",
    "DunningLetter",
    "DunningLevel",
    "DunningNotice",
    "DunningPolicy",
    "DunningProposal",
    "DunningProposalLine",
    "DunningRun",
    "DunningTemplate",
    "ErpCustomerCode",
    "Exposure",
    "ImportJob",
    "ImportMapping",
    "ImportProblem",
    "Invoice",
    "JobStatus",
    "Payment",
    "PaymentPromise",
    "SalesOrder",
    "WriteOff",
]
