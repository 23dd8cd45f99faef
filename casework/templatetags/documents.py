"""Template filter of the case pages: whether a document can be previewed, and how."""

from django import template

from casework.downloads import preview_kind as _preview_kind

register = template.Library()


@register.filter
def preview_kind(attachment) -> str:
    """ "image", "pdf" or "" for a document (an Attachment), from its detected type."""
    return _preview_kind(getattr(attachment, "content_type", None)) or ""
