"""E-mails about cases, written to the outbox in the recipient's language and sent after commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from .models import Case, Notification, UserProfile


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


@dataclass(frozen=True)
class Mail:
    """An e-mail about a case to queue: `emails/<kind>.txt` for each recipient."""

    case: Case
    recipients: Iterable
    kind: str
    dedupe: str
    context: dict | None = None


def notify(*, case: Case, recipients, kind: str, dedupe: str, context: dict | None = None) -> None:
    """Queue one e-mail per recipient; a dedupe key already used means it was queued before.

    The template `emails/<kind>.txt` starts with the subject line; it is rendered in the
    recipient's language. Internal notes are never passed to templates meant for cooperatives.
    """
    notify_all([Mail(case=case, recipients=recipients, kind=kind, dedupe=dedupe, context=context)])


def notify_all(mails: Iterable[Mail]) -> None:
    """Queue the e-mails of one move: the readers' languages in one query, rows in one INSERT."""
    addressed = [
        (mail, {u for u in mail.recipients if u is not None and u.email}) for mail in mails
    ]
    languages = languages_of(user for _mail, users in addressed for user in users)
    rows = []
    for mail, users in addressed:
        for user in users:
            subject, body = render(
                kind=mail.kind,
                case=mail.case,
                user=user,
                context=mail.context,
                language=languages[user.pk],
            )
            rows.append(
                Notification(
                    case=mail.case,
                    recipient=user,
                    email=user.email,
                    kind=mail.kind,
                    subject=subject,
                    body=body,
                    dedupe_key=f"{mail.dedupe}:{user.pk}"[:200],
                )
            )
    if not rows:
        return
    # A key already used is skipped by the database, without a savepoint per row.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(_deliver_soon)


def _deliver_soon() -> None:
    # By name: the domain does not import the workflow layer that owns the Celery tasks.
    from casework.celery import app

    try:
        app.signature("workflows.tasks.deliver_notifications").delay()
    except Exception:  # noqa: BLE001 - the periodic delivery picks the rows up if the broker is down
        pass
