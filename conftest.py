"""Shared test set-up: fixed users per role; the data folder is set in core/pytest_env.py."""

import pytest


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Uploaded files of a test go to its own folder; passwords hash fast.

    Argon2 is deliberately slow; test_auth.py switches it back on to prove it is used.
    """
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db):
    """The fixed organisation of the tests: see creditfile/core/testing.py."""
    from creditfile.core.testing import build_org

    return build_org()


@pytest.fixture
def sudo_client(db):
    """A client that has confirmed the password after each force_login (see core/sudo.py)."""
    from creditfile.core.testing import SudoClient

    return SudoClient()


@pytest.fixture(scope="session", autouse=True)
def _audit_table_flushable():
    """Audit events are append-only by trigger; the runner's flush between transactional
    tests lifts the triggers around its own statements only (see access/testing.py)."""
    from creditfile.access.testing import patch_test_flush

    with pytest.MonkeyPatch.context() as patch:
        patch_test_flush(patch)
        yield
