"""Screens of the core app that belong to the signed-in user rather than to a customer."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from creditfile.core.models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("令牌名称"),
        max_length=100,
        help_text=gettext_lazy("写明用途，例如“ERP同步”，便于日后识别和吊销。"),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The user's own API tokens: create one (its key is shown this once) or revoke one."""
    form = ApiTokenForm()
    new_key = None
    if request.method == "POST" and "revoke" in request.POST:
        token = get_object_or_404(
            ApiToken, pk=request.POST.get("revoke"), user=request.user, revoked_at__isnull=True
        )
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        messages.success(request, _("令牌“%(name)s”已吊销。") % {"name": token.name})
        return redirect("api_tokens")
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            # Only the hash is kept, so the key is rendered in this response and never again.
            _token, new_key = ApiToken.issue(request.user, form.cleaned_data["name"])
            form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(
        request, "core/api_tokens.html", {"form": form, "tokens": tokens, "new_key": new_key}
    )
