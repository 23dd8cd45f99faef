"""Previews of a case's images and PDFs on the workspace's case page, served behind its check."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from casework.models import Attachment
from workflows import process

from .composing import pdf, png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def preview_uploads(settings, tmp_path):
    """Uploads go to a temporary directory, never to the developer's var/uploads."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT


def _document_url(case, document, *, inline=False) -> str:
    url = reverse("work:attachment", args=[case.pk, document.pk])
    return f"{url}?inline=1" if inline else url


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _stored_as(case, user, *, name: str, content_type: str, content: bytes) -> Attachment:
    """A document row of a type the upload check never stores (an SVG, HTML): as an old import
    or an admin could have left one."""
    document = Attachment(
        case=case,
        uploaded_by=user,
        original_name=name,
        content_type=content_type,
        size=len(content),
        sha256="0" * 64,
    )
    document.file.save(f"stored-{name}", ContentFile(content), save=True)
    return document


def test_an_image_is_shown_on_the_case_page_and_served_inline(client, consultant, assigned_case):
    image = process.case_attach(case=assigned_case, uploaded_by=consultant, file=png("foto.png"))
    client.force_login(consultant)

    page = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()
    response = client.get(_document_url(assigned_case, image, inline=True))

    tag = re.search(r'<img[^>]*alt="foto.png"[^>]*>', page).group(0)
    assert (
        'loading="lazy"' in tag and f'src="{_document_url(assigned_case, image)}?inline=1"' in tag
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert 'filename="foto.png"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert _body(response).startswith(b"\x89PNG")


def test_a_pdf_gets_a_preview_link_that_opens_inline(client, consultant, assigned_case):
    document = process.case_attach(
        case=assigned_case, uploaded_by=consultant, file=pdf("parere.pdf"), internal=True
    )
    client.force_login(consultant)

    page = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()
    response = client.get(_document_url(assigned_case, document, inline=True))

    preview = f'href="{_document_url(assigned_case, document)}?inline=1"'
    assert preview in page and "<img" not in page.split(preview)[1].split("</li>")[0]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_without_inline_a_document_is_still_a_download(client, consultant, assigned_case):
    document = process.case_attach(case=assigned_case, uploaded_by=consultant, file=pdf())
    client.force_login(consultant)

    response = client.get(_document_url(assigned_case, document))

    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("name", "content_type", "content"),
    [
        ("logo.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
        ("pagina.html", "text/html", b"<script>alert(1)</script>"),
        ("note.txt", "text/plain", b"solo testo"),
    ],
)
def test_svg_html_and_other_types_are_never_shown_inline(
    client, consultant, assigned_case, name, content_type, content
):
    document = _stored_as(
        assigned_case, consultant, name=name, content_type=content_type, content=content
    )
    client.force_login(consultant)

    page = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()
    response = client.get(_document_url(assigned_case, document, inline=True))

    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert f'alt="{name}"' not in page
    assert f"{_document_url(assigned_case, document)}?inline=1" not in page


def test_a_consultant_of_another_area_gets_no_preview(
    client, consultant, other_area_consultant, assigned_case
):
    image = process.case_attach(case=assigned_case, uploaded_by=consultant, file=png())
    client.force_login(other_area_consultant)

    response = client.get(_document_url(assigned_case, image, inline=True))

    assert response.status_code == 404
