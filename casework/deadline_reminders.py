"""Reminders of the deadlines of cases, and deadlines whose day passed: the sweep beat runs.

For each open deadline of a case, a reminder falls due at each of its area's
`deadline_reminder_days` (e.g. 30, 7 and 1) calendar days before `due_on`, in Rome's calendar.
It goes to the deadline's responsible person (the case's assignee when nobody is named) and,
when the deadline is shared, to the cooperative's people who see the case: its requester, its
participants and the cooperative's legal representatives, each only if the visibility rules
(`policy.sees_case`, read by `notifications.readers_of`) show them the case. A deadline whose
day has passed and that is not done becomes `missed`, and its responsible person is told.

`sweep_deadlines` (beat, every 15 minutes) finds the candidates with bounded, indexed queries,
decides each in Python and writes each deadline in a transaction of its own under its row lock,
taken with SKIP LOCKED (as `casework.reminders` does), so two sweeps never wait for each other
nor both send. Each reminder is sent once: a `DeadlineReminder` row per (deadline, days before),
written with its event and its outbox e-mails. A sweep that was down sends only the latest
reminder that fell due meanwhile (the one closest to the date), not the earlier ones at once. A
new date (`services.deadlines.deadline_change`) starts a new series.

A deadline of a recurring obligation whose case is not open yet has no case to write on: it is
marked missed without an event or e-mail, and reminded once its case is open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from . import events, notifications
from .models import Deadline, DeadlineReminder, Membership, PracticeArea
from .models.registry import parse_day_list

log = logging.getLogger(__name__)
Status = Deadline.Status
BATCH = 500
_RELATED = ("case__cooperative", "case__area", "case__assignee", "case__requester", "responsible")


def sweep_deadlines(*, now: datetime | None = None) -> dict[str, int]:
    """Mark the deadlines whose day passed as missed and send the reminders due at `now`; how
    many of each."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    done = {"missed": 0, "reminders": 0}
    for pk in _keyset(Deadline.objects.filter(status=Status.OPEN, due_on__lt=today)):
        if _miss(deadline_id=pk, now=now):
            done["missed"] += 1
    schedule = _area_days()
    for row in _reminder_candidates(schedule, today):
        days_before = due_reminder(
            schedule[row["area_id"]], due_on=row["due_on"], today=today, last=row["last_sent"]
        )
        if days_before is not None and _remind(
            deadline_id=row["pk"], days_before=days_before, now=now
        ):
            done["reminders"] += 1
    return done


def due_reminder(
    schedule: tuple[int, ...], *, due_on: date, today: date, last: int | None
) -> int | None:
    """The reminder (its days before `due_on`) due `today` and not sent yet, if any.

    Of those whose day has come, only the latest (the fewest days before) counts: after a
    sweep was down, one reminder goes out, not each one it missed. `last` is the latest one
    already sent for this date (None: none yet).
    """
    left = (due_on - today).days
    if left < 0:
        return None
    fallen = [days for days in schedule if days >= left]
    if not fallen:
        return None
    latest = min(fallen)
    if last is not None and last <= latest:
        return None
    return latest


# --- What each area asks for, and the candidates ----------------------------------------------


def _area_days() -> dict[int, tuple[int, ...]]:
    """Each area's reminder days (ascending), of the areas that have some."""
    schedule = {}
    for pk, text in PracticeArea.objects.values_list("pk", "deadline_reminder_days"):
        try:
            days = tuple(parse_day_list(text))
        except ValueError:
            # Saved around the admin's validation: no reminders for that area rather than no
            # sweep for every area.
            log.warning("area %s: unreadable deadline_reminder_days %r", pk, text)
            days = ()
        if days:
            schedule[pk] = days
    return schedule


def _keyset(rows: QuerySet) -> Iterator[int]:
    """The ids of `rows` in batches of BATCH by id, each batch one bounded query (a row a
    racing sweep holds stays behind, and the walk still ends)."""
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        yield from batch
        if len(batch) < BATCH:
            return
        last = batch[-1]


def _reminder_candidates(schedule: dict[int, tuple[int, ...]], today: date) -> Iterator[dict]:
    """Open deadlines of cases whose first reminder's day has come, with the latest reminder
    already sent for each (the fewest days before)."""
    if not schedule:
        return
    areas = Q()
    for area_id, days in schedule.items():
        areas |= Q(area_id=area_id, due_on__lte=today + timedelta(days=days[-1]))
    last_sent = (
        DeadlineReminder.objects.filter(deadline_id=OuterRef("pk"))
        .order_by()
        .values("deadline_id")
        .annotate(fewest=Min("days_before"))
        .values("fewest")
    )
    rows = (
        Deadline.objects.filter(areas, status=Status.OPEN, case__isnull=False, due_on__gte=today)
        .annotate(last_sent=Subquery(last_sent))
        .values("pk", "area_id", "due_on", "last_sent")
    )
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk")[:BATCH])
        yield from batch
        if len(batch) < BATCH:
            return
        last = batch[-1]["pk"]


# --- Who hears of a deadline -------------------------------------------------------------------


def staff_recipients(deadline: Deadline) -> list:
    """The responsible person, or the case's assignee when nobody is named (or no longer
    active)."""
    for person in (deadline.responsible, deadline.case.assignee if deadline.case else None):
        if person is not None and person.is_active:
            return [person]
    return []


def cooperative_recipients(deadline: Deadline, *, besides=()) -> list:
    """The people of the cooperative who hear of a shared deadline: the case's requester, its
    participants and the cooperative's legal representatives, each if they see the case."""
    case = deadline.case
    if case is None or not deadline.shared:
        return []
    User = get_user_model()
    legal_reps = Membership.objects.filter(
        cooperative_id=case.cooperative_id,
        role=Membership.Role.LEGAL_REPRESENTATIVE,
        is_active=True,
    ).values("user_id")
    candidates = User.objects.filter(
        Q(pk=case.requester_id) | Q(participations__case=case) | Q(pk__in=legal_reps),
        is_active=True,
    ).exclude(pk__in=[person.pk for person in besides])
    # Whether each sees the case: their roles in one query, the case's participants in one more.
    readers = notifications.readers_of(case, candidates.distinct())
    return sorted(readers, key=lambda person: person.pk)


# --- The writes ----------------------------------------------------------------------------------


def _locked(deadline_id: int, **conditions) -> Deadline | None:
    """The deadline under its row lock, unless a racing sweep or a person's change holds it."""
    return (
        Deadline.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related(*_RELATED)
        .filter(pk=deadline_id, **conditions)
        .first()
    )


@transaction.atomic
def _remind(*, deadline_id: int, days_before: int, now: datetime) -> bool:
    """Record and queue the reminder `days_before` of the deadline, unless a racing sweep holds
    it or sent it (or a later one), or the deadline changed meanwhile."""
    deadline = _locked(deadline_id, status=Status.OPEN, case__isnull=False)
    if deadline is None:
        return False
    today = timezone.localdate(now)
    left = (deadline.due_on - today).days
    if left < 0 or left > days_before:
        return False
    if DeadlineReminder.objects.filter(deadline=deadline, days_before__lte=days_before).exists():
        return False
    DeadlineReminder.objects.create(deadline=deadline, days_before=days_before, sent_at=now)
    case = deadline.case
    staff = staff_recipients(deadline)
    cooperative = cooperative_recipients(deadline, besides=staff)
    reached = [person for person in (*staff, *cooperative) if person.email]
    events.record(
        events.deadline_reminded(
            case, deadline=deadline, days_before=days_before, recipients=len(reached), at=now
        )
    )
    key = f"{deadline.pk}:{deadline.due_on.isoformat()}:{days_before}"
    context = {"deadline": deadline, "days_left": left, "today": today}
    notifications.notify_all(
        [
            notifications.Mail(
                case=case,
                recipients=staff,
                kind="deadline_reminder",
                dedupe=f"deadline_reminder:{key}",
                context=context,
            ),
            notifications.Mail(
                case=case,
                recipients=cooperative,
                kind="deadline_reminder_cooperative",
                dedupe=f"deadline_reminder_cooperative:{key}",
                context=context,
            ),
        ]
    )
    return True


@transaction.atomic
def _miss(*, deadline_id: int, now: datetime) -> bool:
    """Mark the deadline missed, with its event and the e-mail to its responsible person,
    unless a racing sweep or a change holds it, or it was done or moved meanwhile."""
    deadline = _locked(deadline_id, status=Status.OPEN, due_on__lt=timezone.localdate(now))
    if deadline is None:
        return False
    deadline.status, deadline.missed_at = Status.MISSED, now
    deadline.save()
    case = deadline.case
    if case is None:
        return True
    events.record(events.deadline_missed(case, deadline=deadline, at=now))
    notifications.notify(
        case=case,
        recipients=staff_recipients(deadline),
        kind="deadline_missed",
        dedupe=f"deadline_missed:{deadline.pk}:{deadline.due_on.isoformat()}",
        context={"deadline": deadline},
    )
    return True
