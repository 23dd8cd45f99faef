"""Log lines: time, level, logger and request id; the id comes back in X-Request-ID; JSON lines."""

import json
import logging
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils.log import AdminEmailHandler

from casework.config.celery import app as celery_app
from casework.config.logging import JsonFormatter, admins_from

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ops.urls")]

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<logger>\S+) "
    r"\[req=(?P<request_id>[^\]]+)\] (?P<message>.*)"
)


def parsed_lines(output):
    lines = output.getvalue().splitlines()
    matches = [TEXT_LINE.fullmatch(line) for line in lines]
    assert all(matches), lines
    return [match.groupdict() for match in matches]


@celery_app.task(name="tests.ops.log_a_line")
def log_a_line():
    logging.getLogger("casework.tests.ops").info("in a task")


def test_a_request_logs_under_the_id_it_returns(log_output):
    response = Client().get("/logs/")

    request_id = response["X-Request-ID"]
    assert GENERATED_ID.fullmatch(request_id)
    assert {
        "level": "INFO",
        "logger": "casework.tests.ops",
        "request_id": request_id,
        "message": "serving /logs/",
    } in parsed_lines(log_output)


def test_the_proxys_request_id_is_kept(log_output):
    response = Client().get("/logs/", headers={"X-Request-ID": "Proxy-42-abc"})

    assert response["X-Request-ID"] == "Proxy-42-abc"
    assert [line["request_id"] for line in parsed_lines(log_output)] == ["Proxy-42-abc"]


@pytest.mark.parametrize(
    "forged",
    [
        "abc def",
        "abc] ERROR forged.logger [req=x",
        "x" * 65,
        "id;rm -rf",
        "caffè",
        "",
    ],
)
def test_a_forged_request_id_is_replaced(log_output, forged):
    response = Client().get("/logs/", headers={"X-Request-ID": forged})

    request_id = response["X-Request-ID"]
    assert GENERATED_ID.fullmatch(request_id)
    assert [line["request_id"] for line in parsed_lines(log_output)] == [request_id]
    if forged:
        assert forged not in log_output.getvalue()


def test_a_refused_response_is_logged_with_its_request_id(log_output):
    # Django logs a returned 4xx once the middleware chain has finished.
    response = Client().get("/refuses/")

    assert response.status_code == 403
    assert {
        "level": "WARNING",
        "logger": "django.request",
        "request_id": response["X-Request-ID"],
        "message": "Forbidden: /refuses/",
    } in parsed_lines(log_output)


def test_outside_requests_the_request_id_is_a_dash(log_output):
    log = logging.getLogger("casework.tests.ops")

    log.info("before")
    Client().get("/logs/")
    log.info("after")

    lines = parsed_lines(log_output)
    assert (lines[0]["message"], lines[0]["request_id"]) == ("before", "-")
    assert (lines[-1]["message"], lines[-1]["request_id"]) == ("after", "-")


def test_a_celery_task_logs_under_its_task_id(log_output):
    log_a_line.apply(task_id="task-0123")

    assert {
        "level": "INFO",
        "logger": "casework.tests.ops",
        "request_id": "task-0123",
        "message": "in a task",
    } in parsed_lines(log_output)


def test_json_lines_carry_the_fields(log_output):
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    text_formatter = handler.formatter
    handler.setFormatter(JsonFormatter())
    try:
        response = Client().get("/logs/")
        try:
            raise ValueError("a broken thing")
        except ValueError:
            logging.getLogger("casework.tests.ops").exception("it broke")
    finally:
        handler.setFormatter(text_formatter)

    served, broke = [json.loads(line) for line in log_output.getvalue().splitlines()]
    assert served["level"] == "INFO"
    assert served["logger"] == "casework.tests.ops"
    assert served["message"] == "serving /logs/"
    assert served["request_id"] == response["X-Request-ID"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", served["time"])
    assert "exception" not in served
    assert (broke["level"], broke["request_id"], broke["message"]) == ("ERROR", "-", "it broke")
    assert "ValueError: a broken thing" in broke["exception"]


def test_log_format_json_is_read_from_the_environment(settings_process):
    code = (
        "import logging\n"
        "try:\n"
        "    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    logging.getLogger('casework.sla.watch').exception('sweep failed for %s', 'BO')\n"
    )

    run = settings_process(code, LOG_FORMAT="json")

    assert run.returncode == 0, run.stderr
    (line,) = [json.loads(text) for text in run.stderr.splitlines()]
    assert line["logger"] == "casework.sla.watch"
    assert line["level"] == "ERROR"
    assert line["message"] == "sweep failed for BO"
    assert line["request_id"] == "-"
    assert "ZeroDivisionError" in line["exception"]


def test_an_unknown_log_format_is_refused(settings_process):
    run = settings_process("", LOG_FORMAT="xml")

    assert run.returncode != 0
    assert "LOG_FORMAT must be text or json" in run.stderr


@pytest.mark.parametrize(
    ("value", "admins"),
    [
        ("", []),
        ("ops@example.org", [("ops@example.org", "ops@example.org")]),
        (
            "Ufficio IT <it@example.org>, ops@example.org",
            [("Ufficio IT", "it@example.org"), ("ops@example.org", "ops@example.org")],
        ),
        ('"Rossi, Mario" <mario@example.org>', [("Rossi, Mario", "mario@example.org")]),
    ],
)
def test_admins_are_read_as_name_and_address(value, admins):
    assert admins_from(value) == admins


def test_admins_that_are_not_addresses_are_refused():
    with pytest.raises(ImproperlyConfigured):
        admins_from("Ufficio IT")


def test_without_admins_errors_are_not_mailed():
    handlers = logging.getLogger().handlers + logging.getLogger("django").handlers

    assert not [h for h in handlers if isinstance(h, AdminEmailHandler)]


def test_with_admins_errors_are_mailed_to_them(settings_process):
    code = (
        "import logging\n"
        "from django.core import mail\n"
        "logging.getLogger('casework.sla.watch').error('the sweep failed')\n"
        "logging.getLogger('casework.sla.watch').warning('only a warning')\n"
        "print([(m.subject, m.to) for m in mail.outbox])\n"
    )

    run = settings_process(
        code,
        ADMINS="Ufficio IT <it@example.org>,ops@example.org",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        "[('[Django] ERROR: the sweep failed', ['it@example.org', 'ops@example.org'])]"
    )
