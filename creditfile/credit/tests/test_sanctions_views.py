"""Sanction screens: who sees what, who may act, and that the pages drive the services."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from creditfile.core.models import Company
from creditfile.credit.choices import BlacklistState, LineStatus, MeasureKind, ProposalState
from creditfile.credit.models import BlacklistEntry, CreditLine, GradeChangeProposal, Measure
from creditfile.credit.services import sanctions
from creditfile.customers.testing import make_customer

NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 2)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(sudo_client):
    """These tests act past the password prompt of core/sudo.py; test_view_sudo.py tests it."""
    return sudo_client


@pytest.fixture
def customer(org):
    customer = make_customer("东方贸易有限公司", owner=org.alice)
    CreditLine.objects.create(
        customer=customer,
        company=Company.default(),
        grade="A",
        limit=Decimal("800000"),
        term_days=60,
        valid_from=datetime.date(2025, 1, 1),
        granted_by=org.cathy,
    )
    customer.credit_grade = "A"
    customer.save(update_fields=["credit_grade"])
    return customer


@pytest.fixture
def proposal(customer):
    return GradeChangeProposal.objects.create(
        customer=customer,
        source="sanction",
        from_grade="A",
        to_grade="B",
        from_limit=Decimal("800000"),
        to_limit=Decimal("800000"),
        reason="12个月内逾期超过30天一次：降一级",
    )


def _login(client, user):
    client.force_login(user)
    return client


def test_it_lists_open_proposals_to_those_who_may_see_the_customer(client, org, proposal):
    page = _login(client, org.alice).get(reverse("credit:sanction_proposals"))
    assert page.status_code == 200
    assert "东方贸易有限公司" in page.content.decode()
    assert reverse("credit:sanction_accept", args=[proposal.pk]) not in page.content.decode()
    page = _login(client, org.walt).get(reverse("credit:sanction_proposals"))
    assert "东方贸易有限公司" not in page.content.decode()
    page = _login(client, org.carl).get(reverse("credit:sanction_proposals"))
    assert reverse("credit:sanction_accept", args=[proposal.pk]) in page.content.decode()


@time_machine.travel(NOW, tick=False)
def test_it_accepts_a_proposal_through_htmx_and_answers_with_the_row(
    client, org, customer, proposal
):
    response = _login(client, org.carl).post(
        reverse("credit:sanction_accept", args=[proposal.pk]), {"note": "同意"}, **HTMX
    )
    assert response.status_code == 200
    assert f'id="proposal-{proposal.pk}"' in response.content.decode()
    assert "已采纳" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.ACCEPTED
    assert customer.credit_lines.get(status=LineStatus.ACTIVE).grade == "B"


def test_it_refuses_sales_and_hides_other_reps_customers_from_proposal_actions(
    client, org, proposal
):
    url = reverse("credit:sanction_accept", args=[proposal.pk])
    assert _login(client, org.alice).post(url, **HTMX).status_code == 403
    assert _login(client, org.walt).post(url, **HTMX).status_code == 404
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PROPOSED


def test_it_shows_a_refused_raise_on_the_row(client, org, customer):
    raise_it = GradeChangeProposal.objects.create(
        customer=customer,
        source="rescore",
        from_grade="A",
        to_grade="A",
        from_limit=Decimal("800000"),
        to_limit=Decimal("900000"),
        reason="重新评分",
    )
    response = _login(client, org.cathy).post(
        reverse("credit:sanction_accept", args=[raise_it.pk]), **HTMX
    )
    assert response.status_code == 200
    assert "信用申请" in response.content.decode()
    raise_it.refresh_from_db()
    assert raise_it.state == ProposalState.PROPOSED


def test_it_asks_a_reason_to_dismiss(client, org, proposal):
    url = reverse("credit:sanction_dismiss", args=[proposal.pk])
    response = _login(client, org.carl).post(url, {"note": ""}, **HTMX)
    assert "理由" in response.content.decode()
    _login(client, org.carl).post(url, {"note": "已还清"})
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.DISMISSED


def test_it_runs_the_rules_only_for_credit_staff(client, org):
    url = reverse("credit:sanction_run")
    assert _login(client, org.alice).post(url).status_code == 403
    response = _login(client, org.carl).post(url, follow=True)
    assert "已运行惩戒规则" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_it_imposes_and_ends_measures_on_the_customer_page(client, org, customer):
    url = reverse("credit:customer_sanctions", args=[customer.pk])
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert _login(client, org.walt).get(url).status_code == 403
    page = _login(client, org.alice).get(url)
    assert page.status_code == 200 and "采取措施</button>" not in page.content.decode()
    assert (
        _login(client, org.alice)
        .post(url, {"measure-kind": MeasureKind.STOP_SUPPLY, "measure-reason": "拖欠"})
        .status_code
        == 403
    )
    response = _login(client, org.carl).post(
        url, {"measure-kind": MeasureKind.STOP_SUPPLY, "measure-reason": "拖欠货款"}
    )
    assert response.status_code == 302
    measure = Measure.objects.get(customer=customer)
    assert (measure.kind, measure.decided_by, measure.effective_from) == (
        MeasureKind.STOP_SUPPLY,
        org.carl,
        TODAY,
    )
    end = reverse("credit:measure_end", args=[measure.pk])
    assert _login(client, org.alice).post(end, {"reason": "x"}).status_code == 403
    _login(client, org.cathy).post(end, {"reason": "已付清"})
    measure.refresh_from_db()
    assert measure.ended_on == TODAY and measure.ended_by == org.cathy


def test_it_renders_the_customer_panel_partial(client, org, customer):
    sanctions.impose_measure(customer, org.carl, MeasureKind.LEGAL_ACTION, "起诉追讨", None)
    url = reverse("credit:sanction_panel", args=[customer.pk])
    page = _login(client, org.alice).get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="customer-sanctions"' in body and "诉诸法律" in body and "<html" not in body
    assert _login(client, org.walt).get(url).status_code == 403


@time_machine.travel(NOW, tick=False)
def test_it_walks_a_blacklisting_through_the_screens_with_two_people(client, org, customer):
    page_url = reverse("credit:customer_sanctions", args=[customer.pk])
    _login(client, org.carl).post(
        page_url, {"blacklist-reason": "恶意拖欠", "blacklist-evidence": "律师函"}
    )
    entry = BlacklistEntry.objects.get(customer=customer)
    approve = reverse("credit:blacklist_action", args=[entry.pk, "approve"])
    assert _login(client, org.carl).post(approve).status_code == 403
    listing = _login(client, org.cathy).get(reverse("credit:blacklist"))
    assert approve in listing.content.decode()
    _login(client, org.cathy).post(approve, {"note": "同意"})
    entry.refresh_from_db()
    assert entry.state == BlacklistState.LISTED
    lift = reverse("credit:blacklist_action", args=[entry.pk, "propose_lift"])
    _login(client, org.carl).post(lift, {"note": "已还清全部欠款"})
    _login(client, org.victor).post(
        reverse("credit:blacklist_action", args=[entry.pk, "approve_lift"]),
        {"next": "https://evil.example/"},
    )
    entry.refresh_from_db()
    assert entry.state == BlacklistState.LIFTED and entry.lifted_by == org.victor
    history = _login(client, org.alice).get(reverse("credit:blacklist") + "?state=all")
    assert "东方贸易有限公司" in history.content.decode()
    assert (
        _login(client, org.walt)
        .get(reverse("credit:blacklist") + "?state=all")
        .content.decode()
        .count("东方贸易有限公司")
        == 0
    )


def test_it_refuses_an_unknown_blacklist_action(client, org, customer):
    entry = sanctions.propose_blacklist(customer, org.carl, "拖欠")
    url = reverse("credit:blacklist_action", args=[entry.pk, "delete"])
    assert _login(client, org.cathy).post(url).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_it_records_edits_and_closes_a_breach_on_the_register(client, org, customer):
    assert _login(client, org.alice).get(reverse("credit:breaches")).status_code == 200
    assert _login(client, org.alice).get(reverse("credit:breach_add")).status_code == 403
    response = _login(client, org.carl).post(
        reverse("credit:breach_add"),
        {
            "kind": "quality",
            "customer_ref": customer.name,
            "occurred_on": "2026-02-10",
            "description": "批次合格率仅92%",
        },
    )
    assert response.status_code == 302
    breach = customer.own_breaches.get()
    assert breach.recorded_by == org.carl
    close = reverse("credit:breach_close", args=[breach.pk])
    response = _login(client, org.cathy).post(close, {"corrective_action": "返工并加强出厂检验"})
    assert response.status_code == 200 and "责任" in response.content.decode()
    _login(client, org.carl).post(
        reverse("credit:breach_edit", args=[breach.pk]),
        {
            "kind": "quality",
            "customer_ref": customer.uscc,
            "occurred_on": "2026-02-10",
            "description": "批次合格率仅92%",
            "responsible_department": org.departments["sales_east"].pk,
        },
    )
    response = _login(client, org.cathy).post(close, {"corrective_action": "返工并加强出厂检验"})
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.closed_on == TODAY and breach.corrective_action == "返工并加强出厂检验"
    assert _login(client, org.walt).get(close).status_code == 404


def test_it_rejects_a_breach_naming_a_customer_the_user_cannot_find(client, org):
    response = _login(client, org.carl).post(
        reverse("credit:breach_add"),
        {
            "kind": "other",
            "customer_ref": "不存在的公司",
            "occurred_on": "2025-02-10",
            "description": "说明",
        },
    )
    assert response.status_code == 200 and "找不到该客户" in response.content.decode()


def test_it_keeps_the_queries_of_the_list_pages_flat(client, org, django_assert_max_num_queries):
    for n in range(12):
        customer = make_customer(f"批量客户{n}有限公司", owner=org.alice)
        GradeChangeProposal.objects.create(
            customer=customer, source="sanction", from_grade="A", to_grade="B", reason="逾期"
        )
        BlacklistEntry.objects.create(customer=customer, reason="拖欠", proposed_by=org.carl)
    _login(client, org.cathy)
    for name in ("credit:sanction_proposals", "credit:blacklist", "credit:breaches"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(name)).status_code == 200
