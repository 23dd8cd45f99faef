"""Deadline arithmetic: the date a deadline (scadenza) falls on, from its trigger and its kind."""

from __future__ import annotations

import calendar as gregorian
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from holidays.countries.italy import Italy

from .business_time import BusinessCalendar

__all__ = [
    "FIRST_YEAR",
    "LAST_TRIGGER_YEAR",
    "MAX_BUSINESS_DAYS",
    "MOVED_TO_WORKING_DAY",
    "SUSPENDED_IN_AUGUST",
    "Deadline",
    "DeadlineError",
    "DeadlineKind",
    "add_months",
    "business",
    "check_trigger",
    "deadline",
    "explain",
    "fixed",
    "in_months",
    "is_working_day",
    "judicial",
    "judicial_labour",
    "national_holiday",
    "next_working_day",
    "open_days_of",
    "tax",
]

# The rules, as every public function applies them:
# - A term of N days runs from a trigger date (dies a quo) that is not counted: day 1 is the day
#   after the trigger and the deadline is day N (art. 155 c.p.c., first paragraph).
# - `judicial` terms do not run from 1 to 31 August (sospensione feriale, legge 742/1969 art. 1 as
#   amended by d.l. 132/2014): counting stops after 31 July and resumes on 1 September, in every
#   August the term crosses, so a 400-day term skips two Augusts. A trigger in August (or on
#   31 July) makes 1 September day 1 of the term: a term that would start during the suspension
#   starts when it ends.
# - Terms in months follow the common calendar (art. 155 c.p.c., second paragraph): the same day
#   number N months later, or that month's last day when it has fewer days (31 January + 1 month =
#   28 or 29 February). A `judicial` term in months is lengthened by the August days it crosses
#   (31 for each whole August), which is the same as counting, with August skipped, as many days
#   as the calendar months hold; a trigger in August counts the months from 31 August.
# - `judicial`, `judicial_labour` and `tax` deadlines that fall on a Saturday, a Sunday or an
#   Italian national holiday move to the next day that is none of these (art. 155 c.p.c., fourth
#   and fifth paragraphs; d.l. 70/2011 art. 7 for tax). The move looks at weekends and holidays
#   only, not at the suspension: a judicial term whose last day is Saturday 31 July falls due on
#   Monday 2 August, the reading under which nobody files late.
# - Today's rules are applied to every year: before 2015 the suspension lasted until 15 September
#   and before 1969 there was none; Saturdays have moved judicial terms only since 2006 (legge
#   263/2005). The holidays are those of the year itself, as the holidays package lists them.
# - `business` terms count the open days of an office's calendar after the trigger (its patron
#   day, national holidays and whole-day closures are not open days); the result is an open day,
#   so it never moves. `fixed` deadlines are the date itself and never move.
# - Dates run from 1 January 1900 (FIRST_YEAR) to 9999-12-31; anything else, a term below 1, an
#   unknown kind, a result after 9999-12-31 or a business term above MAX_BUSINESS_DAYS raises
#   DeadlineError (a ValueError), never OverflowError. A value of the wrong type (a datetime, a
#   float term) raises TypeError. A deadline of a case, or of the command, is triggered no later
#   than LAST_TRIGGER_YEAR (`check_trigger`).

FIRST_YEAR = 1900
# The last year a deadline of a case or a command may be triggered in. The arithmetic itself runs
# to 9999-12-31, but a term from a trigger in 9999 ends after it for most terms, and an office's
# calendar stops at 9998: such a trigger is a typing error, refused whatever its term.
LAST_TRIGGER_YEAR = 9998
# No office term is longer: ten thousand open days are about forty years of a five-day week. A
# BusinessCalendar builds every year it crosses, so a term of millions of days would run for hours
# before reaching the calendar's last year.
MAX_BUSINESS_DAYS = 10_000
# A business calendar without one open day in this many days after the trigger is declared
# broken, otherwise a calendar closed "forever" would make the count walk to year 9999.
_MAX_CLOSED_DAYS = 3 * 366


class DeadlineKind(StrEnum):
    JUDICIAL = "judicial"
    JUDICIAL_LABOUR = "judicial_labour"
    TAX = "tax"
    BUSINESS = "business"
    FIXED = "fixed"


# Kinds whose last day moves off weekends and national holidays, and kinds suspended in August.
MOVED_TO_WORKING_DAY = frozenset(
    {DeadlineKind.JUDICIAL, DeadlineKind.JUDICIAL_LABOUR, DeadlineKind.TAX}
)
SUSPENDED_IN_AUGUST = frozenset({DeadlineKind.JUDICIAL})
_COUNTED_IN_DAYS_ONLY = frozenset({DeadlineKind.BUSINESS})


class DeadlineError(ValueError):
    """A deadline that cannot be computed: a bad kind, term or date, or a result after 9999."""


@dataclass(frozen=True)
class Deadline:
    """A computed deadline and how it was reached, for the words that explain it."""

    kind: DeadlineKind
    start: date
    days: int | None
    months: int | None
    # The months term's end by the common calendar, before any August lengthening.
    by_calendar: date | None
    # The term's last day before the move off a weekend or holiday.
    term_end: date
    due: date
    # The Augusts the term did not count (judicial only), the trigger's own August included.
    suspended_years: tuple[int, ...] = ()

    @property
    def started_in_suspension(self) -> bool:
        return self.start.month == 8 and self.kind in SUSPENDED_IN_AUGUST

    @property
    def moved(self) -> bool:
        return self.due != self.term_end


# National holidays ---------------------------------------------------------------------------


class _ItalyEveryYear(Italy):
    # The holidays package lists no Italian holiday after 2100 (an empty set, not an error): a term
    # ending in 2101 would ignore Christmas. Its rules, today's law, are carried on to 9999.
    end_year = 9999


@functools.lru_cache(maxsize=512)
def _national_holidays(year: int) -> dict[date, str]:
    return dict(_ItalyEveryYear(years=year, language="en_US"))


def national_holiday(day: date) -> str | None:
    """The name of the Italian national holiday on ``day`` (no local patron days), or None."""
    return _national_holidays(day.year).get(day)


def is_working_day(day: date) -> bool:
    """Neither a Saturday, a Sunday nor an Italian national holiday (art. 155 c.p.c.)."""
    return day.weekday() < 5 and day not in _national_holidays(day.year)


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, otherwise the first working day after it."""
    _check_date(day, "given")
    while not is_working_day(day):
        day = _plus(day, 1, f"the move to the working day after {day.isoformat()}")
    return day


# Kinds ---------------------------------------------------------------------------------------


def judicial(start: date, days: int) -> date:
    """Day ``days`` after ``start``, August not counted, moved off weekends and holidays."""
    return deadline(DeadlineKind.JUDICIAL, start, days=days).due


def judicial_labour(start: date, days: int) -> date:
    """Day ``days`` after ``start`` without the August suspension, moved off weekends/holidays."""
    return deadline(DeadlineKind.JUDICIAL_LABOUR, start, days=days).due


def tax(start: date, days: int) -> date:
    """Day ``days`` after ``start``, no suspension, moved off weekends and national holidays."""
    return deadline(DeadlineKind.TAX, start, days=days).due


def business(
    start: date, days: int, *, calendar: BusinessCalendar | Callable[[date], bool]
) -> date:
    """The ``days``-th open day of the office after ``start`` (never moved: it is an open day).

    ``calendar`` is the office's BusinessCalendar (a day is open if the office is open at some
    time of it) or a callable saying whether a date is an open day.
    """
    return deadline(DeadlineKind.BUSINESS, start, days=days, calendar=calendar).due


def fixed(day: date) -> date:
    """A deadline on a set date: the date itself, never moved."""
    return deadline(DeadlineKind.FIXED, day).due


def in_months(kind: DeadlineKind | str, start: date, months: int) -> date:
    """A term of ``months`` by the common calendar for a judicial, judicial_labour or tax kind.

    All three move off weekends and national holidays; `judicial` is also lengthened by the August
    days it crosses. Business terms are counted in open days and fixed deadlines have no term, so
    both are refused.
    """
    return deadline(kind, start, months=months).due


def check_trigger(start: date) -> date:
    """``start`` if it may trigger a deadline: from FIRST_YEAR to LAST_TRIGGER_YEAR.

    The services and `manage.py deadline_due` refuse other years before computing anything; the
    functions above answer every representable date.
    """
    _check_date(start, "start")
    if start.year > LAST_TRIGGER_YEAR:
        raise DeadlineError(
            f"the start date {start.isoformat()} is after {LAST_TRIGGER_YEAR}, the last year a "
            f"deadline may start in: its term would end after {date.max.isoformat()}, the last "
            "representable date"
        )
    return start


def add_months(start: date, months: int) -> date:
    """The same day number ``months`` later, or that month's last day; never moved."""
    _check_date(start, "start")
    _check_term(months, "months")
    return _add_months(start, months)


def open_days_of(calendar: BusinessCalendar) -> Callable[[date], bool]:
    """Whether the office is open at some time of a day, by its calendar."""

    def is_open_day(day: date) -> bool:
        midnight = datetime(day.year, day.month, day.day, tzinfo=calendar.tz)
        # Adding a day to an aware datetime keeps the wall clock: the next local midnight, also
        # across a DST change.
        return calendar.seconds_between(midnight, midnight + timedelta(days=1)) > 0

    return is_open_day


def deadline(
    kind: DeadlineKind | str,
    start: date,
    *,
    days: int | None = None,
    months: int | None = None,
    calendar: BusinessCalendar | Callable[[date], bool] | None = None,
) -> Deadline:
    """The deadline of ``kind`` for a term of ``days`` or ``months`` after ``start``.

    A fixed deadline takes no term; a business one takes ``days`` and the office's ``calendar``;
    the others take ``days`` or ``months``, not both. See the rules at the top of this module.
    """
    kind = _kind(kind)
    _check_date(start, "start")
    if days is not None:
        _check_term(days, "days")
    if months is not None:
        _check_term(months, "months")
    if calendar is not None and kind is not DeadlineKind.BUSINESS:
        raise DeadlineError(f"only business deadlines count an office's calendar, not {kind}")

    if kind is DeadlineKind.FIXED:
        if days is not None or months is not None:
            raise DeadlineError("a fixed deadline is the date itself: give no term")
        return Deadline(kind, start, None, None, None, term_end=start, due=start)
    if days is None and months is None:
        raise DeadlineError(f"a {kind} deadline needs a term: days or months")
    if days is not None and months is not None:
        raise DeadlineError("give a term in days or in months, not both")
    if months is not None and kind in _COUNTED_IN_DAYS_ONLY:
        raise DeadlineError(f"a {kind} term is counted in open days: give days, not months")

    if kind is DeadlineKind.BUSINESS:
        if calendar is None:
            raise DeadlineError("a business deadline needs the office's calendar")
        if days > MAX_BUSINESS_DAYS:
            raise DeadlineError(
                f"a business term is at most {MAX_BUSINESS_DAYS:,} open days, got {days:,}"
            )
        is_open = open_days_of(calendar) if isinstance(calendar, BusinessCalendar) else calendar
        due = _count_open_days(start, days, is_open)
        return Deadline(kind, start, days, None, None, term_end=due, due=due)

    by_calendar = None
    if months is not None:
        # From 31 August when the trigger is in the suspension: the months start with September.
        origin = (
            start.replace(day=31) if kind in SUSPENDED_IN_AUGUST and start.month == 8 else start
        )
        by_calendar = _add_months(origin, months, _what(kind, start, days, months))
        length = (by_calendar - origin).days
    else:
        length = days
    if kind in SUSPENDED_IN_AUGUST:
        term_end, suspended = _count_outside_august(start, length, _what(kind, start, days, months))
    else:
        term_end, suspended = _plus(start, length, _what(kind, start, days, months)), ()
    due = next_working_day(term_end) if kind in MOVED_TO_WORKING_DAY else term_end
    return Deadline(kind, start, days, months, by_calendar, term_end, due, suspended)


# Words ---------------------------------------------------------------------------------------


def explain(found: Deadline, *, office: str | None = None) -> str:
    """One line saying how the deadline was reached, ending with "→ YYYY-MM-DD"."""
    if found.kind is DeadlineKind.FIXED:
        return f"fixed date {found.start.isoformat()}, not moved → {found.due.isoformat()}"
    if found.kind is DeadlineKind.BUSINESS:
        where = f"office {office}'s calendar" if office else "the office's calendar"
        unit = "open day" if found.days == 1 else "open days"
        return (
            f"start {found.start.isoformat()}, {found.days} {unit} of {where}, {found.kind}: "
            f"the start not counted → {found.due.isoformat()}"
        )
    notes = []
    if found.months is not None:
        notes.append(f"calendar months end on {found.by_calendar.isoformat()}")
    else:
        notes.append("the start not counted")
    if found.started_in_suspension:
        first = "the months count from 31 August" if found.months else "day 1 is 1 September"
        notes.append(f"starts in the August suspension, {first} {found.start.year}")
    crossed = [
        str(year)
        for year in found.suspended_years
        if not (found.started_in_suspension and year == found.start.year)
    ]
    if crossed:
        lengthened = "lengthened by" if found.months is not None else "suspended"
        notes.append(f"{lengthened} 1–31 August {', '.join(crossed)}")
    if found.moved:
        reasons = []
        day = found.term_end
        while day < found.due:
            reasons.append(national_holiday(day) or day.strftime("%A"))
            day += timedelta(days=1)
        past = " and ".join(filter(None, (", ".join(reasons[:-1]), reasons[-1])))
        notes.append(
            f"ends on {found.term_end.strftime('%A')} {found.term_end.isoformat()}, "
            f"moved past {past} to the next working day"
        )
    return (
        f"start {found.start.isoformat()}, {_term(found.kind, found.days, found.months)}: "
        f"{'; '.join(notes)} → {found.due.isoformat()}"
    )


# Arithmetic ----------------------------------------------------------------------------------


def _kind(kind: DeadlineKind | str) -> DeadlineKind:
    try:
        return DeadlineKind(kind)
    except ValueError:
        known = ", ".join(DeadlineKind)
        raise DeadlineError(f"unknown deadline kind {kind!r} (known: {known})") from None


def _check_date(value: object, name: str) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}")
    if value.year < FIRST_YEAR:
        raise DeadlineError(
            f"the {name} date {value.isoformat()} is before {FIRST_YEAR}, the first year "
            "deadlines support"
        )


def _check_term(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, not {type(value).__name__}")
    if value < 1:
        raise DeadlineError(f"a term must be at least 1 of {name}, got {value}")


def _term(kind: DeadlineKind, days: int | None, months: int | None) -> str:
    if months is not None:
        return f"{months} {'month' if months == 1 else 'months'}, {kind}"
    return f"{days} {'day' if days == 1 else 'days'}, {kind}"


def _what(kind: DeadlineKind, start: date, days: int | None, months: int | None) -> str:
    term = f"{months} months" if months is not None else f"{days} days"
    return f"a {kind} term of {term} from {start.isoformat()}"


def _beyond(what: str) -> DeadlineError:
    return DeadlineError(
        f"{what} would end after {date.max.isoformat()}, the last representable date"
    )


def _plus(day: date, count: int, what: str) -> date:
    if count > (date.max - day).days:
        raise _beyond(what)
    return day + timedelta(days=count)


def _add_months(start: date, months: int, what: str | None = None) -> date:
    years, month_index = divmod(start.month - 1 + months, 12)
    year = start.year + years
    if year > date.max.year:
        raise _beyond(what or f"{months} months from {start.isoformat()}")
    month = month_index + 1
    return date(year, month, min(start.day, gregorian.monthrange(year, month)[1]))


def _count_outside_august(start: date, days: int, what: str) -> tuple[date, tuple[int, ...]]:
    """Day ``days`` after ``start`` with 1-31 August never counted, and the Augusts skipped."""
    # cursor: the last day already accounted for; the term resumes the day after it.
    cursor, remaining, skipped = start, days, []
    if cursor.month == 8:
        cursor = cursor.replace(day=31)
        skipped.append(cursor.year)
    while True:
        # cursor is never in August here, so the next suspension is this year's or next year's.
        year = cursor.year if cursor.month < 8 else cursor.year + 1
        if year > date.max.year:
            return _plus(cursor, remaining, what), tuple(skipped)
        before = (date(year, 8, 1) - cursor).days - 1  # countable days up to 31 July
        if remaining <= before:
            return cursor + timedelta(days=remaining), tuple(skipped)
        remaining -= before
        cursor = date(year, 8, 31)
        skipped.append(year)


def _count_open_days(start: date, days: int, is_open: Callable[[date], bool]) -> date:
    what = f"{days} open days from {start.isoformat()}"
    day, counted, closed_run = start, 0, 0
    while counted < days:
        day = _plus(day, 1, what)
        try:
            open_day = is_open(day)
        except (ValueError, OverflowError) as error:
            # The calendar's own range checks (a BusinessCalendar stops at 9998).
            raise DeadlineError(f"the office's calendar cannot count {what}: {error}") from error
        if open_day:
            counted, closed_run = counted + 1, 0
        else:
            closed_run += 1
            if closed_run > _MAX_CLOSED_DAYS:
                raise DeadlineError(
                    f"the office's calendar has no open day in the {_MAX_CLOSED_DAYS} days "
                    f"after {(day - timedelta(days=closed_run)).isoformat()}; check its opening "
                    "hours and closures"
                )
    return day
