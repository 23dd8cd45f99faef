"""The portal and roles inside a cooperative (issue 17): an ordinary member sees their own cases
and those they follow, opens a confidential case, shares a case with a colleague; the report
is for legal representatives and referents."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casework.models import Case, CaseParticipant
from tests import factories
from workflows import process

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_member(cooperative):
    """An ordinary member of Cooperativa Alfa."""
    return factories.MembershipFactory(
        cooperative=cooperative,
        role="member",
        user__username="socio.dipendente",
        user__first_name="Dario",
        user__last_name="Dipendente",
    ).user


@pytest.fixture
def portal_colleague(cooperative):
    return factories.MembershipFactory(
        cooperative=cooperative,
        role="member",
        user__username="socio.collega",
        user__first_name="Carla",
        user__last_name="Collega",
    ).user


def test_an_ordinary_member_sees_only_their_own_cases(
    client, open_case, member, portal_member, consultant
):
    mine = open_case(portal_member, subject="Il mio contratto")
    theirs = open_case(member, subject="Procedimento disciplinare")
    process.case_request_info(case=theirs, actor=consultant, question="Il verbale?")
    client.force_login(portal_member)

    page = client.get(reverse("portal-cases")).content.decode()

    assert mine.reference in page and theirs.reference not in page
    assert client.get(reverse("portal-case", args=[theirs.pk])).status_code == 404
    # "Waiting on us" counts only what they see: the legal representative's waiting case is not.
    assert client.get(reverse("portal-cases")).context["waiting_on_us"] == 0
    # No report of the cooperative for them, neither in the menu nor at its address.
    assert reverse("report-cooperatives") not in page
    assert client.get(reverse("report-cooperatives")).status_code == 404


def test_a_member_opens_a_confidential_case_that_a_referent_does_not_see(
    client, process_setup, portal_member, cooperative
):
    referent = factories.MembershipFactory(cooperative=cooperative, role="referent").user
    client.force_login(portal_member)

    response = client.post(
        reverse("portal-case-new"),
        {
            "cooperative": cooperative.pk,
            "area": process_setup.pk,
            "subject": "Segnalazione riservata",
            "description": "Riguarda un collega.",
            "priority": "normal",
            "confidential": "on",
        },
    )

    assert response.status_code == 302, response.content
    case = Case.objects.get(subject="Segnalazione riservata")
    assert case.confidential
    page = client.get(reverse("portal-case", args=[case.pk])).content.decode()
    assert "Confidential" in page
    client.force_login(referent)
    assert client.get(reverse("portal-case", args=[case.pk])).status_code == 404
    assert case.reference not in client.get(reverse("portal-cases")).content.decode()


def test_the_new_case_form_offers_confidentiality(client, process_setup, portal_member):
    client.force_login(portal_member)

    page = client.get(reverse("portal-case-new")).content.decode()

    assert 'name="confidential"' in page


def test_the_requester_shares_the_case_with_a_colleague_and_takes_it_back(
    client, open_case, portal_member, portal_colleague, other_member, consultant
):
    case = open_case(portal_member)
    client.force_login(portal_member)
    page = client.get(reverse("portal-case", args=[case.pk])).content.decode()
    # The select offers the people of the cooperative, not those of another one.
    assert "Carla Collega" in page and other_member.get_full_name() not in page

    added = client.post(
        reverse("portal-case-participant-add", args=[case.pk]), {"user": portal_colleague.pk}
    )

    assert added.status_code == 302
    assert CaseParticipant.objects.filter(case=case, user=portal_colleague).exists()
    client.force_login(portal_colleague)
    assert client.get(reverse("portal-case", args=[case.pk])).status_code == 200
    # The colleague follows it but may not change who does.
    shown = client.get(reverse("portal-case", args=[case.pk])).content.decode()
    assert reverse("portal-case-participant-add", args=[case.pk]) not in shown

    client.force_login(portal_member)
    removed = client.post(
        reverse("portal-case-participant-remove", args=[case.pk, portal_colleague.pk])
    )
    assert removed.status_code == 302
    client.force_login(portal_colleague)
    assert client.get(reverse("portal-case", args=[case.pk])).status_code == 404


def test_a_forged_person_of_another_cooperative_is_refused_on_the_page(
    client, open_case, portal_member, other_member, consultant
):
    case = open_case(portal_member)
    client.force_login(portal_member)

    response = client.post(
        reverse("portal-case-participant-add", args=[case.pk]), {"user": other_member.pk}
    )

    assert response.status_code == 400
    assert f"#{other_member.pk} is not an active member of Cooperativa Alfa" in (
        response.content.decode()
    )
    assert not CaseParticipant.objects.exists()


def test_the_legal_representative_marks_a_case_confidential_in_the_portal(
    client, open_case, member, portal_member, consultant, cooperative
):
    referent = factories.MembershipFactory(cooperative=cooperative, role="referent").user
    case = open_case(portal_member)
    client.force_login(member)

    response = client.post(
        reverse("portal-case-confidential", args=[case.pk]), {"confidential": "1"}
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.confidential
    client.force_login(referent)
    assert client.get(reverse("portal-case", args=[case.pk])).status_code == 404


def test_the_requester_may_not_change_confidentiality(client, open_case, portal_member, consultant):
    case = open_case(portal_member)
    client.force_login(portal_member)

    assert reverse("portal-case-confidential", args=[case.pk]) not in (
        client.get(reverse("portal-case", args=[case.pk])).content.decode()
    )
    response = client.post(
        reverse("portal-case-confidential", args=[case.pk]), {"confidential": "1"}, follow=True
    )

    assert "legal representative" in response.content.decode()
    case.refresh_from_db()
    assert not case.confidential
