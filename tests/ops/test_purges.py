"""Housekeeping: each purge deletes exactly the rows past their time, in batches, once, safely."""

import importlib
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from casework import celery_app, housekeeping, housekeeping_tasks
from casework.models import CaseAccess, IdempotencyKey, Notification

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2027, 3, 1, 10, 0, tzinfo=ROME)
SECOND = timedelta(seconds=1)


def _session(**_):
    return Session.objects.create(
        session_key=f"s{Session.objects.count()}-{timezone.now().timestamp()}",
        session_data="",
        expire_date=timezone.now(),
    )


def _lockout(**_):
    return AccessAttempt.objects.create(
        user_agent="pytest",
        ip_address="192.0.2.7",
        username=f"socio{AccessAttempt.objects.count()}",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )


def _sent_email(*, case, **_):
    return Notification.objects.create(
        case=case,
        email="socio@example.org",
        kind="case_opened",
        dedupe_key=f"test:{Notification.objects.count()}",
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
    )


def _idempotency_key(*, case, member, **_):
    return IdempotencyKey.objects.create(
        user=member, key=f"k-{IdempotencyKey.objects.count()}", request_hash="0" * 64, case=case
    )


def _case_read(*, case, staff, **_):
    return CaseAccess.objects.create(user=staff, case=case, channel=CaseAccess.Channel.PAGE)


# purge: its rows, how one is made at the current instant, the age past which it goes. A
# session's instant is its expiry, the others' the instant they were written (or sent).
PURGES = {
    "sessions": (Session, _session, lambda: timedelta(0)),
    "lockouts": (AccessAttempt, _lockout, lambda: settings.AXES_COOLOFF_TIME),
    "sent-emails": (
        Notification,
        _sent_email,
        lambda: timedelta(days=settings.PURGE_SENT_EMAILS_DAYS),
    ),
    "idempotency-keys": (IdempotencyKey, _idempotency_key, lambda: timedelta(hours=24)),
    "case-reads": (
        CaseAccess,
        _case_read,
        lambda: timedelta(days=settings.CASE_ACCESS_RETENTION_DAYS),
    ),
}


@pytest.fixture
def purge_world(open_case, member, supervisor):
    """What the rows hang on: a case opened long before, its member, a supervisor who reads."""
    with time_machine.travel(NOW - timedelta(days=3 * 365), tick=False):
        case = open_case()
    return {"case": case, "member": member, "staff": supervisor}


def _made(name, world, *, age):
    _, make, _ = PURGES[name]
    with time_machine.travel(NOW - age, tick=False):
        return make(**world)


def _pks(model):
    return set(model.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("name", PURGES)
def test_a_purge_deletes_the_rows_past_their_time_and_keeps_the_rest(name, purge_world):
    model, _, age = PURGES[name]
    kept_before = _pks(model)
    old = {_made(name, purge_world, age=age() + SECOND).pk for _ in range(3)}
    new = {_made(name, purge_world, age=age() - SECOND).pk for _ in range(2)}

    with time_machine.travel(NOW, tick=False):
        result = housekeeping.purge_run(name=name)

    assert result.count == 3
    assert _pks(model) == kept_before | new
    assert not _pks(model) & old


def test_pending_and_failed_emails_stay_however_old(purge_world):
    ages_ago = timedelta(days=settings.PURGE_SENT_EMAILS_DAYS * 3)
    with time_machine.travel(NOW - ages_ago, tick=False):
        pending = _sent_email(case=purge_world["case"])
        failed = _sent_email(case=purge_world["case"])
        never_stamped = _sent_email(case=purge_world["case"])
    Notification.objects.filter(pk=pending.pk).update(status="pending", sent_at=None)
    Notification.objects.filter(pk=failed.pk).update(status="failed", sent_at=None)
    Notification.objects.filter(pk=never_stamped.pk).update(sent_at=None)

    with time_machine.travel(NOW, tick=False):
        assert housekeeping.purge_run(name="sent-emails").count == 1

    assert Notification.objects.filter(pk__in=[pending.pk, failed.pk]).count() == 2
    assert not Notification.objects.filter(pk=never_stamped.pk).exists()


def test_a_second_run_finds_nothing_left(purge_world):
    for name, (_, _, age) in PURGES.items():
        _made(name, purge_world, age=age() + SECOND)

    with time_machine.travel(NOW, tick=False):
        first = [housekeeping.purge_run(name=name).count for name in PURGES]
        second = [housekeeping.purge_run(name=name).count for name in PURGES]

    assert first == [1] * len(PURGES)
    assert second == [0] * len(PURGES)


def test_dry_run_deletes_nothing_and_says_what_it_would(purge_world):
    for name, (_, _, age) in PURGES.items():
        _made(name, purge_world, age=age() + SECOND)
        _made(name, purge_world, age=age() - SECOND)
    models = [model for model, _, _ in PURGES.values()]
    counts = [model.objects.count() for model in models]
    out = StringIO()

    with time_machine.travel(NOW, tick=False):
        call_command("purge", "--dry-run", stdout=out)

    assert [model.objects.count() for model in models] == counts
    lines = out.getvalue().splitlines()
    assert lines[:-1] == [
        "expired sessions: 1 would be deleted",
        "lapsed login lockouts: 1 would be deleted",
        "sent e-mails: 1 would be deleted",
        "idempotency keys: 1 would be deleted",
        "staff reads of cases: 1 would be deleted",
    ]
    assert lines[-1] == (
        "Dry run, nothing deleted: 5 rows would go (1 expired sessions, 1 lapsed login lockouts, "
        "1 sent e-mails, 1 idempotency keys, 1 staff reads of cases)."
    )


def test_a_long_purge_goes_in_locked_batches_shows_progress_and_sums_up(purge_world):
    age = timedelta(days=settings.CASE_ACCESS_RETENTION_DAYS) + SECOND
    for _ in range(5):
        _made("case-reads", purge_world, age=age)
    kept = _made("case-reads", purge_world, age=timedelta(days=1))
    out, err = StringIO(), StringIO()

    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        call_command("purge", "case-reads", "--batch-size", "2", stdout=out, stderr=err)

    assert list(CaseAccess.objects.values_list("pk", flat=True)) == [kept.pk]
    assert err.getvalue().splitlines() == [
        "staff reads of cases: 2 deleted so far…",
        "staff reads of cases: 4 deleted so far…",
    ]
    assert out.getvalue().splitlines()[-1] == "Purged 5 rows (5 staff reads of cases)."
    if connection.vendor == "postgresql":
        picks = [q["sql"] for q in queries.captured_queries if "SKIP LOCKED" in q["sql"]]
        assert len(picks) == 3  # 2 + 2 + 1
        assert all(
            sql.endswith('LIMIT 2 FOR UPDATE OF "casework_caseaccess" SKIP LOCKED') for sql in picks
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["sessions", "lockouts"])
def test_two_purges_racing_delete_each_row_once_and_both_succeed(name):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    model, make, age = PURGES[name]
    with time_machine.travel(timezone.now() - age() - timedelta(minutes=1), tick=False):
        for _ in range(60):
            make()
    barrier = threading.Barrier(2)
    counts, failures = [], []

    def purge():
        try:
            barrier.wait()
            counts.append(housekeeping.purge_run(name=name, batch_size=7).count)
        except Exception as error:  # noqa: BLE001 - the test reports any failure
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=purge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(counts) == 2 and sum(counts) == 60
    assert not model.objects.exists()


TASKS = {
    "Purge expired sessions": "casework.housekeeping_tasks.purge_sessions",
    "Purge lapsed login lockouts": "casework.housekeeping_tasks.purge_lockouts",
    "Purge sent e-mails": "casework.housekeeping_tasks.purge_sent_emails",
    "Purge idempotency keys": "casework.housekeeping_tasks.purge_idempotency_keys",
    "Purge old staff reads of cases": "casework.housekeeping_tasks.purge_case_reads",
}


def _housekeeping_entries():
    return {
        entry.name: entry
        for entry in PeriodicTask.objects.filter(
            task__startswith="casework.housekeeping_tasks."
        ).select_related("crontab")
    }


def test_beat_runs_each_purge_nightly_after_migrate():
    # The migration ran; its rows are re-created as it created them, since a transactional test
    # earlier in the session may have flushed every table (django_migrations survives a flush).
    assert ("workflows", "0008_housekeeping_schedules") in MigrationRecorder(
        connection
    ).applied_migrations()
    importlib.import_module("workflows.migrations.0008_housekeeping_schedules").register(apps, None)
    entries = _housekeeping_entries()

    assert {name: entry.task for name, entry in entries.items()} == TASKS
    for entry in entries.values():
        assert entry.enabled and entry.interval is None
        assert entry.crontab.hour == "4" and str(entry.crontab.timezone) == "Europe/Rome"
    celery_app.loader.import_default_modules()
    assert set(TASKS.values()) <= set(celery_app.tasks)


def test_the_beat_entries_migration_is_reversible():
    migration = importlib.import_module("workflows.migrations.0008_housekeeping_schedules")

    migration.unregister(apps, None)
    assert _housekeeping_entries() == {}
    migration.register(apps, None)
    assert set(_housekeeping_entries()) == set(TASKS)


def test_each_task_runs_its_purge(purge_world):
    _made("idempotency-keys", purge_world, age=timedelta(days=2))
    with time_machine.travel(NOW, tick=False):
        assert housekeeping_tasks.purge_idempotency_keys.delay().get() == 1
        for task in (
            housekeeping_tasks.purge_sessions,
            housekeeping_tasks.purge_lockouts,
            housekeeping_tasks.purge_sent_emails,
            housekeeping_tasks.purge_idempotency_keys,
            housekeeping_tasks.purge_case_reads,
        ):
            assert task.delay().get() == 0


@pytest.mark.parametrize(
    "args", [["bogus"], ["--batch-size", "0"], ["--batch-size", "many"], ["--no-such-option"]]
)
def test_bad_arguments_raise_a_command_error_with_exit_code_2(args):
    with pytest.raises(CommandError) as raised:
        call_command("purge", *args)

    assert raised.value.returncode == 2
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("args", [["bogus"], ["--batch-size", "many"], ["--no-such-option"]])
def test_bad_arguments_from_the_shell_print_one_line_and_exit_2(args, tmp_path):
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
        [sys.executable, "manage.py", "purge", *args],
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


def test_a_retention_below_a_day_is_refused(settings):
    settings.CASE_ACCESS_RETENTION_DAYS = 0

    with pytest.raises(CommandError, match="CASE_ACCESS_RETENTION_DAYS must be 1 or more"):
        call_command("purge", "case-reads", stdout=StringIO())
