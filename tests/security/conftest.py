"""Fixtures for the security tests: fresh throttles, uploads in a temporary folder.

The case process and `open_case` are the suite's, in tests/conftest.py."""

import pytest
from django.core.cache import cache

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def fresh_throttles():
    """DRF's sign-in throttle counts in the cache: each test starts and ends with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    """Uploaded documents go to a folder of this test only."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT
