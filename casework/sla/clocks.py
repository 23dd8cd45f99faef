"""SLA clocks on a case: start, pause, resume and recompute the stored due instants.

The arithmetic lives in `casework.sla.business_time` (pure); this module reads the policy and the
office's calendar, and writes the case's clock fields. Callers hold the case row lock and save
the case; `casework.sla.recompute` redoes the due instants of every running case after a change.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Subquery
from django.utils import timezone

from casework.models import (
    BusinessCalendar,
    Case,
    CaseStatus,
    Closure,
    OpeningHours,
    SlaPause,
    SlaPolicy,
    SlaState,
)

from . import business_time as sla

CLOCK_FIELDS = [
    "sla_policy",
    "first_response_due_at",
    "first_response_warn_at",
    "resolution_due_at",
    "resolution_warn_at",
    "first_response_elapsed_seconds",
    "resolution_elapsed_seconds",
    "clock_running_since",
    "sla_paused_at",
    "sla_state",
    "first_response_warned_at",
    "first_response_breached_at",
    "resolution_warned_at",
    "resolution_breached_at",
]

_DEFAULT_SPEC = sla.CalendarSpec(weekly_hours=sla.DEMO_WEEKLY_HOURS)
# office_id -> (calendar updated_at, BusinessCalendar): rebuilt when an admin edits the calendar.
_calendars: dict[int, tuple[datetime | None, sla.BusinessCalendar]] = {}


def calendar_spec_for_office(office_id: int) -> sla.CalendarSpec:
    calendar = BusinessCalendar.objects.select_related("office").filter(office_id=office_id).first()
    if calendar is None:
        return _DEFAULT_SPEC
    hours = tuple(
        OpeningHours.objects.filter(calendar=calendar).values_list(
            "weekday", "opens_at", "closes_at"
        )
    )
    closures = tuple(Closure.objects.filter(calendar=calendar).values_list("starts_at", "ends_at"))
    return sla.CalendarSpec(
        weekly_hours=hours,
        holiday_subdiv=calendar.office.code if calendar.observe_patron_day else None,
        include_national_holidays=calendar.observe_national_holidays,
        closures=closures,
    )


def _calendar_stamp(office_id: int):
    """When the office's calendar was last edited, as a query (None without a calendar)."""
    return (
        BusinessCalendar.objects.filter(office_id=office_id).order_by("id").values("updated_at")[:1]
    )


# `calendar_for_office`'s stamp not read yet (None is an office without a calendar).
_UNREAD = object()


def calendar_for_office(office_id: int, *, stamp=_UNREAD) -> sla.BusinessCalendar:
    """The office's calendar, rebuilt only when its row says it changed (one small query, none
    when the caller read the `stamp` with something else)."""
    if stamp is _UNREAD:
        stamp = _calendar_stamp(office_id).values_list("updated_at", flat=True).first()
    cached = _calendars.get(office_id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    calendar = sla.calendar_for(calendar_spec_for_office(office_id))
    _calendars[office_id] = (stamp, calendar)
    return calendar


def calendar_for_case(case: Case) -> sla.BusinessCalendar:
    return calendar_for_office(case.cooperative.office_id)


def policy_for(case: Case) -> SlaPolicy | None:
    return SlaPolicy.objects.filter(area_id=case.area_id, priority=case.priority).first()


def _schedule(case: Case, calendar: sla.BusinessCalendar) -> None:
    """Due and warning instants of the running clocks, from what each has consumed so far."""
    policy = case.sla_policy
    start = case.clock_running_since
    if policy is None or start is None:
        return
    for clock, target_minutes in (
        ("first_response", policy.first_response_minutes),
        ("resolution", policy.resolution_minutes),
    ):
        if clock == "first_response" and case.first_response_at is not None:
            continue
        elapsed = getattr(case, f"{clock}_elapsed_seconds")
        warn_seconds = sla.warn_minutes(target_minutes, policy.warning_percent) * 60
        for field, limit in (("due", target_minutes * 60), ("warn", warn_seconds)):
            setattr(
                case,
                f"{clock}_{field}_at",
                _instant(calendar, start, limit - elapsed, getattr(case, f"{clock}_{field}_at")),
            )


def _instant(calendar, start: datetime, remaining: int, stored: datetime | None) -> datetime:
    """Where a limit falls: ahead on the calendar, or, once passed, when it was passed.

    A clock already past its limit keeps the instant it crossed it (a resume or a recompute
    must not move an old breach to "now"); one that a smaller target puts past its limit
    crosses it now.
    """
    if remaining > 0:
        return calendar.add_seconds(start, remaining)
    if stored is not None and stored <= start:
        return stored
    return start


def _consume(case: Case, until: datetime, calendar: sla.BusinessCalendar) -> None:
    """Add the business time of the running stretch to each clock that is still running."""
    start = case.clock_running_since
    if start is None:
        return
    spent = calendar.seconds_between(start, until)
    if case.first_response_at is None:
        case.first_response_elapsed_seconds += spent
    case.resolution_elapsed_seconds += spent
    case.clock_running_since = until


def start(case: Case, *, at: datetime) -> None:
    """Start both clocks at intake: the policy and whether the office's calendar changed are
    one query; without a policy there is nothing to schedule on the calendar."""
    office_id = case.cooperative.office_id
    policy = (
        SlaPolicy.objects.filter(area_id=case.area_id, priority=case.priority)
        .annotate(calendar_stamp=Subquery(_calendar_stamp(office_id)))
        .order_by("pk")
        .first()
    )
    case.sla_policy = policy
    case.first_response_elapsed_seconds = 0
    case.resolution_elapsed_seconds = 0
    case.clock_running_since = at
    case.sla_paused_at = None
    if policy is not None:
        _schedule(case, calendar_for_office(office_id, stamp=policy.calendar_stamp))
    refresh_state(case, now=at)


def pause(case: Case, *, at: datetime, reason: str) -> None:
    """Stop the clocks while the case waits on the cooperative, remembering why."""
    if case.clock_running_since is None:
        return
    _consume(case, at, calendar_for_case(case))
    case.clock_running_since = None
    case.sla_paused_at = at
    SlaPause.objects.create(case=case, reason=reason, started_at=at)


def resume(case: Case, *, at: datetime) -> None:
    """Restart the clocks where they stopped: consumed time is kept, nothing restarts at zero."""
    if case.clock_running_since is not None:
        return
    SlaPause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=at)
    case.sla_paused_at = None
    case.clock_running_since = at
    _schedule(case, calendar_for_case(case))
    _rearm_marks(case, at)


def recompute(
    case: Case,
    *,
    at: datetime,
    calendar: sla.BusinessCalendar | None = None,
    policies: dict[tuple[int, str], SlaPolicy] | None = None,
) -> None:
    """New targets (priority, policy or calendar change) applied to the time already consumed.

    A recompute of many cases passes the calendar and every policy by (area id, priority), so
    that it does not look them up case by case.
    """
    calendar = calendar or calendar_for_case(case)
    _consume(case, at, calendar)
    if policies is None:
        case.sla_policy = policy_for(case)
    else:
        case.sla_policy = policies.get((case.area_id, case.priority))
    _schedule(case, calendar)
    _rearm_marks(case, at)


def first_response_given(case: Case, *, at: datetime) -> None:
    """The first public reply stops the first-response clock."""
    if case.first_response_at is not None:
        return
    if case.clock_running_since is not None:
        case.first_response_elapsed_seconds += calendar_for_case(case).seconds_between(
            case.clock_running_since, at
        )
    case.first_response_at = at


def _rearm_marks(case: Case, at: datetime) -> None:
    """A warning or breach mark whose instant moved into the future may fire again later."""
    for clock in ("first_response", "resolution"):
        for mark, instant in (("warned", "warn"), ("breached", "due")):
            when = getattr(case, f"{clock}_{instant}_at")
            if getattr(case, f"{clock}_{mark}_at") is not None and when is not None and when > at:
                setattr(case, f"{clock}_{mark}_at", None)


def clock_states(case: Case, *, now: datetime | None = None) -> dict[str, sla.SlaState]:
    now = now or timezone.now()
    paused = case.clock_running_since is None
    resolved_at = case.resolved_at if case.status in CaseStatus.RESOLUTION_REACHED else None
    return {
        "first_response": sla.clock_state(
            now=now,
            due_at=case.first_response_due_at,
            warn_at=case.first_response_warn_at,
            met_at=case.first_response_at,
            paused=paused,
        ),
        "resolution": sla.clock_state(
            now=now,
            due_at=case.resolution_due_at,
            warn_at=case.resolution_warn_at,
            met_at=resolved_at,
            paused=paused,
        ),
    }


def case_state(case: Case, *, now: datetime | None = None) -> str:
    """One state for the case: the worst of its clocks, paused while it waits on the cooperative."""
    states = clock_states(case, now=now)
    if sla.SlaState.BREACHED in states.values():
        return SlaState.BREACHED
    if case.status == CaseStatus.WAITING:
        return SlaState.PAUSED
    if states["resolution"] == sla.SlaState.MET:
        return SlaState.MET
    if sla.SlaState.AT_RISK in states.values():
        return SlaState.AT_RISK
    if case.clock_running_since is None and case.status in CaseStatus.RUNNING:
        return SlaState.PAUSED
    return SlaState.ON_TRACK


def refresh_state(case: Case, *, now: datetime | None = None) -> None:
    case.sla_state = case_state(case, now=now)


# --- The clock that matters ------------------------------------------------------------------

# A first response that is pending, or that came late, is what a case's SLA is about; once it came
# on time, the resolution is. Lists order by the instant of that clock: the expression is the
# model's (`casework.models.cases.due_that_matters`), which an index holds.


def clock_that_matters(case: Case) -> str:
    """`first_response` while it is pending or if it came late, else `resolution`."""
    due = case.first_response_due_at
    if due is not None and (case.first_response_at is None or case.first_response_at > due):
        return "first_response"
    return "resolution"
