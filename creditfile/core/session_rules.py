"""How long a sign-in lasts (R-42 hardening): an idle timeout, an absolute timeout, and
every session of a deactivated user ending at once.

Idle: no request for CREDITFILE_SESSION_IDLE_MINUTES (default 30) signs the user out —
an unattended desk on an intranet is the common leak. Absolute: CREDITFILE_SESSION_HOURS
(default 10, one working day) after signing in, however busy. The last-seen time is
written at most once a minute, so a busy page does not rewrite its session every request.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

STARTED = "cf_signed_in_at"
SEEN = "cf_seen_at"
SEEN_RESOLUTION = 60


def _now() -> int:
    return int(time.time())


def _mark_signed_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = _now()
        request.session[STARTED] = now
        request.session[SEEN] = now


def _end_sessions_of_deactivated(sender, instance, created, raw=False, **kwargs):
    if not raw and not created and not instance.is_active:
        from creditfile.core.sessions import end_sessions_of

        end_sessions_of(instance)


def connect_signals():
    from django.contrib.auth import get_user_model

    user_logged_in.connect(_mark_signed_in, dispatch_uid="creditfile_session_started")
    post_save.connect(
        _end_sessions_of_deactivated,
        sender=get_user_model(),
        dispatch_uid="creditfile_end_sessions_of_deactivated",
    )


def expired(session, now: int) -> str:
    """'' while the session may go on, else why it ended ('idle' or 'absolute')."""
    started, seen = session.get(STARTED), session.get(SEEN)
    if started is None or seen is None:
        return ""
    if now - seen > settings.SESSION_IDLE_SECONDS:
        return "idle"
    if now - started > settings.SESSION_ABSOLUTE_SECONDS:
        return "absolute"
    return ""


class SessionTimeoutMiddleware:
    """After AuthenticationMiddleware: ends a signed-in session that has run out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = _now()
            why = expired(request.session, now)
            if why:
                return self._signed_out(request, why)
            if STARTED not in request.session:
                request.session[STARTED] = now
            if now - request.session.get(SEEN, 0) >= SEEN_RESOLUTION:
                request.session[SEEN] = now
        return self.get_response(request)

    def _signed_out(self, request, why: str):
        logout(request)
        messages.info(
            request,
            _("长时间未操作，已自动退出，请重新登录。")
            if why == "idle"
            else _("登录已超过最长时限，请重新登录。"),
        )
        login = f"{settings.LOGIN_URL_PATH}?next={request.get_full_path()}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login
            return response
        return redirect(login)
