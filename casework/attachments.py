"""What an upload is: its type read from its content, its size checked, its name made safe.

The type of a document is decided by its content (magic bytes), never by its name or by what the
browser claims, so an executable renamed ``.pdf`` is refused. Files live under MEDIA_ROOT, outside
the web root, and are served only through a view that asks `selectors.attachment_visible_to`
first; `services.case_attach` is the one write that stores them.
"""

from __future__ import annotations

import os
import re
import unicodedata
import zipfile

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import CaseError


class PayloadTooLarge(CaseError):
    """The document is bigger than ATTACHMENT_MAX_BYTES (the API answers 413)."""

    code = "too_large"
    default_message = gettext_lazy("The document is too large.")


class UnsupportedType(CaseError):
    """The document's content is not one of ATTACHMENT_ALLOWED_TYPES (the API answers 415)."""

    code = "unsupported_type"
    default_message = gettext_lazy("This kind of document is not accepted.")


PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TEXT = "text/plain"

# What people call each type in a message; the MIME type means nothing to a cooperative.
TYPE_NAMES = {
    PDF: "PDF",
    PNG: "PNG",
    JPEG: "JPEG",
    ZIP: "ZIP",
    DOCX: "Word (.docx)",
    XLSX: "Excel (.xlsx)",
    PPTX: "PowerPoint (.pptx)",
    TEXT: gettext_lazy("plain text"),
}
# The extension a stored file gets from its detected type (the original name is kept apart).
TYPE_EXTENSIONS = {
    PDF: ".pdf",
    PNG: ".png",
    JPEG: ".jpg",
    ZIP: ".zip",
    DOCX: ".docx",
    XLSX: ".xlsx",
    PPTX: ".pptx",
    TEXT: ".txt",
}
_OOXML_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r"[^\w\-. ()\[\]+,]")


def _read_all(file) -> bytes:
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
    if _is_plain_text(_read_all(file)):
        return TEXT
    return None


def allowed_type_names() -> list[str]:
    return [str(TYPE_NAMES.get(kind, kind)) for kind in settings.ATTACHMENT_ALLOWED_TYPES]


def check_upload(file) -> str:
    """Size and content checks of an upload, before anything is saved; returns its type."""
    name = sanitize_filename(getattr(file, "name", "") or "")
    size = file.size
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise PayloadTooLarge(
            _("“%(name)s” is %(size)s: documents may be at most %(max)s.")
            % {
                "name": name,
                "size": filesizeformat(size),
                "max": filesizeformat(settings.ATTACHMENT_MAX_BYTES),
            }
        )
    if size == 0:
        raise CaseError(_("“%(name)s” is empty.") % {"name": name}, code="empty")
    content_type = detect_content_type(file)
    if content_type is None or content_type not in settings.ATTACHMENT_ALLOWED_TYPES:
        raise UnsupportedType(
            _("“%(name)s” is not an accepted kind of document. Accepted: %(kinds)s.")
            % {"name": name, "kinds": ", ".join(allowed_type_names())}
        )
    return content_type


def sanitize_filename(name: str) -> str:
    """A file name safe to show and to send back in a header: no path, no control characters."""
    name = unicodedata.normalize("NFC", str(name))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    name = re.sub(r"_+", "_", name)
    if not name:
        return "document"
    stem, ext = os.path.splitext(name)
    if len(name) > 200:
        name = stem[: 200 - len(ext[:20])] + ext[:20]
    return name
