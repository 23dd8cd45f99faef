"""The API of who sees and follows a case (issue 17): `confidential` and `participants` in the
case JSON, a confidential intake, `POST /cases/{id}/confidential/`, `POST /cases/{id}/participants/`
and `DELETE /cases/{id}/participants/{user_id}/`."""

from __future__ import annotations

import pytest

from casework.models import CaseEvent, CaseParticipant, Membership
from tests import factories
from workflows import process

from .test_query_counts import assert_constant

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def api_plain_member(cooperative):
    """An ordinary member of Cooperativa Alfa."""
    return factories.MembershipFactory(
        cooperative=cooperative, role="member", user__username="socio.base"
    ).user


@pytest.fixture
def api_referent(cooperative):
    return factories.MembershipFactory(
        cooperative=cooperative, role="referent", user__username="referente"
    ).user


@pytest.fixture
def plain_case(open_case, api_plain_member, consultant):
    return open_case(api_plain_member, subject="Lettera di contestazione")


def _post(client, url, data):
    return client.post(url, data, format="json", **EN)


def test_the_case_json_says_whether_it_is_confidential_and_who_follows_it(
    api, plain_case, api_plain_member, member
):
    process.case_add_participant(case=plain_case, actor=api_plain_member, person=member)

    body = api(api_plain_member).get(f"/api/v1/cases/{plain_case.pk}/").json()

    assert body["confidential"] is False
    assert body["participants"] == [{"id": member.pk, "name": member.get_full_name()}]
    assert "manage_participants" in body["actions"]
    assert "change_confidentiality" not in body["actions"]


def test_a_member_opens_a_confidential_case(api, api_plain_member, process_setup, api_referent):
    response = _post(
        api(api_plain_member),
        "/api/v1/cases/",
        {
            "area": "legal",
            "subject": "Procedimento disciplinare",
            "description": "Riguarda un socio lavoratore.",
            "confidential": True,
        },
    )

    assert response.status_code == 201, response.content
    assert response.json()["confidential"] is True
    case_id = response.json()["id"]
    assert CaseEvent.objects.filter(case_id=case_id, kind="confidentiality_changed").exists()
    # A referent of the cooperative does not see it.
    assert api(api_referent).get(f"/api/v1/cases/{case_id}/").status_code == 404


def test_staff_open_a_confidential_case_for_a_cooperative(
    api, consultant, api_plain_member, cooperative, process_setup
):
    response = _post(
        api(consultant),
        "/api/v1/cases/",
        {
            "cooperative": cooperative.pk,
            "requester": api_plain_member.pk,
            "channel": "phone",
            "area": "legal",
            "subject": "Segnalazione riservata",
            "description": "Per telefono.",
            "confidential": True,
        },
    )

    assert response.status_code == 201, response.content
    assert response.json()["confidential"] is True


def test_staff_and_the_legal_representative_mark_a_case_confidential(
    api, plain_case, consultant, member, api_referent, api_plain_member
):
    url = f"/api/v1/cases/{plain_case.pk}/confidential/"

    staff = _post(api(consultant), url, {"confidential": True})
    assert staff.status_code == 200, staff.content
    assert staff.json()["confidential"] is True
    # The referent no longer sees it (404, as for anything one may not see).
    assert _post(api(api_referent), url, {"confidential": False}).status_code == 404
    assert api(api_referent).get(f"/api/v1/cases/{plain_case.pk}/").status_code == 404
    # The requester sees it but may not change it.
    refused = _post(api(api_plain_member), url, {"confidential": False})
    assert refused.status_code == 403
    assert "legal representative" in refused.json()["detail"]

    legal_rep = _post(api(member), url, {"confidential": False})
    assert legal_rep.status_code == 200
    assert legal_rep.json()["confidential"] is False
    kinds = plain_case.events.filter(kind="confidentiality_changed")
    assert [e.after["confidential"] for e in kinds.order_by("id")] == [True, False]


@pytest.mark.parametrize("body", [{}, {"confidential": "perhaps"}, {"confidential": None}])
def test_a_bad_confidentiality_is_a_400(api, plain_case, consultant, body):
    response = _post(api(consultant), f"/api/v1/cases/{plain_case.pk}/confidential/", body)

    assert response.status_code == 400
    assert "confidential" in response.json()
    plain_case.refresh_from_db()
    assert not plain_case.confidential


def test_participants_are_added_and_removed(
    api, plain_case, api_plain_member, cooperative, consultant
):
    colleague = factories.MembershipFactory(cooperative=cooperative, role="member").user
    client = api(api_plain_member)
    url = f"/api/v1/cases/{plain_case.pk}/participants/"

    added = _post(client, url, {"user": colleague.pk})
    assert added.status_code == 200, added.content
    assert [p["id"] for p in added.json()["participants"]] == [colleague.pk]
    # The colleague now sees the case.
    assert api(colleague).get(f"/api/v1/cases/{plain_case.pk}/").status_code == 200

    removed = client.delete(f"{url}{colleague.pk}/", **EN)
    assert removed.status_code == 200, removed.content
    assert removed.json()["participants"] == []
    assert api(colleague).get(f"/api/v1/cases/{plain_case.pk}/").status_code == 404
    again = client.delete(f"{url}{colleague.pk}/", **EN)
    assert again.status_code == 404
    assert "does not follow" in again.json()["detail"]


def test_a_person_of_another_cooperative_or_who_left_is_refused_by_name(
    api, plain_case, consultant, other_member, cooperative
):
    left = factories.MembershipFactory(cooperative=cooperative, role="member", is_active=False)
    client = api(consultant)
    url = f"/api/v1/cases/{plain_case.pk}/participants/"

    for person in (other_member, left.user):
        response = _post(client, url, {"user": person.pk})
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "participant_cooperative"
        assert person.get_full_name() in body["detail"]
        assert "Cooperativa Alfa" in body["detail"]
    assert not CaseParticipant.objects.exists()


@pytest.mark.parametrize("user", [0, -1, "abc", 2**70, None])
def test_a_bad_participant_is_a_400(api, plain_case, consultant, user):
    response = _post(
        api(consultant), f"/api/v1/cases/{plain_case.pk}/participants/", {"user": user}
    )

    assert response.status_code == 400


def test_an_unknown_person_to_remove_is_a_404(api, plain_case, consultant):
    url = f"/api/v1/cases/{plain_case.pk}/participants/99999999999999999999999/"

    assert api(consultant).delete(url).status_code == 404


def test_a_colleague_who_does_not_see_the_case_cannot_share_it(
    api, plain_case, cooperative, member
):
    colleague = factories.MembershipFactory(cooperative=cooperative, role="member").user

    response = _post(
        api(colleague), f"/api/v1/cases/{plain_case.pk}/participants/", {"user": colleague.pk}
    )

    assert response.status_code == 404


def test_an_ordinary_member_lists_only_their_cases_and_those_they_follow(
    api, open_case, api_plain_member, member, consultant
):
    mine = open_case(api_plain_member)
    followed = open_case(member)
    process.case_add_participant(case=followed, actor=member, person=api_plain_member)
    open_case(member)  # the legal representative's own: not shown to the member

    rows = api(api_plain_member).get("/api/v1/cases/").json()["results"]

    assert {row["id"] for row in rows} == {mine.pk, followed.pk}


def test_the_report_is_for_legal_representatives_and_referents(
    api, plain_case, api_plain_member, api_referent, member, cooperative
):
    url = f"/api/v1/reports/cooperatives/{cooperative.pk}/"

    assert api(api_plain_member).get(url).status_code == 404
    assert api(api_referent).get(url).status_code == 200
    assert api(member).get(url).status_code == 200
    Membership.objects.filter(user=member).update(is_active=False)
    assert api(member).get(url).status_code == 404


def test_me_says_my_role_in_each_cooperative(api, api_referent, cooperative):
    body = api(api_referent).get("/api/v1/me/").json()

    assert body["cooperatives"] == [
        {"id": cooperative.pk, "name": cooperative.name, "role": "referent"}
    ]


def test_a_members_list_with_participants_has_constant_queries(
    api, open_case, api_plain_member, member, cooperative, consultant
):
    followers = [
        factories.MembershipFactory(cooperative=cooperative, role="member").user for _ in range(3)
    ]
    for n in range(8):
        case = open_case(member if n % 2 else api_plain_member)
        process.case_add_participant(case=case, actor=member, person=followers[n % 3])
        if n % 2:
            process.case_add_participant(case=case, actor=member, person=api_plain_member)

    assert_constant(api(api_plain_member), "/api/v1/cases/")
    assert_constant(api(member), "/api/v1/cases/")
