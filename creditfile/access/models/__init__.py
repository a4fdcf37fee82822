from creditfile.access.models.audit import AuditChainHead, AuditEvent

__all__ = ["AuditChainHead", "AuditEvent"]
