"""ERP import screens 导入应收台账: submit a file, watch its progress, read its report, and
create or edit the column mappings — a sample file's headers, each given the field it
fills, with suggestions from the header names ERPs use. Thin: the rules are in imports/.
"""

import io
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from creditfile.access.services import deliveries
from creditfile.access.services.audit import Action
from creditfile.customers.imports import Problem, build_report
from creditfile.receivables import imports
from creditfile.receivables.imports.reading import CSV_SUFFIXES
from creditfile.receivables.models import ImportJob, ImportMapping

REPORT_PER_PAGE = 100
_SAMPLE_CSV_BYTES = 256 * 1024


def _require_import(request: HttpRequest) -> None:
    if not imports.can_import(request.user):
        raise PermissionDenied


def _limit_size(upload):
    if upload.size > settings.ATTACHMENT_MAX_BYTES * 10:
        raise forms.ValidationError(
            gettext_lazy("文件太大（上限%(mb)d MB）。"),
            params={"mb": settings.ATTACHMENT_MAX_BYTES * 10 // (1024 * 1024)},
        )
    return upload


class UploadForm(forms.Form):
    mapping = forms.ModelChoiceField(
        label=gettext_lazy("导入映射"), queryset=ImportMapping.objects.select_related("company")
    )
    file = forms.FileField(label=gettext_lazy("ERP导出文件（.csv 或 .xlsx）"))
    skip_bad_rows = forms.BooleanField(
        label=gettext_lazy("跳过错误行"),
        required=False,
        help_text=gettext_lazy("不勾选时，只要有一行有错误，整个文件都不导入。"),
    )

    def clean_file(self):
        return _limit_size(self.cleaned_data["file"])


class MappingForm(forms.ModelForm):
    sample = forms.FileField(
        label=gettext_lazy("样例文件"),
        required=False,
        help_text=gettext_lazy("上传一份该来源的导出文件（.csv 或 .xlsx），读取其中的列名。"),
    )

    class Meta:
        model = ImportMapping
        fields = ["name", "company", "source", "kind", "date_format", "decimal_comma"]


# -- jobs --------------------------------------------------------------------------------------


def import_home(request: HttpRequest) -> HttpResponse:
    _require_import(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = imports.submit(
            form.cleaned_data["mapping"],
            form.cleaned_data["file"],
            request.user,
            skip_bad_rows=form.cleaned_data["skip_bad_rows"],
        )
        return redirect("receivables:import_job", pk=job.pk)
    jobs = ImportJob.objects.select_related("mapping", "created_by")[:20]
    return render(
        request,
        "receivables/imports.html",
        {"form": form, "jobs": jobs, "mappings": ImportMapping.objects.select_related("company")},
    )


def _job(request: HttpRequest, pk: int) -> ImportJob:
    _require_import(request)
    job = get_object_or_404(ImportJob.objects.select_related("mapping", "created_by"), pk=pk)
    return imports.live_view(job)


@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    page = Paginator(job.problems.all(), REPORT_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "receivables/import_job.html", {"job": job, "page": page})


@require_GET
def import_job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar the job page polls; once the job is done, the page reloads to show
    the whole report."""
    job = _job(request, pk)
    response = render(request, "receivables/_import_progress.html", {"job": job})
    if job.finished and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@require_GET
def import_job_report(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    problems = [Problem("", p.row, p.column, p.message) for p in job.problems.iterator()]
    stamp = deliveries.stamp_for(request.user)
    filename = f"import-{job.pk}-report-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.xlsx"
    return deliveries.send(
        request,
        build_report(problems, stamp=stamp),
        filename=filename,
        fallback=filename,
        content_type=deliveries.XLSX,
        action=Action.EXPORT,
        stamp=stamp,
        obj=job,
        detail={"kind": "invoice_import_report", "rows": len(problems)},
    )


# -- mappings ----------------------------------------------------------------------------------


@require_GET
def mapping_list(request: HttpRequest) -> HttpResponse:
    _require_import(request)
    mappings = ImportMapping.objects.select_related("company")
    return render(request, "receivables/import_mappings.html", {"mappings": mappings})


def _sample_headers(upload) -> tuple[list[str], list[tuple]]:
    """A sample's headers and first rows; a CSV sample is read only from its start."""
    binary = upload.file
    if PurePath(upload.name or "").suffix.lower() in CSV_SUFFIXES:
        binary.seek(0)
        head = binary.read(_SAMPLE_CSV_BYTES)
        if len(head) == _SAMPLE_CSV_BYTES and b"\n" in head:
            head = head[: head.rindex(b"\n") + 1]
        binary = io.BytesIO(head)
    return imports.read_headers(binary, upload.name)


def mapping_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Step 1: name, source, kind and a sample file; step 2: the sample's headers, each
    with the field it fills (suggested), saved as the mapping."""
    _require_import(request)
    mapping = get_object_or_404(ImportMapping, pk=pk) if pk else ImportMapping()
    form = MappingForm(request.POST or None, request.FILES or None, instance=mapping)
    headers = list(mapping.columns) if pk else []
    chosen, examples, problems = dict(mapping.columns), [], []
    if request.method == "POST" and not form.is_valid():
        headers = request.POST.getlist("header")
        chosen = dict(zip(headers, request.POST.getlist("field"), strict=False))
    elif request.method == "POST":
        kind = form.cleaned_data["kind"]
        sample = form.cleaned_data.get("sample")
        if sample:
            try:
                headers, examples = _sample_headers(sample)
            except imports.FileProblem as problem:
                form.add_error("sample", str(problem))
            else:
                chosen = imports.suggest_mapping(headers, kind)
        else:
            headers = request.POST.getlist("header")
            names = {field.name for field in imports.fields_for(kind)}
            chosen = {
                header: name
                for header, name in zip(headers, request.POST.getlist("field"), strict=False)
                if name in names
            }
            if "save" in request.POST:
                problems = imports.mapping_problems(chosen, kind)
                if not headers:
                    problems.insert(0, _("请先上传样例文件，读取其中的列名。"))
                if not problems:
                    mapping = form.save(commit=False)
                    mapping.columns = chosen
                    mapping.created_by = mapping.created_by or request.user
                    mapping.save()
                    return redirect("receivables:import_mappings")
    kind = form["kind"].value() or mapping.kind
    rows = [
        {
            "header": header,
            "field": chosen.get(header, ""),
            "examples": [
                example[index] for example in examples if index < len(example) and example[index]
            ],
        }
        for index, header in enumerate(headers)
    ]
    return render(
        request,
        "receivables/import_mapping.html",
        {
            "form": form,
            "mapping": mapping,
            "rows": rows,
            "fields": imports.fields_for(kind) if kind else (),
            "problems": problems,
        },
    )


urlpatterns = [
    path("imports/", import_home, name="imports"),
    path("imports/jobs/<int:pk>/", import_job, name="import_job"),
    path("imports/jobs/<int:pk>/progress/", import_job_progress, name="import_job_progress"),
    path("imports/jobs/<int:pk>/report.xlsx", import_job_report, name="import_job_report"),
    path("imports/mappings/", mapping_list, name="import_mappings"),
    path("imports/mappings/new/", mapping_edit, name="import_mapping_new"),
    path("imports/mappings/<int:pk>/", mapping_edit, name="import_mapping"),
]
