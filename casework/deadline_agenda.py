"""Whose deadlines are whose: a person's agenda (the Deadlines page, the calendar feed) and the
dashboard's watch of missed and coming deadlines. Reads only, each scoped to who asks.

A person's agenda is, of the deadlines they may see (`selectors.deadlines_visible_to`): for
staff, those they are responsible for (or, with nobody named, those of the cases they hold) and,
for a supervisor, every deadline of the areas they supervise; for the people of a cooperative,
the shared deadlines of the cases they see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet

from .models import Deadline, PracticeArea
from .roles import roles_of
from .selectors import deadlines_visible_to

Status = Deadline.Status
#: How far the Deadlines page looks ahead, and how far back the calendar feed goes.
HORIZON_DAYS = 30
FEED_PAST_DAYS = 365
#: The dashboard's "coming" deadlines: this many days ahead.
WATCH_DAYS = 7
#: At most this many rows in each list of the page and of the dashboard.
PAGE_ROWS = 200
#: What is further ahead than the horizon: only the nearest, the calendar feed has them all.
FURTHER_ROWS = 20
WATCH_ROWS = 10
_ROW_RELATED = ("case__cooperative", "area", "responsible")


def agenda_of(user) -> QuerySet[Deadline]:
    """The deadlines that are this person's business (see the module's docstring)."""
    roles = roles_of(user)
    visible = deadlines_visible_to(user)
    if roles.supervises_all:
        return visible
    if not roles.is_staff_role:
        return visible
    theirs = Q(responsible_id=roles.user_id) | Q(
        responsible__isnull=True, case__assignee_id=roles.user_id
    )
    if roles.supervised_area_ids:
        theirs |= Q(area_id__in=roles.supervised_area_ids)
    if roles.is_member:
        theirs |= Q(shared=True, case__cooperative_id__in=roles.cooperative_ids)
    return visible.filter(theirs)


def is_overdue(deadline: Deadline, today: date) -> bool:
    """Missed, or open with its day gone by (the sweep marks it missed within minutes)."""
    return deadline.status == Status.MISSED or (
        deadline.status == Status.OPEN and deadline.due_on < today
    )


@dataclass
class Agenda:
    """The Deadlines page: missed, this week (to Sunday), the rest of the next 30 days, then
    what is further ahead (an appeal term of 60 days is there from the day it is added)."""

    today: date
    week_ends: date
    horizon: date
    missed: list[Deadline] = field(default_factory=list)
    this_week: list[Deadline] = field(default_factory=list)
    later: list[Deadline] = field(default_factory=list)
    further: list[Deadline] = field(default_factory=list)
    further_more: bool = False


def agenda(user, *, today: date, area: PracticeArea | None = None) -> Agenda:
    """The person's agenda from `today`, of one area or all: three queries, however many rows."""
    found = Agenda(
        today=today,
        week_ends=today + timedelta(days=6 - today.weekday()),
        horizon=today + timedelta(days=HORIZON_DAYS),
    )
    rows = agenda_of(user).select_related(*_ROW_RELATED)
    if area is not None:
        rows = rows.filter(area=area)
    found.missed = list(
        rows.filter(Q(status=Status.MISSED) | Q(status=Status.OPEN, due_on__lt=today)).order_by(
            "-due_on", "-pk"
        )[:PAGE_ROWS]
    )
    for deadline in rows.filter(
        status=Status.OPEN, due_on__gte=today, due_on__lte=found.horizon
    ).order_by("due_on", "pk")[:PAGE_ROWS]:
        (found.this_week if deadline.due_on <= found.week_ends else found.later).append(deadline)
    further = list(
        rows.filter(status=Status.OPEN, due_on__gt=found.horizon).order_by("due_on", "pk")[
            : FURTHER_ROWS + 1
        ]
    )
    found.further, found.further_more = further[:FURTHER_ROWS], len(further) > FURTHER_ROWS
    return found


@dataclass
class Watch:
    """The dashboard's panel: missed deadlines and those of the coming days, with counts."""

    missed: list[Deadline]
    coming: list[Deadline]
    missed_count: int
    coming_count: int


def deadline_watch(user, *, today: date) -> Watch:
    """Missed and coming deadlines of the person's agenda (a supervisor's: their areas'), the
    most urgent first: three queries."""
    rows = agenda_of(user)
    overdue = Q(status=Status.MISSED) | Q(status=Status.OPEN, due_on__lt=today)
    coming = Q(status=Status.OPEN, due_on__gte=today, due_on__lte=today + timedelta(WATCH_DAYS))
    counts = rows.aggregate(missed=Count("pk", filter=overdue), coming=Count("pk", filter=coming))
    listed = rows.select_related(*_ROW_RELATED)
    return Watch(
        missed=list(listed.filter(overdue).order_by("-due_on", "-pk")[:WATCH_ROWS]),
        coming=list(listed.filter(coming).order_by("due_on", "pk")[:WATCH_ROWS]),
        missed_count=counts["missed"],
        coming_count=counts["coming"],
    )


def feed_deadlines(user, *, today: date) -> QuerySet[Deadline]:
    """What the person's calendar feed lists: their agenda, from a year ago on, every status."""
    return (
        agenda_of(user)
        .filter(due_on__gte=today - timedelta(days=FEED_PAST_DAYS))
        .select_related("case", "case__cooperative")
        .order_by("due_on", "pk")
    )
