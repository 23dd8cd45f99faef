"""`sla_due` and `seed_demo` refuse bad arguments with one clear line and exit status 2."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

BO = ["--office", "BO"]
START = ["--start", "2026-12-24T17:30"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (
            [*BO, "--between", "2026-12-28T10:00", "2026-12-24T08:00"],
            r"B \(2026-12-24T08:00:00\+01:00\) is before A \(2026-12-28T10:00:00\+01:00\)",
        ),
        (
            [*BO, "--start", "9999-12-31T17:00", "--minutes", "480"],
            "year 9999 is outside the supported calendar range",
        ),
        (
            [*BO, "--start", "0001-01-01T00:00", "--minutes", "480"],
            "outside the supported calendar range",
        ),
        (
            [*BO, *START, "--between", "2026-12-24T08:00", "2026-12-28T10:00"],
            "either --start and --minutes, or --between A B, not both",
        ),
        (
            [*BO, "--minutes", "480", "--between", "2026-12-24T08:00", "2026-12-28T10:00"],
            "not both",
        ),
        (["--office", "ZZ", *START, "--minutes", "480"], r"Unknown office 'ZZ' \(known: BO\)"),
        ([*BO, "--start", "24/12/2026 17:30", "--minutes", "480"], "--start: not an ISO 8601"),
        ([*BO, "--between", "2026-12-24T08:00", "Christmas"], "B: not an ISO 8601"),
        ([*BO, *START, "--minutes", "0"], "between 1 and 1,000,000, not 0"),
        ([*BO, *START, "--minutes", "-480"], "between 1 and 1,000,000, not -480"),
        ([*BO, *START, "--minutes", "10000000000"], "not 10,000,000,000"),
        ([*BO, *START, "--minutes", "8h"], "--minutes: not a whole number: '8h'"),
        ([*BO, *START], "Give --start and --minutes, or --between A B"),
        ([*BO, "--minutes", "480"], "Give --start and --minutes, or --between A B"),
    ],
    ids=[
        "between-reversed",
        "year-9999",
        "year-1",
        "between-and-start",
        "between-and-minutes",
        "unknown-office",
        "malformed-start",
        "malformed-between",
        "zero-minutes",
        "negative-minutes",
        "huge-minutes",
        "minutes-not-a-number",
        "no-minutes",
        "no-start",
    ],
)
def test_sla_due_refuses_bad_arguments(calendar, arguments, says):
    with pytest.raises(CommandError, match=says) as refused:
        call_command("sla_due", *arguments)

    assert refused.value.returncode == 2
    assert "\n" not in str(refused.value)


@pytest.mark.django_db
def test_sla_due_still_answers_at_the_edges(calendar, capsys):
    call_command("sla_due", *BO, "--between", "2026-12-24T10:00", "2026-12-24T10:00")
    assert capsys.readouterr().out.splitlines()[-1] == "0"

    call_command("sla_due", *BO, "--start", "2026-11-30T09:00", "--minutes", "1000000")
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("2035-"), last


@pytest.mark.parametrize("cases", [-1, 10_001, 10**12])
def test_seed_demo_refuses_a_number_of_cases_out_of_range(cases):
    with pytest.raises(CommandError, match="--cases") as refused:
        call_command("seed_demo", cases=cases, verbosity=0)

    assert refused.value.returncode == 2
    assert str(cases) in str(refused.value)
