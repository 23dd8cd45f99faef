"""Reading the mailboxes (casework.mailboxes) against a real Dovecot and a real Maildir (issue 15).

What a federation would notice: a member's e-mail becomes one case of their cooperative, the
message is marked in the mailbox only once that case exists, a second or concurrent reading makes
nothing twice, a mail server that refuses or is away is written on the mailbox (never raised),
and a PEC case is answered from the PEC mailbox's own SMTP server.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

import psycopg
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, connections
from django.utils import timezone, translation

from casework import demo, mailboxes
from casework.models import Case, InboundEmail, Mailbox, Notification
from casework.outbox import deliver_pending
from casework.services.mail_intake import mail_take
from casework.tasks import poll_mailboxes
from tests.mailservers import _free_port
from tests.smtp_servers import Mailbox as Received
from tests.smtp_servers import SmtpServer
from workflows import process

pytestmark = pytest.mark.django_db
transactional = pytest.mark.django_db(transaction=True)

TAKEN = {"$SportelloTaken", "\\Seen"}


def _message(
    *,
    sender: str = "socio@example.org",
    subject: str = "Richiesta di parere sul contratto",
    body: str = "Buongiorno, vi chiediamo un parere sul contratto di appalto.",
) -> bytes:
    """An e-mail as a member's mail program writes it (CRLF, its own Message-ID)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = f"Socio Alfa <{sender}>"
    message["To"] = "legale@federazione.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 05 Jan 2026 11:30:00 +0100"
    message["Message-ID"] = make_msgid(domain="coopalfa.example")
    message.set_content(body)
    return message.as_bytes()


def _imap_mailbox(dovecot, folder: str, **fields) -> Mailbox:
    values = {
        "name": "legale",
        "address": "legale@federazione.example",
        "kind": Mailbox.Kind.IMAP,
        "host": dovecot.host,
        "port": dovecot.port,
        "use_tls": False,
        "username": dovecot.username,
        "password": dovecot.password,
        "folder": folder,
        **fields,
    }
    return Mailbox.objects.create(**values)


def _maildir_mailbox(path, **fields) -> Mailbox:
    return Mailbox.objects.create(
        name=fields.pop("name", "inbox"), kind=Mailbox.Kind.MAILDIR, path=str(path), **fields
    )


def _email_cases():
    return Case.objects.filter(channel="email")


# --- IMAP ------------------------------------------------------------------------------------


def test_a_members_message_opens_one_case_of_the_cooperative_and_is_marked_taken(
    dovecot, imap_folder, process_setup, member, cooperative
):
    # Given a member's e-mail delivered to the legal area's mailbox,
    mailbox = _imap_mailbox(dovecot, imap_folder, area=process_setup)
    dovecot.append(imap_folder, _message())

    # when Sportello reads the mailbox,
    counts = mailboxes.poll(mailbox)

    # then a case of Cooperativa Alfa by that member came in by e-mail,
    case = _email_cases().get()
    assert (case.cooperative, case.requester, case.area) == (cooperative, member, process_setup)
    assert counts["taken"] == 1 and counts["failed"] == 0
    # the message is marked in the mailbox (Sportello's keyword, and read),
    assert dovecot.flags(imap_folder) == [TAKEN]
    # and the mailbox says when it was read, with no error and nobody holding it.
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None and mailbox.last_error == ""
    assert mailbox.polling_until is None

    # When it is read again, nothing new is made.
    again = mailboxes.poll(mailbox)
    assert again["taken"] == 0
    assert _email_cases().count() == 1
    assert InboundEmail.objects.count() == 1


def test_a_message_taken_by_a_worker_killed_before_it_marked_it_is_not_taken_twice(
    dovecot, imap_folder, process_setup, member
):
    # Given a message whose case committed, and a worker killed before it marked the message
    # (the take done, the mailbox's copy left unmarked),
    mailbox = _imap_mailbox(dovecot, imap_folder, area=process_setup)
    raw = _message()
    dovecot.append(imap_folder, raw)
    mail_take(mailbox=mailbox, raw=raw)
    assert _email_cases().count() == 1
    assert not dovecot.flags(imap_folder)[0] & {"$SportelloTaken"}

    # when the next run reads the mailbox,
    mailboxes.poll(mailbox)

    # then there is still one case, and now the message is marked.
    assert _email_cases().count() == 1
    assert InboundEmail.objects.count() == 1
    assert TAKEN <= dovecot.flags(imap_folder)[0]


def test_only_a_batch_is_read_per_run_and_the_rest_wait_for_the_next(
    dovecot, imap_folder, process_setup, member
):
    mailbox = _imap_mailbox(dovecot, imap_folder, area=process_setup)
    for n in range(3):
        dovecot.append(imap_folder, _message(subject=f"Richiesta {n}"))

    first = mailboxes.poll(mailbox, limit=2)
    assert (first["taken"], first["skipped"]) == (2, 1)
    second = mailboxes.poll(mailbox, limit=2)
    assert (second["taken"], second["skipped"]) == (1, 0)

    assert _email_cases().count() == 3
    assert all(TAKEN <= flags for flags in dovecot.flags(imap_folder))


@transactional
def test_two_polls_racing_on_one_mailbox_make_one_case(dovecot, imap_folder, process_setup, member):
    # Given one new message, and two workers reading the same mailbox at the same instant,
    mailbox = _imap_mailbox(dovecot, imap_folder, area=process_setup)
    dovecot.append(imap_folder, _message())
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            start.wait(timeout=10)
            results.append(mailboxes.poll(Mailbox.objects.get(pk=mailbox.pk)))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then one case, the message taken once, and neither run failed.
    assert errors == []
    assert _email_cases().count() == 1
    assert InboundEmail.objects.count() == 1
    assert sum(result["taken"] for result in results) == 1
    assert TAKEN <= dovecot.flags(imap_folder)[0]


def test_a_mailbox_held_by_a_killed_run_is_read_again_once_its_lease_runs_out(
    dovecot, imap_folder, process_setup, member
):
    # Given a run that took the mailbox and was killed (its lease still running),
    mailbox = _imap_mailbox(dovecot, imap_folder, area=process_setup)
    dovecot.append(imap_folder, _message())
    now = timezone.now()
    Mailbox.objects.filter(pk=mailbox.pk).update(polling_until=now + mailboxes.LEASE)

    # a run meanwhile leaves it alone,
    assert mailboxes.poll(mailbox)["busy"] == 1
    assert not _email_cases().exists()

    # and once the lease ran out the next run reads it.
    with time_machine.travel(now + mailboxes.LEASE + timedelta(seconds=1), tick=False):
        assert mailboxes.poll(mailbox)["taken"] == 1
    assert _email_cases().count() == 1


def test_a_wrong_password_is_written_on_the_mailbox_and_raises_nothing(
    dovecot, imap_folder, process_setup, member
):
    mailbox = _imap_mailbox(dovecot, imap_folder, area=process_setup, password="sbagliata")
    dovecot.append(imap_folder, _message())

    # Through the periodic task, as beat runs it: it ends without an error.
    counts = poll_mailboxes.delay().get()

    assert counts == {"legale": {"taken": 0, "failed": 0, "skipped": 0, "busy": 0}}
    mailbox.refresh_from_db()
    assert "Authentication failed" in mailbox.last_error
    assert mailbox.last_polled_at is not None and mailbox.polling_until is None
    assert not _email_cases().exists()
    assert dovecot.flags(imap_folder) == [set()]

    # Once the password is put right, the next run takes the message and clears the error.
    Mailbox.objects.filter(pk=mailbox.pk).update(password=dovecot.password)
    poll_mailboxes.delay().get()
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
    assert _email_cases().count() == 1


def test_a_mail_server_that_is_away_is_written_on_the_mailbox(process_setup):
    mailbox = Mailbox.objects.create(
        name="spenta",
        kind=Mailbox.Kind.IMAP,
        host="127.0.0.1",
        port=_free_port(),  # nothing listens there
        use_tls=False,
        username="sportello",
        password="x",
    )

    assert mailboxes.poll(mailbox)["taken"] == 0

    mailbox.refresh_from_db()
    assert "ConnectionRefusedError" in mailbox.last_error


def test_only_enabled_mailboxes_are_read(dovecot, imap_folder, process_setup, member):
    _imap_mailbox(dovecot, imap_folder, area=process_setup, is_enabled=False)
    dovecot.append(imap_folder, _message())

    assert poll_mailboxes.delay().get() == {}
    assert not _email_cases().exists()


def test_an_imap_server_over_tls_is_read_when_its_certificate_is_trusted(
    dovecot, imap_folder, process_setup, member, monkeypatch
):
    # Given the TLS listener with its self-signed certificate,
    mailbox = _imap_mailbox(
        dovecot, imap_folder, area=process_setup, use_tls=True, port=dovecot.tls_port
    )
    with dovecot.client(imap_folder, tls=True) as box:
        box.append(_message(), imap_folder)

    # a worker that does not trust it refuses to log in, and says why,
    assert mailboxes.poll(mailbox)["taken"] == 0
    mailbox.refresh_from_db()
    assert "CERTIFICATE_VERIFY_FAILED" in mailbox.last_error
    assert not _email_cases().exists()

    # and one given the certificate's authority (OpenSSL's SSL_CERT_FILE) reads the mailbox.
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.certificate))
    assert mailboxes.poll(mailbox)["taken"] == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
    assert _email_cases().count() == 1


# --- Maildir ---------------------------------------------------------------------------------


def test_a_message_dropped_into_new_opens_a_case_and_moves_to_cur_as_seen(
    settings, tmp_path, process_setup, member, cooperative
):
    # Given the embedded default's mailbox, a relative path from the checkout whose folders do
    # not exist yet,
    settings.BASE_DIR = tmp_path
    mailbox = _maildir_mailbox("var/mail/inbox", area=process_setup)
    assert mailboxes.poll(mailbox)["taken"] == 0
    folder = tmp_path / "var" / "mail" / "inbox"
    assert {sub.name for sub in folder.iterdir()} == {"new", "cur", "tmp"}

    # when a .eml file is dropped into new/,
    (folder / "new" / "richiesta.eml").write_bytes(_message())
    counts = mailboxes.poll(mailbox)

    # then a case of the member's cooperative is open, and the file is in cur/, seen.
    case = _email_cases().get()
    assert (case.cooperative, case.requester) == (cooperative, member)
    assert counts["taken"] == 1
    assert list((folder / "new").iterdir()) == []
    assert [file.name for file in (folder / "cur").iterdir()] == ["richiesta.eml:2,S"]

    # Reading it again makes nothing new.
    assert mailboxes.poll(mailbox)["taken"] == 0
    assert _email_cases().count() == 1


def test_cur_messages_not_seen_by_sportello_are_taken_and_seen_ones_are_left(
    tmp_path, process_setup, member
):
    mailbox = _maildir_mailbox(tmp_path / "inbox", area=process_setup)
    mailboxes.maildir_create(tmp_path / "inbox")
    cur = tmp_path / "inbox" / "cur"
    # A mail program moved one to cur/ without reading it (flag F only); one is already seen.
    (cur / "1767600000.M1P1.host:2,F").write_bytes(_message(subject="Spostato"))
    (cur / "1767600001.M2P1.host:2,S").write_bytes(_message(subject="Già letto"))

    assert mailboxes.poll(mailbox)["taken"] == 1

    assert list(_email_cases().values_list("subject", flat=True)) == ["Spostato"]
    assert sorted(file.name for file in cur.iterdir()) == [
        "1767600000.M1P1.host:2,FS",
        "1767600001.M2P1.host:2,S",
    ]


@transactional
def test_a_message_whose_take_meets_a_database_away_stays_in_new(tmp_path, process_setup, member):
    # Given a message in new/, and the incoming e-mails' table locked by someone else while
    # this worker waits at most 200 ms for a lock (the database refuses: an OperationalError),
    mailbox = _maildir_mailbox(tmp_path / "inbox", area=process_setup)
    mailboxes.maildir_create(tmp_path / "inbox")
    (tmp_path / "inbox" / "new" / "richiesta.eml").write_bytes(_message())
    test_db = connection.settings_dict
    other = psycopg.connect(
        dbname=test_db["NAME"],
        user=test_db["USER"],
        host=test_db["HOST"],
        port=test_db["PORT"],
        password=test_db["PASSWORD"] or None,
    )
    try:
        other.execute(f"LOCK TABLE {InboundEmail._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")

        # when the mailbox is read, the run ends with the database's error (the task retries),
        with pytest.raises(OperationalError):
            mailboxes.poll(mailbox)
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    # and the message is still in new/, the mailbox given back, no case made.
    assert [file.name for file in (tmp_path / "inbox" / "new").iterdir()] == ["richiesta.eml"]
    mailbox.refresh_from_db()
    assert mailbox.polling_until is None
    assert not _email_cases().exists()

    # Once the database answers, the next run takes it.
    assert mailboxes.poll(mailbox)["taken"] == 1
    assert os.listdir(tmp_path / "inbox" / "new") == []
    assert _email_cases().count() == 1


# --- PEC answers -----------------------------------------------------------------------------


def test_a_pec_case_is_answered_from_the_pec_mailboxs_own_smtp_server(
    settings, open_case, consultant, member, cooperative
):
    with SmtpServer(Received()) as site, SmtpServer(Received()) as provider:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", site.port
        settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = (
            False,
            "",
            "",
        )
        # Given a case that came through the PEC mailbox,
        pec = Mailbox.objects.create(
            name="pec",
            address="sportello@pec.federazione.example",
            kind=Mailbox.Kind.IMAP,
            host="imap.pec.example",
            username="sportello",
            is_pec=True,
            smtp_host="127.0.0.1",
            smtp_port=provider.port,
            smtp_use_ssl=False,
            smtp_username="",
            smtp_password="",
        )
        case = open_case(channel="pec")
        InboundEmail.objects.create(
            mailbox=pec,
            header_message_id="inner@coopalfa.example",
            status=InboundEmail.Status.OPENED,
            from_address=member.email,
            case=case,
            is_pec=True,
        )
        deliver_pending()  # the e-mails of the opening
        provider.mailbox.messages.clear()
        site.mailbox.messages.clear()
        connections_before = (site.connections, provider.connections)

        # when the consultant answers, and the cooperative writes again,
        process.case_post_message(case=case, author=consultant, body="Ecco il nostro parere.")
        process.case_post_message(case=case, author=member, body="Grazie, un'ultima domanda.")
        assert deliver_pending()["failed"] == 0
        # (one batch: one connection to each server)
        assert (site.connections, provider.connections) == (
            connections_before[0] + 1,
            connections_before[1] + 1,
        )

    # then the answer left from the PEC mailbox's server, From its address, to the member,
    answers = provider.mailbox.messages
    assert [message["To"] for message in answers] == [member.email]
    assert answers[0]["From"] == "sportello@pec.federazione.example"
    assert case.reference in answers[0]["Subject"]
    # and what staff get about the case left from the site's server, as always.
    assert [message["To"] for message in site.mailbox.messages] == [consultant.email]
    assert "pec.federazione" not in site.mailbox.messages[0]["From"]
    rows = Counter(
        Notification.objects.filter(case=case, status="sent").values_list("mailbox", flat=True)
    )
    assert rows[pec.pk] >= 1 and rows[None] >= 1


# --- The embedded default --------------------------------------------------------------------


def test_the_demo_inbox_opens_a_case_of_cooperativa_alfa_from_a_dropped_eml(settings, tmp_path):
    # Given `make run`'s seed, with the checkout (and its var/) in a temporary folder,
    settings.BASE_DIR, settings.VAR_DIR = tmp_path, tmp_path / "var"
    with translation.override("en"):
        demo.seed_registry()
        demo.seed_registry()  # a second run finds it there
    inbox = Mailbox.objects.get()
    assert (inbox.name, inbox.kind, inbox.path, inbox.area) == (
        "inbox",
        "maildir",
        "var/mail/inbox",
        None,
    )
    folder = tmp_path / "var" / "mail" / "inbox"
    assert {sub.name for sub in folder.iterdir()} == {"new", "cur", "tmp"}

    # when a .eml written from socio.alfa's address is copied into new/ and the scheduler runs,
    alfa = get_user_model().objects.get(username="socio.alfa")
    (folder / "new" / "richiesta.eml").write_bytes(_message(sender=alfa.email))
    assert poll_mailboxes.delay().get()["inbox"]["taken"] == 1

    # then a case of Cooperativa Alfa is there, by e-mail, and the file was moved to cur/.
    case = _email_cases().get()
    assert (case.cooperative.name, case.requester) == ("Cooperativa Alfa", alfa)
    assert [file.name for file in (folder / "cur").iterdir()] == ["richiesta.eml:2,S"]
