"""Deadline arithmetic: named Italian cases and properties checked against a day-by-day oracle."""

import functools
from datetime import date, datetime, timedelta

import holidays
import pytest
from holidays.countries.italy import Italy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.sla import deadlines
from casework.sla.business_time import (
    DEMO_WEEKLY_HOURS,
    BusinessCalendar,
    CalendarSpec,
    calendar_for,
)
from casework.sla.deadlines import (
    Deadline,
    DeadlineError,
    DeadlineKind,
    add_months,
    business,
    deadline,
    explain,
    fixed,
    in_months,
    judicial,
    judicial_labour,
    next_working_day,
    open_days_of,
    tax,
)

BOLOGNA = CalendarSpec(weekly_hours=DEMO_WEEKLY_HOURS, holiday_subdiv="BO")
MODENA = CalendarSpec(weekly_hours=DEMO_WEEKLY_HOURS, holiday_subdiv="MO")
NATIONAL_ONLY = CalendarSpec(weekly_hours=DEMO_WEEKLY_HOURS)


# Named situations ------------------------------------------------------------------------------


def test_thirty_judicial_days_from_15_july_2026_end_on_monday_14_september():
    # 16-31 July are days 1-16 (15 July, the dies a quo, is not counted); 1-31 August are
    # suspended; 1-14 September are days 17-30. 14 September 2026 is a Monday: no move.
    found = deadline("judicial", date(2026, 7, 15), days=30)

    assert found.due == date(2026, 9, 14)
    assert found.due.weekday() == 0
    assert found.suspended_years == (2026,)
    assert not found.moved
    assert judicial(date(2026, 7, 15), 30) == date(2026, 9, 14)


def test_a_judicial_term_triggered_in_august_starts_on_1_september():
    # 3 August 2026 falls in the suspension, so the term starts when it ends: 1 September is
    # day 1 and 30 September day 30 (a Wednesday), the same as for any trigger in August or on
    # 31 July. A reading that took 1 September as the not-counted first day would give 1 October.
    found = deadline(DeadlineKind.JUDICIAL, date(2026, 8, 3), days=30)

    assert found.due == date(2026, 9, 30)
    assert found.started_in_suspension
    assert judicial(date(2026, 8, 31), 30) == date(2026, 9, 30)
    assert judicial(date(2026, 7, 31), 30) == date(2026, 9, 30)
    assert judicial(date(2026, 8, 3), 1) == date(2026, 9, 1)


def test_a_judicial_term_of_400_days_skips_two_augusts():
    # From 15 July 2026: 16-31 July 2026 (16 days), September 2026 to July 2027 (334 days, 350
    # in all), August 2027 suspended, then 50 days: 30 in September and 20 in October 2027.
    found = deadline("judicial", date(2026, 7, 15), days=400)

    assert found.due == date(2027, 10, 20)
    assert found.suspended_years == (2026, 2027)
    assert judicial_labour(date(2026, 7, 15), 400) == next_working_day(
        date(2026, 7, 15) + timedelta(days=400)
    )


def test_a_judicial_term_ending_on_a_saturday_moves_to_monday():
    # 4 March 2026 + 10 days is Saturday 14 March.
    found = deadline("judicial", date(2026, 3, 4), days=10)

    assert found.term_end == date(2026, 3, 14)
    assert found.due == date(2026, 3, 16)
    assert found.moved


@pytest.mark.parametrize(
    ("start", "days", "term_end", "due"),
    [
        # Liberation Day, a Tuesday in 2028
        (date(2028, 4, 15), 10, date(2028, 4, 25), date(2028, 4, 26)),
        # Easter Monday 2026
        (date(2026, 3, 25), 12, date(2026, 4, 6), date(2026, 4, 7)),
        # Easter Sunday, then Easter Monday
        (date(2026, 3, 25), 11, date(2026, 4, 5), date(2026, 4, 7)),
        # Christmas on a Friday, Saint Stephen on Saturday, then Sunday
        (date(2026, 11, 25), 30, date(2026, 12, 25), date(2026, 12, 28)),
        # 2 June (Republic Day) on a Friday in 2028
        (date(2028, 5, 23), 10, date(2028, 6, 2), date(2028, 6, 5)),
        # 4 October is a national holiday again from 2026 (legge 151/2025): Monday in 2027
        (date(2027, 9, 24), 10, date(2027, 10, 4), date(2027, 10, 5)),
    ],
)
@pytest.mark.parametrize("kind", ["judicial", "judicial_labour", "tax"])
def test_a_term_ending_on_a_national_holiday_moves_on(kind, start, days, term_end, due):
    found = deadline(kind, start, days=days)

    assert (found.term_end, found.due) == (term_end, due)


def test_4_october_was_an_ordinary_day_before_2026():
    # Friday 4 October 2024: no national holiday then, so no move.
    assert tax(date(2024, 9, 24), 10) == date(2024, 10, 4)


def test_a_labour_term_runs_through_august():
    # No suspension: 16 days in July and 14 in August; Friday 14 August is a working day.
    assert judicial_labour(date(2026, 7, 15), 30) == date(2026, 8, 14)
    # One more day is Ferragosto, a Saturday: the term moves to Monday 17 August.
    assert judicial_labour(date(2026, 7, 15), 31) == date(2026, 8, 17)
    assert deadline("judicial_labour", date(2026, 7, 15), days=30).suspended_years == ()


def test_a_tax_term_ending_on_a_sunday_moves_to_monday():
    found = deadline("tax", date(2026, 3, 5), days=10)

    assert found.term_end == date(2026, 3, 15)
    assert found.term_end.weekday() == 6
    assert found.due == date(2026, 3, 16)
    # Tax terms are not suspended in August
    assert tax(date(2026, 7, 15), 30) == date(2026, 8, 14)


def test_judicial_term_ending_on_saturday_31_july_moves_into_august_not_to_september():
    # The move looks at weekends and holidays only: Saturday 31 July 2027 falls due on Monday
    # 2 August, the reading under which nobody files late.
    found = deadline("judicial", date(2027, 6, 30), days=31)

    assert found.term_end == date(2027, 7, 31)
    assert found.due == date(2027, 8, 2)
    assert found.suspended_years == ()


def test_business_days_skip_san_petronio_in_bologna():
    # Thursday 3 October 2024; Friday 4 October is San Petronio, closed in Bologna only (4 October
    # became a national holiday in 2026).
    thursday = date(2024, 10, 3)

    assert business(thursday, 1, calendar=calendar_for(BOLOGNA)) == date(2024, 10, 7)
    assert business(thursday, 1, calendar=calendar_for(MODENA)) == date(2024, 10, 4)
    assert business(thursday, 1, calendar=calendar_for(NATIONAL_ONLY)) == date(2024, 10, 4)
    # Five open days in Bologna: 7, 8, 9, 10 and 11 October
    assert business(thursday, 5, calendar=calendar_for(BOLOGNA)) == date(2024, 10, 11)


def test_business_days_skip_san_geminiano_in_modena():
    # Friday 29 January 2027 → Monday 1 February: 31 January is a Sunday that year, so use 2028,
    # when San Geminiano is a Monday.
    assert business(date(2028, 1, 28), 1, calendar=calendar_for(MODENA)) == date(2028, 2, 1)
    assert business(date(2028, 1, 28), 1, calendar=calendar_for(BOLOGNA)) == date(2028, 1, 31)


def test_business_days_with_a_whole_day_closure_and_a_partial_one():
    rome = calendar_for(BOLOGNA).tz
    closures = (
        # All of Monday 30 November 2026, and the afternoon of Tuesday 1 December
        (datetime(2026, 11, 30, tzinfo=rome), datetime(2026, 12, 1, tzinfo=rome)),
        (datetime(2026, 12, 1, 14, tzinfo=rome), datetime(2026, 12, 1, 18, tzinfo=rome)),
    )
    closed = calendar_for(CalendarSpec(DEMO_WEEKLY_HOURS, holiday_subdiv="BO", closures=closures))

    assert business(date(2026, 11, 27), 1, calendar=closed) == date(2026, 12, 1)
    assert business(date(2026, 11, 27), 1, calendar=calendar_for(BOLOGNA)) == date(2026, 11, 30)


def test_business_days_with_a_plain_callable():
    # An office open Tuesday to Saturday
    def open_day(day: date) -> bool:
        return day.weekday() in (1, 2, 3, 4, 5)

    # From Saturday 7 March 2026: Tuesday 10 is the first open day, Saturday 14 the fifth
    assert business(date(2026, 3, 7), 1, calendar=open_day) == date(2026, 3, 10)
    assert business(date(2026, 3, 7), 5, calendar=open_day) == date(2026, 3, 14)


def test_the_trigger_day_of_a_business_term_is_not_counted():
    monday = date(2026, 3, 2)

    assert business(monday, 1, calendar=calendar_for(BOLOGNA)) == date(2026, 3, 3)
    assert business(date(2026, 3, 6), 1, calendar=calendar_for(BOLOGNA)) == date(2026, 3, 9)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2100, 1, 31), 1, date(2100, 2, 28)),  # not a leap year
        (date(2000, 1, 31), 1, date(2000, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 5, 10), 12, date(2027, 5, 10)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
    ],
)
def test_months_by_the_common_calendar(start, months, expected):
    assert add_months(start, months) == expected


def test_a_month_term_ending_on_a_weekend_moves_for_tax_and_judicial_kinds():
    # 31 January 2026 + 1 month = Saturday 28 February 2026 → Monday 2 March
    assert in_months("tax", date(2026, 1, 31), 1) == date(2026, 3, 2)
    assert in_months("judicial_labour", date(2026, 1, 31), 1) == date(2026, 3, 2)
    assert in_months("judicial", date(2026, 1, 31), 1) == date(2026, 3, 2)
    # 2028: Tuesday 29 February, a working day
    assert in_months("tax", date(2028, 1, 31), 1) == date(2028, 2, 29)


def test_a_judicial_term_in_months_is_lengthened_by_the_augusts_it_crosses():
    # Six months from 15 July 2026 end on 15 January 2027 by the calendar; the 31 days of August
    # 2026 take them to Monday 15 February 2027 (the "termine lungo" of art. 327 c.p.c.).
    found = deadline("judicial", date(2026, 7, 15), months=6)

    assert found.by_calendar == date(2027, 1, 15)
    assert found.due == date(2027, 2, 15)
    assert found.suspended_years == (2026,)
    # Without the suspension the calendar date stands
    assert in_months("judicial_labour", date(2026, 7, 15), 6) == date(2027, 1, 15)
    # Eighteen months cross two Augusts: 15 January 2028 + 62 days = Friday 17 March 2028
    assert in_months("judicial", date(2026, 7, 15), 18) == date(2028, 3, 17)


def test_a_judicial_term_in_months_triggered_in_august_counts_from_31_august():
    # 10 August 2026: the months count from 31 August, so six end on 28 February 2027 (February
    # has no 31st), a Sunday: the deadline is Monday 1 March.
    found = deadline("judicial", date(2026, 8, 10), months=6)

    assert found.by_calendar == date(2027, 2, 28)
    assert found.term_end == date(2027, 2, 28)
    assert found.due == date(2027, 3, 1)


def test_a_judicial_month_term_ending_in_august_is_carried_past_it():
    # 15 July + 1 month = 15 August by the calendar; the 31 August days crossed move it to
    # 15 September 2026, a Tuesday.
    assert in_months("judicial", date(2026, 7, 15), 1) == date(2026, 9, 15)


def test_a_fixed_deadline_is_the_date_itself_even_on_a_sunday():
    sunday = date(2026, 3, 15)

    assert fixed(sunday) == sunday
    assert deadline("fixed", sunday).due == sunday


def test_national_holidays_after_2100_still_move_a_term():
    # The holidays package lists nothing after 2100; the module carries its rules on.
    assert holidays.IT(years=2102).get(date(2102, 12, 25)) is None
    # Friday 15 December 2102 + 10 days = Monday 25 December → Wednesday 27 December
    assert tax(date(2102, 12, 15), 10) == date(2102, 12, 27)


def test_national_holidays_are_the_packages_up_to_2100():
    for year in range(deadlines.FIRST_YEAR, holidays.IT.end_year + 1):
        expected = set(holidays.IT(years=year))
        day = date(year, 1, 1)
        while day.year == year:
            assert (deadlines.national_holiday(day) is not None) is (day in expected), day
            day += timedelta(days=1)


def test_explanation_of_the_named_case():
    text = explain(deadline("judicial", date(2026, 7, 15), days=30))

    assert text == (
        "start 2026-07-15, 30 days, judicial: the start not counted; "
        "suspended 1–31 August 2026 → 2026-09-14"
    )


@pytest.mark.parametrize(
    ("found", "phrases"),
    [
        (
            deadline("judicial", date(2026, 8, 3), days=30),
            ["starts in the August suspension, day 1 is 1 September 2026", "→ 2026-09-30"],
        ),
        (
            deadline("tax", date(2028, 4, 15), days=10),
            ["ends on Tuesday 2028-04-25, moved past Liberation Day", "→ 2028-04-26"],
        ),
        (
            deadline("judicial", date(2027, 6, 30), days=31),
            ["moved past Saturday and Sunday to the next working day → 2027-08-02"],
        ),
        (
            deadline("judicial", date(2026, 7, 15), months=6),
            ["calendar months end on 2027-01-15", "lengthened by 1–31 August 2026"],
        ),
        (deadline("fixed", date(2026, 3, 15)), ["fixed date 2026-03-15, not moved → 2026-03-15"]),
    ],
)
def test_explanations_say_why(found, phrases):
    text = explain(found)

    for phrase in phrases:
        assert phrase in text
    assert text.endswith(found.due.isoformat())


def test_business_explanation_names_the_office():
    found = deadline("business", date(2024, 10, 3), days=1, calendar=calendar_for(BOLOGNA))

    assert explain(found, office="BO") == (
        "start 2024-10-03, 1 open day of office BO's calendar, business: the start not counted "
        "→ 2024-10-07"
    )


# Refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: judicial(date(2026, 7, 15), 0), "at least 1"),
        (lambda: tax(date(2026, 7, 15), -3), "at least 1"),
        (lambda: in_months("tax", date(2026, 7, 15), 0), "at least 1"),
        (lambda: add_months(date(2026, 7, 15), -1), "at least 1"),
        (lambda: judicial(date(1899, 12, 31), 30), "before 1900"),
        (lambda: fixed(date(1899, 12, 31)), "before 1900"),
        (lambda: judicial(date(9999, 12, 31), 1), "would end after 9999-12-31"),
        (lambda: tax(date(9999, 12, 1), 31), "would end after 9999-12-31"),
        (lambda: tax(date(2026, 1, 1), 10**30), "would end after 9999-12-31"),
        (lambda: judicial(date(2026, 1, 1), 10**30), "would end after 9999-12-31"),
        # August 9999 is suspended and September to December hold 122 days
        (lambda: judicial(date(9999, 7, 31), 200), "would end after 9999-12-31"),
        (lambda: in_months("tax", date(9999, 12, 1), 1), "would end after 9999-12-31"),
        (lambda: in_months("judicial", date(2026, 1, 1), 10**30), "would end after 9999-12-31"),
        (lambda: add_months(date(9999, 1, 1), 12), "would end after 9999-12-31"),
        (lambda: deadline("weekly", date(2026, 7, 15), days=3), "unknown deadline kind 'weekly'"),
        (lambda: deadline("judicial", date(2026, 7, 15)), "needs a term"),
        (lambda: deadline("judicial", date(2026, 7, 15), days=3, months=1), "not both"),
        (lambda: deadline("fixed", date(2026, 7, 15), days=3), "give no term"),
        (lambda: deadline("business", date(2026, 7, 15), days=3), "needs the office's calendar"),
        (
            lambda: deadline("business", date(2026, 7, 15), months=1, calendar=lambda d: True),
            "give days, not months",
        ),
        (
            lambda: deadline("tax", date(2026, 7, 15), days=3, calendar=lambda d: True),
            "only business deadlines",
        ),
        (
            lambda: business(date(2026, 7, 15), 3, calendar=lambda day: False),
            "no open day in the 1098 days after 2026-07-15",
        ),
        (
            # A calendar of its own: the shared one would build every year from 2024 to 9998
            lambda: business(date(9998, 12, 1), 40, calendar=BusinessCalendar(BOLOGNA)),
            "calendar cannot count",
        ),
        (
            lambda: business(date(2026, 1, 1), 10_001, calendar=lambda day: True),
            "at most 10,000 open days, got 10,001",
        ),
    ],
)
def test_bad_terms_dates_and_kinds_are_refused_with_a_clear_message(call, message):
    with pytest.raises(DeadlineError, match=message):
        call()


def test_the_error_is_a_value_error():
    assert issubclass(DeadlineError, ValueError)


@pytest.mark.parametrize(
    "call",
    [
        lambda: judicial(datetime(2026, 7, 15, 10), 30),
        lambda: judicial("2026-07-15", 30),
        lambda: judicial(date(2026, 7, 15), 30.0),
        lambda: judicial(date(2026, 7, 15), True),
    ],
)
def test_values_of_the_wrong_type_are_type_errors(call):
    with pytest.raises(TypeError):
        call()


def test_the_last_representable_dates_are_still_answered():
    # Friday 31 December 9999: a working day
    assert tax(date(9999, 12, 21), 10) == date(9999, 12, 31)
    assert judicial(date(9999, 7, 31), 122) == date(9999, 12, 31)
    assert add_months(date(9999, 11, 30), 1) == date(9999, 12, 30)
    assert fixed(date(9999, 12, 31)) == date(9999, 12, 31)


# Properties against a day-by-day oracle -------------------------------------------------------


class _ItalyAfter2100(Italy):
    # The package's rules, which it stops applying after 2100 (see the module).
    end_year = 9999


@functools.cache
def oracle_holidays(year: int) -> frozenset[date]:
    if year <= holidays.IT.end_year:
        return frozenset(holidays.IT(years=year))
    return frozenset(_ItalyAfter2100(years=year))


def oracle_move(day: date) -> date:
    while day.weekday() >= 5 or day in oracle_holidays(day.year):
        day += timedelta(days=1)
    return day


def oracle_days(kind: str, start: date, days: int) -> date:
    """Step one day at a time, not counting August days for judicial terms, then move."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if not (kind == "judicial" and day.month == 8):
            counted += 1
    return oracle_move(day)


def oracle_months(kind: str, start: date, months: int) -> date:
    """Walk month by month to the target month, then add 31 days for each August crossed."""
    origin = start
    if kind == "judicial" and start.month == 8:
        origin = date(start.year, 8, 31)
    year, month = origin.year, origin.month
    for _ in range(months):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    last = date(year, month, 1)
    while (last + timedelta(days=1)).month == month:
        last += timedelta(days=1)
    end = date(year, month, min(origin.day, last.day))
    if kind == "judicial":
        # Lengthen by the August days in (origin, end], then by those in the added stretch, ...
        counted_to = origin
        while True:
            august_days = 0
            day = counted_to
            while day < end:
                day += timedelta(days=1)
                august_days += day.month == 8
            if not august_days:
                break
            counted_to, end = end, end + timedelta(days=august_days)
    return oracle_move(end)


def oracle_business(start: date, days: int, is_open) -> date:
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        counted += bool(is_open(day))
    return day


# Start dates anywhere in 1950-2100, and often near the suspension and the turn of the year.
any_day = st.dates(date(1950, 1, 1), date(2100, 12, 31))
near_august = st.builds(
    lambda year, offset: date(year, 7, 20) + timedelta(days=offset),
    st.integers(1950, 2100),
    st.integers(0, 50),
)
starts = st.one_of(any_day, near_august)
terms = st.one_of(st.integers(1, 1000), st.sampled_from([1, 15, 30, 31, 60, 90, 334, 365, 400]))
oracle_settings = settings(max_examples=400, deadline=None, database=None)


@oracle_settings
@given(kind=st.sampled_from(["judicial", "judicial_labour", "tax"]), start=starts, days=terms)
def test_day_terms_agree_with_the_day_by_day_oracle(kind, start, days):
    found = deadline(kind, start, days=days)

    assert found.due == oracle_days(kind, start, days)
    assert deadlines.is_working_day(found.due)
    assert found.term_end <= found.due
    if kind == "judicial":
        assert found.term_end.month != 8
        assert found.term_end >= start + timedelta(days=days)
    else:
        assert found.term_end == start + timedelta(days=days)


@oracle_settings
@given(
    kind=st.sampled_from(["judicial", "judicial_labour", "tax"]),
    start=starts,
    months=st.integers(1, 40),
)
def test_month_terms_agree_with_the_month_by_month_oracle(kind, start, months):
    found = deadline(kind, start, months=months)

    assert found.due == oracle_months(kind, start, months)
    origin = start.replace(day=31) if found.started_in_suspension else start
    assert found.by_calendar == add_months(origin, months)


@oracle_settings
@given(start=starts, first=terms, second=terms)
def test_judicial_counting_resumes_where_a_shorter_term_ended(start, first, second):
    # Before the move, a + b days from the start are b days from where the first a ended.
    def term_end(origin: date, days: int) -> date:
        return deadline("judicial", origin, days=days).term_end

    assert term_end(term_end(start, first), second) == term_end(start, first + second)
    assert term_end(start, first + 1) > term_end(start, first)


@st.composite
def office_weeks(draw):
    """Which weekdays an office opens, and a few random closed days, as a plain callable."""
    weekdays = draw(st.sets(st.integers(0, 6), min_size=1))
    closed = draw(st.frozensets(st.dates(date(1950, 1, 1), date(2104, 12, 31)), max_size=40))
    return lambda day: day.weekday() in weekdays and day not in closed


# An office open one day a week walks seven days per open day: fewer examples keep this quick.
@settings(max_examples=150, deadline=None, database=None)
@given(start=starts, days=terms, is_open=office_weeks())
def test_business_terms_with_a_callable_agree_with_the_oracle(start, days, is_open):
    due = business(start, days, calendar=is_open)

    assert due == oracle_business(start, days, is_open)
    assert is_open(due)


@functools.cache
def bologna_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.IT(subdiv="BO", years=year))


# A calendar of its own per example: the shared one would grow into one span over 1950-2100 and
# rebuild it at every extension. Building a few years costs a few milliseconds each.
@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(start=st.dates(date(1950, 1, 1), date(2095, 12, 31)), days=terms)
def test_business_terms_in_bolognas_calendar_agree_with_the_oracle(start, days):
    # The demo hours are Monday to Friday; closed on national holidays and San Petronio.
    def bologna_open(day: date) -> bool:
        return day.weekday() < 5 and day not in bologna_holidays(day.year)

    office = BusinessCalendar(BOLOGNA)
    due = business(start, days, calendar=office)

    assert due == oracle_business(start, days, bologna_open)
    assert open_days_of(office)(due)


def test_the_result_carries_its_inputs():
    found = deadline("tax", date(2026, 3, 5), days=10)

    assert found == Deadline(
        kind=DeadlineKind.TAX,
        start=date(2026, 3, 5),
        days=10,
        months=None,
        by_calendar=None,
        term_end=date(2026, 3, 15),
        due=date(2026, 3, 16),
    )
