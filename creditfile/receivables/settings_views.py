"""信用检查设置: where each selling company checks orders and what counts (R-19).

Saving asks for the password again, like releasing an order: switching a check point off
lets credit out as surely as an override. The change log of the settings is shown below
the form, so the next person sees who loosened what and when.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from creditfile.core import sudo
from creditfile.core.models import Company, ObjectChange
from creditfile.receivables.forms import CHECK_FIELDS, CreditControlForm
from creditfile.receivables.models import CreditControl
from creditfile.receivables.services.checks import control_for


@require_http_methods(["GET", "POST"])
@permission_required("receivables.view_creditcontrol", raise_exception=True)
@sudo.require_recent_password(gettext_lazy("修改信用检查设置"))
def credit_control(request: HttpRequest) -> HttpResponse:
    companies = list(Company.objects.all())
    company_pk = request.GET.get("company", "")
    if company_pk and not company_pk.isdigit():
        raise Http404
    company = get_object_or_404(Company, pk=company_pk) if company_pk else Company.default()
    control = control_for(company)
    may_change = request.user.has_perm(
        "receivables.change_creditcontrol" if control.pk else "receivables.add_creditcontrol"
    )
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        form = CreditControlForm(request.POST, instance=control)
        if form.is_valid():
            form.save()
            messages.success(
                request, _("%(company)s 的信用检查设置已保存。") % {"company": company}
            )
            return redirect(f"{reverse('receivables:settings')}?company={company.pk}")
    else:
        form = CreditControlForm(instance=control)
    if not may_change:
        for field in form.fields.values():
            field.disabled = True
    changes = (
        ObjectChange.objects.filter(
            content_type=ContentType.objects.get_for_model(CreditControl), object_id=control.pk
        ).select_related("user")[:50]
        if control.pk
        else []
    )
    return render(
        request,
        "receivables/credit_control.html",
        {
            "form": form,
            "company": company,
            "companies": companies,
            "may_change": may_change,
            "check_fields": [form[name] for name in CHECK_FIELDS],
            "other_fields": [form[name] for name in form.fields if name not in CHECK_FIELDS],
            "changes": changes,
        },
    )
