"""How a case's document goes to a browser: as a download, or shown inline for a few safe types.

Only raster images and PDFs are ever shown inline, and only for the type Sportello detected from
the content when the file was stored (`casework.attachments`), never for what a name or a browser
claimed. SVG and HTML can carry script, so they (and every other type) are always a download.
Who may fetch a document is the caller's check (`selectors.attachments_visible_to`), made before.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from .models import Attachment

IMAGE_PREVIEWS = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PDF_PREVIEWS = frozenset({"application/pdf"})

# An image shown on its own gets nothing but itself: no script, no style, a sandboxed origin.
IMAGE_POLICY = "default-src 'none'; img-src 'self'; sandbox"
# A PDF is not sandboxed: Chromium refuses to show a PDF in a sandboxed document (its viewer is
# a plugin, which the sandbox forbids), and a PDF's own scripts run inside the viewer, never in
# our origin. Nothing else may load, and no page may frame it.
PDF_POLICY = (
    "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
)


def preview_kind(content_type: str | None) -> str | None:
    """ "image" or "pdf" when a browser may show the document inline; None: download only."""
    if content_type in IMAGE_PREVIEWS:
        return "image"
    if content_type in PDF_PREVIEWS:
        return "pdf"
    return None


def wants_inline(request) -> bool:
    return request.GET.get("inline") == "1"


def document_response(attachment: Attachment, *, inline: bool = False) -> FileResponse:
    """The file, inline when asked and its type allows it, otherwise as a download; 404 if gone."""
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as missing:
        raise Http404(_("The document is no longer available.")) from missing
    kind = preview_kind(attachment.content_type) if inline else None
    response = FileResponse(
        handle,
        as_attachment=kind is None,
        filename=attachment.original_name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if kind is not None:
        # Set here, so the site-wide policy (which allows our own scripts) is not applied.
        response["Content-Security-Policy"] = IMAGE_POLICY if kind == "image" else PDF_POLICY
    return response
