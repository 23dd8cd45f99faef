"""Mail intake (issue 15): messages per second through the whole path, from a Maildir and from
a real Dovecot, each beside its floor (the same messages read and parsed, nothing taken).

Each round writes (or APPENDs) messages from a member's address: a third open new cases, a third
answer one of the loaded cases of the member's cooperative (In-Reply-To a Message-ID Sportello
wrote for it), a third answer a case opened earlier in the same round (In-Reply-To that
message's Message-ID); one in four carries a small PDF. The round is then read by
`casework.mailboxes.poll`, what the periodic task runs for each mailbox: the lease, reading,
parsing, the exactly-once row, threading and sender matching, the case opened (triage rules,
routing, viewflow) or the reply added (with its notifications and search document), the
original kept, the message marked. Everything is undone afterwards: cases, rows and files.
"""

from __future__ import annotations

import email.policy
import itertools
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from unittest import mock

from bench import measure
from bench.common import say
from bench.finding import answerable_cases
from bench.scenarios import Cast, Result

TARGET = 50  # messages per second (issue 21)
# A one-page PDF: what the upload checks accept as a document (its type read from the content).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
NEW_SUBJECTS = (
    "Bilancio di esercizio: dubbi sulla nota integrativa",
    "Ravvedimento operoso IVA del secondo trimestre",
    "Cartella esattoriale da verificare",
)
NEW_BODY = (
    "Buongiorno,\n\nvi scriviamo per un parere: {subject_lower}. Alleghiamo quanto abbiamo.\n"
    "Restiamo a disposizione per un incontro presso il vostro ufficio.\n\n"
    "Cordiali saluti\n{name}\n"
)
REPLY_BODY = (
    "Grazie della risposta, vi mandiamo i dati che ci avete chiesto.\n\n{name}\n\n"
    "Il giorno lun 1 dic 2026 alle 10:00 Sportello <sportello@localhost> ha scritto:\n"
    "> Buongiorno, abbiamo preso in carico la vostra richiesta.\n"
    "> Potete inviarci la documentazione?\n"
)


# --- The messages -------------------------------------------------------------------------------


def _message(
    *, sender: str, name: str, to: str, subject: str, body: str, parent: str | None, pdf: bool
) -> tuple[str, bytes]:
    message = EmailMessage(policy=email.policy.SMTP)
    message_id = f"{uuid.uuid4().hex}@coop.bench.example"
    message["From"] = f"{name} <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = f"<{message_id}>"
    if parent:
        message["In-Reply-To"] = f"<{parent}>"
        message["References"] = f"<{parent}>"
    message.set_content(body)
    if pdf:
        message.add_attachment(
            PDF, maintype="application", subtype="pdf", filename="bilancio_2025.pdf"
        )
    return message_id, message.as_bytes()


def round_messages(member, to: str, open_cases: list, count: int, cycle) -> list[tuple[str, bytes]]:
    """`count` messages as (kind, raw): new, a reply to a loaded case, a reply to a new one."""
    from casework import mail

    name = member.get_full_name() or member.get_username()
    messages: list[tuple[str, bytes]] = []
    opened: list[str] = []
    for index in range(count):
        kind = ("new", "reply to a loaded case", "reply in the round")[index % 3]
        if kind == "reply in the round" and not opened:
            kind = "new"
        pdf = index % 4 == 3
        if kind == "new":
            subject = NEW_SUBJECTS[index % len(NEW_SUBJECTS)]
            message_id, raw = _message(
                sender=member.email,
                name=name,
                to=to,
                subject=subject,
                body=NEW_BODY.format(subject_lower=subject.lower(), name=name),
                parent=None,
                pdf=pdf,
            )
            opened.append(message_id)
        elif kind == "reply to a loaded case":
            case = next(cycle)
            _id, raw = _message(
                sender=member.email,
                name=name,
                to=to,
                subject=f"Re: [{case.reference}] {case.subject}",
                body=REPLY_BODY.format(name=name),
                parent=mail.new_message_id(case),
                pdf=pdf,
            )
        else:
            _id, raw = _message(
                sender=member.email,
                name=name,
                to=to,
                subject="Re: la nostra richiesta",
                body=REPLY_BODY.format(name=name),
                parent=opened[-1],
                pdf=pdf,
            )
        messages.append((kind, raw))
    return messages


# --- Measuring a source -------------------------------------------------------------------------


class TakeTimes:
    """Wraps `mail_take` as `casework.mailboxes` calls it: the time of each take, and the
    statements of each when asked (untimed rounds only: capturing costs time)."""

    def __init__(self):
        from casework import mailboxes

        self.original = mailboxes.mail_take
        self.samples: list[tuple[str, float]] = []  # (status, ms)
        self.statements: dict[str, list[int]] = {}
        self.capture = False
        self.worst: dict[str, list[str]] = {}

    def __call__(self, **kwargs):
        if self.capture:
            inbound, queries = measure.captured(lambda: self.original(**kwargs))
            work = measure.work_queries(queries)
            self.statements.setdefault(inbound.status, []).append(len(work))
            if len(work) >= len(self.worst.get(inbound.status, [])):
                self.worst[inbound.status] = work
            return inbound
        started = time.perf_counter()
        inbound = self.original(**kwargs)
        self.samples.append((inbound.status, (time.perf_counter() - started) * 1000))
        return inbound


def _measure(
    cast_: Cast,
    *,
    label: str,
    make_mailbox,
    deliver,
    floor,
    messages: int,
    rounds: int,
    warmup: int,
) -> Result:
    """Rounds of `messages` delivered (untimed), then polled (timed); floor(raws) -> seconds."""
    from casework import mailboxes
    from casework.models import InboundEmail, PracticeArea

    result = Result(
        name=f"mail intake {label}",
        target=f">= {TARGET} messages/s (issue 21)",
        unit="msg/s",
    )
    member = cast_.member
    area = PracticeArea.objects.get(code="fiscal")
    snapshot = measure.Snapshot.take()
    open_cases = answerable_cases(cast_, 200)
    cycle = itertools.cycle(open_cases)
    times = TakeTimes()
    rates, floor_rates, kinds, outcomes = [], [], {}, {}
    mailbox = make_mailbox(area)
    try:
        with (
            measure.case_rows_kept([case.pk for case in open_cases]),
            mock.patch.object(mailboxes, "mail_take", times),
        ):
            for index in range(rounds + 1):
                count = warmup if index == 0 else messages
                batch = round_messages(member, mailbox.address, open_cases, count, cycle)
                raws = [raw for _kind, raw in batch]
                if index:
                    for kind, _raw in batch:
                        kinds[kind] = kinds.get(kind, 0) + 1
                deliver(mailbox, raws, index)
                if index == 0:
                    times.capture = True  # the warm-up round: statements of each path
                floor_seconds = floor(mailbox, raws) if index else None
                started = time.perf_counter()
                counts = mailboxes.poll(mailbox, limit=len(raws))
                seconds = time.perf_counter() - started
                times.capture = False
                if counts["taken"] != len(raws):
                    raise RuntimeError(f"{label}: poll took {counts} of {len(raws)} messages")
                if index:
                    rates.append(len(raws) / seconds)
                    floor_rates.append(len(raws) / floor_seconds)
            statuses = InboundEmail.objects.filter(mailbox=mailbox).values_list("status", flat=True)
            for status in statuses:
                outcomes[status] = outcomes.get(status, 0) + 1
    finally:
        removed = snapshot.restore()
        InboundEmail.objects.filter(mailbox=mailbox).delete()
        mailbox.delete()
        say(f"  {label}: removed what it added ({removed})")
    result.median = round(statistics.median(rates), 1)
    result.p95 = round(min(rates), 1)  # the slowest round
    result.floor = round(statistics.median(floor_rates), 1)
    by_status: dict[str, list[float]] = {}
    for status, ms in times.samples:
        by_status.setdefault(status, []).append(ms)
    per_path = {
        status: {
            "messages": len(samples),
            "median_ms": round(statistics.median(samples), 2),
            "statements": max(times.statements.get(status, [0])),
        }
        for status, samples in sorted(by_status.items())
    }
    result.queries = " / ".join(
        f"{path['statements']} {status}" for status, path in per_path.items()
    )
    result.sql = times.worst.get("opened", [])
    result.rows = len(times.samples)
    result.extra.update(
        {
            "rounds": rounds,
            "messages_per_round": messages,
            "rates": [round(rate, 1) for rate in rates],
            "per_path": per_path,
            "kinds": kinds,
            "outcomes": outcomes,
            "floor_rates": [round(rate) for rate in floor_rates],
            "statements_by_table_opened": _by_table(times.worst.get("opened", [])),
        }
    )
    result.passed = result.median >= TARGET
    taking = statistics.median(ms for _status, ms in times.samples)
    result.notes.append(
        f"{rounds} rounds of {messages} messages ({', '.join(f'{k} {v}' for k, v in kinds.items())}"
        f"): {', '.join(f'{rate:.1f}' for rate in rates)} msg/s; a take's median {taking:.1f} ms "
        + "; ".join(
            f"{status} {path['median_ms']} ms, {path['statements']} statements"
            for status, path in per_path.items()
        )
    )
    wrong = {status: n for status, n in outcomes.items() if status not in ("opened", "replied")}
    if wrong:
        result.passed = False
        result.notes.append(f"messages that became neither a case nor a reply: {wrong}")
    return result


def _by_table(queries: list[str]) -> dict[str, int]:
    from bench.scenarios import statements_by_table

    return statements_by_table(queries)


def _parse_all(raws: list[bytes]) -> None:
    from casework.inbound.parse import parse

    for raw in raws:
        parse(raw)


# --- From a Maildir -----------------------------------------------------------------------------


def maildir(cast_: Cast, *, messages: int = 60, rounds: int = 3, warmup: int = 9) -> Result:
    from casework import mailboxes
    from casework.models import Mailbox

    root = Path(tempfile.mkdtemp(prefix="sportello-bench-maildir-"))

    def make_mailbox(area):
        return Mailbox.objects.create(
            name=f"bench maildir {os.getpid()}",
            kind=Mailbox.Kind.MAILDIR,
            path=str(root / "inbox"),
            address="fiscale@federazione.bench.example",
            area=area,
            is_enabled=False,  # read here only, never by a beat that might run
        )

    def deliver(mailbox, raws, index):
        path = Path(mailbox.path)
        mailboxes.maildir_create(path)
        moment = time.time() - 3600
        for number, raw in enumerate(raws):
            # As a mail server delivers: written in tmp/, then moved into new/.
            name = f"{int(moment)}.R{index}Q{number:05d}.bench"
            temporary = path / "tmp" / name
            temporary.write_bytes(raw)
            os.utime(temporary, (moment + number, moment + number))
            temporary.rename(path / "new" / name)

    def floor(mailbox, raws):
        # Reading the Maildir as the poll does, and parsing each message; nothing taken.
        started = time.perf_counter()
        for file in mailboxes._maildir_waiting(Path(mailbox.path)):
            raw = file.read_bytes()
            file.stat()
            _parse_all([raw])
        return time.perf_counter() - started

    try:
        result = _measure(
            cast_,
            label="from a Maildir (poll of new/ through to the case)",
            make_mailbox=make_mailbox,
            deliver=deliver,
            floor=floor,
            messages=messages,
            rounds=rounds,
            warmup=warmup,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result.floor_kind = "the same Maildir listed, read and parsed (casework.inbound.parse)"
    return result


# --- From Dovecot -------------------------------------------------------------------------------


@contextmanager
def dovecot_server():
    """A throw-away Dovecot on loopback, as the tests' `dovecot` fixture starts it (its own
    configuration, users file, Maildir and certificate in a temporary folder), stopped after."""
    import pwd

    from tests import mailservers

    if not os.access(mailservers.DOVECOT, os.X_OK):
        raise RuntimeError("Dovecot is not installed: apt-get install dovecot-imapd")
    root = Path(tempfile.mkdtemp(prefix="sportello-bench-dovecot-"))
    server = None
    try:
        root.chmod(0o711)
        cert, key = mailservers._self_signed(root)
        port, tls_port = mailservers._free_port(), mailservers._free_port()
        (root / "users").write_text(f"{mailservers.USER}:{{PLAIN}}{mailservers.PASSWORD}::::::\n")
        (root / "mail").mkdir()
        if os.geteuid() == 0:
            account = pwd.getpwnam("dovecot")
            os.chown(root / "mail", account.pw_uid, account.pw_gid)
        config = root / "dovecot.conf"
        config.write_text(
            mailservers._config(root, port=port, tls_port=tls_port, cert=cert, key=key)
        )
        server = subprocess.Popen(
            [mailservers.DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not mailservers._answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                log = root / "dovecot.log"
                raise RuntimeError(
                    "Dovecot did not start: "
                    + (log.read_text(errors="replace")[-500:] if log.exists() else "")
                )
            time.sleep(0.05)
        yield mailservers.Dovecot(
            mailservers.HOST,
            port,
            tls_port,
            mailservers.USER,
            mailservers.PASSWORD,
            cert,
            root / "dovecot.log",
        )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)


def imap(cast_: Cast, *, messages: int = 60, rounds: int = 3, warmup: int = 9) -> Result:
    from casework.models import Mailbox

    with dovecot_server() as server:

        def make_mailbox(area):
            return Mailbox.objects.create(
                name=f"bench imap {os.getpid()}",
                kind=Mailbox.Kind.IMAP,
                host=server.host,
                port=server.port,
                use_tls=False,
                username=server.username,
                password=server.password,
                folder="INBOX",
                address="fiscale@federazione.bench.example",
                area=area,
                is_enabled=False,
            )

        def deliver(mailbox, raws, index):
            # Each round in a folder of its own, put in with APPEND as a mail server delivers.
            folder = f"round-{index}"
            with server.client() as box:
                box.folder.create(folder)
                for raw in raws:
                    box.append(raw, folder)
            mailbox.folder = folder
            mailbox.save(update_fields=["folder"])

        def floor(mailbox, raws):
            # The same session, search and one FETCH (PEEK) per message as the poll, and the
            # parse of each; nothing taken, nothing marked.
            from casework import mailboxes

            started = time.perf_counter()
            client = mailboxes.imap_connect(mailbox)
            try:
                uids = client.uids(f"UNKEYWORD {mailboxes.TAKEN}")
                for message in client.fetch(uid_list=uids, mark_seen=False, bulk=False):
                    _parse_all([message.raw])
            finally:
                mailboxes._close(client)
            return time.perf_counter() - started

        result = _measure(
            cast_,
            label="from Dovecot over IMAP (poll through to the case)",
            make_mailbox=make_mailbox,
            deliver=deliver,
            floor=floor,
            messages=messages,
            rounds=rounds,
            warmup=warmup,
        )
    result.floor_kind = "the same IMAP session, search and FETCH of each message, and its parse"
    return result
