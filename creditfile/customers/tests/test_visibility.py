"""The visibility names (services/visibility.py) for every fixed role, on personal files.

The rule is creditfile/access/policy.py (R-40); access/tests/test_policy.py covers every
level. The archivist and the administrator are not readers by work: they see stubs.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from creditfile.core.testing import PEOPLE
from creditfile.customers.models import Contact
from creditfile.customers.services.visibility import (
    NotReadable,
    can_edit,
    get_customer_for,
    restrict,
    visible_customers,
)
from creditfile.customers.testing import make_customer

# Who sees which of the three customers: alice's, bob's (both sales_east), walt's (west).
EXPECTED_VIEW = {
    "alice": {"alice"},
    "bob": {"bob"},
    "walt": {"walt"},
    "mary": {"alice", "bob"},
    "wendy": {"walt"},
    "arthur": set(),
    "adam": set(),
}
SEE_ALL = {"carl", "cathy", "fiona", "dora", "victor", "george", "audrey"}
EDIT_ALL = {"carl", "cathy", "fiona", "dora"}
READ_ONLY = {"victor", "george", "audrey"}


@pytest.fixture
def files(org):
    return {
        owner: make_customer(f"{owner}的客户有限公司", owner=getattr(org, owner))
        for owner in ("alice", "bob", "walt")
    }


def test_the_matrix_covers_every_fixed_person():
    assert set(EXPECTED_VIEW) | SEE_ALL == set(PEOPLE)
    assert not set(EXPECTED_VIEW) & SEE_ALL
    assert EDIT_ALL | READ_ONLY == SEE_ALL


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_it_shows_each_role_exactly_its_customers(org, files, username):
    user = getattr(org, username)
    seen = set(visible_customers(user).values_list("pk", flat=True))
    expected_owners = set(files) if username in SEE_ALL else EXPECTED_VIEW[username]
    assert seen == {files[o].pk for o in expected_owners}


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_it_lets_each_role_edit_exactly_its_customers(org, files, username):
    user = getattr(org, username)
    editable = {o for o, c in files.items() if can_edit(user, c)}
    if username in EDIT_ALL:
        assert editable == set(files)
    elif username in READ_ONLY:
        assert editable == set()
    else:
        assert editable == EXPECTED_VIEW[username]


def test_it_hides_other_reps_customers_as_not_found(org, files):
    with pytest.raises(Http404) as hidden:
        get_customer_for(org.alice, files["bob"].pk)
    assert isinstance(hidden.value, NotReadable) and hidden.value.customer == files["bob"]
    with pytest.raises(Http404) as unknown:
        get_customer_for(org.alice, 987654)
    assert not isinstance(unknown.value, NotReadable)
    assert get_customer_for(org.alice, files["alice"].pk) == files["alice"]


def test_it_lets_read_only_roles_read_but_not_edit(org, files):
    assert get_customer_for(org.audrey, files["bob"].pk) == files["bob"]
    with pytest.raises(PermissionDenied):
        get_customer_for(org.audrey, files["bob"].pk, "edit")


def test_it_restricts_sections_through_their_customer(org, files):
    for owner, customer in files.items():
        Contact.objects.create(
            customer=customer, name=f"{owner}联系人", mobile="13800000000", source="sales"
        )
    names = set(
        restrict(Contact.objects.all(), org.alice, "view", path="customer").values_list(
            "name", flat=True
        )
    )
    assert names == {"alice联系人"}


def test_it_shows_nothing_to_an_inactive_user(org, files):
    org.carl.is_active = False
    org.carl.save()
    assert not visible_customers(org.carl).exists()


def test_a_manager_sees_the_departments_below_theirs(org, files):
    from creditfile.core.models import Department

    sub = Department.objects.create(
        code="sales_east_sub", name="华东二组", parent=org.departments["sales_east"]
    )
    org.bob.department = sub
    org.bob.save()
    assert set(visible_customers(org.mary).values_list("pk", flat=True)) >= {
        files["alice"].pk,
        files["bob"].pk,
    }
