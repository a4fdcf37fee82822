"""`creditfile demo`: deterministic, valid, realistic demo data written fast."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from creditfile.core import roles
from creditfile.core.models import User
from creditfile.core.validators import validate_uscc
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


def test_it_generates_the_same_data_for_the_same_seed(demo):
    first = _snapshot()
    Attachment.objects.all().delete()
    Customer.objects.all().delete()

    with time_machine.travel(NOW, tick=False):
        run_demo(N, seed=7, today=TODAY)

    assert _snapshot() == first
    assert len(first) == N


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
