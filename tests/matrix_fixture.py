"""The people and files the permission matrix and the leak tests run against.

One customer file per confidentiality level, each owned by alice (sales rep, 华东销售部),
each with one of everything an URL can point at (contact, attachment, application,
evaluation, reply letter, refusal, review, sanction records, securities, orders, invoices,
write-offs, collection cases, dunning letters). Global objects (a route, a dunning run,
an import job …) exist once. Every customer carries a SECRET marker in a field its file
shows, so a response that must not reveal the file can be searched for it.

Rows are written directly where the service would need a long walk; what the matrix
checks is who reaches a row, not how the row came to be.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings

from creditfile.core import roles
from creditfile.core.models import ApiToken, Company, User
from creditfile.core.testing import PASSWORD, build_org, confirm_password
from creditfile.customers.models import KeyPerson
from creditfile.customers.testing import make_customer, valid_uscc

LEVELS = ("company", "department", "personal")

# Who the matrix asks, and why each is there. alice owns every file; bob is another rep
# of her department; walt, a rep of another department, holds an active read grant (an
# approved request the archivist lent) on every file; mary manages alice's department;
# wendy manages another one. The rest are the one fixed person of each remaining role,
# plus a superuser and nobody.
SUBJECTS = (
    "alice",
    "bob",
    "walt",
    "mary",
    "wendy",
    "carl",
    "cathy",
    "fiona",
    "dora",
    "victor",
    "george",
    "arthur",
    "audrey",
    "adam",
    "root",
    "anonymous",
)

# The expected readers of each level, written out from docs (policy spec R-40) for this
# fixture rather than computed, so a mistake in the policy cannot hide in the oracle.
_BY_WORK = {"carl", "cathy", "fiona", "audrey"}  # readers by work (default setting)
_TOP = {"dora", "victor", "george"}  # marketing director, VP, general manager
# The department- and company-level files belong to alice's department; the personal one
# is alice's but filed under 西南销售部 (sales west), so both mary (the owner's manager)
# and wendy (the file's department's manager) read it.
READERS = {
    "company": {"alice", "walt", "root"} | _TOP | _BY_WORK,
    "department": {"alice", "walt", "mary", "root"} | _TOP | _BY_WORK,
    "personal": {"alice", "walt", "mary", "wendy", "root"} | _TOP | _BY_WORK,
}
# Edit = read (not by a grant) and owner / reaching manager / credit staff, credit
# manager, finance, marketing director. VP, GM, auditor, archivist, administrator only read.
_EDIT_ROLES = {"carl", "cathy", "fiona", "dora"}
_EDITING = {"alice", "mary", "wendy", "root"} | _EDIT_ROLES  # walt reads by a grant: read-only
EDITORS = {level: readers & _EDITING for level, readers in READERS.items()}
# Who sees walt's read request of each file: he, its deciders (the manager of the file's
# department; george, the general manager, too for a company-level file), the archivist.
REQUEST_VIEWERS = {
    "company": {"walt", "mary", "george", "arthur", "root"},
    "department": {"walt", "mary", "arthur", "root"},
    "personal": {"walt", "wendy", "arthur", "root"},
}

NAMES = {
    "company": "晨星公司级科技有限公司",
    "department": "晨星部门级科技有限公司",
    "personal": "晨星个人级科技有限公司",
}
PHONES = {"company": "021-66881001", "department": "021-66881002", "personal": "021-66881003"}
SECRET = "ZQX-SECRET-{level}"


def secret(level: str) -> str:
    return SECRET.format(level=level)


def role_of(username: str) -> str | None:
    if username in ("root", "anonymous"):
        return None
    if username == "wendy":
        return roles.DEPT_MANAGER
    from creditfile.core.testing import PEOPLE

    return PEOPLE[username][1]


def has_perm(username: str, perm: str) -> bool:
    """What roles.py gives the subject's role (the role table is the spec of permissions)."""
    if username == "root":
        return True
    if username == "anonymous":
        return False
    if perm.startswith("role:"):  # a screen gated by the role itself, not a permission
        return role_of(username) == perm.removeprefix("role:")
    return perm in roles.ROLE_PERMISSIONS[role_of(username)]


# The managers a violation summary is written for (access/services/violations.py).
MANAGING = (
    "role:dept_manager",
    "role:credit_manager",
    "role:marketing_director",
    "role:vp",
    "role:general_manager",
)


@dataclass
class File:
    level: str
    customer: object
    objects: dict = field(default_factory=dict)

    def __getitem__(self, name):
        if name == "customer":
            return self.customer
        return self.objects[name]


@dataclass
class World:
    org: object
    files: dict
    shared: dict
    users: dict
    tokens: dict
    sessions: dict


def _set_level(customer, level: str) -> None:
    """The confidentiality level, once the policy has given customers the field."""
    from creditfile.customers.models import Customer

    if any(f.name == "confidentiality" for f in Customer._meta.get_fields()):
        Customer.objects.filter(pk=customer.pk).update(confidentiality=level)
        customer.refresh_from_db()


def _file(org, level: str, index: int) -> File:
    from creditfile.credit import models as cm
    from creditfile.credit.choices import ApplicationState
    from creditfile.credit.testing import walk_to
    from creditfile.customers.models import Contact, Customer
    from creditfile.customers.services.attachments import add_attachment
    from creditfile.receivables import models as rm

    alice = org.alice
    customer = make_customer(
        NAMES[level],
        owner=alice,
        uscc=valid_uscc(880000 + index),
        phone=PHONES[level],
        registered_address=f"上海市{secret(level)}路1号",
    )
    if level == "personal":
        Customer.objects.filter(pk=customer.pk).update(department=org.departments["sales_west"])
        customer.refresh_from_db()
    _set_level(customer, level)
    f = File(level, customer)
    o = f.objects
    today = datetime.date(2026, 12, 7)
    company = Company.default()
    o["contact"] = Contact.objects.create(
        customer=customer, source="sales", name=f"联系人{index}", mobile=""
    )
    o["key_person"] = KeyPerson.objects.create(
        customer=customer,
        source="sales",
        name=f"关键人{index}",
        role="legal_rep",
        hobbies=secret(level),
        legal_basis="consent",
        consent_reference="档案室",
        retention_until=datetime.date(2029, 12, 31),
    )
    o["attachment"] = add_attachment(
        customer,
        SimpleUploadedFile("note.txt", f"{secret(level)}\n".encode(), "text/plain"),
        category="other",
        title="说明",
        document_date=today,
        user=alice,
    )
    application = walk_to(org, customer, ApplicationState.APPROVED)
    o["application"] = application
    o["evaluation"] = cm.Evaluation.objects.filter(customer=customer).latest("pk")
    o["collection_item"] = cm.CollectionItem.objects.create(
        application=application, source="sales", channel="customer", topic="营业执照"
    )
    o["letter"] = cm.ReplyLetter.objects.create(
        application=application,
        kind="approved",
        subject="授信批复",
        body=f"正文 {secret(level)}",
        generated_by=org.carl,
    )
    o["refusal"] = cm.CustomerRefusal.objects.create(
        customer=customer, refused_by_person="张三", reason="不愿提供", recorded_by=alice
    )
    o["review"] = cm.CreditReview.objects.create(
        customer=customer, kind="on_demand", period="2026-12", due_on=today
    )
    o["proposal"] = cm.GradeChangeProposal.objects.create(
        customer=customer, source="rule", to_grade="C", reason="逾期"
    )
    o["measure"] = cm.Measure.objects.create(
        customer=customer,
        kind="stop_credit_sales",
        reason="逾期",
        decided_by=org.cathy,
        decided_on=today,
        effective_from=today,
    )
    o["blacklist"] = cm.BlacklistEntry.objects.create(
        customer=customer, reason="恶意拖欠", proposed_by=org.carl
    )
    o["breach"] = cm.OwnBreach.objects.create(
        customer=customer,
        kind="other",
        occurred_on=today,
        description="说明",
        recorded_by=org.carl,
    )
    o["security"] = cm.CreditSecurity.objects.create(
        customer=customer,
        kind="guarantee",
        provider="担保人",
        amount=Decimal("1000"),
        valid_from=today,
    )
    o["group_line"] = cm.CreditLine.objects.create(
        customer=customer,
        company=None,
        grade="B",
        limit=Decimal("5000"),
        term_days=30,
        valid_from=today,
        granted_by=org.carl,
    )
    o["order"] = rm.SalesOrder.objects.create(
        company=company,
        customer=customer,
        number=f"SO-{index}",
        amount=Decimal("100"),
        base_amount=Decimal("100"),
        order_date=today,
        status="blocked",
    )
    o["invoice"] = rm.Invoice.objects.create(
        company=company,
        customer=customer,
        number=f"INV-{index}",
        amount=Decimal("100"),
        base_amount=Decimal("100"),
        invoice_date=today - datetime.timedelta(days=90),
        due_date=today - datetime.timedelta(days=60),
        open_base=Decimal("100"),
    )
    o["writeoff"] = rm.WriteOff.objects.create(
        invoice=o["invoice"], base_amount=Decimal("10"), reason="无法收回"
    )
    o["case"] = rm.CollectionCase.objects.create(company=company, customer=customer, owner=alice)
    o["read_request"], o["lending"] = _lent_request(org, customer)
    o["request_step"] = o["read_request"].steps.order_by("pk").first()
    o["dunning_letter"] = rm.DunningLetter.objects.create(
        company=company,
        customer=customer,
        case=o["case"],
        channel="letter",
        template_name="催款函",
        subject="催款",
        body=f"催款 {secret(level)}",
        total_overdue=Decimal("100"),
        letter_date=today,
        generated_by=org.carl,
    )
    return f


def _lent_request(org, customer):
    """walt's read request of `customer`, approved by each decider and lent by arthur."""
    from django.utils import timezone

    from creditfile.access.services import requests as reads

    today = timezone.localdate()
    request = reads.submit(
        org.walt, [customer], "核对往来账", today, today + datetime.timedelta(days=30)
    )
    for request_step in request.steps.order_by("pk"):
        decider = next(
            org.users[name]
            for name in ("mary", "wendy", "george")
            if reads.may_decide(org.users[name], request_step)
        )
        reads.decide(decider, request_step, True, "同意")
    request.refresh_from_db()
    lending = reads.lend(org.arthur, request, timezone.now() + datetime.timedelta(days=30))
    return request, lending


def _shared(org, files) -> dict:
    from creditfile.credit import models as cm
    from creditfile.customers.models import Industry, Region, Route, RouteStop
    from creditfile.receivables import models as rm

    company = Company.default()
    region = Region.objects.filter(parent__isnull=True).first() or Region.objects.create(
        code="310000", name="上海市"
    )
    route = Route.objects.create(name="周一线", region=region, sales_rep=org.alice)
    stop = RouteStop.objects.create(route=route, customer=files["company"].customer, position=1)
    group = cm.CreditGroup.objects.create(name="晨星集团", limit=Decimal("100000"))
    for f in files.values():
        group.members.add(f.customer)
    mapping = rm.ImportMapping.objects.create(
        name="ERP", company=company, source="erp", kind="invoice"
    )
    job = rm.ImportJob.objects.create(
        mapping=mapping,
        file=SimpleUploadedFile("in.csv", b"a,b\n"),
        filename="in.csv",
        created_by=org.fiona,
    )
    run = rm.DunningRun.objects.create(
        company=company, as_of=datetime.date(2026, 12, 7), created_by=org.carl
    )
    return {
        "lending": files["company"].objects["lending"],
        "region": region,
        "industry": Industry.objects.first() or Industry.objects.create(code="C39", name="电子"),
        "route": route,
        "stop": stop,
        "policy": cm.GradePolicy.objects.first(),
        "scorecard": cm.Scorecard.objects.first(),
        "approval_rule": cm.ApprovalRule.objects.first(),
        "company": company,
        "credit_group": group,
        "mapping": mapping,
        "job": job,
        "run": run,
        # An id nothing has: screens whose records this fixture does not make (handover
        # records, personal-data requests, violation summaries) answer it with a 404 to
        # whoever passes their permission gate, and a 403 to the rest.
        "missing": Missing(),
        "template": rm.DunningTemplate.objects.first()
        or rm.DunningTemplate.objects.create(name="催款函", subject="催款", body="请付款"),
    }


@dataclass(frozen=True)
class Missing:
    pk: int = 987654


def build_world() -> World:
    org = build_org()
    wendy = org.users["wendy"]
    assert wendy.has_role(roles.DEPT_MANAGER)
    root = User.objects.create_superuser(
        username="root", password=PASSWORD, full_name="Root", department=org.departments["head"]
    )
    org.users["root"] = root
    files = {level: _file(org, level, i) for i, level in enumerate(LEVELS, start=1)}
    shared = _shared(org, files)
    users = {name: org.users[name] for name in SUBJECTS if name != "anonymous"}
    tokens = {name: ApiToken.issue(user, "matrix")[1] for name, user in users.items()}
    sessions = {}
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        confirm_password(client)
        sessions[name] = client.cookies
    assert Group.objects.filter(name__in=roles.ROLE_PERMISSIONS).count() == len(
        roles.ROLE_PERMISSIONS
    )
    return World(org, files, shared, users, tokens, sessions)


def client_for(world: World, subject: str) -> Client:
    """A fresh client carrying the subject's session (a logout in one cell ends nothing)."""
    client = Client(raise_request_exception=True)
    if subject != "anonymous":
        for key, morsel in world.sessions[subject].items():
            client.cookies[key] = morsel.value
    return client


# -- pytest fixtures: import them into a test module to use them ------------------------------


@pytest.fixture(scope="module")
def world_media(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix-files")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, world_media):
    """The fixture of tests/matrix_fixture.py in one transaction, undone after the module."""
    with django_db_blocker.unblock():
        with override_settings(
            MEDIA_ROOT=world_media,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ):
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                yield build_world()
            finally:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _test_settings(settings, world_media):
    """Replaces conftest's: the files of the module's world stay where the world put them."""
    settings.MEDIA_ROOT = world_media
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SUDO_MINUTES = 24 * 60
    settings.SESSION_IDLE_SECONDS = 24 * 3600
