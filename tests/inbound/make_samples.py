"""Write the mail intake samples into samples/: `python tests/inbound/make_samples.py`.

Every sample is made here, so each can be read and made again: e-mails as mail programs and PEC
providers write them, a CAdES `.p7m` and a PAdES PDF signed with a throw-away self-signed
certificate (CN "Mario Rossi", serialNumber "TINIT-RSSMRA80A01H501U") generated on each run, and
the bad input intake must survive. Keys, signatures and signing times change on each run; the
structures, names and ids do not, and the tests only read those.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import zipfile
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

SAMPLES = Path(__file__).resolve().parent / "samples"
CRLF = policy.SMTP  # what travels on the wire: CRLF line ends

SPORTELLO = "sportello@federazione.example"
SPORTELLO_PEC = "sportello@pec.federazione.example"
MEMBER = "Socio Alfa <Socio.Alfa@CoopAlfa.example>"
# An id as casework.mail.new_message_id writes them, for a case of the legal area.
OUTGOING_ID = "5b0e8c1d2a3f4e5d6c7b8a9f0e1d2c3b.LEG-2026-000123@federazione.example"
CASE_THREAD_ID = "case.LEG-2026-000123@federazione.example"
DATE = "Mon, 05 Jan 2026 11:30:00 +0100"
SIGNED_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# --- Throw-away signing identities -------------------------------------------------------------


def _identity(common_name: str, *, serial_number: str | None = None, organisation: str = ""):
    """A self-signed RSA certificate and its key, in pyHanko's (asn1crypto's) types too."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "IT")]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if serial_number:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
        attributes.append(x509.NameAttribute(NameOID.GIVEN_NAME, common_name.split()[0]))
        attributes.append(x509.NameAttribute(NameOID.SURNAME, common_name.split()[-1]))
    name = x509.Name(attributes)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(SIGNED_TIME)
        .not_valid_after(SIGNED_TIME + dt.timedelta(days=3650))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation, as on Italian signature cards
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    asn1_certificate = asn1_x509.Certificate.load(
        certificate.public_bytes(serialization.Encoding.DER)
    )
    asn1_key = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return signers.SimpleSigner(
        signing_cert=asn1_certificate,
        signing_key=asn1_key,
        cert_registry=SimpleCertificateStore.from_certs([asn1_certificate]),
    )


def cades(signer: signers.SimpleSigner, content: bytes) -> bytes:
    """An attached CAdES-BES SignedData (DER), as a smart-card signing program writes a .p7m."""
    info = asyncio.run(
        signer.async_sign_general_data(content, "sha256", detached=False, use_cades=True)
    )
    return info.dump()


def detached_signature(signer: signers.SimpleSigner, content: bytes) -> bytes:
    """An S/MIME detached signature (the provider's smime.p7s)."""
    return asyncio.run(signer.async_sign_general_data(content, "sha256", detached=True)).dump()


# --- Documents ---------------------------------------------------------------------------------


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with a line of text, its cross-reference table computed."""
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def pades(signer: signers.SimpleSigner, pdf: bytes) -> bytes:
    """The PDF signed in PAdES (ETSI.CAdES.detached) in a new signature field "Firma1"."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name="Firma1",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Approvazione del bilancio",
        location="Bologna",
    )
    return signers.sign_pdf(writer, meta, signer=signer).getvalue()


def zip_bomb() -> bytes:
    """64 MiB of zeros deflated to a few tens of kilobytes: harmless unless someone expands it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("zeros.bin", date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(64):
                member.write(chunk)
    return out.getvalue()


# A program renamed "fattura.pdf": the DOS header a Windows executable starts with.
FAKE_PDF = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48) + b"PE\x00\x00"


# --- E-mails -----------------------------------------------------------------------------------


def fixed_boundaries(mail: EmailMessage, name: str) -> EmailMessage:
    """Boundaries named after the sample instead of random ones, so samples made again match."""
    for number, part in enumerate(mail.walk()):
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            part.set_boundary(f"=_{name}_{number}")
    return mail


def message(
    *,
    subject: str,
    text: str | None = None,
    html: str | None = None,
    sender: str = MEMBER,
    to: str = SPORTELLO,
    message_id: str | None = "<20260105113000.1a2b3c@coopalfa.example>",
    extra: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    mail = EmailMessage(policy=CRLF)
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = DATE
    mail["Subject"] = subject
    if message_id:
        mail["Message-ID"] = message_id
    for name, value in (extra or {}).items():
        mail[name] = value
    if text is not None:
        mail.set_content(text)
        if html is not None:
            mail.add_alternative(html, subtype="html")
    elif html is not None:
        mail.set_content(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return fixed_boundaries(mail, "sportello")


REPLY_HEADERS = {
    "In-Reply-To": f"<{OUTGOING_ID}>",
    "References": f"<{CASE_THREAD_ID}> <{OUTGOING_ID}>",
}

ITALIAN_REPLY = """\
Buongiorno,
vi mando in allegato il verbale dell'assemblea. Il contratto è firmato.

Cordiali saluti
Socio Alfa
Cooperativa Alfa

Il giorno lun 5 gen 2026 alle ore 10:00 Sportello <sportello@federazione.example> ha scritto:
> Gentile socio,
> la pratica LEG-2026-000123 attende il verbale dell'assemblea.
>
> Lo Sportello
"""

ENGLISH_REPLY = """\
Hello,

the signed contract is attached.

Best,
Socio Alfa

On Mon, Jan 5, 2026 at 10:00 AM Sportello della Federazione <sportello@federazione.example> wrote:
> Dear member,
> case LEG-2026-000123 is waiting for the signed contract.
"""

OUTLOOK_REPLY = """\
Confermo la data dell'incontro.

________________________________
Da: Sportello della Federazione <sportello@federazione.example>
Inviato: lunedì 5 gennaio 2026 10:00
A: Socio Alfa <socio.alfa@coopalfa.example>
Oggetto: [LEG-2026-000123] Incontro

Vi proponiamo un incontro giovedì alle 10.
"""

HTML_ONLY = """\
<html><head><meta charset="utf-8"><title>ignored title</title>
<style>p { color: red }</style></head>
<body><div dir="ltr">Grazie, il documento &egrave; in allegato.<br>A presto &amp; buon lavoro.</div>
<script>alert("never run")</script>
<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">Il giorno lun 5 gen 2026 alle ore
10:00 Sportello &lt;sportello@federazione.example&gt; ha scritto:<br></div>
<blockquote class="gmail_quote" style="margin:0 0 0 .8ex">
<p>Gentile socio, ci manca il documento.</p></blockquote></div></body></html>
"""

DSN_TEXT = """\
This is the mail system at host mx.coopalfa.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<nessuno@coopalfa.example>: host mx.coopalfa.example said: 550 5.1.1 User unknown
"""

DSN_STATUS = """\
Reporting-MTA: dns; mx.coopalfa.example
Arrival-Date: Mon, 5 Jan 2026 11:30:00 +0100

Final-Recipient: rfc822; nessuno@coopalfa.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown
"""


def dsn_bounce() -> bytes:
    boundary = "dsn-boundary-0001"
    original = message(
        subject="[LEG-2026-000123] La vostra pratica",
        text="Gentile socio, ...",
        sender="Sportello <sportello@federazione.example>",
        to="nessuno@coopalfa.example",
        message_id=f"<{OUTGOING_ID}>",
    )
    lines = [
        "Return-Path: <>",
        "From: MAILER-DAEMON@mx.coopalfa.example (Mail Delivery System)",
        f"To: {SPORTELLO}",
        f"Date: {DATE}",
        "Subject: Undelivered Mail Returned to Sender",
        "Message-ID: <20260105113001.DSN@mx.coopalfa.example>",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        DSN_TEXT,
        f"--{boundary}",
        "Content-Type: message/delivery-status",
        "",
        DSN_STATUS,
        f"--{boundary}",
        "Content-Type: message/rfc822",
        "",
        "",
    ]
    head = "\n".join(lines).replace("\n", "\r\n").encode()
    return head + original.as_bytes() + f"\r\n--{boundary}--\r\n".encode()


def raw_lines(*lines: str | bytes) -> bytes:
    return b"\r\n".join(line.encode() if isinstance(line, str) else line for line in lines)


def eight_bit_header() -> bytes:
    """UTF-8 bytes in Subject and a Windows-1252 name in From, without any encoded word."""
    return raw_lines(
        b"From: Societ\xe0 Cooperativa Alfa <Info@CoopAlfa.example>",
        f"To: {SPORTELLO}",
        f"Date: {DATE}",
        b"Subject: Richiesta di proroga " + "perché è urgente".encode(),
        "Message-ID: <8bit.0001@coopalfa.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain",
        "Content-Transfer-Encoding: 8bit",
        b"",
        b"Chiediamo una proroga di trenta giorni.",
        b"",
    )


def malformed_boundary() -> bytes:
    """A multipart whose parts use another boundary than the declared one, and broken base64."""
    return raw_lines(
        f"From: {MEMBER}",
        f"To: {SPORTELLO}",
        f"Date: {DATE}",
        "Subject: Documenti per la pratica",
        "Message-ID: <malformed.0001@coopalfa.example>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="declared-boundary"',
        "",
        "--another-boundary",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Vi invio i documenti richiesti.",
        "--another-boundary",
        'Content-Type: application/pdf; name="verbale.pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        "JVBERi0xLjcK!!!not base64 at all",
        "",
    )


def unclosed_multipart() -> bytes:
    """The closing boundary is missing and the last part is cut short."""
    return raw_lines(
        f"From: {MEMBER}",
        f"To: {SPORTELLO}",
        f"Date: {DATE}",
        "Subject: Allegato troncato",
        "Message-ID: <unclosed.0001@coopalfa.example>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b1"',
        "",
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Il testo arriva intero.",
        "--b1",
        'Content-Type: application/octet-stream; name="dati.bin"',
        "Content-Transfer-Encoding: base64",
        "",
        "AAECAwQF",
    )


# --- PEC ---------------------------------------------------------------------------------------

PEC_SENDER = "alfa@pec.coopalfa.example"
PROVIDER = "posta-certificata@pec.gestore.example"
INNER_ID = "opec-inner-0001@pec.coopalfa.example"
PEC_ID = "opec210.20260115102345.12345.678.1.62@pec.gestore.example"


def daticert(
    tipo: str,
    *,
    msgid: str,
    errore: str = "nessuno",
    extra: str = "",
    oggetto: str = "Avviso di accertamento 2025",
    doctype: str = '<!DOCTYPE postacert SYSTEM "postacert.dtd">',
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
{doctype}
<postacert tipo="{tipo}" errore="{errore}">
  <intestazione>
    <mittente>{PEC_SENDER}</mittente>
    <destinatari tipo="certificato">{SPORTELLO_PEC}</destinatari>
    <destinatari tipo="esterno">archivio@federazione.example</destinatari>
    <risposte>{PEC_SENDER}</risposte>
    <oggetto>{oggetto}</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Gestore PEC di prova S.p.A.</gestore-emittente>
    <data zona="+0100">
      <giorno>15/01/2026</giorno>
      <ora>10:23:45</ora>
    </data>
    <identificativo>{PEC_ID}</identificativo>
    <msgid>&lt;{msgid}&gt;</msgid>{extra}
  </dati>
</postacert>
""".encode()


def _part(content_type: str, body: bytes, *, filename: str | None = None) -> EmailMessage:
    maintype, subtype = content_type.split("/")
    part = EmailMessage(policy=CRLF)
    part.set_content(body, maintype=maintype, subtype=subtype, filename=filename)
    if filename:
        part.replace_header("Content-Disposition", f'attachment; filename="{filename}"')
    return part


def _inner_message(original: bytes) -> EmailMessage:
    """postacert.eml: a message/rfc822 attachment holding the original message as it was sent."""
    wrapper = EmailMessage(policy=CRLF)
    wrapper.set_content(
        BytesParser(policy=CRLF).parsebytes(original),
        disposition="attachment",
        filename="postacert.eml",
    )
    wrapper.set_param("name", "postacert.eml")
    return wrapper


def pec(
    provider: signers.SimpleSigner,
    *,
    headers: dict[str, str],
    text: str,
    daticert_xml: bytes | None,
    inner: bytes | None,
) -> bytes:
    """A provider's message: multipart/signed around multipart/mixed, as the technical rules say."""
    mixed = EmailMessage(policy=CRLF)
    mixed.set_content(text)
    mixed.add_alternative(
        "<html><body>" + "".join(f"<p>{line}</p>" for line in text.splitlines()) + "</body></html>",
        subtype="html",
    )
    mixed.make_mixed()
    del mixed["MIME-Version"]  # the part is inside the envelope, which declares it
    fixed_boundaries(mixed, "pec")
    if inner is not None:
        mixed.attach(_inner_message(inner))
    if daticert_xml is not None:
        mixed.attach(_part("application/xml", daticert_xml, filename="daticert.xml"))
    # The signature covers the mixed part exactly as it is written on the wire.
    signed_part = mixed.as_bytes(policy=CRLF)
    signature = base64.encodebytes(detached_signature(provider, signed_part)).replace(
        b"\n", b"\r\n"
    )
    boundary = "----=_pec_signed_0001"
    head = [
        f"Return-Path: {headers.get('Return-Path', f'<{PROVIDER}>')}",
        "Date: Thu, 15 Jan 2026 10:23:45 +0100",
        *(f"{name}: {value}" for name, value in headers.items() if name != "Return-Path"),
        "X-VerificaSicurezza: ok",
        "MIME-Version: 1.0",
        'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;'
        f' boundary="{boundary}"',
        "",
        "This is a cryptographically signed message in MIME format.",
        "",
        f"--{boundary}",
    ]
    tail = [
        f"--{boundary}",
        'Content-Type: application/pkcs7-signature; name="smime.p7s"',
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="smime.p7s"',
        "Content-Description: S/MIME Cryptographic Signature",
        "",
    ]
    return (
        "\r\n".join(head).encode()
        + b"\r\n"
        + signed_part
        + b"\r\n"
        + "\r\n".join(tail).encode()
        + b"\r\n"
        + signature
        + f"--{boundary}--\r\n".encode()
    )


RECEIPTS = {
    # kind: (subject prefix, errore, extra daticert elements, carries postacert.eml)
    "accettazione": ("ACCETTAZIONE", "nessuno", "", False),
    "non-accettazione": ("AVVISO DI NON ACCETTAZIONE", "altro", "", False),
    "presa-in-carico": ("PRESA IN CARICO", "nessuno", "", False),
    "avvenuta-consegna": (
        "CONSEGNA",
        "nessuno",
        f'\n    <ricevuta tipo="completa" />\n    <consegna>{PEC_SENDER}</consegna>',
        True,
    ),
    "errore-consegna": (
        "AVVISO DI MANCATA CONSEGNA",
        "no-dest",
        f"\n    <consegna>{PEC_SENDER}</consegna>"
        "\n    <errore-esteso>5.1.1 - Utente non esistente</errore-esteso>",
        False,
    ),
    "preavviso-errore-consegna": (
        "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO",
        "no-dest",
        f"\n    <consegna>{PEC_SENDER}</consegna>",
        False,
    ),
    "rilevazione-virus": ("PROBLEMA DI SICUREZZA", "virus", "", False),
}


def write_all() -> None:
    SAMPLES.mkdir(exist_ok=True)

    def save(name: str, data: bytes) -> None:
        (SAMPLES / name).write_bytes(data)

    mario = _identity("Mario Rossi", serial_number="TINIT-RSSMRA80A01H501U")
    provider = _identity("Gestore PEC di prova S.p.A.", organisation="Gestore PEC di prova S.p.A.")

    # Signed documents.
    pdf = minimal_pdf("Verbale di assemblea della Cooperativa Alfa")
    p7m = cades(mario, pdf)
    save("verbale.pdf", pdf)
    save("verbale.pdf.p7m", p7m)
    save(
        "verbale_base64.pdf.p7m",
        b"-----BEGIN PKCS7-----\n" + base64.encodebytes(p7m) + b"-----END PKCS7-----\n",
    )
    save("verbale.pdf.p7m.p7m", cades(mario, p7m))
    save("danneggiato.pdf.p7m", p7m[: len(p7m) // 2])
    save("firmato_pades.pdf", pades(mario, pdf))
    save("fattura.pdf", FAKE_PDF)
    bomb = zip_bomb()
    save("bomba.zip", bomb)

    # Replies and ordinary mail.
    save(
        "reply_italian.eml",
        message(
            subject="Re: [LEG-2026-000123] Verbale dell'assemblea",
            text=ITALIAN_REPLY,
            extra=REPLY_HEADERS,
            attachments=[("verbale.pdf.p7m", "application/pkcs7-mime", p7m)],
        ).as_bytes(),
    )
    save(
        "reply_english.eml",
        message(
            subject="RE: [LEG-2026-000123] Signed contract",
            text=ENGLISH_REPLY,
            extra=REPLY_HEADERS,
        ).as_bytes(),
    )
    save(
        "reply_outlook.eml",
        message(subject="R: [LEG-2026-000123] Incontro", text=OUTLOOK_REPLY).as_bytes(),
    )
    save(
        "html_only.eml",
        message(subject="Re: documento", html=HTML_ONLY, extra=REPLY_HEADERS).as_bytes(),
    )
    save(
        "alternative_with_attachments.eml",
        message(
            subject="Documenti",
            text="Testo semplice del messaggio.",
            html="<p>Testo <b>HTML</b> del messaggio.</p>",
            attachments=[
                ("firmato_pades.pdf", "application/pdf", pades(mario, pdf)),
                ("fattura.pdf", "application/pdf", FAKE_PDF),
                ("bomba.zip", "application/zip", bomb),
            ],
        ).as_bytes(),
    )
    save(
        "no_message_id.eml",
        message(
            subject="Senza identificativo", text="Un messaggio senza Message-ID.", message_id=None
        ).as_bytes(),
    )
    # The email package refuses to write two Message-IDs; a broken relay does it anyway.
    duplicate = message(subject="Doppio identificativo", text="Due Message-ID.").as_bytes()
    save(
        "duplicate_message_id.eml",
        duplicate.replace(
            b"\r\n\r\n", b"\r\nMessage-ID: <second.0002@coopalfa.example>\r\n\r\n", 1
        ),
    )
    save("eight_bit_header.eml", eight_bit_header())
    save("malformed_boundary.eml", malformed_boundary())
    save("unclosed_multipart.eml", unclosed_multipart())

    # What must open nothing.
    save(
        "auto_replied.eml",
        message(
            subject="Risposta automatica: [LEG-2026-000123] La vostra pratica",
            text="Sono fuori ufficio fino al 12 gennaio.",
            extra={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
        ).as_bytes(),
    )
    save("bounce_dsn.eml", dsn_bounce())
    save(
        "own_notification.eml",
        message(
            subject="[LEG-2026-000123] Nuovo messaggio",
            text="Un messaggio di Sportello tornato indietro.",
            sender=f"Sportello <{SPORTELLO}>",
            extra={"X-Sportello-Notification": "42", "Auto-Submitted": "auto-generated"},
        ).as_bytes(),
    )

    # PEC: an envelope, an anomaly, a forged header, each receipt.
    original = message(
        subject="Avviso di accertamento 2025",
        text="Trasmettiamo l'avviso ricevuto dall'Agenzia delle Entrate.",
        sender=f"Cooperativa Alfa <{PEC_SENDER}>",
        to=SPORTELLO_PEC,
        message_id=f"<{INNER_ID}>",
        attachments=[("avviso.pdf.p7m", "application/pkcs7-mime", p7m)],
    ).as_bytes()
    envelope_headers = {
        "Subject": "POSTA CERTIFICATA: Avviso di accertamento 2025",
        "From": f'"Per conto di: {PEC_SENDER}" <{PROVIDER}>',
        "Reply-To": PEC_SENDER,
        "To": SPORTELLO_PEC,
        "Message-ID": f"<{PEC_ID}>",
        "X-Riferimento-Message-ID": f"<{INNER_ID}>",
        "X-Trasporto": "posta-certificata",
    }
    envelope_text = (
        "Messaggio di posta certificata\n\n"
        "Il giorno 15/01/2026 alle ore 10:23:45 (+0100) il messaggio\n"
        f'"Avviso di accertamento 2025" è stato inviato da "{PEC_SENDER}"\n'
        f"indirizzato a:\n{SPORTELLO_PEC}\n"
        "Il messaggio originale è incluso in allegato.\n"
        f"Identificativo messaggio: {PEC_ID}\n"
    )
    save(
        "pec_envelope.eml",
        pec(
            provider,
            headers=envelope_headers,
            text=envelope_text,
            daticert_xml=daticert("posta-certificata", msgid=INNER_ID),
            inner=original,
        ),
    )
    xxe = daticert(
        "posta-certificata",
        msgid=INNER_ID,
        doctype='<!DOCTYPE postacert [<!ENTITY segreto SYSTEM "file:///etc/passwd">]>',
        oggetto="&segreto;",
    )
    save("daticert_external_entity.xml", xxe)
    save(
        "daticert_billion_laughs.xml",
        daticert(
            "posta-certificata",
            msgid=INNER_ID,
            doctype='<!DOCTYPE postacert [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>',
            oggetto="&b;&b;&b;",
        ),
    )
    save(
        "daticert_public_dtd.xml",
        daticert(
            "avvenuta-consegna",
            msgid=OUTGOING_ID,
            doctype='<!DOCTYPE postacert PUBLIC "posta certificata" '
            '"https://pec.gestore.example/dtd/postacert.dtd">',
        ),
    )
    save(
        "pec_envelope_external_entity.eml",
        pec(
            provider, headers=envelope_headers, text=envelope_text, daticert_xml=xxe, inner=original
        ),
    )
    anomaly_headers = dict(
        envelope_headers,
        Subject="ANOMALIA MESSAGGIO: Avviso di accertamento 2025",
        **{"X-Trasporto": "errore"},
    )
    save(
        "pec_anomaly.eml",
        pec(
            provider,
            headers=anomaly_headers,
            text="Anomalia nel messaggio\n\nIl messaggio originale è incluso in allegato.\n",
            daticert_xml=None,
            inner=original,
        ),
    )
    forged = message(
        subject="POSTA CERTIFICATA: pagamento urgente",
        text="Paghi subito.",
        sender="Truffatore <truffa@example.com>",
        extra={"X-Trasporto": "posta-certificata", "X-Ricevuta": "avvenuta-consegna"},
    )
    save("forged_pec.eml", forged.as_bytes())

    outgoing = message(
        subject="[LEG-2026-000123] Risposta alla vostra PEC",
        text="Gentile cooperativa, ...",
        sender=f"Sportello <{SPORTELLO_PEC}>",
        to=PEC_SENDER,
        message_id=f"<{OUTGOING_ID}>",
    ).as_bytes()
    for kind, (prefix, errore, extra, with_copy) in RECEIPTS.items():
        headers = {
            "Subject": f"{prefix}: [LEG-2026-000123] Risposta alla vostra PEC",
            "From": f'"Per conto di: {SPORTELLO_PEC}" <{PROVIDER}>',
            "To": SPORTELLO_PEC,
            "Message-ID": f"<ricevuta.{kind}.0001@pec.gestore.example>",
            "X-Ricevuta": kind,
            "X-Riferimento-Message-ID": f"<{OUTGOING_ID}>",
        }
        if kind == "non-accettazione":
            # Some providers send the failures with the null reverse path of a bounce.
            headers["Return-Path"] = "<>"
        save(
            f"pec_receipt_{kind}.eml",
            pec(
                provider,
                headers=headers,
                text=f"Ricevuta di {kind}\n\nIl giorno 15/01/2026 alle ore 10:23:45 (+0100) ...\n",
                daticert_xml=daticert(kind, msgid=OUTGOING_ID, errore=errore, extra=extra),
                inner=outgoing if with_copy else None,
            ),
        )


if __name__ == "__main__":
    write_all()
    print(f"samples written to {SAMPLES}")
