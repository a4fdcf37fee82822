"""Who may see and edit which customers: the names the rest of the code calls.

The rule itself lives in creditfile/access/policy.py (R-40, R-41); these are thin
delegates kept so that customers, credit and receivables go on calling what they always
called. Nothing here decides anything.
"""

from django.db.models import QuerySet

from creditfile.access import policy
from creditfile.access.policy import (  # noqa: F401 (re-exported)
    NotEditable,
    NotReadable,
    can_edit,
    can_read,
    edits_everything,
    get_customer_for,
    managed_departments,
    reach,
    readable_customer,
    reads_everything,
    restrict,
)


def visible_customers(user) -> QuerySet:
    """The customers `user` may read (lists, search, counts, exports, API lists)."""
    return policy.readable_customers(user)
