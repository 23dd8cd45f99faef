"""Canned replies' placeholders: `{{cooperative}}`, `{{requester}}`, `{{reference}}`.

Plain substitution of known names, never a template language: a canned reply is text written in
the admin and inserted into a reply, so it can name nothing but these three values. Italian
aliases (`{{cooperativa}}`, `{{richiedente}}`, `{{riferimento}}`) mean the same.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
NAMES = {
    "cooperative": "cooperative",
    "cooperativa": "cooperative",
    "requester": "requester",
    "richiedente": "requester",
    "reference": "reference",
    "riferimento": "reference",
}


class UnknownPlaceholder(ValueError):
    def __init__(self, names: list[str]):
        self.names = names
        super().__init__(
            _("Unknown placeholder %(names)s: use {{cooperative}}, {{requester}} or {{reference}}.")
            % {"names": ", ".join("{{" + name + "}}" for name in names)}
        )


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders of `text` that are not one of the known names, in order, once each."""
    unknown: list[str] = []
    for match in PLACEHOLDER.finditer(text or ""):
        name = match.group(1).casefold()
        if name not in NAMES and match.group(1) not in unknown:
            unknown.append(match.group(1))
    return unknown


def fill(text: str, *, cooperative: str, requester: str, reference: str) -> str:
    """`text` with each placeholder replaced by its value; an unknown one raises.

    The result is plain text: the page escapes it like any other text a person typed.
    """
    unknown = unknown_placeholders(text)
    if unknown:
        raise UnknownPlaceholder(unknown)
    values = {"cooperative": cooperative, "requester": requester, "reference": reference}
    return PLACEHOLDER.sub(lambda match: values[NAMES[match.group(1).casefold()]], text)
