"""The register of personal-data requests 个人信息主体请求 (PIPL arts. 44–47): thin views over
customers/services/data_requests.py."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from creditfile.access.services import deliveries
from creditfile.access.services.audit import Action
from creditfile.customers.choices import DataRequestKind
from creditfile.customers.forms import formfield
from creditfile.customers.models import DataSubjectRequest, KeyPerson
from creditfile.customers.services import data_requests
from creditfile.customers.services.visibility import get_customer_for


class DataSubjectRequestForm(forms.ModelForm):
    class Meta:
        model = DataSubjectRequest
        fields = ("kind", "person_name", "received_on", "identity_check", "details")
        formfield_callback = formfield


class CloseRequestForm(forms.Form):
    outcome = forms.CharField(label=gettext_lazy("处理结果"), widget=forms.Textarea({"rows": 3}))
    closed_on = forms.DateField(
        label=gettext_lazy("办结日期"), widget=forms.DateInput({"type": "date"}, "%Y-%m-%d")
    )


class EraseForm(forms.Form):
    remove_record = forms.BooleanField(
        label=gettext_lazy("同时删除关键人物记录（姓名、职务）"), required=False
    )


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _get(pk: int) -> DataSubjectRequest:
    return get_object_or_404(
        DataSubjectRequest.objects.select_related("key_person", "customer", "handled_by"), pk=pk
    )


def data_request_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, "customers.view_datasubjectrequest")
    today = timezone.localdate()
    rows = data_requests.register_rows(DataSubjectRequest.objects.all(), today)
    return render(
        request,
        "customers/data_requests/list.html",
        {"rows": rows, "can_add": request.user.has_perm("customers.add_datasubjectrequest")},
    )


def data_request_create(request: HttpRequest) -> HttpResponse:
    _require(request.user, "customers.add_datasubjectrequest")
    person = None
    person_id = request.GET.get("key_person", "")
    if person_id:
        if not person_id.isdigit():
            raise PermissionDenied
        person = get_object_or_404(KeyPerson, pk=int(person_id))
        get_customer_for(request.user, person.customer_id, "view")
    initial = {"received_on": timezone.localdate(), "person_name": person.name if person else ""}
    form = DataSubjectRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            dsr = data_requests.register_request(
                handled_by=request.user, key_person=person, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已登记个人信息主体请求。"))
            return redirect("customers:data_request", dsr.pk)
    return render(request, "customers/data_requests/form.html", {"form": form, "person": person})


def data_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, "customers.view_datasubjectrequest")
    dsr = _get(pk)
    can_change = request.user.has_perm("customers.change_datasubjectrequest")
    close_form = CloseRequestForm(
        request.POST or None,
        initial={"outcome": dsr.outcome, "closed_on": timezone.localdate()},
    )
    if request.method == "POST":
        _require(request.user, "customers.change_datasubjectrequest")
        if close_form.is_valid():
            try:
                data_requests.close_request(dsr, **close_form.cleaned_data)
            except ValidationError as exc:
                close_form.add_error(None, exc)
            else:
                messages.success(request, _("请求已办结。"))
                return redirect("customers:data_request", dsr.pk)
    context = {
        "dsr": dsr,
        "due_on": dsr.due_on,
        "overdue": dsr.is_overdue(timezone.localdate()),
        "can_change": can_change and dsr.closed_on is None,
        "close_form": close_form,
        "erase_form": EraseForm() if dsr.kind == DataRequestKind.DELETION else None,
    }
    return render(request, "customers/data_requests/detail.html", context)


@require_POST
def data_request_copy(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, "customers.change_datasubjectrequest")
    dsr = _get(pk)
    stamp = deliveries.stamp_for(request.user)
    try:
        filename, content, person = data_requests.copy_workbook(request.user, dsr, stamp)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("customers:data_request", dsr.pk)
    return deliveries.send(
        request,
        content,
        filename=filename,
        fallback=filename,
        content_type=deliveries.XLSX,
        action=Action.EXPORT,
        stamp=stamp,
        customer=person.customer_id,
        obj=person,
        purpose=data_requests.handover_purpose(dsr),
        detail={"request": dsr.pk, "format": "xlsx"},
    )


@require_POST
def data_request_erase(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, "customers.change_datasubjectrequest")
    dsr = _get(pk)
    form = EraseForm(request.POST)
    form.is_valid()
    try:
        data_requests.erase_for_request(
            request.user,
            dsr,
            remove_record=form.cleaned_data.get("remove_record", False),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("已删除请求人的个人信息。"))
    return redirect("customers:data_request", dsr.pk)


urlpatterns = [
    path("data-requests/", data_request_list, name="data_requests"),
    path("data-requests/new/", data_request_create, name="data_request_add"),
    path("data-requests/<int:pk>/", data_request_detail, name="data_request"),
    path("data-requests/<int:pk>/copy/", data_request_copy, name="data_request_copy"),
    path("data-requests/<int:pk>/erase/", data_request_erase, name="data_request_erase"),
]
