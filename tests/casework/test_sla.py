"""Business-time arithmetic: named office situations and properties checked by brute force."""

import functools
from bisect import bisect_left
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from casework.sla.business_time import (
    DEMO_WEEKLY_HOURS,
    BusinessCalendar,
    CalendarSpec,
    SlaState,
    calendar_for,
    clock_state,
    warn_minutes,
)

ROME = ZoneInfo("Europe/Rome")
OFFICES = ("BO", "MO", "RE", "PR", "PC", "FE", "RA", "FC", "RN")
BOLOGNA = CalendarSpec(weekly_hours=DEMO_WEEKLY_HOURS, holiday_subdiv="BO")
MODENA = CalendarSpec(weekly_hours=DEMO_WEEKLY_HOURS, holiday_subdiv="MO")
CHRISTMAS_EVE_AFTERNOON = (
    datetime(2026, 12, 24, 13, tzinfo=ROME),
    datetime(2026, 12, 24, 18, tzinfo=ROME),
)


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)


# Named situations ------------------------------------------------------------------------------


def test_case_opened_friday_1759_with_two_minutes_is_due_monday_0901():
    # Given a case opened on the Friday before the spring DST change, one minute before closing
    opened = rome(2026, 3, 27, 17, 59)

    # When two business minutes are added
    due = calendar_for(BOLOGNA).add_minutes(opened, 2)

    # Then the first minute is Friday 17:59-18:00 and the second Monday 09:00-09:01, summer time
    assert due == rome(2026, 3, 30, 9, 1)
    assert due.utcoffset() == timedelta(hours=2)
    assert calendar_for(BOLOGNA).minutes_between(opened, due) == 2


def test_deadline_using_the_last_minute_of_the_day_is_due_at_closing_time():
    due = calendar_for(BOLOGNA).add_minutes(rome(2026, 3, 27, 17), 60)

    assert due == rome(2026, 3, 27, 18)


def test_weekend_across_dst_change_counts_only_opening_hours():
    calendar = calendar_for(BOLOGNA)

    assert calendar.minutes_between(rome(2026, 3, 27, 17), rome(2026, 3, 30, 10)) == 120
    assert calendar.minutes_between(rome(2026, 10, 23, 17), rome(2026, 10, 26, 10)) == 120
    assert calendar.add_minutes(rome(2026, 10, 23, 17), 120) == rome(2026, 10, 26, 10)


def test_christmas_and_saint_stephen_are_closed():
    # 2028 puts both on weekdays (Monday 25 and Tuesday 26 December)
    calendar = calendar_for(BOLOGNA)

    assert not calendar.is_open(rome(2028, 12, 25, 10))
    assert not calendar.is_open(rome(2028, 12, 26, 10))
    assert calendar.is_open(rome(2028, 12, 27, 10))
    # Friday 22 December 17:00-18:00 is the first hour, Wednesday 27 09:00-10:00 the second
    assert calendar.add_minutes(rome(2028, 12, 22, 17), 120) == rome(2028, 12, 27, 10)


def test_easter_monday_2026_is_closed():
    calendar = calendar_for(BOLOGNA)

    assert not calendar.is_open(rome(2026, 4, 6, 10))
    assert calendar.add_minutes(rome(2026, 4, 3, 17), 120) == rome(2026, 4, 7, 10)
    assert calendar.minutes_between(rome(2026, 4, 3, 9), rome(2026, 4, 7, 9)) == 480


@pytest.mark.parametrize(
    ("spec", "day", "closed"),
    [
        # San Petronio, Bologna: a Monday in 2027
        (BOLOGNA, date(2027, 10, 4), True),
        # San Geminiano, Modena: a Monday in 2028, an ordinary day in Bologna
        (MODENA, date(2028, 1, 31), True),
        (BOLOGNA, date(2028, 1, 31), False),
        (CalendarSpec(weekly_hours=DEMO_WEEKLY_HOURS), date(2028, 1, 31), False),
        # Patron day only: the office's own day stays closed even when it is also a national
        # holiday (4 October), national holidays are open
        (
            CalendarSpec(DEMO_WEEKLY_HOURS, holiday_subdiv="BO", include_national_holidays=False),
            date(2027, 10, 4),
            True,
        ),
        (
            CalendarSpec(DEMO_WEEKLY_HOURS, holiday_subdiv="BO", include_national_holidays=False),
            date(2027, 11, 1),
            False,
        ),
        (
            CalendarSpec(DEMO_WEEKLY_HOURS, holiday_subdiv="MO", include_national_holidays=False),
            date(2028, 1, 31),
            True,
        ),
        (
            CalendarSpec(DEMO_WEEKLY_HOURS, include_national_holidays=False),
            date(2028, 12, 25),
            False,
        ),
    ],
)
def test_patron_saint_and_national_holidays(spec, day, closed):
    calendar = calendar_for(spec)
    morning = datetime.combine(day, time(10), tzinfo=ROME)

    assert calendar.is_open(morning) is not closed
    assert calendar.minutes_between(
        datetime.combine(day, time(0), tzinfo=ROME), morning + timedelta(hours=14)
    ) == (0 if closed else 480)


def test_pause_spanning_a_weekend_moves_the_due_time_by_the_paused_business_time():
    # Given a 960-minute target opened Thursday 5 March 2026 at 10:00
    calendar = calendar_for(BOLOGNA)
    opened, target = rome(2026, 3, 5, 10), 960
    assert calendar.add_minutes(opened, target) == rome(2026, 3, 9, 10)

    # When the clock pauses Friday 16:00 and resumes Monday 11:00
    paused, resumed = rome(2026, 3, 6, 16), rome(2026, 3, 9, 11)
    consumed = calendar.minutes_between(opened, paused)
    due = calendar.add_minutes(resumed, target - consumed)

    # Then Thursday 420 + Friday 360 minutes were used; the last 180 run Monday 11-13 and 14-15
    assert consumed == 780
    assert due == rome(2026, 3, 9, 15)
    assert (
        calendar.minutes_between(opened, paused) + calendar.minutes_between(resumed, due) == target
    )


def test_christmas_eve_afternoon_closure():
    calendar = calendar_for(
        CalendarSpec(DEMO_WEEKLY_HOURS, holiday_subdiv="BO", closures=(CHRISTMAS_EVE_AFTERNOON,))
    )

    assert calendar.is_open(rome(2026, 12, 24, 12, 59, 59))
    assert not calendar.is_open(rome(2026, 12, 24, 15))
    assert calendar.next_open(rome(2026, 12, 24, 13)) == rome(2026, 12, 28, 9)
    # 12:30-13:00 on the 24th, then Christmas, Saint Stephen and Sunday, then Monday 09:00-09:30
    assert calendar.add_minutes(rome(2026, 12, 24, 12, 30), 60) == rome(2026, 12, 28, 9, 30)


def test_480_minutes_from_christmas_eve_1730_in_bologna():
    # 17:30-18:00 on Thursday 24 December gives 30 minutes; Friday 25 (Christmas), Saturday 26
    # (Saint Stephen) and Sunday 27 are closed; Monday 28 gives 240 in the morning (270 in all)
    # and the remaining 210 run from 14:00, so the 480th minute ends at 17:30.
    due = calendar_for(BOLOGNA).add_minutes(rome(2026, 12, 24, 17, 30), 480)

    assert due == rome(2026, 12, 28, 17, 30)
    assert due.utcoffset() == timedelta(hours=1)


def test_480_minutes_from_christmas_eve_1730_with_the_afternoon_closure_fills_monday():
    # The afternoon closure leaves nothing on the 24th, so all 480 minutes are Monday's full day:
    # the deadline is Monday's closing time, not Tuesday's opening.
    calendar = calendar_for(
        CalendarSpec(DEMO_WEEKLY_HOURS, holiday_subdiv="BO", closures=(CHRISTMAS_EVE_AFTERNOON,))
    )

    assert calendar.add_minutes(rome(2026, 12, 24, 17, 30), 480) == rome(2026, 12, 28, 18)


@pytest.mark.parametrize(
    ("day", "hours", "expected_minutes"),
    [
        # A 09:00-18:00 day is nine wall-clock hours on both change days
        (date(2026, 3, 29), (time(9), time(18)), 540),
        (date(2026, 10, 25), (time(9), time(18)), 540),
        # A range across the change loses or gains the hour, as the wall clock shows
        (date(2026, 3, 29), (time(1), time(4)), 120),
        (date(2026, 10, 25), (time(1), time(4)), 240),
        # Opening inside the skipped hour means opening when clocks jump to 03:00
        (date(2026, 3, 29), (time(2, 30), time(4)), 60),
        # Opening inside the repeated hour means its first pass
        (date(2026, 10, 25), (time(2, 30), time(4)), 150),
        (date(2026, 3, 29), (time(0), time(0)), 23 * 60),
        (date(2026, 10, 25), (time(0), time(0)), 25 * 60),
    ],
)
def test_dst_change_days_follow_the_wall_clock(day, hours, expected_minutes):
    calendar = BusinessCalendar(
        CalendarSpec(weekly_hours=((6, *hours),), include_national_holidays=False)
    )
    midnight = datetime.combine(day, time(0), tzinfo=ROME)

    assert calendar.minutes_between(midnight, midnight + timedelta(days=1)) == expected_minutes
    due = calendar.add_minutes(midnight, expected_minutes)
    closes = day + timedelta(days=1) if hours[1] == time(0) else day
    assert due == datetime.combine(closes, hours[1], tzinfo=ROME)


def test_nine_to_six_on_the_spring_change_day_opens_at_nine_summer_time():
    calendar = BusinessCalendar(CalendarSpec(weekly_hours=((6, time(9), time(18)),)))

    opens = calendar.next_open(rome(2026, 3, 29, 1))

    assert opens == rome(2026, 3, 29, 9)
    assert opens.utcoffset() == timedelta(hours=2)
    assert calendar.next_open(rome(2026, 3, 29, 1, 30)) == rome(2026, 3, 29, 9)
    skipped = BusinessCalendar(CalendarSpec(weekly_hours=((6, time(2, 30), time(4)),)))
    assert skipped.next_open(rome(2026, 3, 29, 1, 30)) == rome(2026, 3, 29, 3)


def test_opening_is_inside_and_closing_outside_business_hours():
    calendar = calendar_for(BOLOGNA)

    assert calendar.is_open(rome(2026, 3, 4, 9))
    assert calendar.is_open(rome(2026, 3, 4, 12, 59, 59))
    assert not calendar.is_open(rome(2026, 3, 4, 13))
    assert not calendar.is_open(rome(2026, 3, 4, 8, 59, 59))
    assert calendar.next_open(rome(2026, 3, 4, 13)) == rome(2026, 3, 4, 14)
    assert calendar.next_open(rome(2026, 3, 4, 10, 15)) == rome(2026, 3, 4, 10, 15)


def test_seconds_are_counted_and_fractions_of_a_second_dropped():
    calendar = calendar_for(BOLOGNA)

    assert calendar.add_minutes(rome(2026, 3, 4, 9, 0, 30), 1) == rome(2026, 3, 4, 9, 1, 30)
    assert calendar.add_minutes(rome(2026, 3, 4, 12, 59, 30), 1) == rome(2026, 3, 4, 14, 0, 30)
    assert calendar.minutes_between(rome(2026, 3, 4, 9, 0, 30), rome(2026, 3, 4, 9, 1, 29)) == 0
    assert calendar.minutes_between(rome(2026, 3, 4, 9, 0, 30), rome(2026, 3, 4, 9, 1, 30)) == 1
    assert calendar.seconds_between(rome(2026, 3, 4, 8), rome(2026, 3, 4, 9, 0, 45)) == 45
    with_micro = rome(2026, 3, 4, 9).replace(microsecond=700_000)
    assert calendar.add_minutes(with_micro, 1) == rome(2026, 3, 4, 9, 1)


def test_adding_nothing_outside_hours_returns_the_instant_itself():
    calendar = calendar_for(BOLOGNA)
    saturday = datetime(2026, 3, 7, 15, 12, 7, tzinfo=UTC)

    result = calendar.add_minutes(saturday, 0)

    assert result == saturday
    assert result.tzinfo == ROME


def test_results_are_in_rome_whatever_the_zone_of_the_input():
    due = calendar_for(BOLOGNA).add_minutes(datetime(2026, 7, 1, 7, tzinfo=UTC), 30)

    assert due == rome(2026, 7, 1, 9, 30)
    assert due.tzinfo == ROME


def test_end_before_start_counts_nothing():
    calendar = calendar_for(BOLOGNA)

    assert calendar.minutes_between(rome(2026, 3, 4, 12), rome(2026, 3, 4, 10)) == 0
    assert calendar.minutes_between(rome(2026, 3, 4, 12), rome(2026, 3, 4, 12)) == 0


def test_calendar_extends_to_years_far_from_the_first_use():
    calendar = BusinessCalendar(BOLOGNA)
    assert calendar.add_minutes(rome(2026, 3, 4, 17), 120) == rome(2026, 3, 5, 10)

    # Christmas 2017 was a Monday, Christmas 2045 is a Monday too
    assert calendar.add_minutes(rome(2017, 12, 22, 17), 120) == rome(2017, 12, 27, 10)
    assert calendar.add_minutes(rome(2045, 12, 22, 17), 120) == rome(2045, 12, 27, 10)
    # A week of the demo calendar is 40 hours
    assert calendar.minutes_between(rome(2026, 3, 2), rome(2026, 3, 9)) == 40 * 60
    assert calendar.add_minutes(rome(2030, 1, 7, 9), 5 * 365 * 8 * 60) > rome(2035, 1, 1)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.add_minutes(datetime(2026, 3, 4, 9), 10),
        lambda c: c.minutes_between(datetime(2026, 3, 4, 9), rome(2026, 3, 4, 10)),
        lambda c: c.minutes_between(rome(2026, 3, 4, 9), datetime(2026, 3, 4, 10)),
        lambda c: c.is_open(datetime(2026, 3, 4, 9)),
        lambda c: c.next_open(datetime(2026, 3, 4, 9)),
        lambda c: c.add_minutes(rome(2026, 3, 4, 9), -1),
    ],
)
def test_naive_instants_and_negative_minutes_are_refused(call):
    with pytest.raises(ValueError):
        call(calendar_for(BOLOGNA))


@pytest.mark.parametrize(
    "make_spec",
    [
        lambda: CalendarSpec(weekly_hours=((7, time(9), time(18)),)),
        lambda: CalendarSpec(weekly_hours=((0, time(18), time(9)),)),
        lambda: CalendarSpec(weekly_hours=((0, time(9), time(9)),)),
        lambda: CalendarSpec(DEMO_WEEKLY_HOURS, holiday_subdiv="XX"),
        lambda: CalendarSpec(
            DEMO_WEEKLY_HOURS, closures=((datetime(2026, 1, 1), rome(2026, 1, 2)),)
        ),
        lambda: CalendarSpec(DEMO_WEEKLY_HOURS, closures=((rome(2026, 1, 2), rome(2026, 1, 1)),)),
    ],
)
def test_malformed_specs_are_refused(make_spec):
    with pytest.raises(ValueError):
        make_spec()


def test_calendar_without_opening_hours_is_refused():
    with pytest.raises(ValueError, match="opening hours"):
        BusinessCalendar(CalendarSpec(weekly_hours=()))


def test_calendar_closed_for_years_refuses_to_add_but_still_counts():
    calendar = BusinessCalendar(
        CalendarSpec(DEMO_WEEKLY_HOURS, closures=((rome(2026, 1, 1), rome(2036, 1, 1)),))
    )

    with pytest.raises(ValueError, match="no business time"):
        calendar.add_minutes(rome(2026, 6, 1, 9), 1)
    with pytest.raises(ValueError, match="no business time"):
        calendar.next_open(rome(2026, 6, 1, 9))
    assert calendar.minutes_between(rome(2026, 6, 1), rome(2027, 6, 1)) == 0
    assert calendar.add_minutes(rome(2025, 12, 31, 17), 60) == rome(2025, 12, 31, 18)


def test_calendar_for_builds_each_calendar_once_whatever_the_order_of_its_hours():
    reordered = CalendarSpec(weekly_hours=list(reversed(DEMO_WEEKLY_HOURS)), holiday_subdiv="bo")

    assert reordered == BOLOGNA
    assert calendar_for(reordered) is calendar_for(BOLOGNA)


@pytest.mark.parametrize(
    ("now", "met_at", "paused", "expected"),
    [
        (rome(2026, 3, 4, 9), None, False, SlaState.ON_TRACK),
        (rome(2026, 3, 4, 15), None, False, SlaState.AT_RISK),
        (rome(2026, 3, 4, 16), None, False, SlaState.BREACHED),
        (rome(2026, 3, 4, 17), None, False, SlaState.BREACHED),
        (rome(2026, 3, 4, 17), None, True, SlaState.PAUSED),
        (rome(2026, 3, 4, 9), None, True, SlaState.PAUSED),
        (rome(2026, 3, 5, 9), rome(2026, 3, 4, 16), False, SlaState.MET),
        (rome(2026, 3, 5, 9), rome(2026, 3, 4, 16, 0, 1), False, SlaState.BREACHED),
        (rome(2026, 3, 5, 9), rome(2026, 3, 4, 10), True, SlaState.MET),
    ],
)
def test_clock_state(now, met_at, paused, expected):
    state = clock_state(
        now=now,
        due_at=rome(2026, 3, 4, 16),
        warn_at=rome(2026, 3, 4, 15),
        met_at=met_at,
        paused=paused,
    )

    assert state is expected
    assert state == expected.value


def test_clock_without_a_due_time_is_on_track_until_met():
    assert clock_state(
        now=rome(2026, 3, 4), due_at=None, warn_at=None, met_at=None, paused=False
    ) == (SlaState.ON_TRACK)
    assert clock_state(
        now=rome(2026, 3, 4), due_at=None, warn_at=None, met_at=rome(2026, 3, 4), paused=False
    ) == (SlaState.MET)


@pytest.mark.parametrize(
    ("target", "percent", "expected"),
    [(480, 75, 360), (100, 75, 75), (7, 50, 4), (1, 1, 1), (0, 75, 0), (960, 100, 960), (60, 0, 0)],
)
def test_warn_minutes_rounds_up(target, percent, expected):
    assert warn_minutes(target, percent) == expected


@pytest.mark.parametrize(("target", "percent"), [(-1, 75), (60, -1), (60, 101)])
def test_warn_minutes_refuses_nonsense(target, percent):
    with pytest.raises(ValueError):
        warn_minutes(target, percent)


# Properties against a brute force ------------------------------------------------------------

DST_WEEKENDS = (rome(2026, 3, 27), rome(2026, 10, 23))
OTHER_ANCHORS = (
    rome(2026, 12, 21),  # Christmas
    rome(2026, 4, 2),  # Easter
    rome(2027, 9, 30),  # San Petronio on a Monday
    rome(2028, 1, 28),  # San Geminiano on a Monday
    rome(2027, 6, 21),  # San Giovanni in Forlì-Cesena
)
WINDOW_DAYS = 6
# Bounds inside the DST hours and at common office times come up often, other minutes too.
INTERESTING_MINUTES = (0, 60, 90, 120, 150, 180, 210, 240, 540, 780, 840, 1080, 1440)
minute_of_day = st.one_of(
    st.sampled_from(INTERESTING_MINUTES), st.integers(110, 190), st.integers(0, 1440)
)


def as_time(minute: int) -> time:
    return time(0) if minute == 1440 else time(minute // 60, minute % 60)


@st.composite
def weekly_hours(draw):
    hours = []
    for weekday in range(7):
        for _ in range(draw(st.integers(0, 3))):
            opens, closes = sorted((draw(minute_of_day), draw(minute_of_day)))
            if opens < closes:
                hours.append((weekday, as_time(opens), as_time(closes)))
    return tuple(hours) or ((draw(st.integers(0, 6)), time(9), time(18)),)


@st.composite
def calendar_specs(draw, window_start: datetime):
    closures = []
    for _ in range(draw(st.integers(0, 3))):
        start = window_start + timedelta(minutes=draw(st.integers(-1440, WINDOW_DAYS * 1440)))
        closures.append((start, start + timedelta(minutes=draw(st.integers(1, 3 * 1440)))))
    return CalendarSpec(
        weekly_hours=draw(weekly_hours()),
        holiday_subdiv=draw(st.sampled_from((None, *OFFICES))),
        include_national_holidays=draw(st.booleans()),
        closures=tuple(closures),
    )


@functools.cache
def italian_holidays(subdiv: str | None, year: int) -> holidays.HolidayBase:
    return holidays.IT(subdiv=subdiv, years=year)


def closed_day(spec: CalendarSpec, day: date) -> bool:
    national = italian_holidays(None, day.year)
    if spec.holiday_subdiv is None:
        return spec.include_national_holidays and day in national
    local = italian_holidays(spec.holiday_subdiv, day.year)
    if spec.include_national_holidays:
        return day in local
    return len(local.get_list(day)) > len(national.get_list(day))


class Oracle:
    """Reads the office's wall clock minute by minute; knows nothing of intervals or prefix sums.

    A range is open from the first minute the wall clock reaches its opening time until the first
    minute it reaches its closing time, the rule the calendar documents for DST change days.
    """

    def __init__(self, spec: CalendarSpec, first: int, last: int):
        self.first, self.last = first, last
        scan_from = first - 86400
        minutes = range(scan_from, last + 86400, 60)
        walls = [datetime.fromtimestamp(moment, ROME).replace(tzinfo=None) for moment in minutes]
        reached, highest = [], walls[0]
        for wall in walls:
            highest = max(highest, wall)
            reached.append(highest)
        flags = [False] * len(walls)
        day = walls[0].date()
        while day <= walls[-1].date():
            if not closed_day(spec, day):
                for weekday, opens, closes in spec.weekly_hours:
                    if weekday != day.weekday():
                        continue
                    end_day = day + timedelta(days=1) if closes == time(0) else day
                    begin = bisect_left(reached, datetime.combine(day, opens))
                    end = bisect_left(reached, datetime.combine(end_day, closes))
                    flags[begin:end] = [True] * (end - begin)
            day += timedelta(days=1)
        closures = [(int(a.timestamp()), int(b.timestamp())) for a, b in spec.closures]
        offset = (first - scan_from) // 60
        self.open = [
            flags[offset + index] and not any(a <= moment < b for a, b in closures)
            for index, moment in enumerate(range(first, last, 60))
        ]

    def seconds_between(self, start: int, end: int) -> int:
        total = 0
        for index in range((start - self.first) // 60, (end - self.first + 59) // 60):
            if self.open[index]:
                minute = self.first + index * 60
                total += max(0, min(end, minute + 60) - max(start, minute))
        return total

    def add_seconds(self, start: int, seconds: int) -> int | None:
        moment, used = start, 0
        while moment < self.last:
            boundary = moment - (moment - self.first) % 60 + 60
            if self.open[(moment - self.first) // 60]:
                if used + boundary - moment >= seconds:
                    return moment + seconds - used
                used += boundary - moment
            moment = boundary
        return None

    def is_open(self, moment: int) -> bool:
        return self.open[(moment - self.first) // 60]

    def next_open(self, moment: int) -> int | None:
        if self.is_open(moment):
            return moment
        for index in range((moment - self.first) // 60 + 1, len(self.open)):
            if self.open[index]:
                return self.first + index * 60
        return None


def epoch(value: datetime) -> int:
    return int(value.timestamp())


@st.composite
def windows(draw):
    anchor = draw(st.one_of(st.sampled_from(DST_WEEKENDS), st.sampled_from(OTHER_ANCHORS)))
    return anchor + timedelta(minutes=draw(st.integers(0, 3 * 1440)))


# The oracle costs tens of milliseconds a call: shrinking a failure would run for minutes, while
# an unshrunk counterexample is reported at once and is small enough to read.
@settings(
    max_examples=50,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_calendar_agrees_with_the_minute_by_minute_oracle(data):
    window_start = data.draw(windows())
    spec = data.draw(calendar_specs(window_start))
    calendar = BusinessCalendar(spec)
    first = epoch(window_start)
    last = first + WINDOW_DAYS * 86400
    oracle = Oracle(spec, first, last)
    instants = st.integers(first, last - 1)

    for _ in range(6):
        a, b = sorted((data.draw(instants), data.draw(instants)))
        start, end = datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC)

        expected = oracle.seconds_between(a, b)
        assert calendar.seconds_between(start, end) == expected
        assert calendar.minutes_between(start, end) == expected // 60
        assert calendar.minutes_between(end, start) == 0
        assert calendar.is_open(start) is oracle.is_open(a)
        expected_open = oracle.next_open(a)
        if expected_open is not None:
            assert epoch(calendar.next_open(start)) == expected_open

        available = oracle.seconds_between(a, last) // 60
        minutes = data.draw(st.integers(0, available))
        due = calendar.add_minutes(start, minutes)
        assert epoch(due) == (a if minutes == 0 else oracle.add_seconds(a, minutes * 60))
        assert due.tzinfo == ROME


instants_2026_2028 = st.integers(epoch(rome(2026, 1, 1)), epoch(rome(2029, 1, 1))).map(
    lambda moment: datetime.fromtimestamp(moment, ROME)
)


@st.composite
def any_specs(draw):
    closures = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(instants_2026_2028)
        closures.append((start, start + timedelta(minutes=draw(st.integers(1, 20 * 1440)))))
    return CalendarSpec(
        weekly_hours=draw(weekly_hours()),
        holiday_subdiv=draw(st.sampled_from((None, *OFFICES))),
        include_national_holidays=draw(st.booleans()),
        closures=tuple(closures),
    )


def weekly_open_minutes(spec: CalendarSpec) -> int:
    return sum(
        (24 * 60 if closes == time(0) else closes.hour * 60 + closes.minute)
        - (opens.hour * 60 + opens.minute)
        for _, opens, closes in spec.weekly_hours
    )


@settings(max_examples=100, deadline=None, database=None)
@given(
    spec=any_specs(),
    start=instants_2026_2028,
    target=st.integers(0, 20_000),
    pause_after=st.integers(0, 20_000),
    pause_days=st.integers(0, 20 * 86400),
)
def test_paused_clock_uses_exactly_its_target(spec, start, target, pause_after, pause_days):
    calendar = calendar_for(spec)
    # A random calendar may be open a few minutes a week; keep the target to some weeks of it
    target = min(target, 20 * weekly_open_minutes(spec))
    due_unpaused = calendar.add_minutes(start, target)
    assert calendar.minutes_between(start, due_unpaused) == target

    # Given a pause from some point before the due time, lasting any wall-clock time
    paused = start + (due_unpaused - start) * min(pause_after, target) / max(target, 1)
    resumed = paused + timedelta(seconds=pause_days)

    # When the clock resumes with what was left
    consumed = calendar.seconds_between(start, paused)
    due = calendar.add_seconds(resumed, target * 60 - consumed)

    # Then the business time before and after the pause is exactly the target, never earlier
    assert consumed + calendar.seconds_between(resumed, due) == target * 60
    assert due >= due_unpaused
    assert calendar.seconds_between(start, due) == target * 60 + calendar.seconds_between(
        paused, resumed
    )


@settings(max_examples=100, deadline=None, database=None)
@given(spec=any_specs(), a=instants_2026_2028, b=instants_2026_2028, c=instants_2026_2028)
def test_business_time_of_split_ranges_adds_up(spec, a, b, c):
    calendar = calendar_for(spec)
    a, b, c = sorted((a, b, c))

    whole = calendar.seconds_between(a, c)

    assert calendar.seconds_between(a, b) + calendar.seconds_between(b, c) == whole
    assert (
        0
        <= calendar.minutes_between(a, c)
        - (calendar.minutes_between(a, b) + calendar.minutes_between(b, c))
        <= 1
    )
    # The round trip lands no later than c and on the same count of whole minutes
    back = calendar.add_minutes(a, calendar.minutes_between(a, c))
    assert back <= c
    assert calendar.minutes_between(a, back) == calendar.minutes_between(a, c)
