"""The routing decision is explained on the case page in the reader's language, not as stored."""

import pytest

pytestmark = pytest.mark.django_db


def test_case_page_explains_why_the_consultant_was_chosen(client, assigned_case, consultant):
    client.force_login(consultant)
    page = client.get(f"/work/cases/{assigned_case.pk}/").content.decode()
    # The name people know the consultant by, never the username.
    consultant.first_name, consultant.last_name = "Carla", "Verdi"
    consultant.save()
    page = client.get(f"/work/cases/{assigned_case.pk}/").content.decode()
    assert "Assigned to Carla Verdi." in page
    assert f"Assigned to {consultant.username}." not in page
    assert "Same office as the cooperative (BO)." in page


def test_failed_routing_is_explained_to_the_supervisor(
    client, process_setup, member, cooperative, consultant, supervisor
):
    from casework.models import Consultant
    from workflows import process

    Consultant.objects.filter(user=consultant).update(active_cases=10, capacity=10)
    case = process.case_open(
        requester=member, cooperative=cooperative, area=process_setup, subject="S", description="D"
    )
    assert case.status == "unassigned"
    client.force_login(supervisor)
    page = client.get(f"/work/cases/{case.pk}/").content.decode()
    assert "Assign the case manually." in page
