"""The cooperative portal as a member uses it: lists, the switcher, intake, answers and ratings."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from casework.models import Attachment, Case, CaseEvent, Message, Rating
from casework.presenters import sla_words
from tests.portal.conftest import EXE_BYTES, PDF_BYTES, make_case
from workflows import process
from workflows.process import case_attach

pytestmark = pytest.mark.django_db


def _intake(area, cooperative, **extra):
    data = {
        "cooperative": cooperative.pk,
        "area": area.pk,
        "specialty": "",
        "subject": "Modifica dello statuto",
        "description": "Serve un parere sulla modifica dell'oggetto sociale.",
        "priority": "high",
    }
    data.update(extra)
    return data


# --- The list and the switcher ----------------------------------------------------------------


def test_member_sees_own_cases_with_sla_in_words(
    client, member, member_case, other_member, other_cooperative, open_case
):
    theirs = open_case(other_member, other_cooperative, subject="Bilancio altrui")
    client.force_login(member)
    page = client.get("/cases/").content.decode()
    assert member_case.reference in page
    assert theirs.reference not in page and "Bilancio altrui" not in page
    assert "First response expected by" in page
    assert f'href="/cases/{member_case.pk}/"' in page


def test_sla_words_use_due_instants_and_clock_states(member_case):
    due = member_case.first_response_due_at
    with translation.override("en"):
        text = str(sla_words(member_case))
        late = str(sla_words(member_case, now=due + timedelta(minutes=1)))
    assert "First response expected by" in text
    assert timezone.localtime(due).isoformat() in text
    assert "First response late" in late


def test_sla_words_read_in_italian_with_weekday(member_case):
    due = timezone.localtime(member_case.first_response_due_at)
    now = due - timedelta(days=3)
    with translation.override("it"):
        text = str(sla_words(member_case, now=now))
    weekday = ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"]
    assert f"{weekday[due.weekday()]} {due:%H:%M}" in text


def test_status_filter(client, member, member_case, cooperative, area):
    closed = make_case(cooperative=cooperative, area=area, status="closed", subject="Chiuso")
    client.force_login(member)
    open_only = client.get("/cases/?status=open").content.decode()
    assert member_case.reference in open_only and closed.reference not in open_only
    only_closed = client.get("/cases/?status=closed").content.decode()
    assert closed.reference in only_closed and member_case.reference not in only_closed
    # An unknown filter shows everything rather than failing.
    everything = client.get("/cases/?status=nonsense").content.decode()
    assert closed.reference in everything and member_case.reference in everything


def test_member_of_two_cooperatives_switches(
    client, multi_member, cooperative, other_cooperative, area
):
    alfa = make_case(cooperative=cooperative, area=area, subject="Caso Alfa")
    beta = make_case(cooperative=other_cooperative, area=area, subject="Caso Beta")
    client.force_login(multi_member)
    first = client.get("/cases/").content.decode()
    assert alfa.reference in first and beta.reference not in first
    response = client.post("/cases/cooperative/", {"cooperative": other_cooperative.pk})
    assert response.status_code == 302
    switched = client.get("/cases/").content.decode()
    assert beta.reference in switched and alfa.reference not in switched


def test_switcher_refuses_a_forged_cooperative(client, member, cooperative, area):
    stranger = make_case(
        cooperative=factory_cooperative(), area=area, subject="Non tuo", status="unassigned"
    )
    client.force_login(member)
    response = client.post("/cases/cooperative/", {"cooperative": stranger.cooperative_id})
    assert response.status_code == 400
    assert "portal_cooperative_id" not in client.session
    assert stranger.reference not in response.content.decode()
    # Even a session that somehow holds another cooperative shows only the member's own.
    session = client.session
    session["portal_cooperative_id"] = stranger.cooperative_id
    session.save()
    page = client.get("/cases/").content.decode()
    assert stranger.reference not in page
    assert cooperative.name in page


def factory_cooperative():
    from tests import factories

    return factories.CooperativeFactory(name="Cooperativa Gamma")


def test_other_cooperative_case_by_id_is_404(client, other_member, member_case):
    client.force_login(other_member)
    assert client.get(f"/cases/{member_case.pk}/").status_code == 404
    assert client.post(f"/cases/{member_case.pk}/reply/", {"body": "Ciao"}).status_code == 404


# --- Intake ------------------------------------------------------------------------------------


def test_intake_form_guides_by_area(client, member, process_setup, specialty, other_specialty):
    client.force_login(member)
    page = client.get("/cases/new/").content.decode()
    assert f'data-area="{process_setup.pk}"' in page
    assert f'data-area="{other_specialty.area_id}"' in page
    assert "Statuto vigente e ultimo verbale di assemblea" in page
    assert 'type="file"' in page and "multiple" in page
    assert "js/intake.js" in page


def test_intake_creates_a_case_with_a_pdf(
    client, member, cooperative, process_setup, specialty, pdf_upload, media_root
):
    client.force_login(member)
    data = _intake(process_setup, cooperative, specialty=specialty.pk)
    data["documents"] = [pdf_upload("statuto.pdf"), pdf_upload("../../verbale 2024.pdf")]
    response = client.post("/cases/new/", data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.cooperative == cooperative and case.specialty == specialty
    assert case.requester == member
    documents = list(case.attachments.order_by("id"))
    assert [d.original_name for d in documents] == ["statuto.pdf", "verbale 2024.pdf"]
    assert all(d.content_type == "application/pdf" and d.size == len(PDF_BYTES) for d in documents)
    assert all(media_root in (media_root / d.file.name).parents for d in documents)
    assert CaseEvent.objects.filter(case=case, kind="attachment_added").count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "statuto.pdf" in page and case.reference in page


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("programma.pdf", EXE_BYTES), "not an accepted kind of document"),
        (("enorme.pdf", PDF_BYTES + b"0" * 2048), "documents may be at most"),
    ],
    ids=["exe-renamed-pdf", "oversize"],
)
def test_intake_refuses_bad_documents_and_saves_nothing(
    client, member, cooperative, process_setup, settings, media_root, upload, message
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    client.force_login(member)
    data = _intake(process_setup, cooperative)
    from django.core.files.uploadedfile import SimpleUploadedFile

    data["documents"] = [SimpleUploadedFile(upload[0], upload[1])]
    response = client.post("/cases/new/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Case.objects.exists() and not Attachment.objects.exists()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))
    # What the member typed is still there to correct.
    assert "Modifica dello statuto" in response.content.decode()


def test_intake_refuses_a_specialty_of_another_area(
    client, member, cooperative, process_setup, other_specialty
):
    client.force_login(member)
    response = client.post(
        "/cases/new/", _intake(process_setup, cooperative, specialty=other_specialty.pk)
    )
    assert response.status_code == 200
    assert "Choose a specialty of the area" in response.content.decode()
    assert not Case.objects.exists()


def test_intake_refuses_another_cooperative(client, member, other_cooperative, process_setup):
    client.force_login(member)
    response = client.post("/cases/new/", _intake(process_setup, other_cooperative))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Case.objects.exists()


# --- The case page and its actions ------------------------------------------------------------


def test_internal_notes_and_documents_never_reach_the_member(
    client, member, member_case, consultant, pdf_upload
):
    process.case_post_message(
        case=member_case, author=consultant, body="NOTA-RISERVATA-123", internal=True
    )
    process.case_post_message(case=member_case, author=consultant, body="Risposta pubblica")
    secret = case_attach(
        case=member_case,
        uploaded_by=consultant,
        file=pdf_upload("riservato-interno.pdf"),
        internal=True,
    )
    client.force_login(member)
    page = client.get(f"/cases/{member_case.pk}/").content.decode()
    assert "Risposta pubblica" in page
    assert "NOTA-RISERVATA-123" not in page
    assert "riservato-interno.pdf" not in page
    assert client.get(f"/documents/{secret.pk}/").status_code == 404
    client.force_login(consultant)
    assert client.get(f"/documents/{secret.pk}/").status_code == 200


def test_member_answers_a_request_for_information_with_text_and_files(
    client, member, member_case, consultant, pdf_upload
):
    process.case_request_info(case=member_case, actor=consultant, question="Serve il verbale")
    client.force_login(member)
    page = client.get(f"/cases/{member_case.pk}/").content.decode()
    assert "The consultant needs information from you" in page and "Serve il verbale" in page
    response = client.post(
        f"/cases/{member_case.pk}/reply/",
        {"body": "Ecco il verbale", "documents": [pdf_upload("verbale.pdf")]},
    )
    assert response.status_code == 302
    member_case.refresh_from_db()
    assert member_case.status == "assigned"
    message = Message.objects.get(case=member_case, body="Ecco il verbale")
    assert list(message.attachments.values_list("original_name", flat=True)) == ["verbale.pdf"]


def test_answer_with_only_a_document_writes_a_message_for_it(
    client, member, member_case, consultant, pdf_upload
):
    process.case_request_info(case=member_case, actor=consultant, question="Serve la visura")
    client.force_login(member)
    client.post(f"/cases/{member_case.pk}/reply/", {"body": "", "documents": [pdf_upload("v.pdf")]})
    member_case.refresh_from_db()
    assert member_case.status == "assigned"
    assert Message.objects.filter(case=member_case, body__contains="v.pdf").exists()


def test_a_bad_document_in_an_answer_keeps_the_text_and_changes_nothing(
    client, member, member_case, consultant
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    process.case_request_info(case=member_case, actor=consultant, question="Serve il verbale")
    client.force_login(member)
    response = client.post(
        f"/cases/{member_case.pk}/reply/",
        {"body": "Testo da non perdere", "documents": [SimpleUploadedFile("x.pdf", EXE_BYTES)]},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Testo da non perdere" in page and "not an accepted kind of document" in page
    member_case.refresh_from_db()
    assert member_case.status == "waiting"
    assert not Message.objects.filter(body="Testo da non perdere").exists()


def test_empty_reply_is_a_form_error(client, member, member_case):
    client.force_login(member)
    response = client.post(f"/cases/{member_case.pk}/reply/", {"body": "  "})
    assert response.status_code == 200
    assert "Write a message or attach at least one document" in response.content.decode()


def test_member_confirms_a_resolved_case(client, member, member_case, consultant, outcome):
    process.case_resolve(
        case=member_case, actor=consultant, outcome=outcome, summary="Parere inviato"
    )
    client.force_login(member)
    page = client.get(f"/cases/{member_case.pk}/").content.decode()
    assert "Is your problem solved?" in page and "Parere inviato" in page
    assert client.post(f"/cases/{member_case.pk}/confirm/").status_code == 302
    member_case.refresh_from_db()
    assert member_case.status == "closed"


def test_member_reopens_with_a_reason(client, member, member_case, consultant, outcome):
    process.case_resolve(case=member_case, actor=consultant, outcome=outcome, summary="Fatto")
    client.force_login(member)
    empty = client.post(f"/cases/{member_case.pk}/reopen/", {"reason": ""})
    assert empty.status_code == 200 and "This field is required" in empty.content.decode()
    member_case.refresh_from_db()
    assert member_case.status == "resolved"
    response = client.post(f"/cases/{member_case.pk}/reopen/", {"reason": "Manca il modello"})
    assert response.status_code == 302
    member_case.refresh_from_db()
    assert member_case.status == "assigned"
    assert Message.objects.filter(case=member_case, body="Manca il modello").exists()


def test_member_rates_a_closed_case_once(client, member, member_case, consultant, outcome):
    process.case_resolve(case=member_case, actor=consultant, outcome=outcome, summary="Fatto")
    process.case_confirm(case=member_case, actor=member)
    client.force_login(member)
    assert "How satisfied are you" in client.get(f"/cases/{member_case.pk}/").content.decode()
    response = client.post(f"/cases/{member_case.pk}/rate/", {"score": "5", "comment": "Ottimo"})
    assert response.status_code == 302
    assert Rating.objects.get(case=member_case).score == 5
    again = client.post(f"/cases/{member_case.pk}/rate/", {"score": "1"})
    assert again.status_code == 200 and "already been rated" in again.content.decode()
    assert Rating.objects.get(case=member_case).score == 5
    page = client.get(f"/cases/{member_case.pk}/").content.decode()
    assert "You rated this case 5 out of 5" in page


def test_actions_out_of_state_are_explained_not_500(client, member, member_case):
    client.force_login(member)
    response = client.post(f"/cases/{member_case.pk}/confirm/", follow=True)
    assert response.status_code == 200
    assert "Cannot confirm case" in response.content.decode()
    rate = client.post(f"/cases/{member_case.pk}/rate/", {"score": "4"})
    assert rate.status_code == 200 and "once it is closed" in rate.content.decode()
    member_case.refresh_from_db()
    assert member_case.status == "assigned"


def test_pages_are_italian_by_default(client, member, member_case):
    client.cookies.pop("django_language")
    client.force_login(member)
    page = client.get("/cases/").content.decode()
    assert '<html lang="it">' in page
    client.cookies["django_language"] = "en"
    assert '<html lang="en">' in client.get("/cases/").content.decode()


def test_navigation_of_each_role(client, member, supervisor, member_case):
    client.force_login(member)
    page = client.get("/cases/").content.decode()
    assert 'href="/cases/new/"' in page and 'href="/dashboard/"' not in page
    client.force_login(supervisor)
    page = client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/"' in page and 'href="/work/"' in page
    assert 'href="/cases/new/"' not in page
