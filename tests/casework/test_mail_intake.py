"""Mail intake (issue 15): a message taken from a mailbox becomes a case, a message on its case, a
PEC receipt on its case, an ignored message or unmatched mail for a supervisor, exactly once.

Messages are built with the standard library's `email` package or read from the samples of
tests/inbound (make_samples.py); everything below them is real: the database, the process, the
upload checks and the outbox rows.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from email import policy as email_policy
from email.message import EmailMessage

import pytest
import time_machine
from django.db import connection
from django.utils import translation

from casework import selectors
from casework.attachments import refusal_text
from casework.errors import CaseError, ConflictError, ForbiddenError
from casework.models import (
    Attachment,
    Case,
    CaseEvent,
    InboundEmail,
    Mailbox,
    Membership,
    Message,
    Notification,
)
from casework.services import mail_intake
from casework.services.mail_intake import mail_discard, mail_link, mail_take
from tests import factories
from tests.inbound import sample
from workflows import process

pytestmark = pytest.mark.django_db

Status = InboundEmail.Status
Kind = CaseEvent.Kind

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60
# The outgoing e-mail the PEC receipt samples answer (tests/inbound/make_samples.py).
OUTGOING_ID = "5b0e8c1d2a3f4e5d6c7b8a9f0e1d2c3b.LEG-2026-000123@federazione.example"
ALFA_PEC = "alfa@pec.coopalfa.example"


@pytest.fixture(autouse=True)
def mail_media(settings, tmp_path):
    """Originals and documents go to a temporary directory, never to var/uploads."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def mail_in_english():
    """Intake writes its reasons and texts in the active language: English, to assert them."""
    with translation.override("en"):
        yield


@pytest.fixture
def mail_in(process_setup):
    """The legal area's ordinary mailbox."""
    return Mailbox.objects.create(
        name="legale",
        address="legale@federazione.example",
        kind=Mailbox.Kind.MAILDIR,
        path="var/mail/legale",
        area=process_setup,
    )


@pytest.fixture
def pec_in(process_setup):
    """The federation's PEC mailbox, in the legal area."""
    return Mailbox.objects.create(
        name="pec",
        address="sportello@pec.federazione.example",
        kind=Mailbox.Kind.MAILDIR,
        path="var/mail/pec",
        area=process_setup,
        is_pec=True,
    )


def email(
    *,
    sender: str = "Socio <socio@example.org>",
    subject: str = "Richiesta di parere sullo statuto",
    body: str = "Buongiorno, vorremmo un parere sulla modifica dello statuto.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: dict | None = None,
    documents: tuple = (),
) -> bytes:
    """A message as a mail program writes it; `documents` are (name, bytes, type) triples."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "legale@federazione.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 05 Jan 2026 11:30:00 +0100"
    message["Message-ID"] = f"<{message_id or uuid.uuid4().hex}@coopalfa.example>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for name, content, content_type in documents:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(policy=email_policy.SMTP)


def events_of(case, kind) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("id"))


def originals(case) -> list[Attachment]:
    return list(case.attachments.filter(content_type="message/rfc822"))


def last_id_sent_to(user, case) -> str:
    return (
        Notification.objects.filter(case=case, recipient=user)
        .exclude(header_message_id="")
        .latest("created_at", "id")
        .header_message_id
    )


# --- New cases ---------------------------------------------------------------------------------


def test_a_members_mail_opens_a_case_of_their_cooperative(mail_in, member, cooperative):
    raw = email(documents=(("verbale.pdf", PDF, "application/pdf"),))

    inbound = mail_take(mailbox=mail_in, raw=raw)

    assert inbound.status == Status.OPENED and inbound.error == ""
    case = inbound.case
    assert case.cooperative == cooperative and case.requester == member
    assert case.channel == "email" and case.area == mail_in.area
    assert case.subject == "Richiesta di parere sullo statuto"
    assert case.description == "Buongiorno, vorremmo un parere sulla modifica dello statuto."
    (received,) = events_of(case, Kind.EMAIL_RECEIVED)
    assert received.actor == member
    assert received.after["from_address"] == "socio@example.org"
    assert received.after["message_id"] == inbound.header_message_id
    assert received.after["pec"] is None and received.after["inbound"] == inbound.pk
    assert [a.original_name for a in case.attachments.filter(internal=False)] == ["verbale.pdf"]
    (original,) = originals(case)
    assert original.internal and original.file.read() == raw
    assert inbound.raw.read() == raw and inbound.size == len(raw)
    # The requester is told the case is open, as for a case opened in the portal.
    assert Notification.objects.filter(case=case, recipient=member, kind="case_opened").exists()


def test_the_address_is_matched_without_regard_to_case(mail_in, member):
    inbound = mail_take(mailbox=mail_in, raw=email(sender="Socio <SOCIO@Example.ORG>"))

    assert inbound.status == Status.OPENED and inbound.case.requester == member


def test_a_member_of_two_cooperatives_waits_for_a_supervisor(mail_in, member, other_cooperative):
    factories.MembershipFactory(user=member, cooperative=other_cooperative)

    inbound = mail_take(mailbox=mail_in, raw=email())

    assert inbound.status == Status.UNMATCHED and inbound.case is None
    assert "several cooperatives" in inbound.error
    assert "Cooperativa Alfa" in inbound.error and "Cooperativa Beta" in inbound.error
    assert not Case.objects.exists()


def test_mail_from_the_cooperatives_own_address_opens_in_its_representatives_name(
    mail_in, cooperative, member
):
    cooperative.email = "info@coopalfa.example"
    cooperative.save()
    # The first member of the cooperative is an ordinary one; its legal representative came later.
    Membership.objects.filter(user=member).update(role=Membership.Role.MEMBER)
    representative = factories.MembershipFactory(
        cooperative=cooperative, role="legal_rep", user__username="presidente"
    ).user

    inbound = mail_take(mailbox=mail_in, raw=email(sender="Coop Alfa <Info@CoopAlfa.example>"))

    assert inbound.status == Status.OPENED
    assert inbound.case.cooperative == cooperative and inbound.case.requester == representative


def test_a_mailbox_without_area_opens_in_the_first_active_area(process_setup, member, other_area):
    process_setup.position, other_area.position = 2, 1
    process_setup.save()
    other_area.save()
    mailbox = Mailbox.objects.create(name="generale", kind="maildir", path="var/mail/generale")

    inbound = mail_take(mailbox=mailbox, raw=email())

    assert inbound.status == Status.OPENED and inbound.case.area == other_area


def test_an_unknown_sender_is_held_then_linked_by_a_supervisor(
    mail_in, member, cooperative, supervisor
):
    raw = email(sender="Mario Bianchi <mario@altrove.example>", subject="Domanda")

    held = mail_take(mailbox=mail_in, raw=raw)

    assert held.status == Status.UNMATCHED and held.case is None
    assert "mario@altrove.example" in held.error
    assert not Case.objects.exists()

    case = mail_link(inbound=held, actor=supervisor, cooperative=cooperative, requester=member)

    held.refresh_from_db()
    assert held.status == Status.LINKED and held.case == case
    assert held.cooperative == cooperative and held.decided_by == supervisor
    assert held.decided_at is not None
    assert case.cooperative == cooperative and case.requester == member
    assert case.channel == "email" and case.subject == "Domanda"
    (linked,) = events_of(case, Kind.MAIL_LINKED)
    assert linked.actor == supervisor
    assert linked.after == {
        "inbound": held.pk,
        "from_address": "mario@altrove.example",
        "cooperative": cooperative.pk,
        "requester": member.username,
    }
    opened = events_of(case, Kind.OPENED)[0]
    assert opened.after["opened_by"] == supervisor.username
    assert len(originals(case)) == 1
    # Decided once: a second decision is refused and says so.
    with pytest.raises(ConflictError, match="already been decided"):
        mail_discard(inbound=held, actor=supervisor, reason="doppione")


def test_linking_without_a_requester_takes_the_sender_when_a_member(
    mail_in, member, cooperative, other_cooperative, supervisor
):
    factories.MembershipFactory(user=member, cooperative=other_cooperative)
    held = mail_take(mailbox=mail_in, raw=email())
    assert held.status == Status.UNMATCHED

    case = mail_link(inbound=held, actor=supervisor, cooperative=other_cooperative)

    assert case.requester == member and case.cooperative == other_cooperative


def test_linking_needs_a_requester_of_that_cooperative(mail_in, cooperative, supervisor):
    held = mail_take(mailbox=mail_in, raw=email(sender="mario@altrove.example"))

    with pytest.raises(CaseError, match="Choose the requester"):
        mail_link(inbound=held, actor=supervisor, cooperative=cooperative)

    held.refresh_from_db()
    assert held.status == Status.UNMATCHED and not Case.objects.exists()


def test_a_supervisor_discards_unmatched_mail_with_a_reason(mail_in, supervisor):
    held = mail_take(mailbox=mail_in, raw=email(sender="spam@altrove.example"))

    with pytest.raises(CaseError):
        mail_discard(inbound=held, actor=supervisor, reason="   ")
    with pytest.raises(CaseError):
        mail_discard(inbound=held, actor=supervisor, reason="x" * 5001)
    discarded = mail_discard(inbound=held, actor=supervisor, reason="  Pubblicità  ")

    assert discarded.status == Status.DISCARDED
    assert discarded.decision_note == "Pubblicità" and discarded.decided_by == supervisor
    assert discarded.raw.read()  # the original is kept


def test_only_supervisors_of_the_mailboxs_area_decide(
    mail_in, process_setup, other_area, cooperative, member, consultant, area_supervisor
):
    fiscal_supervisor = factories.SupervisorFactory(
        user__username="supervisore.fiscale", all_areas=False, areas=[other_area]
    ).user
    held = mail_take(mailbox=mail_in, raw=email(sender="mario@altrove.example"))

    for outsider in (consultant, member, fiscal_supervisor):
        with pytest.raises(ForbiddenError):
            mail_discard(inbound=held, actor=outsider, reason="no")
        with pytest.raises(ForbiddenError):
            mail_link(inbound=held, actor=outsider, cooperative=cooperative, requester=member)

    case = mail_link(inbound=held, actor=area_supervisor, cooperative=cooperative, requester=member)
    assert case.area == process_setup


# --- Replies -----------------------------------------------------------------------------------


def test_a_reply_threaded_by_its_headers_is_a_public_message_on_the_case(
    mail_in, member, assigned_case
):
    answered = last_id_sent_to(member, assigned_case)
    raw = email(
        subject="Re: la vostra pratica",
        body="Ecco il verbale.\n\nIl giorno lun 5 gen 2026 Sportello ha scritto:\n> Gentile socio",
        in_reply_to=answered,
        documents=(("verbale.pdf", PDF, "application/pdf"),),
    )

    inbound = mail_take(mailbox=mail_in, raw=raw)

    assert inbound.status == Status.REPLIED and inbound.case == assigned_case
    message = inbound.message
    assert message.author == member and not message.internal
    assert message.body == "Ecco il verbale."  # the quoted history is trimmed
    assert [a.original_name for a in message.attachments.filter(internal=False)] == ["verbale.pdf"]
    assert [a.message for a in originals(assigned_case)] == [message]
    assert events_of(assigned_case, Kind.REPLIED)[-1].after["message"] == message.pk
    assert events_of(assigned_case, Kind.EMAIL_RECEIVED)[0].after["message"] == message.pk
    assert Case.objects.count() == 1


def test_a_reply_to_a_waiting_case_brings_the_information(
    mail_in, member, consultant, assigned_case
):
    process.case_request_info(case=assigned_case, actor=consultant, question="Il verbale?")
    answered = last_id_sent_to(member, assigned_case)

    inbound = mail_take(mailbox=mail_in, raw=email(body="Eccolo.", in_reply_to=answered))

    assigned_case.refresh_from_db()
    assert inbound.status == Status.REPLIED
    assert assigned_case.status == "assigned"
    assert events_of(assigned_case, Kind.INFO_PROVIDED)[0].after["message"] == inbound.message_id


def test_a_reply_threaded_by_the_subject_reference_only(mail_in, member, assigned_case):
    raw = email(subject=f"Re: [{assigned_case.reference}] Modifica dello statuto", body="Grazie.")

    inbound = mail_take(mailbox=mail_in, raw=raw)

    assert inbound.status == Status.REPLIED and inbound.case == assigned_case
    assert inbound.message.body == "Grazie."


def test_a_reply_to_a_purged_email_still_finds_its_case_by_the_id_sportello_wrote(
    mail_in, member, assigned_case
):
    answered = last_id_sent_to(member, assigned_case)
    Notification.objects.all().delete()  # the sent e-mails were purged

    inbound = mail_take(mailbox=mail_in, raw=email(subject="Re:", in_reply_to=answered))

    assert inbound.status == Status.REPLIED and inbound.case == assigned_case


def test_a_colleague_of_the_requester_may_answer(mail_in, cooperative, assigned_case):
    colleague = factories.MembershipFactory(cooperative=cooperative, user__username="collega").user

    inbound = mail_take(
        mailbox=mail_in,
        raw=email(sender="collega@example.org", subject=f"[{assigned_case.reference}] Anche io"),
    )

    assert inbound.status == Status.REPLIED and inbound.message.author == colleague


def test_the_consultants_reply_by_mail_is_their_public_message(mail_in, consultant, assigned_case):
    inbound = mail_take(
        mailbox=mail_in,
        raw=email(
            sender=consultant.email,
            subject=f"Re: [{assigned_case.reference}]",
            body="Abbiamo ricevuto, grazie.",
        ),
    )

    assert inbound.status == Status.REPLIED
    assert inbound.message.author == consultant and not inbound.message.internal


def test_a_reply_from_someone_outside_the_cooperative_is_held(mail_in, other_member, assigned_case):
    raw = email(sender=other_member.email, subject=f"Re: [{assigned_case.reference}] statuto")

    inbound = mail_take(mailbox=mail_in, raw=raw)

    assert inbound.status == Status.UNMATCHED and inbound.case is None
    assert assigned_case.reference in inbound.error
    assert assigned_case.messages.count() == 0


def test_a_documents_only_reply_names_its_documents(mail_in, member, assigned_case):
    raw = email(
        subject=f"[{assigned_case.reference}]",
        body="",
        documents=(("bilancio.pdf", PDF, "application/pdf"),),
    )

    inbound = mail_take(mailbox=mail_in, raw=raw)

    assert inbound.message.body == "Documents sent: bilancio.pdf"
    assert inbound.message.attachments.filter(original_name="bilancio.pdf").exists()


def test_a_reply_to_a_resolved_case_reopens_it_within_the_window(
    mail_in, member, consultant, assigned_case, outcome
):
    process.case_resolve(case=assigned_case, actor=consultant, outcome=outcome, summary="Fatto.")

    inbound = mail_take(
        mailbox=mail_in,
        raw=email(subject=f"Re: [{assigned_case.reference}]", body="Non è risolto."),
    )

    assigned_case.refresh_from_db()
    assert inbound.status == Status.REPLIED and assigned_case.status == "assigned"
    assert events_of(assigned_case, Kind.REOPENED)[0].note == "Non è risolto."
    assert inbound.message.body == "Non è risolto."


def test_a_reply_to_a_closed_case_opens_a_new_case_naming_the_old(
    mail_in, member, consultant, assigned_case, outcome
):
    process.case_resolve(case=assigned_case, actor=consultant, outcome=outcome, summary="Fatto.")
    process.case_confirm(case=assigned_case, actor=member)

    inbound = mail_take(
        mailbox=mail_in,
        raw=email(subject=f"Re: [{assigned_case.reference}]", body="Una nuova domanda."),
    )

    assert inbound.status == Status.OPENED
    new = inbound.case
    assert new != assigned_case and new.cooperative == assigned_case.cooperative
    assert new.requester == member and new.area == assigned_case.area
    assert assigned_case.reference in new.description
    assert "Una nuova domanda." in new.description
    assert events_of(new, Kind.EMAIL_RECEIVED)[0].after["follows"] == assigned_case.reference
    assigned_case.refresh_from_db()
    assert assigned_case.status == "closed"


def test_a_reply_after_the_window_to_reopen_opens_a_new_case(
    mail_in, member, consultant, assigned_case, outcome
):
    process.case_resolve(case=assigned_case, actor=consultant, outcome=outcome, summary="Fatto.")
    assigned_case.refresh_from_db()
    later = assigned_case.confirmation_due_at + timedelta(hours=1)

    with time_machine.travel(later, tick=False):
        inbound = mail_take(mailbox=mail_in, raw=email(subject=f"Re: [{assigned_case.reference}]"))

    assert inbound.status == Status.OPENED and inbound.case != assigned_case
    assigned_case.refresh_from_db()
    assert assigned_case.status == "resolved"


# --- Mail that opens nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"), [("auto_replied.eml", "auto_reply"), ("bounce_dsn.eml", "bounce")]
)
def test_auto_replies_and_bounces_open_nothing_and_get_no_answer(
    mail_in, cooperative, assigned_case, name, reason
):
    factories.MembershipFactory(cooperative=cooperative, user__email="socio.alfa@coopalfa.example")
    e_mails = Notification.objects.count()

    inbound = mail_take(mailbox=mail_in, raw=sample(name))

    assert inbound.status == Status.IGNORED and inbound.ignored_reason == reason
    assert inbound.case is None and Case.objects.count() == 1
    assert Notification.objects.count() == e_mails
    assert assigned_case.messages.count() == 0


def test_sportellos_own_mail_coming_back_is_ignored(mail_in, member):
    inbound = mail_take(
        mailbox=mail_in, raw=email(headers={"X-Sportello-Notification": "case_opened"})
    )

    assert inbound.status == Status.IGNORED and inbound.ignored_reason == "own"
    assert not Case.objects.exists()


# --- Exactly once --------------------------------------------------------------------------------


def test_the_same_message_taken_twice_is_one_case(mail_in, member):
    raw = email(documents=(("verbale.pdf", PDF, "application/pdf"),))

    first = mail_take(mailbox=mail_in, raw=raw)
    second = mail_take(mailbox=mail_in, raw=raw)

    assert second.pk == first.pk and second.status == Status.OPENED
    assert Case.objects.count() == 1 and InboundEmail.objects.count() == 1
    assert Attachment.objects.count() == 2  # the document and the original, once


def test_the_same_message_id_in_another_mailbox_is_another_message(mail_in, member, process_setup):
    other = Mailbox.objects.create(name="altra", kind="maildir", path="x", area=process_setup)
    raw = email()

    mail_take(mailbox=mail_in, raw=raw)
    mail_take(mailbox=other, raw=raw)

    assert InboundEmail.objects.count() == 2


def test_a_failed_take_leaves_nothing_and_is_retried(mail_in, member, monkeypatch):
    raw = email(documents=(("verbale.pdf", PDF, "application/pdf"),))

    def broken(incoming):
        raise RuntimeError("a fault in intake")

    with monkeypatch.context() as patch:
        patch.setattr(mail_intake, "thread_of", broken)
        failed = mail_take(mailbox=mail_in, raw=raw)

    assert failed.status == Status.FAILED and failed.attempts == 1
    assert "a fault in intake" in failed.error and failed.raw.read() == raw
    assert not Case.objects.exists() and not Attachment.objects.exists()

    retried = mail_take(mailbox=mail_in, raw=raw)

    assert retried.pk == failed.pk
    assert retried.status == Status.OPENED and retried.attempts == 2 and retried.error == ""
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_polls_racing_on_one_message_make_one_case(mail_in, member):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    raw = email()
    barrier = threading.Barrier(2)
    rows, failures = [], []

    def poll():
        try:
            barrier.wait()
            rows.append(mail_take(mailbox=mail_in, raw=raw))
        except Exception as error:  # noqa: BLE001 - the test reports any failure
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len({row.pk for row in rows}) == 1
    assert {row.status for row in rows} == {Status.OPENED}
    assert Case.objects.count() == 1 and InboundEmail.objects.count() == 1


# --- Documents -----------------------------------------------------------------------------------


def test_a_refused_document_is_named_in_the_timeline_and_the_message_kept(
    mail_in, member, consultant
):
    raw = email(
        documents=(
            ("fattura.pdf", EXE, "application/pdf"),  # an executable renamed .pdf
            ("verbale.pdf", PDF, "application/pdf"),
        )
    )

    inbound = mail_take(mailbox=mail_in, raw=raw)

    case = inbound.case
    assert inbound.status == Status.OPENED
    (refused,) = events_of(case, Kind.ATTACHMENT_REFUSED)
    assert refused.after["name"] == "fattura.pdf"
    assert refused.after["reason"] == "unsupported_type"
    assert "fattura.pdf" in refusal_text(refused.after["reason"], refused.after["params"])
    names = sorted(case.attachments.values_list("original_name", flat=True))
    assert "fattura.pdf" not in names and "verbale.pdf" in names
    assert len(originals(case)) == 1 and originals(case)[0].internal
    # The member is told their document was refused; staff see it too.
    assert refused in selectors.events_visible_to(member, case)
    assert refused in selectors.events_visible_to(consultant, case)


def test_a_member_never_sees_the_original(mail_in, member, consultant):
    case = mail_take(mailbox=mail_in, raw=email()).case
    case = Case.objects.get(pk=case.pk)
    (original,) = originals(case)

    assert original not in selectors.attachments_visible_to(member, case)
    assert selectors.attachment_visible_to(member, original.pk) is None
    assert original in selectors.attachments_visible_to(consultant, case)
    added = CaseEvent.objects.get(case=case, kind=Kind.ATTACHMENT_ADDED, after__internal=True)
    assert added not in selectors.events_visible_to(member, case)
    received = events_of(case, Kind.EMAIL_RECEIVED)[0]
    assert received in selectors.events_visible_to(member, case)


def test_a_signed_document_by_mail_is_stored_and_described(mail_in, member):
    raw = email(
        documents=(("verbale.pdf.p7m", sample("verbale.pdf.p7m"), "application/pkcs7-mime"),)
    )

    case = mail_take(mailbox=mail_in, raw=raw).case

    signed = case.attachments.get(original_name="verbale.pdf.p7m")
    assert signed.content_type == "application/pkcs7-mime" and signed.file.name.endswith(".p7m")
    assert signed.signature == {
        "kind": "cades",
        "inner_name": "verbale.pdf",
        "signers": ["Mario Rossi (RSSMRA80A01H501U)"],
        "readable": True,
        "problem": None,
    }


# --- PEC -----------------------------------------------------------------------------------------


def test_a_pec_envelope_opens_a_pec_case_from_its_inner_message(pec_in, cooperative):
    cooperative.email = ALFA_PEC
    cooperative.save()
    representative = factories.MembershipFactory(cooperative=cooperative, role="legal_rep").user
    raw = sample("pec_envelope.eml")

    inbound = mail_take(mailbox=pec_in, raw=raw)

    assert inbound.status == Status.OPENED and inbound.is_pec
    assert inbound.certified["mittente"] == ALFA_PEC
    assert inbound.certified["data"] == "2026-01-15T10:23:45+01:00"
    case = inbound.case
    assert case.channel == "pec" and case.requester == representative
    assert case.subject == "Avviso di accertamento 2025"  # the inner message's, not the envelope's
    assert case.description == "Trasmettiamo l'avviso ricevuto dall'Agenzia delle Entrate."
    (received,) = events_of(case, Kind.EMAIL_RECEIVED)
    assert received.after["pec"] == "posta-certificata"
    assert received.after["certified_at"] == "2026-01-15T10:23:45+01:00"
    assert received.after["certified_sender"] == ALFA_PEC
    assert received.after["certified_id"]
    (envelope,) = originals(case)
    assert envelope.internal and envelope.file.read() == raw
    signed = case.attachments.get(original_name="avviso.pdf.p7m")
    assert signed.signature["signers"] == ["Mario Rossi (RSSMRA80A01H501U)"]


def test_a_forged_pec_header_on_an_ordinary_mailbox_is_plain_mail(mail_in, member):
    raw = email(headers={"X-Trasporto": "posta-certificata", "X-Ricevuta": "accettazione"})

    inbound = mail_take(mailbox=mail_in, raw=raw)

    assert inbound.status == Status.OPENED and not inbound.is_pec
    assert inbound.certified == {} and inbound.case.channel == "email"


@pytest.mark.parametrize(
    ("receipt", "failed"),
    [
        ("accettazione", False),
        ("avvenuta-consegna", False),
        ("non-accettazione", True),
        ("errore-consegna", True),
        ("preavviso-errore-consegna", True),
    ],
)
def test_a_pec_receipt_is_shown_on_the_case_of_the_message_it_certifies(
    pec_in, member, assigned_case, receipt, failed
):
    sent = Notification.objects.create(
        case=assigned_case,
        recipient=member,
        email=ALFA_PEC,
        kind="replied",
        dedupe_key="pec-reply",
        header_message_id=OUTGOING_ID,
        status=Notification.Status.SENT,
        mailbox=pec_in,
    )
    cases = Case.objects.count()

    inbound = mail_take(mailbox=pec_in, raw=sample(f"pec_receipt_{receipt}.eml"))

    assert inbound.status == Status.RECEIPT and inbound.receipt_for == sent
    assert inbound.case == assigned_case and Case.objects.count() == cases
    (event,) = events_of(assigned_case, Kind.PEC_RECEIPT)
    assert event.after["receipt"] == receipt and event.after["failed"] is failed
    assert event.after["notification"] == sent.pk
    assert event.after["certified_at"] == "2026-01-15T10:23:45+01:00"
    assert event.after["recipient"]
    assert event in selectors.events_visible_to(member, assigned_case)


def test_a_receipt_of_no_message_sportello_sent_waits_with_a_reason(pec_in):
    inbound = mail_take(mailbox=pec_in, raw=sample("pec_receipt_accettazione.eml"))

    assert inbound.status == Status.RECEIPT and inbound.case is None
    assert OUTGOING_ID in inbound.error
    assert not CaseEvent.objects.exists()


def test_a_receipt_on_an_ordinary_mailbox_is_plain_mail_from_a_stranger(mail_in):
    inbound = mail_take(mailbox=mail_in, raw=sample("pec_receipt_accettazione.eml"))

    assert inbound.status == Status.UNMATCHED and not inbound.is_pec
    assert inbound.receipt_for is None and not CaseEvent.objects.exists()


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "malformed_boundary.eml",
        "unclosed_multipart.eml",
        "no_message_id.eml",
        "eight_bit_header.eml",
    ],
)
def test_malformed_mail_has_a_defined_outcome(mail_in, name):
    inbound = mail_take(mailbox=mail_in, raw=sample(name))

    assert inbound.status in (Status.OPENED, Status.UNMATCHED)
    assert inbound.raw.read() == sample(name)
    # Taken again, it is the same message.
    assert mail_take(mailbox=mail_in, raw=sample(name)).pk == inbound.pk


def test_malformed_mail_from_a_member_still_opens_their_case(mail_in, cooperative):
    factories.MembershipFactory(cooperative=cooperative, user__email="socio.alfa@coopalfa.example")

    inbound = mail_take(mailbox=mail_in, raw=sample("no_message_id.eml"))

    assert inbound.status == Status.OPENED
    assert inbound.header_message_id.endswith("@sportello.invalid")


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 not a message at all"])
def test_something_that_is_no_email_is_kept_for_a_supervisor(mail_in, raw):
    inbound = mail_take(mailbox=mail_in, raw=raw)

    assert inbound.status == Status.UNMATCHED and inbound.error
    assert mail_take(mailbox=mail_in, raw=raw).pk == inbound.pk


def test_a_message_over_the_size_limit_is_kept_unread(mail_in, member):
    raw = email(body="x" * (26 * 1024 * 1024))

    inbound = mail_take(mailbox=mail_in, raw=raw)

    assert inbound.status == Status.UNMATCHED and "too large" in inbound.error
    assert inbound.from_address == "socio@example.org"
    assert inbound.subject == "Richiesta di parere sullo statuto"
    assert not Case.objects.exists()


def test_a_closed_area_keeps_the_mail_for_a_supervisor(mail_in, member, process_setup):
    process_setup.is_active = False
    process_setup.save()

    inbound = mail_take(mailbox=mail_in, raw=email())

    assert inbound.status == Status.UNMATCHED and "is not open" in inbound.error
    assert not Case.objects.exists() and not Attachment.objects.exists()
    assert not Message.objects.exists()
