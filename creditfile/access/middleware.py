"""Turns a denied customer into its response, and records the attempt (R-40, R-42).

`policy.get_customer_for` raises NotReadable / NotEditable; once the exception has left the
view (and any transaction the view opened has rolled back), this records the denied event
and answers: the stub page with 403 for a customer the user may not read, the usual 403 for
an edit they may not make.
"""

from django.shortcuts import render

from creditfile.access import policy


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
        return None
