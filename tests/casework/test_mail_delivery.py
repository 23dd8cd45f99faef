"""The outbox against real SMTP servers on loopback: hung, refusing, dropping, racing (issue 19).

Transactional tests: the delivery must commit its claims and hold no transaction while it talks
to the server, and the racing deliveries run in threads with connections of their own.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection, connections
from django.utils import timezone

from casework.config.celery import app
from casework.models import Notification
from casework.outbox import deliver_pending
from tests.smtp_servers import HungSmtpServer, Mailbox, SmtpServer
from workflows.tasks import sla_sweep

transactional = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
ROME = ZoneInfo("Europe/Rome")


def _send_through(settings, port: int, *, timeout: int = 1, batch: int = 50) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.EMAIL_TIMEOUT = timeout
    settings.EMAIL_BATCH_SIZE = batch


def _queue(count: int, *, name: str = "outbox") -> list[Notification]:
    return Notification.objects.bulk_create(
        Notification(
            email=f"{name}{i}@example.org",
            kind="test",
            subject=f"{name} {i:03d}",
            body=f"Messaggio {i}.",
            dedupe_key=f"{name}:{i}",
        )
        for i in range(count)
    )


def _message_id(row: Notification) -> str:
    # Rows queued by the services carry their Message-ID; the others get one at delivery.
    return f"<{row.header_message_id or f'notification.{row.pk}@localhost'}>"


# --- A mail server that hangs --------------------------------------------------------------------


@transactional
def test_a_hung_mail_server_stalls_nothing_and_its_return_sends_each_message_once(
    settings, open_case, consultant, supervisor
):
    # Given a case that will be past its first-response instant (240 business minutes) at
    # 14:00, and three e-mails waiting in the outbox.
    with time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=ROME), tick=False):
        case = open_case()
    waiting = _queue(3)

    with HungSmtpServer() as hung:
        # When the mail server takes the connection and never answers (EMAIL_TIMEOUT 1 s),
        _send_through(settings, hung.port, timeout=1)
        counts = deliver_pending()

        # then delivery gave up on its one connection: each row one failed attempt older, still
        # pending and unclaimed, for the next run.
        assert counts == {"sent": 0, "failed": 3}
        assert hung.connections() == 1
        for row in Notification.objects.filter(pk__in=[r.pk for r in waiting]):
            assert (row.status, row.attempts, row.claimed_at) == ("pending", 1, None)
            assert "timed out" in row.last_error

        # And the SLA sweep, run while the server still hangs, marks its breach: it only
        # queues the breach's e-mails (here, eagerly, the delivery it enqueues fails again).
        with time_machine.travel(datetime(2026, 11, 23, 14, 0, tzinfo=ROME), tick=False):
            assert sla_sweep()["first_response_breached_at"] == 1
        case.refresh_from_db()
        assert case.sla_state == "breached"
        assert case.first_response_breached_at is not None

    pending = list(Notification.objects.filter(status="pending"))
    breach_mails = [row for row in pending if row.kind == "sla_breached"]
    assert {row.email for row in breach_mails} == {consultant.email, supervisor.email}

    # When the server is back,
    with SmtpServer(Mailbox()) as server:
        _send_through(settings, server.port)
        assert deliver_pending() == {"sent": len(pending), "failed": 0}
        # and a later run finds nothing left,
        assert deliver_pending() == {"sent": 0, "failed": 0}

    # then every pending e-mail left exactly once, over one connection, breach mails included.
    assert server.mailbox.message_ids() == Counter(_message_id(row) for row in pending)
    assert server.connections == 1
    assert not Notification.objects.exclude(status="sent").exists()
    # The breach e-mails were written at delivery, in their readers' words.
    for row in Notification.objects.filter(kind="sla_breached"):
        assert case.reference in row.subject and row.body


# --- One connection per batch, no transaction open -----------------------------------------------


@transactional
def test_each_batch_goes_over_one_connection_with_no_transaction_open(settings):
    # Given 12 e-mails and batches of 5,
    rows = _queue(12)
    test_db = connection.settings_dict
    database = {
        "dbname": test_db["NAME"],
        "user": test_db["USER"],
        "host": test_db["HOST"],
        "port": test_db["PORT"],
    }
    busy: list[int] = []

    def transactions_open(_message):
        # Asked by the server while it holds the client waiting for its answer to DATA: any
        # client of the test database inside a transaction then (a claim or a row lock)?
        with psycopg.connect(**database, autocommit=True) as probe:
            busy.append(
                probe.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                    "AND xact_start IS NOT NULL"
                ).fetchone()[0]
            )

    # when one delivery run sends them,
    with SmtpServer(Mailbox(on_message=transactions_open)) as server:
        _send_through(settings, server.port, timeout=10, batch=5)
        assert deliver_pending() == {"sent": 12, "failed": 0}

    # then three batches went over three connections, each message once, and while the server
    # had each message in hand no transaction of the delivery was open.
    assert server.connections == 3
    assert len(server.mailbox.sessions) == 3
    assert server.mailbox.message_ids() == Counter(_message_id(row) for row in rows)
    assert busy == [0] * 12
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}


# --- Answers about one message, and a connection that breaks -------------------------------------


@transactional
def test_a_refused_message_costs_its_row_an_attempt_and_the_batch_goes_on(settings):
    rows = _queue(5)
    with SmtpServer(Mailbox(answers={"outbox 002": "550 mailbox unavailable"})) as server:
        _send_through(settings, server.port)
        assert deliver_pending() == {"sent": 4, "failed": 1}

    refused = Notification.objects.get(pk=rows[2].pk)
    assert (refused.status, refused.attempts) == ("pending", 1)
    assert "550" in refused.last_error
    assert server.connections == 1
    assert server.mailbox.message_ids() == Counter(
        _message_id(row) for row in rows if row.pk != refused.pk
    )


@transactional
def test_a_connection_the_server_closes_mid_batch_is_opened_again_once(settings):
    # 421: the server closes the connection after answering; the rest of the batch goes on.
    rows = _queue(5)
    with SmtpServer(Mailbox(answers={"outbox 001": "421 closing"})) as server:
        _send_through(settings, server.port)
        assert deliver_pending() == {"sent": 4, "failed": 1}

    dropped = Notification.objects.get(pk=rows[1].pk)
    assert (dropped.status, dropped.attempts) == ("pending", 1)
    assert server.connections == 2
    assert Notification.objects.filter(status="sent", attempts=1).count() == 4


@transactional
def test_a_message_that_fails_five_runs_is_given_up(settings):
    [row] = _queue(1)
    with SmtpServer(Mailbox(answers={"outbox": "554 rejected"})) as server:
        _send_through(settings, server.port)
        for _run in range(5):
            assert deliver_pending() == {"sent": 0, "failed": 1}
        assert deliver_pending() == {"sent": 0, "failed": 0}
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 5)


# --- Claims --------------------------------------------------------------------------------------


@transactional
def test_a_row_claimed_by_another_run_is_left_to_it_until_the_claim_is_abandoned(settings):
    held, abandoned, free = _queue(3)
    long_ago = timezone.now() - timedelta(seconds=django_settings.EMAIL_CLAIM_SECONDS + 60)
    Notification.objects.filter(pk=held.pk).update(
        claimed_at=timezone.now(), claim_token="00000000-0000-4000-8000-000000000001"
    )
    Notification.objects.filter(pk=abandoned.pk).update(
        claimed_at=long_ago, claim_token="00000000-0000-4000-8000-000000000002"
    )
    with SmtpServer(Mailbox()) as server:
        _send_through(settings, server.port)
        assert deliver_pending() == {"sent": 2, "failed": 0}

    assert server.mailbox.message_ids() == Counter([_message_id(abandoned), _message_id(free)])
    held.refresh_from_db()
    assert (held.status, held.attempts) == ("pending", 0)
    assert held.claim_token is not None
    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.claim_token) == ("sent", None)


@transactional
def test_two_deliveries_racing_send_each_message_once(settings):
    rows = _queue(40)
    start = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def deliver():
        try:
            start.wait()
            results.append(deliver_pending())
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    with SmtpServer(Mailbox()) as server:
        _send_through(settings, server.port, timeout=10, batch=3)
        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert sum(result["sent"] for result in results) == 40
    assert sum(result["failed"] for result in results) == 0
    assert server.mailbox.message_ids() == Counter(_message_id(row) for row in rows)
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}


# --- Queues and time limits ----------------------------------------------------------------------


def test_mail_has_its_own_queue_and_make_run_listens_to_both():
    # (The Procfile and the systemd units: tests/security/test_process_definitions.py.)
    route = app.amqp.router.route({}, "casework.tasks.deliver_notifications")
    assert route["queue"].name == "mail"
    assert app.amqp.router.route({}, "workflows.tasks.sla_sweep")["queue"].name == "celery"
    assert "worker --beat --pool=solo -Q celery,mail " in (ROOT / "Makefile").read_text()
    wants = (ROOT / "deploy/systemd/sportello.target").read_text()
    assert "sportello-mail-worker.service" in wants


def test_every_task_has_time_limits_and_delivery_outlasts_a_batch_of_timeouts():
    ours = [
        task for name, task in app.tasks.items() if name.startswith(("casework.", "workflows."))
    ]
    assert ours
    for task in ours:
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert soft and hard and soft < hard, task.name

    deliver = app.tasks["casework.tasks.deliver_notifications"]
    sweep = app.tasks["workflows.tasks.sla_sweep"]
    batch = django_settings.EMAIL_TIMEOUT * django_settings.EMAIL_BATCH_SIZE
    assert sweep.time_limit < deliver.soft_time_limit
    assert batch < deliver.soft_time_limit < deliver.time_limit
    # A claim is taken again only once the worker that made it is surely gone.
    assert django_settings.EMAIL_CLAIM_SECONDS > deliver.time_limit
