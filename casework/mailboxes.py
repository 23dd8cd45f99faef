"""Reading the mailboxes: each message of a Maildir or an IMAP folder taken once, then marked.

`poll(mailbox)` reads one mailbox, one run at a time: a run first takes the mailbox with one
UPDATE (`Mailbox.polling_until`, a lease that a killed worker holds only until it runs out), and
a second run that finds it taken returns at once. Each message goes to `mail_take`, which writes
what it became in its own transaction, exactly once per Message-ID; only after it returned (its
transaction committed) is the mailbox's copy marked, so a worker killed in between leaves the
message unmarked and the next run's `mail_take` finds the row it wrote and makes nothing twice.

- A Maildir: a message in `new/` (or in `cur/` without the `S` flag) is moved to `cur/` with
  `S` once taken. The files are listed and renamed by the Maildir convention rather than through
  `mailbox.Maildir`'s message objects, which before Python 3.13 change a flag only by rewriting
  the whole file.
- IMAP (imap-tools): the messages without Sportello's keyword `$SportelloTaken` are fetched with
  PEEK (the server does not mark them read), and get the keyword and `\\Seen` once taken. The
  keyword rather than UNSEEN: a person who reads the mailbox in a mail program marks messages
  seen, and UNSEEN would then skip them for ever. A server that cannot store keywords falls
  back to UNSEEN and `\\Seen`.

A message whose take failed (the row says `failed`, or `mail_take` raised something it should
not have) stays unmarked and is taken again by the next run, up to `ATTEMPTS` times; then it is
marked and waits as `failed` for a supervisor (the row keeps the original). A database that is
away ends the run (the task retries it) with the message unmarked. A mail server that cannot be
reached, or refuses the login, is written in `last_error` and never raised.

The certificates of an IMAP server over TLS are checked against the system's authorities; a
private authority is given to the workers with OpenSSL's own `SSL_CERT_FILE`.
"""

from __future__ import annotations

import imaplib
import logging
import mailbox as stdlib_mailbox
import os
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models import Q
from django.utils import timezone
from imap_tools import MailBox, MailBoxUnencrypted, MailMessage
from imap_tools.errors import ImapToolsError

from .models import InboundEmail, Mailbox
from .services.mail_intake import mail_take

log = logging.getLogger(__name__)

# A run of the periodic task stops at its hard time limit; the lease outlasts it, so a live run
# never loses its mailbox to another, and a killed one holds it at most this long.
RUN_TIME_LIMIT = 270
RUN_SOFT_TIME_LIMIT = 240
LEASE = timedelta(seconds=RUN_TIME_LIMIT + 30)
# Messages read per mailbox and run; the rest wait for the next run, a minute later.
BATCH = 200
TAKEN = "$SportelloTaken"
# Takes of a message that keep failing before its copy is marked all the same.
ATTEMPTS = 5
SEEN = "\\Seen"

# The mail server's side: unreachable, TLS, timeouts, refused login or folder, protocol errors.
MAIL_SERVER_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError)
# What must end the run rather than be recorded: the database away (the task retries), the
# task's time running out.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, SoftTimeLimitExceeded)


def poll_all() -> dict[str, dict[str, int]]:
    """Read every enabled mailbox once (the periodic task); the counts per mailbox name."""
    return {mailbox.name: poll(mailbox) for mailbox in Mailbox.objects.filter(is_enabled=True)}


def poll(mailbox: Mailbox, *, limit: int = BATCH) -> dict[str, int]:
    """Take what is new in one mailbox: counts `taken`, `failed` (left to retry), `skipped`
    (left for the next run: the batch was full) and `busy` (1: another run holds the mailbox).

    Never raises for the mail server or a message; only the infrastructure errors end it.
    """
    counts = {"taken": 0, "failed": 0, "skipped": 0, "busy": 0}
    if not _lease(mailbox):
        counts["busy"] = 1
        return counts
    problem = ""
    finished = False
    try:
        reader = _read_maildir if mailbox.kind == Mailbox.Kind.MAILDIR else _read_imap
        problem = reader(mailbox, counts=counts, limit=limit)
        finished = True
    except INFRASTRUCTURE_ERRORS:
        raise
    except MAIL_SERVER_ERRORS as error:
        log.warning("mailbox %s could not be read: %s", mailbox.name, _describe(error))
        problem, finished = _describe(error), True
    except Exception as error:  # noqa: BLE001 - nothing raises out of a poll: it is recorded
        log.exception("mailbox %s: reading failed", mailbox.name)
        problem, finished = _describe(error), True
    finally:
        _release(mailbox, problem=problem, finished=finished)
    return counts


def _lease(mailbox: Mailbox) -> bool:
    """Take the mailbox for this run, committed at once; False when another run holds it."""
    now = timezone.now()
    free = Q(polling_until__isnull=True) | Q(polling_until__lt=now)
    return bool(Mailbox.objects.filter(free, pk=mailbox.pk).update(polling_until=now + LEASE))


def _release(mailbox: Mailbox, *, problem: str, finished: bool) -> None:
    """Give the mailbox back; a finished run also says when it read and what went wrong."""
    fields = {"polling_until": None}
    if finished:
        fields.update(last_polled_at=timezone.now(), last_error=problem[:2000])
    try:
        Mailbox.objects.filter(pk=mailbox.pk).update(**fields)
    except DatabaseError:
        if finished:
            raise
        # Already on the way out with the database's error: the lease runs out by itself.
        log.warning("mailbox %s: lease not given back (it runs out by itself)", mailbox.name)
    for name, value in fields.items():
        setattr(mailbox, name, value)


def _take(mailbox: Mailbox, raw: bytes, *, received_at, where: str, counts) -> tuple[bool, str]:
    """One message to `mail_take`: whether to mark it taken, and what to tell the admin."""
    try:
        inbound = mail_take(mailbox=mailbox, raw=raw, received_at=received_at)
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001 - a bug must not hold the other messages up
        log.exception("mailbox %s: message %s could not be taken", mailbox.name, where)
        counts["failed"] += 1
        return False, f"{where}: {_describe(error)}"
    if inbound.status == InboundEmail.Status.FAILED:
        # Recorded with its error on the row (the admin lists it): the copy stays, to be taken
        # again by the next runs; after ATTEMPTS it is marked, and waits in Sportello (the row
        # keeps the original) for a supervisor to link or discard it.
        counts["failed"] += 1
        return inbound.attempts >= ATTEMPTS, ""
    counts["taken"] += 1
    return True, ""


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".strip()


# --- Maildir -------------------------------------------------------------------------------------


def maildir_path(mailbox: Mailbox) -> Path:
    """The mailbox's folder: a relative path starts at the checkout (settings.BASE_DIR)."""
    path = Path(mailbox.path).expanduser()
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def maildir_create(path: Path) -> None:
    """The folder with its new/, cur/ and tmp/, as a mail program expects it (no error if there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stdlib_mailbox.Maildir(path, create=True)  # the folders, mode 0700, when there is none
    for sub in ("new", "cur", "tmp"):  # and those a folder made by hand lacks
        (path / sub).mkdir(exist_ok=True)


def _read_maildir(mailbox: Mailbox, *, counts, limit: int) -> str:
    path = maildir_path(mailbox)
    maildir_create(path)
    waiting = _maildir_waiting(path)
    counts["skipped"] = max(0, len(waiting) - limit)
    problems = []
    for file in waiting[:limit]:
        try:
            raw = file.read_bytes()
            received_at = datetime.fromtimestamp(file.stat().st_mtime, tz=UTC)
        except FileNotFoundError:
            continue  # moved away meanwhile (by a person): nothing to take
        marked, problem = _take(
            mailbox, raw, received_at=received_at, where=file.name, counts=counts
        )
        if problem:
            problems.append(problem)
        if marked:
            _maildir_mark_seen(path, file)
    return "; ".join(problems)


def _maildir_waiting(path: Path) -> list[Path]:
    """The messages not taken yet, oldest first: all of new/, and cur/'s without the S flag.

    A Maildir file name is `unique[:2,flags]`; names starting with a dot are not messages.
    """
    waiting = []
    for sub in ("new", "cur"):
        with os.scandir(path / sub) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                if sub == "cur" and "S" in _maildir_flags(entry.name):
                    continue
                waiting.append((entry.stat().st_mtime, entry.name, Path(entry.path)))
    return [file for _mtime, _name, file in sorted(waiting)]


def _maildir_flags(name: str) -> str:
    _unique, _colon, info = name.partition(":")
    return info[2:] if info.startswith("2,") else ""


def _maildir_mark_seen(path: Path, file: Path) -> None:
    """Move a taken message to cur/ with the S flag (flags kept, in ASCII order)."""
    unique = file.name.partition(":")[0]
    flags = "".join(sorted(set(_maildir_flags(file.name)) | {"S"}))
    try:
        file.rename(path / "cur" / f"{unique}:2,{flags}")
    except FileNotFoundError:
        pass  # moved away meanwhile: it is taken all the same (its row says so)


# --- IMAP ----------------------------------------------------------------------------------------


class _Fetched(MailMessage):
    """A fetched message as the server holds it, bytes and all (`mail_take` does the parsing)."""

    def __init__(self, fetch_data: list) -> None:
        self.raw, self._raw_uid_data, self._raw_flag_data = self._get_message_data_parts(fetch_data)


class _ImapOverTls(MailBox):
    email_message_class = _Fetched


class _ImapPlain(MailBoxUnencrypted):
    email_message_class = _Fetched


def imap_connect(mailbox: Mailbox) -> MailBox | MailBoxUnencrypted:
    """A logged-in IMAP session on the mailbox's folder (TLS from the start, or plain)."""
    if mailbox.use_tls:
        client = _ImapOverTls(
            mailbox.host,
            mailbox.port,
            timeout=settings.EMAIL_TIMEOUT,
            ssl_context=ssl.create_default_context(),
        )
    else:
        client = _ImapPlain(mailbox.host, mailbox.port, timeout=settings.EMAIL_TIMEOUT)
    try:
        client.login(mailbox.username, mailbox.password, initial_folder=mailbox.folder)
    except BaseException:
        _close(client)
        raise
    return client


def _read_imap(mailbox: Mailbox, *, counts, limit: int) -> str:
    client = imap_connect(mailbox)
    try:
        keyword = _keeps_keywords(client)
        uids = client.uids(f"UNKEYWORD {TAKEN}" if keyword else "UNSEEN")
        counts["skipped"] = max(0, len(uids) - limit)
        batch = uids[:limit]
        if not batch:
            return ""  # (an empty uid_list would make imap-tools fetch ALL)
        marks = f"({TAKEN} {SEEN})" if keyword else f"({SEEN})"
        problems = []
        # One FETCH per message: a 30 MB message is in memory alone.
        for message in client.fetch(uid_list=batch, mark_seen=False, bulk=False):
            marked, problem = _take(
                mailbox, message.raw, received_at=None, where=f"UID {message.uid}", counts=counts
            )
            if problem:
                problems.append(problem)
            if marked:
                # STORE itself: imap-tools' flag() also EXPUNGEs, which would delete for good
                # what a person only marked \Deleted.
                result = client.client.uid("STORE", message.uid, "+FLAGS.SILENT", marks)
                if result[0] != "OK":
                    problems.append(f"UID {message.uid}: not marked ({result[1]!r})")
        return "; ".join(problems)
    finally:
        _close(client)


def _keeps_keywords(client) -> bool:
    """Whether the selected folder stores Sportello's keyword (PERMANENTFLAGS has it or \\*)."""
    for answer in client.client.untagged_responses.get("PERMANENTFLAGS", []):
        flags = imaplib.ParseFlags(b"FLAGS " + answer) if isinstance(answer, bytes) else ()
        names = {flag.decode() for flag in flags}
        if "\\*" in names or TAKEN in names:
            return True
    return False


def _close(client) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - closing a broken session changes nothing
        try:
            client.client.shutdown()
        except Exception:  # noqa: BLE001
            pass
