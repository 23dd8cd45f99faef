"""Italian signed documents described: what a `.p7m` holds, who signed it and a signed PDF.

Cooperatives send documents signed with a smart card or a remote signature, in two formats:
CAdES, a CMS SignedData envelope (`bilancio.pdf.p7m`) with the file inside, and PAdES, a PDF
with the signature embedded. This module reads them with asn1crypto (the CMS structures) and
pyHanko (the PDF's signature dictionaries), and tells the file inside, its type and the signers'
names and fiscal codes as their certificates state them.

It describes; it does not verify. No signature value is checked, no certificate chain is built
to a trusted list (AgID's), no revocation is asked: a name shown here is what the certificate
inside the envelope says, not a proof that that person signed. A damaged envelope is described
as unreadable with a reason, never raised.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO

from asn1crypto import cms, x509
from django.utils.translation import gettext_lazy as _

# pyHanko rather than pypdf + asn1crypto: it is the maintained PDF-signature library, its reader
# finds signature fields in incrementally updated and cross-reference-stream PDFs, and it hands
# back the signer's certificate already matched to the SignerInfo.
from pyhanko.pdf_utils.crypt.api import AuthStatus
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from ..attachments import PDF
from .sniff import PKCS7, signed_data_der, sniff

logger = logging.getLogger(__name__)

CADES = "cades"
PADES = "pades"

# Problem codes of an unreadable SignedDocument, and what a person is told.
NOT_SIGNED_DATA = "not_signed_data"
DAMAGED = "damaged"
DETACHED = "detached"
ENCRYPTED = "encrypted"
TOO_DEEP = "too_deep"
PROBLEM_MESSAGES = {
    NOT_SIGNED_DATA: _("The file is not a signed envelope."),
    DAMAGED: _("The signed envelope is damaged and cannot be read."),
    DETACHED: _("The envelope holds only the signature; the signed file is not inside."),
    ENCRYPTED: _("The PDF is protected by a password; its signatures cannot be read."),
    TOO_DEEP: _("The file is signed in envelopes nested too deeply to be opened."),
}
# A .p7m signed again is a .p7m inside a .p7m (countersigned documents); more than this is not a
# document anybody sends.
MAX_NESTING = 4

_SIGNED_SUFFIX = re.compile(r"\.p7m$", re.IGNORECASE)
# ETSI EN 319 412-1 writes the fiscal code as "TINIT-<code>"; older Italian cards as "IT:<code>".
# A person's code has 16 characters (digits may be letters after an omocodia); a company's 11.
_FISCAL_CODE = re.compile(
    r"^(?:TINIT-|IT[:-]?)?"
    r"([A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]|[0-9]{11})$",
    re.ASCII,
)


@dataclass(frozen=True)
class Signer:
    """Who a signer's certificate names: the common name, and the fiscal code when it has one."""

    name: str
    fiscal_code: str | None = None

    def __str__(self) -> str:
        return f"{self.name} ({self.fiscal_code})" if self.fiscal_code else self.name


@dataclass(frozen=True)
class SignedDocument:
    """A CAdES envelope or a PAdES PDF as described; `problem` is a code of PROBLEM_MESSAGES."""

    kind: str
    # The signed file: its name (the envelope's without ".p7m"), its type read from its content.
    inner_name: str
    inner_content_type: str | None
    signers: tuple[Signer, ...]
    readable: bool
    problem: str | None = None
    inner_content: bytes | None = field(default=None, repr=False)
    # The signing time the first signer's own clock claims (not a trusted timestamp).
    signed_at: datetime | None = None

    @property
    def problem_message(self):
        return PROBLEM_MESSAGES.get(self.problem) if self.problem else None


def describe(filename: str, content: bytes) -> SignedDocument | None:
    """A signed document's description; None when the file is neither a .p7m nor a signed PDF."""
    kind = sniff(content)
    if kind == PDF:
        return describe_pades(filename, content)
    if kind == PKCS7 or _SIGNED_SUFFIX.search(filename or ""):
        return describe_cades(filename, content)
    return None


# --- CAdES -------------------------------------------------------------------------------------


def describe_cades(filename: str, content: bytes) -> SignedDocument:
    """What a .p7m envelope holds; nested envelopes (a .p7m signed again) are opened in turn."""
    name = filename or ""
    signers: list[Signer] = []
    signed_at = None
    data = content
    for _depth in range(MAX_NESTING):
        der = signed_data_der(data)
        if der is None:
            if not signers:  # the outer file itself is no envelope
                return _unreadable(CADES, name, NOT_SIGNED_DATA)
            break
        try:
            inner, found, claimed_at = _open_envelope(der)
        except Exception as error:  # asn1crypto parses lazily: a damaged field raises when read
            logger.info("an unreadable .p7m envelope: %r", error)
            return _unreadable(CADES, name, DAMAGED, signers)
        signers.extend(signer for signer in found if signer not in signers)
        signed_at = signed_at or claimed_at
        if inner is None:
            return _unreadable(CADES, name, DETACHED, signers)
        data = inner
        name = _SIGNED_SUFFIX.sub("", name)
        if signed_data_der(data) is None:
            break
    else:
        return _unreadable(CADES, name, TOO_DEEP, signers)
    return SignedDocument(
        kind=CADES,
        inner_name=name,
        inner_content_type=sniff(data),
        signers=tuple(signers),
        readable=True,
        inner_content=data,
        signed_at=signed_at,
    )


def _open_envelope(der: bytes) -> tuple[bytes | None, list[Signer], datetime | None]:
    """The encapsulated content, the signers and the first claimed signing time of one CMS."""
    info = cms.ContentInfo.load(der)
    if info["content_type"].native != "signed_data":
        raise ValueError("not a SignedData")
    signed_data = info["content"]
    content = signed_data["encap_content_info"]["content"]
    inner = None if content.native is None else bytes(content.native)

    certificates = [
        choice.chosen
        for choice in (signed_data["certificates"] or [])
        if isinstance(choice.chosen, x509.Certificate)
    ]
    signers: list[Signer] = []
    signed_at = None
    for signer_info in signed_data["signer_infos"]:
        certificate = _certificate_of(signer_info["sid"], certificates)
        if certificate is not None:
            signers.append(signer_of(certificate))
        if signed_at is None:
            signed_at = _signing_time(signer_info)
    return inner, signers, signed_at


def _certificate_of(sid: cms.SignerIdentifier, certificates: list[x509.Certificate]):
    """The certificate a SignerInfo names, by issuer and serial number or by key identifier."""
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = sid.chosen["serial_number"].native
        for certificate in certificates:
            if certificate.serial_number == serial and certificate.issuer == issuer:
                return certificate
    elif sid.name == "subject_key_identifier":
        key_id = sid.chosen.native
        for certificate in certificates:
            if certificate.key_identifier == key_id:
                return certificate
    return None


def _signing_time(signer_info: cms.SignerInfo) -> datetime | None:
    for attribute in signer_info["signed_attrs"] or []:
        if attribute["type"].native == "signing_time":
            return attribute["values"][0].native
    return None


def signer_of(certificate: x509.Certificate) -> Signer:
    """The name and the fiscal code in a certificate's subject (ETSI: CN, serialNumber)."""
    subject = certificate.subject.native
    name = subject.get("common_name") or " ".join(
        part for part in (subject.get("given_name"), subject.get("surname")) if part
    )
    name = name or subject.get("organization_name") or certificate.subject.human_friendly
    serial = subject.get("serial_number") or ""
    if isinstance(name, list):  # a repeated attribute comes back as a list
        name = " ".join(name)
    if isinstance(serial, list):
        serial = serial[0] if serial else ""
    match = _FISCAL_CODE.match(str(serial).strip().upper())
    return Signer(name=str(name).strip(), fiscal_code=match.group(1) if match else None)


# --- PAdES -------------------------------------------------------------------------------------


def describe_pades(filename: str, content: bytes) -> SignedDocument | None:
    """The signers of a PDF's embedded signatures; None for a PDF that is not signed."""
    try:
        reader = PdfFileReader(BytesIO(content), strict=False)
        if reader.encrypted and not _opens_without_password(reader):
            return _unreadable(PADES, filename, ENCRYPTED, inner_type=PDF)
        signatures = reader.embedded_regular_signatures
        signers: list[Signer] = []
        for signature in signatures:
            signer = signer_of(signature.signer_cert)
            if signer not in signers:
                signers.append(signer)
        signed_at = signatures[0].self_reported_timestamp if signatures else None
    except Exception as error:  # pyHanko on a hostile PDF raises many kinds; none may escape
        # A PDF pyHanko cannot read: a signed one (its signature dictionary has a /ByteRange) is
        # described as damaged, any other is just a PDF the upload checks will judge.
        logger.info("a PDF whose signatures cannot be read: %r", error)
        if b"/ByteRange" in content:
            return _unreadable(PADES, filename, DAMAGED, inner_type=PDF)
        return None
    if not signatures:
        return None
    return SignedDocument(
        kind=PADES,
        inner_name=filename,
        inner_content_type=PDF,
        signers=tuple(signers),
        readable=True,
        inner_content=content,
        signed_at=signed_at,
    )


def _opens_without_password(reader: PdfFileReader) -> bool:
    """A PDF encrypted with an empty user password (printing restrictions only) still opens."""
    try:
        return reader.decrypt(b"").status != AuthStatus.FAILED
    except (PdfError, ValueError, TypeError):
        return False


def _unreadable(
    kind: str,
    name: str,
    problem: str,
    signers: list[Signer] | None = None,
    *,
    inner_type: str | None = None,
) -> SignedDocument:
    return SignedDocument(
        kind=kind,
        inner_name=_SIGNED_SUFFIX.sub("", name or ""),
        inner_content_type=inner_type,
        signers=tuple(signers or ()),
        readable=False,
        problem=problem,
    )
