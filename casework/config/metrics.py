"""GET /metrics: django-prometheus' request and query metrics, and Sportello's own gauges.

The gauges are read from the database when Prometheus scrapes (a collector, four small queries
whatever the number of cases), never counted on each request. The page is served to the
monitoring system's addresses (METRICS_ALLOWED_IPS, as `client_ip` sees them, so a client's own
X-Forwarded-For is not believed) or to a request with `Authorization: Bearer METRICS_TOKEN`.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
from collections.abc import Iterator
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.db.models import Count, Min
from django.http import HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from casework.models import Case, Heartbeat, Notification, SlaState

from .middleware import client_ip

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
METRICS_PATH = "/metrics"  # Prometheus' default; settings.SECURE_REDIRECT_EXEMPT spells it too
REFUSAL = "Forbidden: the metrics are served to the monitoring system only.\n"


# --- Who may scrape --------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(
            ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()
        )
    except ValueError as error:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {error}") from error


def _address_allowed(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    # A dual-stack listener reports an IPv4 client as ::ffff:a.b.c.d.
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return any(ip in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


def may_scrape(request) -> bool:
    """The right bearer token from anywhere, or no token from an allowed address.

    A wrong token is refused even from an allowed address: a scraper that sends one is
    misconfigured, and saying so beats serving it by its address without anyone noticing.
    """
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        token = settings.METRICS_TOKEN
        return bool(token) and constant_time_compare(credentials.strip(), token)
    return _address_allowed(client_ip(request))


# --- Sportello's gauges ----------------------------------------------------------------------


def open_cases_by_sla_state() -> dict[str, int]:
    """Open cases per SLA state, every state listed: one grouped count, an index-only scan of
    `case_open_summary` (which holds exactly the open cases and their SLA state)."""
    rows = Case.objects.open().order_by().values_list("sla_state").annotate(n=Count("id"))
    return {**dict.fromkeys(SlaState.values, 0), **dict(rows)}


def sla_sweep_last_completed():
    """When an SLA sweep last completed (its heartbeat, which /health/ checks too), or None."""
    return (
        Heartbeat.objects.filter(job=Heartbeat.Job.SLA_SWEEP)
        .values_list("completed_at", flat=True)
        .first()
    )


def outbox_backlog() -> dict:
    """E-mails waiting in the outbox and the oldest one's creation: the `notification_pending`
    partial index, read alone."""
    return Notification.objects.filter(status=Notification.Status.PENDING).aggregate(
        pending=Count("*"), oldest=Min("created_at")
    )


def failed_deliveries() -> int:
    """E-mails given up after their last attempt (the `notification_failed` partial index)."""
    return Notification.objects.filter(status=Notification.Status.FAILED).aggregate(
        failed=Count("*")
    )["failed"]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class SportelloCollector:
    """Sportello's figures, read when Prometheus scrapes.

    If the database does not answer, `sportello_figures_up` is 0 and the figures are left out,
    so the request metrics (the 5xx that come with an outage) are still served.
    """

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        try:
            with transaction.atomic():
                by_state = open_cases_by_sla_state()
                last_sweep = sla_sweep_last_completed()
                backlog = outbox_backlog()
                failed = failed_deliveries()
        except DatabaseError:
            logger.warning("metrics: Sportello's figures could not be read", exc_info=True)
            yield _gauge("sportello_figures_up", "1 if the figures below were read.", 0)
            return
        yield _gauge("sportello_figures_up", "1 if the figures below were read.", 1)
        open_cases = GaugeMetricFamily(
            "sportello_open_cases", "Open cases by SLA state.", labels=["sla_state"]
        )
        for state, count in by_state.items():
            open_cases.add_metric([state], count)
        yield open_cases
        yield _gauge(
            "sportello_sla_sweep_lag_seconds",
            "Seconds since an SLA sweep last completed (+Inf if none ever did).",
            (now - last_sweep).total_seconds() if last_sweep else math.inf,
        )
        yield _gauge(
            "sportello_outbox_pending_notifications",
            "E-mails waiting in the outbox.",
            backlog["pending"],
        )
        yield _gauge(
            "sportello_outbox_oldest_pending_age_seconds",
            "Age of the oldest e-mail waiting in the outbox (0 if none waits).",
            max((now - backlog["oldest"]).total_seconds(), 0) if backlog["oldest"] else 0,
        )
        yield _gauge(
            "sportello_outbox_failed_notifications",
            "E-mails given up after their last delivery attempt.",
            failed,
        )


# --- The page --------------------------------------------------------------------------------


def _sources():
    """This process's metrics, or every web process's when they share a directory
    (PROMETHEUS_MULTIPROC_DIR: gunicorn's workers each count their own requests), and ours."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return (registry, SportelloCollector())


@require_safe
@never_cache
def metrics(request):
    if not may_scrape(request):
        return HttpResponseForbidden(REFUSAL, content_type="text/plain; charset=utf-8")
    body = b"".join(generate_latest(source) for source in _sources())
    # The classic text format, which every Prometheus since 2.0 reads.
    return HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)


class MetricsMiddleware:
    """Answer /metrics before host validation, sessions, CSRF, login and lockout.

    Goes right after HealthCheckMiddleware in MIDDLEWARE. Prometheus scrapes each web backend at
    its address (a Host that ALLOWED_HOSTS refuses), over plain HTTP on the private network, so
    that each host's counts are a series of their own; who may read them is decided from the
    connection's address and the Authorization header only. Scrapes are thus not counted among
    the views' responses (django-prometheus' second middleware never sees them).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == METRICS_PATH:
            return metrics(request)
        return self.get_response(request)
