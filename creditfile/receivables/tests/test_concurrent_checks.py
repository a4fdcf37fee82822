"""Many credit checks for one customer at the same moment never release more than the
limit: 60 real threads, each with its own database connection, on whichever database
the suite runs on (CI runs it on SQLite and on PostgreSQL)."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from creditfile.receivables.choices import OrderStatus
from creditfile.receivables.models import Exposure, SalesOrder
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.testing import TODAY, credit_customer

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = 60


def test_parallel_checks_release_exactly_what_the_limit_allows(org):
    customer = credit_customer(org.cathy, "100000", name="并发检查有限公司")
    barrier = threading.Barrier(CHECKS)
    outcomes: list = [None] * CHECKS

    def run(index):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = check_credit(customer, "7000", f"SO-{index}", on_date=TODAY).released
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CHECKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [o for o in outcomes if not isinstance(o, bool)] == []  # no errors, no timeouts
    released = SalesOrder.objects.filter(customer=customer, status=OrderStatus.RELEASED)
    assert outcomes.count(True) == released.count() == 14  # 14 × 7,000 ≤ 100,000 < 15 × 7,000
    assert SalesOrder.objects.filter(status=OrderStatus.BLOCKED).count() == CHECKS - 14
    row = Exposure.objects.get(customer=customer)
    assert row.open_orders == Decimal("98000.00")
    assert (row.open_receivables, row.open_orders) == exposures.recompute(
        customer.pk, row.company_id
    )
