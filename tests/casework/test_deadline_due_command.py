"""`manage.py deadline_due`: the date on the last line, one-line errors with exit code 2."""

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casework.models import Closure
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
ROME = ZoneInfo("Europe/Rome")


def run(capsys, *args: str) -> list[str]:
    call_command("deadline_due", *args)
    return capsys.readouterr().out.strip().splitlines()


def test_thirty_judicial_days_from_15_july_2026(capsys):
    lines = run(capsys, "--kind", "judicial", "--start", "2026-07-15", "--days", "30")

    assert lines[-1] == "2026-09-14"
    assert lines[:-1] == [
        "start 2026-07-15, 30 days, judicial: the start not counted; "
        "suspended 1–31 August 2026 → 2026-09-14"
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--kind", "judicial", "--start", "2026-08-03", "--days", "30"], "2026-09-30"),
        (["--kind", "judicial_labour", "--start", "2026-07-15", "--days", "31"], "2026-08-17"),
        (["--kind", "tax", "--start", "2026-03-05", "--days", "10"], "2026-03-16"),
        (["--kind", "tax", "--start", "2028-01-31", "--months", "1"], "2028-02-29"),
        (["--kind", "tax", "--start", "2026-01-31", "--months", "1"], "2026-03-02"),
        (["--kind", "judicial", "--start", "2026-07-15", "--months", "6"], "2027-02-15"),
        (["--kind", "fixed", "--start", "2026-03-15"], "2026-03-15"),
    ],
)
def test_each_kind_prints_its_date_last(capsys, args, expected):
    assert run(capsys, *args)[-1] == expected


@pytest.mark.django_db
def test_business_days_in_the_offices_calendar_skip_san_petronio(capsys, calendar):
    # The Bologna office, open Monday to Friday and closed on its patron day: from Thursday
    # 3 October 2024, Friday 4 October (San Petronio) is closed, Monday 7 is the first open day.
    lines = run(
        capsys, "--kind", "business", "--start", "2024-10-03", "--days", "1", "--office", "bo"
    )

    assert lines == [
        "start 2024-10-03, 1 open day of office BO's calendar, business: the start not counted "
        "→ 2024-10-07",
        "2024-10-07",
    ]


@pytest.mark.django_db
def test_business_days_follow_the_offices_closures(capsys, calendar):
    # All of Monday 30 November 2026 closed: one open day after Friday 27 is Tuesday 1 December.
    Closure.objects.create(
        calendar=calendar,
        starts_at=datetime(2026, 11, 30, tzinfo=ROME),
        ends_at=datetime(2026, 12, 1, tzinfo=ROME),
        reason="Chiusura straordinaria",
    )
    calendar.save()  # a new updated_at: the cached calendar is rebuilt

    args = ("--kind", "business", "--start", "2026-11-27", "--days", "1", "--office", "BO")
    assert run(capsys, *args)[-1] == "2026-12-01"


@pytest.mark.django_db
def test_an_office_without_a_calendar_row_uses_the_default_week(capsys):
    factories.OfficeFactory(code="MO", name="Modena")

    # The default calendar observes national holidays only: Friday 4 October 2024 is open.
    args = ("--kind", "business", "--start", "2024-10-03", "--days", "1", "--office", "MO")
    assert run(capsys, *args)[-1] == "2024-10-04"


@pytest.mark.django_db
def test_an_unknown_office_is_a_bad_argument(calendar):
    with pytest.raises(CommandError, match="Unknown office 'ZZ' \\(known: BO\\)") as caught:
        call_command(
            "deadline_due",
            "--kind",
            "business",
            "--start",
            "2026-07-15",
            "--days",
            "3",
            "--office",
            "ZZ",
        )

    assert caught.value.returncode == 2


BAD_ARGUMENTS = [
    (["--start", "2026-07-15", "--days", "30"], "Give --kind"),
    (["--kind", "judicial", "--days", "30"], "Give --start"),
    (["--kind", "judicial", "--start", "2026-07-15"], "needs a term: days or months"),
    (["--kind", "judicial", "--start", "2026-07-15", "--days", "3", "--months", "1"], "not both"),
    (["--kind", "judicial", "--start", "2026-07-15", "--days", "0"], "1 or more, not 0"),
    (["--kind", "tax", "--start", "2026-07-15", "--days", "-5"], "1 or more, not -5"),
    (["--kind", "tax", "--start", "2026-07-15", "--months", "0"], "1 or more, not 0"),
    (["--kind", "tax", "--start", "2026-07-15", "--days", "ten"], "not a whole number"),
    (["--kind", "weekly", "--start", "2026-07-15", "--days", "3"], "Unknown --kind 'weekly'"),
    (["--kind", "judicial", "--start", "2026-02-30", "--days", "3"], "out of range for month"),
    (["--kind", "judicial", "--start", "15/07/2026", "--days", "3"], "YYYY-MM-DD"),
    (["--kind", "judicial", "--start", "20260715", "--days", "3"], "YYYY-MM-DD"),
    (["--kind", "judicial", "--start", "9999-12-31", "--days", "3"], "after 9999-12-31"),
    (["--kind", "tax", "--start", "9999-12-31", "--months", "1"], "after 9999-12-31"),
    (["--kind", "tax", "--start", "2026-07-15", "--days", "9" * 40], "after 9999-12-31"),
    (["--kind", "tax", "--start", "2026-07-15", "--months", "9" * 40], "after 9999-12-31"),
    (["--kind", "judicial", "--start", "1899-12-31", "--days", "3"], "before 1900"),
    (["--kind", "tax", "--start", "2026-07-15", "--days", "3", "--office", "BO"], "business"),
    (["--kind", "fixed", "--start", "2026-07-15", "--days", "3"], "give no term"),
    (["--kind", "business", "--start", "2026-07-15", "--days", "3"], "give --office"),
    (
        ["--kind", "business", "--start", "2026-07-15", "--months", "1", "--office", "BO"],
        "give days, not months",
    ),
    (
        ["--kind", "business", "--start", "9999-12-31", "--days", "1", "--office", "BO"],
        "after 9999-12-31",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_ARGUMENTS)
def test_bad_arguments_are_refused_before_the_database_is_read(args, message):
    # No django_db mark: a query here would fail the test.
    with pytest.raises(CommandError, match=message) as caught:
        call_command("deadline_due", *args)

    assert caught.value.returncode == 2


# Through manage.py: the exit code and the one-line error -----------------------------------------


def manage(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("DATABASE_URL", "CELERY_BROKER_URL", "TEST_DATABASE_NAME", "SPORTELLO_TESTING")
    }
    env.update(
        DEBUG="1",
        SPORTELLO_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="casework.config.settings",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "deadline_due", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_prints_the_date_on_the_last_line(tmp_path):
    result = manage(tmp_path, "--kind", "judicial", "--start", "2026-07-15", "--days", "30")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "2026-09-14"
    assert result.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--kind", "judicial", "--start", "2026-07-15"],
        ["--kind", "judicial", "--start", "2026-07-15", "--days", "3", "--months", "1"],
        ["--kind", "judicial", "--start", "2026-07-15", "--days", "0"],
        ["--kind", "judicial", "--start", "2026-07-15", "--days", "-1"],
        ["--kind", "weekly", "--start", "2026-07-15", "--days", "3"],
        ["--kind", "judicial", "--start", "2026-02-30", "--days", "3"],
        ["--kind", "judicial", "--start", "9999-12-31", "--days", "3"],
        ["--kind", "tax", "--start", "2026-07-15", "--days", "3", "--office", "BO"],
        ["--start", "2026-07-15", "--days", "3"],
    ],
)
def test_manage_py_bad_arguments_exit_2_with_one_line(tmp_path, args):
    result = manage(tmp_path, *args)

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("CommandError: ")
    assert "Traceback" not in result.stderr
