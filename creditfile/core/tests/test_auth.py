"""Signing in: argon2 hashes, throttling, password change, nothing visible when signed out."""

import pytest
from django.conf import settings as live_settings
from django.urls import reverse

from creditfile.core.testing import PASSWORD


def test_it_hashes_passwords_with_argon2_in_production_settings(settings, org):
    from importlib import reload

    import creditfile.settings as production

    reload(production)
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    org.alice.set_password("another-long-password-1")
    org.alice.save()
    assert org.alice.password.startswith("argon2$")


@pytest.mark.parametrize("path", ["/", "/customers/", "/admin/"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/") or "login" in response["Location"]


def test_it_signs_in_and_out(client, org):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("customers:list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("customers:list")).status_code == 302


def test_it_locks_out_after_repeated_failures(client, org):
    for _ in range(live_settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"), {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.9"
        )
    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_it_changes_a_password(client, org):
    client.force_login(org.alice)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Xin-Mima-2026-long",
            "new_password2": "Xin-Mima-2026-long",
        },
    )
    assert response.status_code == 302
    org.alice.refresh_from_db()
    assert org.alice.check_password("Xin-Mima-2026-long")
