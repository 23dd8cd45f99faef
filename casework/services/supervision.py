"""A supervisor's moves at any point: priority and cancellation."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from .. import events, limits, notifications, policy
from ..errors import CaseError
from ..models import (
    Case,
    CaseStatus,
    Priority,
    SlaPause,
)
from ..policy import Action
from ..sla import clocks
from .hours import estimates_withdraw
from .transition import S, _activity, _adjust_load, _now, _save, _text, _transition


@transaction.atomic
def case_change_priority(*, case: Case, actor, priority: str, at: datetime | None = None) -> Case:
    """New priority, new targets: due times follow from the business time already consumed."""
    at = _now(at)
    policy.check_actor(Action.CHANGE_PRIORITY, case, actor)
    if priority not in Priority.values:
        raise CaseError(_("Unknown priority “%(p)s”.") % {"p": priority}, code="priority")
    policy.check_state(Action.CHANGE_PRIORITY, case)
    if priority == case.priority:
        return case
    old_priority, old_resolution_due_at = case.priority, case.resolution_due_at
    case.priority = priority
    if case.status != S.RESOLVED:
        clocks.recompute(case, at=at)
    _save(case, at)
    events.record(
        events.priority_changed(
            case,
            actor=actor,
            old_priority=old_priority,
            old_resolution_due_at=old_resolution_due_at,
            priority=priority,
            resolution_due_at=case.resolution_due_at,
            at=at,
        )
    )
    return case


@transaction.atomic
def case_cancel(*, case: Case, actor, reason: str, at: datetime | None = None) -> Case:
    at = _now(at)
    policy.check_actor(Action.CANCEL, case, actor)
    reason = _text(reason, _("reason"), max_length=limits.REASON)
    was_active = case.status in CaseStatus.ACTIVE
    old = _transition(case, Action.CANCEL)
    case.closed_at = at
    case.clock_running_since = None
    SlaPause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=at)
    estimates_withdraw(case=case, at=at)
    _activity(case, at, actor)
    _save(case, at)
    if was_active:
        _adjust_load(case.assignee_id, -1)
    events.record(events.cancelled(case, actor=actor, old_status=old, reason=reason, at=at))
    notifications.notify(
        case=case,
        recipients=[case.requester],
        kind="case_cancelled",
        dedupe=f"cancelled:{case.pk}",
        context={"reason": reason},
    )
    return case
