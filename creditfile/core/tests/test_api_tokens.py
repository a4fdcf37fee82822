"""The API token screen: people create and revoke their own tokens; a key is shown once."""

import re

import pytest
from django.urls import reverse

from creditfile.core.models import ApiToken

URL = "/accounts/api-tokens/"


def _key_in(response) -> str | None:
    match = re.search(r'id="new-api-key">([^<]+)<', response.content.decode())
    return match.group(1) if match else None


def _api_status(client, key) -> int:
    return client.get("/api/v1/customers", headers={"Authorization": f"Bearer {key}"}).status_code


def test_it_is_reachable_by_its_name():
    assert reverse("api_tokens") == URL


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_a_new_key_exactly_once_and_the_key_works(client, org):
    client.force_login(org.alice)

    created = client.post(URL, {"name": "ERP同步"})

    assert created.status_code == 200
    key = _key_in(created)
    assert key and key.startswith("cf_")
    assert "no-store" in created["Cache-Control"]
    token = ApiToken.objects.get(user=org.alice)
    assert token.name == "ERP同步"
    assert key not in (token.prefix, token.key_hash)
    assert token.key_hash == ApiToken.hash_key(key)
    again = client.get(URL)
    assert key not in again.content.decode()
    assert "ERP同步" in again.content.decode()
    client.logout()
    assert _api_status(client, key) == 200


def test_it_refuses_a_token_without_a_name(client, org):
    client.force_login(org.alice)

    response = client.post(URL, {"name": "  "})

    assert response.status_code == 200
    assert _key_in(response) is None
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_it_lists_only_the_users_own_tokens(client, org):
    ApiToken.issue(org.alice, "爱丽丝的令牌")
    ApiToken.issue(org.bob, "鲍勃的令牌")
    client.force_login(org.alice)

    page = client.get(URL).content.decode()

    assert "爱丽丝的令牌" in page
    assert "鲍勃的令牌" not in page


def test_it_revokes_a_token_so_the_api_refuses_it(client, org):
    token, key = ApiToken.issue(org.alice, "旧脚本")
    assert _api_status(client, key) == 200
    client.force_login(org.alice)

    response = client.post(URL, {"revoke": token.pk})

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    client.logout()
    assert _api_status(client, key) == 401


@pytest.mark.parametrize("owner", ["bob", "audrey"])
def test_it_cannot_revoke_someone_elses_token(client, org, owner):
    token, key = ApiToken.issue(getattr(org, owner), "别人的")
    client.force_login(org.alice)

    response = client.post(URL, {"revoke": token.pk})

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    client.logout()
    assert _api_status(client, key) == 200
