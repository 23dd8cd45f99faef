"""Messages that must never open a case nor be answered: auto-replies, bounces, Sportello's own.

Answering any of them is how mail loops start (an out-of-office answering a notification that
answers the out-of-office...). `why_ignored` is the one question intake asks; the three tests
behind it are public for the timeline and the tests.

On a PEC mailbox ask `pec.read_pec` first: a provider's receipt is machine-made and may carry an
empty Return-Path, yet it is not to be dropped but matched to the PEC message it certifies.
"""

from __future__ import annotations

from .parse import Incoming

AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"
OWN = "own"

# The header Sportello writes on every e-mail it sends, so that its own mail coming back (a
# forward, a misconfigured alias) is recognised.
OWN_HEADER = "X-Sportello-Notification"

# RFC 3834: any Auto-Submitted value but "no" is machine-made mail.
_NOT_AUTOMATIC = "no"
# Precedence is not standard but is what mailing lists and many responders set (RFC 3834 §3.1.8).
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_FALSE_VALUES = frozenset({"no", "false", "0"})
# Local parts of the addresses mail servers send delivery failures from (RFC 5321 §4.5.1).
_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})


def _token(value: str | None) -> str:
    """A header value's first token, lower-cased: "auto-replied; owner=x" -> "auto-replied"."""
    return (value or "").split(";", 1)[0].strip().lower()


def is_auto_reply(incoming: Incoming) -> bool:
    """Out-of-office and other responders, mailing lists, read receipts (RFC 3834, RFC 8098)."""
    auto_submitted = incoming.header("Auto-Submitted")
    if auto_submitted is not None and _token(auto_submitted) not in ("", _NOT_AUTOMATIC):
        return True
    for name in ("X-Autoreply", "X-Autorespond"):
        value = incoming.header(name)
        if value is not None and _token(value) not in _FALSE_VALUES:
            return True
    if _token(incoming.header("Precedence")) in _BULK_PRECEDENCE:
        return True
    # A read receipt (message disposition notification) is a report a program sends.
    return (
        incoming.content_type == "multipart/report"
        and incoming.report_type == "disposition-notification"
    )


def is_bounce(incoming: Incoming) -> bool:
    """A delivery failure: a delivery status report, a mailer daemon, or the null return path."""
    if incoming.content_type == "multipart/report" and incoming.report_type == "delivery-status":
        return True
    if "message/delivery-status" in incoming.part_types:
        return True
    if incoming.header("X-Failed-Recipients") is not None:
        return True
    local_part = incoming.from_address.rpartition("@")[0]
    if local_part in _DAEMONS:
        return True
    # RFC 5321 §4.5.5: notifications are sent with an empty reverse path, "Return-Path: <>".
    return_path = incoming.header("Return-Path")
    return return_path is not None and return_path.strip().strip("<>").strip() == ""


def is_own(incoming: Incoming, own_header: str = OWN_HEADER) -> bool:
    """A message Sportello sent itself, come back: it carries Sportello's own header.

    `own_header` must start with "X-Sportello-": those are the headers `parse` keeps.
    """
    return incoming.header(own_header) is not None


def why_ignored(incoming: Incoming, *, own_header: str = OWN_HEADER) -> str | None:
    """AUTO_REPLY, BOUNCE or OWN when the message must open nothing and get no answer; else None.

    Own mail is named first (it is the surest loop), then bounces (a bounce is often also marked
    Auto-Submitted, and "bounce" is what a supervisor needs to read), then auto-replies.
    """
    if is_own(incoming, own_header):
        return OWN
    if is_bounce(incoming):
        return BOUNCE
    if is_auto_reply(incoming):
        return AUTO_REPLY
    return None
