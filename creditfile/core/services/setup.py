"""What a fresh installation needs before a person can sign in."""

import secrets

from django.db import transaction


def needs_demo_data() -> bool:
    from creditfile.customers.models import Customer

    return not Customer.objects.exists()


@transaction.atomic
def ensure_administrator(username: str = "admin") -> str | None:
    """Create the first administrator if no superuser exists; return its password once."""
    from django.contrib.auth.models import Group

    from creditfile.core import roles
    from creditfile.core.models import User

    if User.objects.filter(is_superuser=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    user = User.objects.filter(username=username).first() or User(username=username)
    user.full_name = user.full_name or "系统管理员"
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    return password
