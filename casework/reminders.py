"""Reminders to the cooperative: while a case waits on its answer, and before it closes by itself.

When they fall due, on the office calendar of the case's cooperative:
- reminder n (of the area's `waiting_reminders`, e.g. 3 and 7) when the office opens on the
  n-th business day after the day the case started waiting (its open `info_requested` pause,
  or its open `estimate` pause: an estimate of work beyond the plan still to be answered);
- the warning when the office opens on the `auto_close_warning_days`-th business day before the
  day the resolved case closes by itself (`Case.confirmation_due_at`, the end of a business
  day); none when that day is not after the resolution (the resolution's e-mail said it).

`send_due_reminders` (beat, every 10 minutes) finds the candidates with two bounded, indexed
queries, decides each case exactly in Python (no query per case that is not due), and sends
what is due, each case in a transaction of its own under its row lock, taken with SKIP LOCKED
so that two sweeps never wait for each other nor both send: the second one re-reads what the
first recorded. Each reminder is an event and an outbox row with a dedupe key, written together.

A sweep that was down sends each case only the latest reminder that fell due meanwhile (one
e-mail saying that the case still waits, not two at once). An answer ends the pause and with it
the series; a new request for information opens a new pause, and a new series.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import events, notifications
from .hours import pending_estimate
from .models import Case, CaseEvent, CaseStatus, Message, PracticeArea, SlaPause
from .models.registry import parse_day_list
from .sla import clocks
from .sla.business_time import BusinessCalendar, business_day_opening

log = logging.getLogger(__name__)
Kind = CaseEvent.Kind
#: The events of this module: e-mails to the cooperative, so its members see them on the case.
KINDS = (Kind.WAITING_REMINDED, Kind.AUTO_CLOSE_WARNED)
BATCH = 500
# The waits on the cooperative that it is reminded of: a question, and an estimate to answer.
WAITING_REASONS = (SlaPause.Reason.INFO_REQUESTED, SlaPause.Reason.ESTIMATE)
# A warning falls at least its business days before the closing, and business days are never
# fewer than calendar days; this much more covers the holidays and closures in between (the
# office's August weeks). A closing further away than that is looked at once it comes closer,
# and warned then.
WARNING_LOOKAHEAD = timedelta(days=31)


def send_due_reminders(*, now: datetime | None = None) -> dict[str, int]:
    """Send the reminders and warnings due at `now`; how many of each were sent."""
    now = now or timezone.now()
    reminders, warning_days = _area_settings()
    calendars = _Calendars()
    sent = {"waiting_reminders": 0, "auto_close_warnings": 0}
    for pause in _waiting_candidates(reminders, now):
        try:
            reminder = _due_reminder(
                calendars[pause["case__cooperative__office_id"]],
                started_at=pause["started_at"],
                reminders=reminders[pause["case__area_id"]],
                last_sent=pause["last_sent"],
                now=now,
            )
        except ValueError:
            # An office calendar without business days (being edited): its cases wait for the
            # next sweep, the other offices' go out now.
            log.exception("case %s: no business days to count reminders on", pause["case_id"])
            continue
        if reminder is not None and _remind(
            case_id=pause["case_id"], pause_id=pause["pk"], reminder=reminder, now=now
        ):
            sent["waiting_reminders"] += 1
    for case in _warning_candidates(warning_days, now):
        try:
            due = _warning_due(
                calendars[case["cooperative__office_id"]],
                closes_at=case["confirmation_due_at"],
                resolved_at=case["resolved_at"],
                days=warning_days[case["area_id"]],
                now=now,
            )
        except ValueError:
            log.exception("case %s: no business days to count the warning on", case["pk"])
            continue
        if due and _warn(case_id=case["pk"], resolved_at=case["resolved_at"], now=now):
            sent["auto_close_warnings"] += 1
    return sent


# --- What each area asks for ------------------------------------------------------------------


def _area_settings() -> tuple[dict[int, tuple[int, ...]], dict[int, int]]:
    """Each area's reminder days (ascending) and warning days, of the areas that have some."""
    reminders, warning_days = {}, {}
    for pk, text, warning in PracticeArea.objects.values_list(
        "pk", "waiting_reminder_days", "auto_close_warning_days"
    ):
        try:
            days = tuple(parse_day_list(text))
        except ValueError:
            # Saved around the admin's validation (a shell, a fixture): no reminders for that
            # area rather than no sweep for every area.
            log.warning("area %s: unreadable waiting_reminder_days %r", pk, text)
            days = ()
        if days:
            reminders[pk] = days
        if warning:
            warning_days[pk] = warning
    return reminders, warning_days


class _Calendars(dict):
    """The office calendars one sweep needs, each read once (`clocks.calendar_for_office`)."""

    def __missing__(self, office_id: int) -> BusinessCalendar:
        calendar = self[office_id] = clocks.calendar_for_office(office_id)
        return calendar


def _keyset(rows: QuerySet, *fields: str) -> Iterator[dict]:
    """`rows` in batches of BATCH, ordered by `fields` then pk, each batch one bounded query."""
    after = Q()
    while True:
        batch = list(rows.filter(after).order_by(*fields, "pk")[:BATCH])
        yield from batch
        if len(batch) < BATCH:
            return
        last = batch[-1]
        after = Q()
        for index, field in enumerate((*fields, "pk")):
            same = {f: last[f] for f in (*fields, "pk")[:index]}
            after |= Q(**same, **{f"{field}__gt": last[field]})


# --- While a case waits on the cooperative -----------------------------------------------------


def _waiting_candidates(reminders: dict[int, tuple[int, ...]], now: datetime) -> Iterator[dict]:
    """Open requests for information that may have a reminder due: old enough for the area's
    first one, its last one not yet sent, to a requester who can get it."""
    if not reminders:
        return iter(())
    # The n-th business day after the question's day opens at the earliest at its midnight:
    # more than n - 1 days after the question (an hour less across a change of clocks).
    areas = Q()
    for area_id, days in reminders.items():
        areas |= Q(
            case__area_id=area_id,
            started_at__lt=now - (timedelta(days=days[0] - 1) - timedelta(hours=1)),
        ) & Q(last_sent__lt=days[-1])
    pauses = (
        SlaPause.objects.filter(
            reason__in=WAITING_REASONS,
            ended_at__isnull=True,
            case__status=CaseStatus.WAITING,
            case__requester__is_active=True,
            case__requester__email__gt="",
        )
        .annotate(last_sent=Coalesce(Subquery(_last_reminder_sent()), 0))
        .filter(areas)
        .values(
            "pk",
            "case_id",
            "started_at",
            "last_sent",
            "case__area_id",
            "case__cooperative__office_id",
        )
    )
    return _keyset(pauses, "started_at")


def _last_reminder_sent() -> QuerySet:
    """The highest reminder recorded since the pause (an OuterRef) began: this series' last
    (none: 0)."""
    return (
        CaseEvent.objects.filter(
            case_id=OuterRef("case_id"),
            kind=Kind.WAITING_REMINDED,
            created_at__gte=OuterRef("started_at"),
        )
        .annotate(reminder=Cast(KT("after__reminder"), IntegerField()))
        .order_by(F("reminder").desc(nulls_last=True))
        .values("reminder")[:1]
    )


def _due_reminder(
    calendar: BusinessCalendar,
    *,
    started_at: datetime,
    reminders: tuple[int, ...],
    last_sent: int,
    now: datetime,
) -> int | None:
    """The latest reminder due at `now` and not sent yet, if any (the earlier ones are moot)."""
    for days in reversed(reminders):
        if days <= last_sent:
            return None
        if business_day_opening(calendar, started_at, days) <= now:
            return days
    return None


@transaction.atomic
def _remind(*, case_id: int, pause_id: int, reminder: int, now: datetime) -> bool:
    """Record and queue reminder `reminder` of the pause, unless a racing sweep holds the case
    or already did it, or the wait ended meanwhile."""
    case = (
        Case.objects.select_for_update(skip_locked=True)
        .filter(pk=case_id, status=CaseStatus.WAITING)
        .first()
    )
    if case is None:
        return False
    pause = SlaPause.objects.filter(
        pk=pause_id, case=case, reason__in=WAITING_REASONS, ended_at__isnull=True
    ).first()
    if pause is None:
        return False
    sent = (
        CaseEvent.objects.filter(case=case, kind=Kind.WAITING_REMINDED)
        .filter(created_at__gte=pause.started_at)
        .values_list("after", flat=True)
    )
    if any((after or {}).get("reminder", 0) >= reminder for after in sent):
        return False
    requester = case.requester
    if requester is None or not requester.is_active or not requester.email:
        return False
    events.record(
        events.waiting_reminded(case, reminder=reminder, waiting_since=pause.started_at, at=now)
    )
    context = {"waiting_since": pause.started_at, "reminder": reminder}
    if pause.reason == SlaPause.Reason.ESTIMATE:
        # What the cooperative is asked to accept: the estimate, not a question.
        kind = "estimate_reminder"
        context["estimate"] = pending_estimate(case)
    else:
        kind = "waiting_reminder"
        # The question is the public message that started the wait; internal notes never go out.
        context["question"] = (
            Message.objects.filter(case=case, internal=False, created_at__lte=pause.started_at)
            .order_by("-created_at", "-id")
            .values_list("body", flat=True)
            .first()
        ) or ""
    notifications.notify(
        case=case,
        recipients=[requester],
        kind=kind,
        dedupe=f"waiting_reminder:{case.pk}:{pause.pk}:{reminder}",
        context=context,
    )
    return True


# --- Before a resolved case closes by itself ---------------------------------------------------


def _warning_candidates(warning_days: dict[int, int], now: datetime) -> Iterator[dict]:
    """Resolved cases closing soon enough for a warning, not yet warned since their resolution."""
    if not warning_days:
        return iter(())
    areas = Q()
    for area_id, days in warning_days.items():
        areas |= Q(
            area_id=area_id,
            confirmation_due_at__lte=now + timedelta(days=days) + WARNING_LOOKAHEAD,
        )
    warned = CaseEvent.objects.filter(
        case_id=OuterRef("pk"),
        kind=Kind.AUTO_CLOSE_WARNED,
        created_at__gte=OuterRef("resolved_at"),
    )
    cases = (
        Case.objects.filter(
            areas,
            status=CaseStatus.RESOLVED,
            confirmation_due_at__gt=now,
            resolved_at__isnull=False,
            requester__is_active=True,
            requester__email__gt="",
        )
        .exclude(Exists(warned))
        .values("pk", "area_id", "cooperative__office_id", "resolved_at", "confirmation_due_at")
    )
    return _keyset(cases, "confirmation_due_at")


def _warning_due(
    calendar: BusinessCalendar,
    *,
    closes_at: datetime,
    resolved_at: datetime,
    days: int,
    now: datetime,
) -> bool:
    warn_at = business_day_opening(calendar, closes_at, -days)
    return resolved_at < warn_at <= now < closes_at


@transaction.atomic
def _warn(*, case_id: int, resolved_at: datetime, now: datetime) -> bool:
    """Record and queue the warning of this resolution, unless a racing sweep holds the case or
    already did it, or the case moved on meanwhile (confirmed, reopened, resolved again)."""
    case = (
        Case.objects.select_for_update(skip_locked=True)
        .filter(
            pk=case_id,
            status=CaseStatus.RESOLVED,
            resolved_at=resolved_at,
            confirmation_due_at__gt=now,
        )
        .first()
    )
    if case is None:
        return False
    if CaseEvent.objects.filter(
        case=case, kind=Kind.AUTO_CLOSE_WARNED, created_at__gte=case.resolved_at
    ).exists():
        return False
    requester = case.requester
    if requester is None or not requester.is_active or not requester.email:
        return False
    events.record(events.auto_close_warned(case, closes_at=case.confirmation_due_at, at=now))
    notifications.notify(
        case=case,
        recipients=[requester],
        kind="auto_close_warning",
        dedupe=f"auto_close_warning:{case.pk}:{case.resolved_at.timestamp():.0f}",
        context={"closes_at": case.confirmation_due_at},
    )
    return True


# --- What the timelines say about them -----------------------------------------------------------


def timeline_words(event: CaseEvent) -> list[str]:
    """What the workspace's and the portal's timelines say about a reminder or a warning."""
    after = event.after or {}
    if event.kind == Kind.WAITING_REMINDED:
        days = after.get("reminder") or 0
        return [
            ngettext(
                "E-mail reminder: %(days)d business day without an answer to the request of "
                "%(since)s.",
                "E-mail reminder: %(days)d business days without an answer to the request of "
                "%(since)s.",
                days,
            )
            % {"days": days, "since": _instant(after.get("waiting_since"))}
        ]
    if event.kind == Kind.AUTO_CLOSE_WARNED:
        return [
            _("E-mail warning: the case closes by itself on %(when)s unless confirmed or reopened.")
            % {"when": _instant(after.get("closes_at"))}
        ]
    return []


def _instant(value) -> str:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value or "—")
    return formats.date_format(timezone.localtime(when), "DATETIME_FORMAT")
