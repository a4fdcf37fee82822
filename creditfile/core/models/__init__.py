from creditfile.core.models.base import ProvenanceModel, TimestampedModel
from creditfile.core.models.changes import ObjectChange
from creditfile.core.models.organisation import ApiToken, Company, Department, User
from creditfile.core.models.sessions import UserSession

__all__ = [
    "ApiToken",
    "Company",
    "Department",
    "ObjectChange",
    "ProvenanceModel",
    "TimestampedModel",
    "User",
    "UserSession",
]
