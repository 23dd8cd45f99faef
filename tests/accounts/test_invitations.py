"""Invitations to a cooperative (issue 17), end to end through the portal, the workspace and the
e-mails: a single-use link that expires after seven days and sets the password; resend and
revoke; an address with an account gets the membership instead; who may invite whom."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from casework.errors import ConflictError, ForbiddenError
from casework.models import Invitation, Membership, Notification
from casework.services.invitations import (
    InvitationUnusable,
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    token_hash,
)
from tests import factories

from .people_helpers import (
    NEW_PASSWORD,
    body_of,
    browser,
    deliver,
    link_in,
    subject_of,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
NEWCOMER = "nuova.socia@example.org"


def _accept_form(**fields):
    return {
        "first_name": "Nadia",
        "last_name": "Rossi",
        "username": "nadia",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **fields,
    }


def _invite_in_portal(rep, cooperative, email=NEWCOMER, role="member", language="en"):
    return browser(rep).post(
        f"/cooperatives/{cooperative.pk}/people/invite/",
        {"email": email, "role": role, "language": language},
    )


# --- The whole journey -------------------------------------------------------------------------


def test_a_legal_rep_invites_a_colleague_who_sets_a_password_and_sees_only_their_own_cases(
    legal_rep, cooperative, open_case
):
    # Given a case of the legal representative in the cooperative
    theirs = open_case(requester=legal_rep, subject="Verbale del consiglio")
    deliver()  # the e-mails of the intake
    people = browser(legal_rep).get("/people/", follow=True)
    assert people.redirect_chain[-1][0] == f"/cooperatives/{cooperative.pk}/people/"
    assert 'id="invite-form"' in people.content.decode()

    # When they invite a colleague's address from the portal
    sent = _invite_in_portal(legal_rep, cooperative)

    assert sent.status_code == 302
    page = browser(legal_rep).get(f"/cooperatives/{cooperative.pk}/people/").content.decode()
    assert NEWCOMER in page and 'data-state="pending"' in page
    [message] = deliver()
    assert message["To"] == NEWCOMER
    assert subject_of(message) == "[Sportello] Invitation to Cooperativa Alfa"
    assert "as Member" in body_of(message) and "choose your username and password" in body_of(
        message
    )
    link = link_in(message)
    assert link.startswith("/invitations/")
    # Only the secret's hash is stored, and the sent e-mail forgets the link.
    token = link.split("/")[2]
    invitation = Invitation.objects.get()
    assert invitation.token_hash == token_hash(token) and token not in invitation.token_hash
    assert Notification.objects.get(kind="invitation").body == ""

    # Then the link's page asks for a username and a password, and accepting signs them in
    newcomer = browser()
    form = newcomer.get(link)
    assert form.status_code == 200 and 'name="password1"' in form.content.decode()
    accepted = newcomer.post(link, _accept_form())
    assert accepted.status_code == 302 and accepted["Location"] == "/"
    account = User.objects.get(username="nadia")
    assert account.email == NEWCOMER and account.check_password(NEW_PASSWORD)
    assert account.get_full_name() == "Nadia Rossi"
    assert Membership.objects.get(user=account, cooperative=cooperative).role == "member"
    assert account.profile.language == "en"
    assert int(newcomer.session["_auth_user_id"]) == account.pk
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == ("accepted", account)
    # The inviter hears of it.
    [news] = deliver()
    # in the inviter's language (Italian by default), the role in it too.
    assert news["To"] == legal_rep.email
    assert "ha accettato il tuo invito" in body_of(news)
    assert "con il ruolo di Socio" in body_of(news)

    # And the new member sees only their own cases: not the legal representative's.
    own = open_case(requester=account, subject="Ferie del personale")
    listed = newcomer.get("/cases/").content.decode()
    assert own.reference in listed and theirs.reference not in listed
    assert newcomer.get(f"/cases/{theirs.pk}/").status_code == 404
    # They sign in again with the password they chose.
    again = browser().post("/login/", {"username": "nadia", "password": NEW_PASSWORD})
    assert again.status_code == 302
    # The link works once.
    used = browser().get(link)
    assert used.status_code == 410
    assert "already been used" in used.content.decode()
    assert User.objects.filter(email=NEWCOMER).count() == 1


def test_the_invitation_e_mail_is_in_the_invitations_language(legal_rep, cooperative):
    _invite_in_portal(legal_rep, cooperative, language="it")

    [message] = deliver()
    # Italian: the msgid is not what is sent once the catalogue has it; the link is the same.
    assert link_in(message).startswith("/invitations/")
    assert Invitation.objects.get().language == "it"


# --- Links that cannot be used -----------------------------------------------------------------


def test_an_expired_link_says_so_and_makes_no_account(legal_rep, cooperative):
    sent = invitation_create(by=legal_rep, cooperative=cooperative, email=NEWCOMER, role="member")

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        page = browser().get(f"/invitations/{sent.token}/")
        post = browser().post(f"/invitations/{sent.token}/", _accept_form())

    assert page.status_code == post.status_code == 410
    assert "This invitation has expired" in page.content.decode()
    assert not User.objects.filter(email=NEWCOMER).exists()


def test_a_link_works_for_seven_days(legal_rep, cooperative):
    sent = invitation_create(by=legal_rep, cooperative=cooperative, email=NEWCOMER, role="member")

    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        accepted = browser().post(f"/invitations/{sent.token}/", _accept_form())

    assert accepted.status_code == 302
    assert User.objects.filter(email=NEWCOMER).exists()


@pytest.mark.parametrize("token", ["forged-0123456789abcdefghijklmnopqrstuvwxyzABCD", "x" * 300])
def test_a_forged_link_says_it_does_not_work(token, legal_rep, cooperative):
    invitation_create(by=legal_rep, cooperative=cooperative, email=NEWCOMER, role="member")

    page = browser().get(f"/invitations/{token}/")
    post = browser().post(f"/invitations/{token}/", _accept_form())

    assert page.status_code == post.status_code == 404
    assert "This invitation link does not work" in page.content.decode()
    assert not User.objects.filter(email=NEWCOMER).exists()


def test_a_revoked_invitation_says_so(legal_rep, cooperative):
    sent = invitation_create(by=legal_rep, cooperative=cooperative, email=NEWCOMER, role="member")
    revoked = browser(legal_rep).post(
        f"/cooperatives/{cooperative.pk}/people/invitations/{sent.invitation.pk}/revoke/"
    )
    assert revoked.status_code == 302

    page = browser().post(f"/invitations/{sent.token}/", _accept_form())

    assert page.status_code == 410
    assert "This invitation was withdrawn" in page.content.decode()
    assert not User.objects.filter(email=NEWCOMER).exists()
    with pytest.raises(ConflictError):
        invitation_revoke(by=legal_rep, invitation=sent.invitation)


def test_resending_replaces_the_link(legal_rep, cooperative):
    first = invitation_create(by=legal_rep, cooperative=cooperative, email=NEWCOMER, role="member")
    deliver()

    resent = browser(legal_rep).post(
        f"/cooperatives/{cooperative.pk}/people/invitations/{first.invitation.pk}/resend/"
    )

    assert resent.status_code == 302
    [message] = deliver()
    new_link = link_in(message)
    assert new_link != f"/invitations/{first.token}/"
    assert browser().get(f"/invitations/{first.token}/").status_code == 404  # the old link
    invitation = Invitation.objects.get()
    assert invitation.sent_count == 2
    assert browser().post(new_link, _accept_form()).status_code == 302


def test_inviting_a_pending_address_again_is_a_resend(legal_rep, cooperative):
    first = invitation_create(by=legal_rep, cooperative=cooperative, email=NEWCOMER, role="member")

    again = invitation_create(
        by=legal_rep, cooperative=cooperative, email=NEWCOMER.upper(), role="referent"
    )

    assert again.resent and again.invitation.pk == first.invitation.pk
    assert Invitation.objects.get().role == "referent"
    assert len(deliver()) == 2
    with pytest.raises(InvitationUnusable):  # the first link was replaced
        invitation_accept(token=first.token, username="x", password=NEW_PASSWORD)


def test_a_weak_password_is_refused_and_the_link_still_works(legal_rep, cooperative):
    sent = invitation_create(by=legal_rep, cooperative=cooperative, email=NEWCOMER, role="member")
    link = f"/invitations/{sent.token}/"

    weak = browser().post(link, _accept_form(password1="12345678", password2="12345678"))
    differ = browser().post(link, _accept_form(password2="Altro-Valore-99"))
    taken = browser().post(link, _accept_form(username=legal_rep.username.upper()))

    assert weak.status_code == differ.status_code == taken.status_code == 400
    assert weak.context["form"].errors.keys() == {"password1"}
    assert differ.context["form"].errors.keys() == {"password2"}
    assert taken.context["form"].errors.keys() == {"username"}
    assert not User.objects.filter(email=NEWCOMER).exists()
    assert Invitation.objects.get().status == "pending"
    assert browser().post(link, _accept_form()).status_code == 302


# --- An address that has an account ------------------------------------------------------------


def test_an_existing_account_gets_the_membership_when_its_owner_signs_in(
    legal_rep, cooperative, other_cooperative, other_member
):
    sent = invitation_create(
        by=factories.SupervisorFactory(user__username="sup").user,
        cooperative=cooperative,
        email=other_member.email,
        role="referent",
        language="en",
    )
    [message] = deliver()
    assert message["To"] == other_member.email
    assert "You already have an account with this address" in body_of(message)
    link = link_in(message)

    # Not signed in: asked to log in, no form to make a second account.
    page = browser().get(link)
    assert page.status_code == 200 and 'id="invitation-login"' in page.content.decode()
    assert browser().post(link, _accept_form()).status_code == 200  # still the page
    assert User.objects.filter(email=other_member.email).count() == 1
    # Signed in as somebody else: refused.
    assert browser(legal_rep).post(link).status_code == 403

    accepted = browser(other_member).post(link)

    assert accepted.status_code == 302
    assert Membership.objects.get(user=other_member, cooperative=cooperative).role == "referent"
    assert Membership.objects.filter(user=other_member, cooperative=other_cooperative).exists()
    assert Invitation.objects.get(pk=sent.invitation.pk).status == "accepted"


def test_a_person_who_left_is_reactivated_with_the_new_role(legal_rep, cooperative, member):
    membership = Membership.objects.get(user=member, cooperative=cooperative)
    membership.is_active, membership.left_at = False, timezone.now()
    membership.save()

    sent = invitation_create(
        by=legal_rep, cooperative=cooperative, email=member.email, role="referent"
    )
    invitation_accept(token=sent.token, user=member)

    membership.refresh_from_db()
    assert (membership.is_active, membership.left_at, membership.role) == (True, None, "referent")
    assert Membership.objects.filter(user=member).count() == 1


def test_an_active_member_is_not_invited_again(legal_rep, cooperative, member):
    refused = _invite_in_portal(legal_rep, cooperative, email=member.email.upper())

    assert refused.status_code == 400
    assert "already a member" in refused.content.decode()
    assert not Invitation.objects.exists()


# --- Who may invite whom -----------------------------------------------------------------------


def test_a_referent_invites_members_but_not_a_legal_representative(referent, cooperative):
    page = browser(referent).get(f"/cooperatives/{cooperative.pk}/people/").content.decode()
    assert 'value="legal_rep"' not in page and 'value="referent"' in page

    refused = _invite_in_portal(referent, cooperative, role="legal_rep")

    assert refused.status_code == 400  # not a choice the form offers
    with pytest.raises(ForbiddenError):
        invitation_create(by=referent, cooperative=cooperative, email=NEWCOMER, role="legal_rep")
    assert not Invitation.objects.exists()
    assert _invite_in_portal(referent, cooperative, role="referent").status_code == 302


def test_a_referent_cannot_invite_to_another_cooperative(referent, other_cooperative):
    page = browser(referent).get(f"/cooperatives/{other_cooperative.pk}/people/")
    invite = _invite_in_portal(referent, other_cooperative)

    assert page.status_code == invite.status_code == 404
    with pytest.raises(ForbiddenError):
        invitation_create(by=referent, cooperative=other_cooperative, email=NEWCOMER, role="member")
    assert not Invitation.objects.exists()


def test_a_plain_member_invites_nobody(plain_member, cooperative):
    member = plain_member
    assert browser(member).get(f"/cooperatives/{cooperative.pk}/people/").status_code == 403
    assert browser(member).get("/people/").status_code == 403
    assert _invite_in_portal(member, cooperative).status_code == 403
    assert "/people/" not in browser(member).get("/cases/").content.decode()
    with pytest.raises(ForbiddenError):
        invitation_create(by=member, cooperative=cooperative, email=NEWCOMER, role="member")
    assert not Invitation.objects.exists()


def test_a_referent_may_not_resend_or_revoke_a_legal_reps_invitation(
    referent, cooperative, supervisor
):
    sent = invitation_create(
        by=supervisor, cooperative=cooperative, email=NEWCOMER, role="legal_rep"
    )

    with pytest.raises(ForbiddenError):
        invitation_resend(by=referent, invitation=sent.invitation)
    with pytest.raises(ForbiddenError):
        invitation_revoke(by=referent, invitation=sent.invitation)
    with pytest.raises(ForbiddenError):  # nor turn it into a member's by inviting again
        invitation_create(by=referent, cooperative=cooperative, email=NEWCOMER, role="member")
    assert Invitation.objects.get().role == "legal_rep"


@pytest.mark.parametrize("bad", ["not-an-address", "", "a@b"])
def test_a_bad_address_is_refused_in_words(bad, legal_rep, cooperative):
    refused = _invite_in_portal(legal_rep, cooperative, email=bad)

    assert refused.status_code == 400
    assert refused.context["form"].errors.keys() == {"email"}
    assert not Invitation.objects.exists()


def test_staff_invite_to_any_cooperative_from_its_page_in_the_workspace(
    consultant, other_cooperative
):
    staff = browser(consultant)
    coop_page = staff.get(f"/work/cooperatives/{other_cooperative.pk}/").content.decode()
    assert f'href="/work/cooperatives/{other_cooperative.pk}/people/"' in coop_page
    page = staff.get(f"/work/cooperatives/{other_cooperative.pk}/people/")
    assert page.status_code == 200 and 'value="legal_rep"' in page.content.decode()

    sent = staff.post(
        f"/work/cooperatives/{other_cooperative.pk}/people/invite/",
        {"email": NEWCOMER, "role": "legal_rep", "language": "it"},
    )

    assert sent.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.cooperative, invitation.role, invitation.invited_by) == (
        other_cooperative,
        "legal_rep",
        consultant,
    )
    assert [message["To"] for message in deliver()] == [NEWCOMER]
    # Revoke from the same page.
    revoked = staff.post(
        f"/work/cooperatives/{other_cooperative.pk}/people/invitations/{invitation.pk}/revoke/"
    )
    assert revoked.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "revoked"


def test_members_are_kept_out_of_the_workspace_people_page(legal_rep, cooperative):
    assert browser(legal_rep).get(f"/work/cooperatives/{cooperative.pk}/people/").status_code == 403


def test_a_resend_or_revoke_of_another_cooperatives_invitation_is_not_found(
    legal_rep, cooperative, other_cooperative, supervisor
):
    elsewhere = invitation_create(
        by=supervisor, cooperative=other_cooperative, email=NEWCOMER, role="member"
    )
    base = f"/cooperatives/{cooperative.pk}/people/invitations/{elsewhere.invitation.pk}"

    assert browser(legal_rep).post(f"{base}/resend/").status_code == 404
    assert browser(legal_rep).post(f"{base}/revoke/").status_code == 404
    assert Invitation.objects.get().status == "pending"
