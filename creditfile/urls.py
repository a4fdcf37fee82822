from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from creditfile.api import api
from creditfile.core import sudo
from creditfile.core import views as core_views

urlpatterns = [
    # First: an ERP's order checks come here, and URLs are tried in this order.
    path("api/v1/", api.urls),
    path("", RedirectView.as_view(pattern_name="customers:list", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("customers/", include("creditfile.customers.urls")),
    path("credit/", include("creditfile.credit.urls")),
    path("receivables/", include("creditfile.receivables.views")),
    path("handover/", include("creditfile.core.handover_views")),
    path("access/", include("creditfile.access.urls")),
    path("audit/", include("creditfile.access.views_audit")),
    path("accounts/api-tokens/", core_views.api_tokens, name="api_tokens"),
    path("accounts/confirm-password/", sudo.confirm_password, name="confirm_password"),
]
