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
from django.db.models import Min, OuterRef, Q, QuerySet, Subquery, prefetch_related_objects
from django.utils import timezone

from . import events, notifications
from .models import Deadline, DeadlineReminder, Membership, PracticeArea
from .models.registry import parse_day_list
from .roles import roles_of_all

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
    due: dict[int, int] = {}  # deadline id -> the reminder due (days before)
    for row in _reminder_candidates(schedule, today):
        days_before = due_reminder(
            schedule[row["area_id"]], due_on=row["due_on"], today=today, last=row["last_sent"]
        )
        if days_before is not None:
            due[row["pk"]] = days_before
        if len(due) == BATCH:
            done["reminders"] += _remind_all(due, now=now)
            due = {}
    if due:
        done["reminders"] += _remind_all(due, now=now)
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
    return _cooperative_recipients_of([deadline], besides={deadline.pk: besides})[deadline.pk]


def _cooperative_recipients_of(deadlines, *, besides) -> dict[int, list]:
    """`cooperative_recipients` of each of `deadlines` (`besides`: per deadline id, who already
    hears of it as staff), in four queries for all of them: the cases' participants, the
    cooperatives' legal representatives, the people, and their roles."""
    found: dict[int, list] = {deadline.pk: [] for deadline in deadlines}
    shared = [d for d in deadlines if d.shared and d.case is not None]
    if not shared:
        return found
    cases = {d.case.pk: d.case for d in shared}
    prefetch_related_objects(list(cases.values()), "participant_links")
    legal_reps: dict[int, set[int]] = {}
    for cooperative_id, user_id in Membership.objects.filter(
        cooperative_id__in={case.cooperative_id for case in cases.values()},
        role=Membership.Role.LEGAL_REPRESENTATIVE,
        is_active=True,
    ).values_list("cooperative_id", "user_id"):
        legal_reps.setdefault(cooperative_id, set()).add(user_id)
    wanted = {
        d.pk: (
            {d.case.requester_id}
            | {link.user_id for link in d.case.participant_links.all()}
            | legal_reps.get(d.case.cooperative_id, set())
        )
        - {person.pk for person in besides.get(d.pk, ())}
        - {None}
        for d in shared
    }
    people = (
        get_user_model()
        .objects.filter(pk__in=set().union(*wanted.values()), is_active=True)
        .in_bulk()
    )
    roles_of_all(people.values())
    for d in shared:
        candidates = {people[pk] for pk in wanted[d.pk] if pk in people}
        found[d.pk] = sorted(
            notifications.readers_of(d.case, candidates), key=lambda person: person.pk
        )
    return found


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
def _remind_all(due: dict[int, int], *, now: datetime) -> int:
    """Record and queue the reminders `due` (deadline id -> days before), a batch at once: the
    deadlines under their row locks (those a racing sweep or a person's change holds stay for
    the next sweep), the reminders already sent, then one INSERT each for the reminders, the
    events and the e-mails. A deadline that changed meanwhile, or whose reminder (or a later
    one) went out, is skipped. How many were sent."""
    today = timezone.localdate(now)
    locked = list(
        Deadline.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related(*_RELATED)
        .filter(pk__in=list(due), status=Status.OPEN, case__isnull=False)
        .order_by("pk")
    )
    sent = dict(
        DeadlineReminder.objects.filter(deadline__in=locked)
        .order_by()
        .values("deadline_id")
        .annotate(fewest=Min("days_before"))
        .values_list("deadline_id", "fewest")
    )
    deadlines = [
        deadline
        for deadline in locked
        if 0 <= (deadline.due_on - today).days <= due[deadline.pk]
        and not (deadline.pk in sent and sent[deadline.pk] <= due[deadline.pk])
    ]
    if not deadlines:
        return 0
    DeadlineReminder.objects.bulk_create(
        [DeadlineReminder(deadline=d, days_before=due[d.pk], sent_at=now) for d in deadlines]
    )
    # One object per person, their roles read once for the batch (kept on the object).
    people: dict[int, object] = {}
    staff = {
        deadline.pk: [people.setdefault(p.pk, p) for p in staff_recipients(deadline)]
        for deadline in deadlines
    }
    roles_of_all(people.values())
    cooperative = _cooperative_recipients_of(deadlines, besides=staff)
    reminded, mails = [], []
    for deadline in deadlines:
        days_before, case = due[deadline.pk], deadline.case
        reached = [p for p in (*staff[deadline.pk], *cooperative[deadline.pk]) if p.email]
        reminded.append(
            events.deadline_reminded(
                case, deadline=deadline, days_before=days_before, recipients=len(reached), at=now
            )
        )
        key = f"{deadline.pk}:{deadline.due_on.isoformat()}:{days_before}"
        context = reminder_context(deadline, days_left=(deadline.due_on - today).days)
        mails.append(
            notifications.Mail(
                case=case,
                recipients=staff[deadline.pk],
                kind="deadline_reminder",
                dedupe=f"deadline_reminder:{key}",
                context=context,
            )
        )
        mails.append(
            notifications.Mail(
                case=case,
                recipients=cooperative[deadline.pk],
                kind="deadline_reminder_cooperative",
                dedupe=f"deadline_reminder_cooperative:{key}",
                context=context,
            )
        )
    events.record_all(reminded)
    notifications.notify_all(mails)
    return len(deadlines)


def reminder_context(deadline: Deadline, *, days_left: int) -> dict:
    """What a reminder's e-mail says of its deadline, as the sweep saw it, JSON-safe: the
    outbox writes the e-mail from it when it sends it (`mail.REMINDER_KINDS`)."""
    return {
        "deadline": {
            "title": deadline.title,
            "kind": deadline.kind,
            "note": deadline.note,
            "shared": deadline.shared,
            "due_on": deadline.due_on.isoformat(),
            "trigger_date": deadline.trigger_date.isoformat(),
        },
        "days_left": days_left,
    }


def reminder_template_context(stored: dict) -> dict:
    """The templates' context of a reminder's e-mail from its row's `reminder_context`."""
    words = stored["deadline"]
    deadline = Deadline(
        title=words["title"],
        kind=words["kind"],
        note=words["note"],
        shared=words["shared"],
        due_on=date.fromisoformat(words["due_on"]),
        trigger_date=date.fromisoformat(words["trigger_date"]),
    )
    return {"deadline": deadline, "days_left": stored["days_left"]}


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
