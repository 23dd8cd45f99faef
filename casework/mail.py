"""An e-mail's words for one reader: `emails/<kind>.txt` rendered in that person's language."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from .models import Case, UserProfile


def language_of(user) -> str:
    return languages_of([user])[user.pk] if user is not None else settings.LANGUAGE_CODE


def languages_of(users) -> dict[int, str]:
    """Each user's interface language (the site's default when they chose none), one query."""
    ids = {user.pk for user in users if user is not None}
    chosen = dict(UserProfile.objects.filter(user_id__in=ids).values_list("user_id", "language"))
    return {pk: chosen.get(pk) or settings.LANGUAGE_CODE for pk in ids}


def render(*, kind: str, case: Case, user, context: dict | None = None, language=None):
    """Subject and text of `emails/<kind>.txt` (its first line is the subject) for one reader."""
    with translation.override(language or language_of(user)):
        text = render_to_string(
            f"emails/{kind}.txt",
            {
                "case": case,
                "user": user,
                "base_url": settings.SPORTELLO_BASE_URL,
                **(context or {}),
            },
        ).strip()
    subject, _sep, body = text.partition("\n")
    return subject.strip()[:250], body.strip()
