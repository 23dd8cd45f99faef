"""Cases opened by staff for a cooperative: who may, for whom, how it came; reports by channel."""

import pytest
from django.test import Client
from django.utils import translation

from casework import reports
from casework.errors import CaseError, ForbiddenError
from casework.models import (
    Case,
    CaseEvent,
    CaseRead,
    Cooperative,
    Notification,
    UserProfile,
)
from casework.selectors import is_unread
from tests import factories
from workflows import process
from workflows.models import CaseProcess

pytestmark = pytest.mark.django_db

STAFF_CHANNELS = ["phone", "desk", "email", "pec"]


def open_for(requester, cooperative, area, *, opened_by, channel="phone", **fields):
    return process.case_open(
        requester=requester,
        cooperative=cooperative,
        area=area,
        subject=fields.pop("subject", "Recesso di un socio"),
        description=fields.pop("description", "Telefonata del presidente: un socio vuole uscire."),
        channel=channel,
        opened_by=opened_by,
        **fields,
    )


def nothing_saved():
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Notification.objects.count(),
        CaseRead.objects.count(),
        CaseProcess.objects.count(),
    ) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("channel", STAFF_CHANNELS)
def test_a_consultant_of_the_area_opens_a_case_for_a_member(
    channel, process_setup, consultant, member, cooperative
):
    case = open_for(member, cooperative, process_setup, opened_by=consultant, channel=channel)

    assert (case.channel, case.requester, case.cooperative) == (channel, member, cooperative)
    opened = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.OPENED)
    assert opened.actor == consultant
    assert opened.after["channel"] == channel
    assert opened.after["opened_by"] == "consulente"


def test_the_requester_is_told_in_their_language_and_has_the_case_unread(
    process_setup, consultant, member, cooperative
):
    UserProfile.objects.create(user=member, language="en")

    case = open_for(member, cooperative, process_setup, opened_by=consultant)

    mail = Notification.objects.get(case=case, kind="case_opened")
    assert mail.recipient == member
    assert "received" in mail.subject.lower() and case.reference in mail.subject
    # The consultant who took the call has read it; the member has something new to look at.
    assert not is_unread(case, consultant)
    assert is_unread(case, member)


@pytest.mark.parametrize("who", ["area_supervisor", "supervisor"])
def test_supervisors_of_the_area_open_cases_for_a_cooperative(
    request, who, process_setup, member, cooperative
):
    supervisor = request.getfixturevalue(who)

    case = open_for(member, cooperative, process_setup, opened_by=supervisor, channel="desk")

    assert case.channel == "desk"
    assert CaseEvent.objects.get(case=case, kind="opened").actor == supervisor


def test_a_consultant_of_another_area_may_not(
    process_setup, other_area, office, member, cooperative
):
    fiscal = factories.ConsultantFactory(
        user__username="consulente.fiscale", office=office, areas=[other_area]
    ).user

    with (
        translation.override("en"),
        pytest.raises(ForbiddenError, match="consultant or supervisor of the area"),
    ):
        open_for(member, cooperative, process_setup, opened_by=fiscal)

    assert nothing_saved()


def test_a_member_may_not_open_a_case_for_a_colleague(process_setup, member, cooperative):
    colleague = factories.MembershipFactory(cooperative=cooperative).user

    with pytest.raises(ForbiddenError):
        open_for(colleague, cooperative, process_setup, opened_by=member)

    assert nothing_saved()


def test_a_requester_who_is_not_of_the_cooperative_is_refused_by_name(
    process_setup, consultant, member, other_cooperative
):
    member.first_name, member.last_name = "Anna", "Rossi"
    member.save()

    with translation.override("en"), pytest.raises(CaseError) as refused:
        open_for(member, other_cooperative, process_setup, opened_by=consultant)

    assert str(refused.value) == "Anna Rossi is not a member of Cooperativa Beta."
    assert refused.value.code == "requester"
    assert nothing_saved()


def test_a_cooperative_that_is_no_longer_a_member_gets_no_case(
    process_setup, consultant, member, cooperative
):
    Cooperative.objects.filter(pk=cooperative.pk).update(membership_status="suspended")
    cooperative.refresh_from_db()

    with translation.override("en"), pytest.raises(CaseError, match="not an active member"):
        open_for(member, cooperative, process_setup, opened_by=consultant)

    assert nothing_saved()


@pytest.mark.parametrize("channel", ["portal", "api", "fax", ""])
def test_staff_intake_needs_a_staff_channel(
    channel, process_setup, consultant, member, cooperative
):
    with pytest.raises(CaseError) as refused:
        open_for(member, cooperative, process_setup, opened_by=consultant, channel=channel)

    assert refused.value.code == "channel"
    assert nothing_saved()


def test_a_members_own_case_comes_by_the_portal_unless_said(process_setup, member, cooperative):
    by_default = process.case_open(
        requester=member, cooperative=cooperative, area=process_setup, subject="A", description="B"
    )
    by_api = process.case_open(
        requester=member,
        cooperative=cooperative,
        area=process_setup,
        subject="A",
        description="B",
        channel="api",
    )

    assert (by_default.channel, by_api.channel) == ("portal", "api")
    opened = CaseEvent.objects.get(case=by_default, kind="opened")
    assert opened.actor == member
    assert (opened.after["channel"], opened.after["opened_by"]) == ("portal", None)
    assert not is_unread(by_default, member)


def test_an_unknown_channel_is_refused_for_a_member_too(process_setup, member, cooperative):
    with pytest.raises(CaseError) as refused:
        process.case_open(
            requester=member,
            cooperative=cooperative,
            area=process_setup,
            subject="A",
            description="B",
            channel="telegraph",
        )

    assert refused.value.code == "channel"
    assert not Case.objects.exists()


# --- Reports by channel --------------------------------------------------------------------


@pytest.fixture
def cases_by_channel(process_setup, consultant, member, cooperative):
    """Cooperativa Alfa's cases: two by the portal, three by phone, one by PEC."""
    for _n in range(2):
        process.case_open(
            requester=member,
            cooperative=cooperative,
            area=process_setup,
            subject="Dal portale",
            description="x",
        )
    for channel in ("phone", "phone", "phone", "pec"):
        open_for(member, cooperative, process_setup, opened_by=consultant, channel=channel)
    return cooperative


def test_the_cooperative_report_counts_cases_by_channel(cases_by_channel):
    report = reports.cooperative_report(cases_by_channel)

    assert report["by_channel"] == {
        "portal": 2,
        "api": 0,
        "email": 0,
        "pec": 1,
        "phone": 3,
        "desk": 0,
    }
    assert sum(report["by_channel"].values()) == report["cases"] == 6


def test_the_report_page_and_its_csv_show_the_channels(cases_by_channel, consultant):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(consultant)

    page = browser.get(f"/reports/cooperatives/{cases_by_channel.pk}/")
    csv = browser.get(f"/reports/cooperatives/{cases_by_channel.pk}/?format=csv")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="report-by-channel"' in html
    assert 'data-channel="phone">3<' in html and 'data-channel="pec">1<' in html
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert "Phone,3" in lines and "PEC,1" in lines and "Portal,2" in lines
