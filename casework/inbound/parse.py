"""A raw e-mail read into an `Incoming`: who wrote it, what it answers, its text and its documents.

`parse()` never raises for bad input it can still read something of: malformed MIME, an 8-bit
header without a charset, a broken address, a missing or repeated Message-ID each leave a note in
`Incoming.defects` and the rest of the message as it could be read. It refuses a message over the
size limit before parsing it (`MessageTooLarge`), and one where nothing can be read
(`UnreadableMessage`): empty, or without a single header.

Attachments are taken as they were sent, decoded from their transfer encoding and never
decompressed or opened: a ZIP bomb stays a small ZIP here, and what a document really is
(`sniff`) and whether it may be stored is the upload checks' business.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from io import BytesIO

from mailparser_reply import EmailReplyParser

from .errors import MessageTooLarge, UnreadableMessage
from .htmltext import html_to_text

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
# The longest Message-ID kept as it is; a longer one is not a real id and would not fit a column.
MESSAGE_ID_MAX_CHARS = 250
# The reply parser's regular expressions take time growing with the square of a line's length
# (a line starting "Il " or "On " that never says "ha scritto:"): lines longer than a history
# header ever is are set aside before it runs and put back after, and a text longer than
# REPLY_PARSE_MAX_CHARS is kept whole: a hostile text costs about two seconds at most.
REPLY_PARSE_MAX_CHARS = 100_000
REPLY_LINE_MAX_CHARS = 300
# Quoted history is recognised in these languages ("Il giorno ... ha scritto:", "On ... wrote:").
REPLY_LANGUAGES = ("it", "en")

# The headers intake and classification read later, by lower-case name; plus every X-Sportello-*.
KEPT_HEADERS = frozenset(
    {
        "auto-submitted",
        "x-autoreply",
        "x-autorespond",
        "precedence",
        "return-path",
        "list-id",
        "x-failed-recipients",
        "x-trasporto",
        "x-ricevuta",
        "x-riferimento-message-id",
        "x-verificasicurezza",
    }
)
OWN_HEADER_PREFIX = "x-sportello-"

# Notes left in Incoming.defects by this module (the email package's own defects are added by
# their class name, e.g. "CloseBoundaryNotFoundDefect").
SYNTHETIC_MESSAGE_ID = "synthetic_message_id"
DUPLICATE_MESSAGE_ID = "duplicate_message_id"
LONG_MESSAGE_ID = "message_id_too_long"
EIGHT_BIT_HEADER = "8bit_header"
UNREADABLE_PART = "unreadable_part"

_PARSE_POLICY = policy.default
# Inner messages are written back as they came: long header lines are not folded again.
_WRITE_POLICY = policy.default.clone(refold_source="none")
_BRACKETED_ID = re.compile(r"<([^<>\s]+)>")
_SURROGATES = re.compile("[\udc80-\udcff]+")
_SET_ASIDE = re.compile("\x00[0-9]+\x00")


@dataclass(frozen=True)
class Address:
    """One mailbox of an address header: the address lower-cased, the name as written."""

    address: str
    name: str = ""


@dataclass(frozen=True)
class Attachment:
    """A document of the message as it was sent: declared name and type, decoded bytes."""

    filename: str
    content_type: str
    content: bytes = field(repr=False)
    # Shown inside the text (an image of a signature, Content-Disposition: inline or a Content-ID).
    inline: bool = False
    content_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class Incoming:
    """One e-mail as intake needs it. Message ids are kept without angle brackets."""

    message_id: str
    # True when the message had no usable Message-ID and `message_id` was made from the sha256 of
    # its raw bytes: the same bytes always get the same id, so a re-poll still finds it taken.
    message_id_synthetic: bool
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_address: str
    from_name: str
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: datetime | None
    # The whole text (text/plain, else the HTML's text) and the reply alone, quoted history cut.
    text: str
    reply: str
    # "plain", "html", or "" when the message has no text at all.
    text_source: str
    attachments: tuple[Attachment, ...]
    # KEPT_HEADERS and X-Sportello-* headers, lower-case names, first value of each, decoded.
    headers: Mapping[str, str]
    # The top-level type ("multipart/report"), its report-type parameter, and every part's type.
    content_type: str
    report_type: str
    part_types: tuple[str, ...]
    defects: tuple[str, ...]
    raw: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def parse(raw: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Incoming:
    """Read one raw message (RFC 5322 bytes, as IMAP or a pipe gives it)."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"parse() takes the raw bytes of a message, not {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) > max_bytes:
        raise MessageTooLarge()
    if not raw.strip():
        raise UnreadableMessage()
    try:
        message = BytesParser(policy=_PARSE_POLICY).parsebytes(raw)
    except Exception as error:  # the stdlib parser is lenient; a crash in it is still bad input
        raise UnreadableMessage() from error
    if not message.keys():
        raise UnreadableMessage()
    try:
        return _read(message, raw)
    except Exception as error:
        # Every field below is read defensively; reaching here is a bug met on hostile input,
        # and the poll must keep the message for a retry rather than crash.
        logger.exception("mail intake could not read a message")
        raise UnreadableMessage() from error


def _read(message: EmailMessage, raw: bytes) -> Incoming:
    defects: list[str] = []
    message_id = _message_id(message, raw, defects)
    in_reply_to = next(ids_in(_raw_values(message, "In-Reply-To")[:1]), None)
    references = tuple(dict.fromkeys(ids_in(_raw_values(message, "References"))))
    if any(_SURROGATES.search(value) for _name, value in message.raw_items()):
        defects.append(EIGHT_BIT_HEADER)

    senders = _addresses(message, "From") or _addresses(message, "Sender")
    body, body_parts = _body(message, defects)
    text, source = body
    attachments = tuple(_attachments(message, body_parts, defects))
    parts = list(_parts(message))
    for part in parts:
        defects.extend(type(defect).__name__ for defect in part.defects)

    return Incoming(
        message_id=message_id,
        message_id_synthetic=SYNTHETIC_MESSAGE_ID in defects,
        in_reply_to=in_reply_to,
        references=references,
        subject=_header_text(message, "Subject") or "",
        from_address=senders[0].address if senders else "",
        from_name=senders[0].name if senders else "",
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        reply_to=_addresses(message, "Reply-To"),
        date=_date(message),
        text=text,
        reply=reply_of(text),
        text_source=source,
        attachments=attachments,
        headers=_kept_headers(message),
        content_type=message.get_content_type(),
        report_type=(_param(message, "report-type") or "").lower(),
        part_types=tuple(part.get_content_type() for part in parts),
        defects=tuple(dict.fromkeys(defects)),
        raw=raw,
    )


def reply_of(text: str) -> str:
    """`text` without the quoted history under it (mail-parser-reply, Italian and English)."""
    if not text.strip() or len(text) > REPLY_PARSE_MAX_CHARS:
        return text.strip()
    set_aside: dict[str, str] = {}

    def shelve(line: str) -> str:
        if len(line) <= REPLY_LINE_MAX_CHARS:
            return line
        key = f"\x00{len(set_aside)}\x00"
        set_aside[key] = line.strip()
        return key

    prepared = "\n".join(shelve(line) for line in text.replace("\r\n", "\n").split("\n"))
    try:
        reply = EmailReplyParser(languages=list(REPLY_LANGUAGES)).parse_reply(prepared)
    except Exception:  # a third-party parser on hostile text: keep the whole text instead
        logger.warning("the reply parser failed; the whole text is kept", exc_info=True)
        return text.strip()
    if not reply or not reply.strip():
        return text.strip()  # a message that is only a quotation (a bare forward) keeps its text
    if set_aside:
        reply = _SET_ASIDE.sub(lambda match: set_aside.get(match.group(), match.group()), reply)
    return reply.strip()


# --- Headers -----------------------------------------------------------------------------------


def _readable(value: str) -> str:
    """`value` with 8-bit bytes that came without a charset read as UTF-8, else as Windows-1252.

    The parser keeps such bytes as lone surrogates, which no database or template accepts.
    """

    def decode(match: re.Match) -> str:
        data = match.group().encode("utf-8", "surrogateescape")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace")

    return _SURROGATES.sub(decode, value)


def _unfold(value: str) -> str:
    return " ".join(value.split())


def _raw_values(message: Message, name: str) -> list[str]:
    """Every value of header `name` as it stands in the message (folded, undecoded)."""
    lower = name.lower()
    return [value for key, value in message.raw_items() if key.lower() == lower]


def _header_text(message: Message, name: str) -> str | None:
    """The first value of `name`, encoded words decoded; None when the header is absent."""
    raw_values = _raw_values(message, name)
    if not raw_values:
        return None
    try:
        value = str(message.get(name))
    except Exception:  # the modern header classes raise on some malformed values
        try:
            value = str(make_header(decode_header(_readable(raw_values[0]))))
        except Exception:
            value = raw_values[0]
    return _unfold(_readable(value))


def _kept_headers(message: Message) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, _value in message.raw_items():
        lower = name.lower()
        if lower in kept or not (lower in KEPT_HEADERS or lower.startswith(OWN_HEADER_PREFIX)):
            continue
        kept[lower] = _header_text(message, name) or ""
    return kept


def _param(message: Message, name: str) -> str | None:
    try:
        value = message.get_param(name)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def ids_in(values: list[str]) -> Iterator[str]:
    """The message ids in header values, in order: `<id>` tokens, else bare tokens with an @."""
    for value in values:
        value = _readable(value)
        found = _BRACKETED_ID.findall(value)
        if not found:
            found = [
                token.strip("<>\"'")
                for token in re.split(r"[\s,]+", value)
                if "@" in token and token.strip("<>\"'")
            ]
        yield from (token for token in found if len(token) <= MESSAGE_ID_MAX_CHARS)


def _message_id(message: Message, raw: bytes, defects: list[str]) -> str:
    values = _raw_values(message, "Message-ID")
    if len(values) > 1:
        defects.append(DUPLICATE_MESSAGE_ID)
    for value in values[:1]:
        found = _BRACKETED_ID.findall(_readable(value)) or _readable(value).split()[:1]
        if found and len(found[0].strip("<>")) > MESSAGE_ID_MAX_CHARS:
            defects.append(LONG_MESSAGE_ID)
        elif found and found[0].strip("<>"):
            return found[0].strip("<>")
    defects.append(SYNTHETIC_MESSAGE_ID)
    return synthetic_message_id(raw)


def synthetic_message_id(raw: bytes) -> str:
    """The id of a message that has none: stable for the same bytes, in a domain never used."""
    return f"sha256.{hashlib.sha256(raw).hexdigest()}@sportello.invalid"


def _address(name: str, addr_spec: str) -> Address | None:
    addr_spec = _readable(addr_spec).strip().strip("<>")
    local, at, domain = addr_spec.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in addr_spec):
        return None
    return Address(address=addr_spec.lower(), name=_unfold(_readable(name)))


def _addresses(message: Message, name: str) -> tuple[Address, ...]:
    """The mailboxes of every `name` header, deduplicated by address, groups flattened."""
    found: list[Address | None] = []
    raw_values = _raw_values(message, name)
    if not raw_values:
        return ()
    try:
        for header in message.get_all(name) or []:
            for mailbox in header.addresses:
                found.append(_address(mailbox.display_name, mailbox.addr_spec))
    except Exception:
        found = [
            _address(str(display), spec)
            for display, spec in getaddresses([_readable(value) for value in raw_values])
        ]
    unique: dict[str, Address] = {}
    for address in found:
        if address is not None and address.address not in unique:
            unique[address.address] = address
    return tuple(unique.values())


def _date(message: Message) -> datetime | None:
    """The Date header as an aware datetime (a date without a zone is read as UTC); or None."""
    value = None
    try:
        header = message.get("Date")
        value = getattr(header, "datetime", None)
    except Exception:
        raw_values = _raw_values(message, "Date")
        try:
            value = parsedate_to_datetime(_readable(raw_values[0])) if raw_values else None
        except (TypeError, ValueError, IndexError):
            value = None
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- Body and attachments ----------------------------------------------------------------------


def _text_of(part: Message) -> str:
    """A text part decoded with its declared charset; without one (or an unknown one), UTF-8
    if the bytes are UTF-8, else Windows-1252, the usual charset of mail that declares none."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    charset = None
    try:
        charset = part.get_content_charset()
        if charset:
            return data.decode(charset, "replace")
    except (LookupError, ValueError):
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _body(message: EmailMessage, defects: list[str]) -> tuple[tuple[str, str], set[int]]:
    """(text, "plain"|"html"|"") and the ids of the parts that make the text."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
        defects.append(UNREADABLE_PART)
    if (
        part is None
        and message.get_content_maintype() == "multipart"
        and isinstance(message.get_payload(), str)
    ):
        # A multipart whose boundary is never found: the parser keeps the body as one text, which
        # is still what the sender wrote (with the stray boundary lines).
        return (_text_of(message).replace("\r\n", "\n").strip(), "plain"), {id(message)}
    if part is None:
        return ("", ""), set()
    parts = {id(part)}
    subtype = part.get_content_subtype()
    text = _text_of(part)
    # Some mail programs split one text around an inline image: the other inline fragments of the
    # same type, outside any alternative, belong to the text too.
    for fragment, parent in _leaves_with_parent(message):
        if (
            id(fragment) != id(part)
            and _is_text_rendering(fragment)
            and fragment.get_content_subtype() == subtype
            and parent is not None
            and parent.get_content_subtype() not in ("alternative", "related")
        ):
            parts.add(id(fragment))
            text = f"{text.rstrip()}\n\n{_text_of(fragment).lstrip()}"
    if subtype == "html":
        try:
            text = html_to_text(text)
        except Exception:
            defects.append(UNREADABLE_PART)
            text = ""
    return (text.replace("\r\n", "\n").strip(), subtype), parts


def _is_text_rendering(part: Message) -> bool:
    """A text/plain or text/html part that is a rendering of the text, not a document."""
    return (
        part.get_content_maintype() == "text"
        and part.get_content_subtype() in ("plain", "html")
        and not _filename(part)
        and part.get_content_disposition() != "attachment"
    )


def _parts(message: Message) -> Iterator[Message]:
    """The message and its parts, containers first, without opening message/* parts: what a
    forwarded e-mail holds is not this message's structure."""
    yield message
    if message.get_content_maintype() == "multipart" and isinstance(message.get_payload(), list):
        for child in message.get_payload():
            if isinstance(child, Message):
                yield from _parts(child)


def _leaves_with_parent(message: Message) -> Iterator[tuple[Message, Message | None]]:
    """Every part that is not a container, with the multipart that holds it; message/* parts
    (a forwarded e-mail, a PEC's postacert.eml, a delivery report) are leaves, not opened."""

    def walk(part: Message, parent: Message | None) -> Iterator[tuple[Message, Message | None]]:
        if part.get_content_maintype() == "multipart" and isinstance(part.get_payload(), list):
            for child in part.get_payload():
                if isinstance(child, Message):
                    yield from walk(child, part)
        else:
            yield part, parent

    yield from walk(message, None)


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return _unfold(_readable(name)) if name else ""


def _attachments(
    message: EmailMessage, body_parts: set[int], defects: list[str]
) -> Iterator[Attachment]:
    for part, parent in _leaves_with_parent(message):
        if id(part) in body_parts:
            continue
        if _is_text_rendering(part) and (
            parent is None or parent.get_content_subtype() in ("alternative", "related")
        ):
            continue  # the other rendering of the text (the HTML beside the plain text)
        try:
            content = _content_of(part)
        except Exception:
            defects.append(UNREADABLE_PART)
            continue
        content_id = part.get("Content-ID")
        yield Attachment(
            filename=_filename(part),
            content_type=part.get_content_type(),
            content=content,
            inline=part.get_content_disposition() == "inline"
            or (content_id is not None and part.get_content_disposition() != "attachment"),
            content_id=next(ids_in([str(content_id)]), None) if content_id else None,
        )


def _content_of(part: Message) -> bytes:
    """A leaf's bytes: decoded from base64 or quoted-printable; a message/* part written out."""
    if part.get_content_maintype() == "message":
        payload = part.get_payload()
        inner = payload if isinstance(payload, list) else []
        if part.get_content_subtype() == "rfc822" and len(inner) == 1:
            return _bytes_of(inner[0])
        if inner:  # message/delivery-status: a list of header blocks
            return b"\n".join(_bytes_of(block) for block in inner)
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else str(payload).encode("utf-8", "surrogateescape")
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    return str(part.get_payload() or "").encode("utf-8", "surrogateescape")


def _bytes_of(message: Message) -> bytes:
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_WRITE_POLICY).flatten(message)
    return out.getvalue()
