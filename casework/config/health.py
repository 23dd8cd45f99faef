"""`GET /health/`: whether this Sportello process can serve and its background work keeps up.

One JSON answer, 200 when every check passes and 503 naming what failed:

    {"status": "fail", "checks": {"database": {"status": "ok"}, ...,
                                  "sla_sweep": {"status": "fail", "reason": "last completed ..."}}}

The checks: `database` (a connection and `SELECT 1`), `cache` (a value written and read back),
`broker` (a connection to Celery's broker), `sla_sweep` (the sweep's heartbeat is recent) and
`outbox` (the oldest pending e-mail is not older than allowed). Not checked: inbound mailboxes —
issue 19 asks for them, but Sportello reads no mailbox yet; the day it does, their check is one
more entry of CHECKS.

How a check times out: each runs in a thread of its own with its client's timeouts set to
HEALTH_CHECK_TIMEOUT_SECONDS (PostgreSQL's connect_timeout, Redis' socket timeouts, the broker's
connect timeout), and the view waits for all of them at most one second more; a check still
running then is reported "timed out" and left behind, never joined, so a hung dependency answers
503 within the budget and never holds the web worker. At most MAX_RUNS_PER_CHECK runs of one check
may be in flight in a process, so probes every few seconds against a hung server cannot pile up
threads. Each probe costs three short database connections (this thread's connections are not
the request's, and are closed at once), one indexed lookup each, and a cache and a broker
round trip.

The answer names checks, ok or fail, and a short reason of our own words: never a host name, a
user or an exception's text (those go to the log). It needs no login, and HealthCheckMiddleware
answers it before host validation, sessions, CSRF, login and lockout, so that a proxy's plain
HTTP probe to the backend's address works in production (settings.SECURE_REDIRECT_EXEMPT spares
it the HTTPS redirect); its body depends on nothing the request says.

Why not django-health-check (4.8 was weighed for issue 19): its view answers 500 rather than 503,
and HTML unless the client asks for JSON; it runs synchronous checks on the event loop's default
executor, which `asyncio.run` joins when the request ends, so under gunicorn's sync workers a hung
database still holds the worker until its call returns; its cache check awaits Django's cache on
the request's own thread. Replacing its view's get(), its executor and each check would have
left nothing of it but a base class.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import OperationalError as DatabaseUnreachable
from django.db.utils import load_backend
from django.http import HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache

from casework.models import Heartbeat, Notification

from .celery import app as celery_app

logger = logging.getLogger(__name__)

HEALTH_PATH = "/health/"  # settings.SECURE_REDIRECT_EXEMPT spells it as a pattern
# The view waits this much longer than the clients' own timeouts, for them to report first.
GRACE_SECONDS = 1.0
MAX_RUNS_PER_CHECK = 4
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


class CheckFailed(Exception):
    """A check's failure, with the short reason the answer shows (no names, no addresses)."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str = ""

    def as_json(self) -> dict[str, str]:
        return {"status": "ok"} if self.ok else {"status": "fail", "reason": self.reason}


def _timeout() -> float:
    return float(settings.HEALTH_CHECK_TIMEOUT_SECONDS)


# --- The checks: each raises CheckFailed (or its client's error) when it fails. ----------------


@contextmanager
def _database_connection() -> Iterator[None]:
    """This thread's own connection to the database, with the checks' connect timeout.

    Installed as the thread's `default` connection (Django's connections are per thread), so the
    ORM uses it; closed when the check ends, so no check thread leaves a connection behind.
    """
    params = copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS])
    if "postgresql" in params["ENGINE"]:
        # libpq counts whole seconds and treats anything under 2 as 2.
        params["OPTIONS"]["connect_timeout"] = max(2, math.ceil(_timeout()))
    params["CONN_MAX_AGE"] = 0
    params["CONN_HEALTH_CHECKS"] = False
    connection = load_backend(params["ENGINE"]).DatabaseWrapper(params, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = connection
    try:
        yield
    finally:
        connection.close()
        del connections[DEFAULT_DB_ALIAS]


def check_database() -> None:
    with _database_connection(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise CheckFailed("unexpected answer")


def check_cache() -> None:
    """Write a value of our own to the shared cache and read it back (then delete it)."""
    params = copy.deepcopy(settings.CACHES[DEFAULT_CACHE_ALIAS])
    backend = params.pop("BACKEND")
    location = params.pop("LOCATION", "")
    if backend == REDIS_CACHE:
        # The site's own client waits for Redis as long as it takes; this probe does not.
        params["OPTIONS"] = {
            **params.get("OPTIONS", {}),
            "socket_connect_timeout": _timeout(),
            "socket_timeout": _timeout(),
        }
    cache = import_string(backend)(location, params)
    key = f"sportello:health:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=60)
        if cache.get(key) != "ok":
            raise CheckFailed("read back a different value")
        cache.delete(key)
    finally:
        cache.close()


def check_broker() -> None:
    """Open (and close) a connection to Celery's broker, as a producer would."""
    url = settings.CELERY_BROKER_URL
    options = {}
    if url.startswith(("redis://", "rediss://")):
        options = {"socket_connect_timeout": _timeout(), "socket_timeout": _timeout()}
    with celery_app.connection_for_write(
        url=url, connect_timeout=_timeout(), transport_options=options
    ) as connection:
        connection.ensure_connection(max_retries=0)


def check_sla_sweep() -> None:
    """The SLA sweep (every minute, workflows.tasks.sla_sweep) completed a run recently."""
    limit = timedelta(minutes=settings.HEALTH_SWEEP_MAX_AGE_MINUTES)
    with _database_connection():
        completed_at = (
            Heartbeat.objects.filter(job=Heartbeat.Job.SLA_SWEEP)
            .values_list("completed_at", flat=True)
            .first()
        )
    if completed_at is None:
        raise CheckFailed("never completed a run")
    age = timezone.now() - completed_at
    if age > limit:
        raise CheckFailed(f"last completed {_minutes(age)} min ago (limit {_minutes(limit)} min)")


def oldest_pending_notifications():
    """Pending e-mails, oldest first: an index scan of the partial index `notification_pending`."""
    return (
        Notification.objects.filter(status=Notification.Status.PENDING)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )


def check_outbox() -> None:
    """The oldest e-mail still pending in the outbox waits no longer than allowed."""
    limit = timedelta(minutes=settings.HEALTH_OUTBOX_MAX_AGE_MINUTES)
    with _database_connection():
        oldest = oldest_pending_notifications().first()
    if oldest is None:
        return
    age = timezone.now() - oldest
    if age > limit:
        raise CheckFailed(
            f"oldest pending e-mail waiting {_minutes(age)} min (limit {_minutes(limit)} min)"
        )


def _minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "sla_sweep": check_sla_sweep,
    "outbox": check_outbox,
}
_runs_in_flight = {name: threading.BoundedSemaphore(MAX_RUNS_PER_CHECK) for name in CHECKS}


# --- Running them ------------------------------------------------------------------------------


def _reason(error: Exception) -> str:
    """The public words for a client's error; its own text may name hosts and users."""
    if isinstance(error, CheckFailed):
        return str(error)
    if isinstance(error, TimeoutError | redis.exceptions.TimeoutError):
        return "timed out"
    if isinstance(
        error,
        DatabaseUnreachable
        | kombu.exceptions.OperationalError
        | redis.exceptions.ConnectionError
        | OSError,
    ):
        return "unreachable"
    return "error (see the server log)"


def _run(name: str, check: Callable[[], None]) -> Outcome:
    """Run one check in this (pool) thread, then let the next run of it in."""
    try:
        check()
    except Exception as error:  # noqa: BLE001 - every failure is an answer, and is logged
        logger.warning("health check %s failed: %r", name, error)
        return Outcome(False, _reason(error))
    finally:
        _runs_in_flight[name].release()
    return Outcome(True)


def run_checks() -> dict[str, Outcome]:
    """Every check at once, each in its own thread; wait for them at most the budget."""
    outcomes: dict[str, Outcome] = {}
    futures = {}
    executor = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="health")
    try:
        for name, check in CHECKS.items():
            if _runs_in_flight[name].acquire(blocking=False):
                futures[name] = executor.submit(_run, name, check)
            else:
                outcomes[name] = Outcome(False, "earlier runs still hanging")
        wait(futures.values(), timeout=_timeout() + GRACE_SECONDS)
    finally:
        # Never join: a check that hangs past its client's timeout is left to end on its own.
        executor.shutdown(wait=False)
    late = Outcome(False, f"timed out after {_timeout():g} s")
    for name, future in futures.items():
        outcomes[name] = future.result() if future.done() else late
    return {name: outcomes[name] for name in CHECKS}


@never_cache
def health(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    outcomes = run_checks()
    healthy = all(outcome.ok for outcome in outcomes.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "fail",
            "checks": {name: outcome.as_json() for name, outcome in outcomes.items()},
        },
        status=200 if healthy else 503,
    )


class HealthCheckMiddleware:
    """Answer /health/ before host validation, sessions, CSRF, login and lockout.

    Goes right after SecurityMiddleware in MIDDLEWARE. A proxy probes the backend by its
    address (a Host that ALLOWED_HOSTS refuses) over plain HTTP; the answer says nothing that
    depends on the request, so skipping the rest of the stack costs nothing in safety.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH:
            return health(request)
        return self.get_response(request)
