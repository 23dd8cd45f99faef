"""The daily digest: one e-mail per person listing the cases with new messages held for them.

A person whose profile says `notify = digest` gets the e-mails about messages as `held` rows
(`casework.notifications`); once a day (beat, 18:00) `send_digests` turns each person's held
rows into one pending e-mail and marks them `digested`.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .mail import new_message_id, preferences_of, render
from .models import Notification

# The e-mails about a message sent to the cooperative's people; the others are for staff.
_FOR_MEMBERS = frozenset({"message_from_staff"})


def send_digests(*, now: datetime | None = None) -> int:
    """Write the digest of every person with held rows; returns how many digests were written.

    Each person's digest is its own short transaction. Exactly once, also when two runs race:
    the person is locked with SKIP LOCKED, so a run never waits for another and skips a person
    another run is writing to, and a committed digest left the rows `digested`.
    """
    now = now or timezone.now()
    people = (
        Notification.objects.filter(status=Notification.Status.HELD)
        .order_by("recipient_id")
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    return sum(_digest_of(person, now=now) for person in list(people))


@transaction.atomic
def _digest_of(person_id: int, *, now: datetime) -> int:
    """One person's digest, in a bounded number of statements however many rows are held.

    The person's row is the lock: locking the held rows themselves would let two runs share
    them out (each skipping the rows the other had locked so far) and send two digests.
    """
    person = (
        get_user_model().objects.select_for_update(skip_locked=True).filter(pk=person_id).first()
    )
    if person is None:
        return 0  # another run is writing this person's digest
    held = list(
        Notification.objects.filter(status=Notification.Status.HELD, recipient_id=person_id)
        .select_related("case")
        .order_by("created_at", "id")
    )
    if not held:
        return 0  # another run has already sent them
    cases = _cases_of(held)
    wanted = person.is_active and bool(person.email) and bool(cases)
    if wanted:
        language, _choice = preferences_of([person])[person.pk]
        day = timezone.localdate(now)
        subject, body = render(
            kind="digest",
            case=None,
            user=person,
            context={"cases": cases, "day": day},
            language=language,
        )
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient=person,
                    email=person.email,
                    kind="digest",
                    subject=subject,
                    body=body,
                    context={"cases": [item["reference"] for item in cases]},
                    # One digest per person and set of rows: the last row's id names the set.
                    dedupe_key=f"digest:{person.pk}:{day.isoformat()}:{held[-1].pk}",
                    header_message_id=new_message_id(None),
                    created_at=now,
                )
            ],
            ignore_conflicts=True,
        )
    # Only the rows this digest lists, and only while still held.
    Notification.objects.filter(
        pk__in=[row.pk for row in held], status=Notification.Status.HELD
    ).update(status=Notification.Status.DIGESTED)
    return int(wanted)


def _cases_of(held: list[Notification]) -> list[dict]:
    """Each case of the held rows once, in the order of its first new message, with a link."""
    cases: dict[int, dict] = {}
    for row in held:
        if row.case is None:
            continue
        item = cases.get(row.case_id)
        if item is None:
            name = "portal-case" if row.kind in _FOR_MEMBERS else "work:case"
            item = cases[row.case_id] = {
                "reference": row.case.reference,
                "subject": row.case.subject,
                "count": 0,
                "path": reverse(name, args=[row.case_id]),
            }
        item["count"] += 1
    return list(cases.values())
