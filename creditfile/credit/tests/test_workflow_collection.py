"""workflow.save_collection_item: credit staff's checklist (R-21) with provenance (R-10)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from creditfile.core.choices import Source
from creditfile.credit.choices import ApplicationState as S
from creditfile.credit.choices import CollectionSource
from creditfile.credit.models import CollectionItem
from creditfile.credit.services import workflow
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.choices import AttachmentCategory
from creditfile.customers.testing import make_customer

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 5, 12)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 5, 12, 10, 0), tick=False):
        yield


@pytest.fixture
def application(org):
    customer = make_customer("华信科技有限公司", owner=org.alice)
    application = workflow.create_application(
        customer,
        org.alice,
        requested_limit=Decimal("300000"),
        requested_term_days=60,
        purpose="新客户首次赊销",
    )
    return workflow.submit(application, org.alice)


def item_fields(**changes) -> dict:
    fields = {
        "channel": CollectionSource.GOVERNMENT,
        "topic": "工商登记信息",
        "content": "注册资本5000万元，存续",
        "obtained": True,
    }
    return fields | changes


def test_it_saves_an_item_with_its_provenance_and_records_a_step(org, application):
    item = workflow.save_collection_item(application, org.carl, **item_fields())
    item.refresh_from_db()
    assert item.application == application
    assert item.entered_by == org.carl
    assert item.source == Source.CREDIT_DEPT
    assert item.source_date == TODAY
    assert item.verified_at is None
    step = application.steps.get(action="collection")
    assert step.actor == org.carl
    assert step.from_state == step.to_state == S.SUBMITTED
    assert "工商登记信息" in step.comment and "已取得" in step.comment


def test_it_keeps_a_given_source_and_date(org, application):
    item = workflow.save_collection_item(
        application,
        org.carl,
        **item_fields(source=Source.CREDIT_BUREAU, source_date=datetime.date(2026, 5, 1)),
    )
    assert (item.source, item.source_date) == (Source.CREDIT_BUREAU, datetime.date(2026, 5, 1))


def test_it_edits_an_item_and_keeps_who_first_entered_it(org, application):
    item = workflow.save_collection_item(application, org.carl, **item_fields(obtained=False))
    workflow.save_collection_item(
        application, org.cathy, item=item, obtained=True, content="已取得营业执照复印件"
    )
    item.refresh_from_db()
    assert item.obtained is True
    assert item.content == "已取得营业执照复印件"
    assert item.entered_by == org.carl
    assert application.steps.filter(action="collection").count() == 2
    assert application.steps.filter(action="collection", actor=org.cathy).exists()


def test_it_files_an_uploaded_document_in_the_customer_catalogue(org, application):
    upload = SimpleUploadedFile("license.pdf", b"%PDF-1.4\n%test\n", "application/pdf")
    item = workflow.save_collection_item(application, org.carl, file=upload, **item_fields())
    assert item.attachment.customer == application.customer
    assert item.attachment.category == AttachmentCategory.INVESTIGATION
    assert item.attachment.title == "工商登记信息"
    step = application.steps.get(action="collection")
    assert list(step.attachments.all()) == [item.attachment]


def test_it_refuses_an_upload_that_is_not_a_document(org, application):
    upload = SimpleUploadedFile("run.exe", b"MZ\x90\x00binary", "application/octet-stream")
    with pytest.raises(WorkflowError) as refused:
        workflow.save_collection_item(application, org.carl, file=upload, **item_fields())
    assert refused.value.code == "invalid"
    assert refused.value.field == "file"
    assert not CollectionItem.objects.exists()


@pytest.mark.parametrize("name", ["alice", "fiona", "victor", "audrey"])
def test_it_refuses_people_who_do_not_collect(org, application, name):
    with pytest.raises(WorkflowError) as refused:
        workflow.save_collection_item(application, getattr(org, name), **item_fields())
    assert refused.value.code == "forbidden"
    assert not CollectionItem.objects.exists()


def test_it_collects_during_the_investigation_too(org, application):
    workflow.start_investigation(application, org.carl)
    workflow.save_collection_item(application, org.carl, **item_fields())
    assert application.collection_items.count() == 1


@pytest.mark.parametrize("to_state", [S.DRAFT, S.EVALUATING, S.APPROVING, S.GRANTED])
def test_it_refuses_collection_outside_submission_and_investigation(org, application, to_state):
    application.state = to_state
    application.save(update_fields=["state"])
    with pytest.raises(WorkflowError) as refused:
        workflow.save_collection_item(application, org.carl, **item_fields())
    assert refused.value.code == "state"
    assert not CollectionItem.objects.exists()
    assert not application.steps.filter(action="collection").exists()


@pytest.mark.parametrize(
    "changes, field",
    [({"topic": "  "}, "topic"), ({"channel": "gossip"}, "channel"), ({"source": "x"}, "source")],
)
def test_it_refuses_missing_or_unknown_values(org, application, changes, field):
    with pytest.raises(WorkflowError) as refused:
        workflow.save_collection_item(application, org.carl, **item_fields(**changes))
    assert (refused.value.code, refused.value.field) == ("invalid", field)


def test_it_refuses_an_item_of_another_application(org, application):
    item = workflow.save_collection_item(application, org.carl, **item_fields())
    other = workflow.create_application(
        application.customer,
        org.alice,
        requested_limit=Decimal("100000"),
        requested_term_days=30,
        purpose="追加",
    )
    workflow.submit(other, org.alice)
    with pytest.raises(WorkflowError):
        workflow.save_collection_item(other, org.carl, item=item, obtained=False)
    item.refresh_from_db()
    assert item.obtained is True
