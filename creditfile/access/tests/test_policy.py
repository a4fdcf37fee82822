"""The access policy (access/policy.py, R-40): every level × every kind of person.

Files at the three levels are owned by alice (sales east). mary manages sales east (the
owning department), wendy sales west, and sam — made here — the sales centre above both.
"""

from datetime import date

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from creditfile.access import policy
from creditfile.access.models import AccessSettings, ReadRequest
from creditfile.access.services import access_settings
from creditfile.access.services import requests as reads
from creditfile.core import roles
from creditfile.core.models import User
from creditfile.core.testing import PASSWORD
from creditfile.customers.models import Contact, Customer
from creditfile.customers.testing import make_customer

LEVELS = ("company", "department", "personal")
ALL = set(LEVELS)
# Who reads / edits alice's file at each level (R-40 and the spec's edit rule).
READS = {
    "alice": ALL,
    "bob": set(),
    "walt": set(),
    "mary": {"department", "personal"},
    "wendy": set(),
    "sam": {"department", "personal"},
    "dora": ALL,
    "victor": ALL,
    "george": ALL,
    "carl": ALL,
    "cathy": ALL,
    "fiona": ALL,
    "audrey": ALL,
    "arthur": set(),
    "adam": set(),
    "root": ALL,
}
EDITS = {
    "alice": ALL,
    "mary": {"department", "personal"},
    "sam": {"department", "personal"},
    "dora": ALL,
    "carl": ALL,
    "cathy": ALL,
    "fiona": ALL,
    "root": ALL,
}


@pytest.fixture
def people(org):
    sam = User.objects.create_user(
        "sam", password=PASSWORD, full_name="Sam", department=org.departments["sales"]
    )
    sam.groups.add(Group.objects.get(name=roles.DEPT_MANAGER))
    root = User.objects.create_superuser("root", password=PASSWORD)
    return {**org.users, "sam": sam, "root": root}


@pytest.fixture
def files(org):
    return {
        level: make_customer(f"{level}级客户有限公司", owner=org.alice, confidentiality=level)
        for level in LEVELS
    }


def _fresh(user):
    """The user as a new request would load it (no cached roles or departments)."""
    return User.objects.get(pk=user.pk)


def test_the_table_names_every_fixed_person(people):
    assert set(READS) == set(people)
    assert all(EDITS[name] <= READS[name] for name in EDITS)


@pytest.mark.parametrize("username", sorted(READS))
def test_it_lets_each_person_read_exactly_their_levels(people, files, username):
    user = _fresh(people[username])
    listed = set(policy.readable_customers(user).values_list("confidentiality", flat=True))
    one_by_one = {level for level, c in files.items() if policy.can_read(user, c)}
    by_id = {
        level for level, c in files.items() if policy.readable_customer(user, c.pk) is not None
    }

    assert listed == READS[username]
    assert one_by_one == READS[username]
    assert by_id == READS[username]


@pytest.mark.parametrize("username", sorted(READS))
def test_it_lets_each_person_edit_exactly_their_levels(people, files, username):
    user = _fresh(people[username])
    editable = {level for level, c in files.items() if policy.can_edit(user, c)}
    listed = set(
        policy.restrict(Customer.objects.all(), user, "edit").values_list(
            "confidentiality", flat=True
        )
    )

    assert editable == EDITS.get(username, set())
    assert listed == editable


def test_it_lets_the_managers_of_the_owner_and_of_the_file_read_a_personal_file(org):
    # Owned by alice (sales east) but filed under sales west.
    west = org.departments["sales_west"]
    personal = make_customer("跨部门个人级公司", owner=org.alice, department=west)
    department = make_customer(
        "跨部门部门级公司", owner=org.alice, department=west, confidentiality="department"
    )

    assert policy.can_read(org.mary, personal) and policy.can_read(org.wendy, personal)
    # A department file is its department's: the owner's manager does not reach it.
    assert policy.can_read(org.wendy, department)
    assert not policy.can_read(org.mary, department)


def test_it_lets_the_owner_read_even_a_company_file_and_no_other_rep(org, files):
    assert policy.can_read(org.alice, files["company"])
    assert policy.can_edit(org.alice, files["company"])
    assert not policy.can_read(org.bob, files["company"])


def test_it_files_an_ownerless_new_customer_as_department_level(org):
    ownerless = make_customer("无人负责有限公司", department=org.departments["sales_east"])
    owned = make_customer("有人负责有限公司", owner=org.bob)

    assert ownerless.confidentiality == "department"
    assert owned.confidentiality == "personal"
    assert policy.can_read(org.mary, ownerless)
    assert not policy.can_read(org.bob, ownerless)


def test_it_shows_nothing_to_an_inactive_or_anonymous_user(org, files):
    from django.contrib.auth.models import AnonymousUser

    org.carl.is_active = False
    org.carl.save()
    assert not policy.readable_customers(org.carl).exists()
    assert not policy.readable_customers(AnonymousUser()).exists()


def test_it_restricts_records_reached_through_their_customer(org, files):
    for level, customer in files.items():
        Contact.objects.create(
            customer=customer, name=f"{level}联系人", mobile="13800000000", source="sales"
        )
    names = set(
        policy.restrict(Contact.objects.all(), org.mary, "view", path="customer").values_list(
            "name", flat=True
        )
    )
    assert names == {"department联系人", "personal联系人"}


def test_it_filters_a_list_in_one_query_without_loading_customers(org, files):
    for i in range(30):
        make_customer(f"其他客户{i}有限公司", owner=org.walt)
    user = _fresh(org.mary)
    policy.managed_departments(user)  # the department tree is read once per request
    user.role_codes  # noqa: B018 (loads the cached roles)

    with CaptureQueriesContext(connection) as queries:
        names = list(policy.readable_customers(user).values_list("name", flat=True))

    assert set(names) == {files["department"].name, files["personal"].name}
    # The settings row, then one filtered SELECT: owner, department and grants are all in SQL.
    assert len(queries) <= 2
    sql = queries[-1]["sql"]
    assert "confidentiality" in sql and "access_requestedcustomer" in sql


@pytest.mark.parametrize("username", ["carl", "alice"])  # a reader by work; the owner
def test_it_reads_one_customer_by_id_with_only_the_fields_asked(org, files, username):
    user = _fresh(getattr(org, username))
    wanted = files["personal"]
    Customer.objects.filter(pk=wanted.pk).update(lifecycle="active")

    found = policy.readable_customer(user, wanted.pk, ("id", "lifecycle"))

    assert (found.pk, found.lifecycle) == (wanted.pk, "active")
    assert {"name", "owner_id", "confidentiality"} <= found.get_deferred_fields()
    assert policy.readable_customer(user, wanted.pk + 10_000) is None


# --- readers by work ------------------------------------------------------------------------


def test_it_reads_the_readers_by_work_as_the_settings_row_holds_them(org):
    AccessSettings.objects.filter(pk=1).delete()
    assert AccessSettings.current_reader_roles() == AccessSettings.current().reader_roles
    assert roles.CREDIT_MANAGER in AccessSettings.current_reader_roles()

    access_settings.save_settings(org.adam, [roles.ARCHIVIST, roles.FINANCE], "general_manager")
    assert sorted(AccessSettings.current_reader_roles()) == [roles.ARCHIVIST, roles.FINANCE]

    access_settings.save_settings(org.adam, [], "general_manager")
    assert AccessSettings.current_reader_roles() == []


def test_it_follows_the_readers_by_work_setting(org, files):
    access_settings.save_settings(
        org.adam,
        [roles.CREDIT_STAFF, roles.CREDIT_MANAGER, roles.FINANCE, roles.ARCHIVIST],
        "general_manager",
    )

    assert not policy.readable_customers(_fresh(org.audrey)).exists()
    arthur = _fresh(org.arthur)
    assert policy.readable_customers(arthur).count() == 3
    # A reader by work who is not an editing role only reads.
    assert not policy.can_edit(arthur, files["personal"])


def test_it_takes_edit_away_from_an_editing_role_that_no_longer_reads(org, files):
    access_settings.save_settings(org.adam, [roles.FINANCE], "general_manager")

    carl = _fresh(org.carl)
    assert not policy.can_read(carl, files["personal"])
    assert not policy.can_edit(carl, files["personal"])


def test_it_refuses_settings_changes_from_anyone_but_the_administrator_and_director(org):
    with pytest.raises(reads.RequestError) as refused:
        access_settings.save_settings(org.carl, [], "general_manager")
    assert refused.value.code == "forbidden"
    access_settings.save_settings(org.dora, [roles.AUDITOR], "vp")
    assert AccessSettings.current().reader_roles == [roles.AUDITOR]


def test_it_refuses_an_unknown_reader_role_naming_the_field(org):
    with pytest.raises(reads.RequestError) as refused:
        access_settings.save_settings(org.adam, [roles.SALES_REP], "general_manager")
    assert refused.value.field == "reader_roles"


def test_it_logs_each_settings_change_in_the_history(org):
    from django.contrib.contenttypes.models import ContentType

    from creditfile.core.history import acting_as
    from creditfile.core.models import ObjectChange

    with acting_as(org.adam, label="web"):
        access_settings.save_settings(org.adam, [roles.FINANCE], "general_manager")
        access_settings.save_settings(org.adam, [roles.FINANCE, roles.AUDITOR], "vp")

    changes = ObjectChange.objects.filter(
        root_type=ContentType.objects.get_for_model(AccessSettings)
    )
    assert changes.filter(user=org.adam, field="company_approver_role").exists()
    assert changes.filter(field="reader_roles").exists()


# --- grants ---------------------------------------------------------------------------------


@time_machine.travel("2026-12-07 09:00 +08:00", tick=False)
def test_it_grants_read_only_from_lending_until_due_back(org, files):
    customer = files["department"]
    request = reads.submit(
        org.bob, [customer], "核对应收账款", date(2026, 12, 7), date(2026, 12, 9)
    )
    reads.decide(org.mary, request.steps.get(), True, "")
    request.refresh_from_db()
    assert request.status == ReadRequest.Status.APPROVED
    # Approved but not lent: still a stub.
    assert not policy.can_read(org.bob, customer)

    lending = reads.lend(org.arthur, request, reads.default_due_back(request))

    assert policy.can_read(org.bob, customer)
    assert not policy.can_edit(org.bob, customer)
    assert policy.reads_through_grant_only(org.bob, customer)
    assert not policy.can_read(org.bob, files["personal"])  # only what was requested
    assert list(reads.active_lendings(org.bob)) == [lending]

    with time_machine.travel("2026-12-09 23:59 +08:00", tick=False):
        assert policy.can_read(org.bob, customer)
    with time_machine.travel("2026-12-10 00:00 +08:00", tick=False):
        assert not policy.can_read(org.bob, customer)
        assert not policy.readable_customers(org.bob).exists()
        assert reads.stage(request) == reads.Stage.EXPIRED


@time_machine.travel("2026-12-07 09:00 +08:00", tick=False)
def test_it_ends_access_when_the_archivist_records_the_return(org, files):
    customer = files["personal"]
    request = reads.submit(org.bob, [customer], "交接准备", date(2026, 12, 7), date(2026, 12, 20))
    reads.decide(org.mary, request.steps.get(), True, "")
    lending = reads.lend(org.arthur, request, reads.default_due_back(request))
    assert policy.can_read(org.bob, customer)

    reads.return_files(org.arthur, lending)

    assert not policy.can_read(org.bob, customer)
    request.refresh_from_db()
    assert reads.stage(request) == reads.Stage.RETURNED


def test_it_refuses_the_interim_rules_role_set_in_reach(org):
    """reach() once took a set of roles; passed now, a set would silently mean everything."""
    with pytest.raises(TypeError):
        policy.reach(org.alice, {roles.CREDIT_STAFF}, owner="owner", departments=())
    assert policy.reach(org.alice, True, owner="owner", departments=()) is None
    assert policy.reach(org.mary, False, owner="owner", departments=("department",)) is not None
