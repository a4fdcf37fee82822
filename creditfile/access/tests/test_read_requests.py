"""Read requests 查阅申请 and lending (R-41): the chain, who decides, who sees, the register."""

from datetime import date, datetime

import pytest
import time_machine
from django.utils import timezone

from creditfile.access import policy
from creditfile.access.models import (
    ApprovalStep,
    AuditEvent,
    Lending,
    ReadRequest,
    RequestedCustomer,
)
from creditfile.access.services import access_settings
from creditfile.access.services import requests as reads
from creditfile.customers.testing import make_customer

NOW = "2026-12-07 09:00 +08:00"
FROM, TO = date(2026, 12, 7), date(2026, 12, 11)


@pytest.fixture
def files(org):
    """alice's files at each level (sales east) and walt's personal one (sales west)."""
    return {
        "company": make_customer("公司级有限公司", owner=org.alice, confidentiality="company"),
        "department": make_customer(
            "部门级有限公司", owner=org.alice, confidentiality="department"
        ),
        "personal": make_customer("个人级有限公司", owner=org.alice),
        "west": make_customer("西南个人级有限公司", owner=org.walt),
    }


def _approve_all(request, people):
    for step in request.steps.order_by("order"):
        step.refresh_from_db()
        reads.decide(people[step.kind], step, True, "同意")
    request.refresh_from_db()
    return request


@time_machine.travel(NOW, tick=False)
def test_it_asks_each_owning_department_and_the_gm_for_a_company_file(org, files):
    request = reads.submit(
        org.bob, [files["company"], files["west"], files["personal"]], "年度对账", FROM, TO
    )

    steps = list(request.steps.order_by("order"))
    assert [(s.kind, s.department_id, s.role) for s in steps] == [
        ("department", org.departments["sales_east"].pk, ""),
        ("department", org.departments["sales_west"].pk, ""),
        ("company", None, "general_manager"),
    ]
    # Each requested customer keeps the level that decided the chain.
    levels = RequestedCustomer.objects.filter(request=request).values_list(
        "customer__name", "confidentiality"
    )
    assert dict(levels) == {
        files["company"].name: "company",
        files["west"].name: "personal",
        files["personal"].name: "personal",
    }


@time_machine.travel(NOW, tick=False)
def test_it_needs_only_the_department_manager_below_company_level(org, files):
    request = reads.submit(org.bob, [files["personal"]], "核对", FROM, TO)

    assert list(request.steps.values_list("kind", flat=True)) == ["department"]
    reads.decide(org.mary, request.steps.get(), True, "")
    request.refresh_from_db()
    assert request.status == ReadRequest.Status.APPROVED


@time_machine.travel(NOW, tick=False)
def test_it_lets_the_gm_decide_only_after_the_department_managers(org, files):
    request = reads.submit(org.bob, [files["company"]], "核对", FROM, TO)
    department, company = request.steps.order_by("order")

    assert not reads.may_decide(org.george, company)
    assert list(reads.steps_waiting_for(org.george)) == []
    with pytest.raises(reads.RequestError):
        reads.decide(org.george, company, True, "")

    reads.decide(org.mary, department, True, "")
    company.refresh_from_db()
    assert list(reads.steps_waiting_for(org.george)) == [company]
    reads.decide(org.george, company, True, "同意查阅")
    request.refresh_from_db()
    assert request.status == ReadRequest.Status.APPROVED


@time_machine.travel(NOW, tick=False)
def test_it_uses_the_company_approver_from_the_settings(org, files):
    access_settings.save_settings(org.adam, ["credit_staff"], "vp")
    request = reads.submit(org.bob, [files["company"]], "核对", FROM, TO)

    department, company = request.steps.order_by("order")
    reads.decide(org.mary, department, True, "")
    company.refresh_from_db()
    assert not reads.may_decide(org.george, company)
    reads.decide(org.victor, company, True, "")
    request.refresh_from_db()
    assert request.status == ReadRequest.Status.APPROVED


@time_machine.travel(NOW, tick=False)
def test_it_refuses_the_request_on_one_refusal_which_needs_a_comment(org, files):
    request = reads.submit(org.bob, [files["company"]], "核对", FROM, TO)
    department = request.steps.order_by("order").first()

    with pytest.raises(reads.RequestError) as no_comment:
        reads.decide(org.mary, department, False, "  ")
    assert no_comment.value.field == "comment"
    reads.decide(org.mary, department, False, "无业务需要")

    request.refresh_from_db()
    assert request.status == ReadRequest.Status.REFUSED
    assert set(request.steps.values_list("decision", flat=True)) == {"refused", "skipped"}
    assert list(reads.steps_waiting_for(org.george)) == []
    with pytest.raises(reads.RequestError):
        reads.lend(org.arthur, request, reads.default_due_back(request))


@time_machine.travel(NOW, tick=False)
def test_it_never_lets_the_requester_approve_their_own_request(org, files):
    # mary manages sales east but does not read alice's company file: she must ask.
    request = reads.submit(org.mary, [files["company"]], "客户拜访准备", FROM, TO)
    department = request.steps.order_by("order").first()

    assert not reads.may_decide(org.mary, department)
    assert list(reads.steps_waiting_for(org.mary)) == []
    with pytest.raises(reads.RequestError) as refused:
        reads.decide(org.mary, department, True, "")
    assert refused.value.code == "forbidden"
    department.refresh_from_db()
    assert department.decision == ApprovalStep.Decision.PENDING


@time_machine.travel(NOW, tick=False)
def test_it_refuses_a_decision_from_another_departments_manager(org, files):
    request = reads.submit(org.bob, [files["personal"]], "核对", FROM, TO)

    with pytest.raises(reads.RequestError) as refused:
        reads.decide(org.wendy, request.steps.get(), True, "")
    assert refused.value.code == "forbidden"


@time_machine.travel(NOW, tick=False)
def test_it_refuses_bad_requests_naming_the_field(org, files):
    def field_of(*args):
        with pytest.raises(reads.RequestError) as refused:
            reads.submit(org.bob, *args)
        return refused.value.field

    assert field_of([files["personal"]], "", FROM, TO) == "purpose"
    assert field_of([], "核对", FROM, TO) == "customers"
    assert field_of([files["personal"]], "核对", TO, FROM) == "wanted_to"
    assert field_of([files["personal"]], "核对", date(2026, 11, 1), date(2026, 11, 2)) == (
        "wanted_to"
    )
    # Nothing to ask for what one already reads.
    with pytest.raises(reads.RequestError) as already:
        reads.submit(org.walt, [files["west"]], "核对", FROM, TO)
    assert already.value.field == "customers"
    assert not ReadRequest.objects.filter(requester=org.walt).exists()


def test_it_finds_customers_by_exact_name_or_code_only(org, files):
    code = files["west"].uscc
    found, missing = reads.find_customers(f"{files['personal'].name}\n{code.lower()}\n个人级\n")

    assert found == [files["personal"], files["west"]]
    assert missing == ["个人级"]


@time_machine.travel(NOW, tick=False)
def test_it_lets_only_the_archivist_lend_an_approved_request_within_its_period(org, files):
    request = reads.submit(org.bob, [files["personal"]], "核对", FROM, TO)
    with pytest.raises(reads.RequestError):
        reads.lend(org.arthur, request, reads.default_due_back(request))  # not approved yet
    _approve_all(request, {"department": org.mary})

    with pytest.raises(reads.RequestError) as not_archivist:
        reads.lend(org.mary, request, reads.default_due_back(request))
    assert not_archivist.value.code == "forbidden"
    with pytest.raises(reads.RequestError) as past:
        reads.lend(org.arthur, request, timezone.now())
    assert past.value.field == "due_back_at"
    too_late = timezone.make_aware(datetime(2026, 12, 20, 9, 0))
    with pytest.raises(reads.RequestError) as beyond:
        reads.lend(org.arthur, request, too_late)
    assert beyond.value.field == "due_back_at"

    lending = reads.lend(org.arthur, request, reads.default_due_back(request), "纸质档案一册")

    assert lending.lent_at == timezone.now()
    assert timezone.localtime(lending.due_back_at).date() == date(2026, 12, 12)
    with pytest.raises(reads.RequestError):
        reads.lend(org.arthur, request, reads.default_due_back(request))
    grant = AuditEvent.objects.get(action="grant", customer_id=files["personal"].pk)
    assert grant.user_id == org.arthur.pk
    assert grant.detail["event"] == "lend" and grant.detail["requester"] == "bob"


@time_machine.travel(NOW, tick=False)
def test_it_gives_the_whole_chain_a_company_file_before_access(org, files):
    """bob asks for alice's company file: mary, then george, then arthur lends."""
    customer = files["company"]
    request = reads.submit(org.bob, [customer], "对账", FROM, TO)
    _approve_all(request, {"department": org.mary, "company": org.george})
    assert not policy.can_read(org.bob, customer)

    reads.lend(org.arthur, request, reads.default_due_back(request))

    assert policy.can_read(org.bob, customer)
    assert not policy.can_edit(org.bob, customer)
    with time_machine.travel("2026-12-12 00:00 +08:00", tick=False):
        assert not policy.can_read(org.bob, customer)


@time_machine.travel(NOW, tick=False)
def test_it_shows_a_request_to_requester_approvers_and_archivist_only(org, files):
    request = reads.submit(org.bob, [files["company"]], "对账", FROM, TO)

    def seen_by(user):
        return reads.visible_requests(user).filter(pk=request.pk).exists()

    assert seen_by(org.bob) and seen_by(org.mary) and seen_by(org.george)
    assert seen_by(org.arthur)
    assert not seen_by(org.alice) and not seen_by(org.wendy) and not seen_by(org.carl)


@time_machine.travel(NOW, tick=False)
def test_it_tells_the_history_of_a_request_including_expiry(org, files):
    request = reads.submit(org.bob, [files["personal"]], "对账", FROM, TO)
    _approve_all(request, {"department": org.mary})
    reads.lend(org.arthur, request, reads.default_due_back(request))

    with time_machine.travel("2026-12-15 10:00 +08:00", tick=False):
        request.refresh_from_db()
        events = reads.history(request)
        assert reads.stage(request) == reads.Stage.EXPIRED
        lending = Lending.objects.get(request=request)
        assert lending.is_overdue() and not lending.is_active()

    assert [e.who for e in events] == [org.bob, org.mary, org.arthur, None]
    assert "到期" in events[-1].what


@time_machine.travel(NOW, tick=False)
def test_it_lets_the_requester_withdraw_a_pending_request(org, files):
    request = reads.submit(org.bob, [files["personal"]], "对账", FROM, TO)
    with pytest.raises(reads.RequestError):
        reads.withdraw(org.alice, request)

    reads.withdraw(org.bob, request)

    request.refresh_from_db()
    assert request.status == ReadRequest.Status.WITHDRAWN
    assert list(reads.steps_waiting_for(org.mary)) == []
