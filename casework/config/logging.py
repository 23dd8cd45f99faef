"""What every log line says besides its message: time, level, logger, the request it is part of."""

from __future__ import annotations

import json
import logging
import logging.config
import re
from contextvars import ContextVar
from datetime import datetime
from email.utils import getaddresses

from celery import current_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# The id of the request being served, set by casework.config.middleware.RequestIdMiddleware.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# What a proxy may hand us as a request id: anything else could forge or break log lines.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9-]{1,64}")
NO_REQUEST = "-"

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s] %(message)s"


def current_request_id() -> str:
    """The request being served, else the Celery task being run, else "-"."""
    rid = request_id.get()
    if rid:
        return rid
    task_id = getattr(getattr(current_task, "request", None), "id", None)
    return task_id or NO_REQUEST


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record; set on the handlers, so records of every logger get it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class TextFormatter(logging.Formatter):
    """`2026-12-02 10:15:00,123 INFO casework.sla.watch [req=ab12…] message`."""

    def __init__(self, fmt: str = TEXT_FORMAT, datefmt: str | None = None) -> None:
        # A handler without the filter still formats: the record then says "-".
        super().__init__(fmt, datefmt, defaults={"request_id": NO_REQUEST})


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors (LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).astimezone()
        line = {
            "time": moment.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


def admins_from(value: str) -> list[tuple[str, str]]:
    """ADMINS=`Name <a@b.it>,c@d.it` as Django's list of (name, e-mail) pairs."""
    admins = []
    for name, address in getaddresses([value]):
        if not name and not address:
            continue
        if "@" not in address:
            raise ImproperlyConfigured(f"ADMINS: {address or name!r} is not an e-mail address.")
        admins.append((name or address, address))
    return admins


def configure_worker_logging(**kwargs) -> None:
    """Celery's setup_logging receiver: workers and beat log as the web processes do (LOGGING).

    Connecting any receiver stops Celery from installing its own handlers and formats. The
    worker's own `--loglevel` still sets the level (its "ready." line is how supervisors and the
    drills know it started).
    """
    logging.config.dictConfig(settings.LOGGING)
    level = kwargs.get("loglevel")
    if level:
        logging.getLogger().setLevel(level)
