"""`creditfile demo`: deterministic, valid, realistic demo data written fast."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import F

from creditfile.core import roles
from creditfile.core.models import User
from creditfile.core.validators import validate_uscc
from creditfile.credit.choices import ApplicationState, LineStatus, ReviewState, SecurityKind
from creditfile.credit.models import (
    ApprovalDecision,
    BlacklistEntry,
    CollectionItem,
    CreditApplication,
    CreditLine,
    CreditReview,
    CreditSecurity,
    CustomerRefusal,
    Evaluation,
    ExternalRating,
    GradeChangeProposal,
    Measure,
    OwnBreach,
    PaymentSummary,
    ReplyLetter,
    SiteSurvey,
    TemporaryLimit,
)
from creditfile.credit.services.policy import policy_in_force, scorecard_in_force
from creditfile.credit.services.scoring import stored_factors
from creditfile.customers.demo import DEMO_PASSWORD, run_demo
from creditfile.customers.demo.generator import Context, make_uscc, organisation_code
from creditfile.customers.demo.writer import generate_bundles
from creditfile.customers.models import (
    Attachment,
    Contact,
    Customer,
    FinancialStatement,
)
from creditfile.customers.services.attachments import validate_upload
from creditfile.customers.services.completeness import completeness
from creditfile.customers.services.freshness import is_stale
from creditfile.customers.services.search import search_customers

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
N = 60


@pytest.fixture
def demo():
    with time_machine.travel(NOW, tick=False):
        yield run_demo(N, seed=7, today=TODAY)


def _snapshot():
    return [
        (
            c.name,
            c.uscc,
            c.owner.username,
            c.region.code,
            c.credit_grade,
            c.completeness,
            [(p.name, p.mobile) for p in c.contact_set.order_by("id")],
            [s.total_assets for s in c.financialstatement_set.order_by("period_end")],
        )
        for c in Customer.objects.select_related("owner", "region").order_by("id")
    ]


def _credit_snapshot():
    lines = [
        (line.customer.uscc, line.grade, line.limit, line.status, line.valid_from, line.valid_until)
        for line in CreditLine.objects.select_related("customer").order_by("customer__uscc", "id")
    ]
    evaluations = [
        (e.customer.uscc, e.kind, e.as_of, e.total_score, e.grade, e.recommended_limit)
        for e in Evaluation.objects.select_related("customer").order_by("customer__uscc", "id")
    ]
    payments = list(
        PaymentSummary.objects.order_by("customer__uscc", "period_end").values_list(
            "customer__uscc", "period_end", "sales_amount", "max_days_late", "malicious_default"
        )
    )
    applications = [
        (
            a.number,
            a.customer.uscc,
            a.kind,
            a.state,
            a.requested_limit,
            a.approved_limit,
            [(s.action, s.actor.username) for s in a.steps.order_by("id")],
        )
        for a in CreditApplication.objects.select_related("customer").order_by("number")
    ]
    return lines, evaluations, payments, applications


def _delete_demo_data():
    """Credit records protect the customers they are about: remove them first."""
    from creditfile.receivables.models import Exposure, Invoice, Payment, SalesOrder

    Payment.objects.all().delete()
    Invoice.objects.all().delete()
    SalesOrder.objects.all().delete()
    Exposure.objects.all().delete()
    TemporaryLimit.objects.all().delete()
    CreditSecurity.objects.all().delete()
    CreditLine.objects.all().delete()
    GradeChangeProposal.objects.all().delete()
    Evaluation.objects.all().delete()
    CustomerRefusal.objects.all().delete()
    CreditApplication.objects.all().delete()
    CreditReview.objects.all().delete()
    OwnBreach.objects.all().delete()
    Attachment.objects.all().delete()
    Customer.objects.all().delete()


def test_it_generates_the_same_data_for_the_same_seed(demo):
    first = _snapshot()
    first_credit = _credit_snapshot()
    _delete_demo_data()

    with time_machine.travel(NOW, tick=False):
        run_demo(N, seed=7, today=TODAY)

    assert _snapshot() == first
    assert len(first) == N
    assert _credit_snapshot() == first_credit
    assert all(first_credit)


def test_it_generates_the_files_in_memory_exactly_as_written(demo):
    ctx = Context.from_database(7, TODAY)
    with time_machine.travel(NOW, tick=False):
        bundles = generate_bundles(ctx, 0, N)
        again = generate_bundles(ctx, 0, N)
        other_seed = generate_bundles(Context.from_database(8, TODAY), 0, N)

    written = list(Customer.objects.order_by("id").values_list("name", "uscc"))
    assert [(b.customer["name"], b.customer["uscc"]) for b in bundles] == written
    assert [b.customer for b in again] == [b.customer for b in bundles]
    assert [b.customer["name"] for b in other_seed] != [b.customer["name"] for b in bundles]


def test_it_gives_every_customer_a_valid_unique_credit_code_from_its_region(demo):
    customers = list(Customer.objects.select_related("region"))
    for customer in customers:
        validate_uscc(customer.uscc)
        assert customer.uscc[0] == "9" and customer.uscc[1] in "123"
        assert customer.uscc[2:8] == customer.region.code
        assert customer.region.level >= 2
    assert len({c.uscc for c in customers}) == N


def test_it_never_repeats_an_organisation_code_in_a_large_run():
    codes = {organisation_code(i, i % 3 == 0) for i in range(300_000)}
    assert len(codes) == 300_000
    validate_uscc(make_uscc(123_456, "440305", "1", new_style=True))
    validate_uscc(make_uscc(123_457, "440305", "2", new_style=False))


@time_machine.travel(NOW, tick=False)
def test_it_generates_files_that_pass_every_validation(demo):
    sample = Customer.objects.order_by("id")[:50]
    for customer in sample:
        customer.full_clean()
        related = [
            *customer.contact_set.all(),
            *customer.keyperson_set.all(),
            *customer.bankaccount_set.all(),
            *customer.financialstatement_set.all(),
            *customer.certification_set.all(),
            *customer.visit_set.all(),
            *customer.observation_set.all(),
            *customer.fileevent_set.all(),
        ]
        for record in related:
            record.full_clean()
        # The score written in bulk is the one the service computes from the database.
        assert customer.completeness == completeness(customer)[0], customer.name
        assert customer.department_id == customer.owner.department_id
        assert customer.owner.has_role(roles.SALES_REP)
        assert customer.name_pinyin and customer.name_initials
        assert customer.source and customer.entered_by_id


@time_machine.travel(NOW, tick=False)
def test_it_balances_every_balance_sheet_and_keeps_primary_contacts(demo):
    for statement in FinancialStatement.objects.all():
        assert statement.total_assets == statement.total_liabilities + statement.equity
        assert statement.period_end < TODAY
    for customer in Customer.objects.all():
        contacts = list(customer.contact_set.all())
        assert 1 <= len(contacts) <= 3
        assert sum(c.is_primary for c in contacts) == 1
    assert Contact.objects.filter(is_emergency=True).exists()
    assert all(c.phone_search.startswith(c.mobile) for c in Contact.objects.all())


@time_machine.travel(NOW, tick=False)
def test_it_mixes_lifecycles_grades_kinds_and_stale_files(demo):
    customers = list(Customer.objects.all())
    assert {c.lifecycle for c in customers} >= {"active", "dormant"}
    assert sum(c.lifecycle == "active" for c in customers) > N / 3
    assert {c.credit_grade for c in customers} >= {"A", "B", "C"}
    assert {c.kind for c in customers} == {"distributor", "end_customer"}
    levels = [c.confidentiality for c in customers]
    assert set(levels) == {"company", "department", "personal"}
    assert levels.count("personal") > N / 3
    stale = [c for c in customers if is_stale(c)]
    assert 0 < len(stale) < N / 2
    assert any(c.last_visit_on for c in customers)


def test_it_creates_people_for_every_role_with_the_demo_password(demo):
    for role in roles.ROLE_LABELS:
        assert User.objects.filter(groups__name=role).exists(), role
    reps = User.objects.filter(groups__name=roles.SALES_REP)
    assert reps.count() >= 8
    assert {r.department.code for r in reps} == {
        "sales_east",
        "sales_south",
        "sales_north",
        "sales_west",
    }
    assert all(r.department.parent.code == "sales" for r in reps)
    assert not User.objects.filter(is_superuser=True).exists()
    assert User.objects.get(username="east1").check_password(DEMO_PASSWORD)
    assert User.objects.get(username="east1").full_name == "王伟"


def test_it_writes_real_attachment_files(demo):
    attachments = list(Attachment.objects.all())
    assert attachments
    for attachment in attachments[:10]:
        content = attachment.file.read()
        attachment.file.close()
        assert len(content) == attachment.size
        upload = SimpleUploadedFile(attachment.original_name, content)
        content_type, sha256 = validate_upload(upload)
        assert (content_type, sha256) == (attachment.content_type, attachment.sha256)


@time_machine.travel(NOW, tick=False)
def test_it_refuses_a_database_that_has_customers_unless_appending(demo):
    with pytest.raises(CommandError, match="--append"):
        call_command("demo", customers=5, seed=7, today=TODAY)
    assert Customer.objects.count() == N

    call_command("demo", customers=5, seed=7, today=TODAY, append=True)

    expected = generate_bundles(Context.from_database(7, TODAY), N, 5)
    appended = list(Customer.objects.order_by("id").values_list("name", "uscc"))[N:]
    assert appended == [(b.customer["name"], b.customer["uscc"]) for b in expected]
    assert User.objects.filter(username="east1").count() == 1


def test_it_keeps_search_working_after_rebuilding_the_index_for_a_large_load(monkeypatch):
    from creditfile.customers.demo import writer

    monkeypatch.setattr(writer, "SUSPEND_SEARCH_INDEX_FROM", 10)
    with time_machine.travel(NOW, tick=False):
        run_demo(20, seed=3, today=TODAY)

    customer = Customer.objects.order_by("id")[7]
    fragment = customer.name[-6:-2]
    assert customer in search_customers(Customer.objects.all(), fragment)
    assert customer in search_customers(Customer.objects.all(), customer.name_initials[:4])
    mobile = customer.contact_set.first().mobile
    assert customer in search_customers(Customer.objects.all(), mobile)


def test_it_prints_the_demo_logins(capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("demo", customers=3, seed=1, today=TODAY)
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out
    assert "east_manager" in out and "credit_manager" in out


def test_it_writes_the_same_files_when_generating_in_a_second_process(demo):
    from creditfile.customers.demo.writer import write_customers

    ctx = Context.from_database(7, TODAY)
    with time_machine.travel(NOW, tick=False):
        report = write_customers(ctx, N, 25, batch_size=7, parallel=True)
        expected = generate_bundles(ctx, N, 25)

    assert report.customers == 25
    written = list(Customer.objects.order_by("id").values_list("name", "uscc", "completeness"))
    assert written[N:] == [
        (b.customer["name"], b.customer["uscc"], b.customer["completeness"]) for b in expected
    ]


# --- the credit department ----------------------------------------------------------------


def test_it_gives_most_active_customers_payment_records_mostly_good(demo):
    active = set(Customer.objects.filter(lifecycle="active").values_list("id", flat=True))
    with_payments = set(PaymentSummary.objects.values_list("customer_id", flat=True))
    assert len(active & with_payments) > len(active) / 2
    assert not with_payments - set(CreditLine.objects.values_list("customer_id", flat=True))

    summaries = list(PaymentSummary.objects.all())
    good = [s for s in summaries if s.max_days_late < 30]
    assert len(good) > 0.7 * len(summaries)
    assert any(0 < s.max_days_late < 30 for s in summaries)  # some late
    assert any(s.times_late_over_30 for s in summaries)  # a few very late
    assert 1 <= sum(s.malicious_default for s in summaries) <= 2
    for s in summaries:
        assert s.period_end < TODAY and (s.period_end + timedelta(days=1)).day == 1
        assert s.invoices_paid_on_time <= s.invoices_settled
        assert (s.max_days_late > 90) == bool(s.times_late_over_90)


@time_machine.travel(NOW, tick=False)
def test_it_grants_one_line_per_customer_and_company_within_the_policy(demo):
    policy = policy_in_force(TODAY)
    terms = {t.grade: t for t in policy.grades.all()}
    active = list(CreditLine.objects.filter(status=LineStatus.ACTIVE).select_related("customer"))
    assert len(active) > N / 3
    keys = [(line.customer_id, line.company_id) for line in active]
    assert len(keys) == len(set(keys))
    assert {line.grade for line in active} >= {"B", "C"}
    for line in active:
        assert line.valid_from <= TODAY
        assert line.valid_until is None or line.valid_until >= TODAY
        assert line.customer.credit_grade == line.grade
        cap = terms[line.grade].max_limit
        if line.application_id is None and not line.cash_on_delivery:
            assert 0 < line.limit <= cap
            assert line.term_days == terms[line.grade].credit_term_days
        if line.grade == "D":
            assert line.cash_on_delivery


@time_machine.travel(NOW, tick=False)
def test_it_justifies_every_line_with_an_evaluation_on_the_active_scorecard(demo):
    scorecard = scorecard_in_force(TODAY)
    factors = scorecard.factors.count()
    assert Evaluation.objects.exists()
    assert not Evaluation.objects.exclude(scorecard=scorecard).exists()
    assert not Evaluation.objects.exclude(policy=policy_in_force(TODAY)).exists()
    for evaluation in Evaluation.objects.select_related("scorecard")[:40]:
        rows = stored_factors(evaluation)
        assert len(rows) == factors
        assert abs(sum(r.weighted for r in rows) - evaluation.total_score) <= Decimal("0.1")
        assert evaluation.scored_by.has_role(roles.FINANCE)
    # A line granted without an application in the demo rests on the customer's evaluation.
    for line in CreditLine.objects.filter(status=LineStatus.ACTIVE, application__isnull=True):
        latest = (
            Evaluation.objects.filter(customer=line.customer_id, application__isnull=True)
            .order_by("-as_of")
            .first()
        )
        assert latest.as_of < line.valid_from
        assert latest.grade == line.grade
    assert not Evaluation.objects.filter(factor_scores=[]).exists()


def test_it_puts_applications_in_every_state_with_steps_by_the_right_people(demo):
    applications = list(CreditApplication.objects.select_related("requested_by"))
    assert {a.state for a in applications} == set(ApplicationState.values)
    for application in applications:
        steps = list(application.steps.select_related("actor").order_by("id"))
        assert steps[0].action == "create" and steps[0].actor == application.requested_by
        assert application.requested_by.has_role(roles.SALES_REP)
        assert [s.at for s in steps] == sorted(s.at for s in steps)
        for step in steps:
            if step.action in ("investigate", "complete_investigation", "collection"):
                assert step.actor.has_role(roles.CREDIT_STAFF)
            if step.action == "score":
                assert step.actor.has_role(roles.FINANCE)
    for decision in ApprovalDecision.objects.select_related("approver"):
        assert decision.approver.has_role(decision.role)
    granted = [a for a in applications if a.state == ApplicationState.GRANTED]
    assert len(granted) >= 2
    assert all(ReplyLetter.objects.filter(application=a).exists() for a in granted)
    assert CustomerRefusal.objects.exclude(decision="").exists()
    assert CustomerRefusal.objects.filter(decision="").exists()
    assert SiteSurvey.objects.exists() and CollectionItem.objects.exists()
    assert TemporaryLimit.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_it_leaves_work_for_the_credit_manager_and_the_vp(demo):
    from creditfile.credit.services.approval import can_decide
    from creditfile.customers.services.visibility import visible_customers

    for username in ("credit_manager", "vp"):
        user = User.objects.get(username=username)
        approving = CreditApplication.objects.filter(
            state=ApplicationState.APPROVING, customer__in=visible_customers(user)
        )
        assert any(can_decide(user, a) for a in approving), username


@time_machine.travel(NOW, tick=False)
def test_it_runs_the_daily_jobs_and_adds_securities_ratings_and_sanctions(demo):
    open_reviews = CreditReview.objects.filter(state=ReviewState.DUE)
    assert open_reviews.filter(kind="annual", due_on__lt=TODAY).exists()  # overdue
    assert open_reviews.filter(kind="quarterly", due_on__gte=TODAY).exists()
    assert GradeChangeProposal.objects.filter(state="proposed", source="sanction").exists()
    listed = BlacklistEntry.objects.get(state="listed")
    assert listed.approved_by_id != listed.proposed_by_id
    assert Measure.objects.filter(customer=listed.customer).count() >= 2
    assert OwnBreach.objects.count() == 1
    assert set(CreditSecurity.objects.values_list("kind", flat=True)) == {
        SecurityKind.DEPOSIT,
        SecurityKind.GUARANTEE,
        SecurityKind.INSURANCE,
    }
    assert ExternalRating.objects.count() >= 2


@time_machine.travel(NOW, tick=False)
def test_it_gives_another_seed_other_credit_histories(demo):
    from creditfile.customers.demo.credit import BulkCredit

    users = dict(User.objects.values_list("username", "pk"))
    customers = list(Customer.objects.values("uscc", "lifecycle", "first_trade_on", "annual_sales"))

    def plans(seed):
        bulk = BulkCredit(seed, TODAY, users)
        return [bulk.plan(bulk.dice(c["uscc"]), c) for c in customers]

    assert plans(7) == plans(7)
    assert plans(7) != plans(8)


def test_it_gives_some_customers_a_ledger_and_blocked_orders(demo):
    from creditfile.receivables.models import Exposure, Invoice, Payment, SalesOrder
    from creditfile.receivables.services.exposure import recompute

    counts = demo.credit.receivables
    assert counts["invoices"] == Invoice.objects.count() > 0
    assert counts["payments"] == Payment.objects.count() > 0
    assert counts["blocked"] == SalesOrder.objects.filter(status="blocked").count() > 0
    assert SalesOrder.objects.filter(status="released").exists()
    assert Invoice.objects.filter(settled_on__gt=F("due_date")).exists()  # some paid late
    for row in Exposure.objects.all():
        assert (row.open_receivables, row.open_orders) == recompute(row.customer_id, row.company_id)
