"""Bad-debt write-offs 坏账核销 (R-30): propose from an open invoice, the register, and
approval, rejection or reversal by a credit manager, VP or GM.

Thin views over services/writeoffs.py. Approving and reversing change the ledger and the
exposure, so they ask for the password again (like releasing a blocked order).
"""

from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditfile.core import sudo
from creditfile.customers.services.visibility import visible_customers
from creditfile.receivables.choices import WriteOffStatus
from creditfile.receivables.models import Invoice, WriteOff
from creditfile.receivables.services import writeoffs
from creditfile.receivables.services.ledger import LedgerError

PER_PAGE = 50


class WriteOffForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("坏账金额（人民币）"), max_digits=18, decimal_places=2, min_value=0
    )
    reason = forms.CharField(
        label=gettext_lazy("核销理由"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("如：客户破产清算、诉讼终结无可执行财产、超过诉讼时效"),
    )


def _invoice_for(request: HttpRequest, pk: int) -> Invoice:
    if not request.user.has_perm(writeoffs.PROPOSE):
        raise PermissionDenied
    invoices = Invoice.objects.filter(customer__in=visible_customers(request.user))
    return get_object_or_404(invoices.select_related("customer", "company"), pk=pk)


@require_http_methods(["GET", "POST"])
def writeoff_propose(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_for(request, pk)
    form = WriteOffForm(request.POST or None, initial={"amount": invoice.open_base})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                proposal = writeoffs.propose_write_off(
                    invoice, form.cleaned_data["amount"], form.cleaned_data["reason"], request.user
                )
            except LedgerError as refused:
                form.add_error(
                    refused.field if refused.field in form.fields else None, str(refused)
                )
            else:
                message = _("已提出核销发票 %(number)s 的 %(amount)s 元，等待审批。") % {
                    "number": invoice.number,
                    "amount": f"{proposal.base_amount:,.2f}",
                }
                if request.htmx:
                    return render(
                        request,
                        "receivables/_writeoff_form.html",
                        {"invoice": invoice, "done": message},
                    )
                messages.success(request, message)
                return redirect("receivables:writeoffs")
        status = 422
    template = (
        "receivables/_writeoff_form.html" if request.htmx else "receivables/writeoff_form.html"
    )
    return render(request, template, {"invoice": invoice, "form": form}, status=status)


def _register(request: HttpRequest):
    if not request.user.has_perm("receivables.view_writeoff"):
        raise PermissionDenied
    return WriteOff.objects.filter(
        invoice__customer__in=visible_customers(request.user)
    ).select_related(
        "invoice__customer", "invoice__company", "proposed_by", "decided_by", "reversed_by"
    )


@require_GET
def writeoff_register(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    entries = _register(request)
    if status in WriteOffStatus.values:
        entries = entries.filter(status=status)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "receivables/writeoffs.html",
        {
            "page": page,
            "status": status,
            "statuses": WriteOffStatus.choices,
            "can_decide": request.user.has_perm(writeoffs.APPROVE),
        },
    )


def _allowed(view):
    """Refuse people who may not decide before asking them for their password."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(writeoffs.APPROVE):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _act(request: HttpRequest, pk: int, action) -> HttpResponse:
    entry = get_object_or_404(_register(request), pk=pk)
    error = message = ""
    try:
        message = action(entry)
    except LedgerError as refused:
        error = str(refused)
    entry.refresh_from_db()
    if request.htmx:
        return render(
            request,
            "receivables/_writeoff_row.html",
            {
                "entry": entry,
                "error": error,
                "message": message,
                "can_decide": request.user.has_perm(writeoffs.APPROVE),
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, message)
    return redirect("receivables:writeoffs")


@require_POST
@_allowed
@sudo.require_recent_password(gettext_lazy("审批坏账核销"))
def writeoff_approve(request: HttpRequest, pk: int) -> HttpResponse:
    def approve(entry):
        writeoffs.approve_write_off(entry, request.user, request.POST.get("reason", ""))
        return _("已核销发票 %(number)s 的 %(amount)s 元。") % {
            "number": entry.invoice.number,
            "amount": f"{entry.base_amount:,.2f}",
        }

    return _act(request, pk, approve)


@require_POST
@_allowed
def writeoff_reject(request: HttpRequest, pk: int) -> HttpResponse:
    def reject(entry):
        writeoffs.reject_write_off(entry, request.user, request.POST.get("reason", ""))
        return _("已驳回发票 %(number)s 的核销。") % {"number": entry.invoice.number}

    return _act(request, pk, reject)


@require_POST
@_allowed
@sudo.require_recent_password(gettext_lazy("冲回坏账核销"))
def writeoff_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    def reverse(entry):
        writeoffs.reverse_write_off(entry, request.user, request.POST.get("reason", ""))
        return _("已冲回发票 %(number)s 的核销，%(amount)s 元重新计入应收。") % {
            "number": entry.invoice.number,
            "amount": f"{entry.base_amount:,.2f}",
        }

    return _act(request, pk, reverse)
