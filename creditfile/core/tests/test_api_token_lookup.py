"""Every API call starts with the token: its user and roles in one query, the time of
last use written at most once a minute, and a permission asked alone (issue 4 benchmark:
the credit check is called on every order)."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from creditfile.core import roles
from creditfile.core.api_auth import has_permission
from creditfile.core.models import ApiToken, User

START = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.UTC)


def test_it_gives_the_tokens_user_with_their_roles_in_one_query(org):
    _token, key = ApiToken.issue(org.cathy, "ERP")

    with CaptureQueriesContext(connection) as reads:
        user = ApiToken.user_for_key(key)
        assert user == org.cathy
        assert user.role_codes == {roles.CREDIT_MANAGER}
        assert user.username == "cathy" and user.department_id == org.cathy.department_id

    assert len([q for q in reads.captured_queries if q["sql"].startswith("SELECT")]) == 1


def test_a_user_without_a_role_has_none(org):
    nobody = User.objects.create_user("nobody", password=None)
    _token, key = ApiToken.issue(nobody, "ERP")

    assert ApiToken.user_for_key(key).role_codes == set()


def test_it_refuses_unknown_and_revoked_keys_and_inactive_users(org):
    token, key = ApiToken.issue(org.alice, "ERP")
    assert ApiToken.user_for_key("cf_not-a-key") is None
    org.alice.is_active = False
    org.alice.save()
    assert ApiToken.user_for_key(key) is None
    org.alice.is_active = True
    org.alice.save()
    token.revoked_at = START
    token.save()
    assert ApiToken.user_for_key(key) is None


def test_it_writes_the_last_use_at_most_once_a_minute(org):
    token, key = ApiToken.issue(org.alice, "ERP")
    with time_machine.travel(START, tick=False):
        ApiToken.user_for_key(key)
    token.refresh_from_db()
    assert token.last_used_at == START

    with time_machine.travel(START + datetime.timedelta(seconds=59), tick=False):
        with CaptureQueriesContext(connection) as calls:
            ApiToken.user_for_key(key)
    token.refresh_from_db()
    assert token.last_used_at == START
    assert not [q for q in calls.captured_queries if q["sql"].startswith("UPDATE")]

    later = START + datetime.timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        ApiToken.user_for_key(key)
    token.refresh_from_db()
    assert token.last_used_at == later


@pytest.mark.parametrize(
    "perm",
    [
        "receivables.check_credit",
        "receivables.release_order",
        "receivables.add_invoice",
        "customers.view_customer",
        "core.change_user",
        "nosuchapp.nosuchperm",
    ],
)
def test_has_permission_agrees_with_has_perm_for_every_role(org, perm):
    superuser = User.objects.create_user("root", password=None, is_superuser=True)
    direct = User.objects.create_user("direct", password=None)
    direct.user_permissions.add(
        Permission.objects.get(content_type__app_label="receivables", codename="check_credit")
    )
    inactive = User.objects.create_user("gone", password=None, is_active=False)
    inactive.groups.add(*org.cathy.groups.all())
    for user in [*org.users.values(), superuser, direct, inactive]:
        fresh = User.objects.get(pk=user.pk)
        assert has_permission(fresh, perm) == User.objects.get(pk=user.pk).has_perm(perm), (
            user.username,
            perm,
        )
    assert has_permission(User.objects.get(username="direct"), "receivables.check_credit")
    assert not has_permission(User.objects.get(username="alice"), "nosuchapp.nosuchperm")
