"""Deadlines (scadenze) on a case: add one, change it, mark it done or open it again.

Staff of the case may do each (`policy.Action.MANAGE_DEADLINES`). The date is computed by
`casework.sla.deadlines` from the kind, the trigger date and the term (business days on the
office calendar of the case's cooperative) and computed again whenever one of them changes; a
new date starts a new series of reminders (`casework.deadline_reminders`). Every value is
checked before anything is written, each write records its event, and a refusal is a domain
error (400 for the input, 403 for the actor, 409 for the deadline's state) with nothing saved.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events, limits, policy
from ..errors import CaseError, ConflictError
from ..models import Case, Deadline, DeadlineKind, DeadlineReminder
from ..policy import Action
from ..roles import roles_of
from ..sla import clocks
from ..sla import deadlines as terms

Status = Deadline.Status
#: The longest term a deadline takes: no office term is longer (about 27 years of calendar days,
#: 40 of open days), and the columns hold it.
MAX_TERM_DAYS = terms.MAX_BUSINESS_DAYS
MAX_TERM_MONTHS = 360
TITLE_LENGTH = Deadline._meta.get_field("title").max_length
#: What `deadline_change` may change; the date follows from the kind, trigger and term.
CHANGEABLE = (
    "title",
    "kind",
    "trigger_date",
    "term_days",
    "term_months",
    "responsible",
    "shared",
    "note",
)
_COMPUTED_FROM = frozenset({"kind", "trigger_date", "term_days", "term_months"})


def deadline_due_on(
    *, case: Case, kind: str, trigger_date, term_days=None, term_months=None
) -> date:
    """The date a deadline of `kind` on `case` falls on, or a CaseError naming the bad value.

    Its code is the field at fault (`kind`, `trigger_date`, `term`), so that forms show the
    message beside it; the words are the reader's (the arithmetic's own are English).
    """
    try:
        kind = terms.DeadlineKind(kind)
    except ValueError:
        raise CaseError(
            _("Unknown kind of deadline “%(kind)s”; choose one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(DeadlineKind.values)},
            code="kind",
        ) from None
    if isinstance(trigger_date, datetime) or not isinstance(trigger_date, date):
        raise CaseError(_("Give the trigger date as a date."), code="trigger_date")
    if not terms.FIRST_YEAR <= trigger_date.year <= terms.LAST_TRIGGER_YEAR:
        raise CaseError(
            _("The date must be between %(first)d and %(last)d.")
            % {"first": terms.FIRST_YEAR, "last": terms.LAST_TRIGGER_YEAR},
            code="trigger_date",
        )
    for value, most in ((term_days, MAX_TERM_DAYS), (term_months, MAX_TERM_MONTHS)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise CaseError(_("A term is a whole number."), code="term")
        if not 1 <= value <= most:
            raise CaseError(
                _("A term must be between 1 and %(most)d.") % {"most": most}, code="term"
            )
    if kind is terms.DeadlineKind.FIXED:
        if term_days is not None or term_months is not None:
            raise CaseError(
                _("A deadline on a fixed date is that date itself: give no term."), code="term"
            )
        return trigger_date
    if term_days is None and term_months is None:
        raise CaseError(_("Give the term, in days or in months."), code="term")
    if term_days is not None and term_months is not None:
        raise CaseError(_("Give the term in days or in months, not both."), code="term")
    calendar = None
    if kind is terms.DeadlineKind.BUSINESS:
        if term_months is not None:
            raise CaseError(
                _("A term of business days is counted in days: give days, not months."),
                code="term",
            )
        try:
            calendar = clocks.calendar_for_office(case.cooperative.office_id)
        except ValueError as broken:
            raise CaseError(
                _("The office's calendar cannot count business days (%(error)s).")
                % {"error": broken},
                code="calendar",
            ) from broken
    try:
        return terms.deadline(
            kind, trigger_date, days=term_days, months=term_months, calendar=calendar
        ).due
    except terms.DeadlineError as beyond:
        # What is left: a date past 9999-12-31, or an office calendar without open days.
        raise CaseError(
            _("This deadline cannot be computed from that date and term: %(error)s.")
            % {"error": beyond},
            code="term",
        ) from beyond


def _text(value, *, field: str, label: str, max_length: int, required: bool) -> str:
    if not isinstance(value, str):
        raise CaseError(_("“%(field)s” must be text.") % {"field": label}, code=field)
    value = value.strip()
    if required and not value:
        raise CaseError(_("“%(field)s” cannot be empty.") % {"field": label}, code=field)
    if len(value) > max_length:
        raise CaseError(
            _("“%(field)s” is too long (at most %(n)d characters).")
            % {"field": label, "n": max_length},
            code=field,
        )
    return value


def _check_responsible(case: Case, person) -> None:
    """The responsible person works on the case: staff of it, as the policy says."""
    if person is None or not policy.is_staff_of(case, roles_of(person)):
        raise CaseError(
            _("%(who)s cannot be responsible: choose a consultant or supervisor of this case.")
            % {"who": person.get_username() if person is not None else _("Nobody")},
            code="responsible",
        )


def _check_may_manage(case: Case | None, actor) -> None:
    if case is None:
        raise ConflictError(
            _("This deadline belongs to no case yet: it follows its recurring obligation."),
            code="no_case",
        )
    policy.check_actor(Action.MANAGE_DEADLINES, case, actor)
    policy.check_state(Action.MANAGE_DEADLINES, case)


def _lock(deadline: Deadline | int) -> Deadline:
    """The deadline under its row lock, with what the checks and the events read."""
    pk = deadline.pk if isinstance(deadline, Deadline) else deadline
    return (
        Deadline.objects.select_for_update(of=("self",))
        .select_related("case__cooperative", "case__area", "responsible")
        .get(pk=pk)
    )


@transaction.atomic
def deadline_add(
    *,
    case: Case,
    actor,
    title: str,
    kind: str,
    trigger_date: date,
    term_days: int | None = None,
    term_months: int | None = None,
    responsible=None,
    shared: bool = False,
    note: str = "",
    at: datetime | None = None,
) -> Deadline:
    """A new deadline on `case`; its responsible person is the case's assignee unless named
    (the one adding it when nobody holds the case)."""
    at = at or timezone.now()
    _check_may_manage(case, actor)
    title = _text(title, field="title", label=_("title"), max_length=TITLE_LENGTH, required=True)
    note = _text(note, field="note", label=_("note"), max_length=limits.SHORT_NOTE, required=False)
    due_on = deadline_due_on(
        case=case,
        kind=kind,
        trigger_date=trigger_date,
        term_days=term_days,
        term_months=term_months,
    )
    if not isinstance(shared, bool):
        raise CaseError(_("Say whether the cooperative sees it: yes or no."), code="shared")
    responsible = responsible or case.assignee or actor
    _check_responsible(case, responsible)
    deadline = Deadline.objects.create(
        cooperative_id=case.cooperative_id,
        case=case,
        area_id=case.area_id,
        title=title,
        kind=kind,
        trigger_date=trigger_date,
        term_days=term_days,
        term_months=term_months,
        due_on=due_on,
        responsible=responsible,
        shared=shared,
        note=note,
        created_by=actor,
        created_at=at,
    )
    events.record(events.deadline_added(case, actor=actor, deadline=deadline, at=at))
    return deadline


@transaction.atomic
def deadline_change(*, deadline: Deadline | int, actor, at: datetime | None = None, **changes):
    """Change some of a deadline's values (`CHANGEABLE`); the date is computed again when the
    kind, trigger or term changed, and a missed deadline given a date still to come is open
    again. Nothing changed: no event."""
    at = at or timezone.now()
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise CaseError(
            _("These values of a deadline cannot be changed: %(names)s.")
            % {"names": ", ".join(sorted(unknown))},
            code="invalid",
        )
    deadline = _lock(deadline)
    case = deadline.case
    _check_may_manage(case, actor)
    new = {name: changes.get(name, getattr(deadline, name)) for name in CHANGEABLE}
    new["title"] = _text(
        new["title"], field="title", label=_("title"), max_length=TITLE_LENGTH, required=True
    )
    new["note"] = _text(
        new["note"], field="note", label=_("note"), max_length=limits.SHORT_NOTE, required=False
    )
    if not isinstance(new["shared"], bool):
        raise CaseError(_("Say whether the cooperative sees it: yes or no."), code="shared")
    due_on = deadline.due_on
    if _COMPUTED_FROM & set(changes):
        due_on = deadline_due_on(
            case=case,
            kind=new["kind"],
            trigger_date=new["trigger_date"],
            term_days=new["term_days"],
            term_months=new["term_months"],
        )
    if "responsible" in changes:
        _check_responsible(case, new["responsible"])
    old = {}
    for name in CHANGEABLE:
        before = getattr(deadline, name)
        if before != new[name]:
            old[name] = before.get_username() if name == "responsible" and before else before
            setattr(deadline, name, new[name])
    if due_on != deadline.due_on:
        old["due_on"] = deadline.due_on
        deadline.due_on = due_on
        # A new date, a new series of reminders (their e-mails' keys carry the date).
        DeadlineReminder.objects.filter(deadline=deadline).delete()
        if deadline.status == Status.MISSED and due_on >= timezone.localdate(at):
            old["deadline_status"] = deadline.status
            deadline.status, deadline.missed_at = Status.OPEN, None
    if not old:
        return deadline
    deadline.save()
    events.record(events.deadline_changed(case, actor=actor, deadline=deadline, old=old, at=at))
    return deadline


@transaction.atomic
def deadline_mark_done(*, deadline: Deadline | int, actor, at: datetime | None = None):
    """The deadline was met: done, by `actor`, now (a missed one too: done late)."""
    at = at or timezone.now()
    deadline = _lock(deadline)
    _check_may_manage(deadline.case, actor)
    if deadline.status == Status.DONE:
        raise ConflictError(_("This deadline is already done."), code="already_done")
    old_status = deadline.status
    deadline.status, deadline.done_at, deadline.done_by = Status.DONE, at, actor
    deadline.save()
    events.record(
        events.deadline_done(
            deadline.case, actor=actor, deadline=deadline, old_status=old_status, at=at
        )
    )
    return deadline


@transaction.atomic
def deadline_reopen(*, deadline: Deadline | int, actor, at: datetime | None = None):
    """A deadline marked done by mistake: open again, or missed if its day has passed."""
    at = at or timezone.now()
    deadline = _lock(deadline)
    _check_may_manage(deadline.case, actor)
    if deadline.status != Status.DONE:
        raise ConflictError(_("Only a deadline marked done can be reopened."), code="not_done")
    deadline.done_at = deadline.done_by = None
    if deadline.due_on >= timezone.localdate(at):
        deadline.status, deadline.missed_at = Status.OPEN, None
    else:
        deadline.status, deadline.missed_at = Status.MISSED, at
    deadline.save()
    events.record(
        events.deadline_changed(
            deadline.case,
            actor=actor,
            deadline=deadline,
            old={"deadline_status": Status.DONE},
            at=at,
        )
    )
    return deadline


__all__ = [
    "CHANGEABLE",
    "MAX_TERM_DAYS",
    "MAX_TERM_MONTHS",
    "deadline_add",
    "deadline_change",
    "deadline_due_on",
    "deadline_mark_done",
    "deadline_reopen",
]
