"""A cooperative's people over the API (issue 17): `POST|GET /api/v1/cooperatives/{id}/
invitations/`, `.../{inv_id}/resend/`, `/revoke/`, and `.../members/` with `/deactivate/`; 404
for a cooperative the caller may not see, 403 for one they see but may not invite to, 400 in
words."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from casework.models import Invitation, Membership
from casework.services.invitations import invitation_create

from .people_helpers import browser, deliver, link_in

pytestmark = pytest.mark.django_db

NEWCOMER = "api.nuova@example.org"


def _api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    # A fresh copy per client, as each real request reads its user.
    client.force_authenticate(get_user_model().objects.get(pk=user.pk))
    return client


def _invitations(cooperative) -> str:
    return f"/api/v1/cooperatives/{cooperative.pk}/invitations/"


def test_a_legal_rep_invites_through_the_api_and_never_sees_the_secret(legal_rep, cooperative):
    created = _api(legal_rep).post(
        _invitations(cooperative), {"email": NEWCOMER, "role": "member"}, format="json"
    )

    assert created.status_code == 201
    body = created.json()
    assert {body["email"], body["role"], body["status"]} == {NEWCOMER, "member", "pending"}
    assert body["cooperative"] == cooperative.pk and body["expires_at"]
    assert not {"token", "token_hash"} & body.keys()
    [message] = deliver()
    link = link_in(message)
    assert link.split("/")[2] not in created.content.decode()
    # The link works like the portal's.
    accepted = browser().post(
        link,
        {
            "username": "api.nuova",
            "password1": "Girasole-Blu-2031",
            "password2": "Girasole-Blu-2031",
        },
    )
    assert accepted.status_code == 302
    listed = _api(legal_rep).get(_invitations(cooperative)).json()
    assert [(row["email"], row["status"]) for row in listed["results"]] == [(NEWCOMER, "accepted")]


def test_inviting_a_pending_address_again_resends_it(legal_rep, cooperative):
    api = _api(legal_rep)
    first = api.post(_invitations(cooperative), {"email": NEWCOMER, "role": "member"})

    again = api.post(_invitations(cooperative), {"email": NEWCOMER, "role": "referent"})

    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["sent_count"] == 2
    assert Invitation.objects.count() == 1


def test_resend_and_revoke(legal_rep, cooperative):
    api = _api(legal_rep)
    invitation_id = api.post(
        _invitations(cooperative), {"email": NEWCOMER, "role": "member"}
    ).json()["id"]
    old_link = link_in(deliver()[0])

    resent = api.post(f"{_invitations(cooperative)}{invitation_id}/resend/")

    assert resent.status_code == 200 and resent.json()["sent_count"] == 2
    assert browser().get(old_link).status_code == 404
    new_link = link_in(deliver()[0])
    revoked = api.post(f"{_invitations(cooperative)}{invitation_id}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert browser().get(new_link).status_code == 410
    # A revoked one is neither revoked nor resent again: a state conflict.
    for verb in ("revoke", "resend"):
        conflict = api.post(f"{_invitations(cooperative)}{invitation_id}/{verb}/")
        assert conflict.status_code == 409 and conflict.json()["code"] == "invitation_revoked"


def test_another_cooperative_is_not_found(legal_rep, other_cooperative, supervisor):
    elsewhere = invitation_create(
        by=supervisor, cooperative=other_cooperative, email=NEWCOMER, role="member"
    )
    api = _api(legal_rep)

    assert api.get(_invitations(other_cooperative)).status_code == 404
    created = api.post(
        _invitations(other_cooperative), {"email": "x@example.org", "role": "member"}
    )
    assert created.status_code == 404 and created.json()["code"] == "not_found"
    revoke = api.post(f"{_invitations(other_cooperative)}{elsewhere.invitation.pk}/revoke/")
    assert revoke.status_code == 404
    assert api.get("/api/v1/cooperatives/abc/invitations/").status_code == 404
    assert api.get("/api/v1/cooperatives/999999/invitations/").status_code == 404
    assert Invitation.objects.get().status == "pending"


def test_a_plain_member_is_forbidden(plain_member, cooperative):
    api = _api(plain_member)

    listed = api.get(_invitations(cooperative))
    created = api.post(_invitations(cooperative), {"email": NEWCOMER, "role": "member"})

    assert listed.status_code == created.status_code == 403
    assert "detail" in created.json()
    assert not Invitation.objects.exists()


def test_a_referent_may_not_invite_a_legal_rep(referent, cooperative):
    refused = _api(referent).post(
        _invitations(cooperative), {"email": NEWCOMER, "role": "legal_rep"}
    )

    assert refused.status_code == 403
    assert "legal representative" in refused.json()["detail"]
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-address", "role": "member"}, "email"),
        ({"email": NEWCOMER, "role": "boss"}, "role"),
        ({"email": NEWCOMER, "role": "member", "language": "fr"}, "language"),
        ({"role": "member"}, "email"),
    ],
)
def test_bad_input_is_a_400_in_words(data, field, legal_rep, cooperative):
    refused = _api(legal_rep).post(_invitations(cooperative), data, format="json")

    assert refused.status_code == 400
    assert field in refused.json()
    assert not Invitation.objects.exists()


def test_an_active_member_is_a_conflict(legal_rep, plain_member, cooperative):
    refused = _api(legal_rep).post(
        _invitations(cooperative), {"email": plain_member.email, "role": "member"}
    )

    assert refused.status_code == 409 and refused.json()["code"] == "already_member"


def test_staff_invite_to_any_cooperative(consultant, other_cooperative):
    created = _api(consultant).post(
        _invitations(other_cooperative), {"email": NEWCOMER, "role": "legal_rep", "language": "en"}
    )

    assert created.status_code == 201 and created.json()["language"] == "en"


def test_anonymous_callers_are_refused():
    assert APIClient().get("/api/v1/cooperatives/1/invitations/").status_code == 401


def test_the_list_can_be_filtered_by_status(legal_rep, cooperative):
    invitation_create(by=legal_rep, cooperative=cooperative, email=NEWCOMER, role="member")
    api = _api(legal_rep)

    assert api.get(_invitations(cooperative), {"status": "pending"}).json()["count"] == 1
    assert api.get(_invitations(cooperative), {"status": "revoked"}).json()["count"] == 0
    assert api.get(_invitations(cooperative), {"status": "nope"}).status_code == 400


# --- Members -----------------------------------------------------------------------------------


def test_members_are_listed_and_deactivated(legal_rep, plain_member, cooperative):
    api = _api(legal_rep)
    members = f"/api/v1/cooperatives/{cooperative.pk}/members/"
    listed = api.get(members).json()["results"]
    assert {row["user"]["username"] for row in listed} == {
        legal_rep.username,
        plain_member.username,
    }
    membership = Membership.objects.get(user=plain_member)

    left = api.post(f"{members}{membership.pk}/deactivate/")

    assert left.status_code == 200
    assert left.json()["is_active"] is False and left.json()["left_at"]
    assert [
        row["user"]["username"] for row in api.get(members, {"active": "false"}).json()["results"]
    ] == [plain_member.username]
    again = api.post(f"{members}{membership.pk}/deactivate/")
    assert again.status_code == 409 and again.json()["code"] == "already_left"
    assert api.get(members, {"active": "maybe"}).status_code == 400


def test_the_last_legal_rep_leaving_is_a_conflict(legal_rep, cooperative):
    membership = Membership.objects.get(user=legal_rep)

    refused = _api(legal_rep).post(
        f"/api/v1/cooperatives/{cooperative.pk}/members/{membership.pk}/deactivate/"
    )

    assert refused.status_code == 409 and refused.json()["code"] == "last_legal_rep"


def test_a_plain_member_may_not_list_or_remove_people(plain_member, referent, cooperative):
    api = _api(plain_member)
    members = f"/api/v1/cooperatives/{cooperative.pk}/members/"
    membership = Membership.objects.get(user=referent)

    assert api.get(members).status_code == 403
    assert api.post(f"{members}{membership.pk}/deactivate/").status_code == 403
    assert Membership.objects.get(pk=membership.pk).is_active
