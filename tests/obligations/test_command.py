"""`manage.py generate_obligations`: progress lines, the summary, --dry-run and the exit codes."""

import os
import subprocess
import sys
from datetime import date, datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from casework.models import Case, Deadline

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
MAY_8 = datetime(2026, 5, 8, 10, tzinfo=ZoneInfo("Europe/Rome"))


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with translation.override("en"), time_machine.travel(MAY_8, tick=False):
        call_command("generate_obligations", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_says_what_it_did_per_obligation_and_in_all(
    monthly_tax, cooperative, member, process_setup
):
    out, err = run()

    lines = out.splitlines()
    assert lines[0] == "Recurring obligations from 2026-05-08, twelve months ahead."
    assert lines[1] == (
        "Versamento F24: 12 deadlines created, 0 already there; 1 cases opened, 0 skipped "
        "(nobody at the cooperative), 0 refused"
    )
    assert lines[-1] == (
        "1 obligations: 12 deadlines created, 0 already there; 1 cases opened, 0 skipped."
    )
    assert err == ""
    assert Deadline.objects.count() == 12 and Case.objects.count() == 1

    again, _ = run()

    assert again.splitlines()[-1] == (
        "1 obligations: 0 deadlines created, 12 already there; 0 cases opened, 0 skipped."
    )


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(monthly_tax, cooperative):
    out, _ = run("--dry-run")

    assert "(dry run: nothing is written)" in out.splitlines()[0]
    assert out.splitlines()[-1] == (
        "Dry run, 1 obligations: 12 deadlines would be created, 0 already there; 0 cases would "
        "be opened, 1 skipped."
    )
    assert not Deadline.objects.exists()


def test_one_obligation_of_the_catalogue(monthly_tax, biennial_audit, cooperative):
    out, _ = run("--obligation", str(biennial_audit.pk), "-v", "0")

    assert out.splitlines() == [
        "1 obligations: 0 deadlines created, 0 already there; 0 cases opened, 0 skipped."
    ]
    assert not Deadline.objects.exists()


def test_a_wrong_rule_in_the_catalogue_is_reported_and_the_rest_generated(
    new_obligation, monthly_tax, cooperative
):
    new_obligation(name="Ogni zero mesi", interval_months=0)

    out, err = run()

    assert "Ogni zero mesi: not generated, its rule is wrong: interval_months:" in err
    assert "fix their rule in the admin" in err
    assert out.splitlines()[-1].startswith("2 obligations: 12 deadlines created")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--obligation", "999"], "--obligation 999: no active recurring obligation"),
        (["--obligation", "many"], "invalid int value: 'many'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
    ids=["unknown-obligation", "not-a-number", "unknown-option"],
)
def test_bad_arguments_are_one_line_and_exit_code_2(args, says):
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("generate_obligations", *args)

    assert refused.value.returncode == 2
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_from_the_shell_a_bad_argument_prints_one_line_and_exits_2(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SPORTELLO_TESTING", "DATABASE_URL", "TEST_DATABASE_NAME")
    }
    env.update(
        DEBUG="1",
        SPORTELLO_ENV_FILE=str(tmp_path / "no-such.env"),
        SPORTELLO_VAR_DIR=str(tmp_path / "var"),
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "generate_obligations", "--obligation", "many"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("CommandError: ")


def test_the_dates_it_counts_from_are_today(monthly_tax, cooperative):
    run()

    assert min(row.occurrence for row in Deadline.objects.all()) == date(2026, 5, 16)
