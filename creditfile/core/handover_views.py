"""Screens of the handover when an employee leaves (R-43): start one, read the records,
print the letters to the customers, edit the letter's text. Rules live in
services/handover.py and services/handover_letters.py."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from creditfile.core.models import User
from creditfile.core.services import handover
from creditfile.core.services import handover_letters as letters
from creditfile.core.sudo import require_recent_password

app_name = "handover"


class HandoverForm(forms.Form):
    departing = forms.ModelChoiceField(
        label=gettext_lazy("移交人（离职或调岗人员）"), queryset=User.objects.none()
    )
    successor = forms.ModelChoiceField(label=gettext_lazy("接手人"), queryset=User.objects.none())
    reason = forms.CharField(
        label=gettext_lazy("交接原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    deactivate = forms.BooleanField(
        label=gettext_lazy("同时停用移交人账号（立即退出所有登录）"),
        required=False,
        initial=True,
    )

    def __init__(self, by, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = by
        people = handover.people_in_reach(by)
        self.fields["departing"].queryset = people
        self.fields["successor"].queryset = people.filter(is_active=True)
        for name in ("departing", "successor"):
            self.fields[name].label_from_instance = _person_label

    def clean(self):
        data = super().clean()
        departing, successor = data.get("departing"), data.get("successor")
        if departing and successor:
            try:
                self.pending = handover.check(
                    departing,
                    successor,
                    data.get("reason", ""),
                    data.get("deactivate", False),
                    by=self.by,
                )
            except handover.HandoverError as refused:
                self.add_error(
                    refused.field if refused.field in self.fields else None, str(refused)
                )
        return data


def _person_label(user) -> str:
    department = f" · {user.department}" if user.department_id else ""
    inactive = _("（已停用）") if not user.is_active else ""
    return f"{user}（{user.username}）{department}{inactive}"


@require_http_methods(["GET"])
@permission_required("core.view_handoverrecord", raise_exception=True)
def handover_list(request):
    records = handover.records_for(request.user)[:200]
    return render(request, "core/handover/list.html", {"records": records})


@require_http_methods(["GET", "POST"])
@permission_required("core.hand_over", raise_exception=True)
@require_recent_password(gettext_lazy("离职交接"))
def handover_start(request):
    """Pick who leaves and who takes over; a preview of what moves; then confirm (password)."""
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = HandoverForm(request.user, data)
    preview = None
    if form.is_bound and form.is_valid():
        if request.method == "POST":
            try:
                record = handover.hand_over(
                    form.cleaned_data["departing"],
                    form.cleaned_data["successor"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    deactivate=form.cleaned_data["deactivate"],
                )
            except handover.HandoverError as refused:
                form.add_error(
                    refused.field if refused.field in form.fields else None, str(refused)
                )
            else:
                messages.success(
                    request,
                    _("交接完成：%(count)s 项已移交给 %(successor)s。")
                    % {"count": record.items.count(), "successor": record.successor},
                )
                return redirect("handover:detail", pk=record.pk)
        else:
            preview = form.pending
    status = 422 if form.is_bound and form.errors else 200
    return render(
        request,
        "core/handover/start.html",
        {"form": form, "preview": preview, "moves": preview and sum(p.count for p in preview)},
        status=status,
    )


def _record_for(request, pk: int):
    record = handover.records_for(request.user).filter(pk=pk).first()
    if record is None:
        raise Http404
    return record


@require_http_methods(["GET"])
@permission_required("core.view_handoverrecord", raise_exception=True)
def handover_detail(request, pk: int):
    record = _record_for(request, pk)
    customers = letters.customers_to_notify(record)
    notify = [(customer, letters.main_contact(customer)) for customer in customers]
    return render(
        request,
        "core/handover/detail.html",
        {"record": record, "groups": handover.grouped_items(record), "notify": notify},
    )


def _customer_of(record, customer_id: int):
    for customer in letters.customers_to_notify(record):
        if customer.pk == customer_id:
            return customer
    raise Http404


def _send(request, record, content, *, filename, fallback, content_type, stamp, customers):
    """Hand a letter (or the bundle) out stamped, one audit event per customer it names."""
    from creditfile.access.services import deliveries
    from creditfile.access.services.audit import Action

    return deliveries.send(
        request,
        content,
        filename=filename,
        fallback=fallback,
        content_type=content_type,
        action=Action.PRINT,
        stamp=stamp,
        subjects=[
            deliveries.Subject(customer.pk, customer, {"handover": record.pk})
            for customer in customers
        ],
    )


@require_http_methods(["GET"])
@permission_required("core.view_handoverrecord", raise_exception=True)
def handover_letter(request, pk: int, customer_id: int, extension: str):
    from creditfile.access.services import deliveries

    record = _record_for(request, pk)
    customer = _customer_of(record, customer_id)
    stamp = deliveries.stamp_for(request.user)
    build, content_type = {
        "pdf": (letters.letter_pdf, deliveries.PDF),
        "docx": (letters.letter_docx, deliveries.DOCX),
    }[extension]
    return _send(
        request,
        record,
        build(record, customer, stamp),
        filename=letters.letter_filename(record, customer, extension),
        fallback=f"handover-{record.pk}-{customer.pk}.{extension}",
        content_type=content_type,
        stamp=stamp,
        customers=[customer],
    )


@require_http_methods(["GET"])
@permission_required("core.view_handoverrecord", raise_exception=True)
def handover_letters_zip(request, pk: int):
    from creditfile.access.services import deliveries

    record = _record_for(request, pk)
    stamp = deliveries.stamp_for(request.user)
    return _send(
        request,
        record,
        letters.letters_zip(record, stamp),
        filename=_("客户经理变更通知-%(pk)s.zip") % {"pk": record.pk},
        fallback=f"handover-{record.pk}-letters.zip",
        content_type=deliveries.ZIP,
        stamp=stamp,
        customers=letters.customers_to_notify(record),
    )


class LetterTemplateForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("正文"), widget=forms.Textarea(attrs={"rows": 18}), strip=False
    )


@require_http_methods(["GET", "POST"])
@permission_required("core.change_handoverlettertemplate", raise_exception=True)
def letter_template_edit(request):
    template = letters.letter_template()
    form = LetterTemplateForm(
        request.POST or None, initial={"subject": template.subject, "body": template.body}
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            letters.save_letter_template(
                form.cleaned_data["subject"], form.cleaned_data["body"], request.user
            )
        except ValidationError as invalid:
            for field, errors in invalid.message_dict.items():
                for error in errors:
                    form.add_error(field, error)
        else:
            messages.success(request, _("通知函模板已保存。"))
            return redirect("handover:letter_template")
    if form.errors:
        status = 422
    try:
        subject, body = letters.sample(template)
    except ValidationError:
        subject, body = template.subject, template.body
    from creditfile.credit.services.letters import letter_blocks

    return render(
        request,
        "core/handover/letter_template.html",
        {
            "form": form,
            "placeholders": [
                (name, str(meaning)) for name, meaning in letters.PLACEHOLDERS.items()
            ],
            "preview_subject": subject,
            "preview_blocks": letter_blocks(body),
        },
        status=status,
    )


urlpatterns = [
    path("", handover_list, name="list"),
    path("new/", handover_start, name="start"),
    path("letter-template/", letter_template_edit, name="letter_template"),
    path("<int:pk>/", handover_detail, name="detail"),
    path("<int:pk>/letters.zip", handover_letters_zip, name="letters_zip"),
    path(
        "<int:pk>/letters/<int:customer_id>.pdf",
        handover_letter,
        {"extension": "pdf"},
        name="letter_pdf",
    ),
    path(
        "<int:pk>/letters/<int:customer_id>.docx",
        handover_letter,
        {"extension": "docx"},
        name="letter_docx",
    ),
]
