"""Drill 3, faults: a Celery worker killed in the middle of an SLA sweep and of an e-mail batch, and
PostgreSQL restarted under load.

The worker is a real `celery worker` on RabbitMQ, on a queue of the drill's own; it is killed with
SIGKILL (its whole process group: no clean shutdown, no chance to acknowledge) and started again.
The tasks acknowledge late, so the broker hands the interrupted message to the new worker.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db.models import Q
from django.utils import timezone

from casework.models import Case, CaseEvent, Notification

from . import checks, harness
from .conftest import drill_world
from .harness import Client, sign_in
from .scenarios import breach_recipients, make_cases_due, wait_for
from .worker_hooks import TABLE_SQL

pytestmark = pytest.mark.slow

SWEEP_CASES = int(os.environ.get("DRILL_SWEEP_CASES", "8000"))
BATCH_SIZE = int(os.environ.get("DRILL_MAIL_BATCH", "300"))
PG_CLIENTS = int(os.environ.get("DRILL_PG_CLIENTS", "10"))
PG_RECOVERY_SECONDS = float(os.environ.get("DRILL_PG_RECOVERY_SECONDS", "30"))
SLOW_MAIL = "tests.drills.mail.SlowFileBackend"


def _task_runs(db: str, name: str) -> list[tuple]:
    return harness.sql(
        db,
        "SELECT task_id, worker, started_at, finished_at FROM drill_task_run "
        "WHERE task_name = %s ORDER BY id",
        [name],
    )


def _worker_env(drill, **extra):
    return drill.env(
        DRILL_TASK_LOG="1",
        EMAIL_BACKEND=SLOW_MAIL,
        DRILL_MAIL_DIR=str(drill.var_dir / "mail"),
        **extra,
    )


# --- The SLA sweep -------------------------------------------------------------------------


def _marks(db: str) -> tuple[int, int, int, int]:
    return harness.sql(
        db,
        "SELECT count(resolution_breached_at), count(first_response_breached_at), "
        "(SELECT count(*) FROM casework_caseevent e JOIN casework_case c ON c.id = e.case_id "
        " WHERE c.reference LIKE 'DRL-%' AND e.kind = 'sla_breached'), "
        "(SELECT count(*) FROM casework_notification n JOIN casework_case c ON c.id = n.case_id "
        " WHERE c.reference LIKE 'DRL-%' AND n.kind = 'sla_breached') "
        "FROM casework_case WHERE reference LIKE 'DRL-%'",
    )[0]


def test_sla_sweep_survives_a_killed_worker(drill, orm, report):
    """SLA sweep: worker SIGKILLed mid-run and restarted; every due case marked and notified once"""
    case_ids = make_cases_due(SWEEP_CASES)
    expected = breach_recipients(case_ids)
    expected_mails = 2 * sum(len(p) for p in expected.values())
    harness.sql(drill.db, TABLE_SQL)
    report.tried(
        f"{len(case_ids)} assigned cases past both due instants (first response and resolution); "
        f"expected: {2 * len(case_ids)} breach marks and events, {expected_mails} e-mails queued"
    )
    env = _worker_env(drill, DRILL_MAIL_DELAY="0")
    first = drill.procs.worker(env, name="sweeper1", queue=drill.queue)
    task_id = harness.send_task(drill.queue, "workflows.tasks.sla_sweep")
    wait_for(lambda: _marks(drill.db)[0] > 0, timeout=180, what="the first committed batch")
    first.kill()
    at_kill = _marks(drill.db)
    report.tried(
        f"worker killed (SIGKILL) after a committed batch: marks {at_kill[0]} + {at_kill[1]}, "
        f"events {at_kill[2]}, e-mails {at_kill[3]} of {2 * len(case_ids)} / {expected_mails}"
    )
    killed_mid_run = at_kill[0] + at_kill[1] < 2 * len(case_ids)
    report.check(
        "the kill landed mid-sweep",
        killed_mid_run,
        f"{at_kill[0] + at_kill[1]} of {2 * len(case_ids)} marks written",
    )
    report.check(
        "what the killed worker left is whole batches (marks = events)",
        at_kill[0] + at_kill[1] == at_kill[2],
        f"marks {at_kill[0] + at_kill[1]}, events {at_kill[2]}",
    )
    time.sleep(1)
    requeued = harness.queue_depth(drill.queue)
    drill.procs.worker(env, name="sweeper2", queue=drill.queue)
    complete = 2 * len(case_ids)
    try:
        wait_for(lambda: sum(_marks(drill.db)[:2]) == complete, timeout=60, every=0.5, what="marks")
        sent_again = False
    except AssertionError:
        # Not redelivered: a new sweep (beat's next tick in production) must finish the job.
        harness.send_task(drill.queue, "workflows.tasks.sla_sweep")
        sent_again = True
        wait_for(
            lambda: sum(_marks(drill.db)[:2]) == complete, timeout=180, every=0.5, what="marks"
        )
    runs = _task_runs(drill.db, "workflows.tasks.sla_sweep")
    same_id = [r for r in runs if r[0] == task_id]
    report.check(
        "the interrupted sweep was redelivered to the new worker (late acknowledgement)",
        len(same_id) == 2 and same_id[1][1] == "sweeper2" and same_id[1][3] is not None,
        f"messages in the queue after the kill: {requeued}; runs of that task: "
        f"{[(r[1], 'finished' if r[3] else 'killed') for r in same_id]}; "
        f"extra sweep needed: {sent_again}",
    )

    unmarked = Case.objects.filter(pk__in=case_ids).filter(
        Q(resolution_breached_at__isnull=True) | Q(first_response_breached_at__isnull=True)
    )
    unmarked = list(unmarked.values_list("pk", flat=True))
    report.check("every due case marked", not unmarked, f"unmarked {len(unmarked)}")
    events = Counter(
        (case_id, (after or {}).get("clock"))
        for case_id, after in CaseEvent.objects.filter(
            case_id__in=case_ids, kind="sla_breached"
        ).values_list("case_id", "after")
    )
    at_risk = CaseEvent.objects.filter(case_id__in=case_ids, kind="sla_at_risk").count()
    wrong = [
        (pk, clock, events.get((pk, clock), 0))
        for pk in case_ids
        for clock in ("first_response", "resolution")
        if events.get((pk, clock), 0) != 1
    ]
    report.check(
        "exactly one breach event per case and clock (none 'at risk': breach wins)",
        not wrong and at_risk == 0,
        f"{sum(events.values())} events; wrong {wrong[:5] or 'none'}; at-risk events {at_risk}",
    )
    sent_to: dict[tuple[int, str], list[int]] = {}
    for case_id, recipient_id, key in Notification.objects.filter(
        case_id__in=case_ids, kind="sla_breached"
    ).values_list("case_id", "recipient_id", "dedupe_key"):
        sent_to.setdefault((case_id, key.split(":")[1]), []).append(recipient_id)
    bad = [
        (pk, mark)
        for pk in case_ids
        for mark in ("first_response_breached_at", "resolution_breached_at")
        if sorted(sent_to.get((pk, mark), [])) != sorted(expected[pk])
    ]
    report.check(
        "exactly one e-mail per recipient per transition",
        not bad,
        f"{sum(len(v) for v in sent_to.values())} queued of {expected_mails}; "
        f"wrong {bad[:5] or 'none'}",
    )
    duplicates = checks.duplicate_sla_events()
    report.check("no duplicate SLA event anywhere", not duplicates, f"{duplicates[:5] or 'none'}")
    assert not report.failed, report.failed


# --- The e-mail batch ----------------------------------------------------------------------


def _ledger(folder: Path) -> Counter:
    path = folder / "sent.jsonl"
    if not path.exists():
        return Counter()
    sends = Counter()
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        sends[entry["subject"]] += 1
    return sends


def test_mail_batch_survives_a_killed_worker(drill, orm, report):
    """E-mail batch: worker SIGKILLed mid-delivery, restarted: none left pending, dupes counted"""
    Notification.objects.filter(status="pending").update(status="sent", sent_at=timezone.now())
    Notification.objects.bulk_create(
        Notification(
            email=f"drill{i}@example.org",
            kind="drill_batch",
            subject=f"Drill batch {i:05d}",
            body=f"Messaggio {i} del drill.",
            dedupe_key=f"drill-batch:{i}",
        )
        for i in range(BATCH_SIZE)
    )
    harness.sql(drill.db, TABLE_SQL)
    mail_dir = drill.var_dir / "mail"
    report.tried(
        f"{BATCH_SIZE} pending e-mails; a slow mail server (10 ms to take a message, 10 ms to "
        "let go); the worker is killed mid-batch, started again, and delivery runs until the "
        "outbox is empty"
    )
    # Short mail limits, so that the killed worker's claimed batch (casework.outbox) is taken
    # again within the drill's wait: EMAIL_CLAIM_SECONDS follows from them (22 s here).
    env = _worker_env(
        drill,
        DRILL_MAIL_DELAY="0.01",
        DRILL_MAIL_AFTER="0.01",
        EMAIL_TIMEOUT="1",
        EMAIL_BATCH_SIZE="10",
    )
    first = drill.procs.worker(env, name="mailer1", queue=drill.queue)
    for _ in range(2):
        harness.send_task(drill.queue, "casework.tasks.deliver_notifications")
    wait_for(
        lambda: sum(_ledger(mail_dir).values()) >= BATCH_SIZE // 3,
        timeout=120,
        what="a third of the batch sent",
    )
    first.kill()
    sent_at_kill = sum(_ledger(mail_dir).values())
    committed_at_kill = Notification.objects.filter(kind="drill_batch", status="sent").count()
    report.tried(
        f"worker killed after {sent_at_kill} e-mails left; {committed_at_kill} rows committed "
        "as sent"
    )
    report.check("the kill landed mid-batch", sent_at_kill < BATCH_SIZE, f"{sent_at_kill} sent")

    drill.procs.worker(env, name="mailer2", queue=drill.queue)

    def pending() -> int:
        return Notification.objects.filter(kind="drill_batch", status="pending").count()

    deadline = time.monotonic() + 150
    while pending() and time.monotonic() < deadline:
        before = pending()
        time.sleep(3)
        if pending() == before:  # the redelivered task is done: ask for the rest, as beat would
            harness.send_task(drill.queue, "casework.tasks.deliver_notifications")
    left = Notification.objects.filter(kind="drill_batch").exclude(status="sent").count()
    report.check("no e-mail left pending or failed", left == 0, f"{left} not sent")

    sends = _ledger(mail_dir)
    subjects = list(
        Notification.objects.filter(kind="drill_batch").values_list("subject", flat=True)
    )
    never = [s for s in subjects if sends.get(s, 0) == 0]
    twice = {s: n for s, n in sends.items() if s.startswith("Drill batch") and n > 1}
    report.check(
        "every e-mail marked sent really left (none lost)", not never, f"{len(never)} lost"
    )
    report.check(
        "duplicates at most the one in flight at the kill (at-least-once window)",
        sum(n - 1 for n in twice.values()) <= 1,
        f"{sum(n - 1 for n in twice.values())} duplicate(s): {twice or 'none'}",
    )
    runs = _task_runs(drill.db, "casework.tasks.deliver_notifications")
    report.tried(
        "delivery runs: "
        + ", ".join(f"{worker} {'finished' if end else 'killed'}" for _id, worker, _s, end in runs)
    )
    assert not report.failed, report.failed


# --- PostgreSQL restarted under load -------------------------------------------------------


class Timeline:
    def __init__(self):
        self.lock = threading.Lock()
        self.rows: list[dict] = []

    def add(self, **row) -> None:
        with self.lock:
            self.rows.append(row)


def _client_loop(client: Client, ops: list[tuple[str, str, dict | None]], timeline, stop, n):
    i = n
    while not stop.is_set():
        method, path, body = ops[i % len(ops)]
        i += 1
        began = time.monotonic()
        try:
            answer = client.request(method, path, body)
            timeline.add(
                t0=began,
                t1=time.monotonic(),
                op=f"{method} {path.split('?')[0]}",
                status=answer.status,
                type=answer.content_type.split(";")[0],
                body=answer.body[:300],
            )
        except OSError as error:
            timeline.add(
                t0=began,
                t1=time.monotonic(),
                op=f"{method} {path}",
                status=-1,
                type="",
                body=repr(error).encode(),
            )
            time.sleep(0.2)
        time.sleep(0.05)


@pytest.fixture(scope="module")
def postgres_restart(drill_template, django_db_blocker):
    """Once per run: 10 clients on gunicorn, PostgreSQL restarted under them; the timeline."""
    cluster = harness.pg_cluster()
    if cluster is None or os.geteuid() != 0:
        pytest.skip("needs root and pg_lsclusters/pg_ctlcluster on the drills' PostgreSQL")
    version, name = cluster
    report = harness.Report("PostgreSQL restarted under load: clean 503s, recovery by itself")
    with drill_world(drill_template, "pg_restart") as drill:
        web, port = drill.procs.gunicorn(drill.env(), workers=3, threads=4)
        workers_before = web.children()
        members = ["socio.alfa", "socio.beta", "socio.multi", "socio.ilponte", "socio.delta"]
        consultants = harness.sql(
            drill.db,
            "SELECT u.username, min(c.id) FROM casework_case c JOIN auth_user u "
            "ON u.id = c.assignee_id WHERE c.status = 'assigned' GROUP BY u.username",
        )
        plans = []
        for username in members:
            plans.append((sign_in(port, username), [("GET", "/api/v1/cases/?page_size=10", None)]))
        for username, case_id in consultants:
            plans.append(
                (
                    sign_in(port, username),
                    [
                        ("GET", "/api/v1/tasks/?scope=mine", None),
                        (
                            "POST",
                            f"/api/v1/cases/{case_id}/messages/",
                            {"body": "Nota durante il riavvio.", "internal": True},
                        ),
                    ],
                )
            )
        plans = (plans * PG_CLIENTS)[:PG_CLIENTS]
        report.tried(
            f"{len(plans)} clients (members reading lists, consultants reading tasks and "
            f"writing notes) on gunicorn 3 workers; `pg_ctlcluster {version} {name} restart` "
            "after 5 s"
        )
        timeline, stop = Timeline(), threading.Event()
        threads = [
            threading.Thread(
                target=_client_loop, args=(client, ops, timeline, stop, n), daemon=True
            )
            for n, (client, ops) in enumerate(plans)
        ]
        for t in threads:
            t.start()
        try:
            time.sleep(5)
            restart_began = time.monotonic()
            done = subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            restart_ended = time.monotonic()
            report.tried(
                f"restart took {restart_ended - restart_began:.1f} s (exit {done.returncode} "
                f"{done.stderr.strip()[:200]})"
            )
            # Run on until 10 s of clean answers after the restart, or the recovery bound.
            deadline = restart_ended + PG_RECOVERY_SECONDS + 10
            while time.monotonic() < deadline:
                time.sleep(1)
                recent = [r for r in timeline.rows if r["t0"] > time.monotonic() - 10]
                if (
                    time.monotonic() - restart_ended > 10
                    and recent
                    and all(200 <= r["status"] < 300 for r in recent)
                ):
                    break
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        yield {
            "report": report,
            "rows": list(timeline.rows),
            "began": restart_began,
            "ended": restart_ended,
            "web_alive": web.alive(),
            "workers": (workers_before, web.children()),
            "exceptions": Counter(
                re.findall(
                    r"^([a-z_]+(?:\.[a-z_]+)*\.[A-Z]\w+(?:Error|Shutdown)):",
                    web.log.read_text(errors="replace"),
                    re.M,
                )
            ),
        }
    report.print_table()


def _failures(run) -> list[dict]:
    return [r for r in run["rows"] if not 200 <= r["status"] < 300]


def test_postgres_restart_app_recovers_by_itself(postgres_restart):
    """PostgreSQL restarted under load: the app recovers by itself, gunicorn untouched"""
    run, report = postgres_restart, postgres_restart["report"]
    failures = _failures(run)
    last_failure = max((r["t1"] for r in failures), default=run["ended"])
    recovery = max(0.0, last_failure - run["ended"])
    after = [r for r in run["rows"] if r["t0"] > last_failure]
    before = [r for r in run["rows"] if r["t1"] < run["began"]]
    first_failure = min((r["t0"] for r in failures), default=run["began"])
    report.tried(
        f"{len(run['rows'])} requests: {len(before)} before the restart, {len(failures)} failed "
        f"between {first_failure - run['began']:+.1f} s and {last_failure - run['began']:+.1f} s "
        f"from the restart's start, {len(after)} after the last failure"
    )
    report.tried(
        "exceptions in gunicorn's log: "
        + (", ".join(f"{name} × {n}" for name, n in run["exceptions"].items()) or "none")
    )
    report.check(
        "all requests before the restart succeeded",
        all(200 <= r["status"] < 300 for r in before),
        f"{len(before)} requests",
    )
    report.check(
        f"recovered by itself within {PG_RECOVERY_SECONDS:.0f} s of the restart",
        recovery <= PG_RECOVERY_SECONDS and len(after) >= 20,
        f"last failure {recovery:.1f} s after PostgreSQL was back; {len(after)} clean requests "
        "after it",
    )
    before_workers, after_workers = run["workers"]
    report.check(
        "gunicorn not restarted (same master, alive)",
        run["web_alive"],
        f"workers before {before_workers}, after {after_workers}",
    )
    assert not report.failed, report.failed


def test_postgres_restart_requests_fail_cleanly_with_503(postgres_restart):
    """PostgreSQL restarted under load: requests during the outage fail with 503 and a message"""
    run, report = postgres_restart, postgres_restart["report"]
    failures = _failures(run)
    kinds = Counter((r["status"], r["type"]) for r in failures)
    report.tried(
        "answers during the outage: "
        + (
            ", ".join(f"{status} {kind or '-'} × {n}" for (status, kind), n in kinds.items())
            or "none"
        )
    )
    unclean = [r for r in failures if r["status"] != 503 or not r["body"]]
    if any(r["status"] == 500 for r in failures):
        sample = next(r for r in failures if r["status"] == 500)
        report.finding(
            f"PostgreSQL down → HTTP 500 ({sample['type']}: {sample['body'][:120]!r}), not 503: "
            "nothing maps django.db.OperationalError/InterfaceError to 503 (see the drill report)"
        )
    report.check(
        "every failed request is a 503 with a message (no 500, no dropped connection)",
        not unclean,
        f"{len(failures)} failed; not clean: {len(unclean)} "
        f"({', '.join(sorted({str(r['status']) for r in unclean})) or 'none'})",
        known="issue 8 drill report: PostgreSQL down gives 500",
    )
    assert not unclean, f"{len(unclean)} requests failed uncleanly: {kinds}"
