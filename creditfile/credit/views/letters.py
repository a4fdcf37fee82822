"""Reply letters 回复客户的标准函 (R-25, step 5): generate and download them, edit their
templates, and edit the selling companies' letterhead. Rules live in services/letters.py.

The application page (views/applications.py) includes `credit/letters/_list.html` with the
context of `letters_context(user, application)`; generating answers that partial to htmx
and otherwise goes back to the application page.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditfile.core.models import Company
from creditfile.credit.choices import LetterKind
from creditfile.credit.models import CreditApplication, LetterTemplate, ReplyLetter
from creditfile.credit.services import letters as letter_rules
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.services.visibility import get_customer_for


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _application_for(request: HttpRequest, pk: int) -> CreditApplication:
    """The application if its customer is visible to the user; a hidden one is a 404."""
    application = get_object_or_404(
        CreditApplication.objects.select_related("customer", "company"), pk=pk
    )
    get_customer_for(request.user, application.customer_id)
    _require(request, "credit.view_replyletter")
    return application


def _letter_for(request: HttpRequest, pk: int) -> ReplyLetter:
    letter = get_object_or_404(
        ReplyLetter.objects.select_related("application__customer", "application__company"),
        pk=pk,
    )
    get_customer_for(request.user, letter.application.customer_id)
    _require(request, "credit.view_replyletter")
    return letter


def letter_panel(user, application: CreditApplication, **extra) -> dict:
    """What `credit/letters/_list.html` shows for one application."""
    can_generate = letter_rules.can_generate(user, application)
    return {
        "letters": application.letters.select_related("generated_by"),
        "can_generate": can_generate,
        "next_kind": LetterKind(letter_rules.letter_kind_for(application)).label
        if can_generate
        else "",
        **extra,
    }


def letters_context(user, application: CreditApplication) -> dict:
    """The partial's context, for the application page to render it with."""
    return {"application": application, "letter_panel": letter_panel(user, application)}


def _panel(request, application, **extra) -> HttpResponse:
    context = {
        "application": application,
        "letter_panel": letter_panel(request.user, application, **extra),
    }
    return render(request, "credit/letters/_list.html", context)


@require_POST
def letter_generate(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application_for(request, pk)
    try:
        letter = letter_rules.generate_letter(
            application, request.user, request.POST.get("kind") or None
        )
    except WorkflowError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied(str(exc.message)) from exc
        if request.htmx:  # shown in the panel: htmx swaps only successful answers
            return _panel(request, application, error=exc.message)
        messages.error(request, exc.message)
        return redirect("credit:application", pk=application.pk)
    notice = _("已生成%(kind)s。") % {"kind": letter.get_kind_display()}
    if request.htmx:
        return _panel(request, application, notice=notice, new_letter=letter.pk)
    messages.success(request, notice)
    return redirect("credit:application", pk=application.pk)


@require_GET
def letter_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return letter_rules.send_letter(request, _letter_for(request, pk), "pdf", inline=True)


@require_GET
def letter_docx(request: HttpRequest, pk: int) -> HttpResponse:
    return letter_rules.send_letter(request, _letter_for(request, pk), "docx")


# --- Templates -------------------------------------------------------------------------------


class LetterTemplateForm(forms.ModelForm):
    class Meta:
        model = LetterTemplate
        fields = ["subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 26})}
        help_texts = {"body": ""}  # the page lists every placeholder with its meaning

    def clean_subject(self):
        letter_rules.validate_template_text(self.cleaned_data["subject"])
        return self.cleaned_data["subject"]

    def clean_body(self):
        letter_rules.validate_template_text(self.cleaned_data["body"])
        return self.cleaned_data["body"]


def _preview(subject: str, body: str) -> dict:
    """The template filled in with sample values, or the errors that stop it."""
    values = letter_rules.sample_values()
    errors = []
    result = {}
    for name, text in (("subject", subject), ("body", body)):
        try:
            result[name] = letter_rules.substitute(text, values)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        return {"preview_errors": errors}
    company = Company.default()
    return {
        "preview_subject": result["subject"],
        "preview_blocks": letter_rules.letter_blocks(result["body"]),
        "preview_company": company,
        "preview_letterhead": letter_rules.letterhead_lines(company),
    }


@require_GET
def letter_template_list(request: HttpRequest) -> HttpResponse:
    _require(request, "credit.change_lettertemplate")
    existing = {t.kind: t for t in LetterTemplate.objects.select_related("updated_by")}
    rows = [(kind, label, existing.get(kind)) for kind, label in LetterKind.choices]
    return render(request, "credit/letters/template_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def letter_template_edit(request: HttpRequest, kind: str) -> HttpResponse:
    _require(request, "credit.change_lettertemplate")
    if kind not in LetterKind.values:
        raise Http404
    template = LetterTemplate.objects.filter(kind=kind).first()
    if template is None:
        _require(request, "credit.add_lettertemplate")
    form = LetterTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.kind = kind
        saved.updated_by = request.user
        saved.save()
        messages.success(request, _("已保存“%(kind)s”模板。") % {"kind": LetterKind(kind).label})
        return redirect("credit:letter_templates")
    subject = form["subject"].value() or ""
    body = form["body"].value() or ""
    context = {
        "form": form,
        "kind": kind,
        "kind_label": LetterKind(kind).label,
        "template": template,
        "placeholders": letter_rules.PLACEHOLDERS.items(),
        **_preview(subject, body),
    }
    return render(request, "credit/letters/template_form.html", context)


@require_POST
def letter_template_preview(request: HttpRequest) -> HttpResponse:
    """The live preview beside the editor (htmx posts the form on every pause in typing)."""
    _require(request, "credit.change_lettertemplate")
    context = _preview(request.POST.get("subject", ""), request.POST.get("body", ""))
    return render(request, "credit/letters/_preview.html", context)


# --- Company letterhead ---------------------------------------------------------------------


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = [
            "name",
            "short_name",
            "uscc",
            "address",
            "postcode",
            "phone",
            "fax",
            "email",
            "website",
            "letter_signatory",
            "is_default",
            "is_active",
        ]


@require_GET
def company_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.has_perm("core.view_company") or user.has_perm("core.change_company")):
        raise PermissionDenied
    return render(
        request,
        "credit/letters/company_list.html",
        {
            "companies": [
                (company, letter_rules.letterhead_lines(company))
                for company in Company.objects.all()
            ],
            "can_change": user.has_perm("core.change_company"),
            "can_add": user.has_perm("core.add_company"),
        },
    )


@require_http_methods(["GET", "POST"])
def company_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    company = None
    if pk is None:
        _require(request, "core.add_company")
    else:
        _require(request, "core.change_company")
        company = get_object_or_404(Company, pk=pk)
    form = CompanyForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        saved = letter_rules.save_company(form.save(commit=False))
        messages.success(request, _("已保存“%(name)s”的函件抬头。") % {"name": saved.name})
        return redirect("credit:companies")
    return render(request, "credit/letters/company_form.html", {"form": form, "company": company})


urlpatterns = [
    path("applications/<int:pk>/letters/generate/", letter_generate, name="letter_generate"),
    path("letters/<int:pk>.pdf", letter_pdf, name="letter_pdf"),
    path("letters/<int:pk>.docx", letter_docx, name="letter_docx"),
    path("letter-templates/", letter_template_list, name="letter_templates"),
    path("letter-templates/preview/", letter_template_preview, name="letter_template_preview"),
    path("letter-templates/<str:kind>/", letter_template_edit, name="letter_template_edit"),
    path("companies/", company_list, name="companies"),
    path("companies/add/", company_edit, name="company_add"),
    path("companies/<int:pk>/", company_edit, name="company_edit"),
]
