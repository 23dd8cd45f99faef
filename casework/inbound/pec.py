"""PEC (posta elettronica certificata): a provider's envelope or receipt, opened and described.

A PEC provider delivers a cooperative's message wrapped in a transport envelope
(`X-Trasporto: posta-certificata`, or `errore` for an "anomalia" when the message could not be
certified): the cooperative's own message is the attached `postacert.eml`, and `daticert.xml`
holds what the provider certifies (sender, recipients, time, identifier). Receipts
(`X-Ricevuta: accettazione`, `avvenuta-consegna`, ...) answer a PEC message Sportello sent; they
name it in `X-Riferimento-Message-ID`. The structure is the one of the technical rules annexed to
DM 2 November 2005: multipart/signed (S/MIME) around a multipart/mixed with the provider's text,
`postacert.eml` and `daticert.xml`.

Trust: a PEC header means something only on a mailbox configured as PEC, where the provider
wrote it. Anyone can write `X-Trasporto: posta-certificata` into an ordinary e-mail, so
`read_pec` reads nothing as PEC unless the caller says the mailbox is a PEC one
(`pec_mailbox=True`); a forged header elsewhere leaves the message plain mail. The provider's
S/MIME signature (`smime.p7s`) is kept with the envelope but not verified here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .errors import DaticertRefused, DaticertUnreadable, InboundError
from .parse import Attachment, Incoming, ids_in, parse

TRANSPORT = "posta-certificata"
ANOMALY = "errore"
RECEIPT = "ricevuta"
ENVELOPE_KINDS = frozenset({TRANSPORT, ANOMALY})

ACCEPTANCE = "accettazione"
NON_ACCEPTANCE = "non-accettazione"
TAKEN_IN_CHARGE = "presa-in-carico"
DELIVERY = "avvenuta-consegna"
DELIVERY_ERROR = "errore-consegna"
DELIVERY_ERROR_WARNING = "preavviso-errore-consegna"
VIRUS_DETECTED = "rilevazione-virus"
RECEIPTS = frozenset(
    {
        ACCEPTANCE,
        NON_ACCEPTANCE,
        TAKEN_IN_CHARGE,
        DELIVERY,
        DELIVERY_ERROR,
        DELIVERY_ERROR_WARNING,
        VIRUS_DETECTED,
    }
)
# The receipts that say the message did not reach its recipient.
FAILURE_RECEIPTS = frozenset(
    {NON_ACCEPTANCE, DELIVERY_ERROR, DELIVERY_ERROR_WARNING, VIRUS_DETECTED}
)

INNER_MESSAGE_NAME = "postacert.eml"
DATICERT_NAME = "daticert.xml"

# Notes in PecEnvelope.problems: the envelope is still what it is, a part of it is missing.
NO_INNER_MESSAGE = "no_inner_message"
INNER_UNREADABLE = "inner_unreadable"
NO_DATICERT = "no_daticert"
UNKNOWN_RECEIPT = "unknown_receipt"


@dataclass(frozen=True)
class Recipient:
    address: str
    # "certificato" (a PEC mailbox) or "esterno" (an ordinary e-mail address).
    kind: str


@dataclass(frozen=True)
class Daticert:
    """The certified data of `daticert.xml`, with the names the technical rules give them."""

    tipo: str
    errore: str
    mittente: str
    destinatari: tuple[Recipient, ...]
    risposte: str
    oggetto: str
    gestore_emittente: str
    # `<data zona="+0100"><giorno>dd/mm/yyyy</giorno><ora>hh:mm:ss</ora></data>`, aware.
    data: datetime | None
    identificativo: str
    # The Message-ID of the message certified (for a receipt: of the message it answers).
    msgid: str | None
    # Receipts only: completa/breve/sintetica, the recipient it was delivered to, the extended
    # error of a failure, and the time a provider took the message in charge.
    ricevuta: str | None = None
    consegna: str | None = None
    ricezione: str | None = None
    errore_esteso: str | None = None


@dataclass(frozen=True)
class PecEnvelope:
    """A PEC message: a transport envelope (TRANSPORT, ANOMALY) or a receipt (RECEIPT)."""

    kind: str
    receipt: str | None
    # The cooperative's message from postacert.eml (an acceptance receipt has none).
    inner: Incoming | None
    certificate: Daticert | None
    # Receipts: the Message-ID (no brackets) of the PEC message Sportello sent that it answers.
    riferimento_message_id: str | None
    # Codes: NO_INNER_MESSAGE, INNER_UNREADABLE, NO_DATICERT, UNKNOWN_RECEIPT, or the code of the
    # InboundError met reading a part (e.g. "daticert_refused").
    problems: tuple[str, ...] = ()

    @property
    def is_receipt(self) -> bool:
        return self.kind == RECEIPT

    @property
    def is_failure(self) -> bool:
        return self.kind == ANOMALY or self.receipt in FAILURE_RECEIPTS

    @property
    def certified_at(self) -> datetime | None:
        return self.certificate.data if self.certificate else None


def is_pec(incoming: Incoming) -> bool:
    """Whether the message carries a PEC transport or receipt header (trust: see the module)."""
    return _transport(incoming) in ENVELOPE_KINDS or bool(_receipt(incoming))


def read_pec(incoming: Incoming, *, pec_mailbox: bool) -> PecEnvelope | None:
    """The PEC envelope or receipt `incoming` is; None for plain mail or a non-PEC mailbox."""
    if not pec_mailbox or not is_pec(incoming):
        return None
    problems: list[str] = []
    transport = _transport(incoming)
    receipt = _receipt(incoming) or None
    if transport in ENVELOPE_KINDS:
        kind = transport
        receipt = None
    else:
        kind = RECEIPT
        if receipt not in RECEIPTS:
            problems.append(UNKNOWN_RECEIPT)

    certificate = None
    daticert = _find(incoming, DATICERT_NAME, ("application/xml", "text/xml"))
    if daticert is None:
        problems.append(NO_DATICERT)
    else:
        try:
            certificate = parse_daticert(daticert.content)
        except InboundError as error:
            problems.append(error.code)

    inner = None
    postacert = _find(incoming, INNER_MESSAGE_NAME, ("message/rfc822",))
    if postacert is None:
        # An acceptance or a short delivery receipt carries no copy of the message.
        if kind != RECEIPT:
            problems.append(NO_INNER_MESSAGE)
    else:
        try:
            inner = parse(postacert.content)
        except InboundError:
            problems.append(INNER_UNREADABLE)

    reference = _first_id(incoming.header("X-Riferimento-Message-ID"))
    if reference is None and kind == RECEIPT and certificate is not None:
        reference = certificate.msgid
    return PecEnvelope(
        kind=kind,
        receipt=receipt,
        inner=inner,
        certificate=certificate,
        riferimento_message_id=reference,
        problems=tuple(problems),
    )


def _transport(incoming: Incoming) -> str:
    return (incoming.header("X-Trasporto") or "").strip().lower()


def _receipt(incoming: Incoming) -> str:
    return (incoming.header("X-Ricevuta") or "").strip().lower()


def _find(incoming: Incoming, name: str, content_types: tuple[str, ...]) -> Attachment | None:
    """The attachment named `name`, else the first one of `content_types`."""
    for attachment in incoming.attachments:
        if attachment.filename.lower() == name:
            return attachment
    for attachment in incoming.attachments:
        if attachment.content_type in content_types:
            return attachment
    return None


def _first_id(value: str | None) -> str | None:
    return next(ids_in([value]), None) if value else None


# --- daticert.xml ------------------------------------------------------------------------------


def parse_daticert(content: bytes) -> Daticert:
    """Read `daticert.xml` with defusedxml.

    Real providers write a DOCTYPE naming `postacert.dtd` (some with an https address): that
    declaration is allowed and never loaded. Any entity declared in it, internal (the "billion
    laughs") or external (a file or an address to read) is refused with DaticertRefused, and
    nothing outside the document is ever fetched; XML that is not well-formed or not a
    `postacert` document is DaticertUnreadable.
    """
    try:
        root = fromstring(content, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise DaticertRefused() from error
    except (ParseError, ValueError, TypeError) as error:
        raise DaticertUnreadable() from error
    if root.tag != "postacert":
        raise DaticertUnreadable()

    header = root.find("intestazione")
    data = root.find("dati")
    if header is None or data is None:
        raise DaticertUnreadable()
    ricevuta = data.find("ricevuta")
    return Daticert(
        tipo=(root.get("tipo") or "").strip(),
        errore=(root.get("errore") or "").strip(),
        mittente=_text(header, "mittente").lower(),
        destinatari=tuple(
            Recipient(address=(node.text or "").strip().lower(), kind=(node.get("tipo") or ""))
            for node in header.findall("destinatari")
            if (node.text or "").strip()
        ),
        risposte=_text(header, "risposte").lower(),
        oggetto=_text(header, "oggetto"),
        gestore_emittente=_text(data, "gestore-emittente"),
        data=_certified_time(data.find("data")),
        identificativo=_text(data, "identificativo"),
        msgid=_first_id(_text(data, "msgid")),
        ricevuta=(ricevuta.get("tipo") if ricevuta is not None else None),
        consegna=_text(data, "consegna").lower() or None,
        ricezione=_text(data, "ricezione") or None,
        errore_esteso=_text(data, "errore-esteso") or None,
    )


def _text(parent: Element, tag: str) -> str:
    node = parent.find(tag)
    return " ".join((node.text or "").split()) if node is not None else ""


def _certified_time(node: Element | None) -> datetime | None:
    """`giorno` dd/mm/yyyy and `ora` hh:mm:ss in the zone `zona` (+hhmm); None if unreadable."""
    if node is None:
        return None
    day, time_of_day = _text(node, "giorno"), _text(node, "ora")
    zone = (node.get("zona") or "").strip()
    try:
        moment = datetime.strptime(f"{day} {time_of_day}", "%d/%m/%Y %H:%M:%S")
    except ValueError:
        return None
    offset = _offset(zone)
    return moment.replace(tzinfo=offset) if offset is not None else None


def _offset(zone: str) -> timezone | None:
    """+0100 / -0230 / +01:00 as a fixed offset; the rules write +hhmm."""
    zone = zone.replace(":", "")
    if len(zone) != 5 or zone[0] not in "+-" or not (zone[1:].isascii() and zone[1:].isdigit()):
        return None
    hours, minutes = int(zone[1:3]), int(zone[3:5])
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(delta if zone[0] == "+" else -delta)
