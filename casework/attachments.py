"""What an upload is: its type read from its content, its size checked, its name made safe.

The type of a document is decided by its content (magic bytes, `casework.inbound.sniff`), never
by its name or by what the browser claims, so an executable renamed ``.pdf`` is refused. Files
live under MEDIA_ROOT, outside the web root, and are served only through a view that asks
`selectors.attachment_visible_to` first; `services.case_attach` is the one write that stores
them. Every path a document comes in by (portal, API, workspace, e-mail) passes `check_upload`.

A refusal carries a code and its parameters besides its words, so that a document refused while
nobody was there to read the message (an e-mail's attachment) is recorded as code and parameters
and told later in the reader's language (`refusal_text`).
"""

from __future__ import annotations

import os
import re
import unicodedata

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .doctypes import (
    DOCX,
    JPEG,
    PDF,
    PNG,
    PPTX,
    TEXT,
    XLSX,
    ZIP,
    detect_content_type,
    read_all,
)
from .errors import CaseError
from .inbound.sniff import PKCS7, sniff

__all__ = [
    "DOCX",
    "EML",
    "JPEG",
    "PDF",
    "PKCS7",
    "PNG",
    "PPTX",
    "TEXT",
    "XLSX",
    "ZIP",
    "DocumentRefused",
    "EmptyDocument",
    "PayloadTooLarge",
    "UnsupportedType",
    "allowed_type_names",
    "check_upload",
    "detect_content_type",
    "refusal_text",
    "sanitize_filename",
]

# The whole original of an e-mail, kept on its case for the staff only. Never an accepted upload
# type: only intake stores it (`services.case_attach_email`), always internal.
EML = "message/rfc822"

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
    PKCS7: gettext_lazy("Signed document (.p7m)"),
    EML: gettext_lazy("E-mail (.eml)"),
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
    PKCS7: ".p7m",
    EML: ".eml",
}
_UNSAFE_NAME = re.compile(r"[^\w\-. ()\[\]+,]")


class DocumentRefused(CaseError):
    """A document the upload checks refuse: `code` and `params` say why, for `refusal_text`."""

    def __init__(self, message=None, *, code: str | None = None, params: dict | None = None):
        self.params = dict(params or {})
        super().__init__(message or refusal_text(code or self.code, self.params), code=code)


class PayloadTooLarge(DocumentRefused):
    """The document is bigger than ATTACHMENT_MAX_BYTES (the API answers 413)."""

    code = "too_large"
    default_message = gettext_lazy("The document is too large.")


class UnsupportedType(DocumentRefused):
    """The document's content is not one of ATTACHMENT_ALLOWED_TYPES (the API answers 415)."""

    code = "unsupported_type"
    default_message = gettext_lazy("This kind of document is not accepted.")


class EmptyDocument(DocumentRefused):
    code = "empty"
    default_message = gettext_lazy("The document is empty.")


def refusal_text(code: str, params: dict) -> str:
    """Why a document was refused, in the active language, from its code and parameters.

    `params` has the document's `name`; `too_large` also its `size` and the `max` in bytes.
    Any other code (a refusal that is not about the document itself) gets the general words.
    """
    name = params.get("name") or "document"
    if code == PayloadTooLarge.code:
        return _("“%(name)s” is %(size)s: documents may be at most %(max)s.") % {
            "name": name,
            "size": filesizeformat(params.get("size") or 0),
            "max": filesizeformat(params.get("max") or settings.ATTACHMENT_MAX_BYTES),
        }
    if code == EmptyDocument.code:
        return _("“%(name)s” is empty.") % {"name": name}
    if code == UnsupportedType.code:
        return _("“%(name)s” is not an accepted kind of document. Accepted: %(kinds)s.") % {
            "name": name,
            "kinds": ", ".join(allowed_type_names()),
        }
    return _("“%(name)s” could not be stored.") % {"name": name}


def allowed_type_names() -> list[str]:
    return [str(TYPE_NAMES.get(kind, kind)) for kind in settings.ATTACHMENT_ALLOWED_TYPES]


def check_upload(file) -> str:
    """Size and content checks of an upload, before anything is saved; returns its type."""
    name = sanitize_filename(getattr(file, "name", "") or "")
    size = file.size
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise PayloadTooLarge(
            params={"name": name, "size": size, "max": settings.ATTACHMENT_MAX_BYTES}
        )
    if size == 0:
        raise EmptyDocument(params={"name": name})
    # The size is bounded above, so reading the whole content for the detector is too.
    content_type = sniff(read_all(file))
    if content_type not in settings.ATTACHMENT_ALLOWED_TYPES:
        raise UnsupportedType(params={"name": name, "detected": content_type})
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
