"""What a document from a message really is, read from its first bytes, never from its name.

The upload checks' detector (`doctypes.detect_content_type`) stays the one home of the types
it knows (PDF, PNG, JPEG, ZIP and the Office formats inside it, plain text); this adds what mail
brings besides: signed envelopes (`.p7m`, DER or base64), GIF, and programs, named so that an
executable renamed `.pdf` is reported as what it is. Nothing is decompressed: a ZIP is read as
far as its directory, never expanded.
"""

from __future__ import annotations

import base64
import binascii
from io import BytesIO

from ..doctypes import TEXT, detect_content_type

PKCS7 = "application/pkcs7-mime"
GIF = "image/gif"
WINDOWS_PROGRAM = "application/vnd.microsoft.portable-executable"
ELF_PROGRAM = "application/x-executable"
MACH_O_PROGRAM = "application/x-mach-binary"
UNKNOWN = "application/octet-stream"

# DER of the CMS content type id-signedData (1.2.840.113549.1.7.2), which follows the outer
# SEQUENCE's tag and length at the start of every .p7m.
_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")
_PEM_ARMOUR = (
    b"-----BEGIN PKCS7-----",
    b"-----BEGIN CMS-----",
    b"-----BEGIN PKCS #7 SIGNED DATA-----",
)
_MACH_O = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")


def is_signed_data(der: bytes) -> bool:
    """Whether `der` starts as a CMS SignedData (a CAdES envelope): a SEQUENCE, then the id."""
    if len(der) < 2 or der[0] != 0x30:
        return False
    # The length: one byte (short form), 0x80 (indefinite, BER), or 0x8N and N bytes.
    first = der[1]
    offset = 2 if first <= 0x80 else 2 + (first & 0x7F)
    return der[offset : offset + len(_SIGNED_DATA_OID)] == _SIGNED_DATA_OID


def signed_data_der(content: bytes) -> bytes | None:
    """The DER of a .p7m given as DER, as base64 or as PEM; None when it is not a SignedData."""
    if is_signed_data(content):
        return content
    text = content.strip()
    for armour in _PEM_ARMOUR:
        if text.startswith(armour):
            text = text[len(armour) :].split(b"-----END", 1)[0].strip()
            break
    # base64 of a SEQUENCE with a long length starts "MII" / "MIA"; anything else is not one.
    if not text.startswith((b"MI", b"MA")):
        return None
    try:
        der = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return der if is_signed_data(der) else None


def sniff(content: bytes) -> str:
    """The MIME type `content` is, from its magic numbers; UNKNOWN when none matches."""
    head = content[:32]
    if is_signed_data(head):
        return PKCS7
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"MZ"):
        return WINDOWS_PROGRAM
    if head.startswith(b"\x7fELF"):
        return ELF_PROGRAM
    if head.startswith(_MACH_O):
        return MACH_O_PROGRAM
    detected = detect_content_type(BytesIO(content))
    if detected == TEXT and signed_data_der(content) is not None:
        return PKCS7  # a .p7m saved as base64 or PEM is text to the upload checks
    return detected or UNKNOWN
