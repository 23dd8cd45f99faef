"""Leaving a cooperative (issue 17): the membership is deactivated, never deleted; the person's
cases keep their requester and history; an inactive membership grants nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from casework.errors import ConflictError, ForbiddenError
from casework.models import Case, Membership
from casework.services.invitations import membership_deactivate
from tests import factories

from .people_helpers import body_of, browser, deliver

pytestmark = pytest.mark.django_db


def _membership(user, cooperative) -> Membership:
    return Membership.objects.get(user=user, cooperative=cooperative)


def _remove_url(cooperative, membership, *, place="portal") -> str:
    prefix = "/work" if place == "work" else ""
    return f"{prefix}/cooperatives/{cooperative.pk}/people/members/{membership.pk}/remove/"


def test_a_legal_rep_removes_a_member_whose_cases_keep_their_history(
    legal_rep, plain_member, cooperative, open_case
):
    case = open_case(requester=plain_member, subject="Richiesta del socio")
    deliver()
    membership = _membership(plain_member, cooperative)
    page = browser(legal_rep).get(f"/cooperatives/{cooperative.pk}/people/").content.decode()
    assert (
        f'data-membership="{membership.pk}"' in page
        and _remove_url(cooperative, membership) in page
    )

    removed = browser(legal_rep).post(_remove_url(cooperative, membership))

    assert removed.status_code == 302
    membership.refresh_from_db()
    assert membership.is_active is False and membership.left_at is not None
    case = Case.objects.get(pk=case.pk)
    assert case.requester_id == plain_member.pk  # the case keeps its requester
    assert case.events.exists()
    # They no longer see the cooperative's cases, not even their own, on any page or the API.
    gone = browser(plain_member)
    assert gone.get(f"/cases/{case.pk}/").status_code in (403, 404)
    api = APIClient()
    # A fresh copy, as each request reads (the process cached the roles on the one above).
    api.force_authenticate(get_user_model().objects.get(pk=plain_member.pk))
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert api.get("/api/v1/me/").json()["cooperatives"] == []
    # The legal representative still sees it, and the page lists the person among those who left.
    assert browser(legal_rep).get(f"/cases/{case.pk}/").status_code == 200
    page = browser(legal_rep).get(f"/cooperatives/{cooperative.pk}/people/").content.decode()
    assert 'id="people-former"' in page and plain_member.username in page
    # They are told.
    [notice] = deliver()
    assert notice["To"] == plain_member.email and "Cooperativa Alfa" in body_of(notice)


def test_removing_twice_is_refused_in_words(legal_rep, plain_member, cooperative):
    membership = _membership(plain_member, cooperative)
    membership_deactivate(by=legal_rep, membership=membership)

    with pytest.raises(ConflictError) as refused:
        membership_deactivate(by=legal_rep, membership=membership)

    assert refused.value.code == "already_left"
    assert Membership.objects.filter(pk=membership.pk).exists()  # never deleted


def test_the_last_legal_rep_cannot_remove_themselves(legal_rep, cooperative):
    membership = _membership(legal_rep, cooperative)

    left = browser(legal_rep).post(_remove_url(cooperative, membership), follow=True)

    assert "only legal representative" in left.content.decode()
    membership.refresh_from_db()
    assert membership.is_active


def test_a_legal_rep_leaves_when_another_one_remains(legal_rep, cooperative):
    other = factories.MembershipFactory(
        cooperative=cooperative, user__username="rep.due", role="legal_rep"
    )
    membership = _membership(legal_rep, cooperative)

    left = browser(legal_rep).post(_remove_url(cooperative, membership))

    assert left.status_code == 302 and left["Location"] == "/"
    membership.refresh_from_db()
    assert not membership.is_active
    assert Membership.objects.get(pk=other.pk).is_active


def test_a_referent_cannot_remove_a_legal_rep(referent, legal_rep, cooperative):
    membership = _membership(legal_rep, cooperative)
    page = browser(referent).get(f"/cooperatives/{cooperative.pk}/people/").content.decode()
    assert _remove_url(cooperative, membership) not in page

    browser(referent).post(_remove_url(cooperative, membership))

    with pytest.raises(ForbiddenError):
        membership_deactivate(by=referent, membership=membership)
    assert _membership(legal_rep, cooperative).is_active


def test_a_plain_member_removes_nobody(plain_member, referent, cooperative):
    membership = _membership(referent, cooperative)

    refused = browser(plain_member).post(_remove_url(cooperative, membership))

    assert refused.status_code == 403
    assert _membership(referent, cooperative).is_active


def test_staff_remove_the_last_legal_rep_from_the_workspace(supervisor, legal_rep, cooperative):
    membership = _membership(legal_rep, cooperative)

    removed = browser(supervisor).post(_remove_url(cooperative, membership, place="work"))

    assert removed.status_code == 302
    assert removed["Location"] == f"/work/cooperatives/{cooperative.pk}/people/"
    assert not _membership(legal_rep, cooperative).is_active


def test_someone_elses_membership_is_not_found_through_this_cooperative(
    legal_rep, cooperative, other_member, other_cooperative
):
    elsewhere = _membership(other_member, other_cooperative)

    assert browser(legal_rep).post(_remove_url(cooperative, elsewhere)).status_code == 404
    assert _membership(other_member, other_cooperative).is_active


def test_the_workspace_page_of_the_cooperative_lists_only_active_people(
    consultant, legal_rep, plain_member, cooperative
):
    membership_deactivate(by=legal_rep, membership=_membership(plain_member, cooperative))

    html = browser(consultant).get(f"/work/cooperatives/{cooperative.pk}/").content.decode()

    people = html.split('id="cooperative-people"', 1)[1].split("</ul>", 1)[0]
    assert legal_rep.username in people or legal_rep.get_full_name() in people
    assert plain_member.get_full_name() not in people
