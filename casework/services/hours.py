"""Hours, written: time entries on a case, and estimates of work beyond the cooperative's plan.

Every minute of consulting is a `TimeEntry` recorded here (the composer's time, the API's, a
resolution's minutes spent): `Case.minutes_spent` is kept as the sum of the case's entries in the
same transaction. Time within the plan in force on the entry's day is recorded as such; time
beyond what the plan has left needs an estimate the cooperative accepted, and is recorded
against it (an entry that straddles both is split); without one it is refused. Time of a
cooperative with no plan that day, and time that is not billable, is recorded unmetered.

An estimate moves the case: proposing one sets it waiting on the cooperative with the SLA paused
(reason `estimate`), accepting or declining it gives it back to the consultant and resumes the
clocks; `workflows.process` moves the viewflow process alongside (`await_estimate`). Like every
service these expect the case row locked by the process layer; the plan's row is locked here,
after it, so two consultants recording on two cases of one cooperative cannot both spend the
plan's last hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .. import events, hours, limits, notifications, policy
from ..errors import CaseError, ConflictError, NotFoundError
from ..models import Case, CaseStatus, Estimate, Membership, ServicePlan, SlaPause, TimeEntry
from ..policy import Action
from ..roles import FULL_VIEW_ROLES
from ..sla import clocks
from .transition import _activity, _now, _save, _text, _transition

# --- Time entries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    minutes: int
    estimate: Estimate | None


def _check_minutes(minutes) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise CaseError(_("Minutes spent must be a whole number."), code="minutes")
    if not 1 <= minutes <= limits.ENTRY_MINUTES:
        raise CaseError(
            _("Minutes spent must be between 1 and %(max)d.") % {"max": limits.ENTRY_MINUTES},
            code="minutes",
        )
    return minutes


def _check_note(note) -> str:
    note = (note or "").strip()
    if len(note) > limits.ENTRY_NOTE:
        raise CaseError(
            _("A time entry's note is at most %(n)d characters (this one has %(length)d).")
            % {"n": limits.ENTRY_NOTE, "length": len(note)},
            code="too_long",
        )
    return note


def _check_day(case: Case, day, *, today: date) -> date:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise CaseError(_("Give the date the time was spent (YYYY-MM-DD)."), code="day")
    if day > today:
        raise CaseError(
            _("Time cannot be recorded for a day still to come (%(day)s).")
            % {"day": formats.date_format(day)},
            code="day_in_future",
        )
    opened = timezone.localdate(case.created_at)
    if day < opened:
        raise CaseError(
            _("The case was opened on %(opened)s: time cannot be recorded before then.")
            % {"opened": formats.date_format(opened)},
            code="day_before_case",
        )
    return day


def _locked_plan(case: Case, day: date) -> ServicePlan | None:
    plan = hours.plan_for_day(case.cooperative_id, day)
    if plan is None:
        return None
    return ServicePlan.objects.select_for_update().get(pk=plan.pk)


def _estimate_needed(case: Case, *, left: int) -> CaseError:
    return CaseError(
        _(
            "This time goes beyond the service plan of %(cooperative)s (%(left)s hours left in "
            "it for this area) and no accepted estimate of this case covers it: propose an "
            "estimate to the cooperative first."
        )
        % {"cooperative": case.cooperative.name, "left": hours.hours_text(left)},
        code="estimate_needed",
    )


def _allocate(case: Case, *, minutes: int, day: date, billable: bool) -> list[_Part]:
    """Split `minutes` between what the plan has left and the case's accepted estimates."""
    if not billable:
        return [_Part(minutes, None)]
    plan = _locked_plan(case, day)
    if plan is None:
        return [_Part(minutes, None)]
    _included, left = hours.bucket_left(plan, case.area_id)
    parts = [_Part(min(minutes, left), None)] if left else []
    rest = minutes - min(minutes, left)
    for estimate, covers in hours.estimates_left(case):
        if not rest:
            break
        if covers:
            parts.append(_Part(min(rest, covers), estimate))
            rest -= min(rest, covers)
    if rest:
        raise _estimate_needed(case, left=left)
    return parts


def record_entries(
    case: Case, *, actor, minutes, day: date | None = None, note: str = "", billable=True, at
) -> list[TimeEntry]:
    """Write the time entries of `minutes` and add them to the case's total (not saved).

    For the services that record time along with something else (a resolution's minutes): the
    caller has checked who acts and the case's status, saves the case and records the event.
    """
    minutes = _check_minutes(minutes)
    note = _check_note(note)
    day = _check_day(case, day or timezone.localdate(at), today=timezone.localdate(at))
    if not isinstance(billable, bool):
        raise CaseError(_("Say whether the time is billable (true or false)."), code="billable")
    entries = TimeEntry.objects.bulk_create(
        [
            TimeEntry(
                case=case,
                consultant=actor,
                day=day,
                minutes=part.minutes,
                note=note,
                billable=billable,
                estimate=part.estimate,
                created_at=at,
            )
            for part in _allocate(case, minutes=minutes, day=day, billable=billable)
        ]
    )
    case.minutes_spent += minutes
    return entries


@transaction.atomic
def case_record_time(
    *,
    case: Case,
    actor,
    minutes: int,
    note: str = "",
    day: date | None = None,
    billable: bool = True,
    at: datetime | None = None,
) -> list[TimeEntry]:
    """Record time spent on the case by `actor` on `day` (today by default)."""
    at = _now(at)
    policy.check_actor(Action.RECORD_TIME, case, actor)
    policy.check_state(Action.RECORD_TIME, case)
    entries = record_entries(
        case, actor=actor, minutes=minutes, day=day, note=note, billable=billable, at=at
    )
    _save(case, at)
    events.record(
        events.time_recorded(
            case,
            actor=actor,
            minutes=minutes,
            total=case.minutes_spent,
            note=entries[0].note,
            entries=[entry.pk for entry in entries],
            beyond_plan=sum(e.minutes for e in entries if e.estimate_id is not None),
            at=at,
        )
    )
    return entries


def _entry_of(case: Case, entry: TimeEntry | int) -> TimeEntry:
    pk = entry.pk if isinstance(entry, TimeEntry) else entry
    found = TimeEntry.objects.select_for_update().filter(pk=pk, case=case).first()
    if found is None:
        raise NotFoundError(_("No such time entry on this case."))
    return found


def _check_change(case: Case, entry: TimeEntry, actor, at: datetime) -> None:
    policy.check_change_time_entry(entry, case, actor, today=timezone.localdate(at))
    policy.check_state(Action.RECORD_TIME, case)


@transaction.atomic
def time_entry_change(
    *,
    case: Case,
    entry: TimeEntry | int,
    actor,
    minutes: int | None = None,
    note: str | None = None,
    billable: bool | None = None,
    at: datetime | None = None,
) -> TimeEntry:
    """Correct a time entry's minutes, note or billability; the case's total follows.

    The entry keeps where it stands (within the plan, or under its estimate): more minutes than
    what is left there are refused, to be recorded as a new entry. Time made not billable no
    longer counts against the plan nor against an estimate.
    """
    at = _now(at)
    entry = _entry_of(case, entry)
    _check_change(case, entry, actor, at)
    new_minutes = entry.minutes if minutes is None else _check_minutes(minutes)
    new_note = entry.note if note is None else _check_note(note)
    new_billable = entry.billable if billable is None else billable
    if not isinstance(new_billable, bool):
        raise CaseError(_("Say whether the time is billable (true or false)."), code="billable")
    estimate = entry.estimate if new_billable else None
    counted = entry.minutes if entry.billable else 0
    if new_billable and new_minutes > counted:
        if estimate is not None:
            covers = dict(
                (covered.pk, left)
                for covered, left in hours.estimates_left(case, excluding=entry.pk)
            )
            if covers.get(estimate.pk, 0) < new_minutes:
                raise _estimate_needed(case, left=0)
        else:
            plan = _locked_plan(case, entry.day)
            if plan is not None:
                _included, left = hours.bucket_left(plan, case.area_id, excluding=entry.pk)
                if left < new_minutes:
                    raise _estimate_needed(case, left=left)
    delta = new_minutes - entry.minutes
    entry.minutes, entry.note, entry.billable, entry.estimate = (
        new_minutes,
        new_note,
        new_billable,
        estimate,
    )
    entry.save(update_fields=["minutes", "note", "billable", "estimate"])
    case.minutes_spent += delta
    _save(case, at)
    events.record(
        events.time_recorded(
            case,
            actor=actor,
            minutes=delta,
            total=case.minutes_spent,
            note=entry.note,
            entries=[entry.pk],
            change="changed",
            at=at,
        )
    )
    return entry


@transaction.atomic
def time_entry_delete(*, case: Case, entry: TimeEntry | int, actor, at=None) -> None:
    """Delete a time entry recorded by mistake; the case's total follows."""
    at = _now(at)
    entry = _entry_of(case, entry)
    _check_change(case, entry, actor, at)
    pk, minutes = entry.pk, entry.minutes
    entry.delete()
    case.minutes_spent = max(case.minutes_spent - minutes, 0)
    _save(case, at)
    events.record(
        events.time_recorded(
            case,
            actor=actor,
            minutes=-minutes,
            total=case.minutes_spent,
            note="",
            entries=[pk],
            change="deleted",
            at=at,
        )
    )


# --- Estimates -----------------------------------------------------------------------------------


def _deciders(case: Case) -> list:
    """Who hears of an estimate: the requester, and the people who answer for the cooperative
    (`notifications` keeps those who still see the case: a referent never hears of a
    confidential one)."""
    people = [
        membership.user
        for membership in Membership.objects.filter(
            cooperative_id=case.cooperative_id, is_active=True, role__in=FULL_VIEW_ROLES
        ).select_related("user")
    ]
    return [case.requester, *people]


@transaction.atomic
def case_propose_estimate(
    *, case: Case, actor, minutes: int, note: str, at: datetime | None = None
) -> Estimate:
    """The consultant asks the cooperative to accept more hours than its plan includes: the case
    waits on the cooperative, the clocks stop, the cooperative is e-mailed."""
    at = _now(at)
    policy.check_actor(Action.PROPOSE_ESTIMATE, case, actor)
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise CaseError(_("An estimate is a whole number of minutes."), code="minutes")
    if not 1 <= minutes <= limits.ESTIMATE_MINUTES:
        raise CaseError(
            _("An estimate is between 1 minute and %(hours)d hours.")
            % {"hours": limits.ESTIMATE_MINUTES // 60},
            code="minutes",
        )
    note = _text(note, _("what the hours are for"), max_length=limits.REASON)
    today = timezone.localdate(at)
    if hours.plan_for_day(case.cooperative_id, today) is None:
        raise CaseError(
            _(
                "%(cooperative)s has no service plan in force on %(day)s: an estimate is for "
                "work beyond a plan, so there is nothing to go beyond."
            )
            % {"cooperative": case.cooperative.name, "day": formats.date_format(today)},
            code="no_plan",
        )
    old = _transition(case, Action.PROPOSE_ESTIMATE)
    if Estimate.objects.filter(case=case, status=Estimate.Status.PENDING).exists():
        raise ConflictError(
            _("An estimate already waits for the cooperative's answer."), code="estimate_pending"
        )
    estimate = Estimate.objects.create(
        case=case, minutes=minutes, note=note, proposed_by=actor, proposed_at=at
    )
    clocks.first_response_given(case, at=at)
    clocks.pause(case, at=at, reason=SlaPause.Reason.ESTIMATE)
    _activity(case, at, actor)
    _save(case, at)
    events.record_all(
        [
            events.estimate_proposed(
                case,
                actor=actor,
                old_status=old,
                estimate=estimate.pk,
                minutes=minutes,
                note=note,
                at=at,
            ),
            events.sla_paused(case, reason=SlaPause.Reason.ESTIMATE, at=at),
        ]
    )
    notifications.notify(
        case=case,
        recipients=_deciders(case),
        kind="estimate_proposed",
        dedupe=f"estimate_proposed:{estimate.pk}",
        context={"estimate": estimate},
    )
    return estimate


def _answer(
    *, case: Case, estimate: Estimate | int, actor, accepted: bool, note: str, at
) -> Estimate:
    at = _now(at)
    action = Action.ACCEPT_ESTIMATE if accepted else Action.DECLINE_ESTIMATE
    policy.check_actor(action, case, actor)
    note = (note or "").strip()
    if len(note) > limits.REASON:
        raise CaseError(
            _("The note is at most %(n)d characters.") % {"n": limits.REASON}, code="too_long"
        )
    pk = estimate.pk if isinstance(estimate, Estimate) else estimate
    estimate = Estimate.objects.select_for_update().filter(pk=pk, case=case).first()
    if estimate is None:
        raise NotFoundError(_("No such estimate on this case."))
    if estimate.status != Estimate.Status.PENDING:
        raise ConflictError(
            _("This estimate was already answered (%(status)s).")
            % {"status": estimate.get_status_display()},
            code="estimate_answered",
        )
    old = _transition(case, action)
    estimate.status = Estimate.Status.ACCEPTED if accepted else Estimate.Status.DECLINED
    estimate.answered_by, estimate.answered_at, estimate.answer_note = actor, at, note
    estimate.save(update_fields=["status", "answered_by", "answered_at", "answer_note"])
    clocks.resume(case, at=at)
    _activity(case, at, actor)
    _save(case, at)
    events.record_all(
        [
            events.estimate_answered(
                case,
                actor=actor,
                old_status=old,
                estimate=estimate.pk,
                minutes=estimate.minutes,
                accepted=accepted,
                note=note,
                at=at,
            ),
            events.sla_resumed(case, at=at),
        ]
    )
    notifications.notify(
        case=case,
        recipients=[case.assignee],
        kind="estimate_accepted" if accepted else "estimate_declined",
        dedupe=f"estimate_answered:{estimate.pk}",
        context={"estimate": estimate, "answer": note},
    )
    return estimate


@transaction.atomic
def case_accept_estimate(
    *, case: Case, estimate: Estimate | int, actor, note: str = "", at=None
) -> Estimate:
    """The cooperative accepts: the hours may be worked beyond the plan, the case goes back to
    the consultant and the clocks resume."""
    return _answer(case=case, estimate=estimate, actor=actor, accepted=True, note=note, at=at)


@transaction.atomic
def case_decline_estimate(
    *, case: Case, estimate: Estimate | int, actor, note: str = "", at=None
) -> Estimate:
    """The cooperative declines: no work beyond the plan; the case goes back to the consultant
    (to finish within the plan, or resolve) and the clocks resume."""
    return _answer(case=case, estimate=estimate, actor=actor, accepted=False, note=note, at=at)


def estimates_withdraw(*, case: Case, at: datetime) -> int:
    """A case that ends (cancelled) withdraws the estimate still waiting on it, if any."""
    return Estimate.objects.filter(case=case, status=Estimate.Status.PENDING).update(
        status=Estimate.Status.WITHDRAWN, answered_at=at
    )


def check_not_waiting_on_estimate(case: Case) -> None:
    """A message does not answer an estimate: it is accepted or declined (409 otherwise)."""
    if case.status == CaseStatus.WAITING and hours.waits_on_estimate(case):
        raise ConflictError(
            _("The case waits for your answer to an estimate: accept it or decline it."),
            code="estimate_pending",
        )
