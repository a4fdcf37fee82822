from django.urls import path

from creditfile.access import views

app_name = "access"

urlpatterns = [
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path(
        "requests/<int:pk>/steps/<int:step_pk>/decide/",
        views.step_decide,
        name="step_decide",
    ),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("requests/<int:pk>/lend/", views.request_lend, name="request_lend"),
    path("lendings/", views.lending_register, name="lendings"),
    path("lendings/<int:pk>/return/", views.lending_return, name="lending_return"),
    path("settings/", views.settings_edit, name="settings"),
]
