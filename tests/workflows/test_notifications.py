"""E-mails leave after the commit, in the reader's language; a failed one rolls nothing back."""

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from casework.models import Notification, UserProfile
from workflows import process

pytestmark = pytest.mark.django_db


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server down")


def open_case(member, cooperative, area):
    return process.case_open(
        requester=member, cooperative=cooperative, area=area, subject="Statuto", description="x"
    )


def test_failed_email_keeps_the_change_and_is_retried(
    settings,
    process_setup,
    member,
    cooperative,
    consultant,
    outcome,
    django_capture_on_commit_callbacks,
):
    settings.EMAIL_BACKEND = "tests.workflows.test_notifications.BrokenBackend"
    case = open_case(member, cooperative, process_setup)
    with django_capture_on_commit_callbacks(execute=True):
        process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Parere inviato")
    case.refresh_from_db()
    assert case.status == "resolved"
    failed = Notification.objects.get(case=case, kind="case_resolved")
    assert failed.status == "pending" and failed.attempts == 1
    assert "SMTP server down" in failed.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from casework.tasks import deliver_notifications

    assert deliver_notifications()["sent"] >= 1
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert any(case.reference in message.subject for message in mail.outbox)


def test_nothing_is_sent_when_the_change_rolls_back(process_setup, member, cooperative, consultant):
    before = Notification.objects.count()
    with pytest.raises(RuntimeError):
        from django.db import transaction

        with transaction.atomic():
            open_case(member, cooperative, process_setup)
            raise RuntimeError("the request failed after the intake")
    assert Notification.objects.count() == before
    assert mail.outbox == []


@pytest.mark.parametrize(("language", "subject"), [("it", "ricevuta"), ("en", "received")])
def test_email_is_in_the_recipients_language(
    language, subject, process_setup, member, cooperative, consultant
):
    member.email = "socio@example.org"
    member.save()
    UserProfile.objects.create(user=member, language=language)
    case = open_case(member, cooperative, process_setup)
    notification = Notification.objects.get(case=case, kind="case_opened")
    assert subject in notification.subject.lower()
    assert case.reference in notification.subject


def test_the_emails_of_one_intake_are_each_in_their_readers_language(
    process_setup, member, cooperative, consultant
):
    """The requester reads English, the consultant (no preference) the site's Italian."""
    member.email = "socio@example.org"
    member.save()
    UserProfile.objects.create(user=member, language="en")
    case = open_case(member, cooperative, process_setup)
    assert case.assignee == consultant

    opened = Notification.objects.get(case=case, kind="case_opened")
    assigned = Notification.objects.get(case=case, kind="case_assigned")
    assert (opened.recipient, assigned.recipient) == (member, consultant)
    assert "received" in opened.subject.lower()
    assert "assegnat" in assigned.subject.lower()


def test_an_email_that_keeps_failing_is_given_up_after_five_runs(
    settings, process_setup, member, cooperative, consultant
):
    from casework.outbox import deliver_pending

    member.email = "socio@example.org"
    member.save()
    settings.EMAIL_BACKEND = "tests.workflows.test_notifications.BrokenBackend"
    case = open_case(member, cooperative, process_setup)
    for _run in range(5):
        deliver_pending()
    notification = Notification.objects.get(case=case, kind="case_opened")
    assert (notification.status, notification.attempts) == ("failed", 5)
    assert deliver_pending() == {"sent": 0, "failed": 0}
