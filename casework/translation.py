"""The data whose names people read in their own language (django-modeltranslation).

Each registered field gets `<field>_it` and `<field>_en` columns; reading `area.name` gives the
reader's language, or Italian when the English one is empty. Queries that read these names
through a relation (`F("area__name")`) use `casework.i18n.localized`.
"""

from modeltranslation.translator import TranslationOptions, register

from .models import OutcomeCode, PracticeArea, Sector, Specialty


@register(PracticeArea)
class PracticeAreaTranslation(TranslationOptions):
    fields = ("name", "description", "usual_documents")


@register(Specialty)
class SpecialtyTranslation(TranslationOptions):
    fields = ("name",)


@register(OutcomeCode)
class OutcomeCodeTranslation(TranslationOptions):
    fields = ("label",)


@register(Sector)
class SectorTranslation(TranslationOptions):
    fields = ("name",)
