"""The admin's part of people and accounts (issue 17): the invitation add form sends through the
service, resend and revoke actions, and the memberships' "deactivate" action."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from casework.models import Invitation, Membership
from casework.services.invitations import invitation_create

from .people_helpers import browser, deliver, link_in

pytestmark = pytest.mark.django_db

NEWCOMER = "admin.nuova@example.org"


@pytest.fixture
def admin_web(admin_user) -> Client:
    return browser(admin_user)


def test_the_add_form_sends_the_invitation(admin_web, cooperative):
    added = admin_web.post(
        reverse("admin:casework_invitation_add"),
        {"cooperative": cooperative.pk, "email": NEWCOMER, "role": "legal_rep", "language": "en"},
    )

    assert added.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.language) == (NEWCOMER, "legal_rep", "en")
    [message] = deliver()
    assert message["To"] == NEWCOMER and link_in(message).startswith("/invitations/")
    change = admin_web.get(reverse("admin:casework_invitation_change", args=[invitation.pk]))
    assert change.status_code == 200 and "token_hash" not in change.content.decode()


def test_the_add_form_refuses_an_active_member_in_words(admin_web, cooperative, member):
    refused = admin_web.post(
        reverse("admin:casework_invitation_add"),
        {"cooperative": cooperative.pk, "email": member.email, "role": "member", "language": "it"},
    )

    assert refused.status_code == 200
    assert "already a member" in refused.content.decode()
    assert not Invitation.objects.exists()


def test_a_second_invitation_in_the_admin_is_a_resend(admin_web, admin_user, cooperative):
    invitation_create(by=admin_user, cooperative=cooperative, email=NEWCOMER, role="member")

    added = admin_web.post(
        reverse("admin:casework_invitation_add"),
        {"cooperative": cooperative.pk, "email": NEWCOMER, "role": "referent", "language": "it"},
    )

    assert added.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.sent_count, invitation.role) == (2, "referent")


def test_resend_and_revoke_actions(admin_web, admin_user, cooperative, other_cooperative):
    first = invitation_create(by=admin_user, cooperative=cooperative, email=NEWCOMER, role="member")
    second = invitation_create(
        by=admin_user, cooperative=other_cooperative, email=NEWCOMER, role="member"
    )
    deliver()
    changelist = reverse("admin:casework_invitation_changelist")

    resent = admin_web.post(
        changelist,
        {"action": "resend", "_selected_action": [first.invitation.pk, second.invitation.pk]},
        follow=True,
    )

    assert "2 invitations sent again." in resent.content.decode()
    assert len(deliver()) == 2
    assert browser().get(f"/invitations/{first.token}/").status_code == 404
    admin_web.post(changelist, {"action": "revoke", "_selected_action": [first.invitation.pk]})
    assert Invitation.objects.get(pk=first.invitation.pk).status == "revoked"
    # Revoking it again is refused in a message, the other row is still revoked once.
    again = admin_web.post(
        changelist,
        {"action": "revoke", "_selected_action": [first.invitation.pk, second.invitation.pk]},
        follow=True,
    )
    html = again.content.decode()
    assert "Only a pending invitation can be revoked" in html and "1 invitation revoked." in html


def test_the_membership_action_deactivates(admin_web, cooperative, member):
    membership = Membership.objects.get(user=member)

    done = admin_web.post(
        reverse("admin:casework_membership_changelist"),
        {"action": "deactivate_memberships", "_selected_action": [membership.pk]},
        follow=True,
    )

    assert "1 membership deactivated." in done.content.decode()
    membership.refresh_from_db()
    assert not membership.is_active and membership.left_at is not None
