"""Translated data names read through a relation, in the reader's language.

`area.name` on an instance is already in the active language (casework/translation.py); a query
that reads the name of a related row (`values(name=F("area__name"))`) gets the column of the
active language instead, or the Italian one where the English is empty.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import CharField, F, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import get_language


def language() -> str:
    """The active language among the translated ones (Italian outside a request)."""
    code = (get_language() or settings.MODELTRANSLATION_DEFAULT_LANGUAGE).split("-")[0]
    return code if code in settings.MODELTRANSLATION_LANGUAGES else "it"


def localized(path: str):
    """`F(path)` in the active language, falling back to Italian: `localized("area__name")`."""
    default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
    text = CharField()
    italian = Coalesce(
        NullIf(F(f"{path}_{default}"), Value(""), output_field=text), F(path), output_field=text
    )
    current = language()
    if current == default:
        return italian
    return Coalesce(
        NullIf(F(f"{path}_{current}"), Value(""), output_field=text), italian, output_field=text
    )
