"""GET /metrics: who may scrape it, request and query metrics, Sportello's gauges, the alerts."""

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from casework.models import Notification
from workflows import process
from workflows.tasks import sla_sweep

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ROME = ZoneInfo("Europe/Rome")
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=ROME)
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=ROME)
OUTSIDE = "203.0.113.9"  # TEST-NET-3: never one of ours
TOKEN = "prometheus-scrape-token-0123456789"


def samples(response) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape by name and labels; the body must parse as Prometheus text."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped, name, **labels) -> float:
    return scraped[(name, frozenset(labels.items()))]


def scrape(client, **headers):
    return client.get("/metrics", **headers)


# --- Who may scrape --------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_an_allowed_address_is_served(client, address):
    # Given the default METRICS_ALLOWED_IPS (the machine itself), when it scrapes
    response = scrape(client, REMOTE_ADDR=address)
    # then it gets the metrics
    assert response.status_code == 200


def test_an_allowed_network_is_served(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/24"]
    assert scrape(client, REMOTE_ADDR="10.0.0.5").status_code == 200
    assert scrape(client, REMOTE_ADDR="127.0.0.1").status_code == 403


def test_no_address_when_the_list_is_empty(client, settings):
    # METRICS_ALLOWED_IPS= (empty): only the token is accepted.
    settings.METRICS_ALLOWED_IPS = [""]
    assert scrape(client, REMOTE_ADDR="127.0.0.1").status_code == 403


def test_another_address_is_refused_with_a_plain_message(client):
    response = scrape(client, REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert b"monitoring system only" in response.content
    assert b"sportello_" not in response.content


def test_a_spoofed_forwarded_for_is_not_believed(client):
    # Given no proxy of ours in front (the default of a local run), when an outside client
    # claims to be the machine itself
    response = scrape(client, REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1")
    # then it is refused
    assert response.status_code == 403


def test_behind_our_proxy_only_the_address_it_saw_counts(client, settings):
    # Given one proxy of ours, on the machine itself, in front of the web processes
    settings.SPORTELLO_TRUSTED_PROXIES = 1
    settings.METRICS_ALLOWED_IPS = ["10.0.0.5"]
    # when an outside client puts the monitoring address first in its X-Forwarded-For
    spoofed = scrape(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.0.0.5, {OUTSIDE}")
    # then the entry our proxy appended (the client's real address) is the one judged
    assert spoofed.status_code == 403
    proxied = scrape(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.5")
    assert proxied.status_code == 200


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_the_token_is_served_from_anywhere(client, settings, scheme):
    settings.METRICS_TOKEN = TOKEN
    response = scrape(client, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"{scheme} {TOKEN}")
    assert response.status_code == 200
    assert b"sportello_open_cases" in response.content


@pytest.mark.parametrize("address", [OUTSIDE, "127.0.0.1"])
@pytest.mark.parametrize(
    "authorization", [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ", f"Basic {TOKEN}"]
)
def test_a_wrong_token_is_refused_from_any_address(client, settings, address, authorization):
    settings.METRICS_TOKEN = TOKEN
    if authorization.startswith("Basic"):
        # Not a bearer token at all: judged by the address alone.
        expected = 200 if address == "127.0.0.1" else 403
    else:
        expected = 403
    response = scrape(client, REMOTE_ADDR=address, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == expected


def test_no_token_is_accepted_when_none_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 403
    assert scrape(client, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer x").status_code == 403


def test_a_backend_is_scraped_at_its_address_over_plain_http(client, settings):
    # Given production's host check and HTTPS redirect
    settings.ALLOWED_HOSTS = ["sportello.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    settings.METRICS_ALLOWED_IPS = ["10.0.0.5"]
    backend = {"HTTP_HOST": "10.0.0.11:8000"}
    # when Prometheus scrapes a web backend at its address, over plain HTTP
    response = scrape(client, REMOTE_ADDR="10.0.0.5", **backend)
    # then it is served, and the address check still stands
    assert response.status_code == 200
    assert scrape(client, REMOTE_ADDR=OUTSIDE, **backend).status_code == 403
    # while every page still refuses that host, and redirects plain HTTP
    assert client.get("/login/", REMOTE_ADDR="10.0.0.5", **backend).status_code == 400
    assert client.get("/login/", HTTP_HOST="sportello.example.org").status_code == 301


def test_only_get_and_head(client):
    assert client.head("/metrics").status_code == 200
    assert client.post("/metrics").status_code == 405


# --- What it says ----------------------------------------------------------------------------


def test_request_and_query_metrics(client):
    # Given a first scrape, when a page is served
    before = samples(scrape(client))
    assert client.get("/login/").status_code == 200
    # then the next scrape counts it, by status, view and method, and counts queries
    after = samples(scrape(client))
    login = {"status": "200", "view": "login", "method": "GET"}
    name = "django_http_responses_total_by_status_view_method_total"
    assert value(after, name, **login) == before.get((name, frozenset(login.items())), 0) + 1
    assert value(after, "django_http_requests_total_by_method_total", method="GET") >= 1
    vendor = {"alias": "default", "vendor": connection.vendor}
    assert value(after, "django_db_execute_total", **vendor) > 0
    assert value(after, "django_db_query_duration_seconds_count", **vendor) > 0


@pytest.fixture
def sla_world(open_case, supervisor):
    """Two open cases breached on Monday, a third breached then cancelled, one new on Tuesday.

    The SLA sweep that marked them completed on Tuesday at 10:00; the outbox is then replaced
    by one e-mail pending since 9:50, two failed and one sent.
    """
    with time_machine.travel(MONDAY, tick=False):
        breached = [open_case(subject=f"Bilancio {n}") for n in range(3)]
    with time_machine.travel(TUESDAY, tick=False):
        counts = sla_sweep()
        assert counts["first_response_breached_at"] == 3
        process.case_cancel(case=breached[2], actor=supervisor, reason="Duplicato")
        open_case(subject="Nuovo statuto")
    Notification.objects.all().delete()
    outbox = {"pending": 1, "failed": 2, "sent": 1}
    for status, count in outbox.items():
        for n in range(count):
            Notification.objects.create(
                email="socio@example.org",
                kind="test",
                dedupe_key=f"{status}:{n}",
                status=status,
                created_at=TUESDAY - timedelta(minutes=10 if status == "pending" else 30),
            )


def test_sportello_gauges_for_crafted_data(client, sla_world):
    # When Prometheus scrapes two minutes after the sweep
    with time_machine.travel(TUESDAY + timedelta(minutes=2), tick=False):
        scraped = samples(scrape(client))
    # then each gauge says what the database holds
    assert value(scraped, "sportello_figures_up") == 1
    open_cases = {
        state: value(scraped, "sportello_open_cases", sla_state=state)
        for state in ("on_track", "at_risk", "breached", "paused", "met")
    }
    assert open_cases == {"on_track": 1, "at_risk": 0, "breached": 2, "paused": 0, "met": 0}
    assert value(scraped, "sportello_sla_sweep_lag_seconds") == 120
    assert value(scraped, "sportello_outbox_pending_notifications") == 1
    assert value(scraped, "sportello_outbox_oldest_pending_age_seconds") == 12 * 60
    assert value(scraped, "sportello_outbox_failed_notifications") == 2


def test_gauges_with_nothing_yet(client):
    # Given a new installation: no case, no e-mail, no sweep ever completed
    scraped = samples(scrape(client))
    # then the figures are zeros, and the sweep's lag is infinite (its alert fires)
    assert value(scraped, "sportello_open_cases", sla_state="breached") == 0
    assert value(scraped, "sportello_sla_sweep_lag_seconds") == float("inf")
    assert value(scraped, "sportello_outbox_pending_notifications") == 0
    assert value(scraped, "sportello_outbox_oldest_pending_age_seconds") == 0
    assert value(scraped, "sportello_outbox_failed_notifications") == 0


def test_scrape_query_count_does_not_grow_with_cases(
    client, open_case, django_assert_max_num_queries
):
    def scrape_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert scrape(client).status_code == 200
        return len(captured)

    for n in range(2):
        open_case(subject=f"Caso {n}")
    # Four reads, and the savepoint that keeps a failing one from spoiling the connection.
    with django_assert_max_num_queries(6):
        scrape(client)
    few = scrape_queries()
    for n in range(8):
        open_case(subject=f"Altro caso {n}")
    assert scrape_queries() == few


def test_a_database_fault_still_serves_the_request_metrics(client):
    # Given the outbox table cannot be read (inside this test's transaction, undone after it)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE casework_notification RENAME TO casework_notification_away")
    # when Prometheus scrapes
    scraped = samples(scrape(client))
    # then it learns that the figures are missing, and still gets the requests' counts
    assert value(scraped, "sportello_figures_up") == 0
    assert not any(name == "sportello_open_cases" for name, _ in scraped)
    assert value(scraped, "django_http_requests_before_middlewares_total") > 0


def test_shared_counts_of_several_web_processes(client, monkeypatch, tmp_path):
    # Given gunicorn's workers write their counts to one directory
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    # when one of them is scraped, it serves that directory's counts (none yet), not its own
    scraped = samples(scrape(client))
    assert not any(name.startswith("django_http_") for name, _ in scraped)
    assert value(scraped, "sportello_figures_up") == 1


# --- The sample alert rules -------------------------------------------------------------------


def test_alert_rules_are_valid_and_name_served_metrics(client):
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in alerts} >= {
        "SportelloSlaSweepStopped",
        "SportelloOutboxGrowing",
        "SportelloServerErrors",
        "SportelloFailedDeliveries",
    }
    # Every metric the rules read is one the endpoint serves (after a request, for the counters).
    client.get("/login/")
    served = {name for name, _ in samples(scrape(client))}
    for rule in alerts:
        assert set(rule) >= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        for metric in re.findall(r"\b(?:sportello|django)_[a-z_]+", rule["expr"]):
            assert metric in served, (rule["alert"], metric)
