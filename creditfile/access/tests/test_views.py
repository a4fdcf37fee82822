"""The access policy on the screens and the API (R-40…R-42): stubs, denied events, lists,
search, counts and exports that never show a customer one may not read, and the 查阅申请
screens from request to lending."""

import io
import json
from datetime import date

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from creditfile.access.models import AccessSettings, AuditEvent, Lending, ReadRequest
from creditfile.access.services import requests as reads
from creditfile.core.models import ApiToken
from creditfile.customers.testing import make_customer

NOW = "2026-12-07 09:00 +08:00"


@pytest.fixture
def files(org):
    """Other people's files at every level, plus one of alice's own."""
    made = {
        "own": make_customer("爱丽丝自有客户有限公司", owner=org.alice, phone="13900000001"),
    }
    for level in ("company", "department", "personal"):
        made[f"bob_{level}"] = make_customer(
            f"鲍勃{level}客户有限公司", owner=org.bob, confidentiality=level
        )
        made[f"walt_{level}"] = make_customer(
            f"沃尔特{level}客户有限公司", owner=org.walt, confidentiality=level
        )
    return made


def _denied(user, customer):
    return AuditEvent.objects.filter(
        action="denied", outcome="denied", user_id=user.pk, customer_id=customer.pk
    )


# --- the stub and the denied event -----------------------------------------------------------


def test_it_shows_a_stub_with_403_and_records_the_attempt(client, org, files):
    secret = files["bob_personal"]
    client.force_login(org.alice)

    response = client.get(reverse("customers:detail", args=[secret.pk]))

    assert response.status_code == 403
    page = response.content.decode()
    assert secret.name in page and secret.uscc in page and "申请查阅" in page
    assert f"{reverse('access:request_new')}?customer={secret.pk}" in page
    assert "负责销售代表" not in page  # no file content, not even the header
    assert _denied(org.alice, secret).count() == 1


def test_it_shows_the_stub_on_every_tab_of_the_file(client, org, files):
    secret = files["walt_department"]
    client.force_login(org.alice)

    for section in ("contacts", "timeline", "financials"):
        url = reverse("customers:section", args=[secret.pk, section])
        response = client.get(url)
        assert response.status_code in (403, 404), section
        if response.status_code == 403:
            assert "申请查阅" in response.content.decode()
    assert _denied(org.alice, secret).count() >= 2


def test_it_answers_an_unknown_customer_with_a_plain_404(client, org, files):
    client.force_login(org.alice)

    assert client.get(reverse("customers:detail", args=[999999])).status_code == 404
    assert not AuditEvent.objects.filter(action="denied").exists()


def test_it_audits_a_denied_edit_with_403(client, org, files):
    client.force_login(org.victor)  # reads everything, edits nothing

    response = client.get(reverse("customers:edit", args=[files["bob_company"].pk]))

    assert response.status_code == 403
    event = _denied(org.victor, files["bob_company"]).get()
    assert event.detail == {"action": "edit"}


def test_it_lets_the_owner_and_the_director_open_a_company_file(client, org, files):
    url = reverse("customers:detail", args=[files["bob_company"].pk])
    for user in (org.bob, org.dora, org.george):
        client.force_login(user)
        assert client.get(url).status_code == 200, user
    client.force_login(org.mary)
    assert client.get(url).status_code == 403


# --- the API ----------------------------------------------------------------------------------


def _api(client, user):
    _token, key = ApiToken.issue(user, "tests")
    headers = {"Authorization": f"Bearer {key}"}
    return lambda path, **params: client.get(f"/api/v1{path}", params, headers=headers)


def test_it_answers_404_in_the_api_and_records_the_attempt(client, org, files):
    get = _api(client, org.alice)
    secret = files["bob_personal"]

    response = get(f"/customers/{secret.pk}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert _denied(org.alice, secret).count() == 1
    assert get(f"/customers/{secret.pk}/contacts").status_code == 404
    assert get(f"/customers/{files['own'].pk}").status_code == 200


def test_it_refuses_an_api_edit_of_a_read_only_file_and_records_it(client, org, files):
    _token, key = ApiToken.issue(org.audrey, "tests")
    response = client.patch(
        f"/api/v1/customers/{files['bob_personal'].pk}",
        json.dumps({"phone": "13800138000"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 403
    assert _denied(org.audrey, files["bob_personal"]).get().detail == {"action": "edit"}


# --- lists, search, counts, exports -----------------------------------------------------------

# Who sees which of the files above (bob is sales east like alice and mary; walt is west).
SEES = {
    "alice": {"own"},
    "mary": {"own", "bob_department", "bob_personal"},
    "wendy": {"walt_department", "walt_personal"},
    "arthur": set(),
}


@pytest.mark.parametrize("username", sorted(SEES))
def test_it_never_lists_counts_or_exports_a_file_the_user_may_not_read(
    client, org, files, username
):
    user = getattr(org, username)
    expected = {files[k].name for k in SEES[username]}
    hidden = {c.name for k, c in files.items() if k not in SEES[username]}
    client.force_login(user)

    page = client.get(reverse("customers:list")).content.decode()
    assert all(name in page for name in expected)
    assert not any(name in page for name in hidden)
    assert f"共 {len(expected)} 位客户" in page

    for name in hidden:
        searched = client.get(reverse("customers:list"), {"q": name[:4]}).content.decode()
        assert name not in searched
    searched = client.get(reverse("customers:list"), {"q": "客户有限公司"}).content.decode()
    assert f"共 {len(expected)} 位客户" in searched

    export = client.get(reverse("customers:export"))
    if export.status_code == 200:
        sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
        exported = {cell.value for cell in sheet["A"] if cell.value}
        assert not exported & hidden
        assert expected <= exported or not expected

    listed = _api(client, user)("/customers").json()
    assert {item["name"] for item in listed["items"]} == expected
    assert listed["count"] == len(expected)


# --- 查阅申请 screens ------------------------------------------------------------------------


@time_machine.travel(NOW, tick=True)
def test_it_takes_a_request_from_the_stub_to_reading_the_file(client, sudo_client, org, files):
    secret = files["walt_personal"]
    client.force_login(org.alice)
    form = client.get(reverse("access:request_new"), {"customer": secret.pk})
    assert secret.uscc in form.content.decode()

    response = client.post(
        reverse("access:request_new"),
        {
            "customers": secret.uscc,
            "purpose": "协助催收",
            "wanted_from": "2026-12-07",
            "wanted_to": "2026-12-10",
        },
    )
    request = ReadRequest.objects.get(requester=org.alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("access:request_detail", args=[request.pk])
    step = request.steps.get()

    # Approving asks for the password first.
    client.force_login(org.wendy)
    asked = client.post(
        reverse("access:step_decide", args=[request.pk, step.pk]), {"decision": "approve"}
    )
    assert asked.status_code == 302 and "confirm-password" in asked["Location"]
    step.refresh_from_db()
    assert step.decision == "pending"

    sudo_client.force_login(org.wendy)
    waiting = sudo_client.get(reverse("access:requests")).content.decode()
    assert "协助催收" in waiting
    sudo_client.post(
        reverse("access:step_decide", args=[request.pk, step.pk]),
        {"decision": "approve", "comment": "同意"},
    )
    request.refresh_from_db()
    assert request.status == ReadRequest.Status.APPROVED

    sudo_client.force_login(org.arthur)
    register = sudo_client.get(reverse("access:lendings")).content.decode()
    assert secret.name in register
    sudo_client.post(
        reverse("access:request_lend", args=[request.pk]),
        {"due_back_at": "2026-12-10T18:00", "note": ""},
    )
    lending = Lending.objects.get(request=request)

    client.force_login(org.alice)
    page = client.get(reverse("customers:detail", args=[secret.pk]))
    assert page.status_code == 200
    assert client.get(reverse("customers:edit", args=[secret.pk])).status_code == 403
    detail = client.get(reverse("access:request_detail", args=[request.pk])).content.decode()
    assert "借阅中" in detail and "Wendy" in detail

    sudo_client.post(reverse("access:lending_return", args=[lending.pk]), {"back": "register"})
    assert client.get(reverse("customers:detail", args=[secret.pk])).status_code == 403


@time_machine.travel(NOW, tick=False)
def test_it_names_the_customers_it_cannot_find(client, org, files):
    client.force_login(org.alice)

    response = client.post(
        reverse("access:request_new"),
        {
            "customers": "不存在的公司\n" + files["bob_company"].name,
            "purpose": "核对",
            "wanted_from": "2026-12-07",
            "wanted_to": "2026-12-08",
        },
    )

    assert response.status_code == 200
    assert "不存在的公司" in response.content.decode()
    assert not ReadRequest.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_it_hides_a_request_from_people_outside_it(client, org, files):
    request = reads.submit(
        org.alice, [files["bob_personal"]], "核对", date(2026, 12, 7), date(2026, 12, 8)
    )
    url = reverse("access:request_detail", args=[request.pk])

    for user, status in ((org.alice, 200), (org.mary, 200), (org.arthur, 200), (org.walt, 404)):
        client.force_login(user)
        assert client.get(url).status_code == status, user


def test_it_keeps_the_lending_register_and_settings_to_their_roles(client, org):
    client.force_login(org.bob)
    assert client.get(reverse("access:lendings")).status_code == 403
    assert client.get(reverse("access:settings")).status_code == 403
    client.force_login(org.arthur)
    assert client.get(reverse("access:lendings")).status_code == 200


def test_it_changes_the_readers_by_work_on_the_settings_screen(sudo_client, org):
    sudo_client.force_login(org.adam)

    response = sudo_client.post(
        reverse("access:settings"),
        {"reader_roles": ["credit_staff", "archivist"], "company_approver_role": "vp"},
    )

    assert response.status_code == 302
    saved = AccessSettings.current()
    assert saved.reader_roles == ["credit_staff", "archivist"]
    assert saved.company_approver_role == "vp"
    page = sudo_client.get(reverse("access:settings")).content.decode()
    assert "Adam" in page  # the change log names who changed it


def test_it_records_any_other_refused_action_naming_the_customer_in_the_url(client, org, files):
    # fiona (finance) reads and may edit some sections, but not the basic registry data.
    client.force_login(org.fiona)
    edit = reverse("customers:edit", args=[files["bob_personal"].pk])

    assert client.get(edit).status_code == 403

    event = _denied(org.fiona, files["bob_personal"]).get()
    assert event.detail == {"action": "forbidden", "method": "GET", "path": edit}
    client.force_login(org.alice)
    assert client.get(reverse("access:settings")).status_code == 403
    screen = AuditEvent.objects.get(action="denied", user_id=org.alice.pk)
    assert screen.customer_id is None and screen.detail["path"] == reverse("access:settings")
