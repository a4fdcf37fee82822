"""Test helpers that build valid customer files with few lines."""

import itertools

from creditfile.core.validators import uscc_check_digit
from creditfile.customers.models import Customer

_serial = itertools.count(1)


def valid_uscc(serial: int | None = None, region: str = "440300") -> str:
    serial = next(_serial) if serial is None else serial
    first17 = f"91{region}{serial:08d}M"
    return first17 + uscc_check_digit(first17)


def make_customer(name: str = "华信科技有限公司", owner=None, **fields) -> Customer:
    fields.setdefault("uscc", valid_uscc())
    fields.setdefault("source", "sales")
    if owner is not None:
        fields.setdefault("department", owner.department)
    customer = Customer(name=name, owner=owner, **fields)
    customer.full_clean()
    customer.save()
    return customer
