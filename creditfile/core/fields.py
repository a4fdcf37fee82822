"""Shared field types, so every amount in the system is stored the same way."""

from decimal import Decimal

from django.db import models


class MoneyField(models.DecimalField):
    """An amount of money: NUMERIC(18, 2), never a float."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_digits") == 18:
            del kwargs["max_digits"]
        if kwargs.get("decimal_places") == 2:
            del kwargs["decimal_places"]
        return name, path, args, kwargs


ZERO = Decimal("0.00")
