"""Internal notes never reach the cooperative by e-mail, whatever happens to the case."""

import pytest
from django.core import mail

from casework import outbox
from casework.models import Notification
from workflows import process

pytestmark = pytest.mark.django_db

MARKER = "NOTA-INTERNA-7f3c9e1a"


def _note(case, consultant, step):
    process.case_post_message(
        case=case,
        author=consultant,
        body=f"{MARKER} ({step}): non dirlo alla cooperativa",
        internal=True,
    )


def test_no_email_to_a_member_carries_an_internal_note(
    django_capture_on_commit_callbacks,
    process_setup,
    open_case,
    member,
    cooperative,
    consultant,
    supervisor,
    outcome,
):
    with django_capture_on_commit_callbacks(execute=True):
        # A case worked to the end: request for information, answer, resolution, reopening,
        # cancellation; an internal note at every step.
        worked = open_case(subject="Contratto", description="Parere sul contratto")
        _note(worked, consultant, "opened")
        process.case_request_info(
            case=worked, actor=consultant, question="Serve il verbale firmato"
        )
        _note(worked, consultant, "waiting")
        process.case_post_message(case=worked, author=member, body="Ecco il verbale")
        _note(worked, consultant, "answered")
        process.case_resolve(
            case=worked,
            actor=consultant,
            outcome=outcome,
            summary="Parere inviato",
            minutes_spent=30,
        )
        _note(worked, consultant, "resolved")
        process.case_reopen(case=worked, actor=member, reason="Manca la parte sul recesso")
        _note(worked, consultant, "reopened")
        process.case_cancel(
            case=worked, actor=supervisor, reason="Richiesta ritirata dalla cooperativa"
        )

        # A case rejected at triage, with a supervisor's internal note before the rejection.
        process_setup.default_priority = ""
        process_setup.save()
        rejected = open_case(subject="Fuori ambito", description="Domanda non di competenza")
        assert rejected.status == "triage"
        process.case_post_message(
            case=rejected,
            author=supervisor,
            body=f"{MARKER} (triage): già seguito altrove",
            internal=True,
        )
        process.case_reject(
            case=rejected,
            actor=supervisor,
            reason="out_of_scope",
            explanation="La richiesta non rientra nei servizi della federazione.",
        )
    outbox.deliver_pending()

    to_members = Notification.objects.filter(recipient=member)
    kinds = set(to_members.values_list("kind", flat=True))
    # The cooperative heard about every step: the test would prove nothing otherwise.
    assert {
        "case_opened",
        "info_requested",
        "case_resolved",
        "case_cancelled",
        "case_rejected",
    } <= kinds
    for notification in to_members:
        assert MARKER not in notification.subject + notification.body, notification.kind
    member_mail = [message for message in mail.outbox if member.email in message.to]
    assert len(member_mail) == to_members.count()
    for message in member_mail:
        assert MARKER not in message.subject + message.body
    # What the cooperative was told is there, so the check above looked at real e-mails.
    assert any("Serve il verbale firmato" in message.body for message in member_mail)
    assert any("Richiesta ritirata" in message.body for message in member_mail)
