"""The aging screen 账龄分析, its Excel export and the write-off screens: who sees what,
and the approval flow through the password prompt."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from creditfile.receivables.choices import WriteOffStatus
from creditfile.receivables.models import Exposure, Invoice, WriteOff
from creditfile.receivables.services.ledger import post_invoice, post_payment
from creditfile.receivables.services.writeoffs import propose_write_off
from creditfile.receivables.testing import TODAY, credit_customer

D = datetime.date
AGING = reverse("receivables:aging")
DRILL = reverse("receivables:aging_invoices")
EXPORT = reverse("receivables:aging_export")
REGISTER = reverse("receivables:writeoffs")
AS_OF = {"date": TODAY.isoformat()}


@pytest.fixture(autouse=True)
def _today():
    """The screens' today (default date, the date of a write-off) is TODAY."""
    noon = datetime.datetime(
        2026, 6, 30, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
    )
    with time_machine.travel(noon, tick=False):
        yield


@pytest.fixture
def ledger(org):
    east = credit_customer(org.cathy, "500000", owner=org.alice, name="华东账龄有限公司")
    post_invoice(east, "E-1", D(2026, 5, 1), "2000", due_date=D(2026, 5, 31))
    post_invoice(east, "E-2", D(2026, 1, 1), "6000", due_date=D(2026, 1, 31))
    post_payment(east, "P-1", D(2026, 6, 1), "1000", reference="E-2")
    west = credit_customer(org.cathy, "500000", owner=org.walt, name="西南账龄有限公司")
    post_invoice(west, "W-1", D(2026, 6, 1), "3000", due_date=D(2026, 7, 1))
    return east, west


def test_the_screen_shows_buckets_totals_and_shares(client, org, ledger):
    client.force_login(org.cathy)
    text = client.get(AGING, AS_OF).content.decode()

    assert "华东账龄有限公司" in text and "西南账龄有限公司" in text
    for label in ("未到期", "1–30天", "91–180天", "180天以上", "合计", "各段占比"):
        assert label in text
    assert "10,000.00" in text  # the totals row: 2,000 + 5,000 + 3,000
    assert "30.0%" in text  # 3,000 not yet due of 10,000
    assert f'href="{AGING}"' in client.get(reverse("receivables:home")).content.decode()


def test_a_sales_rep_sees_only_her_customers_on_screen_and_in_excel(client, org, ledger):
    east, west = ledger
    client.force_login(org.alice)
    text = client.get(AGING, AS_OF).content.decode()
    assert "华东账龄有限公司" in text and "西南账龄有限公司" not in text
    assert "7,000.00" in text

    hidden = client.get(DRILL, {**AS_OF, "group": "customer", "key": west.pk}).content.decode()
    assert "W-1" not in hidden and "没有未收发票" in hidden

    workbook = load_workbook(io.BytesIO(b"".join(client.get(EXPORT, AS_OF).streaming_content)))
    # Row 1 is the stamp line, row 2 the header.
    names = [row[0] for row in workbook["未收发票明细"].iter_rows(min_row=3, values_only=True)]
    assert set(names) == {"华东账龄有限公司"}


def test_the_drill_down_by_htmx_lists_days_overdue(client, org, ledger):
    east, _west = ledger
    client.force_login(org.cathy)
    response = client.get(
        DRILL, {**AS_OF, "group": "customer", "key": east.pk}, HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()

    assert not text.lstrip().startswith("<!doctype")  # a fragment for the page
    assert text.index("E-2") < text.index("E-1")  # oldest due first
    assert "150" in text and "5,000.00" in text  # E-2: 31 Jan → 30 Jun, 1,000 paid
    assert (
        reverse("receivables:writeoff_propose", args=[Invoice.objects.get(number="E-2").pk]) in text
    )


def test_the_grouping_rows_link_to_their_invoices(client, org, ledger):
    client.force_login(org.cathy)
    text = client.get(AGING, {**AS_OF, "group": "owner"}).content.decode()
    assert "Alice" in text and "Walt" in text
    assert f"key={org.alice.pk}" in text
    drill = client.get(DRILL, {**AS_OF, "group": "owner", "key": org.alice.pk}).content.decode()
    assert "E-1" in drill and "W-1" not in drill


def test_a_bad_date_is_named_and_nothing_is_computed(client, org, ledger):
    client.force_login(org.cathy)
    response = client.get(AGING, {"date": "2026-13-01"})
    assert response.status_code == 422
    assert response.context["report"] is None
    assert "date" in response.context["form"].errors


def test_people_without_the_ledger_see_no_aging(client, db):
    from creditfile.core.models import User

    nobody = User.objects.create_user(username="nobody", password="x-long-password-1")
    client.force_login(nobody)
    assert client.get(AGING).status_code == 403
    assert client.get(EXPORT).status_code == 403


def test_the_excel_export_has_numbers_and_the_totals(client, org, ledger):
    client.force_login(org.fiona)
    response = client.get(EXPORT, {**AS_OF, "group": "customer"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))

    stamp, *summary = list(workbook["账龄汇总"].iter_rows(values_only=True))
    assert "导出人：Fiona（fiona）" in stamp[0]
    assert "2026-06-30" in summary[0][0]
    assert summary[1][:3] == ("客户", "未到期", "1–30天")
    totals = next(row for row in summary if row[0] == "合计")
    assert totals[1:7] == (3000, 2000, 0, 0, 5000, 0)
    assert totals[7] == 10000 and totals[10] == 3
    shares = next(row for row in summary if row[0] == "各段占比")
    assert shares[1] == pytest.approx(0.3)
    sheet = workbook["账龄汇总"]
    assert sheet.cell(row=4, column=2).number_format == "#,##0.00"
    assert sheet.freeze_panes == "B4"

    stamp, *detail = list(workbook["未收发票明细"].iter_rows(values_only=True))
    assert "导出人：Fiona（fiona）" in stamp[0]
    assert detail[0][0] == "客户名称"
    e2 = next(row for row in detail if row[1] == "E-2")
    assert e2[4] == 150 and e2[5] == "91–180天" and e2[9] == 5000


def test_a_write_off_is_proposed_approved_with_the_password_and_lowers_the_exposure(
    client, sudo_client, org, ledger
):
    east, _west = ledger
    invoice = Invoice.objects.get(number="E-2")
    client.force_login(org.carl)
    form = client.get(
        reverse("receivables:writeoff_propose", args=[invoice.pk]), HTTP_HX_REQUEST="true"
    )
    assert 'value="5000.00"' in form.content.decode()  # proposed: what is open
    response = client.post(
        reverse("receivables:writeoff_propose", args=[invoice.pk]),
        {"amount": "5000", "reason": "客户破产，清算无财产"},
        follow=True,
    )
    assert "等待审批" in response.content.decode()
    entry = WriteOff.objects.get()
    assert entry.status == WriteOffStatus.PROPOSED and entry.proposed_by == org.carl

    approve = reverse("receivables:writeoff_approve", args=[entry.pk])
    client.force_login(org.cathy)
    asked = client.post(approve, {"reason": "同意核销"})
    assert asked.status_code == 302 and "confirm-password" in asked["Location"]
    assert WriteOff.objects.get().status == WriteOffStatus.PROPOSED

    sudo_client.force_login(org.cathy)
    text = sudo_client.post(approve, {"reason": "同意核销"}, follow=True).content.decode()
    assert "已核销发票 E-2 的 5,000.00 元" in text
    assert WriteOff.objects.get().status == WriteOffStatus.APPROVED
    assert Exposure.objects.get(customer=east).open_receivables == Decimal("2000.00")
    totals = sudo_client.get(AGING, AS_OF).context["totals"]
    assert (totals.total, totals.amounts[4]) == (Decimal("5000.00"), Decimal("0.00"))

    reverse_url = reverse("receivables:writeoff_reverse", args=[entry.pk])
    sudo_client.post(reverse_url, {"reason": "法院执行回款"})
    assert WriteOff.objects.get().status == WriteOffStatus.REVERSED
    assert Exposure.objects.get(customer=east).open_receivables == Decimal("7000.00")


def test_who_may_not_decide_gets_403_without_a_password_prompt(sudo_client, org, ledger):
    entry = propose_write_off(Invoice.objects.get(number="E-1"), "100", "理由", org.carl)
    for person in (org.alice, org.fiona, org.carl):
        sudo_client.force_login(person)
        for name in ("writeoff_approve", "writeoff_reject", "writeoff_reverse"):
            url = reverse(f"receivables:{name}", args=[entry.pk])
            assert sudo_client.post(url, {"reason": "x"}).status_code == 403
    sudo_client.force_login(org.alice)
    assert sudo_client.get(reverse("receivables:writeoff_propose", args=[1])).status_code == 403
    assert WriteOff.objects.get().status == WriteOffStatus.PROPOSED


def test_the_register_shows_write_offs_of_visible_customers(client, org, ledger):
    propose_write_off(Invoice.objects.get(number="E-1"), "100", "东部理由", org.carl)
    propose_write_off(Invoice.objects.get(number="W-1"), "200", "西部理由", org.carl)
    client.force_login(org.alice)
    text = client.get(REGISTER).content.decode()
    assert "东部理由" in text and "西部理由" not in text
    assert "批准核销" not in text  # a sales rep does not decide

    client.force_login(org.cathy)
    text = client.get(REGISTER, {"status": "proposed"}).content.decode()
    assert "东部理由" in text and "西部理由" in text and "批准核销" in text


def test_a_rejection_by_htmx_swaps_the_row(client, org, ledger):
    entry = propose_write_off(Invoice.objects.get(number="E-1"), "100", "理由", org.carl)
    client.force_login(org.victor)
    response = client.post(
        reverse("receivables:writeoff_reject", args=[entry.pk]),
        {"reason": "继续追讨"},
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert text.startswith(f'<tr id="writeoff-entry-{entry.pk}">') and "已驳回" in text


def test_a_too_large_proposal_is_refused_on_its_field(client, org, ledger):
    invoice = Invoice.objects.get(number="E-1")
    client.force_login(org.fiona)
    response = client.post(
        reverse("receivables:writeoff_propose", args=[invoice.pk]),
        {"amount": "2500", "reason": "理由"},
    )
    assert response.status_code == 422
    assert "超过发票 E-1" in response.content.decode()
    assert not WriteOff.objects.exists()


def test_a_credit_manager_sets_the_buckets_on_the_page(client, org, ledger):
    url = reverse("receivables:aging_buckets")
    client.force_login(org.alice)
    assert client.post(url, {"aging_buckets": "10,20"}).status_code == 403

    client.force_login(org.cathy)
    page = client.get(AGING, AS_OF).content.decode()
    assert 'name="aging_buckets" value="30,60,90,180"' in page
    refused = client.post(url, {"aging_buckets": "60,30"}, follow=True).content.decode()
    assert "账龄分段未保存" in refused and "升序" in refused
    assert "1–30天" in client.get(AGING, AS_OF).content.decode()

    saved = client.post(url, {"aging_buckets": "45， 120"}, follow=True).content.decode()
    assert "1–45天、46–120天" in saved
    text = client.get(AGING, AS_OF).content.decode()
    assert "46–120天" in text and "120天以上" in text and "31–60天" not in text
