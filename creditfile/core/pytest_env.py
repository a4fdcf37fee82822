"""Loaded by pytest (`-p` in pyproject) before Django reads its settings.

Tests get a throwaway data folder, so they never touch ./creditfile-data.
"""

import os
import tempfile

os.environ.setdefault("CREDITFILE_DATA_DIR", tempfile.mkdtemp(prefix="creditfile-test-"))
os.environ.setdefault("CREDITFILE_TESTING", "1")
