"""Turns a denied customer into its response, and records every denied attempt (R-40, R-42).

`policy.get_customer_for` raises NotReadable / NotEditable; once the exception has left the
view (and any transaction the view opened has rolled back), this records the denied event
and answers: the stub page with 403 when the URL names a customer the user may not read (the
file, its tabs and panels, wherever they live), 404 when it names another record of such a
customer, the usual 403 for an edit they may not make. Any other PermissionDenied (a role
without the permission for a screen or an action) is recorded as well, naming the customer
when the URL does.
"""

import re

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from creditfile.access import policy

# A route naming a customer: ".../customers/<int:pk>/..." (the argument's name may vary).
CUSTOMER_IN_ROUTE = re.compile(r"customers/<(?:\w+:)?(\w+)>")


def customer_in_url(request):
    """The customer the URL names (a customers/<id> part of its route), if it exists."""
    from creditfile.customers.models import Customer

    match = getattr(request, "resolver_match", None)
    found = CUSTOMER_IN_ROUTE.search(getattr(match, "route", "") or "")
    if found is None:
        return None
    value = str(match.kwargs.get(found.group(1), ""))
    return Customer.objects.filter(pk=value).first() if value.isdigit() else None


def record_forbidden(request, exception) -> None:
    """A plain PermissionDenied: who tried what, where (no stub, nothing else changes)."""
    policy.deny(
        request.user,
        customer_in_url(request),
        "forbidden",
        request=request,
        detail={"method": request.method, "path": request.path[:200]},
    )


class DeniedCustomerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, policy.NotReadable):
            policy.deny(request.user, exception.customer, exception.action, request=request)
            if customer_in_url(request) != exception.customer:
                # A URL naming another record (a letter, a security…) of a hidden customer:
                # not found, as an unknown id would be — the stub is for the customer's URLs.
                return None
            return render(
                request,
                "access/stub.html",
                {"customer": exception.customer},
                status=403,
            )
        if isinstance(exception, policy.NotEditable):
            policy.deny(request.user, exception.customer, exception.action, request=request)
        elif isinstance(exception, PermissionDenied) and request.user.is_authenticated:
            record_forbidden(request, exception)
        return None
