"""What waits for the user in receivables 应收管理: the counts on the hub page, each
counted among the customers the user may see (nothing counts a hidden customer)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from creditfile.core.fields import ZERO
from creditfile.customers.services.visibility import visible_customers
from creditfile.receivables.choices import (
    CaseStatus,
    OrderStatus,
    PromiseStatus,
    WriteOffStatus,
)
from creditfile.receivables.models import (
    CollectionCase,
    Exposure,
    Invoice,
    PaymentPromise,
    SalesOrder,
    WriteOff,
)


@dataclass(frozen=True)
class Overview:
    open_receivables: Decimal
    overdue: Decimal
    blocked_orders: int
    open_cases: int
    follow_ups_due: int
    broken_promises: int
    write_offs_waiting: int


def overview(user, today: datetime.date) -> Overview:
    customers = visible_customers(user)
    exposures = Exposure.objects.filter(customer__in=customers)
    overdue = Invoice.objects.filter(
        customer__in=customers, open_base__gt=0, due_date__lt=today
    ).aggregate(total=Sum("open_base"))["total"]
    cases = CollectionCase.objects.filter(customer__in=customers, status=CaseStatus.OPEN)
    return Overview(
        open_receivables=exposures.aggregate(total=Sum("open_receivables"))["total"] or ZERO,
        overdue=overdue or ZERO,
        blocked_orders=SalesOrder.objects.filter(
            customer__in=customers, status=OrderStatus.BLOCKED
        ).count(),
        open_cases=cases.count(),
        follow_ups_due=cases.filter(next_action_on__lte=today).count(),
        broken_promises=PaymentPromise.objects.filter(
            case__in=cases, status=PromiseStatus.BROKEN
        ).count(),
        write_offs_waiting=WriteOff.objects.filter(
            invoice__customer__in=customers, status=WriteOffStatus.PROPOSED
        ).count(),
    )
