"""Who reaches the staff pages: staff only, each within their areas."""

import pytest
from django.urls import reverse
from django.urls.resolvers import URLPattern

from casework.models import Attachment
from workflows.flows import CaseFlow
from workflows.workspace import urls as work_urls
from workflows.workspace.views import CASE_ACTIONS

from .conftest import work_task_of

pytestmark = pytest.mark.django_db

URL_NAMES = sorted(p.name for p in work_urls.urlpatterns if isinstance(p, URLPattern))


def _url(name, *, case_id, task_id, follow_up_id, attachment_id):
    kwargs = {
        "inbox": {},
        "queue": {},
        "case_new": {},
        "search": {},  # the header's search box
        "task": {"task_pk": task_id},
        "claim": {"task_id": task_id},
        "release": {"task_id": task_id},
        "case": {"case_id": case_id},
        "attachment": {"case_id": case_id, "attachment_id": attachment_id},
        "follow_up": {"task_id": follow_up_id},
        # Unmatched mail: refused before any lookup, so no e-mail needs to exist.
        "mail": {},
        **{
            name: {"inbound_id": 1}
            for name in ("mail_detail", "mail_link", "mail_discard", "mail_original")
        },
        # The case list, its CSV, bulk actions and saved views: refused before any lookup.
        **{
            name: {}
            for name in ("cases", "cases_csv", "cases_bulk", "case_view_save", "case_view_default")
        },
        "case_view_delete": {"view_id": 1},
        # A cooperative's page: refused to non-staff before any lookup.
        "cooperative": {"pk": 1},
        # Deadlines: the page, and one deadline's change, done and reopen (refused to non-staff
        # before any lookup); adding one is under the case.
        "deadlines": {},
        **{name: {"pk": 1} for name in ("deadline_edit", "deadline_done", "deadline_reopen")},
        # Who follows the case: one participant's removal names them.
        "participant_remove": {"case_id": case_id, "user_id": 1},
        # Hours: one entry's correction and deletion; the billing file of a period.
        **{
            name: {"case_id": case_id, "entry_id": 1}
            for name in ("time_entry_change", "time_entry_delete")
        },
        "billing_csv": {},
        # A cooperative's people (refused to non-staff before any lookup).
        "cooperative_people": {"cooperative_id": 1},
        "cooperative_people_invite": {"cooperative_id": 1},
        "cooperative_people_remove": {"cooperative_id": 1, "membership_id": 1},
        **{
            name: {"cooperative_id": 1, "invitation_id": 1}
            for name in ("cooperative_people_resend", "cooperative_people_revoke")
        },
    }
    return reverse(f"work:{name}", kwargs=kwargs.get(name, {"case_id": case_id}))


@pytest.fixture
def url_of(assigned_case, follow_up_task):
    """Every URL of the workspace with real ids of a case of the member's own cooperative."""
    document = Attachment.objects.create(
        case=assigned_case,
        file="cases/statuto.pdf",
        original_name="statuto.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    ids = {
        "case_id": assigned_case.pk,
        "task_id": work_task_of(assigned_case).pk,
        "follow_up_id": follow_up_task.pk,
        "attachment_id": document.pk,
    }
    return lambda name: _url(name, **ids)


def test_the_checks_below_cover_every_action_of_the_case_page():
    assert {action.url_name for action in CASE_ACTIONS} <= set(URL_NAMES)
    assert {"inbox", "queue", "case", "claim", "release", "follow_up"} <= set(URL_NAMES)


@pytest.mark.parametrize("name", URL_NAMES)
def test_a_cooperative_member_gets_403_everywhere(client, member, url_of, name):
    client.force_login(member)

    statuses = {client.get(url_of(name)).status_code, client.post(url_of(name)).status_code}

    assert statuses == {403}


@pytest.mark.parametrize("name", URL_NAMES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, name):
    # The login check comes before any lookup, so no case needs to exist.
    url = _url(name, case_id=1, task_id=1, follow_up_id=1, attachment_id=1)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_refused_member_changes_nothing(client, member, assigned_case):
    client.force_login(member)

    client.post(reverse("work:cancel", args=[assigned_case.pk]), {"cancel-reason": "Basta"})

    assigned_case.refresh_from_db()
    assert assigned_case.status == "assigned"


@pytest.mark.parametrize(
    "name", ["case", "acknowledge", "reply", "note", "resolve", "cancel", "attachment"]
)
def test_a_consultant_of_another_area_gets_404_for_the_case(
    client, other_area_consultant, url_of, assigned_case, name
):
    client.force_login(other_area_consultant)

    response = (client.get if name in ("case", "attachment") else client.post)(url_of(name))

    assert response.status_code == 404
    assigned_case.refresh_from_db()
    assert assigned_case.status == "assigned"


def test_a_consultant_of_another_area_never_sees_its_queue(
    client, other_area_consultant, released_case
):
    task = work_task_of(released_case)
    client.force_login(other_area_consultant)

    page = client.get(reverse("work:queue"))
    claim = client.post(reverse("work:claim", args=[task.pk]))

    assert page.status_code == 200
    assert released_case.reference not in page.content.decode()
    assert claim.status_code == 404
    task.refresh_from_db()
    assert task.owner is None


def test_a_consultant_sees_no_supervisor_queue(client, colleague, triage_case, released_case):
    client.force_login(colleague)

    page = client.get(reverse("work:queue")).content.decode()

    assert released_case.reference in page
    assert triage_case.reference not in page
    assert str(CaseFlow.triage.task_title) not in page


def test_a_consultant_cannot_complete_a_follow_up(client, consultant, follow_up_task):
    client.force_login(consultant)

    response = client.get(reverse("work:follow_up", args=[follow_up_task.pk]))

    assert response.status_code == 403


@pytest.mark.parametrize("name", ["claim", "release", "resolve", "cancel"])
def test_action_urls_take_only_post(client, consultant, url_of, name):
    client.force_login(consultant)

    response = client.get(url_of(name))

    assert response.status_code == 405
