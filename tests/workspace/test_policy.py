"""One rule, three readers: the workspace's buttons, the API's `actions` and the services' guards.

`casework.policy.RULES` decides who may take each action and from which statuses; these tests
walk cases through the process and check that the page, the API and the service agree.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from casework import policy
from casework.errors import ConflictError
from casework.hours import offered_actions
from workflows import process
from workflows.workspace.composer import MODES_BY_SLUG
from workflows.workspace.views import CASE_ACTIONS

pytestmark = pytest.mark.django_db


def _api_actions(user, case) -> set[str]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200, response.content
    return set(response.json()["actions"])


# What the page offers: a form of its own, or a choice of the composer.
SHOWN_BY_WORKSPACE = {str(spec.action) for spec in CASE_ACTIONS} | {
    str(mode.action) for mode in MODES_BY_SLUG.values()
}


def _page_actions(client, user, case) -> set[str]:
    client.force_login(user)
    page = client.get(reverse("work:case", args=[case.pk])).content.decode()
    forms = {
        str(spec.action)
        for spec in CASE_ACTIONS
        if f'action="{reverse(f"work:{spec.url_name}", args=[case.pk])}"' in page
    }
    modes = {
        str(MODES_BY_SLUG[slug].action)
        for slug in re.findall(r'name="composer-mode" value="([^"]+)"', page)
    }
    return forms | modes


@pytest.fixture
def resolved_case(assigned_case, consultant, outcome):
    return process.case_resolve(
        case=assigned_case, actor=consultant, outcome=outcome, summary="Parere inviato"
    )


def test_reopening_a_resolved_case_is_decided_in_one_place(member, consultant, resolved_case):
    rule = policy.RULES[policy.Action.REOPEN]
    assert rule.who is policy.Who.MEMBER and rule.allowed_from == {"resolved"}

    assert {"reopen", "confirm"} <= _api_actions(member, resolved_case)
    assert "reopen" not in _api_actions(consultant, resolved_case)

    with time_machine.travel(resolved_case.confirmation_due_at + timedelta(minutes=1)):
        assert "reopen" not in _api_actions(member, resolved_case)
        with pytest.raises(ConflictError) as refused:
            process.case_reopen(case=resolved_case, actor=member, reason="Non basta")
    assert refused.value.code == "reopen_window_closed"


@pytest.mark.parametrize("who", ["consultant", "colleague", "area_supervisor"])
@pytest.mark.parametrize("which", ["assigned_case", "triage_case", "resolved_case"])
def test_the_case_page_shows_the_actions_the_api_lists(client, request, who, which):
    user = request.getfixturevalue(who)
    case = request.getfixturevalue(which)
    on_page = _page_actions(client, user, case)
    in_api = _api_actions(user, case) & SHOWN_BY_WORKSPACE

    assert on_page == in_api
    assert on_page == {str(a) for a in offered_actions(case, user)} & SHOWN_BY_WORKSPACE


def test_a_supervisor_does_not_hand_back_a_case_someone_holds(area_supervisor, assigned_case):
    assert "hand_back" not in _api_actions(area_supervisor, assigned_case)
    client = APIClient()
    client.force_authenticate(area_supervisor)

    response = client.post(
        f"/api/v1/cases/{assigned_case.pk}/hand-back/", {"reason": "x"}, format="json"
    )

    assert response.status_code == 403
    assigned_case.refresh_from_db()
    assert assigned_case.status == "assigned"
