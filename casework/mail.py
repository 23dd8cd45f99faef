"""An e-mail's words for one reader (`emails/<kind>.txt` in their language) and its thread ids."""

from __future__ import annotations

import uuid
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.template.loader import render_to_string
from django.utils import translation

from .models import Case, Notification, UserProfile

# The e-mails about one message of the conversation: a person who chose the daily digest gets
# them in it (held rows), and their text is written at delivery, so that the documents attached
# to the message in the same transaction are listed. Every other kind (status changes, requests
# for information, resolutions, SLA alerts) is sent at once, whatever the person chose.
MESSAGE_KINDS = frozenset({"message_from_staff", "message_from_cooperative", "mention"})
# A deadline's reminders: written at delivery too, from what the sweep saw of the deadline (the
# row's `context`, `casework.deadline_reminders.reminder_context`): a sweep that reminds of
# two thousand deadlines renders none of their e-mails while it holds their rows' locks.
REMINDER_KINDS = frozenset({"deadline_reminder", "deadline_reminder_cooperative"})
# Every kind whose subject and body the outbox writes when it sends the e-mail.
WRITTEN_AT_DELIVERY = MESSAGE_KINDS | REMINDER_KINDS
# The e-mails that carry a single-use secret (an invitation's link, a password reset's): the
# outbox forgets their text once the mail server took it, so the database keeps no working link
# (an invitation stores only its link's SHA-256; `casework.services.invitations`).
SECRET_KINDS = frozenset({"invitation", "password_reset"})


def language_of(user) -> str:
    return languages_of([user])[user.pk] if user is not None else settings.LANGUAGE_CODE


def languages_of(users) -> dict[int, str]:
    """Each user's interface language (the site's default when they chose none), one query."""
    return {pk: language for pk, (language, _notify) in preferences_of(users).items()}


def preferences_of(users) -> dict[int, tuple[str, str]]:
    """Each user's (language, notify) for e-mails, one query; the defaults without a profile."""
    ids = {user.pk for user in users if user is not None}
    chosen = {
        pk: (language, notify)
        for pk, language, notify in UserProfile.objects.filter(user_id__in=ids).values_list(
            "user_id", "language", "notify"
        )
    }
    default = (settings.LANGUAGE_CODE, UserProfile.Notify.EACH)
    return {
        pk: (chosen[pk][0] or default[0], chosen[pk][1] or default[1]) if pk in chosen else default
        for pk in ids
    }


def render(*, kind: str, case: Case | None, user, context: dict | None = None, language=None):
    """Subject and text of `emails/<kind>.txt` (its first line is the subject) for one reader."""
    with translation.override(language or language_of(user)):
        text = render_to_string(
            f"emails/{kind}.txt",
            {
                "case": case,
                "user": user,
                "base_url": settings.SPORTELLO_BASE_URL.rstrip("/"),
                **(context or {}),
            },
        ).strip()
    subject, _sep, body = text.partition("\n")
    return subject.strip()[:250], body.strip()


# --- Threading ---------------------------------------------------------------------------------
# Every e-mail has a Message-ID of its own, In-Reply-To the previous e-mail of the case to the
# same person, and References the case's root id and that previous one, so that a mail program
# shows a case as one conversation; a reply by mail (issue 15) finds its case by these ids. They
# are stored without angle brackets.


def id_domain() -> str:
    """The right-hand side of Sportello's Message-IDs: the sender's domain, else the site's."""
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return sender or urlsplit(settings.SPORTELLO_BASE_URL).hostname or "localhost"


def new_message_id(case: Case | None) -> str:
    """A fresh Message-ID (no brackets) carrying the case's reference."""
    tail = f".{case.reference}" if case is not None and case.reference else ""
    return f"{uuid.uuid4().hex}{tail}@{id_domain()}"


def delivery_message_id(notification_pk: int) -> str:
    """The Message-ID of a row queued without one (the SLA watch's): stable over retries."""
    return f"notification.{notification_pk}@{id_domain()}"


def case_thread_id(case: Case) -> str:
    """The case's root id, first in every References header of its e-mails (no brackets)."""
    return f"case.{case.reference}@{id_domain()}"


def latest_message_ids(threads: set[tuple[int, int]], *, statuses) -> dict[tuple[int, int], str]:
    """The Message-ID of the latest e-mail in `statuses` of each (case, person), one query.

    A window ranks each pair's rows (PostgreSQL and the embedded SQLite alike), so only one row
    per pair comes back however many e-mails the case had.
    """
    if not threads:
        return {}
    latest = (
        Notification.objects.filter(
            case_id__in={case for case, _user in threads},
            recipient_id__in={user for _case, user in threads},
            status__in=statuses,
        )
        .exclude(header_message_id="")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("case_id"), F("recipient_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
        .values_list("case_id", "recipient_id", "header_message_id")
    )
    return {(case, user): header for case, user, header in latest if (case, user) in threads}
