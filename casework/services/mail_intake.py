"""Mail intake: one raw message taken from a mailbox becomes what it is, exactly once.

`mail_take` reads a message (`casework.inbound`) and makes it one of: a new case, a message on
the case it answers, a PEC receipt on the case of the e-mail it certifies, an ignored message
(auto-replies, bounces, Sportello's own: never answered), or unmatched mail waiting for a
supervisor, who links it to a cooperative (`mail_link`, which opens the case) or discards it
with a reason (`mail_discard`). DESIGN.md, "E-mail and PEC intake", is the reference.

Exactly once: the message's row (`InboundEmail`, unique per mailbox and Message-ID) is inserted
first, in the transaction that then opens or answers the case. A concurrent take of the same
message waits on that unique constraint and, once the first commits, finds it taken; a take
that fails rolls back whole (no case, no files) and records the message as `failed`, to be
retried by the next poll. What the message itself causes (unreadable, too large, a refused
document, a PEC envelope without its message, a sender nobody knows) is a defined outcome with
the reason written on the row and the original kept; only the database being away propagates,
so that the caller leaves the message in its mailbox.

Decisions:
- A mailbox without a practice area sends its new cases to the supervisors' triage, parked in the
  first active area in the areas' own order (`PracticeArea.position`, then name), whose rules do
  not decide it; a supervisor who links unmatched mail may choose the area.
- A reply with documents and no text is a message saying which documents were sent (the
  portal's words for the same), with the documents attached to it.
- A reply to a finished case (or to a resolved one after its window to reopen) opens a new case
  of the same cooperative and area, whose description and `email_received` event name the old.
- On a PEC envelope the sender matched is the one the provider certifies (`daticert.xml`), not
  the inner message's From, which its writer chose.

This module moves cases only through `workflows.process` (the one path to a change of a case),
as pages, the API and tasks do; so it is not exported by `casework.services`, which the process
layer imports (that would be an import cycle): import it as `casework.services.mail_intake`.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows import process

from .. import events, limits, mail, policy
from ..attachments import sanitize_filename
from ..errors import CaseError, ConflictError
from ..inbound import classify, pec
from ..inbound.errors import InboundError
from ..inbound.parse import Attachment as MailDocument
from ..inbound.parse import Incoming, ids_in, parse, synthetic_message_id
from ..inbound.threading import case_reference_in, thread_ids
from ..models import (
    Case,
    CaseStatus,
    Channel,
    Cooperative,
    InboundEmail,
    Mailbox,
    Membership,
    Message,
    Notification,
    PracticeArea,
)
from ..policy import Action
from ..roles import roles_of
from .transition import _text

logger = logging.getLogger(__name__)

Status = InboundEmail.Status

#: The database is away: the caller keeps the message in its mailbox for the next poll.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError)
#: The statuses a supervisor may still decide on.
UNDECIDED = frozenset({Status.UNMATCHED, Status.FAILED})
# How many of a reply's thread ids are looked up (In-Reply-To, then References from the root).
_THREAD_IDS = 100
# How much of a message that cannot be parsed is read for its headers (sender, subject, id).
_HEADER_BYTES = 64 * 1024
# Who opens a case in the name of a cooperative written from its own address, in this order.
_REPRESENTATIVES = (
    Membership.Role.LEGAL_REPRESENTATIVE,
    Membership.Role.REFERENT,
    Membership.Role.MEMBER,
)


# --- Reading a message ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """A raw message as intake acts on it; read without the database."""

    raw: bytes = field(repr=False)
    # The delivered message's own id (a PEC envelope's): the exactly-once key in its mailbox.
    message_id: str
    # The sender (a PEC's certified one), the sender's name and the subject of the message acted
    # on (a PEC's inner one).
    from_address: str
    from_name: str
    subject: str
    # The message acted on: the sender's own (a PEC envelope's postacert.eml); None when there
    # is none (unreadable, a receipt).
    incoming: Incoming | None = None
    envelope: pec.PecEnvelope | None = None
    # Why it can only be kept for a supervisor: unreadable, too large, an envelope without its
    # message. Empty otherwise.
    problem: str = ""

    @property
    def is_receipt(self) -> bool:
        return self.envelope is not None and self.envelope.is_receipt

    @property
    def pec_kind(self) -> str | None:
        """The PEC envelope's kind (`posta-certificata`, `errore`) of a certified message."""
        return self.envelope.kind if self.envelope is not None and not self.is_receipt else None

    @property
    def channel(self) -> str:
        return Channel.PEC if self.pec_kind else Channel.EMAIL

    @property
    def certified(self) -> dict:
        """What the provider certified (`daticert.xml`), JSON-ready; empty for plain mail."""
        certificate = self.envelope.certificate if self.envelope is not None else None
        if certificate is None:
            return {}
        data = dataclasses.asdict(certificate)
        data["data"] = certificate.data.isoformat() if certificate.data else None
        return data


def read_message(raw: bytes, *, pec_mailbox: bool) -> Reading:
    """What a raw message is; PEC headers are read only on a PEC mailbox (`inbound.pec`)."""
    try:
        outer = parse(raw)
    except InboundError as refused:
        return _unreadable(raw, str(refused))
    envelope = pec.read_pec(outer, pec_mailbox=pec_mailbox)
    if envelope is None or envelope.is_receipt:
        return Reading(
            raw=raw,
            message_id=outer.message_id,
            from_address=outer.from_address,
            from_name=outer.from_name,
            subject=outer.subject,
            incoming=outer if envelope is None else None,
            envelope=envelope,
        )
    inner = envelope.inner
    certificate = envelope.certificate
    sender = (certificate.mittente if certificate else "") or (inner.from_address if inner else "")
    return Reading(
        raw=raw,
        message_id=outer.message_id,
        from_address=sender or outer.from_address,
        from_name=inner.from_name if inner else outer.from_name,
        subject=inner.subject if inner else outer.subject,
        incoming=inner,
        envelope=envelope,
        problem=""
        if inner is not None
        else _("The PEC envelope holds no readable message from its sender."),
    )


def _unreadable(raw: bytes, problem: str) -> Reading:
    """A message `parse` refused: what its headers still tell, for the supervisor's list."""
    message_id = address = name = subject = ""
    try:
        headers = BytesHeaderParser().parsebytes(raw[:_HEADER_BYTES])
        message_id = next(ids_in([str(value) for value in headers.get_all("Message-ID") or []]), "")
        name, address = parseaddr(str(headers.get("From", "")))
        subject = str(make_header(decode_header(str(headers.get("Subject", "")))))
    except Exception:  # whatever is in the headers, the row is written without them
        logger.info("the headers of an unreadable message cannot be read either", exc_info=True)
    return Reading(
        raw=raw,
        message_id=message_id or synthetic_message_id(raw),
        from_address=_plain(address).lower(),
        from_name=_plain(name),
        subject=_plain(subject),
        problem=problem,
    )


def _plain(value: str) -> str:
    """One line of text a database takes: bytes that came without a charset become "?"."""
    return " ".join(value.encode("utf-8", "replace").decode("utf-8").split())


# --- Taking a message ----------------------------------------------------------------------------


def mail_take(*, mailbox: Mailbox, raw: bytes, received_at: datetime | None = None) -> InboundEmail:
    """Take one message of `mailbox`, once: its row, as it was decided (see the module)."""
    raw = bytes(raw)
    received_at = received_at or timezone.now()
    reading: Reading | None = None
    written: list = []  # files stored by this take, removed again if it rolls back
    try:
        reading = read_message(raw, pec_mailbox=mailbox.is_pec)
        taken = _row_of(mailbox, reading.message_id)
        if taken is not None and taken.status != Status.FAILED:
            return taken
        with transaction.atomic():
            inbound, claimed = _claim(mailbox, reading, received_at, written)
            if claimed:
                _take(inbound, reading, written)
                inbound.save()
        return inbound
    except INFRASTRUCTURE_ERRORS:
        _discard(written)
        raise
    except IntegrityError as error:
        # The unique constraint: another take committed this message first.
        _discard(written)
        taken = _row_of(mailbox, reading.message_id) if reading else None
        if taken is not None:
            return taken
        logger.exception("mail intake could not take a message of %s", mailbox)
        return _failed(mailbox=mailbox, reading=reading, raw=raw, at=received_at, error=error)
    except Exception as error:
        _discard(written)
        logger.exception("mail intake could not take a message of %s", mailbox)
        return _failed(mailbox=mailbox, reading=reading, raw=raw, at=received_at, error=error)


def _row_of(mailbox: Mailbox, message_id: str) -> InboundEmail | None:
    return InboundEmail.objects.filter(mailbox=mailbox, header_message_id=message_id).first()


def _describe(row: InboundEmail, reading: Reading) -> None:
    row.from_address = reading.from_address[:254]
    row.from_name = reading.from_name[:200]
    row.subject = reading.subject[:300]
    row.is_pec = reading.envelope is not None
    row.certified = reading.certified
    row.size = len(reading.raw)


def _keep_raw(row: InboundEmail, raw: bytes, written: list) -> None:
    row.raw.save(f"{uuid.uuid4().hex}.eml", ContentFile(raw), save=False)
    written.append(row.raw)


def _claim(
    mailbox: Mailbox, reading: Reading, at: datetime, written: list
) -> tuple[InboundEmail, bool]:
    """The message's row, held by this take: (row, True), or (row, False) if already decided.

    A failed row is locked for its retry. Otherwise the row is inserted now, before anything
    else is written: a concurrent take of the same message waits on the unique constraint until
    this transaction ends, then fails on it (IntegrityError) and returns the row committed here.
    """
    row = (
        InboundEmail.objects.select_for_update()
        .filter(mailbox=mailbox, header_message_id=reading.message_id)
        .first()
    )
    if row is not None:
        if row.status != Status.FAILED:
            return row, False
        row.attempts += 1
        row.error = ""
        _describe(row, reading)
        if not row.raw:
            _keep_raw(row, reading.raw, written)
        return row, True
    # `failed` until this transaction decides: a row that commits always has its real status.
    row = InboundEmail(
        mailbox=mailbox,
        header_message_id=reading.message_id,
        status=Status.FAILED,
        received_at=at,
        attempts=1,
    )
    _describe(row, reading)
    _keep_raw(row, reading.raw, written)
    row.save()
    return row, True


def _failed(
    *, mailbox: Mailbox, reading: Reading | None, raw: bytes, at: datetime, error: Exception
) -> InboundEmail:
    """Record a take that broke (a fault, not the message's): `failed`, retried next poll."""
    reading = reading or _unreadable(raw, "")
    text = f"{type(error).__name__}: {error}"[:2000]
    written: list = []
    row = None
    try:
        with transaction.atomic():
            row = (
                InboundEmail.objects.select_for_update()
                .filter(mailbox=mailbox, header_message_id=reading.message_id)
                .first()
            )
            if row is None:
                row = InboundEmail(
                    mailbox=mailbox,
                    header_message_id=reading.message_id,
                    status=Status.FAILED,
                    received_at=at,
                    attempts=1,
                    error=text,
                )
                _describe(row, reading)
                _keep_raw(row, raw, written)
                row.save()
            elif row.status == Status.FAILED:
                row.attempts += 1
                row.error = text
                row.save(update_fields=["attempts", "error"])
            return row
    except IntegrityError:
        _discard(written)
        return _row_of(mailbox, reading.message_id) or row


def _discard(written: list) -> None:
    """Remove files stored by a take that rolled back: they have no row any more."""
    for stored in written:
        try:
            stored.storage.delete(stored.name)
        except OSError:
            logger.warning("could not remove %s after a rollback", stored.name, exc_info=True)


def _take(inbound: InboundEmail, reading: Reading, written: list) -> None:
    """Decide what the message is and do it; sets the row's status (saved by the caller)."""
    if reading.problem:
        _hold(inbound, reading.problem)
        return
    if reading.is_receipt:
        _take_receipt(inbound, reading.envelope)
        return
    ignored = classify.why_ignored(reading.incoming)
    if ignored is not None:
        inbound.status = Status.IGNORED
        inbound.ignored_reason = ignored
        return
    mark = len(written)
    try:
        with transaction.atomic():
            _deliver(inbound, reading, written)
    except CaseError as refused:
        # The domain refused a step (an area closed, a sender who may no longer write...): the
        # message waits for a supervisor and nothing half-done is left.
        _discard(written[mark:])
        del written[mark:]
        inbound.case = None
        inbound.message = None
        _hold(inbound, str(refused))


def _hold(inbound: InboundEmail, why: str) -> None:
    """Unmatched: kept for a supervisor, with the reason it could not go further."""
    inbound.status = Status.UNMATCHED
    inbound.error = str(why)


def _take_receipt(inbound: InboundEmail, envelope: pec.PecEnvelope) -> None:
    """A PEC provider's receipt: shown on the case of the outgoing e-mail it certifies."""
    inbound.status = Status.RECEIPT
    reference = envelope.riferimento_message_id
    sent = (
        Notification.objects.filter(header_message_id=reference).select_related("case").first()
        if reference
        else None
    )
    inbound.receipt_for = sent
    if sent is None or sent.case is None:
        inbound.error = _("No e-mail sent by Sportello matches this receipt (%(id)s).") % {
            "id": reference or "-"
        }
        return
    certificate = envelope.certificate
    recipient = ""
    if certificate is not None:
        recipient = certificate.consegna or ", ".join(r.address for r in certificate.destinatari)
    inbound.case = sent.case
    events.record(
        events.pec_receipt(
            sent.case,
            inbound=inbound.pk,
            receipt=envelope.receipt,
            failed=envelope.is_failure,
            certified_at=envelope.certified_at,
            recipient=recipient or sent.email,
            notification=sent.pk,
            error=certificate.errore_esteso if certificate is not None else None,
        )
    )


def _deliver(inbound: InboundEmail, reading: Reading, written: list) -> None:
    """A message from a person: to the case it answers, else a new case of its sender's."""
    case = thread_of(reading.incoming)
    if case is not None:
        _answer(inbound, reading, case, written)
        return
    cooperative, requester, why = match_sender(reading.from_address)
    if cooperative is None:
        _hold(inbound, why)
        return
    area = area_for(inbound.mailbox)
    if area is None:
        _hold(inbound, _("No practice area is open for new cases: a supervisor decides."))
        return
    _open(
        inbound,
        reading,
        cooperative=cooperative,
        requester=requester,
        area=area,
        opened_by=requester,
        sender=requester,
        written=written,
    )


# --- Threading and senders -----------------------------------------------------------------------


def thread_of(incoming: Incoming) -> Case | None:
    """The case a reply answers: by its thread ids (an e-mail Sportello sent, an earlier message
    taken in, an id Sportello wrote), then by the bracketed reference in its subject."""
    ids = thread_ids(incoming)[:_THREAD_IDS]
    if ids:
        found: dict[str, int] = {}
        for model in (Notification, InboundEmail):
            rows = model.objects.filter(header_message_id__in=ids, case__isnull=False)
            for header_id, case_id in rows.values_list("header_message_id", "case_id"):
                found.setdefault(header_id, case_id)
        for header_id in ids:
            if header_id in found:
                return Case.objects.filter(pk=found[header_id]).first()
            reference = _reference_in_own_id(header_id)
            case = Case.objects.filter(reference=reference).first() if reference else None
            if case is not None:
                return case
    reference = case_reference_in(incoming.subject)
    return Case.objects.filter(reference=reference).first() if reference else None


def _reference_in_own_id(header_id: str) -> str | None:
    """The case reference in a Message-ID Sportello wrote (`mail.new_message_id`,
    `mail.case_thread_id`), which outlives the purged e-mail rows."""
    local, at, domain = header_id.rpartition("@")
    if not at or domain.lower() != mail.id_domain().lower():
        return None
    return case_reference_in(f"[{local.partition('.')[2]}]")


def _people_at(address: str):
    return get_user_model().objects.filter(email__iexact=address, is_active=True).order_by("pk")


def author_on(case: Case, address: str):
    """Who may write on `case` from `address`: someone who sees it (`policy.sees_case`: the
    requester, a person of its cooperative whose role shows it, staff of the case); None when
    nobody with that address may."""
    if not address:
        return None
    people = sorted(_people_at(address), key=lambda user: user.pk != case.requester_id)
    for user in people:
        if policy.sees_case(case, roles_of(user)):
            return user
    return None


def match_sender(address: str) -> tuple[Cooperative | None, object | None, str]:
    """(cooperative, requester, "") for an address that names exactly one active cooperative,
    through a member or the cooperative's own e-mail; else (None, None, why)."""
    if not address:
        return None, None, _("The e-mail has no sender address: a supervisor decides.")
    memberships = list(
        Membership.objects.filter(
            user__in=_people_at(address),
            is_active=True,
            cooperative__membership_status=Cooperative.MembershipStatus.ACTIVE,
        )
        .select_related("user", "cooperative")
        .order_by("user_id", "cooperative_id")
    )
    cooperatives = {membership.cooperative_id: membership.cooperative for membership in memberships}
    for cooperative in Cooperative.objects.filter(
        email__iexact=address, membership_status=Cooperative.MembershipStatus.ACTIVE
    ):
        cooperatives.setdefault(cooperative.pk, cooperative)
    if not cooperatives:
        return (
            None,
            None,
            _("No member or cooperative has the address %(address)s: a supervisor decides.")
            % {"address": address},
        )
    if len(cooperatives) > 1:
        names = ", ".join(sorted(cooperative.name for cooperative in cooperatives.values()))
        return (
            None,
            None,
            _("%(address)s belongs to several cooperatives (%(names)s): a supervisor decides.")
            % {"address": address, "names": names},
        )
    (cooperative,) = cooperatives.values()
    requester = requester_for(address, cooperative)
    if requester is None:
        return (
            None,
            None,
            _(
                "%(cooperative)s writes from %(address)s but has no member in whose name to "
                "open the case: a supervisor decides."
            )
            % {"cooperative": cooperative.name, "address": address},
        )
    return cooperative, requester, ""


def requester_for(address: str, cooperative: Cooperative):
    """The member of `cooperative` with this address; for the cooperative's own address, its
    legal representative (else a referent, else its first member); None otherwise."""
    membership = (
        Membership.objects.filter(
            cooperative=cooperative, is_active=True, user__in=_people_at(address)
        )
        .select_related("user")
        .order_by("created_at", "pk")
        .first()
    )
    if membership is not None:
        return membership.user
    if not address or (cooperative.email or "").lower() != address.lower():
        return None
    people = Membership.objects.filter(
        cooperative=cooperative, is_active=True, user__is_active=True
    )
    ranked = sorted(
        people.select_related("user"),
        key=lambda m: (_REPRESENTATIVES.index(m.role), m.created_at, m.pk),
    )
    return ranked[0].user if ranked else None


def area_for(mailbox: Mailbox) -> PracticeArea | None:
    """Where a mailbox's new cases go: its area; without one, the first active area."""
    if mailbox.area_id is not None:
        return mailbox.area
    return PracticeArea.objects.filter(is_active=True).order_by("position", "name").first()


# --- What the message becomes on a case ----------------------------------------------------------


def _answer(inbound: InboundEmail, reading: Reading, case: Case, written: list) -> None:
    """A reply on its case: a message (the answer a waiting case expects), a reopening within
    the window, or a new case when the old one is finished."""
    author = author_on(case, reading.from_address)
    if author is None:
        _hold(
            inbound,
            _(
                "The sender %(address)s answers case %(reference)s but is neither a member of "
                "%(cooperative)s nor staff of the case: a supervisor decides."
            )
            % {
                "address": reading.from_address or "-",
                "reference": case.reference,
                "cooperative": case.cooperative.name,
            },
        )
        return
    roles = roles_of(author)
    from_cooperative = roles.is_member_of(case.cooperative_id) and not policy.is_staff_of(
        case, roles
    )
    finished = case.status in CaseStatus.FINAL or (
        case.status == CaseStatus.RESOLVED
        and from_cooperative
        and _reopen_window_ended(case, timezone.now())
    )
    if finished:
        if not from_cooperative:
            _hold(
                inbound,
                _(
                    "Case %(reference)s is %(status)s; a new case is opened only for a member "
                    "of its cooperative: a supervisor decides."
                )
                % {"reference": case.reference, "status": case.get_status_display().lower()},
            )
            return
        _open(
            inbound,
            reading,
            cooperative=case.cooperative,
            requester=author,
            area=case.area if case.area.is_active else area_for(inbound.mailbox),
            opened_by=author,
            sender=author,
            follows=case,
            written=written,
        )
        return
    body = _body(reading.incoming)
    if case.status == CaseStatus.RESOLVED and from_cooperative:
        case = process.case_reopen(case=case, actor=author, reason=_clip(body, limits.REASON))
        # The reopening writes the reason as the member's message: the one this e-mail became.
        message = (
            Message.objects.filter(case=case, author=author, internal=False)
            .order_by("-created_at", "-id")
            .first()
        )
    else:
        # A member's answer to a waiting case is the information it waits for (the process
        # decides, as for the portal's replies).
        message = process.case_post_message(case=case, author=author, body=body)
    _record_received(case, inbound, reading, actor=author, message=message)
    _documents(case, reading.incoming, uploaded_by=author, message=message, written=written)
    _keep_original(case, reading, uploaded_by=author, message=message, written=written)
    inbound.status = Status.REPLIED
    inbound.case = case
    inbound.message = message


def _reopen_window_ended(case: Case, at: datetime) -> bool:
    try:
        policy.check_condition(Action.REOPEN, case, at=at)
    except ConflictError:
        return True
    return False


def _open(
    inbound: InboundEmail,
    reading: Reading,
    *,
    cooperative: Cooperative,
    requester,
    area: PracticeArea,
    opened_by,
    sender,
    written: list,
    follows: Case | None = None,
) -> Case:
    """A new case from the message, its documents and original; the row says `opened`."""
    incoming = reading.incoming
    if incoming is not None:
        description = _body(incoming)
    else:
        description = _("The e-mail could not be read; its original is kept for the staff.")
    if follows is not None:
        description = (
            _("This e-mail answers case %(reference)s, which is %(status)s.")
            % {"reference": follows.reference, "status": follows.get_status_display().lower()}
            + "\n\n"
            + description
        )
    case = process.case_open(
        requester=requester,
        cooperative=cooperative,
        area=area,
        subject=_subject(reading.subject),
        description=_clip(description, limits.LONG_TEXT),
        channel=reading.channel,
        opened_by=opened_by,
        # A mailbox without an area: a supervisor triages (DESIGN: "none means supervisor
        # triage"); the area it is opened in is only where it waits.
        supervisor_triage=inbound.mailbox.area_id is None and follows is None,
    )
    _record_received(case, inbound, reading, actor=sender, message=None, follows=follows)
    if incoming is not None:
        _documents(case, incoming, uploaded_by=requester, message=None, written=written)
    _keep_original(case, reading, uploaded_by=sender, message=None, written=written)
    inbound.status = Status.OPENED
    inbound.case = case
    return case


def _record_received(
    case: Case, inbound: InboundEmail, reading: Reading, *, actor, message, follows=None
) -> None:
    envelope = reading.envelope
    certificate = envelope.certificate if envelope is not None else None
    events.record(
        events.email_received(
            case,
            actor=actor,
            inbound=inbound.pk,
            from_address=reading.from_address,
            message_id=reading.message_id,
            subject=reading.subject[:300],
            message=message.pk if message is not None else None,
            pec=reading.pec_kind,
            certified_at=certificate.data if certificate else None,
            certified_id=certificate.identificativo if certificate else None,
            certified_sender=certificate.mittente if certificate else None,
            pec_problems=list(envelope.problems) if envelope is not None else [],
            follows=follows.reference if follows is not None else None,
        )
    )


def _documents_of(incoming: Incoming) -> list[MailDocument]:
    """The documents a person attached: not the images shown inside the text (a signature's)."""
    return [
        document
        for document in incoming.attachments
        if not (document.inline and document.content_type.startswith("image/"))
    ]


def _documents(case: Case, incoming: Incoming, *, uploaded_by, message, written: list) -> None:
    """Each document through the upload checks; a refused one is named in the timeline."""
    for document in _documents_of(incoming):
        name = sanitize_filename(document.filename or "")
        try:
            attachment = process.case_attach(
                case=case,
                uploaded_by=uploaded_by,
                file=ContentFile(document.content, name=name),
                message=message,
            )
        except CaseError as refused:
            events.record(
                events.attachment_refused(
                    case,
                    actor=uploaded_by,
                    name=name,
                    reason=refused.code,
                    params=getattr(refused, "params", None) or {"name": name},
                )
            )
        else:
            written.append(attachment.file)


def _keep_original(case: Case, reading: Reading, *, uploaded_by, message, written: list) -> None:
    """The whole message as it came (a PEC's envelope), for the staff only."""
    name = reading.subject.strip()[:80] or "email"
    if reading.pec_kind:
        name = f"PEC {name}"
    attachment = process.case_attach_email(
        case=case, raw=reading.raw, name=name, uploaded_by=uploaded_by, message=message
    )
    written.append(attachment.file)


def _body(incoming: Incoming) -> str:
    """The text of a message, its quoted history cut; a documents-only one names them."""
    text = (incoming.reply or incoming.text or "").strip()
    if not text:
        names = [sanitize_filename(d.filename or "") for d in _documents_of(incoming)]
        if names:
            text = _("Documents sent: %(names)s") % {"names": ", ".join(names)}
        else:
            text = _("(The e-mail has no text.)")
    return _clip(text, limits.LONG_TEXT)


def _subject(subject: str) -> str:
    return _clip(" ".join((subject or "").split()) or _("(no subject)"), limits.SUBJECT)


def _clip(text: str, length: int) -> str:
    """`text` within `length` characters; what is cut stays in the original kept on the case."""
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# --- A supervisor's decisions --------------------------------------------------------------------


def _undecided(inbound: InboundEmail, actor) -> InboundEmail:
    """The row locked, if `actor` may decide on it and it is still undecided (unmatched or
    failed); refused otherwise, whoever asks first."""
    row = InboundEmail.objects.select_for_update().select_related("mailbox").get(pk=inbound.pk)
    policy.check_decide_mail(actor, row.mailbox)
    if row.status not in UNDECIDED:
        raise ConflictError(
            _("This e-mail has already been decided: %(status)s.")
            % {"status": row.get_status_display().lower()},
            code="already_decided",
        )
    return row


def _raw_of(row: InboundEmail) -> bytes:
    try:
        with row.raw.open("rb") as original:
            return original.read()
    except (OSError, ValueError) as missing:
        raise CaseError(
            _("The original of this e-mail cannot be read."), code="no_original"
        ) from missing


def mail_link(
    *,
    inbound: InboundEmail,
    actor,
    cooperative: Cooperative,
    requester=None,
    area: PracticeArea | None = None,
) -> Case:
    """A supervisor links unmatched mail to a cooperative: the case it opens, recorded.

    The requester is the given member of `cooperative`, else the sender if they are one (or its
    representative when the mail came from the cooperative's own address). The case goes to
    `area` if given, else to the mailbox's area (`area_for`); channel `email` or `pec`.
    """
    written: list = []
    try:
        with transaction.atomic():
            row = _undecided(inbound, actor)
            requester = requester or requester_for(row.from_address, cooperative)
            if requester is None:
                raise CaseError(
                    _("Choose the requester: %(address)s is not a member of %(cooperative)s.")
                    % {"address": row.from_address or "-", "cooperative": cooperative.name},
                    code="requester",
                )
            area = area or area_for(row.mailbox)
            if area is None:
                raise CaseError(_("No practice area is open for new cases."), code="area")
            reading = read_message(_raw_of(row), pec_mailbox=row.mailbox.is_pec)
            sender = requester if (requester.email or "").lower() == row.from_address else None
            case = _open(
                row,
                reading,
                cooperative=cooperative,
                requester=requester,
                area=area,
                opened_by=actor,
                sender=sender,
                written=written,
            )
            events.record(
                events.mail_linked(
                    case,
                    actor=actor,
                    inbound=row.pk,
                    from_address=row.from_address,
                    cooperative=cooperative.pk,
                    requester=requester.get_username(),
                )
            )
            row.status = Status.LINKED
            row.cooperative = cooperative
            row.decided_by = actor
            row.decided_at = timezone.now()
            row.save()
    except BaseException:
        _discard(written)
        raise
    inbound.refresh_from_db()
    return case


def mail_discard(*, inbound: InboundEmail, actor, reason: str) -> InboundEmail:
    """A supervisor discards unmatched mail, saying why; the row keeps it and the original."""
    reason = _text(reason, _("reason"), max_length=limits.REASON)
    with transaction.atomic():
        row = _undecided(inbound, actor)
        row.status = Status.DISCARDED
        row.decided_by = actor
        row.decided_at = timezone.now()
        row.decision_note = reason
        row.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    inbound.refresh_from_db()
    return row
