"""The REST JSON API under /api/v1: schema at openapi.json, interactive docs at docs.

Every operation authenticates (token or session, see core/api_auth.py); errors are JSON
with the same shape everywhere: {"detail": "..."} or {"detail": [{"field", "message"}]}.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from ninja import NinjaAPI, Swagger
from ninja.errors import ValidationError as NinjaValidationError

from creditfile.access import policy
from creditfile.core.api_auth import api_auth, docs_login_required
from creditfile.credit.api import router as credit_router
from creditfile.credit.api import workflow_error_response
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.api import router as customers_router
from creditfile.customers.api import validation_error_details
from creditfile.receivables.api import documents_router
from creditfile.receivables.api import router as credit_checks_router

api = NinjaAPI(
    title="CreditFile API",
    version="1",
    description="客户信用档案管理系统 REST JSON API. Authenticate with "
    "`Authorization: Bearer <key>` (keys are issued on the API token screen).",
    urls_namespace="api-1",
    # Swagger UI would otherwise load a validity badge from validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
    auth=api_auth,
    docs_decorator=docs_login_required,
)
api.add_router("/customers", customers_router, tags=["customers"])
api.add_router("/credit", credit_router, tags=["credit"])
api.add_router("/credit-checks", credit_checks_router, tags=["credit checks"])
api.add_router("/receivables", documents_router, tags=["receivables"])


@api.exception_handler(PermissionDenied)
def _permission_denied(request, exc):
    return api.create_response(request, {"detail": "Forbidden"}, status=403)


@api.exception_handler(policy.NotReadable)
def _not_readable(request, exc):
    """No stub in the API: a customer the user may not read is not found (and audited)."""
    policy.deny(request.user, exc.customer, exc.action, request=request)
    return api.create_response(request, {"detail": "Not Found"}, status=404)


@api.exception_handler(policy.NotEditable)
def _not_editable(request, exc):
    policy.deny(request.user, exc.customer, exc.action, request=request)
    return api.create_response(request, {"detail": "Forbidden"}, status=403)


@api.exception_handler(WorkflowError)
def _workflow_error(request, exc):
    status, body = workflow_error_response(exc)
    return api.create_response(request, body, status=status)


@api.exception_handler(DjangoValidationError)
def _model_validation_error(request, exc):
    return api.create_response(request, {"detail": validation_error_details(exc)}, status=422)


def _field_of(loc) -> str:
    """The field an input error is about, without Ninja's where-it-came-from prefix."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    if parts and parts[0] in {"payload", "filters"}:
        parts = parts[1:]
    return ".".join(parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def _input_validation_error(request, exc):
    details = [
        {"field": _field_of(error.get("loc", ())), "message": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    return api.create_response(request, {"detail": details}, status=422)
