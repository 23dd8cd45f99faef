"""Drill 5, scale-out: two web processes, two Celery workers and one beat on the real services.

The beat schedules of the drill's database run every 5 s (the sweep and the outbox; 30 s the
auto-close) so that a one-minute drill sees a dozen sweeps. While virtual users work through both
web processes, a clock thread pushes batches of open cases past their SLA instants. Before that,
two sweeps are sent at the same moment over 1,200 due cases (more than one sweep's batch), so that
both workers sweep the same cases together. DRILL_SCALE_SECONDS (60) and DRILL_SCALE_USERS (20)
size the load.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from casework.models import Case, CaseEvent, Notification
from casework.sla import watch

from . import checks, harness
from .load import LoadRun, people_from_orm, personas_for
from .scenarios import breach_recipients, make_cases_due, server_errors, wait_for
from .worker_hooks import TABLE_SQL

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("DRILL_SCALE_SECONDS", "60"))
USERS = int(os.environ.get("DRILL_SCALE_USERS", "20"))
OVERLAP_CASES = int(os.environ.get("DRILL_OVERLAP_CASES", "1200"))
TICK = 5
SWEEP = "workflows.tasks.sla_sweep"
DELIVER = "casework.tasks.deliver_notifications"


def _fast_schedules() -> None:
    every_tick, _ = IntervalSchedule.objects.get_or_create(every=TICK, period="seconds")
    slow, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.filter(task__in=[SWEEP, DELIVER]).update(interval=every_tick)
    PeriodicTask.objects.filter(task="workflows.tasks.auto_close").update(interval=slow)


def _age_cases(db: str, stop: threading.Event, pushed: list[int]) -> None:
    """Every 8 s, 20 running cases reach their resolution warning and 20 others breach their
    first-response target: the work the periodic sweeps have to find. Each case is pushed once
    (time does not go back: a case pushed twice could be warned twice for the same instant)."""
    while not stop.wait(8):
        for assignment, condition in (
            (
                "resolution_warn_at = now() - interval '1 second'",
                "resolution_warned_at IS NULL AND resolution_warn_at > now()",
            ),
            (
                "first_response_warn_at = now() - interval '2 minutes', "
                "first_response_due_at = now() - interval '1 second'",
                "first_response_at IS NULL AND first_response_breached_at IS NULL AND "
                "first_response_due_at > now()",
            ),
        ):
            rows = harness.sql(
                db,
                f"UPDATE casework_case SET {assignment} WHERE id IN (SELECT id FROM "
                "casework_case WHERE status IN ('triage', 'unassigned', 'assigned') AND "
                f"clock_running_since IS NOT NULL AND {condition} AND NOT (id = ANY(%s)) "
                "ORDER BY random() LIMIT 20) RETURNING id",
                [list(pushed)],
            )
            pushed.extend(r[0] for r in rows)


def _runs(db: str, name: str) -> list[tuple]:
    return harness.sql(
        db,
        "SELECT task_id, worker, started_at, finished_at FROM drill_task_run "
        "WHERE task_name = %s ORDER BY started_at",
        [name],
    )


def _overlapping(runs) -> list[tuple]:
    pairs = []
    for i, (id_a, worker_a, start_a, end_a) in enumerate(runs):
        for id_b, worker_b, start_b, end_b in runs[i + 1 :]:
            if end_a and end_b and start_b < end_a and start_a < end_b:
                pairs.append((worker_a, worker_b, id_a[:8], id_b[:8]))
    return pairs


def test_two_webs_two_workers_one_beat(drill, orm, report):
    """Scale-out: 2 web processes, 2 workers, 1 beat under load: nothing handled twice"""
    _fast_schedules()
    harness.sql(drill.db, TABLE_SQL)
    env = drill.env(
        DRILL_TASK_LOG="1",
        EMAIL_BACKEND="tests.drills.mail.SlowFileBackend",
        DRILL_MAIL_DIR=str(drill.var_dir / "mail"),
        DRILL_MAIL_DELAY="0",
    )
    workers = [drill.procs.worker(env, name=f"worker{n}", queue=drill.queue) for n in (1, 2)]
    webs = [drill.procs.gunicorn(env, name=f"web{n}", workers=2, threads=4) for n in (1, 2)]
    ports = [port for _proc, port in webs]
    report.tried(
        f"2 gunicorn processes (ports {ports[0]}, {ports[1]}; 2 workers × 4 threads each), "
        f"2 Celery workers (solo) and 1 beat on RabbitMQ queue {drill.queue}; sweep and "
        f"outbox every {TICK} s"
    )

    # Two sweeps at the same moment over the same due cases: SKIP LOCKED shares them out.
    # Unassigned, in an area with no supervisor of its own: one e-mail per breach, a short outbox.
    due = make_cases_due(OVERLAP_CASES, assigned=False, area="fiscal")
    expected = breach_recipients(due)
    forced = [harness.send_task(drill.queue, SWEEP) for _ in range(2)]
    wait_for(
        lambda: len([r for r in _runs(drill.db, SWEEP) if r[0] in forced and r[3]]) == 2,
        timeout=180,
        every=0.5,
        what="the two simultaneous sweeps",
    )
    forced_runs = [r for r in _runs(drill.db, SWEEP) if r[0] in forced]
    marked_by = {
        worker: {k.split("_at")[0]: v for k, v in json.loads(result).items() if v}
        for _id, worker, result in harness.sql(
            drill.db,
            "SELECT task_id, worker, result FROM drill_task_run WHERE task_id = ANY(%s)",
            [forced],
        )
    }
    report.tried(f"what each of the two simultaneous sweeps marked: {marked_by}")
    report.check(
        "two sweeps sent together ran on both workers at the same time",
        {r[1] for r in forced_runs} == {"worker1", "worker2"} and bool(_overlapping(forced_runs)),
        ", ".join(
            f"{w} {s:%H:%M:%S.%f}"[:-3] + f"–{e:%H:%M:%S.%f}"[:-3] for _id, w, s, e in forced_runs
        ),
    )
    events = Counter(
        (case_id, (after or {}).get("clock"))
        for case_id, after in CaseEvent.objects.filter(
            case_id__in=due, kind="sla_breached"
        ).values_list("case_id", "after")
    )
    wrong = [
        pk
        for pk in due
        for clock in ("first_response", "resolution")
        if events.get((pk, clock)) != 1
    ]
    mails = Counter(
        (case_id, key.split(":")[1])
        for case_id, key in Notification.objects.filter(
            case_id__in=due, kind="sla_breached"
        ).values_list("case_id", "dedupe_key")
    )
    mail_wrong = [
        pk
        for pk in due
        for mark in ("first_response_breached_at", "resolution_breached_at")
        if mails.get((pk, mark)) != len(expected[pk])
    ]
    report.check(
        "overlapping sweeps: every due case marked, one event and one e-mail per person, once",
        not wrong and not mail_wrong,
        f"{len(due)} cases, {sum(events.values())} events, {sum(mails.values())} e-mails; "
        f"wrong {len(wrong) + len(mail_wrong)}",
    )

    beat = drill.procs.beat(env)
    people, consultants_by_area, outcomes = people_from_orm()
    run = LoadRun(
        ports=ports,
        personas=personas_for(USERS, people),
        seconds=SECONDS,
        think=1.0,
        max_requests=50_000,
        outcomes=outcomes,
        consultants_by_area=consultants_by_area,
    )
    run.sign_in_all()
    report.tried(f"{len(run.personas)} virtual users for {SECONDS:.0f} s on both web processes")
    load_began = timezone.now()
    stop, pushed = threading.Event(), []
    ager = threading.Thread(target=_age_cases, args=(drill.db, stop, pushed))
    ager.start()
    try:
        elapsed = run.run()
    finally:
        stop.set()
        ager.join(30)
    report.tried(f"the clock thread pushed {len(pushed)} case clocks past an SLA instant")
    # One more tick or two, so that the last pushed clocks are swept, then everything stops.
    time.sleep(2 * TICK + 2)
    last_sweep_start = max(r[2] for r in _runs(drill.db, SWEEP))
    logs = {p.name: server_errors(p) for p in [*workers, beat, *(w for w, _p in webs)]}
    drill.procs.stop_all()

    for line in run.tally.lines():
        report.tried(line.strip())
    n_errors = sum(n for (_op, out), n in run.tally.counts.items() if out.startswith("ERROR"))
    total = run.tally.total()
    report.check(
        "zero errors under load through both web processes",
        n_errors == 0,
        f"{total} requests in {elapsed:.0f} s, {run.tally.total('409')} × 409, {n_errors} errors",
    )
    for message in run.tally.errors[:5]:
        report.tried(f"error: {message}")
    report.check(
        "no traceback, timeout or restart in any process's log",
        not any(logs.values()),
        "; ".join(f"{k}: {v[:2]}" for k, v in logs.items() if v) or "all clean",
    )

    beat_sent = beat.log.read_text(errors="replace").count(f"({SWEEP})")
    periodic = [r for r in _runs(drill.db, SWEEP) if r[0] not in forced]
    per_id = Counter(r[0] for r in periodic)
    per_worker = Counter(r[1] for r in periodic)
    per_minute = Counter(
        r[2].astimezone(timezone.get_current_timezone()).strftime("%H:%M") for r in periodic
    )
    minutes = (periodic[-1][2] - periodic[0][2]).total_seconds() / 60 if len(periodic) > 1 else 0
    report.check(
        "every periodic sweep run by exactly one worker (none twice)",
        bool(periodic) and max(per_id.values()) == 1,
        f"beat sent {beat_sent}, {len(periodic)} ran in {minutes:.1f} min, each once; "
        f"by worker {dict(per_worker)}; "
        f"per minute {dict(sorted(per_minute.items()))}",
    )
    overlaps = _overlapping(periodic)
    report.check(
        "periodic sweeps one at a time (no two overlapping)",
        not overlaps,
        f"{len(overlaps)} overlapping pairs {overlaps[:3] or ''}",
    )
    swept_until = last_sweep_start - timedelta(seconds=1)
    left = {
        transition.mark: Case.objects.filter(transition.due_filter(swept_until)).count()
        for transition in watch.TRANSITIONS
    }
    duplicates = checks.duplicate_sla_events()
    report.check(
        "SLA transitions marked exactly once (nothing left due, no duplicate event)",
        not any(left.values()) and not duplicates,
        f"{CaseEvent.objects.filter(kind__startswith='sla_', created_at__gte=load_began).count()}"
        f" SLA events during the load; due and unmarked {sum(left.values())}; duplicates "
        f"{duplicates[:3] or 'none'}",
    )
    if duplicates:
        case_id = int(duplicates[0].split()[1].rstrip(":"))
        for line in checks.history(case_id):
            report.tried(f"case {case_id}: {line}")
    # The due cases written straight to the table have no process and no history: left out.
    real = list(Case.objects.exclude(pk__in=due).values_list("pk", flat=True))
    twice = checks.duplicate_transitions(real)
    violations = checks.event_log_violations(real)
    report.check(
        "no case handled twice (no repeated transition, every log replays)",
        not twice and not violations,
        f"{twice[:3] or 'none'}; {violations[:3] or 'none'}",
    )
    broken = checks.process_inconsistencies(real)
    mismatches = checks.load_counter_mismatches()
    report.check(
        "process state and load counters consistent",
        not broken and not mismatches,
        f"{broken[:3] or 'none'}; {mismatches[:3] or 'none'}",
    )
    created = Case.objects.filter(pk__in=run.created).count()
    report.check(
        "every created case is in the database",
        created == len(run.created),
        f"{created} of {len(run.created)}",
    )

    ledger = Counter()
    ledger_file = drill.var_dir / "mail" / "sent.jsonl"
    if ledger_file.exists():
        for line in ledger_file.read_text().splitlines():
            entry = json.loads(line)
            ledger[(entry["to"][0], entry["subject"], entry["body"])] += 1
    sent = Counter(
        (email, subject, hashlib.sha256(body.encode()).hexdigest())
        for email, subject, body in Notification.objects.filter(
            status="sent", sent_at__gte=load_began - timedelta(minutes=5)
        ).values_list("email", "subject", "body")
    )
    extra = {k: n - sent.get(k, 0) for k, n in ledger.items() if n > sent.get(k, 0)}
    report.check(
        "no e-mail sent twice by the two workers",
        not extra,
        f"{sum(ledger.values())} e-mails left, {sum(sent.values())} rows sent; "
        f"sent more often than queued: {len(extra)}",
    )
    assert not report.failed, report.failed
