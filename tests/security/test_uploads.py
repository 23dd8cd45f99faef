"""Uploaded documents live outside the web root and are served only after a permission check."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views import static

from tests.security.conftest import PDF_BYTES
from workflows.process import case_attach

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _is_within(path: Path, folder: Path) -> bool:
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def _patterns(resolvers, prefix=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


@pytest.mark.parametrize("configured", [False, True], ids=["default", "configured"])
def test_media_root_is_outside_every_static_folder(configured, settings_module_media_root):
    media = Path(settings_module_media_root if configured else settings.MEDIA_ROOT)
    web_roots = [Path(settings.STATIC_ROOT), *map(Path, settings.STATICFILES_DIRS)]
    for root in web_roots:
        assert not _is_within(media, root), (media, root)
        assert not _is_within(root, media), (media, root)
    assert not _is_within(media, ROOT / "static")
    assert not _is_within(media, ROOT / "templates")
    assert getattr(settings, "WHITENOISE_ROOT", None) is None


@pytest.fixture
def settings_module_media_root():
    """MEDIA_ROOT as the settings module computes it (the tests move it to a scratch folder)."""
    from casework.config import settings as module

    return module.MEDIA_ROOT


def test_no_url_serves_the_upload_folder():
    for route, pattern in _patterns(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", pattern.callback)
        assert view is not static.serve, route
        document_root = (pattern.default_args or {}).get("document_root")
        assert document_root is None, route


def test_documents_are_served_only_to_who_may_see_the_case(
    uploads, member, other_member, consultant, assigned_case
):
    upload = SimpleUploadedFile("bilancio.pdf", PDF_BYTES, content_type="application/pdf")
    document = case_attach(case=assigned_case, uploaded_by=member, file=upload)
    stored = Path(document.file.path)
    assert _is_within(stored, uploads)
    # The stored name is random and not reachable under /static/.
    assert "bilancio" not in stored.name
    url = reverse("attachment-download", args=[document.pk])

    anonymous = Client().get(url)
    stranger = Client()
    stranger.force_login(other_member)
    owner = Client()
    owner.force_login(member)

    assert anonymous.status_code in (302, 404)
    assert stranger.get(url).status_code == 404
    response = owner.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    # Not under the static files, nor under the media URL, nor at the top.
    for prefix in ("/static/", settings.MEDIA_URL or "/", "/media/", "/uploads/"):
        assert Client().get(f"{prefix.rstrip('/')}/{document.file.name}").status_code == 404
