"""The e-mails of the conversation (issue 14): every public message reaches the other side, in
the reader's language and threaded; internal notes reach only the colleagues they mention; a
person may choose one digest a day instead.

The e-mails are sent by the real outbox (`deliver_pending`) into Django's test mailbox.
"""

from __future__ import annotations

import threading
from datetime import datetime
from email.header import decode_header, make_header
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from casework import digest, tasks
from casework.account_mail import ACCOUNT_KINDS
from casework.mail import render
from casework.models import Notification, UserProfile
from casework.outbox import deliver_pending
from tests import factories
from workflows import process

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
EMAILS = Path(__file__).resolve().parents[2] / "templates" / "emails"
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def _deliver() -> list:
    """Send the outbox; the e-mails that left, as the mail server got them."""
    before = len(mail.outbox)
    deliver_pending()
    return [sent.message() for sent in mail.outbox[before:]]


def _to(messages, user) -> list:
    return [message for message in messages if message["To"] == user.email]


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message) -> str:
    return message.get_payload(decode=True).decode()


def _speaks(user, language: str, **choices) -> None:
    UserProfile.objects.update_or_create(user=user, defaults={"language": language, **choices})


def _area_consultant(area, office, username: str):
    return factories.ConsultantFactory(
        user__username=username, office=office, areas=[area], capacity=50
    ).user


# --- Staff to the cooperative ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "answer_here"), [("it", "Rispondete qui:"), ("en", "Answer here:")]
)
def test_a_consultants_reply_reaches_the_requester_in_their_language(
    language, answer_here, settings, assigned_case, member, consultant
):
    case = assigned_case
    if language == "en":
        _speaks(member, "en")
    _deliver()  # the e-mails of the intake

    message = process.case_post_message(
        case=case, author=consultant, body="Ecco il parere richiesto sullo statuto."
    )
    sent = _deliver()

    # The requester got one e-mail, about this message, with its text and a link to answer.
    (email,) = _to(sent, member)
    assert _subject(email).startswith(f"[{case.reference}] ")
    assert case.subject in _subject(email)
    body = _body(email)
    assert "Ecco il parere richiesto sullo statuto." in body
    assert f"{answer_here} {settings.SPORTELLO_BASE_URL}/cases/{case.pk}/" in body
    assert "/work/" not in body
    row = Notification.objects.get(case=case, recipient=member, kind="message_from_staff")
    assert (row.message, row.status) == (message, "sent")
    # The consultant is never told about their own message.
    assert _to(sent, consultant) == []


def test_the_acknowledgement_is_a_message_like_any_other(assigned_case, member, consultant):
    _deliver()

    process.case_acknowledge(case=assigned_case, actor=consultant, body="Ci penso io, a presto.")

    (email,) = _to(_deliver(), member)
    assert "Ci penso io, a presto." in _body(email)
    assert Notification.objects.filter(
        case=assigned_case, recipient=member, kind="message_from_staff"
    ).exists()


def test_a_reply_reaches_the_cooperatives_people_who_wrote_on_the_case(
    assigned_case, member, cooperative, consultant
):
    case = assigned_case
    colleague = factories.MembershipFactory(
        cooperative=cooperative, user__username="socio.collega"
    ).user
    bystander = factories.MembershipFactory(
        cooperative=cooperative, user__username="socio.estraneo"
    ).user
    process.case_post_message(case=case, author=colleague, body="Aggiungo il verbale.")
    _deliver()

    process.case_post_message(case=case, author=consultant, body="Ricevuto, grazie.")
    sent = _deliver()

    assert {message["To"] for message in sent} == {member.email, colleague.email}
    assert _to(sent, bystander) == []


def test_public_documents_are_listed_by_name_and_internal_ones_never(
    settings, tmp_path, assigned_case, member, consultant
):
    settings.MEDIA_ROOT = tmp_path
    case = assigned_case
    _deliver()

    message = process.case_post_message(case=case, author=consultant, body="Vedi gli allegati.")
    pdf = SimpleUploadedFile("parere.pdf", PDF, content_type="application/pdf")
    secret = SimpleUploadedFile("appunti-riservati.pdf", PDF, content_type="application/pdf")
    process.case_attach(case=case, uploaded_by=consultant, file=pdf, message=message)
    process.case_attach(
        case=case, uploaded_by=consultant, file=secret, message=message, internal=True
    )
    (email,) = _to(_deliver(), member)

    body = _body(email)
    assert "parere.pdf" in body
    assert "appunti-riservati" not in body


# --- The cooperative to staff ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "case_page"), [("it", "Pagina della pratica"), ("en", "Case page")]
)
def test_a_members_message_reaches_the_assignee_in_their_language(
    language, case_page, settings, assigned_case, member, consultant
):
    case = assigned_case
    _speaks(consultant, language)
    _deliver()

    process.case_post_message(case=case, author=member, body="Vi mando anche il bilancio.")
    sent = _deliver()

    (email,) = _to(sent, consultant)
    assert _subject(email).startswith(f"[{case.reference}] ")
    body = _body(email)
    assert "Vi mando anche il bilancio." in body
    assert f"{case_page}: {settings.SPORTELLO_BASE_URL}/work/cases/{case.pk}/" in body
    assert _to(sent, member) == []


def test_while_nobody_holds_the_case_the_members_message_reaches_the_areas_supervisors(
    open_case, member, area_supervisor, supervisor, other_area
):
    case = open_case()  # no consultant in the area: nobody holds it
    assert case.status == "unassigned" and case.assignee is None
    elsewhere = factories.SupervisorFactory(
        user__username="supervisore.fiscale", all_areas=False, areas=[other_area]
    ).user
    _deliver()

    process.case_post_message(case=case, author=member, body="C'è qualcuno?")
    sent = _deliver()

    assert {message["To"] for message in sent} == {area_supervisor.email, supervisor.email}
    assert _to(sent, elsewhere) == []


# --- Internal notes ----------------------------------------------------------------------------


def test_an_internal_note_is_never_emailed_to_the_cooperative_even_when_it_names_a_member(
    assigned_case, member, consultant
):
    case = assigned_case
    _deliver()

    process.case_post_message(
        case=case,
        author=consultant,
        body="NOTA-RISERVATA @socio non sa ancora del ricorso.",
        internal=True,
    )
    sent = _deliver()

    assert sent == []
    assert not Notification.objects.filter(recipient=member, kind="mention").exists()
    assert not any("NOTA-RISERVATA" in n.body for n in Notification.objects.all())


def test_a_mention_in_an_internal_note_reaches_that_colleague_and_only_staff_of_the_case(
    assigned_case, area, office, other_area, member, consultant
):
    case = assigned_case
    colleague = _area_consultant(area, office, "collega.legale")
    _speaks(colleague, "en")
    stranger = _area_consultant(other_area, office, "consulente.fiscale")
    _deliver()

    note = process.case_post_message(
        case=case,
        author=consultant,
        body=(
            "@collega.legale, puoi guardare tu? Chiedo anche a @consulente.fiscale e a @consulente."
        ),
        internal=True,
    )
    sent = _deliver()

    # The colleague of the area is told, in English; the consultant of another area, who may
    # not see the case, is not; nor is the author, who mentioned themselves.
    (email,) = sent
    assert email["To"] == colleague.email
    assert _subject(email).startswith(f"[{case.reference}] ")
    body = _body(email)
    assert "Internal note" in body and "puoi guardare tu?" in body
    assert f"/work/cases/{case.pk}/" in body
    row = Notification.objects.get(kind="mention")
    assert (row.recipient, row.message) == (colleague, note)
    assert _to(sent, stranger) == [] and _to(sent, consultant) == []


def test_a_mention_in_italian_by_default(assigned_case, area, office, consultant):
    colleague = _area_consultant(area, office, "collega.legale")
    _deliver()

    process.case_post_message(
        case=assigned_case, author=consultant, body="Vedi tu @collega.legale.", internal=True
    )

    (email,) = _deliver()
    assert email["To"] == colleague.email
    assert "Nota interna" in _body(email)


# --- Threading ---------------------------------------------------------------------------------


def test_the_emails_of_a_case_thread_in_the_readers_mail_program(assigned_case, member, consultant):
    case = assigned_case
    sent = _deliver()  # "case received" to the member, "assigned to you" to the consultant
    process.case_post_message(case=case, author=consultant, body="Prima risposta.")
    sent += _deliver()
    process.case_post_message(case=case, author=member, body="Grazie, ecco i dati.")
    sent += _deliver()
    process.case_post_message(case=case, author=consultant, body="Seconda risposta.")
    sent += _deliver()

    root = f"<case.{case.reference}@localhost>"
    for reader, count in ((member, 3), (consultant, 2)):
        thread = _to(sent, reader)
        assert len(thread) == count
        ids = [message["Message-ID"] for message in thread]
        assert len(set(ids)) == count and all(case.reference in mid for mid in ids)
        # The first has no parent but the case's root; each next answers the one before.
        assert thread[0]["In-Reply-To"] is None
        assert thread[0]["References"] == root
        for previous, message in zip(thread, thread[1:], strict=False):
            assert message["In-Reply-To"] == previous["Message-ID"]
            assert message["References"] == f"{root} {previous['Message-ID']}"
    # The ids are kept, without brackets, for the replies that come back by mail.
    stored = Notification.objects.filter(case=case, recipient=member).order_by("created_at", "id")
    assert [f"<{row.header_message_id}>" for row in stored] == [
        m["Message-ID"] for m in _to(sent, member)
    ]


def test_an_sla_alert_written_at_delivery_gets_its_id_and_follows_the_last_email(
    assigned_case, consultant
):
    case = assigned_case
    (assigned,) = _to(_deliver(), consultant)
    # As the SLA watch writes them: no text, no Message-ID, only what the template needs.
    alert = Notification.objects.create(
        case=case,
        recipient=consultant,
        email=consultant.email,
        kind="sla_at_risk",
        context={"clock": "resolution"},
        dedupe_key=f"sla:test:{case.pk}:{consultant.pk}",
    )

    (email,) = _deliver()

    alert.refresh_from_db()
    assert email["Message-ID"] == f"<notification.{alert.pk}@localhost>"
    assert alert.header_message_id == f"notification.{alert.pk}@localhost"
    assert email["In-Reply-To"] == assigned["Message-ID"]
    assert _subject(email).startswith(f"[{case.reference}] ")


def test_every_case_email_names_the_case_in_brackets_first(assigned_case, member, outcome):
    # The digest and the e-mails about an account belong to no case.
    kinds = sorted(p.stem for p in EMAILS.glob("*.txt") if p.stem not in {"digest", *ACCOUNT_KINDS})
    assert {"message_from_staff", "message_from_cooperative", "mention"} <= set(kinds)
    message = process.case_post_message(case=assigned_case, author=member, body="Una domanda.")
    for kind in kinds:
        subject, body = render(
            kind=kind, case=assigned_case, user=member, context={"message": message}
        )
        assert subject.startswith(f"[{assigned_case.reference}] "), kind
        assert body, kind


# --- Without a query per recipient -------------------------------------------------------------


def test_a_message_to_many_readers_costs_the_same_statements_as_to_one(open_case, member, area):
    few = open_case(subject="Prima pratica")
    factories.SupervisorFactory(user__username="sup.1", all_areas=False, areas=[area])
    with CaptureQueriesContext(connection) as one:
        process.case_post_message(case=few, author=member, body="Uno.")
    for n in range(2, 6):
        factories.SupervisorFactory(user__username=f"sup.{n}", all_areas=False, areas=[area])
    many = open_case(subject="Seconda pratica")
    with CaptureQueriesContext(connection) as five:
        process.case_post_message(case=many, author=member, body="Due.")

    assert Notification.objects.filter(message__case=few).count() == 1
    assert Notification.objects.filter(message__case=many).count() == 5
    assert len(five) == len(one)


# --- The daily digest --------------------------------------------------------------------------


def _two_cases_with_messages(open_case, consultant):
    first = open_case(subject="Statuto")
    second = open_case(subject="Bilancio")
    for case, bodies in ((first, ["Primo.", "Secondo."]), (second, ["Terzo."])):
        for body in bodies:
            process.case_post_message(case=case, author=consultant, body=body)
    return first, second


@pytest.mark.parametrize(
    ("language", "month"), [("it", "23 novembre 2026"), ("en", "23 november 2026")]
)
def test_a_digest_reader_gets_one_email_a_day_listing_the_cases(
    language, month, open_case, member, consultant
):
    _speaks(member, language, notify="digest")
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=ROME), tick=False):
        first, second = _two_cases_with_messages(open_case, consultant)
        process.case_request_info(case=first, actor=consultant, question="Serve il verbale.")
        sent = _deliver()

    # Messages wait for the digest; the request for information (a change of status) does not.
    received = Notification.objects.filter(recipient=member, status="sent")
    assert sorted(received.values_list("kind", flat=True)) == [
        "case_opened",
        "case_opened",
        "info_requested",
    ]
    assert len(_to(sent, member)) == 3
    assert not any("Primo." in _body(m) for m in _to(sent, member))
    assert Notification.objects.filter(recipient=member, status="held").count() == 3

    with time_machine.travel(datetime(2026, 11, 23, 18, 0, tzinfo=ROME), tick=False):
        before = len(mail.outbox)
        # The task queues the digests and asks for their delivery (here, eagerly, at once).
        assert tasks.send_digests() == 1
        assert tasks.send_digests() == 0  # nothing left: a second run writes nothing
        deliver_pending()
        digests = _to([sent.message() for sent in mail.outbox[before:]], member)

    (email,) = digests
    body = _body(email)
    assert month in _subject(email).lower()  # the day, in the reader's language
    assert f"[{first.reference}] Statuto" in body and f"[{second.reference}] Bilancio" in body
    if language == "en":
        assert "2 new messages" in body and "1 new message" in body
    assert f"/cases/{first.pk}/" in body and f"/cases/{second.pk}/" in body
    assert "/work/" not in body
    assert Notification.objects.filter(recipient=member, status="held").count() == 0
    assert Notification.objects.filter(recipient=member, status="digested").count() == 3
    assert Notification.objects.filter(recipient=member, kind="digest").count() == 1


def test_a_staff_digest_links_to_the_workspace(assigned_case, member, consultant):
    _speaks(consultant, "en", notify="digest")
    process.case_post_message(case=assigned_case, author=member, body="Una domanda.")
    _deliver()
    assert Notification.objects.get(recipient=consultant, status="held").kind == (
        "message_from_cooperative"
    )

    assert digest.send_digests() == 1
    (email,) = _to(_deliver(), consultant)
    assert f"/work/cases/{assigned_case.pk}/" in _body(email)
    assert "1 new message" in _body(email)


def test_a_digest_costs_a_bounded_number_of_statements_however_many_messages(
    open_case, member, consultant, django_assert_max_num_queries
):
    _speaks(member, "it", notify="digest")
    for n in range(6):
        case = open_case(subject=f"Pratica {n}")
        for body in ("Uno.", "Due."):
            process.case_post_message(case=case, author=consultant, body=body)
    assert Notification.objects.filter(status="held").count() == 12

    # The people with held rows, then per person: lock and read, profile, insert, update, and
    # the savepoint's two statements.
    with django_assert_max_num_queries(8):
        assert digest.send_digests() == 1


@pytest.mark.django_db(transaction=True)
def test_two_digest_runs_racing_send_each_person_one_digest(open_case, member, consultant):
    _speaks(member, "it", notify="digest")
    _two_cases_with_messages(open_case, consultant)
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            results.append(digest.send_digests())
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(recipient=member, kind="digest").count() == 1
    assert Notification.objects.filter(recipient=member, status="digested").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_digest_run_skips_a_person_another_run_is_writing_to_and_never_waits(
    open_case, member, consultant
):
    _speaks(member, "it", notify="digest")
    _two_cases_with_messages(open_case, consultant)
    locked, release = threading.Event(), threading.Event()

    def other_run_in_progress():
        # What a digest run holds while it writes a person's digest: that person's row.
        try:
            with transaction.atomic():
                list(get_user_model().objects.select_for_update().filter(pk=member.pk))
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_run_in_progress)
    other.start()
    assert locked.wait(10)
    try:
        # The person is another run's: this one writes no digest for them, and does not wait.
        assert digest.send_digests() == 0
        assert Notification.objects.filter(recipient=member, status="held").count() == 3
    finally:
        release.set()
        other.join()
    assert digest.send_digests() == 1
    assert Notification.objects.filter(recipient=member, kind="digest").count() == 1
