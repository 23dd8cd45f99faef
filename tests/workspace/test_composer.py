"""The case page's composer: each thing it sends, its documents and minutes, and its refusals.

Everything goes through the page as a consultant would post it; what is checked is what the
cooperative and the staff then see (messages, documents, status, events), and that a refused
submit leaves nothing behind.
"""

from __future__ import annotations

import re
import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse

from casework.models import Attachment, CaseEvent, Message
from casework.selectors import attachments_visible_to
from workflows import process
from workflows.flows import CaseFlow

from .composing import compose, exe, pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def composer_uploads(settings, tmp_path):
    """Uploads go to a temporary directory, never to the developer's var/uploads."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT


def _stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _kinds(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", flat=True))


def _flash(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _redirects_to_case(response, case):
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == reverse("work:case", args=[case.pk])


def _snapshot(case):
    return (
        Message.objects.filter(case=case).count(),
        Attachment.objects.filter(case=case).count(),
        CaseEvent.objects.filter(case=case).count(),
    )


def _error_beside(html: str, field: str) -> str:
    """The error text rendered next to the composer's field (its id ends in `_errors`)."""
    match = re.search(rf'<div id="id_composer-{field}_errors"[^>]*>(.*?)</div>', html, re.S)
    assert match, f"no error beside {field}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


# --- Each thing the composer sends ---------------------------------------------------------


def test_a_reply_reaches_the_cooperative_and_is_the_first_response(
    client, consultant, member, assigned_case
):
    response = compose(client, consultant, assigned_case, mode="reply", body="Ecco il parere.")

    _redirects_to_case(response, assigned_case)
    assert _flash(response) == [f"Reply sent on {assigned_case.reference}."]
    message = Message.objects.get(case=assigned_case, body="Ecco il parere.")
    assert message.internal is False and message.author == consultant
    assigned_case.refresh_from_db()
    assert assigned_case.first_response_at is not None
    assert "replied" in _kinds(assigned_case)
    client.force_login(member)
    portal = client.get(reverse("portal-case", args=[assigned_case.pk])).content.decode()
    assert "Ecco il parere." in portal


def test_an_internal_note_stays_with_the_staff(client, consultant, member, assigned_case):
    response = compose(client, consultant, assigned_case, mode="note", body="Chiamare il notaio")

    _redirects_to_case(response, assigned_case)
    assert Message.objects.get(case=assigned_case, body="Chiamare il notaio").internal is True
    assert "note_added" in _kinds(assigned_case)
    client.force_login(member)
    portal = client.get(reverse("portal-case", args=[assigned_case.pk])).content.decode()
    assert "Chiamare il notaio" not in portal


def test_a_request_for_information_makes_the_case_wait(client, consultant, assigned_case):
    response = compose(
        client, consultant, assigned_case, mode="request-info", body="Mandateci lo statuto"
    )

    _redirects_to_case(response, assigned_case)
    assert _flash(response) == [
        f"{assigned_case.reference} now waits for the cooperative's answer."
    ]
    assigned_case.refresh_from_db()
    assert assigned_case.status == "waiting"
    assert "info_requested" in _kinds(assigned_case)
    assert process.active_task(assigned_case, CaseFlow.await_information) is not None


def test_resolving_takes_the_outcome_the_summary_and_the_minutes_once(
    client, consultant, assigned_case, outcome
):
    response = compose(
        client,
        consultant,
        assigned_case,
        mode="resolve",
        outcome=outcome.pk,
        body="Parere rilasciato, vedi allegato.",
        minutes="40",
    )

    _redirects_to_case(response, assigned_case)
    assigned_case.refresh_from_db()
    assert assigned_case.status == "resolved" and assigned_case.outcome == outcome
    assert assigned_case.resolution_summary == "Parere rilasciato, vedi allegato."
    assert assigned_case.minutes_spent == 40
    # The minutes are the resolution's own: no separate time entry counts them again.
    assert "time_recorded" not in _kinds(assigned_case)
    assert CaseEvent.objects.get(case=assigned_case, kind="resolved").after["minutes"] == 40


def test_handing_back_puts_the_case_back_with_the_supervisors(client, consultant, assigned_case):
    response = compose(
        client, consultant, assigned_case, mode="hand-back", body="Conflitto di interessi"
    )

    _redirects_to_case(response, assigned_case)
    assigned_case.refresh_from_db()
    assert assigned_case.status == "unassigned" and assigned_case.assignee is None
    event = CaseEvent.objects.get(case=assigned_case, kind="handed_back")
    assert event.note == "Conflitto di interessi"
    assert process.active_task(assigned_case, CaseFlow.assign_manually) is not None
    # Nothing the cooperative reads: a hand-back's reason is for the staff.
    assert not Message.objects.filter(case=assigned_case, body="Conflitto di interessi").exists()


def test_time_alone_is_one_entry_with_its_note(client, consultant, assigned_case):
    response = compose(
        client, consultant, assigned_case, mode="time", minutes="25", body="Telefonata"
    )

    _redirects_to_case(response, assigned_case)
    assigned_case.refresh_from_db()
    assert assigned_case.minutes_spent == 25
    event = CaseEvent.objects.get(case=assigned_case, kind="time_recorded")
    assert event.actor == consultant and event.note == "Telefonata"


def test_minutes_with_a_reply_are_recorded_once(client, consultant, assigned_case):
    response = compose(client, consultant, assigned_case, mode="reply", body="Fatto.", minutes="30")

    _redirects_to_case(response, assigned_case)
    assigned_case.refresh_from_db()
    assert assigned_case.minutes_spent == 30
    [entry] = CaseEvent.objects.filter(case=assigned_case, kind="time_recorded")
    assert entry.after["minutes"] == 30


def test_the_per_action_urls_of_earlier_pages_send_through_the_composer(
    client, consultant, assigned_case
):
    response = compose(
        client,
        consultant,
        assigned_case,
        url=reverse("work:note", args=[assigned_case.pk]),
        body="Da vecchia pagina",
    )

    _redirects_to_case(response, assigned_case)
    # The URL says what is sent: an internal note, whatever the form's choice.
    assert Message.objects.get(case=assigned_case, body="Da vecchia pagina").internal is True


# --- Documents -----------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "internal"), [("reply", False), ("note", True)])
def test_documents_go_on_the_message_public_or_internal_as_it_is(
    client, consultant, member, assigned_case, mode, internal
):
    response = compose(
        client,
        consultant,
        assigned_case,
        mode=mode,
        body="In allegato",
        documents=[pdf("parere.pdf"), pdf("bozza.pdf")],
    )

    _redirects_to_case(response, assigned_case)
    message = Message.objects.get(case=assigned_case, body="In allegato")
    documents = list(Attachment.objects.filter(case=assigned_case).order_by("original_name"))
    assert [d.original_name for d in documents] == ["bozza.pdf", "parere.pdf"]
    assert all(d.message == message and d.internal is internal for d in documents)
    assert all(d.uploaded_by == consultant for d in documents)
    seen_by_member = set(attachments_visible_to(member, assigned_case))
    assert seen_by_member == (set() if internal else set(documents))


@pytest.mark.parametrize(("mode", "internal"), [("reply", False), ("note", True)])
def test_documents_alone_are_attached_without_a_message(
    client, consultant, assigned_case, mode, internal
):
    messages_before = Message.objects.filter(case=assigned_case).count()

    response = compose(client, consultant, assigned_case, mode=mode, documents=[pdf("visura.pdf")])

    _redirects_to_case(response, assigned_case)
    document = Attachment.objects.get(case=assigned_case)
    assert document.original_name == "visura.pdf"
    assert document.message is None and document.internal is internal
    assert Message.objects.filter(case=assigned_case).count() == messages_before
    assert "attachment_added" in _kinds(assigned_case)


def test_a_request_for_information_carries_its_documents(client, consultant, assigned_case):
    response = compose(
        client,
        consultant,
        assigned_case,
        mode="request-info",
        body="Compilate il modulo allegato",
        documents=[pdf("modulo.pdf")],
    )

    _redirects_to_case(response, assigned_case)
    question = Message.objects.get(case=assigned_case, body="Compilate il modulo allegato")
    document = Attachment.objects.get(case=assigned_case)
    assert document.message == question and document.internal is False


def test_a_refused_kind_of_file_saves_nothing_and_says_which(
    client, consultant, assigned_case, composer_uploads
):
    before = _snapshot(assigned_case)

    response = compose(
        client,
        consultant,
        assigned_case,
        mode="reply",
        body="Ecco i documenti",
        minutes="20",
        documents=[pdf("buono.pdf"), exe("virus.pdf.exe")],
    )

    assert response.status_code == 400
    html = response.content.decode()
    error = _error_beside(html, "documents")
    assert "virus.pdf.exe" in error and "not an accepted kind of document" in error
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_composer-documents_errors' in (
        html
    )
    # Nothing of the submit: no message, no document, no time entry, no file on disk.
    assert _snapshot(assigned_case) == before
    assigned_case.refresh_from_db()
    assert assigned_case.minutes_spent == 0
    assert _stored_files(composer_uploads) == []
    # What was written is still there to send again.
    assert "Ecco i documenti" in html


def test_an_oversized_file_saves_nothing_and_says_how_big(
    client, consultant, assigned_case, settings, composer_uploads
):
    settings.ATTACHMENT_MAX_BYTES = 100
    before = _snapshot(assigned_case)

    response = compose(
        client,
        consultant,
        assigned_case,
        mode="note",
        body="Bilancio",
        documents=[pdf("bilancio.pdf", content=b"%PDF-1.4\n" + b"0" * 200)],
    )

    assert response.status_code == 400
    error = _error_beside(response.content.decode(), "documents")
    assert "bilancio.pdf" in error and "at most 100" in error
    assert _snapshot(assigned_case) == before
    assert _stored_files(composer_uploads) == []


def test_a_refusal_after_a_document_was_stored_leaves_no_file(
    client, consultant, assigned_case, composer_uploads
):
    """A hand-back stores its documents first; a refused hand-back (the case is waiting on the
    cooperative, as a page left open would not know) rolls back every row and removes the file."""
    process.case_request_info(case=assigned_case, actor=consultant, question="Lo statuto?")
    before = _snapshot(assigned_case)

    response = compose(
        client,
        consultant,
        assigned_case,
        mode="hand-back",
        body="Non è di mia competenza",
        documents=[pdf("appunti.pdf")],
    )

    assert response.status_code == 400
    assert "Non è di mia competenza" in response.content.decode()
    assert _snapshot(assigned_case) == before
    assert _stored_files(composer_uploads) == []
    assigned_case.refresh_from_db()
    assert assigned_case.status == "waiting"


# --- Refusals ------------------------------------------------------------------------------


def test_whitespace_only_text_is_refused_beside_the_text(client, consultant, assigned_case):
    before = _snapshot(assigned_case)

    response = compose(client, consultant, assigned_case, mode="reply", body="   \n\t  ")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Write a message or attach at least one document." in _error_beside(html, "body")
    textarea = re.search(r'<textarea[^>]*name="composer-body"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in textarea and "autofocus" in textarea
    assert 'aria-describedby="id_composer-body_errors' in textarea
    # The browser lands on the composer, not at the top of a long page.
    assert f'action="{reverse("work:compose", args=[assigned_case.pk])}#composer"' in html
    assert 'id="composer"' in html
    assert _snapshot(assigned_case) == before


def test_resolving_without_a_summary_keeps_the_choices_and_focuses_the_summary(
    client, consultant, assigned_case, outcome
):
    response = compose(
        client, consultant, assigned_case, mode="resolve", outcome=outcome.pk, body=" "
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Write the summary for the cooperative." in _error_beside(html, "body")
    assert re.search(r'<label for="id_composer-body">Summary for the cooperative', html)
    assert re.search(rf'<option value="{outcome.pk}" selected>', html)
    assert re.search(r'<input[^>]*value="resolve"[^>]*checked', html)
    textarea = re.search(r'<textarea[^>]*name="composer-body"[^>]*>', html).group(0)
    assert "autofocus" in textarea
    assigned_case.refresh_from_db()
    assert assigned_case.status == "assigned"


def test_resolving_without_an_outcome_is_refused_beside_the_outcome(
    client, consultant, assigned_case
):
    response = compose(client, consultant, assigned_case, mode="resolve", body="Fatto")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose the outcome of the resolution." in _error_beside(html, "outcome")
    select = re.search(r'<select[^>]*name="composer-outcome"[^>]*>', html).group(0)
    assert "autofocus" in select


def test_a_time_entry_needs_its_minutes(client, consultant, assigned_case):
    response = compose(client, consultant, assigned_case, mode="time", body="Telefonata")

    assert response.status_code == 400
    assert "Write the minutes spent." in _error_beside(response.content.decode(), "minutes")
    assert "time_recorded" not in _kinds(assigned_case)


def test_a_colleague_is_told_why_and_keeps_the_text(client, colleague, assigned_case, outcome):
    before = _snapshot(assigned_case)

    response = compose(
        client, colleague, assigned_case, mode="resolve", outcome=outcome.pk, body="Risolvo io"
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Only the consultant assigned to the case may do this." in html
    assert "Risolvo io" in html
    assert _snapshot(assigned_case) == before


def test_resolving_a_cancelled_case_is_refused(
    client, consultant, area_supervisor, assigned_case, outcome
):
    process.case_cancel(case=assigned_case, actor=area_supervisor, reason="Ritirata")

    response = compose(
        client, consultant, assigned_case, mode="resolve", outcome=outcome.pk, body="x"
    )

    assert response.status_code == 400
    assert "cancelled" in response.content.decode()
    assigned_case.refresh_from_db()
    assert assigned_case.status == "cancelled" and assigned_case.outcome is None
    assert "resolved" not in _kinds(assigned_case)


# --- What the composer offers --------------------------------------------------------------


def _modes(html: str) -> set[str]:
    return set(re.findall(r'name="composer-mode" value="([^"]+)"', html))


def test_the_composer_offers_what_the_policy_allows(
    client, consultant, colleague, area_supervisor, assigned_case
):
    client.force_login(consultant)
    mine = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()
    client.force_login(colleague)
    theirs = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()

    assert _modes(mine) == {"reply", "note", "request-info", "resolve", "hand-back", "time"}
    assert _modes(theirs) == {"reply", "note", "time"}
    assert 'name="composer-outcome"' not in theirs
    # The first response is still due: the assignee also has the one-click acknowledgement.
    assert reverse("work:acknowledge", args=[assigned_case.pk]) in mine
    assert reverse("work:acknowledge", args=[assigned_case.pk]) not in theirs


def test_the_acknowledgement_goes_once_the_first_reply_is_sent(client, consultant, assigned_case):
    compose(client, consultant, assigned_case, mode="reply", body="Presa in carico")

    page = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()

    assert reverse("work:acknowledge", args=[assigned_case.pk]) not in page
    assert "composer-body" in page


def test_a_closed_case_only_takes_minutes(client, consultant, member, assigned_case, outcome):
    process.case_resolve(case=assigned_case, actor=consultant, outcome=outcome, summary="Fatto")
    process.case_confirm(case=assigned_case, actor=member)
    client.force_login(consultant)

    page = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()
    response = compose(client, consultant, assigned_case, mode="time", minutes="15")

    assert _modes(page) == {"time"}
    assert 'name="composer-documents"' not in page
    _redirects_to_case(response, assigned_case)
    assigned_case.refresh_from_db()
    assert assigned_case.minutes_spent == 15


# --- Two at once ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_consultants_answering_at_once_both_get_their_message_in_in_order(
    consultant, colleague, assigned_case
):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    people = {"consultant": consultant, "colleague": colleague}
    clients = {}
    for name, user in people.items():
        clients[name] = Client(HTTP_ACCEPT_LANGUAGE="en")
        clients[name].force_login(user)
    barrier = threading.Barrier(len(people))
    answers: dict[str, object] = {}

    def answer(name):
        try:
            barrier.wait()
            answers[name] = compose(
                clients[name], people[name], assigned_case, mode="reply", body=f"Risposta: {name}"
            ).status_code
        except Exception as error:  # noqa: BLE001 - the test looks at every outcome
            answers[name] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(name,)) for name in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == {"consultant": 302, "colleague": 302}
    written = list(Message.objects.filter(case=assigned_case).order_by("created_at", "id"))
    assert sorted(m.body for m in written) == ["Risposta: colleague", "Risposta: consultant"]
    # One after the other under the case's lock: the later one in time is the later row.
    assert [m.pk for m in written] == sorted(m.pk for m in written)
    assert written[0].created_at < written[1].created_at
    assert _kinds(assigned_case).count("replied") == 2
