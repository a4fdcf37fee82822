"""The receivables API: the order credit check and the ERP's documents (R-19, R-30).

An ERP calls POST /api/v1/credit-checks before releasing an order: released or blocked
with every reason, and a released order has reserved its amount. POST
/api/v1/receivables/invoices and /payments take a list of documents (one or many), all
or nothing. Thin: the rules are services/checks.py and services/ledger.py, the same the
UI and Python callers use.
"""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from creditfile.core.api_auth import has_permission
from creditfile.core.history import acting_as
from creditfile.core.models import Company
from creditfile.customers.api import MessageOut, Money, ValidationErrorOut
from creditfile.customers.services.visibility import readable_customer, visible_customers
from creditfile.receivables.choices import CheckPoint, PaymentKind
from creditfile.receivables.models import Exposure, SalesOrder
from creditfile.receivables.services import ledger, orders
from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.ledger import LedgerError

router = Router()
documents_router = Router()


class CreditCheckIn(Schema):
    customer_id: int
    order_ref: str = Field(..., min_length=1, max_length=60, description="订单号")
    amount: Money = Field(..., description="订单金额（原币）")
    currency: str = Field("CNY", description="币种（三位字母代码）")
    rate: str = Field("1", description="汇率：1 单位原币折合人民币")
    company_id: int | None = Field(None, description="销售公司，缺省为本公司")
    source: str = Field("api", max_length=40, description="来源系统；与订单号一起识别订单")
    on_date: date | None = Field(None, description="检查日期，缺省为今天")
    point: CheckPoint = Field(
        CheckPoint.ENTRY,
        description="订单所处环节：entry 录入、release 审核放行、delivery 发货、invoice 开票；"
        "在公司设置的检查环节检查，订单首次占用额度或金额增加时总要检查",
    )


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
    checked: bool = Field(..., description="false：尚未到公司的第一个检查环节，只登记不占用额度")
    order_id: int
    status: str
    stage: str
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
    if not has_permission(request.user, "receivables.check_credit"):
        raise PermissionDenied
    # get_customer_for's rule (hidden customers are a 404), with only the columns the
    # check uses: every order comes this way.
    customer = readable_customer(request.user, payload.customer_id, ("id", "lifecycle"))
    if customer is None:
        raise Http404
    company = get_object_or_404(Company, pk=payload.company_id) if payload.company_id else None
    try:
        with _acting(request):
            result = check_credit(
                customer,
                payload.amount,
                payload.order_ref,
                point=payload.point,
                company=company,
                on_date=payload.on_date,
                currency=payload.currency,
                rate=payload.rate,
                source=payload.source,
            )
    except LedgerError as error:
        return _refused(error)
    return _answer(result)


def _refused(error: LedgerError) -> Status:
    return Status(422, {"detail": [{"field": error.field or "__all__", "message": str(error)}]})


def _answer(result) -> dict:
    percent = result.utilisation_percent
    return {
        "released": result.released,
        "checked": result.checked,
        "order_id": result.order.pk,
        "status": result.order.status,
        "stage": result.order.stage,
        "reasons": [reason.as_dict() for reason in result.reasons],
        "limit": result.limit,
        "open_receivables": result.open_receivables,
        "open_orders": result.open_orders,
        "overdue_amount": result.overdue_amount,
        "oldest_overdue_days": result.oldest_overdue_days,
        "utilisation_percent": None if percent is None else str(percent),
    }


# -- an order's life after its check: close, reopen, copy ----------------------------------

CHECK_RESPONSES = {200: CreditCheckOut, 403: MessageOut, 404: MessageOut, 422: ValidationErrorOut}


class CancelIn(Schema):
    reason: str = Field("", max_length=500, description="取消（关闭）原因")


class ReopenIn(Schema):
    amount: Money | None = Field(None, description="新的订单金额（原币）；缺省为原金额")
    on_date: date | None = None


class CopyIn(Schema):
    order_ref: str = Field(..., min_length=1, max_length=60, description="新订单号")
    on_date: date | None = None


class OrderOut(Schema):
    order_id: int
    status: str
    open_orders: Money


def _order(request, order_id: int) -> SalesOrder:
    if not request.user.has_perm("receivables.check_credit"):
        raise PermissionDenied
    return get_object_or_404(
        SalesOrder.objects.filter(customer__in=visible_customers(request.user)), pk=order_id
    )


@documents_router.post(
    "/orders/{order_id}/cancel",
    response={200: OrderOut, 403: MessageOut, 404: MessageOut, 422: ValidationErrorOut},
    summary="取消（关闭）订单 Close an order and free what it holds",
)
def cancel(request, order_id: int, payload: CancelIn):
    order = _order(request, order_id)
    try:
        with _acting(request):
            order = orders.cancel_order(order, payload.reason)
    except LedgerError as error:
        return _refused(error)
    exposure = Exposure.objects.get(customer_id=order.customer_id, company_id=order.company_id)
    return {"order_id": order.pk, "status": order.status, "open_orders": exposure.open_orders}


@documents_router.post(
    "/orders/{order_id}/reopen",
    response=CHECK_RESPONSES,
    summary="重新打开已关闭的订单（重新检查） Reopen a closed order: checked again",
)
def reopen(request, order_id: int, payload: ReopenIn):
    order = _order(request, order_id)
    try:
        with _acting(request):
            result = orders.reopen_order(order, amount=payload.amount, on_date=payload.on_date)
    except LedgerError as error:
        return _refused(error)
    return _answer(result)


@documents_router.post(
    "/orders/{order_id}/copy",
    response=CHECK_RESPONSES,
    summary="复制订单（作为新订单检查） Copy an order: the copy is checked as a new order",
)
def copy(request, order_id: int, payload: CopyIn):
    order = _order(request, order_id)
    try:
        with _acting(request):
            result = orders.copy_order(order, payload.order_ref, on_date=payload.on_date)
    except LedgerError as error:
        return _refused(error)
    return _answer(result)


# -- documents from the ERP, one or many at a time ----------------------------------------


class InvoiceIn(Schema):
    customer_id: int
    number: str = Field(..., min_length=1, max_length=60, description="发票号")
    invoice_date: date
    amount: Money = Field(..., description="发票金额（原币）")
    due_date: date | None = Field(None, description="到期日；缺省为开票日加授信的信用期限")
    currency: str = "CNY"
    rate: str = "1"
    company_id: int | None = None
    source: str = Field("api", max_length=40)
    order_number: str = Field("", max_length=60, description="对应的销售订单号（冲减其占用）")


class PaymentIn(Schema):
    customer_id: int
    number: str = Field(..., min_length=1, max_length=60, description="回款或贷项通知单号")
    received_on: date
    amount: Money
    kind: PaymentKind = PaymentKind.PAYMENT
    reference: str = Field("", max_length=60, description="付款所指的发票号，先冲抵该发票")
    currency: str = "CNY"
    rate: str = "1"
    company_id: int | None = None
    source: str = Field("api", max_length=40)


class PostedOut(Schema):
    posted: int
    ids: list[int]


class _Refused(Exception):
    """Rolls the whole batch back once every row has been tried."""


def _post_batch(request, rows: list, permission: str, post) -> Status | dict:
    """Post every row in one transaction; if any row is refused, nothing is kept and the
    answer names every refused row and field (`3.amount`)."""
    if not request.user.has_perm(permission):
        raise PermissionDenied
    errors, ids = [], []
    try:
        with transaction.atomic(), _acting(request):
            for index, row in enumerate(rows):
                try:
                    with transaction.atomic():
                        customer = (
                            visible_customers(request.user).filter(pk=row.customer_id).first()
                        )
                        if customer is None:
                            raise LedgerError(
                                _("找不到客户 %(id)s。") % {"id": row.customer_id}, "customer_id"
                            )
                        company = (
                            Company.objects.filter(pk=row.company_id).first()
                            if row.company_id
                            else None
                        )
                        if row.company_id and company is None:
                            raise LedgerError(
                                _("找不到销售公司 %(id)s。") % {"id": row.company_id}, "company_id"
                            )
                        ids.append(post(customer, company, row).pk)
                except LedgerError as error:
                    errors.append(
                        {"field": f"{index}.{error.field or '__all__'}", "message": str(error)}
                    )
            if errors:
                raise _Refused
    except _Refused:
        return Status(422, {"detail": errors})
    return {"posted": len(ids), "ids": ids}


def _acting(request):
    return acting_as(user=request.user, label="api", request_id=getattr(request, "id", ""))


BATCH_RESPONSES = {200: PostedOut, 403: MessageOut, 422: ValidationErrorOut}


@documents_router.post(
    "/invoices", response=BATCH_RESPONSES, summary="过账发票 Post invoices (one or a batch)"
)
def post_invoices(request, payload: list[InvoiceIn]):
    def post(customer, company, row):
        return ledger.post_invoice(
            customer,
            row.number,
            row.invoice_date,
            row.amount,
            due_date=row.due_date,
            company=company,
            currency=row.currency,
            rate=row.rate,
            source=row.source,
            order_number=row.order_number,
        )

    return _post_batch(request, payload, "receivables.add_invoice", post)


@documents_router.post(
    "/payments",
    response=BATCH_RESPONSES,
    summary="过账回款与贷项通知单 Post payments and credit notes",
)
def post_payments(request, payload: list[PaymentIn]):
    def post(customer, company, row):
        return ledger.post_payment(
            customer,
            row.number,
            row.received_on,
            row.amount,
            kind=row.kind,
            reference=row.reference,
            company=company,
            currency=row.currency,
            rate=row.rate,
            source=row.source,
        )

    return _post_batch(request, payload, "receivables.add_payment", post)
