"""Messages and the timeline: internal notes and staff events never reach a cooperative."""

import json

import pytest

from workflows import process

pytestmark = pytest.mark.django_db


def messages_url(case):
    return f"/api/v1/cases/{case.pk}/messages/"


def events_url(case):
    return f"/api/v1/cases/{case.pk}/events/"


@pytest.fixture
def noted_case(assigned_case, consultant, member):
    process.case_post_message(case=assigned_case, author=consultant, body="Risposta pubblica")
    process.case_post_message(
        case=assigned_case, author=consultant, body="SEGRETO interno", internal=True
    )
    process.case_record_time(case=assigned_case, actor=consultant, minutes=15, note="SEGRETO ore")
    return assigned_case


def test_member_never_sees_internal_notes(api, member, noted_case):
    response = api(member).get(messages_url(noted_case))

    assert response.status_code == 200
    bodies = [m["body"] for m in response.json()["results"]]
    assert bodies == ["Risposta pubblica"]


def test_staff_see_internal_notes(api, consultant, supervisor, noted_case):
    for user in (consultant, supervisor):
        results = api(user).get(messages_url(noted_case)).json()["results"]
        assert [m["internal"] for m in results] == [False, True]


def test_no_member_response_mentions_internal_content(api, member, noted_case):
    client = api(member)
    urls = [
        messages_url(noted_case),
        events_url(noted_case),
        f"/api/v1/cases/{noted_case.pk}/",
        "/api/v1/cases/",
        f"/api/v1/cases/{noted_case.pk}/attachments/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "SEGRETO" not in json.dumps(response.json()), url


def test_member_posts_a_reply(api, member, assigned_case):
    response = api(member).post(messages_url(assigned_case), {"body": "Grazie"}, format="json")

    assert response.status_code == 201
    assert response.json()["author"]["username"] == "socio"
    assert response.json()["internal"] is False


def test_member_may_not_write_internal_notes(api, member, assigned_case):
    response = api(member).post(
        messages_url(assigned_case), {"body": "x", "internal": True}, format="json"
    )

    assert response.status_code == 403


def test_consultant_writes_an_internal_note(api, consultant, assigned_case):
    response = api(consultant).post(
        messages_url(assigned_case), {"body": "Nota", "internal": True}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["internal"] is True


@pytest.mark.parametrize("data", [{}, {"body": ""}, {"body": "x", "internal": "maybe"}])
def test_bad_message_is_400(api, member, assigned_case, data):
    response = api(member).post(messages_url(assigned_case), data, format="json")

    assert response.status_code == 400


def test_no_messages_on_a_closed_case(api, member, consultant, assigned_case, outcome):
    process.case_resolve(case=assigned_case, actor=consultant, outcome=outcome, summary="Fatto")
    process.case_confirm(case=assigned_case, actor=member)

    response = api(member).post(messages_url(assigned_case), {"body": "Ancora"}, format="json")

    assert response.status_code == 409


def test_outsider_cannot_see_messages(api, outsider, fiscal_consultant, assigned_case):
    for user in (outsider, fiscal_consultant):
        assert api(user).get(messages_url(assigned_case)).status_code == 404
        response = api(user).post(messages_url(assigned_case), {"body": "x"}, format="json")
        assert response.status_code == 404


def test_member_timeline_leaves_out_staff_events(api, member, consultant, noted_case):
    member_kinds = [e["kind"] for e in api(member).get(events_url(noted_case)).json()["results"]]
    staff_events = api(consultant).get(events_url(noted_case)).json()["results"]
    staff_kinds = [e["kind"] for e in staff_events]

    assert "opened" in member_kinds and "replied" in member_kinds
    assert "note_added" not in member_kinds and "time_recorded" not in member_kinds
    assert "routed" in member_kinds
    assert {"note_added", "time_recorded", "routed"} <= set(staff_kinds)


def test_member_timeline_hides_staff_values(api, member, consultant, noted_case):
    events = api(member).get(events_url(noted_case)).json()["results"]
    routed = next(e for e in events if e["kind"] == "routed")

    assert routed["note"] == "" and routed["after"] is None and routed["before"] is None
    assert routed["label"]

    staff_routed = next(
        e
        for e in api(consultant).get(events_url(noted_case)).json()["results"]
        if e["kind"] == "routed"
    )
    assert staff_routed["note"] and staff_routed["after"]["assignee"] == "consulente"
