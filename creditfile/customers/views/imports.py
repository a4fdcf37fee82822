"""Excel import screen: upload, check-only, result, and the template and report downloads."""

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.access.services import deliveries
from creditfile.access.services.audit import Action
from creditfile.customers.imports import (
    CONTACTS,
    CUSTOMERS,
    Problem,
    build_report,
    build_template,
    can_import,
    import_workbook,
)

REPORT_SESSION_KEY = "customers_import_report"


class ImportForm(forms.Form):
    # Empty files reach the import service, whose report says what is wrong with them.
    file = forms.FileField(label=_("Excel文件（.xlsx）"), allow_empty_file=True)
    kind = forms.ChoiceField(
        label=_("导入内容"),
        choices=[(CUSTOMERS, _("客户（及同一文件中的联系人表）")), (CONTACTS, _("仅联系人"))],
        initial=CUSTOMERS,
    )
    skip_bad_rows = forms.BooleanField(
        label=_("跳过错误行，只导入正确的行"),
        required=False,
        help_text=_("不勾选时，只要有一行有错误，整个文件都不导入。"),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(
                _("文件太大（上限%(mb)d MB）。"),
                params={"mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)},
            )
        return upload


def _require_import(user) -> None:
    if not can_import(user):
        raise PermissionDenied


def import_customers(request):
    _require_import(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "customers/import.html", {"form": form})
    upload = form.cleaned_data["file"]
    result = import_workbook(
        upload,
        upload.name,
        request.user,
        form.cleaned_data["kind"],
        skip_bad_rows=form.cleaned_data["skip_bad_rows"],
        dry_run="check_only" in request.POST,
    )
    request.session[REPORT_SESSION_KEY] = [
        [p.sheet, p.row, p.column, p.message] for p in result.problems
    ]
    return render(
        request,
        "customers/import_result.html",
        {"result": result, "form": ImportForm(initial=form.cleaned_data | {"file": None})},
    )


def import_template(request):
    _require_import(request.user)
    return deliveries.send(
        request,
        build_template(),
        filename="customer-import-template.xlsx",
        fallback="customer-import-template.xlsx",
        content_type=deliveries.XLSX,
        action=Action.EXPORT,
        detail={"kind": "import_template"},
    )


def import_report(request):
    _require_import(request.user)
    rows = request.session.get(REPORT_SESSION_KEY)
    if not rows:
        raise Http404
    problems = [Problem(*row) for row in rows]
    stamp = deliveries.stamp_for(request.user)
    filename = f"import-report-{timezone.localtime(stamp.at):%Y%m%d-%H%M}.xlsx"
    return deliveries.send(
        request,
        build_report(problems, stamp=stamp),
        filename=filename,
        fallback=filename,
        content_type=deliveries.XLSX,
        action=Action.EXPORT,
        stamp=stamp,
        detail={"kind": "import_report", "rows": len(problems)},
    )


urlpatterns = [
    path("import/", import_customers, name="import"),
    path("import/template.xlsx", import_template, name="import_template"),
    path("import/report.xlsx", import_report, name="import_report"),
]
