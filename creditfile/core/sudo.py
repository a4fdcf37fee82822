"""Sudo mode: type the password again before a sensitive action (Healthchecks' require_sudo_mode).

A session left open on an unattended desk must not be enough to approve credit, grant a
line, blacklist a customer or change the rules that decide them. The first such action in
a session asks for the password; a correct one is remembered for SUDO_MINUTES (setting
CREDITFILE_SUDO_MINUTES). The refused POST is kept in the session so that, once the
password is confirmed, the person can send it again with one click instead of typing the
form a second time. The API is token-authenticated and not covered (docs/decisions.md).
"""

import types
from functools import wraps
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

CONFIRMED_AT = "sudo_confirmed_at"
PENDING = "sudo_pending"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
DEFAULT_LABEL = gettext_lazy("敏感操作")


def window_seconds() -> int:
    return int(getattr(settings, "SUDO_MINUTES", 15)) * 60


def is_confirmed(request: HttpRequest) -> bool:
    """The password was typed in this session less than SUDO_MINUTES ago."""
    confirmed_at = request.session.get(CONFIRMED_AT)
    if confirmed_at is None:
        return False
    age = timezone.now().timestamp() - float(confirmed_at)
    return 0 <= age < window_seconds()


def mark_confirmed(request: HttpRequest) -> None:
    request.session[CONFIRMED_AT] = timezone.now().timestamp()


def _local(url: str | None, request: HttpRequest) -> str:
    """A same-site path (with query) from a URL, or "" for anything pointing elsewhere."""
    if not url or not url_has_allowed_host_and_scheme(
        url, {request.get_host()}, request.is_secure()
    ):
        return ""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _back(request: HttpRequest) -> str:
    """Where the person was: the page an htmx request came from, else the referring page."""
    if request.method in SAFE_METHODS:
        return request.get_full_path()
    current = request.htmx.current_url if getattr(request, "htmx", None) else None
    return _local(current, request) or _local(request.headers.get("Referer"), request) or "/"


def ask_for_password(request: HttpRequest, label=DEFAULT_LABEL) -> HttpResponse | None:
    """None when the password was confirmed recently; otherwise the way to the confirm page.

    For views that take several actions (only some of them sensitive) and for the decorator.
    """
    if is_confirmed(request):
        return None
    back = _back(request)
    pending = {"label": str(label), "path": request.get_full_path(), "data": None}
    if request.method not in SAFE_METHODS and not request.FILES:
        pending["data"] = [
            [key, values] for key, values in request.POST.lists() if key != "csrfmiddlewaretoken"
        ]
    request.session[PENDING] = pending
    url = f"{reverse('confirm_password')}?{urlencode({'next': back})}"
    if getattr(request, "htmx", None):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def require_recent_password(label=DEFAULT_LABEL):
    """Decorator for function views: POST (and other unsafe methods) need a recent password.

    GET shows the page as before, so a form can be filled in first; use as
    `@require_recent_password` or `@require_recent_password(gettext_lazy("审批"))`.
    """
    if isinstance(label, types.FunctionType):
        return require_recent_password()(label)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in SAFE_METHODS:
                asked = ask_for_password(request, label)
                if asked is not None:
                    return asked
            return view(request, *args, **kwargs)

        wrapper.sudo_label = label
        return wrapper

    return decorator


class ConfirmPasswordForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_password(request: HttpRequest) -> HttpResponse:
    """Ask for the signed-in person's password; then offer to send the held action again.

    The password is checked through authenticate() with the signed-in user's own name, so
    django-axes counts a wrong one against that user (as a failed login, one per attempt)
    and locks the confirmation out like the login page; a name typed in the form is ignored.
    """
    next_url = _local(request.POST.get("next") or request.GET.get("next"), request) or "/"
    pending = request.session.get(PENDING) or {}
    form = ConfirmPasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            user = authenticate(
                request,
                username=request.user.get_username(),
                password=form.cleaned_data["password"],
            )
            if user is not None and user.pk == request.user.pk:
                mark_confirmed(request)
                request.session.pop(PENDING, None)
                if pending.get("data") is not None and _local(pending.get("path"), request):
                    return render(
                        request,
                        "registration/confirm_password_continue.html",
                        {"pending": pending, "next": next_url},
                    )
                return redirect(next_url)
            form.add_error("password", _("密码不正确，请重新输入。"))
        status = 422
    context = {
        "form": form,
        "next": next_url,
        "label": pending.get("label") or DEFAULT_LABEL,
        "minutes": window_seconds() // 60,
    }
    return render(request, "registration/confirm_password.html", context, status=status)
