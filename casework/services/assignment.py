"""Routing and assignment: who takes a case, assignment, claims from the queue, releases."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events, limits, notifications, policy, routing
from ..errors import CaseError
from ..models import (
    Case,
    CaseEvent,
    CaseStatus,
    Consultant,
)
from ..policy import Action
from .transition import S, _activity, _adjust_load, _now, _save, _text, _transition


def routing_candidates(case: Case) -> list[routing.Candidate]:
    """The consultants of the case's area with what routing weighs (2 queries, no models).

    An area can have hundreds of consultants: their rows are read as plain values, and only the
    one routing picks is loaded as a user.
    """
    consultants = (
        Consultant.objects.filter(areas=case.area_id, is_active=True, user__is_active=True)
        .annotate(
            # Routing asks only whether a consultant has the case's specialty.
            has_specialty=Exists(
                Consultant.specialties.through.objects.filter(
                    consultant_id=OuterRef("pk"), specialty_id=case.specialty_id
                )
            )
            if case.specialty_id
            else Value(False)
        )
        .order_by()
        .values_list(
            "user_id",
            "user__username",
            "office__code",
            "capacity",
            "active_cases",
            "absent_until",
            "has_specialty",
        )
    )
    helped = Case.objects.filter(
        cooperative_id=case.cooperative_id, area_id=case.area_id, assignee__isnull=False
    )
    if case.pk is not None:  # routing runs before a new case is written
        helped = helped.exclude(pk=case.pk)
    last_helped = dict(helped.values_list("assignee_id").annotate(last=Max("created_at")))
    area_codes = frozenset({case.area.code})
    return [
        routing.Candidate(
            consultant_id=user_id,
            username=username,
            office_code=office_code,
            area_codes=area_codes,
            specialty_ids=frozenset({case.specialty_id} if has_specialty else ()),
            capacity=capacity,
            active_cases=active_cases,
            absent_until=absent_until,
            last_helped_at=last_helped.get(user_id),
        )
        for (
            user_id,
            username,
            office_code,
            capacity,
            active_cases,
            absent_until,
            has_specialty,
        ) in consultants
    ]


# How many times routing decides again when the consultant it picked filled up meanwhile.
ROUTING_ATTEMPTS = 3


def _routing_pick(case: Case, *, at: datetime, exclude_ids=frozenset()):
    """Routing's decision for the case, and the user it picks (None when it picks nobody).

    The chosen consultant's row is locked and their load read again: a concurrent move that
    gave them a case first (and committed) is seen, and routing decides again on fresh loads, so
    two cases never take one last place. The lock is held until the move commits. Should the
    pick be taken from under it `ROUTING_ATTEMPTS` times in a row, the last pick stands (one
    case over capacity rather than a refused move).
    """
    request = routing.RoutingRequest(
        area_code=case.area.code,
        specialty_id=case.specialty_id,
        office_code=case.cooperative.office.code,
        today=timezone.localdate(at),
        exclude_ids=frozenset(exclude_ids),
    )
    for _attempt in range(ROUTING_ATTEMPTS):
        decision = routing.choose_consultant(request, routing_candidates(case))
        if decision.consultant_id is None:
            return decision, None
        chosen = (
            Consultant.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(user_id=decision.consultant_id)
        )
        if chosen.active_cases < chosen.capacity:
            return decision, chosen.user
    return decision, chosen.user


def _routing_event(case: Case, decision, assignee, *, at: datetime) -> CaseEvent:
    """The `routed` (or `routing_failed`) event of a decision, not yet saved."""
    if assignee is None:
        return events.routing_failed(
            case,
            reason=decision.reason_code,
            reason_params=decision.reason_params,
            explanation=decision.explanation,
            at=at,
        )
    return events.routed(
        case,
        assignee=assignee.username,
        reason=decision.reason_code,
        consultant_id=decision.consultant_id,
        reason_params=decision.reason_params,
        explanation=decision.explanation,
        at=at,
    )


def _route(case: Case, *, at: datetime, exclude_ids=frozenset()) -> CaseEvent:
    """Give a locked, unassigned case to the consultant routing picks; the event says why.

    Returns the `routed` (or `routing_failed`) event, not yet saved: the caller records it with
    the events of the same move.
    """
    decision, assignee = _routing_pick(case, at=at, exclude_ids=exclude_ids)
    if assignee is not None:
        _assign(case, assignee, at=at)
    return _routing_event(case, decision, assignee, at=at)


def _assign(case: Case, assignee, *, at: datetime, mails: list | None = None) -> None:
    """Give the case to a consultant, keeping both consultants' load counters right.

    The consultant's e-mail is queued at once, or added to `mails` for the caller to queue with
    the other e-mails of the same move (intake writes them in one INSERT).
    """
    old_assignee = case.assignee_id
    was_active = case.status in CaseStatus.ACTIVE
    # Assigning a case that waits on the cooperative keeps it waiting.
    if case.status != S.WAITING:
        _transition(case, Action.ASSIGN)
    case.assignee = assignee
    _activity(case, at)
    _save(case, at)
    if was_active:
        _adjust_load(old_assignee, -1)
    if case.status in CaseStatus.ACTIVE:
        _adjust_load(assignee.pk, +1)
    mail = notifications.Mail(
        case=case,
        recipients=[assignee],
        kind="case_assigned",
        dedupe=f"assigned:{case.pk}:{at.isoformat()}",
    )
    if mails is None:
        notifications.notify_all([mail])
    else:
        mails.append(mail)


def _check_assignable(case: Case, consultant_user) -> None:
    profile = Consultant.objects.filter(user=consultant_user, is_active=True).first()
    if profile is None or not profile.areas.filter(pk=case.area_id).exists():
        raise CaseError(
            _("%(who)s is not a consultant of the area “%(area)s”.")
            % {"who": consultant_user, "area": case.area.name},
            code="not_in_area",
        )


@transaction.atomic
def case_assign(*, case: Case, actor, consultant, at: datetime | None = None) -> Case:
    """A supervisor gives the case to a consultant of its area (also a reassignment)."""
    at = _now(at)
    policy.check_actor(Action.ASSIGN, case, actor)
    policy.check_state(Action.ASSIGN, case)
    _check_assignable(case, consultant)
    old_status = case.status
    old_assignee = case.assignee.username if case.assignee else None
    _assign(case, consultant, at=at)
    events.record(
        events.assigned(
            case,
            actor=actor,
            old_status=old_status,
            old_assignee=old_assignee,
            assignee=consultant.username,
            at=at,
        )
    )
    return case


@transaction.atomic
def case_claim(*, case: Case, actor, at: datetime | None = None) -> Case:
    """A consultant of the area takes an unassigned case from the queue."""
    at = _now(at)
    policy.check_state(Action.CLAIM, case)
    roles = policy.check_actor(Action.CLAIM, case, actor)
    if roles.is_consultant:
        _check_assignable(case, actor)
    _assign(case, actor, at=at)
    events.record(events.claimed(case, actor=actor, assignee=actor.username, at=at))
    return case


@transaction.atomic
def case_release(*, case: Case, actor, at: datetime | None = None) -> Case:
    """The consultant gives the case up to the area's queue."""
    policy.check_actor(Action.RELEASE, case, actor)
    return _give_up(case, Action.RELEASE, actor=actor, reason="", at=_now(at))


@transaction.atomic
def case_hand_back(*, case: Case, actor, reason: str, at: datetime | None = None) -> Case:
    """The consultant returns the case to a supervisor for reassignment, saying why."""
    policy.check_actor(Action.HAND_BACK, case, actor)
    reason = _text(reason, _("reason"), max_length=limits.SHORT_NOTE)
    return _give_up(case, Action.HAND_BACK, actor=actor, reason=reason, at=_now(at))


def _give_up(case: Case, action: Action, *, actor, reason: str, at: datetime) -> Case:
    old_assignee = case.assignee
    old = _transition(case, action)
    case.assignee = None
    _activity(case, at, actor)
    _save(case, at)
    _adjust_load(old_assignee.pk if old_assignee else None, -1)
    previous_assignee = old_assignee.username if old_assignee else None
    if action is Action.HAND_BACK:
        event = events.handed_back(
            case,
            actor=actor,
            old_status=old,
            previous_assignee=previous_assignee,
            reason=reason,
            at=at,
        )
    else:
        event = events.released(
            case, actor=actor, old_status=old, previous_assignee=previous_assignee, at=at
        )
    events.record(event)
    return case
