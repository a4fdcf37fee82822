"""Key persons' personal information (R-02; PIPL): masked everywhere, revealed for a purpose,
erased when its retention ends, never copied into history, and the people's own requests."""

import io
import json
import re
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from creditfile.access.models import AuditEvent
from creditfile.core.models import ApiToken, ObjectChange
from creditfile.customers.cards import build_customer_card
from creditfile.customers.imports.columns import CONTACT_COLUMNS, CUSTOMER_COLUMNS
from creditfile.customers.models import DataSubjectRequest, KeyPerson
from creditfile.customers.models.personal_data import add_working_days
from creditfile.customers.services import data_requests
from creditfile.customers.testing import make_customer

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PRIVATE = {
    "birthday": date(1971, 8, 23),
    "mobile": "13987654321",
    "personality": "性格豪爽",
    "hobbies": "钓鱼",
    "family": "已婚，一子",
    "education": "硕士研究生",
    "abilities": "擅长谈判",
}
SHOWN = ("13987654321", "性格豪爽", "钓鱼", "已婚，一子", "擅长谈判", "1971-08-23")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def customer(org):
    return make_customer("华信科技有限公司", owner=org.alice)


@pytest.fixture
def person(customer):
    return KeyPerson.objects.create(
        customer=customer,
        name="王建国",
        role="legal_rep",
        title="董事长",
        source="sales",
        legal_basis="consent",
        consent_reference="档案室A柜3号卷",
        retention_until=date(2027, 12, 31),
        **PRIVATE,
    )


@pytest.fixture
def call(client, org):
    keys = {}

    def _call(username, method, path, data=None):
        if username not in keys:
            keys[username] = ApiToken.issue(getattr(org, username), "tests")[1]
        headers = {"Authorization": f"Bearer {keys[username]}"}
        if method == "get":
            return client.get(f"/api/v1{path}", headers=headers)
        return client.post(
            f"/api/v1{path}", json.dumps(data), content_type="application/json", headers=headers
        )

    return _call


# --- Masked everywhere ----------------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "cathy"])
def test_it_keeps_private_details_out_of_the_api_read(call, customer, person, username):
    response = call(username, "get", f"/customers/{customer.pk}/key-persons")
    assert response.status_code == 200
    body = json.dumps(response.json(), ensure_ascii=False)
    assert "王建国" in body and not any(value in body for value in SHOWN)
    assert set(response.json()[0]["masked_fields"]) == set(KeyPerson.PRIVATE_FIELDS)


def test_it_reveals_through_the_api_with_the_right_and_a_purpose(call, org, customer, person):
    path = f"/customers/{customer.pk}/key-persons/{person.pk}/reveal"
    assert call("alice", "post", path, {"purpose": "拜访"}).status_code == 403
    assert call("cathy", "post", path, {"purpose": " "}).status_code == 422
    assert call("walt", "post", path, {"purpose": "拜访"}).status_code == 404
    response = call("cathy", "post", path, {"purpose": "信用复评核对"})
    assert response.status_code == 200
    assert response.json()["hobbies"] == "钓鱼"
    events = AuditEvent.objects.filter(action="reveal").order_by("id")
    assert [(e.username, e.outcome, e.purpose) for e in events] == [
        ("alice", "denied", "拜访"),
        ("cathy", "ok", "信用复评核对"),
    ]


def test_it_never_exports_private_details(client, org, customer, person):
    client.force_login(org.cathy)
    response = client.get("/customers/export.xlsx")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    text = " ".join(
        str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row
    )
    assert "华信科技有限公司" in text and not any(value in text for value in SHOWN)


def test_it_never_prints_private_details_on_the_card(org, customer, person):
    content = build_customer_card(customer, user=org.cathy)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "王建国" in text and not any(value in text for value in SHOWN)


# --- Retention -----------------------------------------------------------------------------


def run_daily(day: str) -> str:
    out = StringIO()
    call_command("daily", "--today", day, stdout=out)
    return out.getvalue()


def test_it_erases_expired_details_once_keeps_the_name_and_audits_it(client, org, person):
    kept = KeyPerson.objects.create(
        customer=person.customer,
        name="李强",
        role="general_manager",
        hobbies="网球",
        source="sales",
        retention_until=date(2028, 1, 1),
    )
    assert re.search(r"Expired personal details erased +1\n", run_daily("2028-01-01"))

    person.refresh_from_db()
    assert (person.name, person.role, person.title) == ("王建国", "legal_rep", "董事长")
    assert not person.has_private_details
    kept.refresh_from_db()
    assert kept.hobbies == "网球"
    event = AuditEvent.objects.get(action="delete_personal")
    assert event.object_id == str(person.pk) and event.customer_id == person.customer_id
    assert set(event.detail["fields"].split(",")) == set(PRIVATE)
    # Nothing of what was erased survives in the change history.
    history = " ".join(
        f"{c.old_value} {c.new_value}" for c in ObjectChange.objects.filter(object_id=person.pk)
    )
    assert not any(value in history for value in SHOWN)
    # The customer's timeline says what happened and why.
    client.force_login(org.alice)
    page = client.get(reverse("customers:timeline", args=[person.customer_id]))
    entries = [e for e, _k, _c in page.context["entries"] if e.kind == "change"]
    assert any(e.who == "个人信息保存期限届满" and "王建国" in e.title for e in entries)
    # A second run changes nothing twice.
    assert re.search(r"Expired personal details erased +0\n", run_daily("2028-01-01"))
    assert AuditEvent.objects.filter(action="delete_personal").count() == 1


def test_it_refuses_private_details_without_a_future_retention_date(customer):
    stale = KeyPerson(
        customer=customer,
        name="李强",
        role="manager",
        hobbies="网球",
        source="sales",
        retention_until=date(2026, 1, 1),
    )
    with pytest.raises(Exception) as caught:
        stale.full_clean()
    assert "retention_until" in caught.value.message_dict


# --- Forbidden categories ------------------------------------------------------------------

# Chinese terms match anywhere; English ones as whole words (so "general manager" is fine).
FORBIDDEN_ZH = ("宗教", "信仰", "基因", "指纹", "血型", "疾病", "病史", "医疗")
FORBIDDEN_EN = (
    "religion",
    "religious",
    "faith",
    "gene",
    "genes",
    "genetic",
    "fingerprint",
    "fingerprints",
    "blood",
    "illness",
    "disease",
    "medical",
)


def forbidden(text: str) -> bool:
    words = set(re.split(r"[^a-z]+", text.lower()))
    return any(term in text for term in FORBIDDEN_ZH) or bool(words & set(FORBIDDEN_EN))


def test_it_spots_the_forbidden_words_it_looks_for():
    assert forbidden("blood_type") and forbidden("血型") and forbidden("Medical history")
    assert not forbidden("general_manager") and not forbidden("Generated at")


def test_no_model_has_a_field_for_what_credit_reporting_forbids():
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            texts = [field.name]
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    texts.append(str(getattr(field, "verbose_name", "") or ""))
                    texts.append(str(getattr(field, "help_text", "") or ""))
            found += [f"{model._meta.label}.{field.name}: {t}" for t in texts if forbidden(t)]
    assert not found


def test_no_import_column_takes_what_credit_reporting_forbids():
    texts = []
    for column in [*CUSTOMER_COLUMNS, *CONTACT_COLUMNS]:
        texts += [str(column.header), column.field, *map(str, column.aliases)]
    assert not [t for t in texts if forbidden(t)]


# --- Requests by the person concerned ------------------------------------------------------


def register(org, person, kind, **extra):
    return data_requests.register_request(
        kind=kind,
        person_name=person.name if person else "张某",
        received_on=date(2026, 12, 7),
        identity_check="当面核对身份证原件",
        handled_by=org.cathy,
        key_person=person,
        **extra,
    )


def test_it_is_due_in_fifteen_working_days_and_then_overdue(org, person):
    dsr = register(org, person, "copy")
    assert dsr.due_on == add_working_days(date(2026, 12, 7), 15) == date(2026, 12, 28)
    assert not dsr.is_overdue(date(2026, 12, 28))
    assert dsr.is_overdue(date(2026, 12, 29))
    data_requests.close_request(dsr, outcome="已交付副本", closed_on=date(2026, 12, 30))
    assert not dsr.is_overdue(date(2027, 1, 5))


def test_it_hands_over_a_copy_of_the_persons_data_and_audits_it(client, org, person):
    dsr = register(org, person, "copy")
    client.force_login(org.cathy)
    response = client.post(reverse("customers:data_request_copy", args=[dsr.pk]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    text = " ".join(
        str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row
    )
    assert all(value in text for value in ("王建国", "钓鱼", "1971-08-23", "档案室A柜3号卷"))
    event = AuditEvent.objects.get(action="export")
    assert event.object_id == str(person.pk) and f"#{dsr.pk}" in event.purpose


def test_it_deletes_on_request_and_keeps_the_register_after_the_record_is_gone(client, org, person):
    dsr = register(org, person, "deletion")
    client.force_login(org.cathy)
    client.post(reverse("customers:data_request_erase", args=[dsr.pk]), {"remove_record": "on"})
    assert not KeyPerson.objects.filter(pk=person.pk).exists()
    dsr.refresh_from_db()
    assert dsr.key_person is None and dsr.person_name == "王建国"
    assert "已删除关键人物记录" in dsr.outcome
    assert AuditEvent.objects.filter(action="delete_personal", object_id=str(person.pk)).exists()
    client.post(
        reverse("customers:data_request", args=[dsr.pk]),
        {"outcome": dsr.outcome, "closed_on": "2026-12-08"},
    )
    dsr.refresh_from_db()
    assert dsr.closed_on == date(2026, 12, 8)


def test_it_corrects_through_the_normal_form_and_closes_with_the_outcome(client, org, person):
    dsr = register(org, person, "correction", details="手机号码已变更")
    client.force_login(org.cathy)
    page = client.get(reverse("customers:data_request", args=[dsr.pk])).content.decode()
    edit_url = reverse(
        "customers:section_edit", args=[person.customer_id, "key-persons", person.pk]
    )
    assert edit_url in page
    client.post(
        edit_url,
        {
            "name": "王建国",
            "role": "legal_rep",
            "title": "董事长",
            "mobile": "13800001111",
            "purpose": "客户信用评估与业务往来联系",
            "legal_basis": "consent",
            "consent_reference": "档案室A柜3号卷",
            "retention_until": "2027-12-31",
            "source": "sales",
            "source_date": "2026-12-07",
        },
    )
    person.refresh_from_db()
    assert person.mobile == "13800001111" and person.hobbies == "钓鱼"
    response = client.post(
        reverse("customers:data_request", args=[dsr.pk]), {"outcome": "", "closed_on": "2026-12-07"}
    )
    assert "处理结果" in response.content.decode()
    dsr.refresh_from_db()
    assert dsr.closed_on is None


def test_it_registers_a_request_from_the_key_person_and_lists_it(client, org, person):
    client.force_login(org.cathy)
    section = reverse("customers:section", args=[person.customer_id, "key-persons"])
    add_url = reverse("customers:data_request_add") + f"?key_person={person.pk}"
    assert add_url in client.get(section).content.decode().replace("&amp;", "&")
    response = client.post(
        add_url,
        {
            "kind": "copy",
            "person_name": "王建国",
            "received_on": "2026-11-01",
            "identity_check": "盖章函",
        },
    )
    dsr = DataSubjectRequest.objects.get()
    assert response.url == reverse("customers:data_request", args=[dsr.pk])
    assert (dsr.key_person, dsr.customer, dsr.handled_by) == (person, person.customer, org.cathy)
    listing = client.get(reverse("customers:data_requests")).content.decode()
    assert "王建国" in listing and "已逾期" in listing


@pytest.mark.parametrize("username", ["alice", "mary", "carl", "audrey"])
def test_it_keeps_the_register_to_the_credit_manager_and_administrator(client, org, username):
    client.force_login(getattr(org, username))
    assert client.get(reverse("customers:data_requests")).status_code == 403
    client.force_login(org.adam)
    assert client.get(reverse("customers:data_requests")).status_code == 200


def test_the_migration_gives_old_rows_a_basis_and_scrubs_old_history(org, customer):
    import importlib

    from django.contrib.contenttypes.models import ContentType

    migration = importlib.import_module(
        "creditfile.customers.migrations.0006_key_person_existing_rows"
    )
    bare = KeyPerson.objects.create(customer=customer, name="李强", role="manager", source="sales")
    detailed = KeyPerson.objects.create(
        customer=customer, name="王建国", role="legal_rep", hobbies="钓鱼", source="sales"
    )
    ObjectChange.objects.create(
        time=NOW,
        action="update",
        content_type=ContentType.objects.get_for_model(KeyPerson),
        object_id=detailed.pk,
        object_repr="王建国",
        root_type=ContentType.objects.get_for_model(customer),
        root_id=customer.pk,
        field="hobbies",
        field_label="兴趣爱好",
        old_value="钓鱼",
        new_value="高尔夫",
    )
    migration.forwards(apps, None)
    bare.refresh_from_db()
    detailed.refresh_from_db()
    assert (bare.legal_basis, bare.retention_until) == ("public", None)
    assert detailed.legal_basis == "other" and detailed.basis_note
    assert detailed.retention_until > date(2026, 12, 7)
    change = ObjectChange.objects.get(field="hobbies")
    assert (change.old_value, change.new_value) == ("", "")
