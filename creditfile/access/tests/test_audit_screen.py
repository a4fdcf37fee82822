"""The auditor's screen 审计记录: who may see it, the filters, the Excel export."""

import io
from datetime import datetime

import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from creditfile.access.models import AuditEvent
from creditfile.access.services import audit
from creditfile.customers.testing import make_customer

SHANGHAI = "+0800"


def test_it_shows_the_trail_only_to_those_with_the_permission(client, org):
    for username, status in (("audrey", 200), ("alice", 403), ("mary", 403), ("adam", 403)):
        client.force_login(getattr(org, username))
        assert client.get(reverse("audit:trail")).status_code == status, username
        assert client.get(reverse("audit:trail_export")).status_code == status, username


def test_it_puts_the_trail_in_the_auditors_navigation(client, org):
    client.force_login(org.audrey)
    assert reverse("audit:trail") in client.get(reverse("customers:list")).text
    client.force_login(org.alice)
    assert reverse("audit:trail") not in client.get(reverse("customers:list")).text


def test_it_filters_by_user_customer_action_outcome_and_days(client, org):
    acme = make_customer("阿克米有限公司", owner=org.alice)
    other = make_customer("其他有限公司", owner=org.bob)
    with time_machine.travel(datetime.fromisoformat(f"2026-12-01 09:00{SHANGHAI}"), tick=False):
        early = audit.record(audit.Action.VIEW, user=org.alice, customer=acme)
    with time_machine.travel(datetime.fromisoformat(f"2026-12-03 09:00{SHANGHAI}"), tick=False):
        mine = audit.record(audit.Action.VIEW, user=org.alice, customer=acme)
        audit.record(audit.Action.VIEW, user=org.bob, customer=acme)
        audit.record(audit.Action.VIEW, user=org.alice, customer=other)
        denied = audit.record(
            audit.Action.DENIED, user=org.alice, customer=acme, outcome=audit.Outcome.DENIED
        )
    client.force_login(org.audrey)

    def ids(**params):
        page = client.get(reverse("audit:trail"), params).context["page"]
        return [e.id for e in page.object_list]

    assert ids(user=org.alice.pk, customer="阿克米", date_from="2026-12-02") == [
        denied.id,
        mine.id,
    ]
    assert ids(user=org.alice.pk, customer=str(acme.pk), action="view") == [mine.id, early.id]
    assert ids(outcome="denied") == [denied.id]
    assert ids(customer="阿克米", date_to="2026-12-01") == [early.id]


def test_it_names_a_bad_filter_instead_of_failing(client, org):
    client.force_login(org.audrey)
    response = client.get(
        reverse("audit:trail"), {"date_from": "2026-12-05", "date_to": "2026-12-01"}
    )
    assert response.status_code == 200
    assert "截止日期不能早于起始日期" in response.text
    response = client.get(reverse("audit:trail_export"), {"customer": "不存在的公司"})
    assert response.status_code == 400
    assert "客户" in response.text


def test_it_exports_the_filtered_trail_with_formulas_neutralised(client, org):
    acme = make_customer("阿克米有限公司", owner=org.alice)
    audit.record(audit.Action.VIEW, user=org.alice, customer=acme, purpose="=HYPERLINK(1)")
    audit.record(audit.Action.LOGIN, user=org.bob)
    client.force_login(org.audrey)
    response = client.get(reverse("audit:trail_export"), {"user": org.alice.pk})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "audrey" in rows[0][0]  # the stamp line: who exported, and when
    assert rows[1][0] == "编号"
    (row,) = rows[2:]
    assert row[2] == "alice"
    assert row[6] == "阿克米有限公司"
    # Shown as typed, stored as text: Excel cannot evaluate it.
    assert row[8] == "=HYPERLINK(1)"
    assert sheet.cell(row=3, column=9).data_type == "s"
    # The export itself is an audit event.
    export = AuditEvent.objects.filter(action=audit.Action.EXPORT).get()
    assert (export.user_id, export.detail["rows"]) == (org.audrey.pk, 1)


def test_it_offers_no_way_to_change_an_event(client, org):
    audit.record(audit.Action.LOGIN, user=org.alice)
    client.force_login(org.audrey)
    assert client.post(reverse("audit:trail")).status_code == 405
    assert client.post(reverse("audit:trail_export")).status_code == 405
