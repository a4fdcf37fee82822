"""Collections screens: who sees which case, who may work it, the dunning run from
proposal to download, the template editor and the customer file's panel."""

import datetime
import io
import zipfile

import pytest
import time_machine
from django.urls import reverse
from docx import Document
from pypdf import PdfReader

from creditfile.access.models import AuditEvent
from creditfile.core.models import Company
from creditfile.customers.models import Correspondence
from creditfile.receivables.choices import CaseStatus, RunStatus
from creditfile.receivables.models import CollectionCase, DunningRun, DunningTemplate
from creditfile.receivables.services import collections, dunning
from creditfile.receivables.services.ledger import post_invoice
from creditfile.receivables.testing import TODAY, credit_customer

D = datetime.date


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 6, 30, 10, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def case(org):
    customer = credit_customer(org.cathy, "100000", owner=org.alice, name="东区欠款有限公司")
    post_invoice(customer, "INV-A", D(2026, 4, 1), "30000", due_date=D(2026, 5, 1))
    post_invoice(customer, "INV-B", D(2026, 5, 1), "7000", due_date=D(2026, 6, 25))
    return collections.open_case(customer, Company.default(), org.carl, TODAY)[0]


def test_a_sales_rep_sees_her_customers_case_and_not_anothers(client, org, case):
    client.force_login(org.alice)
    assert "东区欠款有限公司" in client.get(reverse("receivables:cases")).content.decode()
    assert client.get(reverse("receivables:case", args=[case.pk])).status_code == 200
    client.force_login(org.walt)
    assert (
        "东区欠款有限公司"
        not in client.get(reverse("receivables:cases") + "?scope=all").content.decode()
    )
    assert client.get(reverse("receivables:case", args=[case.pk])).status_code == 404
    assert client.post(reverse("receivables:case_action", args=[case.pk])).status_code == 404
    url = reverse("receivables:customer_collections", args=[case.customer_id])
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert client.get(url).status_code == 403


def test_the_collector_records_a_call_and_a_promise(client, org, case):
    client.force_login(org.alice)
    response = client.post(
        reverse("receivables:case_action", args=[case.pk]),
        {
            "kind": "call",
            "done_on": "2026-06-30",
            "note": "财务说月底付款",
            "contact_person": "李会计",
        },
        follow=True,
    )
    assert "已记录催收情况" in response.content.decode()
    assert Correspondence.objects.get(customer=case.customer).their_person == "李会计"
    response = client.post(
        reverse("receivables:case_promise", args=[case.pk]),
        {"promised_date": "2026-07-15", "amount": "30000"},
        follow=True,
    )
    text = response.content.decode()
    assert "已记录付款承诺" in text and "待兑现" in text and "30,000.00" in text


def test_a_refused_action_names_the_field(client, org, case):
    client.force_login(org.alice)
    response = client.post(
        reverse("receivables:case_action", args=[case.pk]),
        {"kind": "call", "done_on": "2026-07-05", "note": "x"},
    )
    assert response.status_code == 422 and "日期不能晚于今天" in response.content.decode()


def test_finance_and_the_auditor_read_but_do_not_work_cases(client, org, case):
    for user in (org.fiona, org.audrey):
        client.force_login(user)
        page = client.get(reverse("receivables:case", args=[case.pk])).content.decode()
        assert "东区欠款有限公司" in page and 'id="action-form"' not in page
        url = reverse("receivables:case_close", args=[case.pk])
        assert client.post(url, {"outcome": "lawsuit", "outcome_note": "x"}).status_code == 403
    assert CollectionCase.objects.get().status == CaseStatus.OPEN


def test_closing_paid_in_full_with_overdue_left_is_refused_on_the_page(client, org, case):
    client.force_login(org.alice)
    response = client.post(reverse("receivables:case_close", args=[case.pk]), {"outcome": "paid"})
    assert response.status_code == 422 and "不能以“全额收回”结案" in response.content.decode()


def test_the_dunning_run_from_proposal_to_download(client, org, case):
    client.force_login(org.alice)
    assert client.post(reverse("receivables:runs"), {"company": case.company_id}).status_code == 403

    client.force_login(org.carl)
    response = client.post(reverse("receivables:runs"), {"company": case.company_id})
    run = DunningRun.objects.get()
    assert response.url == reverse("receivables:run", args=[run.pk])
    dunning.confirm_run(run, org.carl, [p.pk for p in run.proposals.all()])  # level 1 calls
    client.post(reverse("receivables:runs"), {"company": case.company_id})
    run = DunningRun.objects.filter(status=RunStatus.PROPOSED).get()
    page = client.get(reverse("receivables:run", args=[run.pk])).content.decode()
    assert 'name="proposal"' in page and "INV-A" in page and "INV-B" in page and "仅列示" in page
    proposal = run.proposals.get()
    response = client.post(
        reverse("receivables:run_confirm", args=[run.pk]), {"proposal": [proposal.pk]}, follow=True
    )
    assert "生成函件 1 份" in response.content.decode()
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(reverse("receivables:run_letters", args=[run.pk])).content)
    )
    names = archive.namelist()
    assert len(names) == 2 and all(name.startswith("东区欠款有限公司-催款函") for name in names)
    proposal.refresh_from_db()
    letter = proposal.letter
    zipped = archive.read(next(name for name in names if name.endswith(".pdf")))
    assert "本文件由 Carl（carl） 于" in PdfReader(io.BytesIO(zipped)).pages[0].extract_text()
    pdf = client.get(reverse("receivables:dunning_letter_pdf", args=[letter.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    docx = client.get(reverse("receivables:dunning_letter_docx", args=[letter.pk]))
    footer = Document(io.BytesIO(docx.content)).sections[0].footer.paragraphs[0].text
    assert footer.startswith("本文件由 Carl（carl） 于")
    printed = AuditEvent.objects.filter(action="print").order_by("id")
    assert [(e.username, e.customer_id, e.object_id) for e in printed] == [
        ("carl", case.customer_id, str(letter.pk))
    ] * 3
    assert [e.detail["format"] for e in printed] == ["zip", "pdf", "docx"]
    assert printed[0].detail["run"] == run.pk
    client.force_login(org.walt)
    url = reverse("receivables:dunning_letter_docx", args=[letter.pk])
    assert client.get(url).status_code == 404


def test_the_credit_manager_edits_a_template_and_a_bad_one_is_refused(client, org):
    client.force_login(org.carl)
    assert client.get(reverse("receivables:template_add")).status_code == 403
    client.force_login(org.cathy)
    client.get(reverse("receivables:templates"))
    template = DunningTemplate.objects.get(name="催款函")
    url = reverse("receivables:template_edit", args=[template.pk])
    page = client.get(url).content.decode()
    assert "invoice_table" in page and "FP20260315001" in page  # the preview's sample table
    refused = client.post(url, {"name": "催款函", "subject": "催款函", "body": "请付款"})
    assert "必须列出全部逾期发票" in refused.content.decode()
    client.post(url, {"name": "催款函", "subject": "付款通知", "body": "{{ invoice_table }}"})
    template.refresh_from_db()
    assert template.subject == "付款通知" and template.updated_by == org.cathy


def test_the_customer_file_shows_the_collection_history(client, org, case):
    collections.record_action(case, org.alice, "visit", note="上门拜访财务总监")
    client.force_login(org.alice)
    detail = client.get(reverse("customers:detail", args=[case.customer_id])).content.decode()
    url = reverse("receivables:customer_collections", args=[case.customer_id])
    assert url in detail
    panel = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "上门拜访财务总监" in panel and f"#{case.pk}" in panel
    client.force_login(org.dora)
    assert url in client.get(reverse("customers:detail", args=[case.customer_id])).content.decode()


def test_the_receivables_hub_links_to_collections(client, org):
    client.force_login(org.alice)
    assert reverse("receivables:cases") in client.get(reverse("receivables:home")).content.decode()


def test_a_case_goes_only_to_someone_who_may_see_the_customer(client, org, case):
    client.force_login(org.carl)
    url = reverse("receivables:case_assign", args=[case.pk])
    client.post(url, {"owner": org.walt.pk})  # another region's rep: the case would vanish
    case.refresh_from_db()
    assert case.owner != org.walt
    client.post(url, {"owner": org.mary.pk})  # the department manager sees it
    case.refresh_from_db()
    assert case.owner == org.mary
    # Not an id, or nobody: the case page again with a message saying so, nothing changed.
    response = client.post(url, {"owner": "bob"}, follow=True)
    assert "请选择在职的跟进人" in response.content.decode()
    case.refresh_from_db()
    assert case.owner == org.mary


def test_ids_that_are_not_numbers_are_not_found_not_errors(sudo_client, org, case):
    sudo_client.force_login(org.cathy)
    assert sudo_client.get(reverse("receivables:settings") + "?company=abc").status_code == 404
    letter = reverse("receivables:case_letter", args=[case.pk])
    assert sudo_client.post(letter, {"template": "x"}).status_code == 404
    runs = reverse("receivables:runs")
    assert sudo_client.post(runs, {"company": "1; drop"}).status_code == 404
    aging = sudo_client.post(reverse("receivables:aging_buckets"), {"company": "abc"})
    assert aging.status_code == 302  # the default company's buckets, as without a company
