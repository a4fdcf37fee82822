"""The handover screens (R-43): who may use them, the preview, the password, the letters."""

import io
import zipfile

import pytest
from django.urls import reverse
from pypdf import PdfReader

from creditfile.core.models import HandoverLetterTemplate, HandoverRecord
from creditfile.core.services import handover
from creditfile.core.testing import PASSWORD
from creditfile.customers.models import Contact, Customer
from creditfile.customers.testing import make_customer

START = reverse("handover:start")
CONFIRM = "/accounts/confirm-password/"


@pytest.fixture
def customers(org):
    first = make_customer("华信科技有限公司", owner=org.alice)
    Contact.objects.create(
        customer=first, name="王经理", mobile="13800138000", is_primary=True, source="sales"
    )
    second = make_customer("远东贸易有限公司", owner=org.alice)
    return [first, second]


def form_data(org, **extra):
    data = {
        "departing": org.alice.pk,
        "successor": org.bob.pk,
        "reason": "离职",
        "deactivate": "on",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("user", "status"),
    [("adam", 200), ("dora", 200), ("mary", 200), ("alice", 403), ("cathy", 403), ("audrey", 403)],
)
def test_it_lets_only_handover_roles_start_one(client, org, user, status):
    client.force_login(getattr(org, user))

    assert client.get(START).status_code == status


@pytest.mark.parametrize(("user", "status"), [("audrey", 200), ("adam", 200), ("alice", 403)])
def test_it_shows_the_records_to_those_who_may_read_them(client, org, user, status):
    client.force_login(getattr(org, user))

    assert client.get(reverse("handover:list")).status_code == status


def test_it_shows_the_menu_entry_only_to_those_who_may(client, org):
    client.force_login(org.mary)
    assert "离职交接" in client.get("/customers/").content.decode()
    client.force_login(org.alice)
    assert "离职交接" not in client.get("/customers/").content.decode()


def test_it_offers_a_department_manager_only_their_department(client, org):
    client.force_login(org.mary)

    page = client.get(START).content.decode()

    assert "alice" in page and "walt" not in page
    response = client.get(START, form_data(org, departing=org.walt.pk))
    assert response.status_code == 422
    assert not HandoverRecord.objects.exists()


def test_it_previews_what_will_move_without_moving_it(client, org, customers):
    client.force_login(org.mary)

    page = client.get(START, form_data(org)).content.decode()

    assert "华信科技有限公司" in page and "远东贸易有限公司" in page
    assert "确认交接（共 2 项" in page
    assert Customer.objects.filter(owner=org.alice).count() == 2


def test_it_names_the_field_of_a_refused_successor(client, org, customers):
    client.force_login(org.adam)

    response = client.get(START, form_data(org, successor=org.carl.pk))

    assert response.status_code == 422
    assert "不是销售代表或部门经理" in response.content.decode()


def test_it_asks_for_the_password_before_handing_over(client, org, customers):
    client.force_login(org.mary)

    response = client.post(START, form_data(org), HTTP_REFERER=f"http://testserver{START}")

    assert response.status_code == 302 and response["Location"].startswith(CONFIRM)
    assert not HandoverRecord.objects.exists()
    confirmed = client.post(response["Location"], {"password": PASSWORD})
    assert confirmed.status_code == 200  # "send the held action again"
    done = client.post(START, form_data(org))
    record = HandoverRecord.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("handover:detail", args=[record.pk])
    assert set(Customer.objects.filter(owner=org.bob)) == set(customers)
    assert record.handed_over_by == org.mary and record.deactivated


def test_it_shows_the_record_with_its_customers_to_notify(sudo_client, org, customers):
    sudo_client.force_login(org.mary)
    sudo_client.post(START, form_data(org))
    record = HandoverRecord.objects.get()

    page = sudo_client.get(reverse("handover:detail", args=[record.pk])).content.decode()

    assert "王经理" in page and "13800138000" in page
    assert reverse("handover:letter_pdf", args=[record.pk, customers[0].pk]) in page


def test_it_hides_records_outside_a_department_managers_reach(client, org, customers):
    make_customer("沃尔特客户有限公司", owner=org.walt)
    record = handover.hand_over(org.walt, org.wendy, by=org.adam, reason="离职")
    client.force_login(org.mary)

    assert client.get(reverse("handover:detail", args=[record.pk])).status_code == 404
    client.force_login(org.wendy)
    assert client.get(reverse("handover:detail", args=[record.pk])).status_code == 200


def test_it_prints_a_letter_naming_the_successor_and_their_phone(client, org, customers):
    org.bob.phone = "0512-66880001"
    org.bob.save()
    record = handover.hand_over(org.alice, org.bob, by=org.mary, reason="离职")
    client.force_login(org.mary)

    response = client.get(reverse("handover:letter_pdf", args=[record.pk, customers[0].pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = text.replace(" ", "").replace("\n", "")
    assert "华信科技有限公司" in text
    assert "客户经理变更为Bob" in text
    assert "0512-66880001" in text


def test_it_bundles_every_letter_as_pdf_and_word(client, org, customers):
    record = handover.hand_over(org.alice, org.bob, by=org.mary, reason="离职")
    client.force_login(org.mary)

    response = client.get(reverse("handover:letters_zip", args=[record.pk]))
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()

    assert len(names) == 4
    assert {name.rsplit(".", 1)[1] for name in names} == {"pdf", "docx"}
    docx = client.get(reverse("handover:letter_docx", args=[record.pk, customers[1].pk]))
    assert docx.status_code == 200


def test_it_prints_no_letter_for_a_customer_not_in_the_record(client, org, customers):
    record = handover.hand_over(org.alice, org.bob, by=org.mary, reason="离职")
    other = make_customer("鲍勃客户有限公司", owner=org.bob)
    client.force_login(org.mary)

    assert client.get(reverse("handover:letter_pdf", args=[record.pk, other.pk])).status_code == 404


def test_it_edits_the_letter_template_and_refuses_unknown_placeholders(client, org, customers):
    client.force_login(org.dora)
    url = reverse("handover:letter_template")

    refused = client.post(url, {"subject": "通知", "body": "{客户名称}：您好，{不存在}"})
    saved = client.post(url, {"subject": "新客户经理", "body": "{客户名称}：请联系{新客户经理}。"})

    assert refused.status_code == 422 and "未知的占位符" in refused.content.decode()
    assert saved.status_code == 302
    template = HandoverLetterTemplate.objects.get()
    assert template.subject == "新客户经理" and template.updated_by == org.dora
    record = handover.hand_over(org.alice, org.bob, by=org.mary, reason="离职")
    from creditfile.core.services import handover_letters

    assert handover_letters.render(record, customers[0]) == (
        "新客户经理",
        "华信科技有限公司：请联系Bob。",
    )
    client.force_login(org.mary)
    assert client.get(url).status_code == 403
