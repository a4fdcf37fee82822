"""催收政策: the credit manager edits each selling company's dunning ladder (R-30).

The steps are listed in days-overdue order and numbered by the service, so the form has
no level numbers to get wrong; the rules (rising days, a template for every letter) are
`dunning.replace_levels`'s, and the change log of the ladder is shown under the form.
"""

from django import forms
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from creditfile.core.models import Company, ObjectChange
from creditfile.receivables.choices import DunningChannel
from creditfile.receivables.models import DunningLevel, DunningPolicy, DunningTemplate
from creditfile.receivables.services import dunning
from creditfile.receivables.services.collections import CollectionError


class LevelForm(forms.Form):
    name = forms.CharField(label=DunningLevel._meta.get_field("name").verbose_name, max_length=60)
    days_overdue = forms.IntegerField(
        label=DunningLevel._meta.get_field("days_overdue").verbose_name, min_value=1, max_value=3650
    )
    channel = forms.ChoiceField(
        label=DunningLevel._meta.get_field("channel").verbose_name, choices=DunningChannel.choices
    )
    template = forms.ModelChoiceField(
        label=DunningLevel._meta.get_field("template").verbose_name,
        queryset=DunningTemplate.objects.all(),
        required=False,
    )
    pay_within_days = forms.IntegerField(
        label=DunningLevel._meta.get_field("pay_within_days").verbose_name,
        min_value=1,
        max_value=365,
    )


LevelFormSet = forms.formset_factory(LevelForm, extra=1, can_delete=True, max_num=20)


def _initial(policy: DunningPolicy) -> list[dict]:
    return [
        {
            "name": level.name,
            "days_overdue": level.days_overdue,
            "channel": level.channel,
            "template": level.template_id,
            "pay_within_days": level.pay_within_days,
        }
        for level in policy.levels.order_by("level")
    ]


def _rows(formset) -> list[dunning.LevelRow]:
    return [
        dunning.LevelRow(**{k: v for k, v in form.cleaned_data.items() if k != "DELETE"})
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


@require_http_methods(["GET", "POST"])
def dunning_policy(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("receivables.view_dunningpolicy"):
        raise PermissionDenied
    company_pk = request.GET.get("company", "")
    if company_pk and not company_pk.isdigit():
        raise Http404
    company = get_object_or_404(Company, pk=company_pk) if company_pk else Company.default()
    dunning.ensure_default_templates()
    policy = dunning.policy_for(company)
    may_change = request.user.has_perm("receivables.change_dunninglevel")
    formset = LevelFormSet(request.POST or None, initial=_initial(policy), prefix="levels")
    error = ""
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        if formset.is_valid():
            try:
                dunning.replace_levels(policy, _rows(formset))
            except CollectionError as exc:
                error = exc.message
            else:
                messages.success(
                    request, _("%(company)s 的催收政策已保存。") % {"company": company}
                )
                return redirect(f"{reverse('receivables:dunning_policy')}?company={company.pk}")
    changes = ObjectChange.objects.filter(
        root_type=ContentType.objects.get_for_model(DunningPolicy), root_id=policy.pk
    ).select_related("user")[:50]
    return render(
        request,
        "receivables/collections/policy.html",
        {
            "formset": formset,
            "error": error,
            "company": company,
            "companies": Company.objects.all(),
            "may_change": may_change,
            "changes": changes,
        },
    )
