"""Previews of a case's images and PDFs on the portal, behind the same check as a download."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casework.models import Attachment
from workflows import process

pytestmark = pytest.mark.django_db

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def _inline(document) -> str:
    return reverse("attachment-download", args=[document.pk]) + "?inline=1"


@pytest.fixture
def staff_documents(member_case, consultant, pdf_upload):
    """A public image and PDF the consultant sent, and an internal PDF only staff may see."""
    image = process.case_attach(
        case=member_case,
        uploaded_by=consultant,
        file=SimpleUploadedFile("foto-cantiere.png", PNG_BYTES, content_type="image/png"),
    )
    public_pdf = process.case_attach(
        case=member_case, uploaded_by=consultant, file=pdf_upload("parere.pdf")
    )
    internal_pdf = process.case_attach(
        case=member_case,
        uploaded_by=consultant,
        file=pdf_upload("appunti-interni.pdf"),
        internal=True,
    )
    return {"image": image, "pdf": public_pdf, "internal": internal_pdf}


def test_the_member_sees_the_image_and_a_pdf_preview_on_the_case_page(
    client, member, member_case, staff_documents
):
    client.force_login(member)

    page = client.get(reverse("portal-case", args=[member_case.pk])).content.decode()

    tag = re.search(r'<img[^>]*alt="foto-cantiere.png"[^>]*>', page).group(0)
    assert 'loading="lazy"' in tag and _inline(staff_documents["image"]) in tag
    assert f'href="{_inline(staff_documents["pdf"])}"' in page
    assert "appunti-interni.pdf" not in page
    assert _inline(staff_documents["internal"]) not in page


@pytest.mark.parametrize(
    ("which", "content_type"), [("image", "image/png"), ("pdf", "application/pdf")]
)
def test_a_preview_is_served_inline_with_a_closed_policy(
    client, member, staff_documents, which, content_type
):
    client.force_login(member)

    response = client.get(_inline(staff_documents[which]))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("inline", [True, False])
def test_a_member_never_gets_an_internal_document(client, member, staff_documents, inline):
    client.force_login(member)
    url = reverse("attachment-download", args=[staff_documents["internal"].pk])

    response = client.get(url + ("?inline=1" if inline else ""))

    assert response.status_code == 404


def test_another_cooperatives_member_gets_no_preview(client, other_member, staff_documents):
    client.force_login(other_member)

    for document in staff_documents.values():
        assert client.get(_inline(document)).status_code == 404


def test_an_svg_is_never_shown_inline(client, member, member_case):
    # The upload check stores no SVG (it is not an accepted type); a row with one, as an old
    # import could have left, is still only ever a download.
    document = Attachment(
        case=member_case,
        uploaded_by=member,
        original_name="logo.svg",
        content_type="image/svg+xml",
        size=60,
        sha256="0" * 64,
    )
    document.file.save(
        "logo.svg", ContentFile(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')
    )
    client.force_login(member)

    page = client.get(reverse("portal-case", args=[member_case.pk])).content.decode()
    response = client.get(_inline(document))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert 'alt="logo.svg"' not in page and _inline(document) not in page
