"""Shared test set-up: a throwaway data folder, fixed users per role, a frozen-clock helper."""

import os
import tempfile

os.environ.setdefault("CREDITFILE_DATA_DIR", tempfile.mkdtemp(prefix="creditfile-test-"))
os.environ.setdefault("CREDITFILE_TESTING", "1")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    """Uploaded files of a test go to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def org(db):
    """The fixed organisation of the tests: see creditfile/core/testing.py."""
    from creditfile.core.testing import build_org

    return build_org()
