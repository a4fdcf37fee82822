"""The order check's one-query read (services/check_facts.py) says what the ORM
functions it replaces say, so the rules decide on the same facts (issue 4 benchmark)."""

import datetime
from decimal import Decimal

import pytest

from creditfile.core.models import Company
from creditfile.core.services.bulk import insert_one
from creditfile.credit.choices import BlacklistState, LineStatus, MeasureKind
from creditfile.credit.models import (
    BlacklistEntry,
    CreditLine,
    CreditSecurity,
    GradeTerms,
    Measure,
    TemporaryLimit,
)
from creditfile.credit.services import workflow
from creditfile.credit.services.lines import available_limit, lines_in_force
from creditfile.receivables.choices import OrderStatus, ReceivablesCounted
from creditfile.receivables.models import CreditControl, Exposure, SalesOrder
from creditfile.receivables.services import check_facts
from creditfile.receivables.services import exposure as exposures
from creditfile.receivables.services.checks import BLOCKING_MEASURES, check_credit, control_for
from creditfile.receivables.services.ledger import post_invoice
from creditfile.receivables.testing import TODAY, credit_customer

D = datetime.date
pytestmark = pytest.mark.django_db


def read(customer, company, number="SO-1", on_date=TODAY):
    return check_facts.read(customer.pk, company.pk, on_date, "api", number, BLOCKING_MEASURES)


def test_it_reads_the_lines_securities_overdue_sanctions_and_settings_as_the_orm_does(org):
    customer = credit_customer(org.cathy, "100000.50")
    company = Company.default()
    line = CreditLine.objects.get(customer=customer)
    terms = GradeTerms.objects.filter(security_counts_as_headroom=True).first()
    line.policy_id, line.grade = terms.policy_id, terms.grade
    line.save()
    application = workflow.create_application(
        customer,
        org.cathy,
        requested_limit=Decimal("1000"),
        requested_term_days=30,
        kind="temporary",
        temporary_until=D(2099, 7, 31),
    )
    for amount, start, end in [
        ("20000.25", D(2026, 6, 1), D(2026, 7, 31)),
        ("7000", D(2026, 5, 1), D(2026, 6, 29)),
    ]:  # the second ended
        TemporaryLimit.objects.create(
            line=line,
            amount=Decimal(amount),
            valid_from=start,
            valid_until=end,
            application=application,
        )
    for amount, until in [("33333.33", None), ("50000", D(2026, 6, 1))]:  # the second ended
        CreditSecurity.objects.create(
            customer=customer,
            kind="deposit",
            provider="保证金",
            amount=Decimal(amount),
            coverage_percent=Decimal("33.33"),
            valid_from=D(2026, 1, 1),
            valid_until=until,
            recorded_by=org.cathy,
        )
    group = CreditLine.objects.create(
        customer=customer,
        company=None,
        status=LineStatus.ACTIVE,
        grade="B",
        limit=Decimal("150000"),
        term_days=30,
        granted_by=org.cathy,
        valid_from=D(2026, 1, 1),
    )
    CreditControl.objects.create(
        company=company,
        check_on_release=True,
        overdue_tolerance_days=10,
        overdue_tolerance_amount=Decimal("5.50"),
        receivables_counted=ReceivablesCounted.OVERDUE_ONLY,
    )
    for number, due, amount in [
        ("I-1", D(2026, 5, 31), "1000.10"),  # 30 days late
        ("I-2", D(2026, 6, 10), "200.20"),  # 20 days late
        ("I-3", D(2026, 6, 25), "30.03"),  # 5: tolerated
        ("I-4", D(2026, 7, 15), "4000"),
    ]:  # not due
        post_invoice(customer, number, D(2026, 5, 1), amount, due_date=due)
    BlacklistEntry.objects.create(
        customer=customer, state=BlacklistState.LISTED, reason="拖欠", proposed_by=org.cathy
    )
    Measure.objects.create(
        customer=customer,
        kind=MeasureKind.STOP_SUPPLY,
        reason="拖欠",
        decided_by=org.cathy,
        decided_on=D(2026, 6, 1),
        effective_from=D(2026, 6, 1),
    )

    facts = read(customer, company)

    line_orm, group_orm = lines_in_force(customer, company, TODAY)
    assert (facts.line.pk, facts.group.pk) == (line_orm.pk, group.pk)
    assert available_limit(facts.line, TODAY) == available_limit(line_orm, TODAY)
    # 100,000.50 + 20,000.25 temporary + 33,333.33 × 33.33 % = 11,110.00 security
    assert available_limit(facts.line, TODAY) == Decimal("131110.75")
    assert available_limit(facts.group, TODAY) == available_limit(group_orm, TODAY)
    assert (facts.overdue, facts.beyond) == exposures.overdue_and_beyond(
        customer.pk, company.pk, TODAY, 10
    )
    assert facts.overdue == exposures.Overdue(Decimal("1230.33"), D(2026, 5, 31))
    assert facts.beyond == exposures.Overdue(Decimal("1200.30"), D(2026, 5, 31))
    control = control_for(company)
    for field in CreditControl._meta.concrete_fields:
        assert getattr(facts.control, field.attname) == getattr(control, field.attname)
    assert facts.listed is True
    assert facts.blocking_measures == 1
    assert facts.order_id is None


def test_it_reads_a_customer_without_line_or_settings_and_finds_an_existing_order(org):
    customer = credit_customer(org.cathy, "1000", status=LineStatus.EXPIRED)
    company = Company.default()
    order = check_credit(customer, "10", "SO-7", on_date=TODAY, source="api").order
    Measure.objects.create(  # ended before the day: not in force
        customer=customer,
        kind=MeasureKind.STOP_SUPPLY,
        reason="拖欠",
        decided_by=org.cathy,
        decided_on=D(2026, 6, 1),
        effective_from=D(2026, 6, 1),
        ended_on=TODAY,
    )

    facts = read(customer, company, number="SO-7")

    assert (facts.line, facts.group) == (None, None)
    assert facts.overdue == exposures.Overdue(Decimal("0"), None)
    assert (facts.listed, facts.blocking_measures) == (False, 0)
    assert facts.control.pk is None
    assert facts.control.first_point == control_for(company).first_point
    assert facts.order_id == order.pk
    assert read(customer, company, number="SO-8").order_id is None


def test_a_check_in_another_company_reads_that_companys_line_only(org):
    customer = credit_customer(org.cathy, "1000")
    sister = Company.objects.create(name="华南子公司")

    result = check_credit(customer, "10", "SO-1", company=sister, on_date=TODAY)

    assert [reason.code for reason in result.reasons] == ["no_line"]
    assert read(customer, sister).line is None


def test_insert_one_writes_what_save_writes_and_sends_the_signals(org):
    from django.db.models.signals import post_save, pre_save

    customer = credit_customer(org.cathy)
    heard = []

    def listen(sender, instance, **kwargs):
        heard.append((kwargs.get("created"), instance.number))

    pre_save.connect(listen, sender=SalesOrder)
    post_save.connect(listen, sender=SalesOrder)
    try:
        fields = dict(
            company=Company.default(),
            customer=customer,
            source="api",
            currency="CNY",
            rate=Decimal("1"),
            amount=Decimal("12.30"),
            base_amount=Decimal("12.30"),
            order_date=TODAY,
            status=OrderStatus.BLOCKED,
            check_reasons=[{"code": "x"}],
        )
        fast = SalesOrder(number="A", **fields)
        insert_one(fast)
        plain = SalesOrder(number="B", **fields)
        plain.save()
    finally:
        pre_save.disconnect(listen, sender=SalesOrder)
        post_save.disconnect(listen, sender=SalesOrder)

    assert heard[:2] == [(None, "A"), (True, "A")]
    assert not fast._state.adding
    stored, saved = SalesOrder.objects.get(pk=fast.pk), SalesOrder.objects.get(pk=plain.pk)
    for field in SalesOrder._meta.concrete_fields:
        if field.name not in ("id", "number", "created_at", "updated_at"):
            assert getattr(stored, field.attname) == getattr(saved, field.attname), field.name
    assert stored.created_at is not None and stored.updated_at is not None
    with pytest.raises(ValueError):
        insert_one(stored)


def test_saving_an_exposure_writes_its_amounts_and_time(org):
    customer = credit_customer(org.cathy)
    from django.db import transaction

    with transaction.atomic():
        exposure, _rows = exposures.locked_exposures(customer.pk, Company.default().pk)
        exposure.open_orders += Decimal("10.05")
        exposure.delivered_orders += Decimal("0.05")
        exposure.open_receivables = Decimal("123456789.99")
        exposures.save(exposure)

    row = Exposure.objects.get(pk=exposure.pk)
    assert (row.open_receivables, row.open_orders, row.delivered_orders) == (
        Decimal("123456789.99"),
        Decimal("10.05"),
        Decimal("0.05"),
    )
    assert row.updated_at == exposure.updated_at


def test_it_reads_due_dates_whatever_the_sessions_date_style(org):
    from django.db import connection

    customer = credit_customer(org.cathy)
    post_invoice(customer, "I-1", D(2026, 5, 1), "100", due_date=D(2026, 5, 31))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET DateStyle = 'SQL, DMY'")

    facts = read(customer, Company.default())

    assert facts.overdue == exposures.Overdue(Decimal("100.00"), D(2026, 5, 31))
