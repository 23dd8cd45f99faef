"""Signed documents described (CAdES .p7m, PAdES PDF), and documents sniffed by content."""

import pytest

from casework.inbound import signed
from casework.inbound.parse import parse
from casework.inbound.sniff import (
    GIF,
    PKCS7,
    UNKNOWN,
    WINDOWS_PROGRAM,
    signed_data_der,
    sniff,
)
from tests.inbound import sample

MARIO = signed.Signer(name="Mario Rossi", fiscal_code="RSSMRA80A01H501U")


@pytest.mark.parametrize(
    "name", ["verbale.pdf.p7m", "verbale_base64.pdf.p7m", "verbale.pdf.p7m.p7m"]
)
def test_a_p7m_is_described_with_its_inner_file_and_signer(name):
    document = signed.describe(name, sample(name))

    assert document.kind == signed.CADES
    assert document.readable and document.problem is None
    # Every ".p7m" comes off the name, one per envelope opened.
    assert document.inner_name == name.replace(".p7m", "")
    assert document.inner_content_type == "application/pdf"
    assert document.inner_content == sample("verbale.pdf")
    assert document.signers == (MARIO,)
    assert str(document.signers[0]) == "Mario Rossi (RSSMRA80A01H501U)"
    assert document.signed_at is not None


def test_a_p7m_attached_to_a_reply_is_described_from_the_mail():
    attachment = parse(sample("reply_italian.eml")).attachments[0]

    document = signed.describe(attachment.filename, attachment.content)

    assert (document.inner_name, document.signers) == ("verbale.pdf", (MARIO,))


def test_a_damaged_p7m_is_unreadable_with_a_reason():
    document = signed.describe("danneggiato.pdf.p7m", sample("danneggiato.pdf.p7m"))

    assert document.kind == signed.CADES
    assert document.readable is False
    assert document.problem == signed.DAMAGED
    assert str(document.problem_message)
    assert document.inner_name == "danneggiato.pdf"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not an envelope at all", signed.NOT_SIGNED_DATA),
        (b"", signed.NOT_SIGNED_DATA),
        (bytes.fromhex("3082010006092a864886f70d010702") + b"\xff" * 300, signed.DAMAGED),
    ],
)
def test_a_p7m_name_on_something_else_is_unreadable(content, problem):
    document = signed.describe("falso.pdf.p7m", content)

    assert (document.readable, document.problem) == (False, problem)


def test_a_signed_pdf_is_described_with_its_signer():
    document = signed.describe("firmato_pades.pdf", sample("firmato_pades.pdf"))

    assert document.kind == signed.PADES
    assert document.readable
    assert document.inner_name == "firmato_pades.pdf"
    assert document.inner_content_type == "application/pdf"
    assert document.signers == (MARIO,)


def test_a_pdf_without_signatures_is_not_a_signed_document():
    assert signed.describe("verbale.pdf", sample("verbale.pdf")) is None


def test_a_damaged_signed_pdf_is_unreadable_not_raised():
    content = sample("firmato_pades.pdf")[:-200]

    document = signed.describe("firmato_pades.pdf", content)

    assert (document.kind, document.readable, document.problem) == (
        signed.PADES,
        False,
        signed.DAMAGED,
    )


@pytest.mark.parametrize("name", ["fattura.pdf", "bomba.zip"])
def test_other_documents_are_not_signed_documents(name):
    assert signed.describe(name, sample(name)) is None


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("verbale.pdf", "application/pdf"),
        ("firmato_pades.pdf", "application/pdf"),
        ("verbale.pdf.p7m", PKCS7),
        ("verbale_base64.pdf.p7m", PKCS7),
        ("fattura.pdf", WINDOWS_PROGRAM),  # an executable renamed .pdf
        ("bomba.zip", "application/zip"),  # read to its directory, never expanded
    ],
)
def test_sniff_reads_the_type_from_the_content(name, kind):
    assert sniff(sample(name)) == kind


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(16), "image/png"),
        (b"\xff\xd8\xff\xe0" + bytes(16), "image/jpeg"),
        (b"GIF89a" + bytes(16), GIF),
        (b"\x7fELF\x02\x01\x01" + bytes(16), "application/x-executable"),
        ("testo semplice, è UTF-8".encode(), "text/plain"),
        (b"\x00\x01\x02\x03binary", UNKNOWN),
        (b"", UNKNOWN),
    ],
)
def test_sniff_magic_numbers(content, kind):
    assert sniff(content) == kind


def test_a_zip_bomb_is_never_expanded(monkeypatch):
    import zipfile

    def refuse(*args, **kwargs):  # pragma: no cover - reaching it is the failure
        raise AssertionError("a member of the archive was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "read", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", refuse)

    incoming = parse(sample("alternative_with_attachments.eml"))
    bomb = next(a for a in incoming.attachments if a.filename == "bomba.zip")

    assert sniff(bomb.content) == "application/zip"
    assert signed.describe(bomb.filename, bomb.content) is None


def test_signed_data_der_refuses_base64_of_something_else():
    assert signed_data_der(b"MIIBAAAA") is None
    assert (
        signed_data_der(b"-----BEGIN PKCS7-----\nbm90IGEgc2lnbmF0dXJl\n-----END PKCS7-----") is None
    )


@pytest.mark.parametrize(
    ("serial", "code"),
    [
        ("TINIT-RSSMRA80A01H501U", "RSSMRA80A01H501U"),
        ("IT:RSSMRA80A01H501U", "RSSMRA80A01H501U"),
        ("RSSMRA80A01H501U", "RSSMRA80A01H501U"),
        ("TINIT-01234567890", "01234567890"),
        ("12345", None),
    ],
)
def test_the_fiscal_code_is_read_from_the_serial_number(serial, code):
    from asn1crypto import x509

    certificate = x509.Certificate(
        {
            "tbs_certificate": {
                "subject": x509.Name.build({"common_name": "Mario Rossi", "serial_number": serial}),
            }
        }
    )

    assert signed.signer_of(certificate).fiscal_code == code
