"""Recurring obligations: the catalogue's rules checked, each cooperative's deadlines for the next
twelve months generated once, and a case opened for each a set number of days before it.

The rules (`RecurringObligation`):
- `every` N months counted from a date: the cooperative's own (`anchor`: its foundation, joining
  the federation, its last audit, the approval of its statements), whose occurrences are that date
  + k × N months for k ≥ 1 (the date itself is the event that already happened); or `fixed`, the
  obligation's `start_date`, the same for everyone, whose occurrences start with that date (k ≥ 0).
  Months by the common calendar, always counted from the first date (`add_months`: 31 January + 1
  month is 28 February, + 2 months is 31 March).
- `within` N days of a cooperative's date: one occurrence, that date + N calendar days.
An occurrence is the date by the rule; its deadline falls due on it moved by the deadline's kind
(a `tax`, `judicial` or `judicial_labour` date on a weekend or national holiday moves to the next
working day, a `business` one to the office's next open day, a `fixed` one never moves), and a
`within` term is counted by its kind from the cooperative's date (casework.sla.deadlines: the
August suspension of a judicial term included).

`obligations_generate` (daily from beat, and `manage.py generate_obligations`): every occurrence
of an active obligation, for each active cooperative of its kinds with its date set, that falls
due from today on and occurs within the next twelve months becomes one Deadline. Each obligation
is generated under its row lock and the unique (obligation, cooperative, occurrence) backs it, so
two runs never insert one twice and a second run finds everything there. Then each open deadline
of an active obligation that has no case and falls due within the obligation's
`open_case_days_before` days gets its case, opened through the process for the cooperative's
legal representative (else a referent, else a member), under the deadline's row lock: once. A
cooperative with nobody to open it for keeps the deadline without a case, counted as skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Value, When
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from workflows import process

from .. import events, limits
from ..errors import CaseError
from ..mail import language_of
from ..models import (
    Channel,
    Cooperative,
    Deadline,
    DeadlineKind,
    Membership,
    RecurringObligation,
)
from ..sla import deadlines as terms
from ..sla.clocks import calendar_for_office

log = logging.getLogger(__name__)

Rule = RecurringObligation.Rule
Anchor = RecurringObligation.Anchor

# Deadlines are generated this many months ahead.
WINDOW_MONTHS = 12
# A rule is refused when it would give one cooperative more deadlines than this in the window;
# with whole months (at least 1) it gives at most 13: this guards rows saved around validation.
MAX_PER_WINDOW = 24
# Dates the catalogue may count from (a start date in year 9999 has no twelve months after it).
LAST_YEAR = 2999
MAX_INTERVAL_MONTHS = 120
# Rows per INSERT of new deadlines.
INSERT_BATCH = 1000
# A date by the rule this many days before today may still fall due today or later (moved off a
# weekend, holidays, an office's closure); it is generated when its due date is not past.
_MOVE_SLACK = timedelta(days=31)
# Who a generated case is opened for, in this order of preference.
_REQUESTER_ROLES = (
    Membership.Role.LEGAL_REPRESENTATIVE,
    Membership.Role.REFERENT,
    Membership.Role.MEMBER,
)


# --- The catalogue's rules ---------------------------------------------------------------------


def obligation_check(obligation: RecurringObligation) -> None:
    """Refuse a rule that cannot be generated, or would generate without measure.

    Raises ValidationError with the message of each wrong field (the admin shows them beside the
    fields; the generator skips such a row and says why).
    """
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if obligation.rule not in Rule.values:
        refuse("rule", _("Unknown rule “%(rule)s”.") % {"rule": obligation.rule})
    if obligation.anchor not in Anchor.values:
        refuse("anchor", _("Unknown date to count from “%(a)s”.") % {"a": obligation.anchor})
    if obligation.deadline_kind not in DeadlineKind.values:
        refuse(
            "deadline_kind",
            _("Unknown deadline kind “%(kind)s”.") % {"kind": obligation.deadline_kind},
        )
    _check_kinds(obligation.cooperative_kinds, refuse)
    if obligation.rule == Rule.EVERY:
        _check_every(obligation, refuse)
    elif obligation.rule == Rule.WITHIN:
        _check_within(obligation, refuse)
    if obligation.start_date is not None and obligation.anchor != Anchor.FIXED:
        refuse(
            "start_date",
            _(
                "The start date is used only by rules counted from it; this one counts from "
                "a date of each cooperative. Leave it empty."
            ),
        )
    if not errors:
        per_window = max_per_window(obligation)
        if per_window > MAX_PER_WINDOW:
            refuse(
                "interval_months",
                _(
                    "This rule would generate %(count)d deadlines a year for each cooperative; "
                    "at most %(max)d are allowed."
                )
                % {"count": per_window, "max": MAX_PER_WINDOW},
            )
    if errors:
        raise ValidationError(errors)


def _check_kinds(kinds, refuse: Callable[[str, str], None]) -> None:
    if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
        refuse("cooperative_kinds", _("Give a list of cooperative kinds, or none for all."))
        return
    unknown = [kind for kind in kinds if kind not in Cooperative.Kind.values]
    if unknown:
        refuse(
            "cooperative_kinds",
            _("Unknown cooperative kinds: %(kinds)s (known: %(known)s).")
            % {"kinds": ", ".join(unknown), "known": ", ".join(Cooperative.Kind.values)},
        )


def _check_every(obligation: RecurringObligation, refuse: Callable[[str, str], None]) -> None:
    months = obligation.interval_months
    if months is None:
        refuse("interval_months", _("Say every how many months the obligation recurs."))
    elif months < 1:
        refuse(
            "interval_months",
            _(
                "A rule that recurs every %(months)d months would generate deadlines without "
                "end: at least 1 month."
            )
            % {"months": months},
        )
    elif months > MAX_INTERVAL_MONTHS:
        refuse(
            "interval_months",
            _("At most every %(max)d months (ten years).") % {"max": MAX_INTERVAL_MONTHS},
        )
    if obligation.within_days is not None:
        refuse("within_days", _("“Within N days” is for the other rule: leave it empty."))
    if obligation.anchor == Anchor.FIXED:
        start = obligation.start_date
        if start is None:
            refuse(
                "start_date",
                _("Give the date the obligation is first due, or count from a cooperative's date."),
            )
        elif not terms.FIRST_YEAR <= start.year <= LAST_YEAR:
            refuse(
                "start_date",
                _("The start date must be between %(first)d and %(last)d.")
                % {"first": terms.FIRST_YEAR, "last": LAST_YEAR},
            )


def _check_within(obligation: RecurringObligation, refuse: Callable[[str, str], None]) -> None:
    days = obligation.within_days
    if days is None:
        refuse("within_days", _("Say within how many days of the event it is due."))
    elif days < 1:
        refuse("within_days", _("At least 1 day."))
    if obligation.anchor == Anchor.FIXED:
        refuse(
            "anchor",
            _(
                "“Within N days” counts from an event of each cooperative: choose which "
                "(e.g. the approval of the statements)."
            ),
        )
    if obligation.interval_months is not None:
        refuse("interval_months", _("“Every N months” is for the other rule: leave it empty."))


def max_per_window(obligation: RecurringObligation) -> int:
    """The most deadlines the rule can give one cooperative in the generator's window."""
    if obligation.rule == Rule.WITHIN:
        return 1
    # Occurrences k × N months apart, in a window of WINDOW_MONTHS months both ends included.
    return WINDOW_MONTHS // max(obligation.interval_months or 0, 1) + 1


# --- Occurrences and due dates (no queries) -------------------------------------------------------


def occurrences(
    obligation: RecurringObligation, anchor_date: date | None, *, start: date, end: date
) -> list[date]:
    """The dates by the rule from `start` to `end` (both included), before any move.

    `anchor_date` is the cooperative's date the rule counts from (ignored by `fixed` rules).
    """
    if obligation.rule == Rule.WITHIN:
        if anchor_date is None:
            return []
        try:
            occurrence = anchor_date + timedelta(days=obligation.within_days)
        except OverflowError:
            return []
        return [occurrence] if start <= occurrence <= end else []
    if obligation.anchor == Anchor.FIXED:
        origin, first_k = obligation.start_date, 0
    else:
        origin, first_k = anchor_date, 1
    if origin is None or origin > end:
        return []
    interval = obligation.interval_months
    behind = (start.year - origin.year) * 12 + start.month - origin.month
    # The first multiple that can reach `start` (a month earlier: add_months keeps the day).
    k = max(first_k, (behind - 1) // interval)
    found = []
    for _step in range(MAX_PER_WINDOW + 3):
        try:
            occurrence = terms.add_months(origin, k * interval) if k else origin
        except terms.DeadlineError:
            break  # past 9999
        if occurrence > end:
            break
        if occurrence >= start:
            found.append(occurrence)
        k += 1
    return found


def due_on(
    obligation: RecurringObligation,
    occurrence: date,
    anchor_date: date | None,
    *,
    calendar=None,
) -> date:
    """When the deadline of an occurrence falls due, by the obligation's deadline kind.

    `calendar` is the cooperative's office calendar, needed by `business` deadlines only.
    """
    kind = DeadlineKind(obligation.deadline_kind)
    if kind == DeadlineKind.FIXED:
        return occurrence
    if obligation.rule == Rule.WITHIN:
        days = {"days": obligation.within_days}
        if kind == DeadlineKind.BUSINESS:
            return terms.deadline(kind, anchor_date, calendar=calendar, **days).due
        return terms.deadline(kind, anchor_date, **days).due
    if kind == DeadlineKind.BUSINESS:
        # The first open day on or after the occurrence: one open day after the day before it.
        return terms.business(occurrence - timedelta(days=1), 1, calendar=calendar)
    return terms.next_working_day(occurrence)


def deadline_title(obligation: RecurringObligation, occurrence: date) -> str:
    """The obligation's name and the period of the occurrence: `Versamento F24 · 2026-03`."""
    yearly = obligation.rule == Rule.WITHIN or (obligation.interval_months or 0) % 12 == 0
    period = f"{occurrence:%Y}" if yearly else f"{occurrence:%Y-%m}"
    suffix = f" · {period}"
    room = Deadline._meta.get_field("title").max_length - len(suffix)
    return f"{obligation.name[:room].rstrip()}{suffix}"


# --- Generation ----------------------------------------------------------------------------------


@dataclass
class ObligationRun:
    """What one run did (or, dry, would do) for one obligation."""

    obligation: int
    name: str
    deadlines_created: int = 0
    deadlines_existing: int = 0
    cases_opened: int = 0
    skipped_no_people: int = 0
    skipped_refused: int = 0
    # The rule was refused (saved around the admin's validation): nothing generated.
    invalid: bool = False
    # Why: the refused rule, an office calendar that cannot count, a case the process refused.
    problems: list[str] = field(default_factory=list)


@dataclass
class GenerationSummary:
    dry_run: bool
    today: date
    runs: list[ObligationRun] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(run, name) for run in self.runs)

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "today": self.today.isoformat(),
            "obligations": len(self.runs),
            "deadlines_created": self.total("deadlines_created"),
            "deadlines_existing": self.total("deadlines_existing"),
            "cases_opened": self.total("cases_opened"),
            "skipped_no_people": self.total("skipped_no_people"),
            "skipped_refused": self.total("skipped_refused"),
            "invalid": sum(run.invalid for run in self.runs),
            "runs": [asdict(run) for run in self.runs],
        }


def obligations_generate(
    *,
    today: date | None = None,
    dry_run: bool = False,
    obligation_ids: Iterable[int] | None = None,
    progress: Callable[[ObligationRun], None] | None = None,
) -> GenerationSummary:
    """Generate the deadlines of every active obligation and open the cases now due.

    `dry_run` writes nothing and counts what a run would do; `obligation_ids` limits the run to
    those obligations; `progress` is called with each obligation's result as it is done.
    """
    today = today or timezone.localdate()
    summary = GenerationSummary(dry_run=dry_run, today=today)
    catalogue = RecurringObligation.objects.filter(is_active=True).select_related("area")
    if obligation_ids is not None:
        catalogue = catalogue.filter(pk__in=list(obligation_ids))
    for obligation in catalogue.order_by("position", "name", "pk"):
        run = ObligationRun(obligation=obligation.pk, name=obligation.name)
        try:
            obligation_check(obligation)
        except ValidationError as refused:
            # Saved around the admin's validation (a shell, a fixture): this one waits for a
            # fix, the others are generated.
            run.invalid = True
            run.problems.extend(_messages(refused))
            log.warning("obligation %s not generated: %s", obligation.pk, run.problems)
        else:
            planned = _generate_deadlines(obligation, today=today, run=run, dry_run=dry_run)
            _open_cases(obligation, today=today, run=run, dry_run=dry_run, planned=planned)
        summary.runs.append(run)
        if progress is not None:
            progress(run)
    return summary


def _messages(refused: ValidationError) -> list[str]:
    return [
        f"{name}: {message}"
        for name, messages in refused.message_dict.items()
        for message in messages
    ]


def _window_end(today: date) -> date:
    return terms.add_months(today, WINDOW_MONTHS)


def _generate_deadlines(
    obligation: RecurringObligation, *, today: date, run: ObligationRun, dry_run: bool
) -> list[Deadline]:
    """Insert the obligation's missing deadlines; returns those it inserted (or would)."""
    end = _window_end(today)
    with transaction.atomic():
        # Two runs of one obligation queue here: the second reads what the first committed.
        locked = (
            RecurringObligation.objects.select_for_update()
            .filter(pk=obligation.pk, is_active=True)
            .first()
        )
        if locked is None:
            return []  # deactivated meanwhile
        planned = _planned(obligation, today=today, end=end, run=run)
        existing = set(
            Deadline.objects.filter(
                obligation=obligation,
                occurrence__gte=today - _MOVE_SLACK,
                occurrence__lte=end,
            ).values_list("cooperative_id", "occurrence")
        )
        missing = [row for row in planned if (row.cooperative_id, row.occurrence) not in existing]
        run.deadlines_existing += len(planned) - len(missing)
        run.deadlines_created += len(missing)
        if not dry_run and missing:
            # The unique constraint backs the lock (a row written by hand with the same key).
            Deadline.objects.bulk_create(missing, batch_size=INSERT_BATCH, ignore_conflicts=True)
    return missing


def _planned(
    obligation: RecurringObligation, *, today: date, end: date, run: ObligationRun
) -> list[Deadline]:
    """Every deadline the rule gives the cooperatives in the window, not saved."""
    cooperatives = Cooperative.objects.filter(membership_status=Cooperative.MembershipStatus.ACTIVE)
    if obligation.cooperative_kinds:
        cooperatives = cooperatives.filter(kind__in=obligation.cooperative_kinds)
    fixed = obligation.anchor == Anchor.FIXED
    if not fixed:
        cooperatives = cooperatives.filter(**{f"{obligation.anchor}__isnull": False})
    business = obligation.deadline_kind == DeadlineKind.BUSINESS
    calendars: dict[int, object] = {}
    now = timezone.now()
    planned = []
    rows = cooperatives.order_by("pk").values_list(
        "pk", "office_id", "name", *([] if fixed else [obligation.anchor])
    )
    for pk, office_id, name, *anchor in rows:
        anchor_date = anchor[0] if anchor else None
        dates = occurrences(obligation, anchor_date, start=today - _MOVE_SLACK, end=end)
        if not dates:
            continue
        try:
            calendar = None
            if business:
                if office_id not in calendars:
                    calendars[office_id] = calendar_for_office(office_id)
                calendar = calendars[office_id]
            due = [due_on(obligation, day, anchor_date, calendar=calendar) for day in dates]
        except (ValueError, terms.DeadlineError) as error:
            # An office calendar without open days (being edited): that cooperative waits for
            # the next run.
            run.problems.append(f"{name}: {error}")
            log.warning("obligation %s, cooperative %s: %s", obligation.pk, pk, error)
            continue
        for occurrence, falls_due in zip(dates, due, strict=True):
            if falls_due < today:
                continue
            planned.append(
                Deadline(
                    cooperative_id=pk,
                    area_id=obligation.area_id,
                    title=deadline_title(obligation, occurrence),
                    kind=obligation.deadline_kind,
                    trigger_date=anchor_date if obligation.rule == Rule.WITHIN else occurrence,
                    term_days=obligation.within_days if obligation.rule == Rule.WITHIN else None,
                    due_on=falls_due,
                    shared=obligation.shared,
                    obligation_id=obligation.pk,
                    occurrence=occurrence,
                    created_at=now,
                )
            )
    return planned


# --- Cases opened ahead --------------------------------------------------------------------------

_OPENED, _NO_PEOPLE, _TAKEN = "opened", "no_people", "taken"


def _case_window(obligation: RecurringObligation, today: date) -> tuple[date, date]:
    """Deadlines due in this range get their case now: not past, at most N days away."""
    return today, today + timedelta(days=obligation.open_case_days_before)


def _open_cases(
    obligation: RecurringObligation,
    *,
    today: date,
    run: ObligationRun,
    dry_run: bool,
    planned: list[Deadline],
) -> None:
    first, last = _case_window(obligation, today)
    waiting = Deadline.objects.filter(
        obligation=obligation,
        case__isnull=True,
        status=Deadline.Status.OPEN,
        due_on__gte=first,
        due_on__lte=last,
        cooperative__membership_status=Cooperative.MembershipStatus.ACTIVE,
    ).order_by("due_on", "pk")
    if dry_run:
        due = [(row.cooperative_id) for row in planned if first <= row.due_on <= last]
        due += list(waiting.values_list("cooperative_id", flat=True))
        for cooperative_id in due:
            if requester_for(cooperative_id) is None:
                run.skipped_no_people += 1
            else:
                run.cases_opened += 1
        return
    for deadline_id in list(waiting.values_list("pk", flat=True)):
        try:
            outcome = _open_case(deadline_id, obligation=obligation)
        except CaseError as refused:
            # The area closed, no SLA policy, a requester the rules refuse: the deadline is
            # kept and the next run tries again.
            run.skipped_refused += 1
            run.problems.append(f"{deadline_id}: {refused}")
            log.warning("deadline %s: no case opened: %s", deadline_id, refused)
            continue
        if outcome == _OPENED:
            run.cases_opened += 1
        elif outcome == _NO_PEOPLE:
            run.skipped_no_people += 1


def requester_for(cooperative_id: int):
    """Whom a generated case is opened for: the legal representative, else a referent, else a
    member (active people, the earliest first); None when the cooperative has nobody."""
    preference = SqlCase(
        *(When(role=role, then=Value(rank)) for rank, role in enumerate(_REQUESTER_ROLES)),
        default=Value(len(_REQUESTER_ROLES)),
        output_field=IntegerField(),
    )
    membership = (
        Membership.objects.filter(
            cooperative_id=cooperative_id, is_active=True, user__is_active=True
        )
        .select_related("user")
        .annotate(preference=preference)
        .order_by("preference", "created_at", "pk")
        .first()
    )
    return membership.user if membership is not None else None


@transaction.atomic
def _open_case(deadline_id: int, *, obligation: RecurringObligation) -> str:
    """Open the deadline's case under its row lock, unless a racing run already did."""
    deadline = (
        Deadline.objects.select_for_update(of=("self",))
        .select_related("cooperative", "area")
        .filter(pk=deadline_id, case__isnull=True, status=Deadline.Status.OPEN)
        .first()
    )
    if deadline is None:
        return _TAKEN
    requester = requester_for(deadline.cooperative_id)
    if requester is None:
        return _NO_PEOPLE
    with translation.override(language_of(requester)):
        description = case_description(deadline, obligation)
    case = process.case_open(
        requester=requester,
        cooperative=deadline.cooperative,
        area=deadline.area,
        subject=deadline.title[: limits.SUBJECT],
        description=description,
        # Sportello opens it, no person at a desk: the programmatic channel.
        channel=Channel.API,
    )
    deadline.case = case
    if deadline.responsible_id is None:
        deadline.responsible = case.assignee
    deadline.save(update_fields=["case", "responsible", "updated_at"])
    _record_added(case, deadline)
    return _OPENED


def _record_added(case, deadline: Deadline) -> None:
    """The deadline on the case's timeline, as any deadline added to a case."""
    events.record(events.deadline_added(case, actor=None, deadline=deadline, at=timezone.now()))


def case_description(deadline: Deadline, obligation: RecurringObligation) -> str:
    """What the case is for, in the active language: the obligation, its rule and due date."""
    due = formats.date_format(deadline.due_on, "DATE_FORMAT")
    lines = [
        _(
            "Sportello opened this case for a recurring obligation of %(cooperative)s: "
            "“%(obligation)s”, due on %(due)s."
        )
        % {"cooperative": deadline.cooperative.name, "obligation": obligation.name, "due": due}
    ]
    anchor = str(Anchor(obligation.anchor).label).lower()
    if obligation.rule == Rule.WITHIN:
        lines.append(
            ngettext(
                "It is due within %(days)d day of %(anchor)s (%(date)s).",
                "It is due within %(days)d days of %(anchor)s (%(date)s).",
                obligation.within_days,
            )
            % {
                "days": obligation.within_days,
                "anchor": anchor,
                "date": formats.date_format(deadline.trigger_date, "DATE_FORMAT"),
            }
        )
    elif obligation.anchor == Anchor.FIXED:
        lines.append(
            ngettext(
                "It recurs every month.",
                "It recurs every %(months)d months.",
                obligation.interval_months,
            )
            % {"months": obligation.interval_months}
        )
    else:
        lines.append(
            ngettext(
                "It recurs every month, counted from %(anchor)s.",
                "It recurs every %(months)d months, counted from %(anchor)s.",
                obligation.interval_months,
            )
            % {"months": obligation.interval_months, "anchor": anchor}
        )
    if deadline.occurrence and deadline.due_on != deadline.occurrence:
        lines.append(
            _("By the rule it falls on %(date)s, which is not a working day: it moves to %(due)s.")
            % {"date": formats.date_format(deadline.occurrence, "DATE_FORMAT"), "due": due}
        )
    lines.append(
        _("The federation's consultant follows it with you here: write or attach documents.")
    )
    return "\n\n".join(lines)
