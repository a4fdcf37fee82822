"""Events the audit trail hears about rather than being called for: sign-in, sign-out,
failed sign-in (Django's auth signals; django-axes' lock-outs arrive as failed sign-ins)
and every logged change of a tracked record (the central change log's `object_changed`)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from creditfile.access.services import audit
from creditfile.core.history import object_changed

CUSTOMER_LABEL = "customers.customer"


def _logged_in(sender, request, user, **kwargs):
    audit.record(audit.Action.LOGIN, user=user, request=request)


def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record(audit.Action.LOGOUT, user=user, request=request)


def _login_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username") or "")
    audit.record(
        audit.Action.LOGIN_FAILED,
        request=request,
        username=username,
        outcome=audit.Outcome.FAILED,
    )


def _changed(sender, instance, root, action, fields, **kwargs):
    """One `change` event per saved or deleted record, naming the changed fields."""
    if root._meta.label_lower == CUSTOMER_LABEL:
        customer = root.pk
    else:
        customer = _customer_of(instance)
    detail = {"op": action}
    if fields:
        detail["fields"] = ",".join(fields)
    audit.record(audit.Action.CHANGE, customer=customer, obj=instance, detail=detail)


def _customer_of(instance):
    """The customer a record belongs to by its own `customer` foreign key, if it has one."""
    from django.core.exceptions import FieldDoesNotExist

    try:
        field = instance._meta.get_field("customer")
    except FieldDoesNotExist:
        return None
    related = getattr(field, "related_model", None)
    if related is None or related._meta.label_lower != CUSTOMER_LABEL:
        return None
    return getattr(instance, field.attname)


def connect():
    user_logged_in.connect(_logged_in, dispatch_uid="creditfile_audit_login")
    user_logged_out.connect(_logged_out, dispatch_uid="creditfile_audit_logout")
    user_login_failed.connect(_login_failed, dispatch_uid="creditfile_audit_login_failed")
    object_changed.connect(_changed, dispatch_uid="creditfile_audit_change")
