"""R-20 without an application: the customer will not file one, and the credit manager decides.

Sales record the refusal from the customer's credit tab; the credit manager answers with one
of the three decisions of seed 002 and, where needed, a follow-up with a due date, which
keeps the refusal on the work queue until someone records the follow-up as done. Refusals
made from an application's page are the same records and show here too. Thin views over
services/workflow.py (record_refusal, decide_refusal, complete_refusal_follow_up); customers
the user cannot see are a 404, a missing right is a 403.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from creditfile.credit import forms as credit_forms
from creditfile.credit.models import CustomerRefusal
from creditfile.credit.services import workflow
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.services.visibility import get_customer_for, visible_customers

QUEUE_LIST_SIZE = 20
DECISION_ALIASES = {"decision_reason": "reason"}


class FollowUpDoneForm(forms.Form):
    done_on = forms.DateField(
        label=gettext_lazy("跟进完成日期"), widget=forms.DateInput(attrs={"type": "date"})
    )


def visible_refusals(user) -> QuerySet:
    return CustomerRefusal.objects.filter(customer__in=visible_customers(user))


def open_refusals_for(user) -> QuerySet:
    """The work queue's list: undecided first, then by follow-up due date, oldest first."""
    return (
        workflow.open_refusals()
        .filter(customer__in=visible_customers(user))
        .select_related("customer", "recorded_by", "application")
        .order_by(
            F("decided_at").asc(nulls_first=True),
            F("follow_up_due").asc(nulls_last=True),
            "created_at",
            "id",
        )
    )


def _refusal(user, pk: int) -> CustomerRefusal:
    return get_object_or_404(
        visible_refusals(user).select_related(
            "customer", "application", "recorded_by", "decided_by"
        ),
        pk=pk,
    )


def _apply_error(
    request, refusal, form: forms.Form, error: WorkflowError, aliases: dict | None = None
) -> HttpResponse | None:
    """The service said no: 403 for who the person is; back to the record with the message
    when the record has moved on (decided, done); else the message at the form's field."""
    if error.code == "forbidden":
        raise PermissionDenied(str(error.message))
    if error.code != "invalid":
        messages.error(request, str(error.message))
        return redirect("credit:refusal", pk=refusal.pk)
    field = (aliases or {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, str(error.message))
    return None


def customer_panel_context(user, customer) -> dict:
    """What `credit/refusals/_customer_panel.html` needs on the customer's credit tab."""
    return {
        "customer": customer,
        "refusals": CustomerRefusal.objects.filter(customer=customer).select_related(
            "recorded_by", "application"
        )[:20],
        "can_record_refusal": user.has_perm("credit.add_customerrefusal"),
    }


@require_http_methods(["GET", "POST"])
def refusal_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """记录客户拒绝申请: who refused, why, and what sales and their manager think."""
    customer = get_customer_for(request.user, customer_pk)
    if not request.user.has_perm("credit.add_customerrefusal"):
        raise PermissionDenied(_("您没有权限：记录客户拒绝申请。"))
    form = credit_forms.RefusalForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                refusal = workflow.record_refusal(customer, request.user, **form.cleaned_data)
            except WorkflowError as error:
                if error.code == "forbidden":
                    raise PermissionDenied(str(error.message)) from error
                form.add_error(
                    error.field if error.field in form.fields else None, str(error.message)
                )
            else:
                messages.success(request, _("已记录客户拒绝申请，等待信用经理处理意见。"))
                return redirect("credit:refusal", pk=refusal.pk)
        status = 422
    context = {"customer": customer, "form": form}
    return render(request, "credit/refusals/create.html", context, status=status)


def _detail_context(request, refusal, decision_form=None, done_form=None) -> dict:
    user = request.user
    can_decide = not refusal.decided_at and user.has_perm("credit.approve_application")
    can_close = bool(
        refusal.decided_at and refusal.follow_up_due and not refusal.follow_up_done_on
    ) and user.has_perm("credit.change_customerrefusal")
    if can_decide and decision_form is None:
        decision_form = credit_forms.RefusalDecisionForm(prefix="decide")
    if can_close and done_form is None:
        done_form = FollowUpDoneForm(prefix="done", initial={"done_on": timezone.localdate()})
    return {
        "refusal": refusal,
        "customer": refusal.customer,
        "decision_form": decision_form if can_decide else None,
        "done_form": done_form if can_close else None,
        "today": timezone.localdate(),
    }


@require_http_methods(["GET"])
def refusal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    refusal = _refusal(request.user, pk)
    return render(request, "credit/refusals/detail.html", _detail_context(request, refusal))


@require_POST
def refusal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The credit manager's decision (seed 002); with an application it moves that too."""
    refusal = _refusal(request.user, pk)
    if not request.user.has_perm("credit.approve_application"):
        raise PermissionDenied(_("您没有权限：决定客户拒绝申请的处理意见。"))
    form = credit_forms.RefusalDecisionForm(request.POST, prefix="decide")
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                workflow.decide_refusal(
                    refusal,
                    request.user,
                    data["decision"],
                    reason=data["reason"],
                    follow_up=data["follow_up"],
                    follow_up_due=data["follow_up_due"],
                )
        except WorkflowError as error:
            refusal.refresh_from_db()
            if (moved := _apply_error(request, refusal, form, error, DECISION_ALIASES)) is not None:
                return moved
        else:
            messages.success(request, _("已记录信用经理处理意见。"))
            return redirect("credit:refusal", pk=refusal.pk)
    context = _detail_context(request, refusal, decision_form=form)
    return render(request, "credit/refusals/detail.html", context, status=422)


@require_POST
def refusal_follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    refusal = _refusal(request.user, pk)
    if not request.user.has_perm("credit.change_customerrefusal"):
        raise PermissionDenied(_("您没有权限：记录跟进完成。"))
    form = FollowUpDoneForm(request.POST, prefix="done")
    if form.is_valid():
        try:
            workflow.complete_refusal_follow_up(refusal, request.user, form.cleaned_data["done_on"])
        except WorkflowError as error:
            refusal.refresh_from_db()
            if (moved := _apply_error(request, refusal, form, error)) is not None:
                return moved
        else:
            messages.success(request, _("已记录跟进完成。"))
            return redirect("credit:refusal", pk=refusal.pk)
    context = _detail_context(request, refusal, done_form=form)
    return render(request, "credit/refusals/detail.html", context, status=422)


urlpatterns = [
    path("customers/<int:customer_pk>/refusals/new/", refusal_create, name="refusal_create"),
    path("refusals/<int:pk>/", refusal_detail, name="refusal"),
    path("refusals/<int:pk>/decide/", refusal_decide, name="refusal_decide"),
    path("refusals/<int:pk>/follow-up-done/", refusal_follow_up_done, name="refusal_done"),
]
