"""One small function per kind of case event: the audit trail, the history page and SLA figures.

Each function takes what its kind records as keyword arguments, named as the keys it stores
(`old_…` for a key of `before`), and returns the event not yet saved: `record` saves one,
`record_all` those of one move in one INSERT. A reader finds here the shape of every kind; the
set-based SQL writers (the SLA sweep, the recompute) render their JSON with the `…_sql` functions
below, from the same keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from .models import Case, CaseEvent, CaseStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser as User

Kind = CaseEvent.Kind


def _value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _keyed(keys: tuple[str, ...], values: Mapping) -> dict:
    """`values` in the order of `keys`, which must be exactly their keys."""
    if len(values) != len(keys) or set(values) != set(keys):
        raise TypeError(f"expected the keys {keys}, got {tuple(values)}")
    return {key: values[key] for key in keys}


def _jsonb_sql(keys: tuple[str, ...], columns: Mapping[str, str]) -> str:
    """`jsonb_build_object(...)` of one SQL expression per key, in the order of `keys`."""
    pairs = ", ".join(f"'{key}', {column}" for key, column in _keyed(keys, columns).items())
    return f"jsonb_build_object({pairs})"


def _build(
    case: Case,
    kind: str,
    *,
    actor: User | None = None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    at: datetime | None = None,
) -> CaseEvent:
    """The one builder: an event not yet saved (a move that records several saves them at once)."""
    return CaseEvent(
        case=case,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        before={k: _value(v) for k, v in (before or {}).items()},
        after={k: _value(v) for k, v in (after or {}).items()},
        note=note,
        created_at=at or timezone.now(),
    )


def _status_change(
    case: Case,
    kind: str,
    *,
    actor: User | None,
    old_status: str,
    note: str = "",
    at: datetime | None,
    **after,
) -> CaseEvent:
    """A move of the case: `before` its old status, `after` the new one, then what else it keeps."""
    return _build(
        case,
        kind,
        actor=actor,
        before={"status": old_status},
        after={"status": case.status, **after},
        note=note,
        at=at,
    )


def record(event: CaseEvent) -> CaseEvent:
    """Save one event (one INSERT) and return it."""
    event.save()
    return event


def record_all(events: list[CaseEvent]) -> None:
    """Save events built together in one INSERT, in their order (their ids follow it)."""
    CaseEvent.objects.bulk_create(events)


# Intake and triage.


def opened(
    case: Case,
    *,
    actor: User | None,
    status: str,
    priority: str,
    suggested_priority: str | None,
    channel: str,
    opened_by: str | None,
    at: datetime,
) -> CaseEvent:
    """A member opened the case, or staff (`opened_by`, a username) did on its behalf.

    `actor` is whoever opened it; `suggested_priority` is the one asked for, if any; `channel`
    how the case came (`portal`, `api`, `phone`...). `opened_by` is None when the requester
    opened it themselves.
    """
    return _build(
        case,
        Kind.OPENED,
        actor=actor,
        after={
            "status": status,
            "priority": priority,
            "suggested_priority": suggested_priority,
            "channel": channel,
            "opened_by": opened_by,
        },
        at=at,
    )


def triaged_by_rules(
    case: Case, *, priority: str, rule: int | None, note: str, at: datetime
) -> CaseEvent:
    """The area's rules triaged the case as it was opened (`rule` None: the area's default)."""
    return _build(case, Kind.TRIAGED, after={"priority": priority, "rule": rule}, note=note, at=at)


def triaged(
    case: Case,
    *,
    actor: User | None,
    old_status: str,
    old_area: str,
    old_specialty: int | None,
    old_priority: str,
    area: str,
    specialty: int | None,
    priority: str,
    at: datetime,
) -> CaseEvent:
    """A supervisor triaged the case: its area (by code), specialty (by id) and priority."""
    return _build(
        case,
        Kind.TRIAGED,
        actor=actor,
        before={
            "status": old_status,
            "area": old_area,
            "specialty": old_specialty,
            "priority": old_priority,
        },
        after={"status": case.status, "area": area, "specialty": specialty, "priority": priority},
        at=at,
    )


def rejected(
    case: Case, *, actor: User | None, old_status: str, reason: str, explanation: str, at: datetime
) -> CaseEvent:
    """Out of scope or a duplicate (`reason`); the note is the explanation the cooperative got."""
    return _status_change(
        case,
        Kind.REJECTED,
        actor=actor,
        old_status=old_status,
        note=explanation,
        at=at,
        reason=reason,
    )


# Routing and assignment.


def routed(
    case: Case,
    *,
    assignee: str,
    reason: str,
    consultant_id: int,
    reason_params: dict,
    explanation: str,
    at: datetime,
) -> CaseEvent:
    """Routing gave the unassigned case to `assignee` (a username); the note says why."""
    return _build(
        case,
        Kind.ROUTED,
        before={"status": CaseStatus.UNASSIGNED},
        after={
            "status": case.status,
            "assignee": assignee,
            "reason": reason,
            "consultant_id": consultant_id,
            "reason_params": reason_params,
        },
        note=explanation,
        at=at,
    )


def routing_failed(
    case: Case, *, reason: str, reason_params: dict, explanation: str, at: datetime
) -> CaseEvent:
    """Routing found no consultant for the case; the note says why."""
    return _build(
        case,
        Kind.ROUTING_FAILED,
        after={"reason": reason, "reason_params": reason_params},
        note=explanation,
        at=at,
    )


def assigned(
    case: Case,
    *,
    actor: User | None,
    old_status: str,
    old_assignee: str | None,
    assignee: str,
    at: datetime,
) -> CaseEvent:
    """A supervisor gave the case to a consultant (usernames), or to another one."""
    return _build(
        case,
        Kind.ASSIGNED,
        actor=actor,
        before={"status": old_status, "assignee": old_assignee},
        after={"status": case.status, "assignee": assignee},
        at=at,
    )


def claimed(case: Case, *, actor: User | None, assignee: str, at: datetime) -> CaseEvent:
    """A consultant took the case from the queue (`assignee`, their username)."""
    return _build(
        case,
        Kind.CLAIMED,
        actor=actor,
        before={"status": CaseStatus.UNASSIGNED},
        after={"status": case.status, "assignee": assignee},
        at=at,
    )


def released(
    case: Case,
    *,
    actor: User | None,
    old_status: str,
    previous_assignee: str | None,
    at: datetime,
) -> CaseEvent:
    """The consultant gave the case up to the area's queue."""
    return _status_change(
        case,
        Kind.RELEASED,
        actor=actor,
        old_status=old_status,
        at=at,
        previous_assignee=previous_assignee,
    )


def handed_back(
    case: Case,
    *,
    actor: User | None,
    old_status: str,
    previous_assignee: str | None,
    reason: str,
    at: datetime,
) -> CaseEvent:
    """The consultant returned the case to a supervisor; the note is their reason."""
    return _status_change(
        case,
        Kind.HANDED_BACK,
        actor=actor,
        old_status=old_status,
        note=reason,
        at=at,
        previous_assignee=previous_assignee,
    )


# The work on a case.


def acknowledged(case: Case, *, actor: User | None, message: int, at: datetime) -> CaseEvent:
    """The consultant's first response, the message `message` (its id)."""
    return _build(case, Kind.ACKNOWLEDGED, actor=actor, after={"message": message}, at=at)


def replied(
    case: Case,
    *,
    actor: User | None,
    message: int,
    first_response: bool | None = None,
    at: datetime,
) -> CaseEvent:
    """A reply, the message `message`; the staff's replies say whether it was the first response."""
    after: dict = {"message": message}
    if first_response is not None:
        after["first_response"] = first_response
    return _build(case, Kind.REPLIED, actor=actor, after=after, at=at)


def note_added(case: Case, *, actor: User | None, message: int, at: datetime) -> CaseEvent:
    """An internal note, the message `message`."""
    return _build(case, Kind.NOTE_ADDED, actor=actor, after={"message": message}, at=at)


def attachment_added(
    case: Case,
    *,
    actor: User | None,
    attachment: int,
    name: str,
    size: int,
    internal: bool,
    at: datetime | None = None,
) -> CaseEvent:
    """A document stored on the case: its id, original name, size and whether it is internal."""
    return _build(
        case,
        Kind.ATTACHMENT_ADDED,
        actor=actor,
        after={"attachment": attachment, "name": name, "size": size, "internal": internal},
        at=at,
    )


def time_recorded(
    case: Case,
    *,
    actor: User | None,
    minutes: int,
    total: int,
    note: str,
    at: datetime,
    entries: list[int] | None = None,
    beyond_plan: int = 0,
    change: str | None = None,
) -> CaseEvent:
    """Minutes spent on the case, and the case's total after them.

    `entries` are the time entries written (their ids; one entry may be split between the plan
    and an accepted estimate), `beyond_plan` the minutes of them recorded against an estimate.
    A change of an entry (`change`: `changed` or `deleted`) records the difference in `minutes`.
    """
    after: dict = {"minutes": minutes, "total": total}
    if entries is not None:
        after["entries"] = entries
    if beyond_plan:
        after["beyond_plan"] = beyond_plan
    if change is not None:
        after["change"] = change
    return _build(case, Kind.TIME_RECORDED, actor=actor, after=after, note=note, at=at)


def info_requested(
    case: Case, *, actor: User | None, old_status: str, message: int, at: datetime
) -> CaseEvent:
    """The consultant asked the cooperative a question, the message `message`."""
    return _status_change(
        case, Kind.INFO_REQUESTED, actor=actor, old_status=old_status, at=at, message=message
    )


def info_provided(
    case: Case, *, actor: User | None, old_status: str, message: int, at: datetime
) -> CaseEvent:
    """The cooperative answered, the message `message`."""
    return _status_change(
        case, Kind.INFO_PROVIDED, actor=actor, old_status=old_status, at=at, message=message
    )


# Estimates of work beyond the cooperative's service plan (`casework.services.hours`).


def estimate_proposed(
    case: Case,
    *,
    actor: User | None,
    old_status: str,
    estimate: int,
    minutes: int,
    note: str,
    at: datetime,
) -> CaseEvent:
    """The consultant proposed the estimate `estimate` (its id) of `minutes`: the case waits."""
    return _status_change(
        case,
        Kind.ESTIMATE_PROPOSED,
        actor=actor,
        old_status=old_status,
        note=note,
        at=at,
        estimate=estimate,
        minutes=minutes,
    )


def estimate_answered(
    case: Case,
    *,
    actor: User | None,
    old_status: str,
    estimate: int,
    minutes: int,
    accepted: bool,
    note: str,
    at: datetime,
) -> CaseEvent:
    """The cooperative accepted (or declined) the estimate: the case is back with the consultant."""
    return _status_change(
        case,
        Kind.ESTIMATE_ACCEPTED if accepted else Kind.ESTIMATE_DECLINED,
        actor=actor,
        old_status=old_status,
        note=note,
        at=at,
        estimate=estimate,
        minutes=minutes,
    )


# Resolution and what follows it.


def resolved(
    case: Case,
    *,
    actor: User | None,
    old_status: str,
    outcome: str,
    minutes: int,
    confirmation_due_at: datetime | None,
    at: datetime,
) -> CaseEvent:
    """Resolved with the outcome `outcome` (its code), the minutes the resolution took."""
    return _status_change(
        case,
        Kind.RESOLVED,
        actor=actor,
        old_status=old_status,
        at=at,
        outcome=outcome,
        minutes=minutes,
        confirmation_due_at=confirmation_due_at,
    )


def confirmed(case: Case, *, actor: User | None, old_status: str, at: datetime) -> CaseEvent:
    """The cooperative confirmed the resolution."""
    return _status_change(case, Kind.CONFIRMED, actor=actor, old_status=old_status, at=at)


def reopened(
    case: Case,
    *,
    actor: User | None,
    old_status: str,
    previous_outcome: str | None,
    reason: str,
    at: datetime,
) -> CaseEvent:
    """The cooperative was not satisfied; the note is their reason."""
    return _status_change(
        case,
        Kind.REOPENED,
        actor=actor,
        old_status=old_status,
        note=reason,
        at=at,
        previous_outcome=previous_outcome,
    )


def auto_closed(case: Case, *, old_status: str, at: datetime) -> CaseEvent:
    """The confirmation window ended: closed by the system, no actor."""
    return _status_change(case, Kind.AUTO_CLOSED, actor=None, old_status=old_status, at=at)


def rated(case: Case, *, actor: User | None, score: int, comment: str, at: datetime) -> CaseEvent:
    """The cooperative's rating; the note is its comment."""
    return _build(case, Kind.RATED, actor=actor, after={"score": score}, note=comment, at=at)


# Reminders to the cooperative (`casework.reminders`), by the system: no actor.

#: What a `waiting_reminded` event keeps in `after`: the reminder (its business days after the
#: question) and when the case started waiting (the open pause's start: one series per question).
WAITING_REMINDED_AFTER = ("reminder", "waiting_since")
#: What an `auto_close_warned` event keeps in `after`: when the resolved case closes by itself.
AUTO_CLOSE_WARNED_AFTER = ("closes_at",)


def waiting_reminded(
    case: Case, *, reminder: int, waiting_since: datetime, at: datetime
) -> CaseEvent:
    """The cooperative was reminded of the question it has not answered since `waiting_since`."""
    after = _keyed(WAITING_REMINDED_AFTER, {"reminder": reminder, "waiting_since": waiting_since})
    return _build(case, Kind.WAITING_REMINDED, after=after, at=at)


def auto_close_warned(case: Case, *, closes_at: datetime, at: datetime) -> CaseEvent:
    """The cooperative was warned that the resolved case closes by itself at `closes_at`."""
    after = _keyed(AUTO_CLOSE_WARNED_AFTER, {"closes_at": closes_at})
    return _build(case, Kind.AUTO_CLOSE_WARNED, after=after, at=at)


# Deadlines on the case (`casework.services.deadlines`, `casework.deadline_reminders`).

#: What every deadline event keeps in `after`: the deadline (its id), its title, kind, due date
#: (ISO), whether it is shared with the cooperative, who is responsible (a username, or None) and
#: its status (`deadline_status`: `status` is the case's in every event). A reminder adds
#: `days_before` and `recipients` (how many people it reached).
DEADLINE_AFTER = ("deadline", "title", "kind", "due_on", "shared", "responsible", "deadline_status")
DEADLINE_REMINDED_AFTER = (*DEADLINE_AFTER, "days_before", "recipients")
#: What a change of a deadline may keep in `before` (the old values of what changed) and, with
#: the new values, in `after` beside the `DEADLINE_AFTER` keys.
DEADLINE_CHANGE_KEYS = (
    "title",
    "kind",
    "trigger_date",
    "term_days",
    "term_months",
    "due_on",
    "shared",
    "responsible",
    "deadline_status",
    "note",
)


def _day(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _deadline_after(deadline, **more) -> dict:
    """A deadline as its events keep it (`DEADLINE_AFTER`), then what a kind adds."""
    return {
        "deadline": deadline.pk,
        "title": deadline.title,
        "kind": deadline.kind,
        "due_on": _day(deadline.due_on),
        "shared": deadline.shared,
        "responsible": deadline.responsible.username if deadline.responsible_id else None,
        "deadline_status": deadline.status,
        **more,
    }


def deadline_added(case: Case, *, actor: User | None, deadline, at: datetime) -> CaseEvent:
    """A deadline was added to the case (`deadline`, a saved `Deadline`)."""
    after = _keyed(DEADLINE_AFTER, _deadline_after(deadline))
    return _build(case, Kind.DEADLINE_ADDED, actor=actor, after=after, at=at)


def deadline_changed(
    case: Case, *, actor: User | None, deadline, old: Mapping, at: datetime
) -> CaseEvent:
    """The deadline changed: `old` holds the previous values of the `DEADLINE_CHANGE_KEYS` that
    changed (a reopening is a change of `deadline_status`); `after` the new ones, beside the
    deadline."""
    unknown = set(old) - set(DEADLINE_CHANGE_KEYS)
    if unknown:
        raise TypeError(f"not keys of a deadline change: {sorted(unknown)}")
    current = {
        "title": deadline.title,
        "kind": deadline.kind,
        "trigger_date": _day(deadline.trigger_date),
        "term_days": deadline.term_days,
        "term_months": deadline.term_months,
        "due_on": _day(deadline.due_on),
        "shared": deadline.shared,
        "responsible": deadline.responsible.username if deadline.responsible_id else None,
        "deadline_status": deadline.status,
        "note": deadline.note,
    }
    changed = [key for key in DEADLINE_CHANGE_KEYS if key in old]
    return _build(
        case,
        Kind.DEADLINE_CHANGED,
        actor=actor,
        before={key: _day(old[key]) for key in changed},
        after={**_deadline_after(deadline), **{key: current[key] for key in changed}},
        at=at,
    )


def deadline_done(
    case: Case, *, actor: User | None, deadline, old_status: str, at: datetime
) -> CaseEvent:
    """The deadline was met (marked done), from `old_status` (open, or missed: done late)."""
    after = _keyed(DEADLINE_AFTER, _deadline_after(deadline))
    before = {"deadline_status": old_status}
    return _build(case, Kind.DEADLINE_DONE, actor=actor, before=before, after=after, at=at)


def deadline_missed(case: Case, *, deadline, at: datetime) -> CaseEvent:
    """The deadline's day passed and it was not done: Sportello marked it missed (no actor)."""
    after = _keyed(DEADLINE_AFTER, _deadline_after(deadline))
    before = {"deadline_status": "open"}
    return _build(case, Kind.DEADLINE_MISSED, before=before, after=after, at=at)


def deadline_reminded(
    case: Case, *, deadline, days_before: int, recipients: int, at: datetime
) -> CaseEvent:
    """Sportello reminded the responsible person (and the cooperative, when shared) of the
    deadline, `days_before` calendar days before it; `recipients` people were written to."""
    after = _keyed(
        DEADLINE_REMINDED_AFTER,
        _deadline_after(deadline, days_before=days_before, recipients=recipients),
    )
    return _build(case, Kind.DEADLINE_REMINDED, after=after, at=at)


# A supervisor's moves.


def priority_changed(
    case: Case,
    *,
    actor: User | None,
    old_priority: str,
    old_resolution_due_at: datetime | None,
    priority: str,
    resolution_due_at: datetime | None,
    at: datetime,
) -> CaseEvent:
    """New priority, and the resolution's due instant it gave."""
    return _build(
        case,
        Kind.PRIORITY_CHANGED,
        actor=actor,
        before={"priority": old_priority, "resolution_due_at": old_resolution_due_at},
        after={"priority": priority, "resolution_due_at": resolution_due_at},
        at=at,
    )


def cancelled(
    case: Case, *, actor: User | None, old_status: str, reason: str, at: datetime
) -> CaseEvent:
    """A supervisor cancelled the case; the note is their reason."""
    return _status_change(
        case, Kind.CANCELLED, actor=actor, old_status=old_status, note=reason, at=at
    )


def follow_up(case: Case, *, actor: User | None, note: str, at: datetime) -> CaseEvent:
    """A supervisor's follow-up of a low rating."""
    return _build(case, Kind.FOLLOW_UP, actor=actor, note=note, at=at)


# Who sees and follows the case (`casework.services.sharing`).

#: A participant event keeps who (their user id and username) in `after`.
PARTICIPANT_AFTER = ("participant", "username")


def confidentiality_changed(
    case: Case, *, actor: User | None, old_confidential: bool, confidential: bool, at: datetime
) -> CaseEvent:
    """The case became confidential (seen only by its requester, the legal representatives,
    its participants and staff of its area), or stopped being so."""
    return _build(
        case,
        Kind.CONFIDENTIALITY_CHANGED,
        actor=actor,
        before={"confidential": old_confidential},
        after={"confidential": confidential},
        at=at,
    )


def participant_added(
    case: Case, *, actor: User | None, participant: int, username: str, at: datetime
) -> CaseEvent:
    """A person of the cooperative now follows the case."""
    after = _keyed(PARTICIPANT_AFTER, {"participant": participant, "username": username})
    return _build(case, Kind.PARTICIPANT_ADDED, actor=actor, after=after, at=at)


def participant_removed(
    case: Case, *, actor: User | None, participant: int, username: str, at: datetime
) -> CaseEvent:
    """A person stopped following the case."""
    before = _keyed(PARTICIPANT_AFTER, {"participant": participant, "username": username})
    return _build(case, Kind.PARTICIPANT_REMOVED, actor=actor, before=before, at=at)


# The registry (`casework.services.cooperatives`).

#: What a `cooperative_merged` event keeps, before and after alike: the case's cooperative (its id
#: and its name then, so that the timeline reads without looking it up).
COOPERATIVE_MERGED_KEYS = ("cooperative", "cooperative_name")


def cooperative_merged(
    case: Case,
    *,
    actor: User | None,
    old_cooperative: int,
    old_cooperative_name: str,
    cooperative: int,
    cooperative_name: str,
    note: str,
    at: datetime,
) -> CaseEvent:
    """The case's cooperative was absorbed by another (fusione per incorporazione): the case
    now belongs to `cooperative`. The note is the one the merger was recorded with."""
    before = {"cooperative": old_cooperative, "cooperative_name": old_cooperative_name}
    after = {"cooperative": cooperative, "cooperative_name": cooperative_name}
    return _build(
        case,
        Kind.COOPERATIVE_MERGED,
        actor=actor,
        before=_keyed(COOPERATIVE_MERGED_KEYS, before),
        after=_keyed(COOPERATIVE_MERGED_KEYS, after),
        note=note,
        at=at,
    )


# The SLA clocks.


def sla_paused(case: Case, *, reason: str, at: datetime) -> CaseEvent:
    """The clocks stopped (`reason`, a `SlaPause.Reason`)."""
    return _build(case, Kind.SLA_PAUSED, after={"reason": reason}, at=at)


def sla_resumed(case: Case, *, at: datetime) -> CaseEvent:
    """The clocks run again."""
    return _build(case, Kind.SLA_RESUMED, at=at)


#: What an `sla_at_risk` or `sla_breached` event keeps in `after` (`before` stays empty).
SLA_TRANSITION_AFTER = ("clock", "due_at")


def sla_transition(
    case: Case, *, kind: str, clock: str, due_at: datetime | None, at: datetime
) -> CaseEvent:
    """The SLA watch marked the case at risk or breached on the clock `clock` (its due instant)."""
    if kind not in (Kind.SLA_AT_RISK, Kind.SLA_BREACHED):
        raise ValueError(f"not an SLA transition: {kind}")
    after = _keyed(SLA_TRANSITION_AFTER, {"clock": clock, "due_at": due_at})
    return _build(case, kind, after=after, at=at)


def sla_at_risk(case: Case, *, clock: str, due_at: datetime | None, at: datetime) -> CaseEvent:
    return sla_transition(case, kind=Kind.SLA_AT_RISK, clock=clock, due_at=due_at, at=at)


def sla_breached(case: Case, *, clock: str, due_at: datetime | None, at: datetime) -> CaseEvent:
    return sla_transition(case, kind=Kind.SLA_BREACHED, clock=clock, due_at=due_at, at=at)


def sla_transition_after_sql(*, clock: str, due_at: str) -> str:
    """The `after` of `sla_transition` in SQL, from an SQL expression per key (`due_at` as text)."""
    return _jsonb_sql(SLA_TRANSITION_AFTER, {"clock": clock, "due_at": due_at})


#: What an `sla_recomputed` event keeps, before and after alike: the due instants.
SLA_RECOMPUTED_KEYS = ("first_response_due_at", "resolution_due_at")


def sla_recomputed(
    case: Case,
    *,
    old_first_response_due_at: datetime | None,
    old_resolution_due_at: datetime | None,
    first_response_due_at: datetime | None,
    resolution_due_at: datetime | None,
    at: datetime,
) -> CaseEvent:
    """A calendar or policy change moved the case's due instants."""
    before = {
        "first_response_due_at": old_first_response_due_at,
        "resolution_due_at": old_resolution_due_at,
    }
    after = {"first_response_due_at": first_response_due_at, "resolution_due_at": resolution_due_at}
    return _build(
        case,
        Kind.SLA_RECOMPUTED,
        before=_keyed(SLA_RECOMPUTED_KEYS, before),
        after=_keyed(SLA_RECOMPUTED_KEYS, after),
        at=at,
    )


def sla_recomputed_sql(
    *,
    old_first_response_due_at: str,
    old_resolution_due_at: str,
    first_response_due_at: str,
    resolution_due_at: str,
) -> tuple[str, str]:
    """`before` and `after` of `sla_recomputed` in SQL, from an SQL expression (text) per key."""
    before = {
        "first_response_due_at": old_first_response_due_at,
        "resolution_due_at": old_resolution_due_at,
    }
    after = {"first_response_due_at": first_response_due_at, "resolution_due_at": resolution_due_at}
    return _jsonb_sql(SLA_RECOMPUTED_KEYS, before), _jsonb_sql(SLA_RECOMPUTED_KEYS, after)


# Mail intake (`casework.services.mail_intake`).

#: What an `email_received` event keeps in `after`: the incoming e-mail's row (`inbound`, an
#: InboundEmail id), its sender, Message-ID and subject, the case message it became (`message`,
#: an id, None when it opened the case), whether it came by PEC (`pec`: the envelope's kind,
#: `posta-certificata` or `errore`, else None) with what the provider certified (`certified_at`,
#: `certified_id`, `certified_sender`) and what could not be read of the envelope
#: (`pec_problems`, codes of `inbound.pec`), and `follows`: the reference of the closed case a
#: reply to which opened this one (else None).
EMAIL_RECEIVED_AFTER = (
    "inbound",
    "from_address",
    "message_id",
    "subject",
    "message",
    "pec",
    "certified_at",
    "certified_id",
    "certified_sender",
    "pec_problems",
    "follows",
)
#: What an `attachment_refused` event keeps in `after`: the document's name, why it was refused
#: (`reason`, the code of the upload checks: `too_large`, `unsupported_type`, `empty`...) and the
#: parameters of that reason (`attachments.refusal_text(reason, params)` tells it).
ATTACHMENT_REFUSED_AFTER = ("name", "reason", "params")
#: What a `pec_receipt` event keeps in `after`: the receipt's row (`inbound`), its kind (`receipt`:
#: `accettazione`, `avvenuta-consegna`, `errore-consegna`...), whether it tells a failure, the
#: certified time, the recipient it is about, the outgoing e-mail it answers (`notification`, an
#: id) and the provider's extended error of a failure (else None).
PEC_RECEIPT_AFTER = (
    "inbound",
    "receipt",
    "failed",
    "certified_at",
    "recipient",
    "notification",
    "error",
)
#: What a `mail_linked` event keeps in `after`: the e-mail's row (`inbound`), its sender, the
#: cooperative it was linked to (an id) and the requester chosen (a username).
MAIL_LINKED_AFTER = ("inbound", "from_address", "cooperative", "requester")


def email_received(
    case: Case,
    *,
    actor: User | None,
    inbound: int,
    from_address: str,
    message_id: str,
    subject: str,
    message: int | None,
    pec: str | None,
    certified_at: datetime | None,
    certified_id: str | None,
    certified_sender: str | None,
    pec_problems: list[str],
    follows: str | None,
    at: datetime | None = None,
) -> CaseEvent:
    """An e-mail (or a PEC) came in and opened the case or joined it; `actor` is its sender."""
    after = _keyed(
        EMAIL_RECEIVED_AFTER,
        {
            "inbound": inbound,
            "from_address": from_address,
            "message_id": message_id,
            "subject": subject,
            "message": message,
            "pec": pec,
            "certified_at": certified_at,
            "certified_id": certified_id,
            "certified_sender": certified_sender,
            "pec_problems": list(pec_problems),
            "follows": follows,
        },
    )
    return _build(case, Kind.EMAIL_RECEIVED, actor=actor, after=after, at=at)


def attachment_refused(
    case: Case,
    *,
    actor: User | None,
    name: str,
    reason: str,
    params: dict,
    at: datetime | None = None,
) -> CaseEvent:
    """A document that came by e-mail was not stored: its name, the refusal's code and params."""
    after = _keyed(ATTACHMENT_REFUSED_AFTER, {"name": name, "reason": reason, "params": params})
    return _build(case, Kind.ATTACHMENT_REFUSED, actor=actor, after=after, at=at)


def pec_receipt(
    case: Case,
    *,
    inbound: int,
    receipt: str | None,
    failed: bool,
    certified_at: datetime | None,
    recipient: str,
    notification: int,
    error: str | None,
    at: datetime | None = None,
) -> CaseEvent:
    """The PEC provider's receipt of an e-mail Sportello sent on the case; no actor."""
    after = _keyed(
        PEC_RECEIPT_AFTER,
        {
            "inbound": inbound,
            "receipt": receipt,
            "failed": failed,
            "certified_at": certified_at,
            "recipient": recipient,
            "notification": notification,
            "error": error,
        },
    )
    return _build(case, Kind.PEC_RECEIPT, after=after, at=at)


def mail_linked(
    case: Case,
    *,
    actor: User | None,
    inbound: int,
    from_address: str,
    cooperative: int,
    requester: str,
    at: datetime | None = None,
) -> CaseEvent:
    """A supervisor linked unmatched mail to a cooperative, which opened this case."""
    after = _keyed(
        MAIL_LINKED_AFTER,
        {
            "inbound": inbound,
            "from_address": from_address,
            "cooperative": cooperative,
            "requester": requester,
        },
    )
    return _build(case, Kind.MAIL_LINKED, actor=actor, after=after, at=at)
