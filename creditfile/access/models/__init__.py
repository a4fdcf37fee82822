from creditfile.access.models.audit import AuditChainHead, AuditEvent
from creditfile.access.models.violations import ViolationSummary

__all__ = ["AuditChainHead", "AuditEvent", "ViolationSummary"]
