from creditfile.core.models.base import ProvenanceModel, TimestampedModel
from creditfile.core.models.changes import ObjectChange
from creditfile.core.models.handover import HandoverItem, HandoverLetterTemplate, HandoverRecord
from creditfile.core.models.organisation import ApiToken, Company, Department, User
from creditfile.core.models.sessions import UserSession

__all__ = [
    "ApiToken",
    "Company",
    "Department",
    "HandoverItem",
    "HandoverLetterTemplate",
    "HandoverRecord",
    "ObjectChange",
    "ProvenanceModel",
    "TimestampedModel",
    "User",
    "UserSession",
]
