"""Turns a denied customer into its response, and records every denied attempt (R-40, R-42).

`policy.get_customer_for` raises NotReadable / NotEditable; once the exception has left the
view (and any transaction the view opened has rolled back), this records the denied event
and answers: the stub page with 403 for a customer the user may not read, the usual 403 for
an edit they may not make. Any other PermissionDenied (a role without the permission for a
screen or an action) is recorded as well, naming the customer when the URL does.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from creditfile.access import policy

# URL arguments that name a customer, per URL namespace ("" = any).
CUSTOMER_ARGUMENTS = (("customers", "pk"), ("", "customer_pk"), ("", "customer_id"))


def customer_in_url(request):
    """The customer the URL names, if it names one that exists."""
    from creditfile.customers.models import Customer

    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    for namespace, name in CUSTOMER_ARGUMENTS:
        value = match.kwargs.get(name)
        if value is not None and (not namespace or namespace in match.namespaces):
            return Customer.objects.filter(pk=value).first() if str(value).isdigit() else None
    return None


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
