"""What the case page's timeline says about mail intake (an e-mail, a refused document, a PEC, its
receipts, a link from unmatched mail) and about signed documents, as staff read it."""

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

pytestmark = pytest.mark.django_db

Status = InboundEmail.Status
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60
ALFA_PEC = "alfa@pec.coopalfa.example"
# The outgoing e-mail the PEC receipt samples answer (tests/inbound/make_samples.py).
OUTGOING_ID = "5b0e8c1d2a3f4e5d6c7b8a9f0e1d2c3b.LEG-2026-000123@federazione.example"


@pytest.fixture(autouse=True)
def mail_timeline_media(settings, tmp_path):
    """Originals and documents go to a temporary directory, never to var/uploads."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _inbox(area, *, pec=False) -> Mailbox:
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
    mail["Message-ID"] = f"<timeline.{number}@example.org>"
    mail.set_content("Vi mandiamo il contratto.")
    for name, content in attachments:
        mail.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    return mail.as_bytes()


def _case_page(client, user, case) -> str:
    client.force_login(user)
    return client.get(reverse("work:case", args=[case.pk])).content.decode()


def test_an_email_and_its_refused_document_in_the_timeline(
    client, consultant, member, process_setup
):
    inbound = mail_take(
        mailbox=_inbox(process_setup),
        raw=_mail(member.email, attachments=[("fattura.pdf", EXE)]),
    )
    assert inbound.status == Status.OPENED

    page = _case_page(client, consultant, inbound.case)

    assert f"E-mail from {member.email}." in page
    assert "Message-ID: timeline.1@example.org" in page
    assert "Document refused" in page
    assert "“fattura.pdf” is not an accepted kind of document." in page
    # The whole original, for the staff.
    assert ".eml</a>" in page


def test_a_pec_shows_what_the_provider_certified(
    client, consultant, cooperative, process_setup, member
):
    cooperative.email = ALFA_PEC
    cooperative.save()
    inbound = mail_take(mailbox=_inbox(process_setup, pec=True), raw=sample("pec_envelope.eml"))
    assert inbound.status == Status.OPENED

    page = _case_page(client, consultant, inbound.case)

    assert f"E-mail from {ALFA_PEC}." in page
    assert "PEC certified by Gestore PEC di prova S.p.A. at 15 January 2026, 10:23, id " in page
    assert "opec210.20260115102345.12345.678.1.62@pec.gestore.example" in page


@pytest.mark.parametrize(
    ("receipt", "words"),
    [
        ("accettazione", "Accepted by the sender&#x27;s provider at 15 January 2026"),
        ("avvenuta-consegna", f"Delivered to {ALFA_PEC} at 15 January 2026"),
        ("non-accettazione", "Not accepted by the sender&#x27;s provider at"),
        ("errore-consegna", f"Delivery error to {ALFA_PEC} at 15 January 2026"),
    ],
)
def test_a_pec_receipt_shows_on_the_case_of_the_email_it_certifies(
    client, consultant, assigned_case, member, process_setup, receipt, words
):
    pec_inbox = _inbox(process_setup, pec=True)
    Notification.objects.create(
        case=assigned_case,
        recipient=member,
        email=ALFA_PEC,
        kind="replied",
        dedupe_key="pec-reply",
        header_message_id=OUTGOING_ID,
        status=Notification.Status.SENT,
        mailbox=pec_inbox,
    )
    inbound = mail_take(mailbox=pec_inbox, raw=sample(f"pec_receipt_{receipt}.eml"))
    assert inbound.status == Status.RECEIPT and inbound.case == assigned_case

    page = _case_page(client, consultant, assigned_case)

    assert '<span class="tag">PEC receipt</span>' in page
    assert words in page
    if receipt == "errore-consegna":
        assert "The provider says: 5.1.1 - Utente non esistente" in page


def test_a_case_linked_from_unmatched_mail_says_who_linked_it(
    client, consultant, supervisor, cooperative, member, process_setup
):
    inbound = mail_take(
        mailbox=_inbox(process_setup), raw=_mail("Ignoto <ignoto@example.org>", number=2)
    )
    assert inbound.status == Status.UNMATCHED
    supervisor.first_name, supervisor.last_name = "Sara", "Supervisori"
    supervisor.save()
    case = mail_link(inbound=inbound, actor=supervisor, cooperative=cooperative, requester=member)

    page = _case_page(client, consultant, case)

    assert "Linked by Sara Supervisori from unmatched mail (the e-mail of ignoto@example.org)." in (
        page
    )


# --- Signed documents ----------------------------------------------------------------------


def test_a_signed_document_says_what_it_holds_and_who_signed(client, consultant, assigned_case):
    process.case_attach(
        case=assigned_case,
        uploaded_by=consultant,
        file=SimpleUploadedFile("verbale.pdf.p7m", sample("verbale.pdf.p7m")),
    )
    process.case_attach(
        case=assigned_case,
        uploaded_by=consultant,
        file=SimpleUploadedFile("danneggiato.pdf.p7m", sample("danneggiato.pdf.p7m")),
    )

    page = _case_page(client, consultant, assigned_case)

    assert (
        '<p class="signature">Signed document: verbale.pdf — signed by Mario Rossi '
        "(RSSMRA80A01H501U)</p>"
    ) in page
    assert (
        "Signed document (the envelope could not be read: The signed envelope is damaged and "
        "cannot be read)"
    ) in page


def test_an_ordinary_document_has_no_signature_line(client, consultant, assigned_case):
    process.case_attach(
        case=assigned_case,
        uploaded_by=consultant,
        file=SimpleUploadedFile("verbale.pdf", sample("verbale.pdf")),
    )

    page = _case_page(client, consultant, assigned_case)

    assert "verbale.pdf" in page
    assert 'class="signature"' not in page
