"""The rules of the catalogue as dates: occurrences, the move off holidays, titles (no database)."""

from datetime import date, timedelta

import pytest

from casework.models import RecurringObligation
from casework.services import obligations

Rule = RecurringObligation.Rule
Anchor = RecurringObligation.Anchor

TODAY = date(2026, 5, 1)
END = date(2027, 5, 1)  # twelve months later, included


def rule(**fields) -> RecurringObligation:
    values = {
        "name": "Versamento F24",
        "rule": Rule.EVERY,
        "anchor": Anchor.FIXED,
        "start_date": date(2026, 1, 16),
        "interval_months": 1,
        "deadline_kind": "tax",
        **fields,
    }
    return RecurringObligation(**values)


def test_a_fixed_monthly_rule_gives_each_month_from_its_start_date():
    found = obligations.occurrences(rule(), None, start=TODAY, end=END)

    assert found == [date(2026, month, 16) for month in range(5, 13)] + [
        date(2027, month, 16) for month in range(1, 5)
    ]


def test_the_start_date_itself_is_the_first_occurrence_of_a_fixed_rule():
    found = obligations.occurrences(rule(), None, start=date(2026, 1, 1), end=date(2026, 3, 1))

    assert found == [date(2026, 1, 16), date(2026, 2, 16)]


def test_a_rule_from_a_cooperative_date_starts_one_interval_after_it():
    biennial = rule(anchor=Anchor.LAST_AUDIT_ON, start_date=None, interval_months=24)

    # The audit of 10 May 2024 is due again on 10 May 2026; the one of 2 May 2026 on 2 May 2028.
    assert obligations.occurrences(biennial, date(2024, 5, 10), start=TODAY, end=END) == [
        date(2026, 5, 10)
    ]
    assert obligations.occurrences(biennial, date(2026, 5, 2), start=TODAY, end=END) == []
    # Long ago: the occurrence in the window, not the ones before.
    assert obligations.occurrences(biennial, date(1990, 11, 3), start=TODAY, end=END) == [
        date(2026, 11, 3)
    ]


def test_an_anchor_of_today_is_not_an_occurrence():
    annual = rule(anchor=Anchor.LAST_AUDIT_ON, start_date=None, interval_months=12)

    assert obligations.occurrences(annual, TODAY, start=TODAY, end=END) == [END]


def test_months_follow_the_common_calendar_from_the_first_date():
    month_end = rule(start_date=date(2026, 1, 31))

    found = obligations.occurrences(month_end, None, start=date(2026, 1, 1), end=date(2026, 5, 1))

    assert found == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_the_window_is_twelve_months_with_both_ends():
    annual = rule(start_date=date(2025, 5, 1), interval_months=12)

    assert obligations.occurrences(annual, None, start=TODAY, end=END) == [TODAY, END]


def test_within_gives_the_one_date_after_the_event():
    filing = rule(
        rule=Rule.WITHIN,
        anchor=Anchor.STATEMENTS_APPROVED_ON,
        start_date=None,
        interval_months=None,
        within_days=30,
    )

    assert obligations.occurrences(filing, date(2026, 4, 28), start=TODAY, end=END) == [
        date(2026, 5, 28)
    ]
    # Approved last year and filed: nothing more to generate; no approval: nothing.
    assert obligations.occurrences(filing, date(2025, 4, 28), start=TODAY, end=END) == []
    assert obligations.occurrences(filing, None, start=TODAY, end=END) == []


@pytest.mark.parametrize(
    ("occurrence", "due", "why"),
    [
        (date(2026, 3, 16), date(2026, 3, 16), "a Monday"),
        (date(2026, 5, 16), date(2026, 5, 18), "a Saturday moves to Monday"),
        (date(2026, 8, 16), date(2026, 8, 17), "a Sunday after Ferragosto moves to Monday"),
        (date(2026, 4, 25), date(2026, 4, 27), "Liberation Day, a Saturday"),
        (date(2026, 12, 26), date(2026, 12, 28), "Santo Stefano, then Sunday"),
    ],
)
def test_a_tax_payment_off_a_working_day_moves_to_the_next_one(occurrence, due, why):
    assert obligations.due_on(rule(), occurrence, None) == due, why


def test_a_fixed_deadline_never_moves():
    audit = rule(deadline_kind="fixed", anchor=Anchor.LAST_AUDIT_ON, start_date=None)

    assert obligations.due_on(audit, date(2026, 5, 16), date(2024, 5, 16)) == date(2026, 5, 16)


def test_a_within_term_is_counted_by_its_kind():
    approved = date(2026, 5, 29)  # + 30 days = Sunday 28 June
    filing = rule(
        rule=Rule.WITHIN,
        anchor=Anchor.STATEMENTS_APPROVED_ON,
        start_date=None,
        interval_months=None,
        within_days=30,
    )

    assert obligations.due_on(filing, approved + timedelta(days=30), approved) == date(2026, 6, 29)
    # A judicial term of 30 days from 15 July skips August: 14 September.
    judicial = rule(
        rule=Rule.WITHIN,
        anchor=Anchor.STATEMENTS_APPROVED_ON,
        start_date=None,
        interval_months=None,
        within_days=30,
        deadline_kind="judicial",
    )
    assert obligations.due_on(judicial, date(2026, 8, 14), date(2026, 7, 15)) == date(2026, 9, 14)


def test_titles_carry_the_period():
    assert obligations.deadline_title(rule(), date(2026, 5, 16)) == "Versamento F24 · 2026-05"
    audit = rule(name="Revisione cooperativa", interval_months=24)
    assert obligations.deadline_title(audit, date(2026, 5, 16)) == "Revisione cooperativa · 2026"
    long_name = rule(name="x" * 200)
    assert len(obligations.deadline_title(long_name, date(2026, 5, 16))) == 200
