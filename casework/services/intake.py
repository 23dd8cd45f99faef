"""Intake and triage: a case opened (by rules triaged and routed at once), triaged, rejected."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events, limits, notifications, policy
from ..errors import CaseError, ForbiddenError
from ..models import (
    Case,
    CaseCounter,
    CaseParticipant,
    Channel,
    Cooperative,
    Message,
    PracticeArea,
    Priority,
    Specialty,
    TriageRule,
)
from ..policy import Action
from ..roles import roles_of
from ..sla import clocks
from .assignment import _assign, _route, _routing_event, _routing_pick
from .transition import S, _activity, _now, _save, _text, _transition, mark_read


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


# Without a savepoint of its own: its one caller, `workflows.process.case_open`, holds one around
# it and the process's start (two round trips fewer per intake).
@transaction.atomic(savepoint=False)
def case_open(
    *,
    requester,
    cooperative: Cooperative,
    area: PracticeArea,
    subject: str,
    description: str,
    specialty: Specialty | None = None,
    priority: str | None = None,
    channel: str = Channel.PORTAL,
    opened_by=None,
    supervisor_triage: bool = False,
    confidential: bool = False,
    at: datetime | None = None,
) -> Case:
    """A cooperative member opens a case; rules triage it at once when they can.

    `opened_by`, when not the requester, is staff opening it on the cooperative's behalf (a
    phone call, a visit, an e-mail or PEC): `check_open_on_behalf` says who may.
    `confidential`: only the requester, the cooperative's legal representatives, the case's
    participants and staff of its area will see it (recorded as an event of its own).
    """
    at = _now(at)
    actor = opened_by or requester
    on_behalf = actor.pk != requester.pk
    if channel not in Channel.values:
        raise CaseError(_("Unknown channel “%(c)s”.") % {"c": channel}, code="channel")
    if on_behalf:
        check_open_on_behalf(
            actor=actor, requester=requester, cooperative=cooperative, area=area, channel=channel
        )
    elif not roles_of(requester).is_member_of(cooperative.pk):
        raise ForbiddenError(_("You can open cases only for your own cooperatives."))
    if not area.is_active:
        raise CaseError(_("The practice area “%(area)s” is not open.") % {"area": area.name})
    if specialty is not None and specialty.area_id != area.pk:
        raise CaseError(_("The specialty does not belong to the chosen area."), code="specialty")
    if priority is not None and priority not in Priority.values:
        raise CaseError(_("Unknown priority “%(p)s”.") % {"p": priority}, code="priority")
    subject = _text(subject, _("subject"), max_length=limits.SUBJECT)
    description = _text(description, _("description"), max_length=limits.LONG_TEXT)

    # `supervisor_triage`: nobody chose the area (mail to a mailbox without one), so a
    # supervisor decides area and priority, whatever the rules of the area it is parked in say.
    decided, rule = (
        (None, None)
        if supervisor_triage
        else triage_decide(area=area, specialty=specialty, subject=subject, description=description)
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
        channel=channel,
        confidential=bool(confidential),
        created_at=at,
    )
    opened_status = case.status
    # A new case has nobody following it yet: choosing who its mails reach asks no query (the
    # empty list is dropped again below, before anyone can add a participant).
    case._prefetched_objects_cache = {"participant_links": CaseParticipant.objects.none()}
    # The area's counter row stays locked until the intake commits, and it is taken before
    # routing: concurrent intakes of an area queue here, so each one routes on the loads the
    # ones before it left (two could otherwise give the last free place to two cases).
    case.reference = next_reference(area=area, year=timezone.localtime(at).year)
    # Routing decides before the case is written, so a routed case is inserted once, already
    # assigned (`_assign` writes it: no second write of its row and its indexes).
    decision, assignee = _routing_pick(case, at=at) if decided else (None, None)
    clocks.start(case, at=at)
    case.last_activity_at = at
    assigned_mails: list[notifications.Mail] = []
    if assignee is not None:
        _assign(case, assignee, at=at, mails=assigned_mails)
    else:
        _save(case, at)
    opened = [
        events.opened(
            case,
            actor=actor,
            status=opened_status,
            priority=case.priority,
            suggested_priority=priority,
            channel=channel,
            opened_by=actor.get_username() if on_behalf else None,
            at=at,
        )
    ]
    if decided:
        opened.append(
            events.triaged_by_rules(
                case,
                priority=case.priority,
                rule=rule.pk if rule else None,
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
    if case.confidential:
        opened.append(
            events.confidentiality_changed(
                case, actor=actor, old_confidential=False, confidential=True, at=at
            )
        )
    opened_mail = notifications.Mail(
        case=case, recipients=[requester], kind="case_opened", dedupe=f"opened:{case.pk}"
    )
    notifications.notify_all([opened_mail, *assigned_mails], opening=True)
    events.record_all(opened)
    # Whoever opened it has read it; a requester who did not (a phone call) has it unread.
    mark_read(case=case, user=actor, at=at)
    case._prefetched_objects_cache.pop("participant_links", None)
    return case


def check_open_on_behalf(
    *, actor, requester, cooperative: Cooperative, area: PracticeArea, channel
):
    """Refuse a staff intake that may not be: who opens it, for whom, and how it came.

    Staff of the area (`Action.OPEN_ON_BEHALF`) open cases for any active cooperative, in the
    name of one of its people, for a case that came by one of `STAFF_INTAKE_CHANNELS`.
    """
    # The case about to be opened: the rule reads its area and cooperative.
    policy.check_actor(Action.OPEN_ON_BEHALF, Case(cooperative=cooperative, area=area), actor)
    if cooperative.membership_status != Cooperative.MembershipStatus.ACTIVE:
        raise CaseError(
            _("%(cooperative)s is not an active member of the federation.")
            % {"cooperative": cooperative.name},
            code="cooperative",
        )
    if not roles_of(requester).is_member_of(cooperative.pk):
        raise CaseError(
            _("%(person)s is not a member of %(cooperative)s.")
            % {
                "person": requester.get_full_name() or requester.get_username(),
                "cooperative": cooperative.name,
            },
            code="requester",
        )
    if channel not in policy.STAFF_INTAKE_CHANNELS:
        raise CaseError(
            _("A case opened for a cooperative came by phone, at the desk, by e-mail or by PEC."),
            code="channel",
        )


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
    policy.check_actor(Action.TRIAGE, case, actor)
    area = area or case.area
    if not roles_of(actor).supervises_area(area.pk):
        raise ForbiddenError(_("You do not supervise the area “%(area)s”.") % {"area": area.name})
    if specialty is not None and specialty.area_id != area.pk:
        raise CaseError(_("The specialty does not belong to the chosen area."), code="specialty")
    if priority not in Priority.values:
        raise CaseError(_("Unknown priority “%(p)s”.") % {"p": priority}, code="priority")
    old_area, old_specialty, old_priority = case.area.code, case.specialty_id, case.priority
    old = _transition(case, Action.TRIAGE)
    case.area, case.specialty, case.priority = area, specialty, priority
    clocks.recompute(case, at=at)
    _activity(case, at, actor)
    _save(case, at)
    triaged = events.triaged(
        case,
        actor=actor,
        old_status=old,
        old_area=old_area,
        old_specialty=old_specialty,
        old_priority=old_priority,
        area=area.code,
        specialty=case.specialty_id,
        priority=priority,
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
    policy.check_actor(Action.REJECT, case, actor)
    if reason not in Case.RejectionReason.values:
        raise CaseError(_("Unknown rejection reason “%(r)s”.") % {"r": reason}, code="reason")
    explanation = _text(explanation, _("explanation"), max_length=limits.REASON)
    old = _transition(case, Action.REJECT)
    case.rejection_reason = reason
    case.closed_at = at
    case.clock_running_since = None
    _activity(case, at, actor)
    _save(case, at)
    Message.objects.create(case=case, author=actor, body=explanation, internal=False, created_at=at)
    events.record(
        events.rejected(
            case, actor=actor, old_status=old, reason=reason, explanation=explanation, at=at
        )
    )
    notifications.notify(
        case=case,
        recipients=[case.requester],
        kind="case_rejected",
        dedupe=f"rejected:{case.pk}",
        context={"explanation": explanation},
    )
    return case
