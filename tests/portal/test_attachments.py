"""case_attach: who may upload, size and type decided by content, rows, files and events."""

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from casework.attachments import (
    PayloadTooLarge,
    UnsupportedType,
    detect_content_type,
    sanitize_filename,
)
from casework.errors import CaseError, ConflictError, ForbiddenError
from casework.models import Attachment, Case, CaseEvent
from tests.portal.conftest import EXE_BYTES, PDF_BYTES
from workflows.process import case_attach

pytestmark = pytest.mark.django_db


def _zip(names) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF_BYTES, "application/pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        (_zip(["a.txt"]), "application/zip"),
        (
            _zip(["[Content_Types].xml", "word/document.xml"]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            _zip(["[Content_Types].xml", "xl/workbook.xml"]),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("Verbale dell'assemblea: è tutto a posto.\n".encode(), "text/plain"),
        (EXE_BYTES, None),
        (b"PK\x03\x04 not really a zip", None),
        (b"\x00\x01\x02binary", None),
        ("testo".encode("latin-1") + b"\xe8", None),
    ],
    ids=["pdf", "png", "jpeg", "zip", "docx", "xlsx", "text", "exe", "broken-zip", "bin", "latin1"],
)
def test_type_comes_from_the_content(content, expected):
    assert detect_content_type(io.BytesIO(content)) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\socio\\bilancio 2024.pdf", "bilancio 2024.pdf"),
        ("re\u0301sume\u0301.pdf", "résumé.pdf"),
        ("a\x00b<script>.pdf", "ab_script_.pdf"),
        ("...", "document"),
        ("", "document"),
    ],
)
def test_file_names_are_sanitised(name, expected):
    assert sanitize_filename(name) == expected


def test_attachment_is_stored_with_its_digest_and_an_event(member_case, member, media_root):
    attachment = case_attach(
        case=member_case, uploaded_by=member, file=SimpleUploadedFile("../statuto.pdf", PDF_BYTES)
    )
    assert attachment.original_name == "statuto.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF_BYTES)
    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert not attachment.internal
    stored = media_root / attachment.file.name
    assert stored.read_bytes() == PDF_BYTES
    assert "statuto" not in attachment.file.name  # the stored name is random
    event = CaseEvent.objects.get(case=member_case, kind="attachment_added")
    assert event.actor == member and event.after["attachment"] == attachment.pk


@pytest.mark.parametrize(
    ("content", "error", "code"),
    [
        (EXE_BYTES, UnsupportedType, "unsupported_type"),
        (PDF_BYTES + b"x" * 2000, PayloadTooLarge, "too_large"),
        (b"", CaseError, "empty"),
    ],
)
def test_refused_uploads_save_nothing(
    member_case, member, settings, media_root, content, error, code
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(error) as refused:
        case_attach(case=member_case, uploaded_by=member, file=SimpleUploadedFile("x.pdf", content))
    assert refused.value.code == code
    assert not Attachment.objects.exists()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_a_type_not_allowed_by_settings_is_refused(member_case, member, settings):
    settings.ATTACHMENT_ALLOWED_TYPES = ["application/pdf"]
    with pytest.raises(UnsupportedType):
        case_attach(
            case=member_case, uploaded_by=member, file=SimpleUploadedFile("a.txt", b"ciao\n")
        )


def test_only_the_cooperative_and_the_areas_staff_may_attach(
    member_case, other_member, member, consultant
):
    with pytest.raises(ForbiddenError):
        case_attach(
            case=member_case, uploaded_by=other_member, file=SimpleUploadedFile("a.pdf", PDF_BYTES)
        )
    with pytest.raises(ForbiddenError):
        case_attach(
            case=member_case,
            uploaded_by=member,
            file=SimpleUploadedFile("a.pdf", PDF_BYTES),
            internal=True,
        )
    note = case_attach(
        case=member_case,
        uploaded_by=consultant,
        file=SimpleUploadedFile("a.pdf", PDF_BYTES),
        internal=True,
    )
    assert note.internal


def test_no_documents_on_a_finished_case(member_case, member):
    Case.objects.filter(pk=member_case.pk).update(status="cancelled")
    with pytest.raises(ConflictError):
        case_attach(
            case=member_case, uploaded_by=member, file=SimpleUploadedFile("a.pdf", PDF_BYTES)
        )
