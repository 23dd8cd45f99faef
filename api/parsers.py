"""Request bodies of the API: JSON no deeper than any of its payloads, read without a 500."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No payload of the API nests more than a few levels (an object of lists at most). Python's
# parser gives up with a RecursionError somewhere near 1,000 levels, and data a little shallower
# than that could still exhaust the stack later (validation, the idempotency fingerprint).
MAX_DEPTH = 32


def _depth_exceeds(data, limit: int) -> bool:
    """Whether `data` nests lists and objects more than `limit` deep (walked without recursion)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing too deeply nested documents with a 400 like any bad JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as too_deep:
            raise ParseError(self._too_deep_message()) from too_deep
        if _depth_exceeds(data, MAX_DEPTH):
            raise ParseError(self._too_deep_message())
        return data

    @staticmethod
    def _too_deep_message() -> str:
        return _("JSON parse error: the document nests more than %(depth)d levels deep.") % {
            "depth": MAX_DEPTH
        }
