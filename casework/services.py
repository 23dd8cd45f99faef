"""Writes to cases: every state change goes through one guarded transition with its event row.

Each service is atomic, locks the case row, checks who acts and whether the move is allowed,
writes the change, a CaseEvent and (through the outbox) the e-mails, and raises a domain error
otherwise. The workflow layer calls these and moves the viewflow process alongside.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events, limits, notifications, policy, routing
from .errors import CaseError, ConflictError, ForbiddenError
from .models import (
    Case,
    CaseCounter,
    CaseEvent,
    CaseStatus,
    Consultant,
    Cooperative,
    Message,
    OutcomeCode,
    PracticeArea,
    Priority,
    Rating,
    SlaPause,
    Specialty,
    TriageRule,
)
from .policy import Action
from .roles import roles_of
from .sla import clocks

Kind = events.Kind
S = CaseStatus


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _locked(case: Case | int) -> Case:
    """Re-read the case under a row lock; every write to a case starts here."""
    pk = case.pk if isinstance(case, Case) else case
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("cooperative__office", "area", "assignee")
        .get(pk=pk)
    )


def _transition(case: Case, action: policy.Action) -> str:
    """The one guarded transition: the action's move, if the case's status allows it.

    Sets the status the action moves to (`policy.RULES`) and returns the old one; the caller
    writes the case, its event and its e-mails in the same transaction.
    """
    policy.check_state(action, case)
    old = case.status
    case.status = policy.RULES[action].moves_to
    return old


def _text(value: str, field: str, *, max_length: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise CaseError(_("“%(field)s” cannot be empty.") % {"field": field}, code="required")
    if max_length and len(value) > max_length:
        raise CaseError(
            _("“%(field)s” is too long (at most %(n)d characters).")
            % {"field": field, "n": max_length},
            code="too_long",
        )
    return value


def _adjust_load(user_id: int | None, delta: int) -> None:
    if user_id is None or delta == 0:
        return
    if delta > 0:
        Consultant.objects.filter(user_id=user_id).update(active_cases=F("active_cases") + delta)
    else:
        Consultant.objects.filter(user_id=user_id, active_cases__gte=-delta).update(
            active_cases=F("active_cases") + delta
        )


def _save(case: Case, at: datetime) -> None:
    clocks.refresh_state(case, now=at)
    case.updated_at = at
    case.save()


# --- Intake and triage ---------------------------------------------------------------------


def next_reference(*, area: PracticeArea, year: int) -> str:
    """`LEG-2026-000123`: one counter row per prefix and year, incremented under its row lock.

    Concurrent intakes queue on the counter row for the length of their transaction, so numbers
    are unique; a rolled-back intake leaves a gap, which is tolerated.
    """
    prefix = area.reference_prefix
    table = CaseCounter._meta.db_table
    # One statement creates or increments the row and returns the number (PostgreSQL, and SQLite
    # from 3.35); the row stays locked until the intake commits.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, year, last_number) VALUES (%s, %s, 1) "
            f"ON CONFLICT (prefix, year) DO UPDATE SET last_number = {table}.last_number + 1 "
            "RETURNING last_number",
            [prefix, year],
        )
        (number,) = cursor.fetchone()
    return f"{prefix}-{year}-{number:06d}"


def triage_decide(
    *, area: PracticeArea, specialty: Specialty | None, subject: str, description: str
) -> tuple[str | None, TriageRule | None]:
    """The priority the area's rules give a new case, or None when a supervisor must decide."""
    text = f"{subject}\n{description}".casefold()
    for rule in (
        TriageRule.objects.filter(area=area, is_active=True)
        .select_related("area", "specialty")  # the rule's name goes into the event
        .order_by("position", "id")
    ):
        if rule.specialty_id and (specialty is None or rule.specialty_id != specialty.pk):
            continue
        if rule.keyword and rule.keyword.casefold() not in text:
            continue
        return rule.priority, rule
    return (area.default_priority or None), None


@transaction.atomic
def case_open(
    *,
    requester,
    cooperative: Cooperative,
    area: PracticeArea,
    subject: str,
    description: str,
    specialty: Specialty | None = None,
    priority: str | None = None,
    at: datetime | None = None,
) -> Case:
    """A cooperative member opens a case; rules triage it at once when they can."""
    at = _now(at)
    roles = roles_of(requester)
    if not roles.is_member_of(cooperative.pk):
        raise ForbiddenError(_("You can open cases only for your own cooperatives."))
    if not area.is_active:
        raise CaseError(_("The practice area “%(area)s” is not open.") % {"area": area.name})
    if specialty is not None and specialty.area_id != area.pk:
        raise CaseError(_("The specialty does not belong to the chosen area."), code="specialty")
    if priority is not None and priority not in Priority.values:
        raise CaseError(_("Unknown priority “%(p)s”.") % {"p": priority}, code="priority")
    subject = _text(subject, _("subject"), max_length=limits.SUBJECT)
    description = _text(description, _("description"), max_length=limits.LONG_TEXT)

    decided, rule = triage_decide(
        area=area, specialty=specialty, subject=subject, description=description
    )
    case = Case(
        cooperative=cooperative,
        requester=requester,
        area=area,
        specialty=specialty,
        subject=subject,
        description=description,
        priority=decided or priority or Priority.NORMAL,
        status=S.UNASSIGNED if decided else S.TRIAGE,
        created_at=at,
    )
    opened_status = case.status
    # The area's counter row stays locked until the intake commits, and it is taken before
    # routing: concurrent intakes of an area queue here, so each one routes on the loads the
    # ones before it left (two could otherwise give the last free place to two cases).
    case.reference = next_reference(area=area, year=timezone.localtime(at).year)
    # Routing decides before the case is written, so a routed case is inserted once, already
    # assigned (`_assign` writes it: no second write of its row and its indexes).
    decision, assignee = _routing_pick(case, at=at) if decided else (None, None)
    clocks.start(case, at=at)
    assigned_mails: list[notifications.Mail] = []
    if assignee is not None:
        _assign(case, assignee, at=at, mails=assigned_mails)
    else:
        _save(case, at)
    opened = [
        events.build(
            case,
            Kind.OPENED,
            actor=requester,
            after={
                "status": opened_status,
                "priority": case.priority,
                "suggested_priority": priority,
            },
            at=at,
        )
    ]
    if decided:
        opened.append(
            events.build(
                case,
                Kind.TRIAGED,
                after={"priority": case.priority, "rule": rule.pk if rule else None},
                note=(
                    _("Priority set by the rule “%(rule)s”.") % {"rule": rule}
                    if rule
                    else _("Priority set by the area's default.")
                ),
                at=at,
            )
        )
        # Routing follows at once the event that made the case routable.
        opened.append(_routing_event(case, decision, assignee, at=at))
    opened_mail = notifications.Mail(
        case=case, recipients=[requester], kind="case_opened", dedupe=f"opened:{case.pk}"
    )
    notifications.notify_all([opened_mail, *assigned_mails])
    events.record_all(opened)
    return case


@transaction.atomic
def case_triage(
    *,
    case: Case,
    actor,
    area: PracticeArea | None = None,
    specialty: Specialty | None = None,
    priority: str,
    at: datetime | None = None,
) -> Case:
    """A supervisor confirms (or corrects) area, specialty and priority of a case in triage."""
    at = _now(at)
    case = _locked(case)
    policy.check_actor(Action.TRIAGE, case, actor)
    area = area or case.area
    if not roles_of(actor).supervises_area(area.pk):
        raise ForbiddenError(_("You do not supervise the area “%(area)s”.") % {"area": area.name})
    if specialty is not None and specialty.area_id != area.pk:
        raise CaseError(_("The specialty does not belong to the chosen area."), code="specialty")
    if priority not in Priority.values:
        raise CaseError(_("Unknown priority “%(p)s”.") % {"p": priority}, code="priority")
    before = {"area": case.area.code, "specialty": case.specialty_id, "priority": case.priority}
    old = _transition(case, Action.TRIAGE)
    case.area, case.specialty, case.priority = area, specialty, priority
    clocks.recompute(case, at=at)
    _save(case, at)
    triaged = events.build(
        case,
        Kind.TRIAGED,
        actor=actor,
        before={"status": old, **before},
        after={
            "status": case.status,
            "area": area.code,
            "specialty": case.specialty_id,
            "priority": priority,
        },
        at=at,
    )
    events.record_all([triaged, _route(case, at=at)])
    return case


@transaction.atomic
def case_reject(
    *, case: Case, actor, reason: str, explanation: str, at: datetime | None = None
) -> Case:
    """Out of scope or a duplicate: the case closes and the cooperative is told why."""
    at = _now(at)
    case = _locked(case)
    policy.check_actor(Action.REJECT, case, actor)
    if reason not in Case.RejectionReason.values:
        raise CaseError(_("Unknown rejection reason “%(r)s”.") % {"r": reason}, code="reason")
    explanation = _text(explanation, _("explanation"), max_length=limits.REASON)
    old = _transition(case, Action.REJECT)
    case.rejection_reason = reason
    case.closed_at = at
    case.clock_running_since = None
    _save(case, at)
    Message.objects.create(case=case, author=actor, body=explanation, internal=False, created_at=at)
    events.status_change(
        case, Kind.REJECTED, actor=actor, old_status=old, note=explanation, at=at, reason=reason
    )
    notifications.notify(
        case=case,
        recipients=[case.requester],
        kind="case_rejected",
        dedupe=f"rejected:{case.pk}",
        context={"explanation": explanation},
    )
    return case


# --- Routing and assignment ----------------------------------------------------------------


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
        return events.build(
            case,
            Kind.ROUTING_FAILED,
            after={"reason": decision.reason_code, "reason_params": decision.reason_params},
            note=decision.explanation,
            at=at,
        )
    return events.build(
        case,
        Kind.ROUTED,
        before={"status": S.UNASSIGNED},
        after={
            "status": case.status,
            "assignee": assignee.username,
            "reason": decision.reason_code,
            "consultant_id": decision.consultant_id,
            "reason_params": decision.reason_params,
        },
        note=decision.explanation,
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
    case = _locked(case)
    policy.check_actor(Action.ASSIGN, case, actor)
    policy.check_state(Action.ASSIGN, case)
    _check_assignable(case, consultant)
    before = {"status": case.status, "assignee": case.assignee.username if case.assignee else None}
    _assign(case, consultant, at=at)
    events.record(
        case,
        Kind.ASSIGNED,
        actor=actor,
        before=before,
        after={"status": case.status, "assignee": consultant.username},
        at=at,
    )
    return case


@transaction.atomic
def case_claim(*, case: Case, actor, at: datetime | None = None) -> Case:
    """A consultant of the area takes an unassigned case from the queue."""
    at = _now(at)
    case = _locked(case)
    policy.check_state(Action.CLAIM, case)
    roles = policy.check_actor(Action.CLAIM, case, actor)
    if roles.is_consultant:
        _check_assignable(case, actor)
    _assign(case, actor, at=at)
    events.record(
        case,
        Kind.CLAIMED,
        actor=actor,
        before={"status": S.UNASSIGNED},
        after={"status": case.status, "assignee": actor.username},
        at=at,
    )
    return case


@transaction.atomic
def case_release(*, case: Case, actor, hand_back: bool = False, reason: str = "", at=None) -> Case:
    """The consultant gives the case up: to the area's queue, or back to a supervisor."""
    at = _now(at)
    case = _locked(case)
    action = Action.HAND_BACK if hand_back else Action.RELEASE
    policy.check_actor(action, case, actor)
    if hand_back:
        reason = _text(reason, _("reason"), max_length=limits.SHORT_NOTE)
    old_assignee = case.assignee
    old = _transition(case, action)
    case.assignee = None
    _save(case, at)
    _adjust_load(old_assignee.pk if old_assignee else None, -1)
    events.status_change(
        case,
        Kind.HANDED_BACK if hand_back else Kind.RELEASED,
        actor=actor,
        old_status=old,
        note=reason,
        at=at,
        previous_assignee=old_assignee.username if old_assignee else None,
    )
    return case


# --- Expert work ---------------------------------------------------------------------------


@transaction.atomic
def case_post_message(
    *, case: Case, author, body: str, internal: bool = False, at: datetime | None = None
) -> Message:
    """A reply (cooperative or consultant) or an internal note (staff only)."""
    at = _now(at)
    case = _locked(case)
    body = _text(body, _("message"), max_length=limits.LONG_TEXT)
    action = Action.NOTE if internal else Action.REPLY
    roles = policy.check_actor(action, case, author)
    is_staff = policy.is_staff_of(case, roles)
    policy.check_state(action, case)
    message = Message.objects.create(
        case=case, author=author, body=body, internal=internal, created_at=at
    )
    if internal:
        events.record(case, Kind.NOTE_ADDED, actor=author, after={"message": message.pk}, at=at)
    elif is_staff:
        first = case.first_response_at is None
        clocks.first_response_given(case, at=at)
        _save(case, at)
        events.record(
            case,
            Kind.REPLIED,
            actor=author,
            after={"message": message.pk, "first_response": first},
            at=at,
        )
    else:
        events.record(case, Kind.REPLIED, actor=author, after={"message": message.pk}, at=at)
    return message


@transaction.atomic
def case_acknowledge(*, case: Case, actor, body: str = "", at: datetime | None = None) -> Message:
    """The consultant's first response: the case is in good hands."""
    at = _now(at)
    case = _locked(case)
    policy.check_actor(Action.ACKNOWLEDGE, case, actor)
    policy.check_state(Action.ACKNOWLEDGE, case)
    policy.check_condition(Action.ACKNOWLEDGE, case, at=at)
    body = (body or "").strip() or _(
        "Hello, I have taken charge of your case and will get back to you as soon as possible."
    )
    message = Message.objects.create(
        case=case, author=actor, body=body, internal=False, created_at=at
    )
    clocks.first_response_given(case, at=at)
    _save(case, at)
    events.record(case, Kind.ACKNOWLEDGED, actor=actor, after={"message": message.pk}, at=at)
    return message


@transaction.atomic
def case_record_time(*, case: Case, actor, minutes: int, note: str = "", at=None) -> Case:
    at = _now(at)
    case = _locked(case)
    policy.check_actor(Action.RECORD_TIME, case, actor)
    if not isinstance(minutes, int) or minutes <= 0 or minutes > limits.ENTRY_MINUTES:
        raise CaseError(_("Minutes spent must be between 1 and 1440."), code="minutes")
    policy.check_state(Action.RECORD_TIME, case)
    case.minutes_spent += minutes
    _save(case, at)
    events.record(
        case,
        Kind.TIME_RECORDED,
        actor=actor,
        after={"minutes": minutes, "total": case.minutes_spent},
        note=note.strip()[: limits.SHORT_NOTE],
        at=at,
    )
    return case


@transaction.atomic
def case_request_info(*, case: Case, actor, question: str, at: datetime | None = None) -> Case:
    """Ask the cooperative for information: the case waits on them and the clocks stop."""
    at = _now(at)
    case = _locked(case)
    policy.check_actor(Action.REQUEST_INFO, case, actor)
    question = _text(question, _("question"), max_length=limits.LONG_TEXT)
    old = _transition(case, Action.REQUEST_INFO)
    message = Message.objects.create(
        case=case, author=actor, body=question, internal=False, created_at=at
    )
    clocks.first_response_given(case, at=at)
    clocks.pause(case, at=at, reason=SlaPause.Reason.INFO_REQUESTED)
    _save(case, at)
    events.status_change(
        case, Kind.INFO_REQUESTED, actor=actor, old_status=old, at=at, message=message.pk
    )
    events.record(case, Kind.SLA_PAUSED, after={"reason": SlaPause.Reason.INFO_REQUESTED}, at=at)
    notifications.notify(
        case=case,
        recipients=[case.requester],
        kind="info_requested",
        dedupe=f"info_requested:{case.pk}:{message.pk}",
        context={"question": question},
    )
    return case


@transaction.atomic
def case_provide_info(*, case: Case, actor, body: str, at: datetime | None = None) -> Message:
    """The cooperative answers: the case goes back to the same consultant, the clocks resume."""
    at = _now(at)
    case = _locked(case)
    policy.check_actor(Action.PROVIDE_INFO, case, actor)
    body = _text(body, _("answer"), max_length=limits.LONG_TEXT)
    old = _transition(case, Action.PROVIDE_INFO)
    message = Message.objects.create(
        case=case, author=actor, body=body, internal=False, created_at=at
    )
    clocks.resume(case, at=at)
    _save(case, at)
    events.status_change(
        case, Kind.INFO_PROVIDED, actor=actor, old_status=old, at=at, message=message.pk
    )
    events.record(case, Kind.SLA_RESUMED, at=at)
    notifications.notify(
        case=case,
        recipients=[case.assignee],
        kind="info_provided",
        dedupe=f"info_provided:{message.pk}",
    )
    return message


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
    case = _locked(case)
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
        raise CaseError(_("Minutes spent must be a whole number, 0 or more."), code="minutes")
    old = _transition(case, Action.RESOLVE)
    case.outcome = outcome
    case.resolution_summary = summary
    case.minutes_spent += minutes_spent
    clocks.first_response_given(case, at=at)
    case.resolved_at = at
    clocks.pause(case, at=at, reason=SlaPause.Reason.AWAITING_CONFIRMATION)
    case.confirmation_due_at = business_days_later(case, at, case.area.confirmation_days)
    _save(case, at)
    _adjust_load(case.assignee_id, -1)
    Message.objects.create(case=case, author=actor, body=summary, internal=False, created_at=at)
    events.status_change(
        case,
        Kind.RESOLVED,
        actor=actor,
        old_status=old,
        at=at,
        outcome=outcome.code,
        minutes=minutes_spent,
        confirmation_due_at=case.confirmation_due_at,
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
    case = _locked(case)
    policy.check_actor(Action.CONFIRM, case, actor)
    old = _transition(case, Action.CONFIRM)
    case.closed_at = at
    SlaPause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=at)
    _save(case, at)
    events.status_change(case, Kind.CONFIRMED, actor=actor, old_status=old, at=at)
    return case


@transaction.atomic
def case_reopen(*, case: Case, actor, reason: str, at: datetime | None = None) -> Case:
    """The cooperative is not satisfied: back to the same consultant, the clock resumes."""
    at = _now(at)
    case = _locked(case)
    policy.check_actor(Action.REOPEN, case, actor)
    reason = _text(reason, _("reason"), max_length=limits.REASON)
    policy.check_condition(Action.REOPEN, case, at=at)
    old = _transition(case, Action.REOPEN)
    previous_outcome = case.outcome.code if case.outcome else None
    case.outcome = None
    case.resolved_at = None
    case.confirmation_due_at = None
    clocks.resume(case, at=at)
    _save(case, at)
    _adjust_load(case.assignee_id, +1)
    Message.objects.create(case=case, author=actor, body=reason, internal=False, created_at=at)
    events.status_change(
        case,
        Kind.REOPENED,
        actor=actor,
        old_status=old,
        note=reason,
        at=at,
        previous_outcome=previous_outcome,
    )
    events.record(case, Kind.SLA_RESUMED, at=at)
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
    case = _locked(case)
    if (
        case.status != S.RESOLVED
        or case.confirmation_due_at is None
        or case.confirmation_due_at > at
    ):
        return None
    old = _transition(case, Action.AUTO_CLOSE)
    case.closed_at = at
    SlaPause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=at)
    _save(case, at)
    events.status_change(case, Kind.AUTO_CLOSED, actor=None, old_status=old, at=at)
    return case


@transaction.atomic
def case_rate(*, case: Case, actor, score: int, comment: str = "", at=None) -> Rating:
    at = _now(at)
    case = _locked(case)
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
    events.record(case, Kind.RATED, actor=actor, after={"score": score}, note=rating.comment, at=at)
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


# --- Supervision ---------------------------------------------------------------------------


@transaction.atomic
def case_change_priority(*, case: Case, actor, priority: str, at: datetime | None = None) -> Case:
    """New priority, new targets: due times follow from the business time already consumed."""
    at = _now(at)
    case = _locked(case)
    policy.check_actor(Action.CHANGE_PRIORITY, case, actor)
    if priority not in Priority.values:
        raise CaseError(_("Unknown priority “%(p)s”.") % {"p": priority}, code="priority")
    policy.check_state(Action.CHANGE_PRIORITY, case)
    if priority == case.priority:
        return case
    before = {"priority": case.priority, "resolution_due_at": case.resolution_due_at}
    case.priority = priority
    if case.status != S.RESOLVED:
        clocks.recompute(case, at=at)
    _save(case, at)
    events.record(
        case,
        Kind.PRIORITY_CHANGED,
        actor=actor,
        before=before,
        after={"priority": priority, "resolution_due_at": case.resolution_due_at},
        at=at,
    )
    return case


@transaction.atomic
def case_cancel(*, case: Case, actor, reason: str, at: datetime | None = None) -> Case:
    at = _now(at)
    case = _locked(case)
    policy.check_actor(Action.CANCEL, case, actor)
    reason = _text(reason, _("reason"), max_length=limits.REASON)
    was_active = case.status in CaseStatus.ACTIVE
    old = _transition(case, Action.CANCEL)
    case.closed_at = at
    case.clock_running_since = None
    SlaPause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=at)
    _save(case, at)
    if was_active:
        _adjust_load(case.assignee_id, -1)
    events.status_change(case, Kind.CANCELLED, actor=actor, old_status=old, note=reason, at=at)
    notifications.notify(
        case=case,
        recipients=[case.requester],
        kind="case_cancelled",
        dedupe=f"cancelled:{case.pk}",
        context={"reason": reason},
    )
    return case


def validate_or_400(instance) -> None:
    """Model validation turned into the domain's 400."""
    try:
        instance.full_clean()
    except ValidationError as error:
        raise CaseError("; ".join(error.messages), code="invalid") from error
