"""POST /api/v1/cases/ by staff for a cooperative, and by members who leave `cooperative` out."""

import pytest

from casework.models import Case, CaseEvent, IdempotencyKey, Notification, UserProfile
from tests import factories

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"


def for_a_cooperative(cooperative, requester, **extra):
    return {
        "cooperative": cooperative.pk,
        "requester": requester.pk,
        "channel": "phone",
        "area": "legal",
        "subject": "Recesso di un socio",
        "description": "Telefonata del presidente: un socio lavoratore vuole recedere.",
        **extra,
    }


def own(**extra):
    return {"area": "legal", "subject": "Assemblea", "description": "Come convocarla?", **extra}


def nothing_saved():
    return not (
        Case.objects.exists() or CaseEvent.objects.exists() or Notification.objects.exists()
    )


def test_a_consultant_of_the_area_opens_a_case_for_a_member(
    api, consultant, member, cooperative, process_setup
):
    UserProfile.objects.create(user=member, language="en")

    response = api(consultant).post(CASES, for_a_cooperative(cooperative, member), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "phone"
    assert body["requester"]["username"] == "socio"
    assert body["cooperative"]["name"] == "Cooperativa Alfa"
    opened = CaseEvent.objects.get(case_id=body["id"], kind="opened")
    assert opened.actor == consultant
    assert (opened.after["channel"], opened.after["opened_by"]) == ("phone", "consulente")
    mail = Notification.objects.get(case_id=body["id"], kind="case_opened")
    assert mail.recipient == member and "received" in mail.subject.lower()
    # The member sees it among their cases, with its channel, and has not read it yet.
    listed = api(member).get(CASES).json()["results"]
    assert [(c["id"], c["channel"]) for c in listed] == [(body["id"], "phone")]


@pytest.mark.parametrize("who", ["area_supervisor", "supervisor"])
def test_supervisors_of_the_area_may_too(request, api, who, member, cooperative, process_setup):
    staff = request.getfixturevalue(who)

    response = api(staff).post(
        CASES, for_a_cooperative(cooperative, member, channel="pec"), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "pec"


def test_a_consultant_of_another_area_gets_403_and_no_case(
    api, fiscal_consultant, member, cooperative, process_setup
):
    response = api(fiscal_consultant).post(
        CASES, for_a_cooperative(cooperative, member), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 403
    assert "consultant or supervisor of the area" in response.json()["detail"]
    assert nothing_saved()


def test_a_requester_not_of_the_cooperative_is_400_naming_them(
    api, consultant, member, other_cooperative, process_setup
):
    member.first_name, member.last_name = "Anna", "Rossi"
    member.save()

    response = api(consultant).post(
        CASES,
        for_a_cooperative(other_cooperative, member),
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_IDEMPOTENCY_KEY="call-1",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Anna Rossi is not a member of Cooperativa Beta.",
        "code": "requester",
    }
    assert nothing_saved()
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"channel": "portal"}, "channel"),
        ({"channel": "api"}, "channel"),
        ({"channel": None}, "channel"),
        ({"requester": 987654}, "requester"),
        ({"requester": "abc"}, "requester"),
        ({"cooperative": 987654}, "cooperative"),
    ],
)
def test_staff_intake_bad_input_is_400_on_its_field(
    api, consultant, member, cooperative, process_setup, change, field
):
    response = api(consultant).post(
        CASES, {**for_a_cooperative(cooperative, member), **change}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert nothing_saved()


@pytest.mark.parametrize("left_out", ["cooperative", "requester", "channel"])
def test_staff_must_name_cooperative_requester_and_channel(
    api, consultant, member, cooperative, process_setup, left_out
):
    data = for_a_cooperative(cooperative, member)
    del data[left_out]

    response = api(consultant).post(CASES, data, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()[left_out][0].startswith(("Name the", "Say how"))
    assert nothing_saved()


def test_a_member_cannot_name_another_requester(api, member, cooperative, process_setup):
    colleague = factories.MembershipFactory(cooperative=cooperative).user

    response = api(member).post(
        CASES, for_a_cooperative(cooperative, colleague), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 403
    assert "only in your own name" in response.json()["detail"]
    assert nothing_saved()


@pytest.mark.parametrize("channel", ["phone", "desk", "email", "pec", "portal"])
def test_a_member_cannot_choose_a_staff_channel(api, member, cooperative, process_setup, channel):
    response = api(member).post(
        CASES, {**own(cooperative=cooperative.pk), "channel": channel}, format="json"
    )

    assert response.status_code == 400
    assert "channel" in response.json()
    assert nothing_saved()


def test_a_member_naming_themselves_opens_their_own_case_by_api(
    api, member, cooperative, process_setup
):
    response = api(member).post(
        CASES, own(cooperative=cooperative.pk, requester=member.pk), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "api"


def test_a_member_of_one_cooperative_may_leave_it_out(api, member, cooperative, process_setup):
    response = api(member).post(CASES, own(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["cooperative"]["id"] == cooperative.pk
    assert body["channel"] == "api"
    assert CaseEvent.objects.get(case_id=body["id"], kind="opened").actor == member


def test_a_member_of_several_who_leaves_it_out_is_told_to_choose(
    api, member, other_cooperative, process_setup
):
    factories.MembershipFactory(user=member, cooperative=other_cooperative)

    response = api(member).post(CASES, own(), format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {
        "cooperative": ["You are a member of several cooperatives: say which one the case is for."]
    }
    assert nothing_saved()


def test_someone_neither_member_nor_staff_gets_403(api, outsider, cooperative, process_setup):
    response = api(outsider).post(CASES, own(cooperative=cooperative.pk), format="json")

    assert response.status_code == 403
    assert nothing_saved()


def test_a_staff_retry_with_the_same_key_returns_the_same_case(
    api, consultant, member, cooperative, process_setup
):
    client = api(consultant)
    headers = {"HTTP_IDEMPOTENCY_KEY": "call-2026-03-02-1015"}

    first = client.post(CASES, for_a_cooperative(cooperative, member), format="json", **headers)
    again = client.post(CASES, for_a_cooperative(cooperative, member), format="json", **headers)
    other = client.post(
        CASES, for_a_cooperative(cooperative, member, channel="desk"), format="json", **headers
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    # Another channel is another request: the key may not be reused for it.
    assert other.status_code == 409
    assert Case.objects.count() == 1


def test_the_cooperative_report_counts_cases_by_channel(
    api, consultant, member, cooperative, process_setup
):
    client = api(consultant)
    for channel in ("phone", "phone", "email"):
        client.post(CASES, for_a_cooperative(cooperative, member, channel=channel), format="json")
    api(member).post(CASES, own(), format="json")

    report = client.get(f"/api/v1/reports/cooperatives/{cooperative.pk}/").json()

    assert report["cases"]["total"] == 4
    assert report["cases"]["by_channel"] == {
        "portal": 0,
        "api": 1,
        "email": 1,
        "pec": 0,
        "phone": 2,
        "desk": 0,
    }
