"""Helpers of the people-and-accounts tests (password reset, invitations, leaving a cooperative):
the outbox delivered, the e-mails read, browsers in English.

The e-mails are sent by the real outbox (`deliver_pending`) into Django's test mailbox.
"""

from __future__ import annotations

import re
from email.header import decode_header, make_header

from django.core import mail
from django.test import Client

from casework.models import UserProfile
from casework.outbox import deliver_pending

PASSWORD = "sportello-test"
NEW_PASSWORD = "Girasole-Blu-2031"
LINK = re.compile(r"https?://\S+")


def deliver() -> list:
    """Send the outbox; the e-mails that left, as the mail server got them."""
    before = len(mail.outbox)
    deliver_pending()
    return [sent.message() for sent in mail.outbox[before:]]


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body_of(message) -> str:
    return message.get_payload(decode=True).decode()


def link_in(message) -> str:
    """The path of the first link of the e-mail (the site's base URL cut off)."""
    url = LINK.search(body_of(message)).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def speaks(user, language: str) -> None:
    UserProfile.objects.update_or_create(user=user, defaults={"language": language})


def browser(user=None, *, address: str = "192.0.2.50") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=address)
    client.cookies["django_language"] = "en"
    if user is not None:
        client.force_login(user)
    return client
