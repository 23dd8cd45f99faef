"""E-mails about cases, written to the outbox in the recipient's language and sent after commit."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from .models import Case, Notification, UserProfile


def language_of(user) -> str:
    language = (
        UserProfile.objects.filter(user=user).values_list("language", flat=True).first()
        if user is not None
        else None
    )
    return language or settings.LANGUAGE_CODE


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


def notify(*, case: Case, recipients, kind: str, dedupe: str, context: dict | None = None) -> None:
    """Queue one e-mail per recipient; a dedupe key already used means it was queued before.

    The template `emails/<kind>.txt` starts with the subject line; it is rendered in the
    recipient's language. Internal notes are never passed to templates meant for cooperatives.
    """
    rows = []
    for user in {u for u in recipients if u is not None and u.email}:
        subject, body = render(kind=kind, case=case, user=user, context=context)
        rows.append(
            Notification(
                case=case,
                recipient=user,
                email=user.email,
                kind=kind,
                subject=subject,
                body=body,
                dedupe_key=f"{dedupe}:{user.pk}"[:200],
            )
        )
    # One INSERT for every recipient; a key already used is skipped by the database, without a
    # savepoint per row.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        transaction.on_commit(_deliver_soon)


def _deliver_soon() -> None:
    # By name: the domain does not import the workflow layer that owns the Celery tasks.
    from casework.celery import app

    try:
        app.signature("workflows.tasks.deliver_notifications").delay()
    except Exception:  # noqa: BLE001 - the periodic delivery picks the rows up if the broker is down
        pass
