"""The printable customer card (R-13)."""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from creditfile.access.services import deliveries
from creditfile.access.services.audit import Action
from creditfile.customers.cards import build_customer_card, card_filename, card_number
from creditfile.customers.choices import CustomerKind
from creditfile.customers.services.visibility import get_customer_for


@require_GET
def customer_card_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for(request.user, pk)
    kind = request.GET.get("kind") or customer.kind
    if kind not in CustomerKind.values:
        return HttpResponseBadRequest(
            _("参数 kind 只能是 distributor（经销商）或 end_customer（终端客户）。")
        )
    stamp = deliveries.stamp_for(request.user)
    return deliveries.send(
        request,
        build_customer_card(customer, stamp=stamp, kind=kind),
        filename=card_filename(customer),
        fallback=f"customer-card-{card_number(customer)}.pdf",
        content_type=deliveries.PDF,
        inline=True,
        action=Action.PRINT,
        stamp=stamp,
        customer=customer,
        detail={"kind": kind},
    )


urlpatterns = [
    path("<int:pk>/card.pdf", customer_card_pdf, name="card_pdf"),
]
