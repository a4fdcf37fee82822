"""The credit check over the API: POST /api/v1/credit-checks (R-19).

An ERP calls it before releasing an order; the answer is released or blocked with every
reason, and a released order has reserved its amount. Thin: the rule is
services/checks.py, the same the UI and Python callers use.
"""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.responses import Status

from creditfile.core.history import acting_as
from creditfile.core.models import Company
from creditfile.customers.api import MessageOut, Money, ValidationErrorOut
from creditfile.customers.services.visibility import get_customer_for
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.ledger import LedgerError

router = Router()


class CreditCheckIn(Schema):
    customer_id: int
    order_ref: str = Field(..., min_length=1, max_length=60, description="订单号")
    amount: Money = Field(..., description="订单金额（原币）")
    currency: str = Field("CNY", description="币种（三位字母代码）")
    rate: str = Field("1", description="汇率：1 单位原币折合人民币")
    company_id: int | None = Field(None, description="销售公司，缺省为本公司")
    source: str = Field("api", max_length=40, description="来源系统；与订单号一起识别订单")
    on_date: date | None = Field(None, description="检查日期，缺省为今天")


class ReasonOut(Schema):
    code: str = Field(
        ...,
        description="no_line、line_expired、cash_on_delivery、blacklisted、sanction、"
        "over_limit、over_group_limit、overdue",
    )
    message: str
    amount: str | None


class CreditCheckOut(Schema):
    released: bool
    order_id: int
    status: str
    reasons: list[ReasonOut]
    limit: Money = Field(..., description="可用额度（人民币）")
    open_receivables: Money
    open_orders: Money
    overdue_amount: Money
    oldest_overdue_days: int
    utilisation_percent: str | None


@router.post(
    "",
    response={200: CreditCheckOut, 403: MessageOut, 404: MessageOut, 422: ValidationErrorOut},
    summary="订单信用检查 Check an order against the customer's credit",
)
def create_credit_check(request, payload: CreditCheckIn):
    if not request.user.has_perm("receivables.check_credit"):
        raise PermissionDenied
    customer = get_customer_for(request.user, payload.customer_id)
    company = get_object_or_404(Company, pk=payload.company_id) if payload.company_id else None
    try:
        with acting_as(user=request.user, label="api", request_id=getattr(request, "id", "")):
            result = check_credit(
                customer,
                payload.amount,
                payload.order_ref,
                company=company,
                on_date=payload.on_date,
                currency=payload.currency,
                rate=payload.rate,
                source=payload.source,
                user=request.user,
            )
    except LedgerError as error:
        return Status(422, {"detail": [{"field": error.field or "__all__", "message": str(error)}]})
    percent = result.utilisation_percent
    return {
        "released": result.released,
        "order_id": result.order.pk,
        "status": result.order.status,
        "reasons": [reason.as_dict() for reason in result.reasons],
        "limit": result.limit,
        "open_receivables": result.open_receivables,
        "open_orders": result.open_orders,
        "overdue_amount": result.overdue_amount,
        "oldest_overdue_days": result.oldest_overdue_days,
        "utilisation_percent": None if percent is None else str(percent),
    }
