"""The import screens: a mapping made from a sample file without code, then upload → job →
progress → report, through the test client; and who may use them."""

import pytest
from django.urls import reverse

from creditfile.core.models import Company
from creditfile.receivables.imports import drain
from creditfile.receivables.models import DocumentKind, ImportJob, ImportMapping, Invoice, JobStatus
from creditfile.receivables.testing import credit_customer
from creditfile.receivables.tests.test_imports import GOOD, INVOICE_HEADERS, csv_file, mapping_for

HOME = reverse("receivables:imports")
NEW_MAPPING = reverse("receivables:import_mapping_new")


@pytest.fixture
def customers(org):
    return [
        credit_customer(org.cathy, name="华信科技有限公司"),
        credit_customer(org.cathy, name="东方贸易有限公司"),
    ]


def test_a_mapping_is_made_from_a_sample_files_headers_with_suggestions(client, org):
    client.force_login(org.fiona)
    details = {
        "name": "用友U8 应收单",
        "company": Company.default().pk,
        "source": "用友U8",
        "kind": DocumentKind.INVOICE,
        "date_format": "",
    }
    sample = csv_file(GOOD, INVOICE_HEADERS + ["备注"], encoding="gbk", name="样例.csv")
    sample.content_type = "text/csv"
    page = client.post(NEW_MAPPING, {**details, "sample": sample, "read": "1"})
    text = page.content.decode()
    assert page.status_code == 200
    assert '<input type="hidden" name="header" value="价税合计">' in text
    assert '<option value="amount" selected>' in text and "华信科技有限公司" in text

    headers = INVOICE_HEADERS + ["备注"]
    fields = ["number", "customer_name", "invoice_date", "due_date", "currency", "rate", "", ""]
    refused = client.post(NEW_MAPPING, {**details, "header": headers, "field": fields, "save": "1"})
    assert "必须指定哪一列是“金额（原币）”" in refused.content.decode()
    assert not ImportMapping.objects.exists()

    fields[6] = "amount"
    saved = client.post(NEW_MAPPING, {**details, "header": headers, "field": fields, "save": "1"})
    assert saved.status_code == 302
    mapping = ImportMapping.objects.get()
    assert mapping.columns["价税合计"] == "amount" and "备注" not in mapping.columns


def test_upload_then_job_then_progress_then_report(client, org, customers):
    mapping = mapping_for()
    client.force_login(org.fiona)
    bad = [*GOOD, ["INV-9", "不存在的公司", "2026-05-01", "", "", "", "5"]]
    response = client.post(HOME, {"mapping": mapping.pk, "file": csv_file(bad)})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "receivables:import_job", args=[job.pk]
    )
    progress_url = reverse("receivables:import_job_progress", args=[job.pk])

    queued = client.get(progress_url, headers={"HX-Request": "true"})
    assert (
        'hx-trigger="every 1s"' in queued.content.decode() and "排队中" in queued.content.decode()
    )
    assert "HX-Refresh" not in queued

    drain()  # what the worker thread of `creditfile up` does

    done = client.get(progress_url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true" and "every 1s" not in done.content.decode()
    assert 'value="100"' in done.content.decode()
    page = client.get(response.url).content.decode()
    assert "未导入（有错误）" in page and "找不到客户“不存在的公司”" in page
    assert '<td class="num">5</td><td>客户名称</td>' in page
    assert Invoice.objects.count() == 0
    report = client.get(reverse("receivables:import_job_report", args=[job.pk]))
    assert report.status_code == 200 and report["Content-Type"].startswith("application/vnd")

    client.post(HOME, {"mapping": mapping.pk, "file": csv_file(bad), "skip_bad_rows": "on"})
    drain()
    job = ImportJob.objects.order_by("-id").first()
    assert (job.status, job.created, job.bad_rows) == (JobStatus.DONE, 3, 1)
    assert (
        "新增 3 张" in client.get(reverse("receivables:import_job", args=[job.pk])).content.decode()
    )


def test_the_progress_of_a_running_job_is_shown(client, org, customers):
    job = ImportJob.objects.create(
        mapping=mapping_for(),
        filename="big.csv",
        created_by=org.fiona,
        status=JobStatus.CHECKING,
        rows_total=20000,
        rows_checked=10000,
    )
    client.force_login(org.fiona)
    text = client.get(reverse("receivables:import_job_progress", args=[job.pk])).content.decode()
    assert 'value="25"' in text and "已检查 10000 行" in text and "every 1s" in text


@pytest.mark.parametrize("who", ["fiona", "cathy"])
def test_finance_and_the_credit_manager_find_the_import_screen(client, org, who):
    client.force_login(getattr(org, who))
    assert f'href="{HOME}"' in client.get(reverse("receivables:home")).content.decode()
    assert client.get(HOME).status_code == 200


@pytest.mark.parametrize("who", ["alice", "carl", "george", "audrey"])
def test_others_may_not_import(client, org, who):
    mapping = mapping_for()
    client.force_login(getattr(org, who))
    assert client.get(HOME).status_code == 403
    assert client.get(NEW_MAPPING).status_code == 403
    assert client.post(HOME, {"mapping": mapping.pk, "file": csv_file(GOOD)}).status_code == 403
    assert not ImportJob.objects.exists()
