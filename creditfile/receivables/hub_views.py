"""应收管理: one page leading to every receivables screen, with what waits on each, so the
main navigation keeps one entry for the whole area."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from creditfile.receivables.services.overview import overview


@require_GET
def receivables_home(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("receivables.view_invoice"):
        raise PermissionDenied
    today = timezone.localdate()
    return render(
        request,
        "receivables/home.html",
        {"overview": overview(request.user, today), "today": today},
    )
