"""Auto-replies, bounces and Sportello's own mail open nothing and get no answer."""

import pytest

from casework.inbound.classify import (
    AUTO_REPLY,
    BOUNCE,
    OWN,
    is_auto_reply,
    is_bounce,
    is_own,
    why_ignored,
)
from casework.inbound.parse import parse
from tests.inbound import sample


def with_headers(name: str, *headers: str) -> bytes:
    """A sample with headers added on top, as a relay or a responder adds them."""
    return "".join(f"{header}\r\n" for header in headers).encode() + sample(name)


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "Auto-Submitted: auto-notified; owner-email=x@y.example",
        "X-Autoreply: yes",
        "X-Autorespond: Sono in ferie",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: list",
        "Precedence: Bulk",
    ],
)
def test_auto_replies_are_recognised(header):
    incoming = parse(with_headers("reply_english.eml", header))

    assert is_auto_reply(incoming)
    assert why_ignored(incoming) == AUTO_REPLY


@pytest.mark.parametrize(
    "header",
    ["Auto-Submitted: no", "Auto-Submitted: No", "Precedence: first-class", "X-Autoreply: no"],
)
def test_a_person_writing_is_not_an_auto_reply(header):
    incoming = parse(with_headers("reply_english.eml", header))

    assert not is_auto_reply(incoming)
    assert why_ignored(incoming) is None


def test_an_out_of_office_sample_is_an_auto_reply():
    assert why_ignored(parse(sample("auto_replied.eml"))) == AUTO_REPLY


def test_a_delivery_status_notification_is_a_bounce():
    incoming = parse(sample("bounce_dsn.eml"))

    assert is_bounce(incoming)
    assert incoming.report_type == "delivery-status"
    # Marked Auto-Submitted too, it is named for what it is.
    assert why_ignored(incoming) == BOUNCE


@pytest.mark.parametrize(
    "headers",
    [
        ("From: MAILER-DAEMON@mx.example",),
        ("From: Mail System <postmaster@mx.example>",),
        ("Return-Path: <>",),
        ("Return-Path: < >",),
        ("X-Failed-Recipients: nessuno@coopalfa.example",),
    ],
)
def test_bounces_by_sender_or_null_return_path(headers):
    raw = b"".join(f"{line}\r\n".encode() for line in headers) + b"Subject: failure\r\n\r\nx"

    assert why_ignored(parse(raw)) == BOUNCE


def test_a_read_receipt_is_an_auto_reply():
    raw = (
        b"From: socio.alfa@coopalfa.example\r\nSubject: Letto: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nLetto.\r\n--b\r\n"
        b"Content-Type: message/disposition-notification\r\n\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--b--\r\n"
    )

    assert why_ignored(parse(raw)) == AUTO_REPLY


def test_sportellos_own_mail_coming_back_is_own():
    incoming = parse(sample("own_notification.eml"))

    assert is_own(incoming)
    assert why_ignored(incoming) == OWN
    assert not is_own(parse(sample("reply_english.eml")))
    assert is_own(incoming, own_header="X-Sportello-Notification")
    assert not is_own(incoming, own_header="X-Sportello-Other")


def test_an_ordinary_reply_is_not_ignored():
    assert why_ignored(parse(sample("reply_italian.eml"))) is None
