"""The default approval matrix: credit manager up to ¥500k, VP up to ¥2M, GM above.

Weaker grades need a higher signature sooner: a grade C line above ¥200k also
goes to the VP, and any grade D credit at all does.
"""

from decimal import Decimal

from creditfile.core import roles
from creditfile.credit.models import ApprovalRule

DEFAULT_RULES = [
    (1, roles.CREDIT_MANAGER, Decimal("0"), ""),
    (2, roles.VP, Decimal("500000"), ""),
    (2, roles.VP, Decimal("200000"), "C"),
    (2, roles.VP, Decimal("0"), "D"),
    (3, roles.GENERAL_MANAGER, Decimal("2000000"), ""),
]


def install() -> None:
    if ApprovalRule.objects.exists():
        return
    ApprovalRule.objects.bulk_create(
        ApprovalRule(level=level, role=role, above_amount=above, grades=grades)
        for level, role, above, grades in DEFAULT_RULES
    )
