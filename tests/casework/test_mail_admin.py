"""The admin of mail intake: mailboxes (passwords never shown back, kept when left empty) and the
incoming e-mails, read-only, with "Try again" for the ones that failed."""

from __future__ import annotations

from email import policy as email_policy
from email.message import EmailMessage

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from casework.models import Case, InboundEmail, Mailbox

pytestmark = pytest.mark.django_db

Status = InboundEmail.Status


@pytest.fixture(autouse=True)
def mail_admin_media(settings, tmp_path):
    """Originals go to a temporary directory, never to var/uploads."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def imap_inbox(area):
    return Mailbox.objects.create(
        name="legale",
        address="legale@federazione.example",
        kind=Mailbox.Kind.IMAP,
        host="imap.federazione.example",
        username="legale",
        password="segreta-imap",
        area=area,
        is_pec=True,
        smtp_host="smtps.pec.example",
        smtp_username="legale",
        smtp_password="segreta-smtp",
    )


def _mailbox_data(mailbox, **changes):
    data = {
        "name": mailbox.name,
        "address": mailbox.address,
        "kind": mailbox.kind,
        "area": str(mailbox.area_id or ""),
        "is_pec": "on" if mailbox.is_pec else "",
        "is_enabled": "on",
        "host": mailbox.host,
        "port": str(mailbox.port),
        "use_tls": "on",
        "username": mailbox.username,
        "password": "",
        "folder": mailbox.folder,
        "path": mailbox.path,
        "smtp_host": mailbox.smtp_host,
        "smtp_port": str(mailbox.smtp_port),
        "smtp_use_ssl": "on",
        "smtp_username": mailbox.smtp_username,
        "smtp_password": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def _raw(sender: str, *, message_id: str) -> bytes:
    mail = EmailMessage(policy=email_policy.SMTP)
    mail["From"] = sender
    mail["To"] = "legale@federazione.example"
    mail["Subject"] = "Richiesta dal socio"
    mail["Message-ID"] = f"<{message_id}>"
    mail.set_content("Buongiorno, una domanda sullo statuto.")
    return mail.as_bytes()


def test_a_mailbox_page_never_shows_its_passwords(admin_browser, imap_inbox):
    page = admin_browser.get(reverse("admin:casework_mailbox_change", args=[imap_inbox.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "segreta-imap" not in text and "segreta-smtp" not in text
    assert "Stored. Leave empty to keep it." in text
    for heading in ("IMAP", "Maildir", "SMTP for PEC answers", "Status"):
        assert f">{heading}<" in text


def test_an_empty_password_keeps_the_stored_one_and_a_new_one_replaces_it(
    admin_browser, imap_inbox
):
    url = reverse("admin:casework_mailbox_change", args=[imap_inbox.pk])

    kept = admin_browser.post(url, _mailbox_data(imap_inbox, folder="Sportello"))
    imap_inbox.refresh_from_db()
    assert kept.status_code == 302
    assert (imap_inbox.folder, imap_inbox.password) == ("Sportello", "segreta-imap")
    assert imap_inbox.smtp_password == "segreta-smtp"

    changed = admin_browser.post(url, _mailbox_data(imap_inbox, password="nuova-imap"))
    imap_inbox.refresh_from_db()
    assert changed.status_code == 302
    assert imap_inbox.password == "nuova-imap"
    assert imap_inbox.smtp_password == "segreta-smtp"


def test_the_status_of_a_mailbox_is_read_only(admin_browser, imap_inbox):
    imap_inbox.last_error = "Login refused"
    imap_inbox.save()
    url = reverse("admin:casework_mailbox_change", args=[imap_inbox.pk])

    admin_browser.post(url, _mailbox_data(imap_inbox, last_error=""))

    imap_inbox.refresh_from_db()
    assert imap_inbox.last_error == "Login refused"
    assert "Login refused" in admin_browser.get(url).content.decode()


def test_incoming_emails_are_listed_and_found_by_message_id(admin_browser, imap_inbox):
    for number in (1, 2):
        InboundEmail.objects.create(
            mailbox=imap_inbox,
            header_message_id=f"cercami.{number}@example.org",
            status=Status.UNMATCHED,
            from_address="ignoto@example.org",
            subject=f"Oggetto {number}",
            raw=ContentFile(b"x", name="x.eml"),
        )
    url = reverse("admin:casework_inboundemail_changelist")

    everything = admin_browser.get(url).content.decode()
    found = admin_browser.get(url, {"q": "cercami.2@example.org"}).content.decode()
    filtered = admin_browser.get(url, {"status__exact": "failed"}).content.decode()

    assert "Oggetto 1" in everything and "Oggetto 2" in everything
    assert "Oggetto 2" in found and "Oggetto 1" not in found
    assert "Oggetto 1" not in filtered


def test_an_incoming_email_is_read_only_and_links_its_original(admin_browser, imap_inbox):
    inbound = InboundEmail.objects.create(
        mailbox=imap_inbox,
        header_message_id="sola.lettura@example.org",
        status=Status.UNMATCHED,
        from_address="ignoto@example.org",
        subject="Da non toccare",
        raw=ContentFile(b"x", name="x.eml"),
    )
    url = reverse("admin:casework_inboundemail_change", args=[inbound.pk])

    page = admin_browser.get(url)
    edited = admin_browser.post(url, {"subject": "Cambiato", "status": "discarded"})

    assert page.status_code == 200
    assert reverse("work:mail_original", args=[inbound.pk]) in page.content.decode()
    assert edited.status_code == 403
    inbound.refresh_from_db()
    assert (inbound.subject, inbound.status) == ("Da non toccare", Status.UNMATCHED)
    delete = reverse("admin:casework_inboundemail_delete", args=[inbound.pk])
    assert admin_browser.get(delete).status_code == 403


def test_try_again_takes_the_failed_messages_from_their_original(
    admin_browser, process_setup, consultant, member, cooperative
):
    inbox = Mailbox.objects.create(
        name="legale", kind=Mailbox.Kind.MAILDIR, path="var/mail/legale", area=process_setup
    )
    failed = InboundEmail.objects.create(
        mailbox=inbox,
        header_message_id="riprova.1@example.org",
        status=Status.FAILED,
        from_address=member.email,
        subject="Richiesta dal socio",
        raw=ContentFile(_raw(member.email, message_id="riprova.1@example.org"), name="r.eml"),
        error="OperationalError: server closed the connection",
        attempts=1,
    )
    unmatched = InboundEmail.objects.create(
        mailbox=inbox,
        header_message_id="altro@example.org",
        status=Status.UNMATCHED,
        from_address="ignoto@example.org",
        raw=ContentFile(_raw("ignoto@example.org", message_id="altro@example.org"), name="a.eml"),
    )

    response = admin_browser.post(
        reverse("admin:casework_inboundemail_changelist"),
        {"action": "take_again", "_selected_action": [failed.pk, unmatched.pk]},
        follow=True,
    )

    assert "1 of 1 failed messages taken." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == Status.OPENED
    assert failed.case == Case.objects.get(subject="Richiesta dal socio")
    assert failed.case.requester == member
    assert failed.attempts == 2 and failed.error == ""
    unmatched.refresh_from_db()
    assert unmatched.status == Status.UNMATCHED


def test_try_again_says_when_a_message_still_fails(admin_browser, imap_inbox):
    failed = InboundEmail.objects.create(
        mailbox=imap_inbox,
        header_message_id="perso@example.org",
        status=Status.FAILED,
        raw="inbound/gone.eml",
        error="boom",
    )

    response = admin_browser.post(
        reverse("admin:casework_inboundemail_changelist"),
        {"action": "take_again", "_selected_action": [failed.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert "is no longer stored" in page
    assert "0 of 1 failed messages taken." in page
    failed.refresh_from_db()
    assert failed.status == Status.FAILED
