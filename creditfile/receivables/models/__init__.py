"""The receivables ledger (R-19, R-30): orders, invoices, payments, and each customer's
exposure kept exact with them; collection cases and dunning."""

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
from creditfile.receivables.models.ledger import Allocation, Invoice, Payment, SalesOrder

__all__ = [
    "Allocation",
    "CollectionAction",
    "CollectionCase",
    "CreditControl",
    "DunningLetter",
    "DunningLevel",
    "DunningNotice",
    "DunningPolicy",
    "DunningProposal",
    "DunningProposalLine",
    "DunningRun",
    "DunningTemplate",
    "Exposure",
    "Invoice",
    "Payment",
    "PaymentPromise",
    "SalesOrder",
]
