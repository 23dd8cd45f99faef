"""Drill, mail outage (issue 19): a mail server that hangs busies the mail worker, never the sweep.

Two real workers on RabbitMQ, as in production: one on the drill's queue (the SLA sweep), one on
a mail queue of the drill's own (DRILL_MAIL_QUEUE, where drill_settings routes the delivery). The
mail server accepts connections and never answers; the delivery waits EMAIL_TIMEOUT on it while
the sweep runs. Then a real SMTP server (aiosmtpd) takes the port and every e-mail leaves once.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter

import pytest

from casework.models import Notification
from tests.smtp_servers import HungSmtpServer, Mailbox, SmtpServer

from . import harness
from .scenarios import make_cases_due, wait_for
from .worker_hooks import TABLE_SQL

pytestmark = pytest.mark.slow

HOLD = int(os.environ.get("DRILL_MAIL_HOLD_SECONDS", "20"))
CASES = int(os.environ.get("DRILL_OUTAGE_CASES", "100"))
MAILS = int(os.environ.get("DRILL_OUTAGE_MAILS", "120"))
DELIVER = "casework.tasks.deliver_notifications"
SWEEP = "workflows.tasks.sla_sweep"


def _runs(db: str, name: str) -> list[tuple]:
    return harness.sql(
        db,
        "SELECT worker, started_at, finished_at, result FROM drill_task_run "
        "WHERE task_name = %s ORDER BY id",
        [name],
    )


def _pending() -> int:
    return Notification.objects.filter(status="pending").count()


def _marked(db: str) -> int:
    return harness.sql(
        db,
        "SELECT count(*) FROM casework_case WHERE reference LIKE 'DRL-%' "
        "AND first_response_breached_at IS NOT NULL AND resolution_breached_at IS NOT NULL",
    )[0][0]


def test_a_hung_mail_server_stalls_only_the_mail_worker(drill, orm, report):
    """Mail outage: SMTP hangs; the sweep still marks every breach; back, each e-mail leaves once"""
    mail_queue = f"{drill.queue}.mail"
    Notification.objects.filter(status="pending").update(status="sent")
    Notification.objects.bulk_create(
        Notification(
            email=f"drill{i}@example.org",
            kind="drill_outage",
            subject=f"Drill outage {i:05d}",
            body=f"Messaggio {i} del drill.",
            dedupe_key=f"drill-outage:{i}",
        )
        for i in range(MAILS)
    )
    case_ids = make_cases_due(CASES)
    harness.sql(drill.db, TABLE_SQL)
    report.tried(
        f"{MAILS} pending e-mails, {len(case_ids)} cases past both due instants; a mail server "
        f"that accepts and never answers (EMAIL_TIMEOUT {HOLD} s); a mail worker on its own "
        "queue and a worker for the sweep"
    )
    try:
        with HungSmtpServer() as hung:
            env = drill.env(
                DRILL_TASK_LOG="1",
                DRILL_MAIL_QUEUE=mail_queue,
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=str(hung.port),
                EMAIL_TIMEOUT=str(HOLD),
            )
            drill.procs.worker(env, name="mailer", queue=mail_queue)
            drill.procs.worker(env, name="sweeper", queue=drill.queue)

            harness.send_task(mail_queue, DELIVER)
            wait_for(hung.connections, timeout=60, what="the delivery connecting")
            harness.send_task(drill.queue, SWEEP)
            wait_for(
                lambda: any(end for _w, _s, end, _r in _runs(drill.db, SWEEP)),
                timeout=HOLD * 3,
                what="the sweep finished",
            )
            sweep_end = next(end for _w, _s, end, _r in _runs(drill.db, SWEEP) if end)
            _worker, started, finished, _result = _runs(drill.db, DELIVER)[0]
            report.check(
                "the sweep finished while the delivery waited on the mail server",
                finished is None or finished > sweep_end,
                f"delivery started {started:%T.%f}, sweep done {sweep_end:%T.%f}, "
                f"delivery {'still waiting' if finished is None else f'done {finished:%T.%f}'}",
            )
            marked = _marked(drill.db)
            report.check(
                "every due case marked despite the mail outage",
                marked == len(case_ids),
                f"{marked} of {len(case_ids)}",
            )
            wait_for(
                lambda: _runs(drill.db, DELIVER)[0][2],
                timeout=HOLD * 4,
                what="the first delivery giving up",
            )
            _worker, started, finished, result = _runs(drill.db, DELIVER)[0]
            attempts = Counter(
                Notification.objects.filter(kind="drill_outage").values_list("status", "attempts")
            )
            report.check(
                "the delivery gave up after one timeout: one batch charged, the run ended",
                json.loads(result) == {"sent": 0, "failed": 50},
                f"{result} in {(finished - started).total_seconds():.1f} s; "
                f"(status, attempts) of the drill's e-mails: {dict(attempts)}",
            )

        pending = set(Notification.objects.filter(status="pending").values_list("pk", flat=True))
        with SmtpServer(Mailbox(), port=hung.port) as server:
            report.tried(f"the mail server is back on port {hung.port}: {len(pending)} pending")
            deadline = time.monotonic() + HOLD * 6
            before = _pending()
            while _pending() and time.monotonic() < deadline:
                if _pending() == before:  # the last run is done: ask for the next, as beat would
                    harness.send_task(mail_queue, DELIVER)
                before = _pending()
                time.sleep(3)
        left = _pending()
        report.check("no e-mail left pending", left == 0, f"{left} pending")
        received = Counter(
            int(re.search(r"notification\.(\d+)@", message["Message-ID"]).group(1))
            for message in server.mailbox.messages
        )
        twice = {pk: n for pk, n in received.items() if n > 1}
        never = [pk for pk in pending if pk not in received]
        report.check(
            "every pending e-mail received by the server once",
            not twice and not never,
            f"{sum(received.values())} received for {len(pending)} rows; twice {twice or 'none'}; "
            f"never {never[:5] or 'none'}",
        )
        # A run sends up to 200 e-mails in batches of EMAIL_BATCH_SIZE (50), one connection each.
        batches = -(-len(pending) // 50)
        report.check(
            "one connection per batch",
            server.connections <= batches + 2,
            f"{server.connections} connections for {len(pending)} e-mails ({batches} batches)",
        )
    finally:
        harness.delete_queue(mail_queue)
    assert not report.failed, report.failed
