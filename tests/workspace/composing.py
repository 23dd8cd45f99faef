"""What the composer tests share: posting the case page's composer as a person would, and files."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

# The smallest files the upload check takes for a PDF and a PNG (it reads the content).
PDF_BYTES = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def pdf(name="parere.pdf", content=PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png(name="scansione.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def exe(name="virus.pdf.exe") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, EXE_BYTES, content_type="application/pdf")


def compose(client, user, case, *, url=None, **fields):
    """POST the composer of `case` as `user` (fields without their `composer-` prefix)."""
    client.force_login(user)
    data = {f"composer-{name}": value for name, value in fields.items()}
    return client.post(url or reverse("work:compose", args=[case.pk]), data)
