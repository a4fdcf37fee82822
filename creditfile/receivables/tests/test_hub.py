"""应收管理: the hub counts only what the user may see and links what they may use."""

import datetime

import time_machine
from django.urls import reverse

from creditfile.receivables.services.checks import check_credit
from creditfile.receivables.services.ledger import post_invoice
from creditfile.receivables.testing import TODAY, credit_customer

HOME = reverse("receivables:home")
NOW = datetime.datetime(2026, 6, 30, 10, 0, tzinfo=datetime.UTC)


def _ledger(org):
    east = credit_customer(org.cathy, "100000", owner=org.alice, name="华东客户有限公司")
    west = credit_customer(org.cathy, "100000", owner=org.walt, name="西南客户有限公司")
    post_invoice(east, "INV-E", datetime.date(2026, 5, 1), "12000")  # overdue on TODAY
    post_invoice(west, "INV-W", datetime.date(2026, 5, 1), "30000")
    check_credit(west, "90000", "SO-W", on_date=TODAY)  # blocked: overdue and over limit


def _page(client):
    with time_machine.travel(NOW, tick=False):
        return client.get(HOME).content.decode()


def test_the_hub_counts_only_the_users_customers(client, org):
    _ledger(org)
    client.force_login(org.alice)
    text = _page(client)
    assert "合计 12,000.00 元，其中逾期 12,000.00 元" in text
    assert 'id="hub-blocked"' not in text  # the blocked order is another region's

    client.force_login(org.cathy)
    text = _page(client)
    assert "合计 42,000.00 元" in text
    assert 'id="hub-blocked">1<' in text
    for name in ("blocked", "aging", "writeoffs", "imports", "cases", "runs", "templates"):
        assert f'href="{reverse(f"receivables:{name}")}"' in text


def test_the_navigation_has_one_entry_for_receivables(client, org):
    client.force_login(org.alice)
    with time_machine.travel(NOW, tick=False):
        nav = client.get(reverse("customers:list")).content.decode().split("</nav>")[0]
    assert f'href="{HOME}"' in nav and reverse("receivables:aging") not in nav
    text = _page(client)
    assert f'href="{reverse("receivables:imports")}"' not in text  # reps do not import
