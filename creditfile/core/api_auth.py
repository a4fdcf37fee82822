"""How the API knows who is calling: a personal token, or the signed-in browser session.

The login middleware lets /api/ through, so every API operation must name one of these;
a call with neither is a 401, never an anonymous read.
"""

from functools import cache, wraps

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, JsonResponse
from ninja.security import APIKeyCookie, HttpBearer

from creditfile.core.models import ApiToken
from creditfile.core.services import rows as model_rows


def user_for_bearer(request: HttpRequest):
    """The active user whose live token is in `Authorization: Bearer <key>`, else None."""
    scheme, _sep, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return ApiToken.user_for_key(key.strip())


def has_permission(user, perm: str) -> bool:
    """`user.has_perm("app_label.codename")` for Django's model permissions, asking for
    that one permission instead of loading all of the user's (~300 for a credit manager,
    two queries and a set built on every request): an active superuser has every
    permission; an active user has one given directly or through a group (role). The
    hot API operations (the credit check) use it; a test holds it equal to has_perm."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    if hasattr(user, "_perm_cache"):  # has_perm already loaded them for this request
        return perm in user._perm_cache
    app_label, _dot, codename = perm.partition(".")
    with model_rows.cursor() as cursor:
        cursor.execute(_permission_sql(), [app_label, codename, user.pk, user.pk])
        return cursor.fetchone() is not None


@cache
def _permission_sql() -> str:
    """Composed once: the same for every call."""
    User = get_user_model()
    permission = Permission._meta.db_table
    content_type = Permission._meta.get_field("content_type").related_model._meta.db_table
    direct = User.user_permissions.through._meta.db_table
    member = User.groups.through._meta.db_table
    granted = Permission.group_set.through._meta.db_table
    return (
        f"SELECT 1 FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id"
        " WHERE ct.app_label = %s AND p.codename = %s AND ("
        f"EXISTS (SELECT 1 FROM {direct} d WHERE d.permission_id = p.id AND d.user_id = %s)"
        f" OR EXISTS (SELECT 1 FROM {granted} gp JOIN {member} m ON m.group_id = gp.group_id"
        " WHERE gp.permission_id = p.id AND m.user_id = %s))"
    )


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <key>` with a key from the API token screen."""

    def authenticate(self, request: HttpRequest, token: str):
        user = ApiToken.user_for_key(token.strip())
        if user is None:
            return None
        # Code below the API (permissions, the change log) reads request.user.
        request.user = user
        return user


class SessionAuthWithCsrf(APIKeyCookie):
    """The browser's own session (the interactive docs), with Django's CSRF check on writes.

    Unlike Ninja's SessionAuth it only checks CSRF once a session user exists, so a call
    with a bad token and no session gets a plain 401 instead of a CSRF 403.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key):
        return request.user if request.user.is_authenticated else None


api_auth = [ApiTokenAuth(), SessionAuthWithCsrf()]


def docs_login_required(view):
    """The schema and docs are for signed-in people or token holders only."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = user_for_bearer(request)
        if user is not None:
            request.user = user
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.path.endswith(".json"):
            return JsonResponse({"detail": "Unauthorized"}, status=401)
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL_PATH)

    return wrapped
