"""Dunning runs and letters: the next level per invoice, every overdue invoice in every
letter, no level twice, the letters in Chinese as PDF and DOCX."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from docx import Document
from pypdf import PdfReader

from creditfile.access.services.deliveries import stamp_for
from creditfile.core.models import Company
from creditfile.customers.models import Correspondence
from creditfile.receivables.choices import ActionKind, RunStatus
from creditfile.receivables.models import (
    CollectionCase,
    DunningLetter,
    DunningNotice,
    DunningProposal,
)
from creditfile.receivables.services import dunning, dunning_letters
from creditfile.receivables.services.collections import CollectionError
from creditfile.receivables.services.ledger import post_invoice, post_payment
from creditfile.receivables.testing import TODAY, credit_customer

D = datetime.date


def days_ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 6, 30, 10, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def customer(org):
    """Three overdue invoices: 20 days (a 催款函 is due), 5 days (a call), 0 (not overdue)."""
    customer = credit_customer(org.cathy, "500000", owner=org.alice, name="拖欠货款有限公司")
    post_invoice(customer, "FP-020", D(2026, 5, 1), "12000", due_date=days_ago(20))
    post_invoice(customer, "FP-005", D(2026, 5, 20), "8000.50", due_date=days_ago(5))
    post_invoice(customer, "FP-000", D(2026, 6, 1), "5000", due_date=TODAY)
    return customer


def _lines(run):
    proposal = run.proposals.get()
    return proposal, {line.invoice.number: line for line in proposal.lines.all()}


def test_the_default_policy_is_call_letter_second_letter_lawyer(db):
    policy = dunning.policy_for(Company.default())
    assert [(lv.days_overdue, lv.channel) for lv in policy.levels.all()] == [
        (1, "phone"),
        (15, "letter"),
        (45, "letter"),
        (90, "lawyer"),
    ]
    assert policy.levels.get(level=4).template.name == "律师函"


def test_a_new_invoice_starts_at_level_one_whatever_its_age(org, customer):
    run = dunning.propose_run(Company.default(), TODAY, org.carl)
    proposal, lines = _lines(run)
    assert lines["FP-020"].new_level == 1 and lines["FP-005"].new_level == 1
    assert "FP-000" not in lines  # due today is not overdue
    assert proposal.level.level == 1 and proposal.total_overdue == Decimal("20000.50")


def test_a_run_never_proposes_the_same_level_twice(org, customer):
    run = dunning.propose_run(Company.default(), TODAY, org.carl)
    dunning.confirm_run(run, org.carl, [p.pk for p in run.proposals.all()])
    assert DunningNotice.objects.filter(level=1).count() == 2
    again = dunning.propose_run(Company.default(), TODAY, org.carl)
    proposal, lines = _lines(again)
    # FP-020 (20 days) is now due for level 2; FP-005 (5 days) had level 1 and is not yet
    # at 15 days, so it is listed, not dunned again.
    assert lines["FP-020"].new_level == 2 and lines["FP-020"].previous_level == 1
    assert lines["FP-005"].new_level is None and lines["FP-005"].previous_level == 1
    assert proposal.level.level == 2


def test_a_customer_with_nothing_due_for_a_new_level_gets_no_proposal(org, customer):
    run = dunning.propose_run(Company.default(), TODAY, org.carl)
    dunning.confirm_run(run, org.carl, [p.pk for p in run.proposals.all()])
    later = dunning.propose_run(Company.default(), TODAY + datetime.timedelta(days=5), org.carl)
    _, lines = _lines(later)
    assert set(lines) == {"FP-020", "FP-005", "FP-000"}
    assert lines["FP-020"].new_level == 2 and lines["FP-000"].new_level == 1
    quiet = dunning.propose_run(Company.default(), TODAY, org.carl)
    dunning.confirm_run(quiet, org.carl, [p.pk for p in quiet.proposals.all()])
    assert not dunning.propose_run(Company.default(), TODAY, org.carl).proposals.exists()


def test_the_letter_for_one_invoice_lists_all_the_customers_overdue_invoices(org, customer):
    run = dunning.propose_run(Company.default(), TODAY, org.carl)
    dunning.confirm_run(run, org.carl, [p.pk for p in run.proposals.all()])  # level 1 calls
    letters = dunning.propose_run(Company.default(), TODAY, org.carl)
    result = dunning.confirm_run(letters, org.carl, [p.pk for p in letters.proposals.all()])

    letter = result.letters[0]
    assert [row["number"] for row in letter.invoices] == ["FP-020", "FP-005"]
    assert letter.total_overdue == Decimal("20000.50") and letter.level == 2
    stamp = stamp_for(org.carl)
    pdf_text = "\n".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(dunning_letters.letter_pdf(letter, stamp))).pages
    )
    document = Document(io.BytesIO(dunning_letters.letter_docx(letter, stamp)))
    docx_text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    for text in (pdf_text, docx_text):
        assert "拖欠货款有限公司" in text and "催款函" in text
        assert "FP-020" in text and "FP-005" in text and "20,000.50" in text
        assert "贰万零伍角" in text or "贰万元零伍角" in text or "人民币贰万元伍角" in text


def test_confirming_logs_the_letter_and_records_the_levels(org, customer):
    first = dunning.propose_run(Company.default(), TODAY, org.carl)
    dunning.confirm_run(first, org.carl, [p.pk for p in first.proposals.all()])
    case = CollectionCase.objects.get()
    assert case.next_action_on == TODAY and "电话" in case.next_action_note
    assert not Correspondence.objects.exists()  # a call is logged when it is made

    second = dunning.propose_run(Company.default(), TODAY, org.carl)
    dunning.confirm_run(second, org.carl, [p.pk for p in second.proposals.all()])
    entry = Correspondence.objects.get(customer=customer)
    assert entry.channel == "letter" and entry.direction == "out" and entry.subject == "催款函"
    assert "FP-020" in entry.summary and "FP-005" in entry.summary
    action = case.actions.get()
    assert action.kind == ActionKind.DUNNING_LETTER and action.letter is not None
    assert sorted(i.number for i in action.invoices.all()) == ["FP-005", "FP-020"]
    assert CollectionCase.objects.count() == 1
    case.refresh_from_db()
    assert case.next_action_on == TODAY + datetime.timedelta(days=10)
    assert DunningNotice.objects.filter(level=2).get().invoice.number == "FP-020"


def test_unticked_customers_are_left_for_the_next_run(org, customer):
    other = credit_customer(org.cathy, "1000", owner=org.bob, name="另一客户有限公司")
    post_invoice(other, "O-1", D(2026, 5, 1), "100", due_date=days_ago(3))
    run = dunning.propose_run(Company.default(), TODAY, org.carl)
    keep = run.proposals.get(customer=customer)
    dunning.confirm_run(run, org.carl, [keep.pk])
    assert not DunningProposal.objects.get(run=run, customer=other).selected
    assert not DunningNotice.objects.filter(invoice__customer=other).exists()
    again = dunning.propose_run(Company.default(), TODAY, org.carl)
    assert again.proposals.get(customer=other).level.level == 1


def test_a_payment_after_the_proposal_is_not_dunned(org, customer):
    first = dunning.propose_run(Company.default(), TODAY, org.carl)
    dunning.confirm_run(first, org.carl, [p.pk for p in first.proposals.all()])
    run = dunning.propose_run(Company.default(), TODAY, org.carl)
    post_payment(customer, "P-1", TODAY, "12000", reference="FP-020")
    result = dunning.confirm_run(run, org.carl, [p.pk for p in run.proposals.all()])
    assert result.skipped == ["拖欠货款有限公司"] and not DunningLetter.objects.exists()


def test_a_run_is_confirmed_once_and_a_new_run_replaces_a_waiting_one(org, customer):
    waiting = dunning.propose_run(Company.default(), TODAY, org.carl)
    newer = dunning.propose_run(Company.default(), TODAY, org.carl)
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.CANCELLED
    with pytest.raises(CollectionError):
        dunning.confirm_run(waiting, org.carl, [])
    dunning.confirm_run(newer, org.carl, [p.pk for p in newer.proposals.all()])
    with pytest.raises(CollectionError):
        dunning.confirm_run(newer, org.carl, [p.pk for p in newer.proposals.all()])
    assert DunningNotice.objects.count() == 2


def test_a_sales_reps_run_covers_only_her_customers(org, customer):
    other = credit_customer(org.cathy, "1000", owner=org.walt, name="西区客户有限公司")
    post_invoice(other, "W-1", D(2026, 5, 1), "100", due_date=days_ago(3))
    run = dunning.propose_run(Company.default(), TODAY, org.alice)
    assert [p.customer for p in run.proposals.all()] == [customer]


# --- Templates and amounts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("123456.78", "人民币壹拾贰万叁仟肆佰伍拾陆元柒角捌分"),
        ("100000", "人民币壹拾万元整"),
        ("1005.06", "人民币壹仟零伍元零陆分"),
        ("10000005", "人民币壹仟万零伍元整"),
        ("20000.50", "人民币贰万元伍角整"),
        ("0.30", "人民币叁角整"),
    ],
)
def test_amounts_are_written_in_chinese_capitals(amount, words):
    assert dunning_letters.amount_in_words(Decimal(amount)) == words


def test_a_template_must_list_the_invoices_and_name_only_known_variables(db):
    with pytest.raises(ValidationError) as missing:
        dunning_letters.validate_template("催款函", "{{ customer_name }}：请付款。")
    assert "必须列出全部逾期发票" in str(missing.value.message_dict["body"])
    with pytest.raises(ValidationError) as unknown:
        dunning_letters.validate_template("{{ customer.owner.password }}", "{{ invoice_table }}")
    assert "customer" in str(unknown.value.message_dict["subject"])
    with pytest.raises(ValidationError) as blocked:
        dunning_letters.validate_template("x", "{% load static %}{{ invoice_table }}")
    assert "模板语法错误" in str(blocked.value.message_dict["body"])
    dunning_letters.validate_template(
        "致{{ customer_name }}",
        "{% for invoice in invoices %}{{ forloop.counter }}. {{ invoice.number }}\n{% endfor %}",
    )
    for subject, body in dunning_letters.DEFAULT_TEMPLATES.values():
        dunning_letters.validate_template(subject, body)


def test_a_run_is_its_creators_to_confirm_or_cancel(org, customer):
    run = dunning.propose_run(Company.default(), TODAY, org.carl)
    # cathy sees the same customers, but the run is carl's: she may neither send nor drop it
    with pytest.raises(CollectionError):
        dunning.confirm_run(run, org.cathy, [p.pk for p in run.proposals.all()])
    with pytest.raises(CollectionError):
        dunning.cancel_run(run, org.cathy)
    with pytest.raises(CollectionError):  # nor start another over it
        dunning.propose_run(Company.default(), TODAY, org.cathy)
    run.refresh_from_db()
    assert run.status == RunStatus.PROPOSED and not DunningLetter.objects.exists()

    again = dunning.propose_run(Company.default(), TODAY, org.carl)  # carl's own: replaced
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and again.status == RunStatus.PROPOSED
    dunning.cancel_run(again, org.carl)
    assert dunning.propose_run(Company.default(), TODAY, org.cathy).created_by == org.cathy
