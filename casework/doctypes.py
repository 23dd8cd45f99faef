"""What a document is, read from its first bytes: the base detector of uploads and of mail.

The one home of the types the upload checks know by their magic numbers (PDF, PNG, JPEG, ZIP and
the Office formats inside it, plain text). `casework.inbound.sniff` builds on it with what mail
brings besides (signed envelopes, GIF, programs), and `casework.attachments` decides with that
whether a document may be stored. It sits below both so that neither imports the other's
importer.
"""

from __future__ import annotations

import re
import zipfile

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TEXT = "text/plain"

_OOXML_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def read_all(file) -> bytes:
    """The whole content of an open file (an upload, a BytesIO), its position left at 0."""
    file.seek(0)
    data = b"".join(file.chunks()) if hasattr(file, "chunks") else file.read()
    file.seek(0)
    return data


def _zip_kind(file) -> str | None:
    """A ZIP archive, or one of the Office Open XML documents that are ZIP archives inside."""
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        file.seek(0)
    if "[Content_Types].xml" in names:
        for prefix, kind in _OOXML_PARTS:
            if any(name.startswith(prefix) for name in names):
                return kind
    return ZIP


def _is_plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not _TEXT_CONTROL.search(text)


def detect_content_type(file) -> str | None:
    """The type of a document from its first bytes (and its ZIP directory); None if unknown."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if not head:
        return None
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(file)
    # Plain text has no signature: the whole file must be UTF-8 without binary control bytes.
    # The size was checked before, so reading it all is bounded by ATTACHMENT_MAX_BYTES.
    if _is_plain_text(read_all(file)):
        return TEXT
    return None
