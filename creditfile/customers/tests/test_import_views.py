"""The import screen /customers/import/ and its template and report downloads."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from creditfile.core.models import ObjectChange
from creditfile.customers.imports.testing import (
    CONTACT_HEADERS,
    CUSTOMER_HEADERS,
    contact_row,
    customer_row,
    reference_data,
    uscc,
    write_xlsx,
)
from creditfile.customers.models import Contact, Customer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def refs(db):
    return reference_data()


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type=XLSX)


def good_file(tmp_path):
    return write_xlsx(
        tmp_path / "good.xlsx",
        {
            "客户": [CUSTOMER_HEADERS, customer_row(1), customer_row(2)],
            "联系人": [CONTACT_HEADERS, contact_row(1, "王经理")],
        },
    )


@pytest.mark.parametrize(
    "name", ["customers:import", "customers:import_template", "customers:import_report"]
)
def test_it_refuses_a_sales_rep(client, org, name):
    client.force_login(org.alice)
    assert client.get(reverse(name)).status_code == 403


def test_it_refuses_a_sales_rep_posting_a_file(client, org, refs, tmp_path):
    client.force_login(org.alice)
    response = client.post(reverse("customers:import"), {"file": upload(good_file(tmp_path))})
    assert response.status_code == 403
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("username", ["carl", "cathy", "dora", "adam"])
def test_it_shows_the_upload_form_to_roles_that_import(client, org, username):
    client.force_login(org.users[username])
    response = client.get(reverse("customers:import"))
    assert response.status_code == 200
    assert reverse("customers:import_template") in response.content.decode()


def test_it_imports_an_uploaded_file_and_shows_the_counts(client, org, refs, tmp_path):
    client.force_login(org.carl)
    response = client.post(
        reverse("customers:import"), {"file": upload(good_file(tmp_path)), "kind": "customers"}
    )

    assert response.status_code == 200
    result = response.context["result"]
    assert result.committed and result.counts["客户"].created == 2
    assert "导入完成" in response.content.decode()
    assert Customer.objects.count() == 2 and Contact.objects.count() == 1
    change = ObjectChange.objects.filter(object_id=Customer.objects.get(uscc=uscc(1)).pk).first()
    assert change.user == org.carl and change.actor == "import:good.xlsx"


def test_it_checks_only_without_writing(client, org, refs, tmp_path):
    client.force_login(org.carl)
    response = client.post(
        reverse("customers:import"),
        {"file": upload(good_file(tmp_path)), "kind": "customers", "check_only": "1"},
    )

    assert "检查通过" in response.content.decode()
    assert response.context["result"].counts["客户"].created == 2
    assert Customer.objects.count() == 0


def test_it_shows_every_bad_row_and_offers_the_report_download(client, org, refs, tmp_path):
    rows = [customer_row(1), customer_row(2), customer_row(3)]
    rows[0][CUSTOMER_HEADERS.index("邮编")] = "12"
    rows[2][CUSTOMER_HEADERS.index("统一社会信用代码*")] = "123"
    path = write_xlsx(tmp_path / "bad.xlsx", {"客户": [CUSTOMER_HEADERS] + rows})
    client.force_login(org.carl)

    response = client.post(reverse("customers:import"), {"file": upload(path), "kind": "customers"})

    page = response.content.decode()
    assert "发现2行有错误" in page and "系统未做任何修改" in page
    assert "邮政编码“12”应为6位数字" in page and "应为18位" in page
    assert Customer.objects.count() == 0

    report = client.get(reverse("customers:import_report"))
    assert report["Content-Type"] == XLSX
    stamp, _header, *rows = load_workbook(io.BytesIO(report.content)).active.iter_rows(
        values_only=True
    )
    assert "导出人：Carl（carl）" in stamp[0]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("客户", 2, "邮编"),
        ("客户", 4, "统一社会信用代码"),
    ]


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"", "empty.xlsx"), (b"just some text", "notes.xlsx"), (b"\x89PNG\r\n\x1a\n0000", "a.xlsx")],
)
def test_it_reports_a_bad_file_without_a_traceback(client, org, refs, content, name):
    client.force_login(org.carl)
    response = client.post(
        reverse("customers:import"),
        {"file": SimpleUploadedFile(name, content), "kind": "customers"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "文件无法导入" in page and name in page
    assert Customer.objects.count() == 0


def test_it_downloads_the_template(client, org, refs):
    client.force_login(org.carl)
    response = client.get(reverse("customers:import_template"))

    assert response.status_code == 200 and response["Content-Type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    assert {"客户", "联系人", "说明"} <= set(workbook.sheetnames)
    assert [c.value for c in workbook["联系人"][1]][:2] == ["统一社会信用代码*", "姓名*"]
    assert workbook["客户"].data_validations.dataValidation  # dropdowns for coded columns


def test_it_has_no_report_before_an_import(client, org):
    client.force_login(org.carl)
    assert client.get(reverse("customers:import_report")).status_code == 404
