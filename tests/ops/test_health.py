"""GET /health/: 200 when the database, cache, broker, SLA sweep and outbox are well, else 503.

The checks run in threads with connections of their own, so the tests whose checks must see
rows commit them (transaction=True). The cache and the broker are the test settings' own (memory,
local folders) or the real Redis and RabbitMQ; "down" is a closed port, "hung" a socket that
accepts connections and never answers. A database
that is down or hung is tried in a process of its own, with production settings: the suite's
PostgreSQL keeps serving everyone else.
"""

import json
import secrets
import socket
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection

from casework.config.health import oldest_pending_notifications
from casework.models import Heartbeat, Notification
from workflows.tasks import sla_sweep

# What the checks' own connections must see is committed; the rest rolls back (cheaper).
committed = pytest.mark.django_db(transaction=True)
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CHECKS = {"database", "cache", "broker", "sla_sweep", "outbox"}
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
REDIS_URL = "redis://127.0.0.1:6379/13"
CLOSED_PORT = 1  # nothing listens on it: connections are refused at once
STUCK = "oldest pending e-mail waiting"


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(params=["embedded", "redis-rabbitmq"])
def services(request, settings):
    """The shared cache and Celery's broker: the test settings' own (memory, local folders), or
    the real Redis and RabbitMQ, which `make test` does not require (skipped without them)."""
    if request.param == "redis-rabbitmq":
        if not (_listening(6379) and _listening(5672)):
            pytest.skip("no Redis on 127.0.0.1:6379 or no RabbitMQ on 127.0.0.1:5672")
        settings.CACHES = {"default": {"BACKEND": REDIS_CACHE, "LOCATION": REDIS_URL}}
        settings.CELERY_BROKER_URL = RABBITMQ
    return settings


@pytest.fixture
def sweep_completed():
    """The real SLA sweep task ran at NOW (and left its heartbeat)."""
    with time_machine.travel(NOW, tick=False):
        sla_sweep()


@pytest.fixture
def hung_server():
    """A TCP port that accepts connections (the kernel's backlog) and never says a word."""
    with socket.create_server(("127.0.0.1", 0), backlog=32) as server:
        yield server.getsockname()[1]


def _probe(client):
    response = client.get("/health/")
    body = response.json()
    assert set(body["checks"]) == CHECKS
    return response, body


def _failing(body) -> dict[str, str]:
    return {
        name: check["reason"] for name, check in body["checks"].items() if check["status"] != "ok"
    }


@committed
def test_all_well_answers_200_naming_every_check(client, services, sweep_completed):
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        response, body = _probe(client)

    assert response.status_code == 200
    assert body == {"status": "ok", "checks": {name: {"status": "ok"} for name in CHECKS}}
    assert "no-store" in response["Cache-Control"]
    # Anonymous, and it opened no session: no cookie, no redirect to the login page.
    assert not response.cookies


def test_the_sweep_task_leaves_a_heartbeat(sweep_completed):
    assert Heartbeat.objects.get(job=Heartbeat.Job.SLA_SWEEP).completed_at == NOW


@committed
def test_a_sweep_not_run_for_four_minutes_is_503(client, sweep_completed):
    with time_machine.travel(NOW + timedelta(minutes=4), tick=False):
        response, body = _probe(client)

    assert response.status_code == 503
    assert body["status"] == "fail"
    assert _failing(body) == {"sla_sweep": "last completed 4 min ago (limit 3 min)"}


def test_a_sweep_that_never_ran_is_503(client):
    response, body = _probe(client)

    assert response.status_code == 503
    assert _failing(body) == {"sla_sweep": "never completed a run"}


@committed
@pytest.mark.parametrize(
    ("waiting", "limit", "failing"),
    [
        (timedelta(minutes=11), 10, {"outbox": f"{STUCK} 11 min (limit 10 min)"}),
        (timedelta(minutes=9), 10, {}),
        (timedelta(minutes=11), 15, {}),  # HEALTH_OUTBOX_MAX_AGE_MINUTES
    ],
    ids=["stuck", "recent", "within-a-longer-limit"],
)
def test_an_email_stuck_pending_is_503(client, settings, sweep_completed, waiting, limit, failing):
    settings.HEALTH_OUTBOX_MAX_AGE_MINUTES = limit
    when = NOW + timedelta(minutes=1)
    Notification.objects.create(
        email="socio@example.org",
        kind="test",
        dedupe_key=uuid.uuid4().hex,
        created_at=when - waiting,
    )
    # Sent and failed messages are no backlog, however old.
    for status in (Notification.Status.SENT, Notification.Status.FAILED):
        Notification.objects.create(
            email="socio@example.org",
            kind="test",
            dedupe_key=uuid.uuid4().hex,
            status=status,
            created_at=when - timedelta(days=3),
        )

    with time_machine.travel(when, tick=False):
        response, body = _probe(client)

    assert response.status_code == (503 if failing else 200)
    assert _failing(body) == failing


def test_the_outbox_check_reads_an_index():
    """The oldest pending e-mail is the first entry of the partial index, not a table scan."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        plan = oldest_pending_notifications()[:1].explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")
    assert "notification_pending" in plan


@committed
def test_the_broker_down_is_503(client, settings, sweep_completed):
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{CLOSED_PORT}//"

    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        response, body = _probe(client)

    assert response.status_code == 503
    assert _failing(body) == {"broker": "unreachable"}
    # Nothing about where the broker is, or who signs in to it.
    assert "127.0.0.1" not in response.content.decode()
    assert "guest" not in response.content.decode()


@committed
def test_the_cache_down_is_503(client, settings, sweep_completed):
    settings.CACHES = {
        "default": {"BACKEND": REDIS_CACHE, "LOCATION": f"redis://127.0.0.1:{CLOSED_PORT}/0"}
    }

    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        response, body = _probe(client)

    assert response.status_code == 503
    assert _failing(body) == {"cache": "unreachable"}
    assert "127.0.0.1" not in response.content.decode()


@committed
def test_a_hung_cache_is_503_once_its_timeout_is_up(client, settings, sweep_completed, hung_server):
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.5
    settings.CACHES = {
        "default": {"BACKEND": REDIS_CACHE, "LOCATION": f"redis://127.0.0.1:{hung_server}/0"}
    }

    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        response, body = _probe(client)

    assert response.status_code == 503
    assert _failing(body) == {"cache": "timed out"}


def test_only_get_and_head(client):
    """No CSRF token is asked of a probe, and nothing but reading is offered."""
    assert client.post("/health/").status_code == 405
    assert client.head("/health/").status_code in (200, 503)


# --- The database, in a production process of its own ------------------------------------------

PROBE = """
import json
from django.conf import settings
from django.test import Client

# What a proxy sends: plain HTTP, the backend's address as the host, no forwarded headers.
health = Client().get("/health/", HTTP_HOST="10.0.0.7:8000")
print(json.dumps({
    "status": health.status_code,
    "body": health.json(),
    "text": health.content.decode(),
    "page_by_address": Client().get("/login/", HTTP_HOST="10.0.0.7:8000").status_code,
    "page_over_http": Client().get("/login/", HTTP_HOST="sportello.example.org").status_code,
    "outbox_limit": settings.HEALTH_OUTBOX_MAX_AGE_MINUTES,
}))
"""


def _production_probe(settings_process, tmp_path, database_url: str, **changes):
    """/health/ probed as a proxy would, in a process with production settings (DEBUG off)."""
    result = settings_process(
        PROBE,
        SPORTELLO_TESTING=None,
        DEBUG=None,
        TEST_DATABASE_NAME=None,
        SECRET_KEY=secrets.token_urlsafe(60)[:60],
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="sportello.example.org",
        SPORTELLO_VAR_DIR=str(tmp_path / "var"),
        CACHE_URL=None,  # the embedded defaults: files and folders under SPORTELLO_VAR_DIR
        CELERY_BROKER_URL=None,
        **changes,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_database_down_is_503_in_production(settings_process, tmp_path):
    probe = _production_probe(
        settings_process,
        tmp_path,
        f"postgres://sportello:secret@127.0.0.1:{CLOSED_PORT}/sportello",
        HEALTH_OUTBOX_MAX_AGE_MINUTES="25",
    )

    # Answered, not redirected to HTTPS nor refused for its host; the rest of the site still is.
    assert probe["status"] == 503
    assert probe["page_by_address"] == 400
    assert probe["page_over_http"] == 301
    assert _failing(probe["body"]) == {
        "database": "unreachable",
        "sla_sweep": "unreachable",
        "outbox": "unreachable",
    }
    assert "sportello" not in probe["text"]
    assert "127.0.0.1" not in probe["text"]
    assert probe["outbox_limit"] == 25


def test_a_hung_database_is_503_within_the_budget(settings_process, tmp_path, hung_server):
    # PostgreSQL's client waits at least 2 s for a connection; the answer does not wait for it.
    probe = _production_probe(
        settings_process,
        tmp_path,
        f"postgres://sportello@127.0.0.1:{hung_server}/sportello",
        HEALTH_CHECK_TIMEOUT_SECONDS="0.25",
    )

    assert probe["status"] == 503
    assert _failing(probe["body"]) == {
        "database": "timed out after 0.25 s",
        "sla_sweep": "timed out after 0.25 s",
        "outbox": "timed out after 0.25 s",
    }


def test_the_web_process_definitions_use_it():
    unit = (ROOT / "deploy" / "systemd" / "sportello-web.service").read_text()
    (wait_for_health,) = [line for line in unit.splitlines() if line.startswith("ExecStartPost=")]
    assert "/health/" in wait_for_health
    assert "--fail" not in wait_for_health  # a 503 is an answer: the web is up, a dependency is not
    assert "/health/" in (ROOT / "Procfile").read_text()
