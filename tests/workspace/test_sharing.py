"""The workspace and who sees and follows a case (issue 17): the staff intake's confidential
box, the case page's panel (confidentiality, participants) and its timeline."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import Case, CaseParticipant, Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_page_colleague(cooperative):
    """An ordinary member of Cooperativa Alfa, whom staff may add to its cases."""
    return factories.MembershipFactory(
        cooperative=cooperative,
        role="member",
        user__first_name="Carla",
        user__last_name="Collega",
    ).user


def test_staff_open_a_confidential_case_for_a_cooperative(
    client, consultant, member, cooperative, process_setup
):
    client.force_login(consultant)
    membership = Membership.objects.get(user=member, cooperative=cooperative)
    # Someone who left the cooperative is not offered as the requester.
    left = factories.MembershipFactory(
        cooperative=cooperative, is_active=False, user__first_name="Ugo", user__last_name="Uscito"
    )
    form_page = client.get("/work/cases/new/").content.decode()
    assert 'name="confidential"' in form_page
    assert f'value="{left.pk}"' not in form_page

    response = client.post(
        "/work/cases/new/",
        {
            "cooperative": cooperative.pk,
            "requester": membership.pk,
            "area": process_setup.pk,
            "channel": "phone",
            "subject": "Provvedimento disciplinare",
            "description": "Il presidente ha telefonato.",
            "priority": "",
            "confidential": "on",
        },
    )

    assert response.status_code == 302, response.content
    assert Case.objects.get().confidential


def test_the_case_page_marks_a_case_confidential_and_says_so(client, consultant, assigned_case):
    client.force_login(consultant)
    page = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()
    assert "Mark as confidential" in page

    response = client.post(
        reverse("work:case_confidential", args=[assigned_case.pk]),
        {"confidential": "1"},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert f"{assigned_case.reference} is now confidential." in page
    assert "Confidentiality changed" in page
    assert "Now confidential: only its requester" in page
    assigned_case.refresh_from_db()
    assert assigned_case.confidential


def test_a_missing_choice_is_a_400(client, consultant, assigned_case):
    client.force_login(consultant)

    response = client.post(reverse("work:case_confidential", args=[assigned_case.pk]), {})

    assert response.status_code == 400
    assert "Say whether the case is confidential." in response.content.decode()


def test_staff_add_and_remove_a_participant(
    client, consultant, assigned_case, staff_page_colleague, other_member
):
    client.force_login(consultant)
    page = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()
    assert "Carla Collega" in page and other_member.get_full_name() not in page

    added = client.post(
        reverse("work:participant_add", args=[assigned_case.pk]),
        {"user": staff_page_colleague.pk},
        follow=True,
    )

    page = added.content.decode()
    assert "Carla Collega now follows" in page
    assert "Participant added" in page and "Carla Collega follows the case." in page
    assert CaseParticipant.objects.filter(user=staff_page_colleague).exists()

    removed = client.post(
        reverse("work:participant_remove", args=[assigned_case.pk, staff_page_colleague.pk]),
        follow=True,
    )
    assert "Carla Collega no longer follows the case." in removed.content.decode()
    assert not CaseParticipant.objects.exists()


def test_a_person_of_another_cooperative_is_refused_by_name(
    client, consultant, assigned_case, other_member
):
    client.force_login(consultant)

    response = client.post(
        reverse("work:participant_add", args=[assigned_case.pk]), {"user": other_member.pk}
    )

    assert response.status_code == 400
    assert (
        f"{other_member.get_full_name()} is not an active member of Cooperativa Alfa"
        in response.content.decode()
    )
    assert not CaseParticipant.objects.exists()


def test_staff_of_another_area_reach_none_of_it(
    client, other_area_consultant, assigned_case, staff_page_colleague
):
    client.force_login(other_area_consultant)

    for url, data in (
        (reverse("work:case_confidential", args=[assigned_case.pk]), {"confidential": "1"}),
        (
            reverse("work:participant_add", args=[assigned_case.pk]),
            {"user": staff_page_colleague.pk},
        ),
    ):
        assert client.post(url, data).status_code == 404
    assigned_case.refresh_from_db()
    assert not assigned_case.confidential and not CaseParticipant.objects.exists()
