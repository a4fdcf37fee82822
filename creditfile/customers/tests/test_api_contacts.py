"""REST API: a customer's contacts and its attachment catalogue, behind the same visibility rule."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from creditfile.core.models import ApiToken, ObjectChange
from creditfile.customers.models import Contact
from creditfile.customers.services.attachments import add_attachment
from creditfile.customers.testing import make_customer


@pytest.fixture
def call(client, org):
    """call(username, method, path, data=None) with that user's bearer token."""
    keys = {}

    def _call(username, method, path, data=None):
        if username not in keys:
            keys[username] = ApiToken.issue(getattr(org, username), "tests")[1]
        headers = {"Authorization": f"Bearer {keys[username]}"}
        url = f"/api/v1{path}"
        if method == "get":
            return client.get(url, headers=headers)
        body = json.dumps(data) if data is not None else ""
        return getattr(client, method)(url, body, content_type="application/json", headers=headers)

    return _call


@pytest.fixture
def customer(org):
    return make_customer("爱丽丝客户有限公司", owner=org.alice)


@pytest.fixture
def contact(customer):
    return Contact.objects.create(
        customer=customer, name="王经理", mobile="13800138000", source="customer"
    )


def test_it_lists_the_contacts_of_a_visible_customer(call, customer, contact):
    response = call("alice", "get", f"/customers/{customer.pk}/contacts")

    assert response.status_code == 200
    assert [(c["id"], c["name"], c["mobile"]) for c in response.json()] == [
        (contact.pk, "王经理", "13800138000")
    ]


@pytest.mark.parametrize("username", ["bob", "walt", "wendy"])
def test_it_hides_the_contacts_of_a_hidden_customer_as_404(call, customer, contact, username):
    base = f"/customers/{customer.pk}/contacts"

    assert call(username, "get", base).status_code == 404
    assert call(username, "post", base, {"name": "X", "mobile": "13900139000"}).status_code == 404
    assert call(username, "patch", f"{base}/{contact.pk}", {"name": "改名"}).status_code == 404
    assert call(username, "delete", f"{base}/{contact.pk}").status_code == 404
    contact.refresh_from_db()
    assert contact.name == "王经理"


# The archivist is not a reader by work (access/policy.py): to them the file is a 404 here.
@pytest.mark.parametrize("username", ["victor", "george", "audrey"])
def test_it_lets_read_only_roles_read_contacts_but_not_write_them(
    call, customer, contact, username
):
    base = f"/customers/{customer.pk}/contacts"

    assert call(username, "get", base).status_code == 200
    assert call(username, "post", base, {"name": "X", "mobile": "13900139000"}).status_code == 403
    assert call(username, "patch", f"{base}/{contact.pk}", {"name": "改名"}).status_code == 403
    assert call(username, "delete", f"{base}/{contact.pk}").status_code == 403
    assert Contact.objects.filter(customer=customer).count() == 1


def test_it_creates_updates_and_deletes_a_contact_in_the_users_name(call, org, customer):
    base = f"/customers/{customer.pk}/contacts"

    created = call("alice", "post", base, {"name": "李会计", "phone": "021-66668888"})
    assert created.status_code == 201, created.content
    contact_id = created.json()["id"]
    contact = Contact.objects.get(pk=contact_id, customer=customer)
    assert contact.entered_by == org.alice
    assert contact.phone_search == "02166668888"

    updated = call("alice", "patch", f"{base}/{contact_id}", {"title": "财务主管"})
    assert updated.status_code == 200
    assert updated.json()["title"] == "财务主管"
    assert updated.json()["phone"] == "021-66668888"

    deleted = call("alice", "delete", f"{base}/{contact_id}")
    assert deleted.status_code == 204
    assert not Contact.objects.filter(pk=contact_id).exists()

    changes = ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(Contact), object_id=contact_id
    )
    assert {c.action for c in changes} == {"create", "update", "delete"}
    assert {(c.user, c.actor) for c in changes} == {(org.alice, "api")}


def test_it_names_the_field_of_a_bad_contact(call, customer):
    base = f"/customers/{customer.pk}/contacts"

    bad_phone = call("alice", "post", base, {"name": "赵", "phone": "12345"})
    no_way_to_reach = call("alice", "post", base, {"name": "钱"})

    assert bad_phone.status_code == 422
    assert [e["field"] for e in bad_phone.json()["detail"]] == ["phone"]
    assert no_way_to_reach.status_code == 422
    assert [e["field"] for e in no_way_to_reach.json()["detail"]] == ["mobile"]
    assert not Contact.objects.filter(customer=customer).exists()


def test_it_finds_no_contact_through_another_customers_id(call, org, customer, contact):
    own = make_customer("爱丽丝第二客户", owner=org.alice)

    response = call("alice", "patch", f"/customers/{own.pk}/contacts/{contact.pk}", {"name": "X"})

    assert response.status_code == 404
    contact.refresh_from_db()
    assert contact.name == "王经理"


def test_it_lists_attachment_metadata_with_the_download_route(call, org, customer):
    attachment = add_attachment(
        customer,
        SimpleUploadedFile("调查表.txt", "调查内容".encode(), content_type="text/plain"),
        category="investigation",
        title="信用调查表",
        document_date="2024-03-01",
        user=org.alice,
    )

    response = call("alice", "get", f"/customers/{customer.pk}/attachments")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": attachment.pk,
            "category": "investigation",
            "title": "信用调查表",
            "document_date": "2024-03-01",
            "original_name": "调查表.txt",
            "size": len("调查内容".encode()),
            "content_type": "text/plain",
            "download_url": f"/customers/{customer.pk}/attachments/{attachment.pk}/",
        }
    ]
    assert call("walt", "get", f"/customers/{customer.pk}/attachments").status_code == 404
