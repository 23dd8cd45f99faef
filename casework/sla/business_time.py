"""Business-time arithmetic for SLA clocks: office calendars, business minutes, clock states."""

from __future__ import annotations

import functools
import math
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from operator import index as as_int
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "DEMO_WEEKLY_HOURS",
    "BusinessCalendar",
    "CalendarSpec",
    "SlaState",
    "business_day_opening",
    "calendar_for",
    "clock_state",
    "warn_minutes",
]

# Conventions (every public function follows them):
# - Instants are aware datetimes; naive ones raise ValueError. Results are in the calendar's zone.
# - Arithmetic is done in whole UTC epoch seconds: an instant's fraction of a second is dropped on
#   input, so 10:00:00.7 counts as 10:00:00.
# - Opening hours are half-open wall-clock ranges [opens, closes): open at 09:00:00, closed at
#   13:00:00. ``closes == time(0)`` means midnight at the end of the day (open until 24:00).
# - add_minutes(start, n) with n > 0 returns the instant the n-th business minute ends, i.e. the
#   earliest t with seconds_between(start, t) == 60 * n. A deadline that uses up the day's last
#   minute is due at closing time (Fri 18:00), not at the next opening (Mon 09:00).
#   With n == 0 it returns ``start`` itself (in the calendar's zone) even outside hours.
# - minutes_between floors the business seconds to whole minutes; seconds_between is exact, so
#   callers that add up several stretches of a paused clock should sum seconds and floor once.
# - Opening hours are read on the office's wall clock, so a 09:00-18:00 day stays 09:00-18:00 local
#   on a DST change day. A range opens the first instant the wall clock reads its opening time and
#   closes the first instant it reads its closing time: a range spanning the spring jump is one hour
#   shorter, one spanning the repeated autumn hour one hour longer, a bound inside the skipped hour
#   is the instant of the jump (03:00 CEST) and a bound inside the repeated hour its first pass.

DEMO_WEEKLY_HOURS: tuple[tuple[int, time, time], ...] = tuple(
    (weekday, opens, closes)
    for weekday in range(5)
    for opens, closes in ((time(9), time(13)), (time(14), time(18)))
)

_DAY_SECONDS = 24 * 60 * 60
# Beyond this many years without a single open second the calendar is declared broken, otherwise a
# calendar closed "forever" by a closure would make add_minutes loop until datetime.max.
_MAX_CLOSED_YEARS = 3
_MIN_YEAR = 2
_MAX_YEAR = 9998


def _seconds_of_day(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _reject(value: object, name: str) -> NoReturn:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}")


def _require_aware(value: object, name: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        _reject(value, name)


def _epoch(value: datetime, name: str) -> int:
    """Whole UTC epoch seconds of an aware instant (the fraction of a second is dropped)."""
    try:
        if value.utcoffset() is not None:
            return math.floor(value.timestamp())
    except (AttributeError, TypeError):
        pass
    _reject(value, name)


@dataclass(frozen=True)
class CalendarSpec:
    """What an office's business calendar is made of; hashable so calendars can be cached by it."""

    weekly_hours: tuple[tuple[int, time, time], ...]
    holiday_subdiv: str | None = None
    include_national_holidays: bool = True
    closures: tuple[tuple[datetime, datetime], ...] = ()
    timezone: str = "Europe/Rome"

    def __post_init__(self) -> None:
        # Specs built from database rows arrive as lists in any order; normalising them makes two
        # equal calendars hash equal, so calendar_for builds each one once.
        hours = []
        for entry in self.weekly_hours:
            weekday, opens, closes = entry
            if not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
            for value in (opens, closes):
                if not isinstance(value, time) or value.tzinfo is not None:
                    raise ValueError(f"opening hours must be naive wall-clock times, got {value!r}")
            if closes != time(0) and closes <= opens:
                raise ValueError(f"opening range {opens}-{closes} on weekday {weekday} is empty")
            hours.append((weekday, opens, closes))
        closures = []
        for entry in self.closures:
            start, end = entry
            _require_aware(start, "closure start")
            _require_aware(end, "closure end")
            if end < start:
                raise ValueError(f"closure ends before it starts: {start} - {end}")
            closures.append((start, end))
        subdiv = self.holiday_subdiv
        if subdiv is not None:
            subdiv = str(subdiv).upper()
            if subdiv not in holidays.IT.subdivisions:
                raise ValueError(f"unknown Italian holiday subdivision {self.holiday_subdiv!r}")
        object.__setattr__(self, "weekly_hours", tuple(sorted(set(hours))))
        object.__setattr__(self, "closures", tuple(sorted(set(closures))))
        object.__setattr__(self, "holiday_subdiv", subdiv)


@functools.lru_cache(maxsize=1024)
def _holiday_dates(subdiv: str | None, include_national: bool, year: int) -> frozenset[date]:
    national = holidays.IT(years=year)
    if subdiv is None:
        return frozenset(national) if include_national else frozenset()
    local = holidays.IT(subdiv=subdiv, years=year)
    if include_national:
        return frozenset(local)
    # A patron day can fall on a national holiday (Bologna's San Petronio shares 4 October with
    # San Francesco): it is still the office's own holiday, so compare names rather than dates.
    return frozenset(
        day for day in local if set(local.get_list(day)) - set(national.get_list(day) or ())
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Span:
    """Open intervals of whole local years [first_year, last_year], as UTC epoch seconds.

    ``cumulative[i]`` is the open time before ``starts[i]``; it has one more item than ``starts``
    so that ``cumulative[-1]`` is the total. Spans are replaced, never mutated, so a reader holding
    one is never disturbed by another thread extending the calendar.
    """

    first_year: int
    last_year: int
    begins: int
    ends_at: int
    starts: list[int]
    ends: list[int]
    cumulative: list[int]


class BusinessCalendar:
    """Business-time arithmetic over one CalendarSpec, precomputed per year and extended lazily."""

    def __init__(self, spec: CalendarSpec):
        if not spec.weekly_hours:
            raise ValueError("a business calendar needs opening hours on at least one weekday")
        try:
            self.tz = ZoneInfo(spec.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {spec.timezone!r}") from exc
        self.spec = spec
        day_ranges: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for weekday, opens, closes in spec.weekly_hours:
            end = _DAY_SECONDS if closes == time(0) else _seconds_of_day(closes)
            day_ranges[weekday].append((_seconds_of_day(opens), end))
        self._day_ranges = tuple(tuple(_merge(sorted(ranges))) for ranges in day_ranges)
        self._closures = _merge(
            sorted(
                (_epoch(start, "closure start"), _epoch(end, "closure end"))
                for start, end in spec.closures
                if end > start
            )
        )
        self._years: dict[int, list[tuple[int, int]]] = {}
        self._lock = threading.Lock()
        self._span: _Span | None = None

    def __repr__(self) -> str:
        return f"<BusinessCalendar {self.spec.holiday_subdiv or 'IT'} {self.spec.timezone}>"

    # Public API --------------------------------------------------------------------------------

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        """The instant the ``minutes``-th business minute after ``start`` ends."""
        minutes = as_int(minutes)
        if minutes < 0:
            raise ValueError(f"minutes must be >= 0, got {minutes}")
        return self.add_seconds(start, minutes * 60)

    def add_seconds(self, start: datetime, seconds: int) -> datetime:
        """The instant ``seconds`` business seconds after ``start`` have elapsed."""
        seconds = as_int(seconds)
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        moment = _epoch(start, "start")
        if seconds == 0:
            return start.astimezone(self.tz)
        span = self._span
        if span is None or not span.begins <= moment < span.ends_at:
            span = self._cover(moment)
        while True:
            target = _open_before(span, moment) + seconds
            cumulative = span.cumulative
            index = bisect_left(cumulative, target)
            if index < len(cumulative):
                break
            span = self._extend_forward(span)
        # cumulative[index - 1] < target <= cumulative[index]: the target falls in interval index-1.
        index -= 1
        result = span.starts[index] + target - cumulative[index]
        return datetime.fromtimestamp(result, self.tz)

    def minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole business minutes in [start, end); 0 when end <= start."""
        return self.seconds_between(start, end) // 60

    def seconds_between(self, start: datetime, end: datetime) -> int:
        """Business seconds in [start, end); 0 when end <= start."""
        first = _epoch(start, "start")
        last = _epoch(end, "end")
        if last <= first:
            return 0
        span = self._span
        if span is None or not (span.begins <= first and last < span.ends_at):
            span = self._cover(first, last)
        return _open_before(span, last) - _open_before(span, first)

    def is_open(self, instant: datetime) -> bool:
        """Whether the office is open at ``instant`` (opening included, closing excluded)."""
        moment = _epoch(instant, "instant")
        span = self._span
        if span is None or not span.begins <= moment < span.ends_at:
            span = self._cover(moment)
        index = bisect_right(span.starts, moment) - 1
        return index >= 0 and moment < span.ends[index]

    def next_open(self, instant: datetime) -> datetime:
        """``instant`` itself if the office is open then, otherwise the next opening."""
        moment = _epoch(instant, "instant")
        span = self._span
        if span is None or not span.begins <= moment < span.ends_at:
            span = self._cover(moment)
        while True:
            index = bisect_right(span.starts, moment) - 1
            if index >= 0 and moment < span.ends[index]:
                return instant.astimezone(self.tz)
            if index + 1 < len(span.starts):
                return datetime.fromtimestamp(span.starts[index + 1], self.tz)
            span = self._extend_forward(span)

    # Precomputation ----------------------------------------------------------------------------

    def _year_of(self, moment: int) -> int:
        try:
            year = datetime.fromtimestamp(moment, self.tz).year
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"instant {moment} is outside the supported calendar range") from exc
        if not _MIN_YEAR <= year <= _MAX_YEAR:
            raise ValueError(f"year {year} is outside the supported calendar range")
        return year

    def _cover(self, first: int, last: int | None = None) -> _Span:
        """A span containing both instants; the first one also gets a year either side."""
        low = self._year_of(first)
        high = self._year_of(last) if last is not None else low
        with self._lock:
            span = self._span
            if span is not None:
                if span.begins <= first and (last if last is not None else first) < span.ends_at:
                    return span
                low = min(low, span.first_year)
                high = max(high, span.last_year)
            else:
                low, high = low - 1, high + 1
            return self._build(max(low, _MIN_YEAR), min(high, _MAX_YEAR))

    def _extend_forward(self, span: _Span) -> _Span:
        """Add years after ``span`` until open time appears; refuse a calendar closed for years."""
        with self._lock:
            current = self._span or span
            if current.last_year > span.last_year:
                # Another thread got there first; the caller recomputes against the wider span.
                return current
            first, last = current.first_year, current.last_year
            total = current.cumulative[-1]
            # Growing by half the span (up to 8 years) keeps a deadline years away from rebuilding
            # the span once per year; the check below still refuses only after at least
            # _MAX_CLOSED_YEARS empty years.
            step = min(8, max(1, (last - first + 1) // 2))
            extra = 0
            while extra < _MAX_CLOSED_YEARS and last + extra < _MAX_YEAR:
                extra = min(extra + step, _MAX_YEAR - last)
                wider = self._build(first, last + extra)
                if wider.cumulative[-1] > total:
                    return wider
            raise ValueError(
                f"the calendar has no business time in the {_MAX_CLOSED_YEARS} years after {last}; "
                "check its opening hours and closures"
            )

    def _build(self, first_year: int, last_year: int) -> _Span:
        starts: list[int] = []
        ends: list[int] = []
        for year in range(first_year, last_year + 1):
            intervals = self._years.get(year)
            if intervals is None:
                intervals = self._years[year] = self._year_intervals(year)
            for start, end in intervals:
                # Years meet at midnight: an office open until 24:00 on 31 December and from 00:00
                # on 1 January is one uninterrupted stretch.
                if ends and start <= ends[-1]:
                    ends[-1] = max(ends[-1], end)
                else:
                    starts.append(start)
                    ends.append(end)
        cumulative = [0] * (len(starts) + 1)
        running = 0
        for index, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
            running += end - start
            cumulative[index] = running
        span = _Span(
            first_year=first_year,
            last_year=last_year,
            begins=self._local_midnight(date(first_year, 1, 1)),
            ends_at=self._local_midnight(date(last_year + 1, 1, 1)),
            starts=starts,
            ends=ends,
            cumulative=cumulative,
        )
        self._span = span
        return span

    def _local_midnight(self, day: date) -> int:
        return math.floor(datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp())

    def _year_intervals(self, year: int) -> list[tuple[int, int]]:
        """Open intervals of one local calendar year, holidays and closures removed."""
        closed_days = _holiday_dates(
            self.spec.holiday_subdiv, self.spec.include_national_holidays, year
        )
        day_ranges = self._day_ranges
        intervals: list[tuple[int, int]] = []
        one_day = timedelta(days=1)
        day = date(year, 1, 1)
        base = self._wall_clock(day, 0)
        while day.year == year:
            following = day + one_day
            next_base = self._wall_clock(following, 0)
            ranges = day_ranges[day.weekday()]
            if ranges and day not in closed_days:
                # Most days have 24 wall-clock hours at one offset: plain addition is exact there
                # and keeps building a year to a couple of milliseconds. DST change days go
                # through zoneinfo for every bound.
                regular = next_base - base == _DAY_SECONDS
                for opens, closes in ranges:
                    if regular:
                        start, end = base + opens, base + closes
                    else:
                        start = self._wall_clock(day, opens)
                        end = next_base if closes >= _DAY_SECONDS else self._wall_clock(day, closes)
                    if end > start:
                        intervals.append((start, end))
            day, base = following, next_base
        return _subtract(_merge(intervals), self._closures)

    def _wall_clock(self, day: date, seconds: int) -> int:
        """The first instant at which the office's wall clock reads ``day`` + ``seconds`` or later.

        That is the ordinary conversion except on DST change days: a time repeated in the autumn
        is its first occurrence, and a time skipped in the spring is the instant clocks jump.
        """
        hour, rest = divmod(seconds, 3600)
        minute, second = divmod(rest, 60)
        wall = datetime(day.year, day.month, day.day, hour, minute, second)
        local = wall.replace(tzinfo=self.tz)
        moment = math.floor(local.timestamp())
        if datetime.fromtimestamp(moment, self.tz).replace(tzinfo=None) == wall:
            return moment
        # Skipped by the spring jump: fold=1 reads it with the later offset, an instant before the
        # jump; fold=0 one after it. The jump lies between; clocks only go forward there.
        before = math.floor(local.replace(fold=1).timestamp())
        after = moment
        while after - before > 1:
            middle = (before + after) // 2
            if datetime.fromtimestamp(middle, self.tz).replace(tzinfo=None) >= wall:
                after = middle
            else:
                before = middle
        return after


def _open_before(span: _Span, moment: int) -> int:
    """Open seconds in the span before ``moment``."""
    index = bisect_right(span.starts, moment) - 1
    if index < 0:
        return 0
    end = span.ends[index]
    return span.cumulative[index] + (moment if moment < end else end) - span.starts[index]


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of sorted intervals; touching ones become one."""
    merged: list[tuple[int, int]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(
    intervals: list[tuple[int, int]], closed: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Sorted disjoint intervals minus sorted disjoint closed ranges."""
    if not closed or not intervals:
        return intervals
    result: list[tuple[int, int]] = []
    first = max(bisect_right(closed, (intervals[0][0],)) - 1, 0)
    for start, end in intervals:
        index = first
        while index < len(closed) and start < end:
            closed_start, closed_end = closed[index]
            if closed_end <= start:
                index += 1
                first = index
                continue
            if closed_start >= end:
                break
            if closed_start > start:
                result.append((start, closed_start))
            start = max(start, closed_end)
            if closed_end <= end:
                index += 1
        if start < end:
            result.append((start, end))
    return result


@functools.lru_cache(maxsize=256)
def calendar_for(spec: CalendarSpec) -> BusinessCalendar:
    """The shared calendar for ``spec``: built once per process, so its years are reused."""
    return BusinessCalendar(spec)


def business_day_opening(calendar: BusinessCalendar, instant: datetime, days: int) -> datetime:
    """When the office opens on the ``days``-th business day after ``instant``'s day.

    A business day is a local calendar day with any open time, counted as the confirmation
    window counts them (``casework.services.closure.business_days_later``): ``instant``'s own
    day never counts, whatever its hour. A negative ``days`` counts back: -2 is the opening of
    the second business day before ``instant``'s day. Reminders and warnings fall there, so
    they reach people when the office opens, not at midnight.
    """
    days = as_int(days)
    if days == 0:
        raise ValueError("days must not be 0")
    _require_aware(instant, "instant")
    step = timedelta(days=1 if days > 0 else -1)
    day = instant.astimezone(calendar.tz).date()
    counted = closed = 0
    while counted < abs(days):
        day += step
        begins = datetime(day.year, day.month, day.day, tzinfo=calendar.tz)
        following = day + timedelta(days=1)
        ends = datetime(following.year, following.month, following.day, tzinfo=calendar.tz)
        if calendar.seconds_between(begins, ends) > 0:
            counted, closed = counted + 1, 0
        else:
            closed += 1
            if closed > 366 * _MAX_CLOSED_YEARS:
                raise ValueError(
                    f"the calendar has no business day in the {_MAX_CLOSED_YEARS} years "
                    f"{'after' if days > 0 else 'before'} {day.isoformat()}"
                )
    return calendar.next_open(begins)


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


def clock_state(
    *,
    now: datetime,
    due_at: datetime | None,
    warn_at: datetime | None,
    met_at: datetime | None,
    paused: bool,
) -> SlaState:
    """The state of one SLA clock at ``now``.

    Precedence: a clock that was met is MET if met by ``due_at`` and BREACHED if met late (the
    breach is final, answering later does not undo it); otherwise a paused clock is PAUSED (its
    due time is recomputed on resume, so the stored one means nothing meanwhile); otherwise
    BREACHED from ``due_at`` on, AT_RISK from ``warn_at`` on, else ON_TRACK. A clock without a
    due time (no policy) is never at risk nor breached.
    """
    if met_at is not None:
        return SlaState.MET if due_at is None or met_at <= due_at else SlaState.BREACHED
    if paused:
        return SlaState.PAUSED
    if due_at is not None and now >= due_at:
        return SlaState.BREACHED
    if warn_at is not None and now >= warn_at:
        return SlaState.AT_RISK
    return SlaState.ON_TRACK


def warn_minutes(target_minutes: int, warning_percent: int) -> int:
    """Business minutes after which a clock with this target is at risk, rounded up."""
    if target_minutes < 0:
        raise ValueError(f"target_minutes must be >= 0, got {target_minutes}")
    if not 0 <= warning_percent <= 100:
        raise ValueError(f"warning_percent must be between 0 and 100, got {warning_percent}")
    return -(-target_minutes * warning_percent // 100)
