"""`manage.py ingest_email`: one message from a pipe, one line saying what it became.

As an MTA alias runs it: the message on standard input, exit status 0 once it is recorded
(whatever it became), 2 with one `CommandError:` line for a bad mailbox or no message.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from casework.models import Case, InboundEmail, Mailbox

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _message(*, sender="socio@example.org", message_id="<richiesta-1@coopalfa.example>", **headers):
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = "sportello@federazione.example"
    message["Subject"] = "Richiesta di parere"
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Buongiorno, vi chiediamo un parere sullo statuto.")
    return message.as_bytes()


def _maildir(name="inbox", **fields) -> Mailbox:
    return Mailbox.objects.create(
        name=name, kind=Mailbox.Kind.MAILDIR, path=f"var/mail/{name}", **fields
    )


def ingest(raw: bytes, *args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("ingest_email", *args, stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue()


def test_a_members_message_opens_a_case_and_says_its_reference(process_setup, member):
    mailbox = _maildir(area=process_setup)

    said = ingest(_message())

    case = Case.objects.get()
    assert said == f"opened case {case.reference}\n"
    assert (case.channel, case.requester, case.cooperative) == (
        "email",
        member,
        member.memberships.get().cooperative,
    )
    assert InboundEmail.objects.get().mailbox == mailbox


def test_the_same_message_piped_twice_is_one_case(process_setup, member):
    _maildir(area=process_setup)

    first = ingest(_message())
    second = ingest(_message())

    assert first == second
    assert Case.objects.count() == 1
    assert InboundEmail.objects.count() == 1


def test_a_reply_with_the_reference_in_the_subject_is_added_to_its_case(open_case, member):
    case = open_case()
    _maildir(area=case.area)

    reply = EmailMessage(policy=SMTP)
    reply["From"] = member.email
    reply["Subject"] = f"Re: [{case.reference}] Modifica dello statuto"
    reply["Message-ID"] = "<risposta@coopalfa.example>"
    reply.set_content("Ecco il verbale richiesto.")

    assert ingest(reply.as_bytes(), "--mailbox", "inbox") == f"added to {case.reference}\n"
    assert case.messages.filter(author=member, body__contains="verbale").exists()


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({"Auto_Submitted": "auto-replied"}, "ignored: Automatic reply\n"),
        ({}, "waiting for a supervisor\n"),
    ],
    ids=["auto-reply", "unknown-sender"],
)
def test_what_opens_no_case_is_said_too(process_setup, headers, says):
    _maildir(area=process_setup)

    sender = "fuori@altrove.example"
    assert ingest(_message(sender=sender, **headers)) == says
    assert not Case.objects.exists()
    assert InboundEmail.objects.count() == 1


@pytest.mark.parametrize(
    ("mailboxes", "args", "raw", "says"),
    [
        (
            ["inbox"],
            ["--mailbox", "fiscale"],
            b"x",
            r"Unknown mailbox 'fiscale' \(enabled: inbox\)",
        ),
        (["inbox", "-spenta"], ["--mailbox", "spenta"], b"x", "Mailbox 'spenta' is disabled"),
        (["inbox", "legale"], [], b"x", "give --mailbox, one of: inbox, legale"),
        ([], [], b"x", "No mailbox is enabled"),
        (["-spenta"], [], b"x", "No mailbox is enabled"),
        (["inbox"], [], b"", "No message on standard input"),
        (["inbox"], [], b" \r\n\r\n", "No message on standard input"),
    ],
    ids=["unknown", "disabled", "several", "none", "only-disabled", "empty", "blank"],
)
def test_a_bad_mailbox_or_no_message_is_one_line_and_exit_2(mailboxes, args, raw, says):
    for name in mailboxes:
        _maildir(name.lstrip("-"), is_enabled=not name.startswith("-"))

    with pytest.raises(CommandError, match=says) as refused:
        ingest(raw, *args)

    assert refused.value.returncode == 2
    assert "\n" not in str(refused.value)
    assert not InboundEmail.objects.exists()


def test_through_manage_py_from_a_pipe(tmp_path):
    # The command as an MTA runs it: its own process, the message on standard input, on the
    # embedded default's SQLite database (migrated here) with one mailbox.
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("DATABASE_URL", "CELERY_BROKER_URL", "TEST_DATABASE_NAME", "SPORTELLO_TESTING")
    }
    env.update(
        DEBUG="1",
        SPORTELLO_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="casework.config.settings",
    )

    def manage(*args, stdin=b""):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            timeout=600,
        )

    assert manage("migrate", "--noinput", "-v0").returncode == 0
    create = (
        "from casework.models import Mailbox; "
        "Mailbox.objects.create(name='inbox', kind='maildir', path='var/mail/inbox')"
    )
    assert manage("shell", "-c", create).returncode == 0

    taken = manage("ingest_email", stdin=_message(sender="fuori@altrove.example"))
    assert taken.returncode == 0, taken.stderr
    assert len(taken.stdout.decode().splitlines()) == 1
    status = "from casework.models import InboundEmail; print(InboundEmail.objects.get().status)"
    assert manage("shell", "-c", status).stdout.decode().splitlines()[-1] == "unmatched"

    empty = manage("ingest_email", "--mailbox", "inbox")
    assert empty.returncode == 2
    assert empty.stdout == b""
    assert empty.stderr.decode().count("\n") == 1
    assert empty.stderr.decode().startswith("CommandError: ")


def test_a_message_file_is_taken_as_from_a_pipe(process_setup, member, tmp_path):
    _maildir(area=process_setup)
    message = tmp_path / "message.eml"
    message.write_bytes(_message())

    out = io.StringIO()
    with translation.override("en"):
        call_command("ingest_email", "--mailbox", "inbox", str(message), stdout=out)

    case = Case.objects.get()
    assert out.getvalue() == f"opened case {case.reference}\n"


def test_a_missing_message_file_is_one_line_error(process_setup, tmp_path):
    _maildir(area=process_setup)

    with translation.override("en"), pytest.raises(CommandError, match="Cannot read"):
        call_command("ingest_email", "--mailbox", "inbox", str(tmp_path / "none.eml"))
    assert not InboundEmail.objects.exists()


def test_a_mailbox_without_an_area_leaves_new_cases_to_a_supervisors_triage(
    process_setup, member, consultant
):
    # The only area would route the case at once (its default priority decides it), but nobody
    # chose it: mail to a mailbox without an area is triaged by a supervisor.
    assert process_setup.default_priority
    _maildir()

    said = ingest(_message())

    case = Case.objects.get()
    assert said == f"opened case {case.reference}\n"
    assert case.status == "triage"
    assert case.assignee is None
