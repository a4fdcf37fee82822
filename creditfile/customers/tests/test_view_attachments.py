"""Attachments of a credit file (R-09): upload, catalogue, and the only way to download."""

from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from creditfile.customers.models import Attachment
from creditfile.customers.services.attachments import add_attachment
from creditfile.customers.testing import make_customer

NOW = datetime(2026, 3, 16, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def customer(org):
    return make_customer("华信科技有限公司", owner=org.alice)


def upload(client, customer, name, content, **fields):
    data = {"category": "financials", "title": "", "document_date": "2026-03-01"} | fields
    data["file"] = SimpleUploadedFile(name, content)
    return client.post(reverse("customers:attachment_upload", args=[customer.pk]), data)


def file_errors(response) -> list:
    return {bf.name: errors for bf, errors in response.context["upload"]["rows"]}["file"]


def attach(customer, user, name="2025年审计报告.pdf", content=PDF, **fields):
    fields.setdefault("category", "financials")
    fields.setdefault("title", "")
    fields.setdefault("document_date", NOW.date())
    return add_attachment(customer, SimpleUploadedFile(name, content), user=user, **fields)


def test_it_files_an_uploaded_pdf_in_the_data_folder(client, org, customer, settings):
    client.force_login(org.alice)

    response = upload(client, customer, "2025年审计报告.pdf", PDF, title="2025年度审计报告")

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:section", args=[customer.pk, "attachments"])
    attachment = Attachment.objects.get()
    assert (attachment.title, attachment.original_name) == (
        "2025年度审计报告",
        "2025年审计报告.pdf",
    )
    assert attachment.recorded_by == org.alice and attachment.content_type == "application/pdf"
    stored = Path(attachment.file.path)
    assert stored.read_bytes() == PDF
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT))
    assert not stored.is_relative_to(Path(settings.STATIC_ROOT))
    assert "审计" not in stored.name  # stored under a random name


def test_it_names_the_refused_type(client, org, customer):
    client.force_login(org.alice)
    response = upload(client, customer, "setup.exe", EXE)
    assert response.status_code == 200
    [message] = file_errors(response)
    assert message.startswith("不支持的文件类型“.exe”。允许：")
    assert message in response.content.decode()
    assert not Attachment.objects.exists()


def test_it_refuses_an_executable_renamed_to_pdf(client, org, customer):
    client.force_login(org.alice)
    response = upload(client, customer, "报表.pdf", EXE)
    assert file_errors(response) == ["文件内容与扩展名“.pdf”不符，请确认文件未损坏或被改名。"]
    assert not Attachment.objects.exists()


def test_it_refuses_an_empty_file(client, org, customer):
    client.force_login(org.alice)
    response = upload(client, customer, "空.pdf", b"")
    assert file_errors(response) == ["文件“空.pdf”是空文件。"]
    assert not Attachment.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(client, org, customer, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    client.force_login(org.alice)
    response = upload(client, customer, "大.pdf", PDF + b"0" * (1024 * 1024))
    assert file_errors(response) == ["文件过大：1.0 MB，上限为1 MB。"]
    assert not Attachment.objects.exists()


def test_it_needs_a_file_and_a_category(client, org, customer):
    client.force_login(org.alice)
    response = client.post(
        reverse("customers:attachment_upload", args=[customer.pk]),
        {"category": "", "document_date": "2026-03-01"},
    )
    rows = {bf.name: errors for bf, errors in response.context["upload"]["rows"]}
    assert rows["file"] and rows["category"]


def test_it_lists_the_catalogue_in_document_date_order(client, org, customer):
    for title, day in (("年审报告", 20), ("申请表", 1), ("调查表", 10)):
        attach(customer, org.alice, title=title, document_date=NOW.date().replace(day=day))
    client.force_login(org.alice)

    response = client.get(reverse("customers:section", args=[customer.pk, "attachments"]))

    assert [a.title for a in response.context["attachments"]] == ["申请表", "调查表", "年审报告"]
    html = response.content.decode()
    assert html.index("申请表") < html.index("调查表") < html.index("年审报告")
    assert "/upload/" in html


def test_it_lets_the_owner_download_under_the_original_name(client, org, customer):
    attachment = attach(customer, org.alice)
    client.force_login(org.alice)

    response = client.get(
        reverse("customers:attachment_download", args=[customer.pk, attachment.pk])
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="attachment-{attachment.pk}.pdf"; '
        "filename*=UTF-8''" + quote("2025年审计报告.pdf")
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_hides_the_file_from_another_rep(client, org, customer):
    attachment = attach(customer, org.alice)
    client.force_login(org.walt)
    url = reverse("customers:attachment_download", args=[customer.pk, attachment.pk])
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert client.get(url).status_code == 403


def test_it_refuses_an_attachment_id_of_another_customer(client, org, customer):
    """Alice may see her own customer, but not bob's file through her customer's URL."""
    bobs = make_customer("博远贸易有限公司", owner=org.bob)
    secret = attach(bobs, org.bob, name="秘密.pdf")
    client.force_login(org.alice)
    url = reverse("customers:attachment_download", args=[customer.pk, secret.pk])
    assert client.get(url).status_code == 404


def test_it_lets_the_auditor_download_but_not_upload(client, org, customer):
    attachment = attach(customer, org.alice)
    client.force_login(org.audrey)
    url = reverse("customers:attachment_download", args=[customer.pk, attachment.pk])
    assert client.get(url).status_code == 200
    html = client.get(reverse("customers:section", args=[customer.pk, "attachments"])).content
    assert b"/upload/" not in html
    assert upload(client, customer, "x.pdf", PDF).status_code == 403
    assert Attachment.objects.count() == 1


def test_it_serves_no_stored_file_by_its_path(client, org, customer):
    attachment = attach(customer, org.alice)
    client.force_login(org.alice)
    for prefix in ("/", "/media/", "/files/", "/static/"):
        assert client.get(prefix + attachment.file.name).status_code == 404
