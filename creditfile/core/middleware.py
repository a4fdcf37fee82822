import uuid

from django.conf import settings
from django.shortcuts import redirect

from creditfile.core.history import acting_as
from creditfile.core.request_context import client_address, in_request

# Paths reachable without signing in: the login form itself, static files,
# the API (it authenticates by token), and the language switch.
PUBLIC_PREFIXES = ("/accounts/login/", "/static/", "/api/", "/i18n/")


class RequestContextMiddleware:
    """Attribute every change made during a request to its user and a request id, and let
    code deep inside the request (the audit trail) know its client address and id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = request.headers.get("X-Request-ID") or str(uuid.uuid4())
        user = request.user if request.user.is_authenticated else None
        with (
            in_request(address=client_address(request), request_id=request.id),
            acting_as(user=user, label="web", request_id=request.id),
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response


class LoginRequiredMiddleware:
    """Only signed-in users see anything (the API checks its own tokens)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            return redirect(f"{settings.LOGIN_URL_PATH}?next={request.get_full_path()}")
        return self.get_response(request)


class ChosenLanguageMiddleware:
    """Chinese for everyone unless the person picked another language with the switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so an
    English-language browser on a Chinese intranet would get English unasked.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in dict(settings.LANGUAGES):
            chosen = settings.LANGUAGE_CODE
        translation.activate(chosen)
        request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", chosen)
        return response


class NoStoreMiddleware:
    """Every page and download is a company secret: no browser or proxy keeps a copy
    (`Cache-Control: no-store`). Static files keep their own caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        return response
