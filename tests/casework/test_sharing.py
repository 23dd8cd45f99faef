"""Who sees and follows a case inside its cooperative (issue 17): participants, confidential
cases and memberships that ended, through the services and the e-mails people get.

The e-mails are sent by the real outbox (`deliver_pending`) into Django's test mailbox.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from casework.errors import CaseError, ForbiddenError, NotFoundError
from casework.models import CaseEvent, CaseParticipant, Membership, Notification, UserProfile
from casework.outbox import deliver_pending
from tests import factories
from workflows import process

pytestmark = pytest.mark.django_db

Kind = CaseEvent.Kind


def _person(cooperative, role: str, username: str, **extra):
    user = factories.MembershipFactory(
        cooperative=cooperative, role=role, user__username=username, **extra
    ).user
    UserProfile.objects.update_or_create(user=user, defaults={"language": "en"})
    return user


@pytest.fixture
def sharing_member(plain_member):
    """The suite's ordinary member of Cooperativa Alfa, reading English."""
    UserProfile.objects.update_or_create(user=plain_member, defaults={"language": "en"})
    return plain_member


@pytest.fixture
def colleague_member(cooperative):
    """Another ordinary member of Alfa."""
    return _person(cooperative, "member", "socio.collega")


@pytest.fixture
def alfa_referent(cooperative):
    return _person(cooperative, "referent", "referente.alfa")


@pytest.fixture
def members_case(open_case, sharing_member, consultant):
    """A case the ordinary member opened, with the consultant holding it."""
    return open_case(sharing_member, subject="Contratto di lavoro")


def _sent_to(user) -> list:
    deliver_pending()
    return [message for message in mail.outbox if message.to == [user.email]]


def _kinds(case) -> list[str]:
    return list(case.events.order_by("id").values_list("kind", flat=True))


# --- Participants -----------------------------------------------------------------------------


def test_the_requester_adds_a_colleague_who_is_told_and_then_follows_the_messages(
    members_case, sharing_member, colleague_member, consultant
):
    # When the requester adds a colleague of the same cooperative,
    link = process.case_add_participant(
        case=members_case, actor=sharing_member, person=colleague_member
    )

    # then the colleague follows the case, the timeline says so, and they are told by e-mail.
    assert link.added_by == sharing_member
    assert Kind.PARTICIPANT_ADDED in _kinds(members_case)
    event = members_case.events.get(kind=Kind.PARTICIPANT_ADDED)
    assert event.after == {"participant": colleague_member.pk, "username": "socio.collega"}
    (told,) = _sent_to(colleague_member)
    assert "You follow a case" in told.subject and members_case.reference in told.subject
    mail.outbox.clear()

    # A consultant's public message reaches them like the requester; an internal note never.
    process.case_post_message(case=members_case, author=consultant, body="Serve il contratto.")
    process.case_post_message(
        case=members_case, author=consultant, body="Nota per noi", internal=True
    )
    deliver_pending()
    to_colleague = [m for m in mail.outbox if m.to == [colleague_member.email]]
    to_requester = [m for m in mail.outbox if m.to == [sharing_member.email]]
    assert len(to_colleague) == len(to_requester) == 1
    assert "Serve il contratto." in to_colleague[0].body
    assert all("Nota per noi" not in m.body for m in mail.outbox)


def test_adding_someone_twice_changes_nothing(members_case, sharing_member, colleague_member):
    first = process.case_add_participant(
        case=members_case, actor=sharing_member, person=colleague_member
    )
    again = process.case_add_participant(
        case=members_case, actor=sharing_member, person=colleague_member
    )

    assert again.pk == first.pk
    assert _kinds(members_case).count(Kind.PARTICIPANT_ADDED) == 1


def test_only_people_of_the_same_cooperative_with_an_active_membership_may_follow(
    members_case, sharing_member, consultant, other_member, cooperative
):
    left = _person(cooperative, "member", "socio.uscito", is_active=False)

    # Someone of another cooperative: refused, named by the id the requester gave, nothing saved.
    with pytest.raises(CaseError) as stranger:
        process.case_add_participant(case=members_case, actor=sharing_member, person=other_member)
    assert stranger.value.code == "participant_cooperative"
    assert f"#{other_member.pk}" in str(stranger.value)
    assert other_member.get_full_name() not in str(stranger.value)

    # The same to staff, who are told the person's name.
    with pytest.raises(CaseError) as named:
        process.case_add_participant(case=members_case, actor=consultant, person=other_member)
    assert other_member.get_full_name() in str(named.value)

    # Someone who left the cooperative, the requester themselves, nobody at all.
    with pytest.raises(CaseError) as former:
        process.case_add_participant(case=members_case, actor=consultant, person=left)
    assert former.value.code == "participant_cooperative"
    with pytest.raises(CaseError) as requester:
        process.case_add_participant(case=members_case, actor=consultant, person=sharing_member)
    assert requester.value.code == "participant_requester"
    with pytest.raises(CaseError):
        process.case_add_participant(case=members_case, actor=consultant, person=None)

    assert not CaseParticipant.objects.exists()
    assert Kind.PARTICIPANT_ADDED not in _kinds(members_case)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("sharing_member", True),  # the requester
        ("member", True),  # the legal representative
        ("alfa_referent", True),
        ("consultant", True),  # staff of the case
        ("colleague_member", False),  # an ordinary member who does not see the case
        ("other_member", False),
    ],
)
def test_who_may_add_participants(request, members_case, alfa_referent, who, allowed):
    actor = request.getfixturevalue(who)
    person = _person(members_case.cooperative, "member", "socio.nuovo")

    if allowed:
        process.case_add_participant(case=members_case, actor=actor, person=person)
        assert members_case.participant_links.filter(user=person).exists()
    else:
        with pytest.raises(ForbiddenError):
            process.case_add_participant(case=members_case, actor=actor, person=person)


def test_a_referent_cannot_share_a_confidential_case_they_do_not_see(
    open_case, sharing_member, alfa_referent, colleague_member
):
    case = open_case(sharing_member, confidential=True)

    with pytest.raises(ForbiddenError):
        process.case_add_participant(case=case, actor=alfa_referent, person=colleague_member)


def test_removing_a_participant_stops_their_emails(
    members_case, sharing_member, colleague_member, consultant
):
    process.case_add_participant(case=members_case, actor=sharing_member, person=colleague_member)
    UserProfile.objects.filter(user=colleague_member).update(notify="digest")
    process.case_post_message(case=members_case, author=consultant, body="Per il digest")
    held = Notification.objects.filter(recipient=colleague_member, status="held")
    assert held.count() == 1

    process.case_remove_participant(
        case=members_case, actor=sharing_member, person=colleague_member
    )

    # The held e-mail is withdrawn: they no longer see the case. The next message skips them.
    assert not held.exists()
    process.case_post_message(case=members_case, author=consultant, body="Dopo")
    assert (
        not Notification.objects.filter(recipient=colleague_member)
        .exclude(kind="participant_added")
        .exists()
    )
    event = members_case.events.get(kind=Kind.PARTICIPANT_REMOVED)
    assert event.before == {"participant": colleague_member.pk, "username": "socio.collega"}
    assert event.actor == sharing_member


def test_removing_someone_who_does_not_follow_the_case_is_not_found(
    members_case, sharing_member, colleague_member
):
    with pytest.raises(NotFoundError):
        process.case_remove_participant(
            case=members_case, actor=sharing_member, person=colleague_member
        )
    assert Kind.PARTICIPANT_REMOVED not in _kinds(members_case)


# --- Confidential cases -------------------------------------------------------------------


def test_a_case_opened_confidential_records_it(open_case, sharing_member):
    case = open_case(sharing_member, confidential=True)

    assert case.confidential
    event = case.events.get(kind=Kind.CONFIDENTIALITY_CHANGED)
    assert (event.before, event.after, event.actor) == (
        {"confidential": False},
        {"confidential": True},
        sharing_member,
    )


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("consultant", True),
        ("area_supervisor", True),
        ("member", True),  # the legal representative
        ("alfa_referent", False),
        ("sharing_member", False),  # the requester
        ("other_member", False),
    ],
)
def test_who_may_mark_a_case_confidential(request, members_case, who, allowed):
    actor = request.getfixturevalue(who)

    if allowed:
        process.case_set_confidential(case=members_case, actor=actor, confidential=True)
        members_case.refresh_from_db()
        assert members_case.confidential
        assert members_case.events.get(kind=Kind.CONFIDENTIALITY_CHANGED).actor == actor
    else:
        with pytest.raises(ForbiddenError):
            process.case_set_confidential(case=members_case, actor=actor, confidential=True)
        members_case.refresh_from_db()
        assert not members_case.confidential


def test_setting_what_the_case_already_is_records_nothing(members_case, consultant):
    process.case_set_confidential(case=members_case, actor=consultant, confidential=False)

    assert Kind.CONFIDENTIALITY_CHANGED not in _kinds(members_case)


def test_a_referent_who_no_longer_sees_a_case_stops_getting_its_emails(
    open_case, alfa_referent, sharing_member, consultant
):
    # Given a case the referent wrote on (so they hear of the consultant's answers),
    case = open_case(sharing_member)
    process.case_post_message(case=case, author=alfa_referent, body="Seguo io la pratica.")
    UserProfile.objects.filter(user=alfa_referent).update(notify="digest")
    process.case_post_message(case=case, author=consultant, body="Prima risposta")
    assert Notification.objects.filter(recipient=alfa_referent, status="held").count() == 1

    # when staff mark it confidential,
    process.case_set_confidential(case=case, actor=consultant, confidential=True)

    # then what waited for their digest is withdrawn and the next message does not reach them;
    # the requester still hears of it.
    assert not Notification.objects.filter(recipient=alfa_referent).exists()
    process.case_post_message(case=case, author=consultant, body="Seconda risposta")
    assert not Notification.objects.filter(recipient=alfa_referent).exists()
    assert Notification.objects.filter(recipient=sharing_member, kind="message_from_staff").count()


# --- Memberships that ended -----------------------------------------------------------------


def test_a_member_who_left_gets_no_email_of_the_cases_they_opened(
    members_case, sharing_member, consultant
):
    Membership.objects.filter(user=sharing_member).update(is_active=False, left_at=timezone.now())

    process.case_post_message(case=members_case, author=consultant, body="Ci serve il verbale.")

    assert not Notification.objects.filter(
        recipient=sharing_member, kind="message_from_staff"
    ).exists()
    # Nor may they act on it any more.
    former = type(sharing_member).objects.get(pk=sharing_member.pk)  # their roles read afresh
    with pytest.raises(ForbiddenError):
        process.case_post_message(case=members_case, author=former, body="Eccolo")
