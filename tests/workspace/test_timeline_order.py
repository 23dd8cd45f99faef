"""Newest first or oldest first: the case pages' timeline order, remembered per person."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import UserProfile
from workflows import process

pytestmark = pytest.mark.django_db


@pytest.fixture
def talked_case(assigned_case, consultant, member):
    """A case with a question of the consultant and the member's answer, in that order."""
    process.case_post_message(case=assigned_case, author=consultant, body="Prima domanda")
    process.case_post_message(case=assigned_case, author=member, body="Seconda risposta")
    return assigned_case


def _first(html: str, *texts: str) -> str:
    return min(texts, key=html.index)


def _choose(client, order: str, next_url: str):
    return client.post(reverse("timeline-order"), {"order": order, "next": next_url})


def test_the_workspace_timeline_is_newest_first_until_one_chooses(client, consultant, talked_case):
    client.force_login(consultant)
    page = reverse("work:case", args=[talked_case.pk])

    before = client.get(page).content.decode()
    response = _choose(client, "oldest", f"{page}#timeline")
    after = client.get(page).content.decode()

    assert _first(before, "Prima domanda", "Seconda risposta") == "Seconda risposta"
    assert 'value="newest" class="link" aria-pressed="true"' in before
    assert response.status_code == 302 and response["Location"] == f"{page}#timeline"
    assert UserProfile.objects.get(user=consultant).timeline_order == "oldest"
    assert _first(after, "Prima domanda", "Seconda risposta") == "Prima domanda"
    assert 'value="oldest" class="link" aria-pressed="true"' in after


def test_the_portal_conversation_follows_the_members_choice(client, member, talked_case):
    client.force_login(member)
    page = reverse("portal-case", args=[talked_case.pk])

    before = client.get(page).content.decode()
    _choose(client, "oldest", f"{page}#conversation")
    after = client.get(page).content.decode()
    _choose(client, "newest", f"{page}#conversation")
    again = client.get(page).content.decode()

    assert _first(before, "Prima domanda", "Seconda risposta") == "Seconda risposta"
    assert _first(after, "Prima domanda", "Seconda risposta") == "Prima domanda"
    assert _first(again, "Prima domanda", "Seconda risposta") == "Seconda risposta"
    # The member's choice is theirs: the consultant still reads newest first.
    assert not UserProfile.objects.filter(user=talked_case.assignee).exists()


def test_an_existing_profile_keeps_its_other_preferences(client, consultant, talked_case):
    UserProfile.objects.create(user=consultant, language="en", notify="digest")
    client.force_login(consultant)

    _choose(client, "oldest", reverse("work:case", args=[talked_case.pk]))

    profile = UserProfile.objects.get(user=consultant)
    assert (profile.timeline_order, profile.language, profile.notify) == ("oldest", "en", "digest")


def test_an_unknown_order_changes_nothing(client, consultant, talked_case):
    client.force_login(consultant)
    page = reverse("work:case", args=[talked_case.pk])

    response = _choose(client, "sideways", page)

    assert response["Location"] == page
    assert not UserProfile.objects.filter(user=consultant).exists()


def test_the_choice_does_not_send_one_elsewhere(client, consultant):
    client.force_login(consultant)

    response = _choose(client, "oldest", "https://evil.example/")

    assert response["Location"] == reverse("home")


def test_the_choice_is_a_post_of_a_signed_in_person(client, consultant):
    assert client.post(reverse("timeline-order"), {"order": "oldest"}).status_code == 302
    assert not UserProfile.objects.exists()
    client.force_login(consultant)
    assert client.get(reverse("timeline-order")).status_code == 405


def test_after_a_refused_submit_the_choice_still_leads_back_to_the_case(
    client, consultant, talked_case
):
    client.force_login(consultant)

    refused = client.post(
        reverse("work:compose", args=[talked_case.pk]), {"composer-mode": "reply"}
    )

    assert refused.status_code == 400
    page = reverse("work:case", args=[talked_case.pk])
    assert f'name="next" value="{page}#timeline"' in refused.content.decode()
