"""The receivables ledger (R-19, R-30): orders, invoices, payments, and each customer's
exposure kept exact with them."""

from creditfile.receivables.models.exposure import CreditControl, Exposure
from creditfile.receivables.models.ledger import Allocation, Invoice, Payment, SalesOrder
from creditfile.receivables.models.writeoff import WriteOff

__all__ = [
    "Allocation",
    "CreditControl",
    "Exposure",
    "Invoice",
    "Payment",
    "SalesOrder",
    "WriteOff",
]
