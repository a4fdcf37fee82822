"""What gets an audit event without its caller asking: sign-in, sign-out, failed sign-in,
reads of a customer file (one per request per customer) and every logged change."""

import json

from django.urls import reverse

from creditfile.access.models import AuditEvent
from creditfile.access.services import audit
from creditfile.core.history import acting_as
from creditfile.core.models import ApiToken
from creditfile.core.testing import PASSWORD
from creditfile.customers.testing import make_customer


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_it_logs_sign_in_and_sign_out_with_the_address(client, org):
    client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    client.post(reverse("logout"), REMOTE_ADDR="10.0.0.9")
    (login,) = events(audit.Action.LOGIN)
    (logout,) = events(audit.Action.LOGOUT)
    assert (login.user_id, login.address, login.outcome) == (org.alice.pk, "10.0.0.9", "ok")
    assert (logout.user_id, logout.address) == (org.alice.pk, "10.0.0.9")
    assert login.request_id


def test_it_logs_a_failed_sign_in_with_the_name_tried(client, org):
    client.post(
        reverse("login"), {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.7"
    )
    client.post(reverse("login"), {"username": "nobody", "password": "x"}, REMOTE_ADDR="10.0.0.7")
    failed = events(audit.Action.LOGIN_FAILED)
    assert [(e.username, e.outcome, e.address) for e in failed] == [
        ("alice", "failed", "10.0.0.7"),
        ("nobody", "failed", "10.0.0.7"),
    ]
    assert events(audit.Action.LOGIN) == []


def test_it_logs_one_read_per_customer_page_request(client, org):
    customer = make_customer(owner=org.alice)
    client.force_login(org.alice)
    client.get(reverse("customers:detail", args=[customer.pk]), REMOTE_ADDR="10.0.0.5")
    client.get(
        reverse("customers:section", args=[customer.pk, "contacts"]), headers={"HX-Request": "true"}
    )
    reads = events(audit.Action.VIEW)
    assert [(e.customer_id, e.user_id, e.detail) for e in reads] == [
        (customer.pk, org.alice.pk, {"section": "basic"}),
        (customer.pk, org.alice.pk, {"section": "contacts"}),
    ]
    assert reads[0].address == "10.0.0.5"
    assert reads[0].object_type == "customers.customer"


def test_it_logs_a_denied_attempt_not_a_read_for_a_customer_the_user_may_not_see(client, org):
    customer = make_customer(owner=org.walt)
    client.force_login(org.alice)
    # The stub page (name, code, grade) answers 403; the file itself was not read.
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 403
    assert events(audit.Action.VIEW) == []
    (denied,) = events(audit.Action.DENIED)
    assert (denied.customer_id, denied.user_id, denied.outcome) == (
        customer.pk,
        org.alice.pk,
        "denied",
    )


def test_it_counts_one_read_however_often_a_request_reads_the_customer(rf, org):
    from django.http import HttpResponse

    from creditfile.core.middleware import RequestContextMiddleware

    customer = make_customer(owner=org.alice)

    def view(request):
        for section in ("basic", "credit", "receivables"):
            audit.record_view(customer, section=section)
        return HttpResponse()

    request = rf.get("/")
    request.user = org.alice
    RequestContextMiddleware(view)(request)
    assert len(events(audit.Action.VIEW)) == 1


def test_it_logs_reads_through_the_api(client, org):
    customer = make_customer(owner=org.alice)
    _token, key = ApiToken.issue(org.alice, "tests")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/v1/customers/{customer.pk}", headers=headers).status_code == 200
    client.get(f"/api/v1/customers/{customer.pk}/contacts", headers=headers)
    reads = events(audit.Action.VIEW)
    assert [(e.customer_id, e.user_id, e.detail["section"]) for e in reads] == [
        (customer.pk, org.alice.pk, "api:customer"),
        (customer.pk, org.alice.pk, "api:contacts"),
    ]
    # Listing customers is not reading a file.
    client.get("/api/v1/customers", headers=headers)
    assert len(events(audit.Action.VIEW)) == 2


def test_it_logs_one_change_per_saved_record_naming_the_fields(org):
    with acting_as(user=org.carl):
        customer = make_customer(owner=org.alice)
        customer.short_name = "华信"
        customer.phone = "021-12345678"
        customer.save()
    create, update = events(audit.Action.CHANGE)
    assert create.detail == {"op": "create"}
    assert (update.customer_id, update.user_id) == (customer.pk, org.carl.pk)
    assert set(update.detail["fields"].split(",")) == {"short_name", "phone"}
    assert update.detail["op"] == "update"


def test_it_logs_a_deleted_record_of_a_customer_file(org):
    from creditfile.customers.models import Contact

    customer = make_customer(owner=org.alice)
    contact = Contact.objects.create(customer=customer, name="王经理")
    contact_pk = contact.pk
    contact.delete()
    deleted = events(audit.Action.CHANGE)[-1]
    assert (deleted.customer_id, deleted.object_type, deleted.object_id) == (
        customer.pk,
        "customers.contact",
        str(contact_pk),
    )
    assert json.loads(json.dumps(deleted.detail)) == {"op": "delete"}
