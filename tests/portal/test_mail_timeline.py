"""What a member reads on the portal about mail intake: their e-mail received, a document of it
refused and why, the PEC receipts of what the federation sent; never how a supervisor linked
unmatched mail, the Message-ID or the staff's copy of the original (.eml). Signed documents say
what they hold."""

from __future__ import annotations

from email import policy as email_policy
from email.message import EmailMessage

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casework.models import InboundEmail, Mailbox, Notification
from casework.services.mail_intake import mail_link, mail_take
from tests.inbound import sample
from workflows import process

from .conftest import EXE_BYTES

pytestmark = pytest.mark.django_db

Status = InboundEmail.Status
ALFA_PEC = "alfa@pec.coopalfa.example"
OUTGOING_ID = "5b0e8c1d2a3f4e5d6c7b8a9f0e1d2c3b.LEG-2026-000123@federazione.example"


def _legal_inbox(area, *, pec=False) -> Mailbox:
    return Mailbox.objects.create(
        name="pec" if pec else "legale",
        address="sportello@pec.federazione.example" if pec else "legale@federazione.example",
        kind=Mailbox.Kind.MAILDIR,
        path="var/mail/x",
        area=area,
        is_pec=pec,
    )


def _mail(sender: str, *, attachments=(), number: int = 1) -> bytes:
    mail = EmailMessage(policy=email_policy.SMTP)
    mail["From"] = sender
    mail["To"] = "legale@federazione.example"
    mail["Subject"] = "Contratto da rivedere"
    mail["Message-ID"] = f"<portal.{number}@example.org>"
    mail.set_content("Vi mandiamo il contratto.")
    for name, content in attachments:
        mail.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    return mail.as_bytes()


def _portal_page(client, member, case) -> str:
    client.force_login(member)
    response = client.get(reverse("portal-case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_member_sees_their_email_and_the_refused_document(
    client, member, consultant, process_setup
):
    inbound = mail_take(
        mailbox=_legal_inbox(process_setup),
        raw=_mail(member.email, attachments=[("fattura.pdf", EXE_BYTES)]),
    )
    assert inbound.status == Status.OPENED

    page = _portal_page(client, member, inbound.case)

    assert f"E-mail received</strong>: E-mail from {member.email}." in page
    assert "Document refused</strong>: “fattura.pdf” is not an accepted kind of document." in page
    # The staff's details and copy of the original stay with the staff.
    assert "Message-ID" not in page
    assert "portal.1@example.org" not in page
    assert ".eml" not in page


def test_the_member_sees_the_pec_certification(client, member, cooperative, process_setup):
    cooperative.email = ALFA_PEC
    cooperative.save()
    inbound = mail_take(
        mailbox=_legal_inbox(process_setup, pec=True), raw=sample("pec_envelope.eml")
    )
    assert inbound.status == Status.OPENED

    page = _portal_page(client, member, inbound.case)

    assert "PEC certified by Gestore PEC di prova S.p.A. at 15 January 2026, 10:23" in page
    assert "envelope could not be read" not in page


def test_the_member_sees_the_receipts_of_the_federations_pec(
    client, member, open_case, process_setup
):
    case = open_case()
    pec_inbox = _legal_inbox(process_setup, pec=True)
    Notification.objects.create(
        case=case,
        recipient=member,
        email=ALFA_PEC,
        kind="replied",
        dedupe_key="pec-reply",
        header_message_id=OUTGOING_ID,
        status=Notification.Status.SENT,
        mailbox=pec_inbox,
    )
    mail_take(mailbox=pec_inbox, raw=sample("pec_receipt_avvenuta-consegna.eml"))

    page = _portal_page(client, member, case)

    assert f"PEC receipt</strong>: Delivered to {ALFA_PEC} at 15 January 2026" in page


def test_the_member_never_reads_how_a_supervisor_linked_the_mail(
    client, member, supervisor, cooperative, process_setup
):
    inbound = mail_take(
        mailbox=_legal_inbox(process_setup), raw=_mail("Ignoto <ignoto@example.org>", number=2)
    )
    assert inbound.status == Status.UNMATCHED
    case = mail_link(inbound=inbound, actor=supervisor, cooperative=cooperative, requester=member)

    page = _portal_page(client, member, case)

    assert "E-mail from ignoto@example.org." in page
    assert "unmatched" not in page.lower()
    assert "Linked by" not in page
    assert ".eml" not in page


def test_signed_documents_say_what_they_hold_on_the_portal(client, member, open_case):
    case = open_case()
    for name in ("verbale.pdf.p7m", "danneggiato.pdf.p7m"):
        process.case_attach(
            case=case, uploaded_by=member, file=SimpleUploadedFile(name, sample(name))
        )

    page = _portal_page(client, member, case)

    assert "Signed document: verbale.pdf — signed by Mario Rossi (RSSMRA80A01H501U)" in page
    assert "Signed document (the envelope could not be read: The signed envelope is damaged" in (
        page
    )
