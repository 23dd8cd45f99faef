"""Errors reach Sentry when SENTRY_DSN is set, without who the user is or what they sent."""

import gzip
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client

from casework.config.celery import app as celery_app
from casework.config.sentry import KEPT_HEADERS, scrub_event, sentry_init

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ops.urls")]

PERSONAL_NOTE = "Mario Rossi, via Roma 1, mario.rossi@example.com"


def envelope_items(body: bytes) -> list[tuple[dict, bytes]]:
    """The (header, payload) items of a Sentry envelope (after its own header line)."""
    _, _, rest = body.partition(b"\n")
    items = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header, payload))
    return items


@pytest.fixture
def sentry_inbox():
    """A local HTTP server in a thread, standing in for Sentry: the events it received."""
    events = []

    class Inbox(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            for header, payload in envelope_items(body):
                if header.get("type") == "event":
                    events.append(json.loads(payload))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Inbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    events_dsn = f"http://public@127.0.0.1:{server.server_port}/1"
    yield events_dsn, events
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def sentry_started(sentry_inbox, monkeypatch):
    """Sentry initialised as the settings do it, sending to the inbox; closed afterwards."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    events_dsn, events = sentry_inbox
    sentry_init(dsn=events_dsn, environment="test")
    yield events
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


@celery_app.task(name="tests.ops.fail_in_a_task")
def fail_in_a_task():
    raise LookupError("the test task fails")


def wsgi_call(environ: dict) -> tuple[str, dict]:
    """One request through Django's WSGI handler, as gunicorn makes it (Sentry wraps that one)."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    response = WSGIHandler()(environ, start_response)
    b"".join(response)
    response.close()
    return answer["status"], answer["headers"]


def test_a_failing_page_is_reported_without_personal_data(sentry_started, member):
    session = Client()
    session.force_login(member)
    session_id = session.cookies["sessionid"].value
    body = urlencode({"note": PERSONAL_NOTE, "email": member.email}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/fails/",
        "QUERY_STRING": "cerca=mario.rossi%40example.com",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_USER_AGENT": "Firefox",
        "HTTP_COOKIE": f"sessionid={session_id}; preferenza=cookie-value-of-the-member",
        "HTTP_AUTHORIZATION": "Token secret-token-value",
        "HTTP_X_FORWARDED_FOR": "198.51.100.7",
    }
    setup_testing_defaults(environ)

    status, headers = wsgi_call(environ)
    sentry_sdk.flush(timeout=10)

    assert status.startswith("500")
    (event,) = sentry_started
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "the test page fails")
    assert event["environment"] == "test"
    assert event["tags"]["request_id"] == headers["X-Request-ID"]
    request = event["request"]
    assert (request["method"], request["url"]) == ("POST", "http://127.0.0.1/fails/")
    assert {"data", "cookies", "query_string", "env"}.isdisjoint(request)
    assert {name.lower() for name in request["headers"]} <= KEPT_HEADERS
    assert request["headers"]["User-Agent"] == "Firefox"
    assert not event.get("user")
    text = json.dumps(event)
    for personal in (
        member.email,
        member.username,
        "mario.rossi@example.com",
        "Mario Rossi",
        "cookie-value-of-the-member",
        session_id,
        "secret-token-value",
        "203.0.113.9",
        "198.51.100.7",
    ):
        assert personal not in text


def test_a_failing_task_is_reported(sentry_started):
    fail_in_a_task.apply(task_id="task-4567")
    sentry_sdk.flush(timeout=10)

    (event,) = sentry_started
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("LookupError", "the test task fails")
    assert event["tags"]["request_id"] == "task-4567"


def test_the_scrubber_keeps_the_fault_and_drops_the_person():
    event = {
        "message": "no case for anna.bianchi@example.org (anna.b)",
        "user": {"id": 7, "email": "anna.bianchi@example.org", "username": "anna.b"},
        "request": {
            "url": "https://sportello.example.org/cases/12/",
            "method": "POST",
            "data": {"note": PERSONAL_NOTE},
            "cookies": {"sessionid": "abc"},
            "query_string": "q=Rossi",
            "env": {"REMOTE_ADDR": "203.0.113.9"},
            "headers": {"Cookie": "sessionid=abc", "User-Agent": "Firefox", "X-Csrftoken": "t"},
        },
        "breadcrumbs": {"values": [{"message": "mailed mario.rossi@example.com"}]},
    }

    scrubbed = scrub_event(event, {})

    assert scrubbed["user"] == {"id": 7}
    assert scrubbed["request"] == {
        "url": "https://sportello.example.org/cases/12/",
        "method": "POST",
        "headers": {"User-Agent": "Firefox"},
    }
    assert scrubbed["message"] == "no case for [redacted] ([redacted])"
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == "mailed [redacted]"
    assert scrubbed["tags"]["request_id"] == "-"


SENTRY_STATE = (
    "import json, sentry_sdk\n"
    "client = sentry_sdk.get_client()\n"
    "print(json.dumps({'active': client.is_active(), 'pii': client.should_send_default_pii(),"
    " 'environment': client.options.get('environment')}))\n"
)


@pytest.mark.parametrize(
    "changes",
    [
        {"SENTRY_DSN": None},
        {"SENTRY_DSN": ""},
        # The test suite never reports, whatever its environment says.
        {"SENTRY_DSN": "http://public@127.0.0.1:9/1"},
    ],
)
def test_without_sentry_dsn_nothing_is_initialised(settings_process, changes):
    run = settings_process(SENTRY_STATE, **changes)

    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["active"] is False


def test_with_sentry_dsn_the_settings_initialise_it(settings_process):
    run = settings_process(
        SENTRY_STATE,
        SPORTELLO_TESTING=None,
        DEBUG="1",
        SENTRY_DSN="http://public@127.0.0.1:9/1",
        SENTRY_ENVIRONMENT="staging",
    )

    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"active": True, "pii": False, "environment": "staging"}
