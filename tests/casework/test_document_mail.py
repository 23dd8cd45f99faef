"""A public document sent on its own reaches the other side by e-mail and makes the case unread
for them; an internal one reaches nobody outside the staff."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from casework.models import Case, Notification
from casework.outbox import deliver_pending
from casework.selectors import is_unread
from workflows import process

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def _pdf(name="verbale.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture(autouse=True)
def earlier_mail_sent(assigned_case):
    """The e-mails of the case's intake and assignment are out of the way."""
    deliver_pending()
    mail.outbox.clear()


def _sent_to(user) -> list:
    deliver_pending()
    return [message for message in mail.outbox if user.email in message.to]


def test_a_consultants_document_on_its_own_is_mailed_to_the_requester(
    assigned_case, consultant, member
):
    process.case_attach(case=assigned_case, uploaded_by=consultant, file=_pdf())

    (sent,) = _sent_to(member)
    assert sent.subject.startswith(f"[{assigned_case.reference}]")
    assert "verbale.pdf" in sent.body
    assert f"/cases/{assigned_case.pk}/" in sent.body
    assert not _sent_to(consultant)
    assert is_unread(Case.objects.get(pk=assigned_case.pk), member)
    assert not is_unread(Case.objects.get(pk=assigned_case.pk), consultant)


def test_an_internal_document_is_mailed_to_nobody(assigned_case, consultant, member):
    before = Notification.objects.count()

    process.case_attach(
        case=assigned_case, uploaded_by=consultant, file=_pdf("interno.pdf"), internal=True
    )

    assert Notification.objects.count() == before
    assert not any("interno.pdf" in message.body for message in _sent_to(member))


def test_a_members_document_on_its_own_is_mailed_to_the_assignee(assigned_case, consultant, member):
    process.case_attach(case=assigned_case, uploaded_by=member, file=_pdf("bilancio.pdf"))

    (sent,) = _sent_to(consultant)
    assert "bilancio.pdf" in sent.body
    assert f"/work/cases/{assigned_case.pk}/" in sent.body
    assert is_unread(Case.objects.get(pk=assigned_case.pk), consultant)


def test_a_document_on_a_message_travels_with_the_messages_email(assigned_case, consultant, member):
    message = process.case_post_message(case=assigned_case, author=consultant, body="Ecco.")
    process.case_attach(case=assigned_case, uploaded_by=consultant, file=_pdf(), message=message)

    sent = _sent_to(member)
    assert len(sent) == 1
    assert "verbale.pdf" in sent[0].body
