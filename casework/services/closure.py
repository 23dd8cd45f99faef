"""Resolution and what follows it: confirmation, reopening, automatic closing, rating."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events, limits, notifications, policy
from ..errors import CaseError, ConflictError
from ..models import (
    Case,
    Message,
    OutcomeCode,
    Rating,
    SlaPause,
)
from ..policy import Action
from ..sla import clocks
from .hours import record_entries
from .transition import S, _activity, _adjust_load, _now, _save, _text, _transition


def business_days_later(case: Case, start: datetime, days: int) -> datetime:
    """The end of the `days`-th business day after `start` in the office's calendar."""
    calendar = clocks.calendar_for_case(case)
    day = timezone.localtime(start).date()
    counted = 0
    tz = timezone.get_current_timezone()
    for _offset in range(366):
        day += timedelta(days=1)
        begin = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        if calendar.seconds_between(begin, begin + timedelta(days=1)) > 0:
            counted += 1
            if counted == days:
                return begin + timedelta(days=1) - timedelta(seconds=1)
    return start + timedelta(days=days)


@transaction.atomic
def case_resolve(
    *, case: Case, actor, outcome: OutcomeCode, summary: str, minutes_spent: int = 0, at=None
) -> Case:
    """Resolve with an outcome of the area and a summary for the cooperative."""
    at = _now(at)
    policy.check_actor(Action.RESOLVE, case, actor)
    if outcome is None or outcome.area_id != case.area_id or not outcome.is_active:
        raise CaseError(
            _("Choose an outcome of the area “%(area)s”.") % {"area": case.area.name},
            code="outcome",
        )
    summary = _text(summary, _("summary"), max_length=limits.LONG_TEXT)
    if (
        not isinstance(minutes_spent, int)
        or minutes_spent < 0
        or minutes_spent > limits.RESOLUTION_MINUTES
    ):
        raise CaseError(
            _("Minutes spent must be a whole number from 0 to %(max)d.")
            % {"max": limits.RESOLUTION_MINUTES},
            code="minutes",
        )
    policy.check_state(Action.RESOLVE, case)
    if minutes_spent:
        # One time entry of the day, its event the resolution's own (which carries the minutes).
        record_entries(case, actor=actor, minutes=minutes_spent, at=at)
    old = _transition(case, Action.RESOLVE)
    case.outcome = outcome
    case.resolution_summary = summary
    clocks.first_response_given(case, at=at)
    case.resolved_at = at
    clocks.pause(case, at=at, reason=SlaPause.Reason.AWAITING_CONFIRMATION)
    case.confirmation_due_at = business_days_later(case, at, case.area.confirmation_days)
    _activity(case, at, actor)
    _save(case, at)
    _adjust_load(case.assignee_id, -1)
    Message.objects.create(case=case, author=actor, body=summary, internal=False, created_at=at)
    events.record(
        events.resolved(
            case,
            actor=actor,
            old_status=old,
            outcome=outcome.code,
            minutes=minutes_spent,
            confirmation_due_at=case.confirmation_due_at,
            at=at,
        )
    )
    notifications.notify(
        case=case,
        recipients=[case.requester],
        kind="case_resolved",
        dedupe=f"resolved:{case.pk}:{at.isoformat()}",
    )
    return case


@transaction.atomic
def case_confirm(*, case: Case, actor, at: datetime | None = None) -> Case:
    at = _now(at)
    policy.check_actor(Action.CONFIRM, case, actor)
    old = _transition(case, Action.CONFIRM)
    case.closed_at = at
    SlaPause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=at)
    _activity(case, at, actor)
    _save(case, at)
    events.record(events.confirmed(case, actor=actor, old_status=old, at=at))
    return case


@transaction.atomic
def case_reopen(*, case: Case, actor, reason: str, at: datetime | None = None) -> Case:
    """The cooperative is not satisfied: back to the same consultant, the clock resumes."""
    at = _now(at)
    policy.check_actor(Action.REOPEN, case, actor)
    reason = _text(reason, _("reason"), max_length=limits.REASON)
    policy.check_condition(Action.REOPEN, case, at=at)
    old = _transition(case, Action.REOPEN)
    previous_outcome = case.outcome.code if case.outcome else None
    case.outcome = None
    case.resolved_at = None
    case.confirmation_due_at = None
    clocks.resume(case, at=at)
    _activity(case, at, actor)
    _save(case, at)
    _adjust_load(case.assignee_id, +1)
    Message.objects.create(case=case, author=actor, body=reason, internal=False, created_at=at)
    events.record(
        events.reopened(
            case,
            actor=actor,
            old_status=old,
            previous_outcome=previous_outcome,
            reason=reason,
            at=at,
        )
    )
    events.record(events.sla_resumed(case, at=at))
    notifications.notify(
        case=case,
        recipients=[case.assignee],
        kind="case_reopened",
        dedupe=f"reopened:{case.pk}:{at.isoformat()}",
        context={"reason": reason},
    )
    return case


@transaction.atomic
def case_auto_close(*, case: Case, at: datetime | None = None) -> Case | None:
    """Close a resolved case whose confirmation window has ended; None if nothing to do."""
    at = _now(at)
    if (
        case.status != S.RESOLVED
        or case.confirmation_due_at is None
        or case.confirmation_due_at > at
    ):
        return None
    old = _transition(case, Action.AUTO_CLOSE)
    case.closed_at = at
    SlaPause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=at)
    _activity(case, at)
    _save(case, at)
    events.record(events.auto_closed(case, old_status=old, at=at))
    return case


@transaction.atomic
def case_rate(*, case: Case, actor, score: int, comment: str = "", at=None) -> Rating:
    at = _now(at)
    policy.check_actor(Action.RATE, case, actor)
    policy.check_state(Action.RATE, case)
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise CaseError(_("The score must be a whole number from 1 to 5."), code="score")
    if Rating.objects.filter(case=case).exists():
        raise ConflictError(_("This case has already been rated."), code="already_rated")
    rating = Rating.objects.create(
        case=case,
        score=score,
        comment=(comment or "").strip()[: limits.REASON],
        rated_by=actor,
        created_at=at,
    )
    events.record(events.rated(case, actor=actor, score=score, comment=rating.comment, at=at))
    if score <= settings.SPORTELLO_LOW_RATING:
        supervisors = (
            get_user_model()
            .objects.filter(Q(supervisor__all_areas=True) | Q(supervisor__areas=case.area_id))
            .distinct()
        )
        notifications.notify(
            case=case,
            recipients=list(supervisors),
            kind="low_rating",
            dedupe=f"low_rating:{case.pk}",
            context={"rating": rating},
        )
    return rating
