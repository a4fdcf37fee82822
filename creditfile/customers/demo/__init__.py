"""Deterministic, realistic demo data: a demo company's people and N customer files.

`run_demo` is what `creditfile demo` calls; the pieces are:
org.py (departments and users), generator.py (one customer file from (seed, index), no
database), writer.py (batched bulk inserts), credit.py (the credit department's records
and work in progress) and words.py (the word lists).
"""

from dataclasses import dataclass
from datetime import date

from creditfile.customers.demo.org import DEMO_PASSWORD, PEOPLE, build_demo_org


class DemoRefused(Exception):
    """The database already holds customers and --append was not given."""


@dataclass
class DemoResult:
    start: int
    report: object
    org: object
    credit: object = None


def run_demo(
    customers: int,
    seed: int,
    today: date,
    *,
    append: bool = False,
    batch_size: int = 2000,
    progress=None,
) -> DemoResult:
    from django.db.models import Max

    from creditfile.core.history import acting_as
    from creditfile.customers.demo.credit import write_credit
    from creditfile.customers.demo.generator import Context
    from creditfile.customers.demo.writer import write_customers
    from creditfile.customers.models import Customer
    from creditfile.customers.services.reference_data import load_reference_data

    existing = Customer.objects.count()
    if existing and not append:
        raise DemoRefused(existing)
    first_id = (Customer.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    with acting_as(label="creditfile demo"):
        load_reference_data()
        org = build_demo_org()
    ctx = Context.from_database(seed, today)
    report = write_customers(
        ctx,
        existing,
        customers,
        batch_size=batch_size,
        check_conflicts=bool(existing),
        progress=progress,
    )
    with acting_as(label="creditfile demo"):
        credit = write_credit(seed, today, org, first_id)
    return DemoResult(start=existing, report=report, org=org, credit=credit)


__all__ = ["DEMO_PASSWORD", "PEOPLE", "DemoRefused", "run_demo"]
