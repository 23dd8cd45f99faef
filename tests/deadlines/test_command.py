"""`manage.py deadline_due` refuses a trigger in year 9999 as it refuses one before 1900, and
the case's deadlines follow the same arithmetic as the command."""

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.casework.test_deadline_due_command import manage


@pytest.mark.parametrize(
    "args",
    [
        ["--kind", "judicial", "--start", "9999-07-15", "--days", "30"],
        ["--kind", "tax", "--start", "9999-01-01", "--months", "1"],
        ["--kind", "fixed", "--start", "9999-03-01"],
        ["--kind", "business", "--start", "9999-07-15", "--days", "1", "--office", "BO"],
    ],
)
def test_a_start_in_year_9999_is_refused_before_the_database_is_read(args):
    # No django_db mark: a query here would fail the test.
    with pytest.raises(CommandError, match="after 9998, the last year") as caught:
        call_command("deadline_due", *args)

    assert caught.value.returncode == 2


def test_the_last_year_allowed_is_still_answered(capsys):
    call_command("deadline_due", "--kind", "judicial", "--start", "9998-07-15", "--days", "30")

    assert capsys.readouterr().out.strip().splitlines()[-1] == "9998-09-14"


def test_manage_py_refuses_year_9999_with_one_line_and_exit_2(tmp_path):
    result = manage(tmp_path, "--kind", "judicial", "--start", "9999-07-15", "--days", "30")

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("CommandError: The start date 9999-07-15 is after 9998")


@pytest.mark.django_db
def test_the_service_and_the_command_agree(add_deadline, capsys):
    call_command("deadline_due", "--kind", "judicial", "--start", "2026-07-15", "--days", "30")
    printed = capsys.readouterr().out.strip().splitlines()[-1]

    deadline = add_deadline(kind="judicial", trigger_date=date(2026, 7, 15), term_days=30)

    assert printed == deadline.due_on.isoformat() == "2026-09-14"
