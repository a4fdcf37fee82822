"""Fixed test people, one per role, in a small department tree.

sales east: alice (sales rep), bob (sales rep), mary (dept manager)
sales west: walt (sales rep), wendy (dept manager)
credit:     carl (credit staff), cathy (credit manager)
finance:    fiona; and victor (VP), george (GM), dora (marketing director),
arthur (archivist), audrey (auditor), adam (administrator)
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from creditfile.core import roles
from creditfile.core.models import Department, User

PASSWORD = "correct-horse-battery-9"

PEOPLE = {
    "alice": ("sales_east", roles.SALES_REP),
    "bob": ("sales_east", roles.SALES_REP),
    "mary": ("sales_east", roles.DEPT_MANAGER),
    "walt": ("sales_west", roles.SALES_REP),
    "wendy": ("sales_west", roles.DEPT_MANAGER),
    "carl": ("credit", roles.CREDIT_STAFF),
    "cathy": ("credit", roles.CREDIT_MANAGER),
    "fiona": ("finance", roles.FINANCE),
    "dora": ("sales", roles.MARKETING_DIRECTOR),
    "victor": ("head", roles.VP),
    "george": ("head", roles.GENERAL_MANAGER),
    "arthur": ("office", roles.ARCHIVIST),
    "audrey": ("audit", roles.AUDITOR),
    "adam": ("office", roles.ADMINISTRATOR),
}


@dataclass
class Org:
    departments: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)

    def __getattr__(self, name):
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)


def build_org() -> Org:
    roles.sync_roles()
    org = Org()
    tree = [
        ("head", "总经理办公室", None),
        ("sales", "营销中心", "head"),
        ("sales_east", "华东销售部", "sales"),
        ("sales_west", "西南销售部", "sales"),
        ("credit", "信用管理部", "head"),
        ("finance", "财务部", "head"),
        ("office", "行政部", "head"),
        ("audit", "审计部", "head"),
    ]
    for code, name, parent in tree:
        org.departments[code] = Department.objects.create(
            code=code, name=name, parent=org.departments.get(parent)
        )
    for username, (dept, role) in PEOPLE.items():
        user = User.objects.create_user(
            username=username,
            password=PASSWORD,
            full_name=username.title(),
            department=org.departments[dept],
        )
        user.groups.add(Group.objects.get(name=role))
        org.users[username] = user
    return org


def confirm_password(client) -> None:
    """Mark the client's session as having re-typed the password just now (core/sudo.py)."""
    from creditfile.core.sudo import CONFIRMED_AT

    session = client.session
    session[CONFIRMED_AT] = timezone.now().timestamp()
    session.save()


class SudoClient(Client):
    """A test client whose every sign-in has also just confirmed the password (sudo mode).

    For tests of what a sensitive screen does once the person is past the password prompt;
    the prompt itself is tested with the plain `client`.
    """

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        confirm_password(self)
