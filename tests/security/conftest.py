"""Fixtures for the security tests: uploads in a temporary folder (fresh throttles for every
test come from tests/conftest.py).

The case process and `open_case` are the suite's, in tests/conftest.py."""

import pytest

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    """Uploaded documents go to a folder of this test only."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT
