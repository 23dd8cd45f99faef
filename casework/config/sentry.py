"""Error reports to Sentry (SENTRY_DSN), without what could identify a person or tell a case's text.

The settings call sentry_init only when SENTRY_DSN is set; without it this module is never imported.
"""

from __future__ import annotations

import re
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from casework.config.logging import current_request_id

# Headers that say how a request came, never who sent it (no Cookie, Authorization, X-CSRFToken).
KEPT_HEADERS = {
    "accept",
    "accept-language",
    "content-length",
    "content-type",
    "host",
    "user-agent",
    "x-request-id",
}
EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
REDACTED = "[redacted]"


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        # No user, no cookies, no client address: send_default_pii stays at its default, off
        # (sentry-sdk 2.75 deprecates passing it at all). No request body ever read; no local
        # variables of the failing frames (a case, a message or a user's repr is personal data).
        max_request_body_size="never",
        include_local_variables=False,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
    )


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keep what locates a fault (URL, method, the request id) and drop what could name a person."""
    user = event.get("user") or {}
    # Short usernames would blank out half the event; e-mail addresses go by their pattern anyway.
    known = {str(user[key]) for key in ("email", "username") if len(str(user.get(key) or "")) >= 3}
    # The user's database id only: enough to tell one report's user from another's.
    event["user"] = {"id": user["id"]} if user.get("id") else {}
    request = event.get("request")
    if request:
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers") or {}
        request["headers"] = {
            name: value for name, value in headers.items() if name.lower() in KEPT_HEADERS
        }
    event.setdefault("tags", {})["request_id"] = current_request_id()
    return _redact(event, known)


def _redact(value: Any, known: set[str]) -> Any:
    """E-mail addresses, and the user's own name and address, wherever they appear in the event."""
    if isinstance(value, str):
        value = EMAIL_ADDRESS.sub(REDACTED, value)
        for text in sorted(known, key=len, reverse=True):
            value = value.replace(text, REDACTED)
        return value
    if isinstance(value, dict):
        return {key: _redact(item, known) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(item, known) for item in value]
    return value
