from creditfile.access.models.audit import AuditChainHead, AuditEvent
from creditfile.access.models.policy import AccessSettings
from creditfile.access.models.requests import (
    ApprovalStep,
    Lending,
    ReadRequest,
    RequestedCustomer,
)

__all__ = [
    "AccessSettings",
    "ApprovalStep",
    "AuditChainHead",
    "AuditEvent",
    "Lending",
    "ReadRequest",
    "RequestedCustomer",
]
