"""Test helpers: a customer with a line, ready to buy on credit."""

import datetime
from decimal import Decimal

from creditfile.core.models import Company
from creditfile.credit.choices import LineStatus
from creditfile.credit.models import CreditLine
from creditfile.customers.testing import make_customer

TODAY = datetime.date(2026, 6, 30)


def credit_customer(
    granted_by, limit="100000", *, name="华信科技有限公司", term_days=30, **line_fields
):
    """A customer with an active line with our company since the start of the year."""
    customer = make_customer(name, owner=line_fields.pop("owner", None))
    line_fields.setdefault("valid_from", datetime.date(2026, 1, 1))
    CreditLine.objects.create(
        customer=customer,
        company=Company.default(),
        status=line_fields.pop("status", LineStatus.ACTIVE),
        grade=line_fields.pop("grade", "B"),
        limit=Decimal(limit),
        term_days=term_days,
        granted_by=granted_by,
        **line_fields,
    )
    return customer
