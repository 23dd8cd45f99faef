"""What staff see on the inbox, the queue, the case page and the follow-up page."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.urls import reverse

from casework.models import Attachment, Consultant
from workflows import process

from .conftest import work_task_of

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _action_urls(html: str) -> set[str]:
    """The actions a page offers: its forms' URLs, and the choices of its composer."""
    forms = {url.rstrip("/").rsplit("/", 1)[-1] for url in re.findall(r'action="([^"]+)/"', html)}
    return forms | set(re.findall(r'name="composer-mode" value="([^"]+)"', html))


def test_the_inbox_lists_my_tasks_oldest_first(client, consultant, open_case):
    first, second = open_case(subject="Primo"), open_case(subject="Secondo")
    client.force_login(consultant)

    html = _html(client.get(reverse("work:inbox")))

    assert html.index(first.reference) < html.index(second.reference)
    assert "Cooperativa Alfa" in html and "Legale" in html
    assert str(process.CaseFlow.work.task_title) in html
    assert reverse("work:case", args=[first.pk]) in html


def test_the_inbox_says_the_sla_state_with_the_due_time(client, consultant, open_case):
    # Monday 09:00: the first response (240 business minutes, warning at 75 %) is due at 13:00.
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=ROME), tick=False) as clock:
        open_case()
        clock.move_to(datetime(2026, 3, 2, 12, 30, tzinfo=ROME))
        client.force_login(consultant)

        html = _html(client.get(reverse("work:inbox"), HTTP_ACCEPT_LANGUAGE="en"))

    assert "At risk — due Mon 13:00" in html


def test_an_empty_inbox_points_to_the_queue(client, colleague, process_setup):
    client.force_login(colleague)

    html = _html(client.get(reverse("work:inbox")))

    assert reverse("work:queue") in html


def test_the_queue_offers_a_claim_button_per_task(client, colleague, released_case):
    client.force_login(colleague)

    html = _html(client.get(reverse("work:queue")))

    assert released_case.reference in html
    assert reverse("work:claim", args=[work_task_of(released_case).pk]) in html


def test_a_supervisor_sees_triage_manual_assignment_and_follow_up_queues(
    client, area_supervisor, triage_case, open_case, consultant, follow_up_task
):
    Consultant.objects.filter(user=consultant).update(absent_until="2099-12-31")
    nobody_free = open_case(subject="Nessuno libero")
    assert nobody_free.status == "unassigned"
    client.force_login(area_supervisor)

    html = _html(client.get(reverse("work:queue")))
    only_triage = _html(client.get(reverse("work:queue"), {"step": "triage"}))

    assert triage_case.reference in html
    assert nobody_free.reference in html
    assert reverse("work:follow_up", args=[follow_up_task.pk]) in html
    assert triage_case.reference in only_triage
    assert nobody_free.reference not in only_triage


def test_the_case_page_shows_the_header_sla_and_timeline(client, consultant, assigned_case):
    process.case_post_message(
        case=assigned_case, author=consultant, body="Nota riservata", internal=True
    )
    process.case_post_message(case=assigned_case, author=consultant, body="Risposta pubblica")
    client.force_login(consultant)

    html = _html(client.get(reverse("work:case", args=[assigned_case.pk])))

    assert assigned_case.reference in html and assigned_case.subject in html
    assert "Cooperativa Alfa" in html
    assert html.count('class="entry entry-note"') == 1
    # Newest first until the person chooses otherwise.
    assert html.index("Risposta pubblica") < html.index("Nota riservata")
    assert html.count('class="entry entry-message"') == 1
    assert "entry entry-event" in html
    assert 'id="sla-heading"' in html


def test_the_assignee_gets_the_work_forms_only(client, consultant, assigned_case):
    client.force_login(consultant)

    html = _html(client.get(reverse("work:case", args=[assigned_case.pk])))

    assert _action_urls(html) >= {
        "acknowledge",
        "reply",
        "note",
        "request-info",
        "resolve",
        "time",
        "hand-back",
    }
    assert not _action_urls(html) & {"triage", "reject", "assign", "priority", "cancel"}


def test_a_supervisor_gets_triage_and_reject_on_a_case_in_triage(
    client, area_supervisor, triage_case
):
    client.force_login(area_supervisor)

    html = _html(client.get(reverse("work:case", args=[triage_case.pk])))

    assert {"triage", "reject", "priority", "cancel"} <= _action_urls(html)
    assert "resolve" not in _action_urls(html)


def test_the_assign_form_shows_load_capacity_and_absence(
    client, area_supervisor, assigned_case, colleague
):
    Consultant.objects.filter(user=colleague).update(active_cases=3, absent_until="2099-01-01")
    client.force_login(area_supervisor)

    html = _html(
        client.get(reverse("work:case", args=[assigned_case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    )

    assert "3 of 100 active cases" in html
    assert "absent until" in html


def test_labels_are_tied_to_their_inputs(client, consultant, assigned_case):
    client.force_login(consultant)

    html = _html(client.get(reverse("work:case", args=[assigned_case.pk])))

    for input_id in re.findall(r'<(?:textarea|select|input)[^>]*\bid="(id_[^"]+)"', html):
        assert f'for="{input_id}"' in html, input_id


def test_a_closed_case_offers_no_work(client, consultant, rated_case):
    client.force_login(consultant)

    html = _html(client.get(reverse("work:case", args=[rated_case.pk])))

    # Besides the page's chrome (language, log out, the header's search box) only time (and
    # correcting or deleting each entry), adding a deadline (a term may run on after the case
    # closed) and whether it is confidential (its history stays sensitive).
    entries = {str(pk) for pk in rated_case.time_entries.values_list("pk", flat=True)}
    assert entries
    assert _action_urls(html) == {
        *entries,
        "delete",
        "time",
        "setlang",
        "logout",
        "search",
        "timeline-order",
        "new",
        "confidential",
    }


def test_the_follow_up_page_shows_the_rating(client, area_supervisor, follow_up_task, rated_case):
    client.force_login(area_supervisor)

    html = _html(client.get(reverse("work:follow_up", args=[follow_up_task.pk])))

    assert rated_case.reference in html
    assert "Troppo lento" in html


def test_the_task_page_leads_to_the_case(client, consultant, assigned_case):
    client.force_login(consultant)

    response = client.get(reverse("work:task", args=[work_task_of(assigned_case).pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("work:case", args=[assigned_case.pk])


def test_pages_render_in_italian_and_english(client, area_supervisor, assigned_case):
    client.force_login(area_supervisor)

    for language in ("it", "en"):
        html = _html(
            client.get(reverse("work:case", args=[assigned_case.pk]), HTTP_ACCEPT_LANGUAGE=language)
        )
        assert f'<html lang="{language}">' in html


@pytest.mark.parametrize("role", ["consultant", "area_supervisor", "supervisor", "admin_user"])
def test_every_page_renders_for_each_staff_role(request, client, role, assigned_case):
    client.force_login(request.getfixturevalue(role))

    for url in (
        reverse("work:inbox"),
        reverse("work:queue"),
        reverse("work:case", args=[assigned_case.pk]),
    ):
        assert client.get(url).status_code == 200, url


def test_a_supervisor_sees_the_follow_up_in_the_inbox_once_claimed(
    client, area_supervisor, follow_up_task
):
    process.task_claim(task=follow_up_task, actor=area_supervisor)
    client.force_login(area_supervisor)

    html = _html(client.get(reverse("work:inbox")))

    assert reverse("work:follow_up", args=[follow_up_task.pk]) in html


def test_labels_are_tied_to_their_inputs_on_the_supervisor_forms(
    client, area_supervisor, triage_case
):
    client.force_login(area_supervisor)

    html = _html(client.get(reverse("work:case", args=[triage_case.pk])))

    input_ids = re.findall(r'<(?:textarea|select|input)[^>]*\bid="(id_[^"]+)"', html)
    assert "id_reject-reason_0" in input_ids
    for input_id in input_ids:
        assert f'for="{input_id}"' in html, input_id


def test_a_document_is_downloaded_through_the_case_page(
    client, consultant, assigned_case, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    document = Attachment(
        case=assigned_case,
        original_name="verbale.pdf",
        content_type="application/pdf",
        size=4,
        sha256="0" * 64,
    )
    document.file.save("verbale.pdf", ContentFile(b"%PDF"), save=True)
    client.force_login(consultant)

    page = _html(client.get(reverse("work:case", args=[assigned_case.pk])))
    download = client.get(reverse("work:attachment", args=[assigned_case.pk, document.pk]))

    assert "verbale.pdf" in page
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF"
    assert 'filename="verbale.pdf"' in download["Content-Disposition"]
