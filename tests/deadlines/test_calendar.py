"""The private calendar feed: made and replaced on its page, parsed back with icalendar, listing
only what its owner may see, 404 for an unknown or revoked secret."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from casework import calendar_feed
from casework.models import UserProfile
from casework.services import deadlines as services

pytestmark = pytest.mark.django_db


def feed_of(client, user):
    """The person's feed URL made on the calendar page, then the feed fetched anonymously."""
    client.force_login(user)
    client.post(reverse("calendar"), {"action": "replace"})
    token = UserProfile.objects.get(user=user).calendar_token
    client.logout()
    response = client.get(reverse("calendar-feed", args=[token]))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar):
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def uid(deadline):
    return f"deadline-{deadline.pk}@example.org"


@pytest.fixture(autouse=True)
def feed_domain(settings):
    settings.DEFAULT_FROM_EMAIL = "Sportello <sportello@example.org>"
    settings.SPORTELLO_BASE_URL = "https://sportello.example.org"


def test_the_consultants_feed_lists_their_deadlines_as_all_day_events(
    client, consultant, add_deadline, assigned_case
):
    deadline = add_deadline(
        title="Ricorso in Commissione tributaria",
        kind="tax",
        trigger_date=date(2026, 7, 15),
        term_days=60,
        note="Portare la procura",
    )

    calendar = feed_of(client, consultant)

    (event,) = events(calendar).values()
    assert str(event["uid"]) == uid(deadline)
    assert event.decoded("dtstart") == date(2026, 9, 14)
    assert event.decoded("dtend") == date(2026, 9, 15)
    assert str(event["summary"]) == f"{assigned_case.reference} · Ricorso in Commissione tributaria"
    assert str(event["url"]) == (
        f"https://sportello.example.org{reverse('work:case', args=[assigned_case.pk])}"
    )
    assert "Portare la procura" in str(event["description"])


def test_the_uid_stays_when_the_date_moves(client, consultant, add_deadline):
    deadline = add_deadline(kind="judicial", trigger_date=date(2026, 7, 15), term_days=30)
    before = events(feed_of(client, consultant))[uid(deadline)]
    services.deadline_change(deadline=deadline, actor=consultant, trigger_date=date(2026, 8, 3))

    after = events(feed_of(client, consultant))[uid(deadline)]

    assert before.decoded("dtstart") == date(2026, 9, 14)
    assert after.decoded("dtstart") == date(2026, 9, 30)


def test_a_member_sees_only_the_shared_deadlines_of_their_cases(
    client, member, add_deadline, assigned_case, open_case, other_member, other_cooperative
):
    shared = add_deadline(title="Deposito del bilancio", shared=True, note="solo per lo staff")
    private = add_deadline(title="Verifica interna", shared=False)
    elsewhere_case = open_case(other_member, other_cooperative)
    elsewhere_case.refresh_from_db()
    elsewhere = add_deadline(case=elsewhere_case, actor=elsewhere_case.assignee, shared=True)

    found = events(feed_of(client, member))

    assert set(found) == {uid(shared)}
    assert uid(private) not in found and uid(elsewhere) not in found
    event = found[uid(shared)]
    assert "solo per lo staff" not in str(event.get("description", ""))
    assert str(event["url"]).endswith(reverse("portal-case", args=[assigned_case.pk]))


def test_a_consultant_sees_what_they_are_responsible_for_not_their_colleagues(
    client, consultant, deadline_colleague, add_deadline
):
    mine = add_deadline(title="Mia")
    theirs = add_deadline(title="Del collega", responsible=deadline_colleague)

    assert set(events(feed_of(client, consultant))) == {uid(mine)}
    assert set(events(feed_of(client, deadline_colleague))) == {uid(theirs)}


def test_a_supervisor_sees_their_areas_deadlines(client, area_supervisor, add_deadline):
    one, two = add_deadline(title="Uno"), add_deadline(title="Due")

    assert set(events(feed_of(client, area_supervisor))) == {uid(one), uid(two)}


def test_done_and_missed_deadlines_say_so(client, consultant, add_deadline):
    today = timezone.localdate()
    done = add_deadline(title="Fatta", kind="fixed", trigger_date=today + timedelta(days=3))
    services.deadline_mark_done(deadline=done, actor=consultant)
    old = add_deadline(title="Vecchissima", kind="fixed", trigger_date=today - timedelta(400))

    found = events(feed_of(client, consultant))

    # In the person's language: Italian by default.
    assert str(found[uid(done)]["summary"]).startswith("Completata: ")
    assert uid(old) not in found  # more than a year ago


def test_a_replaced_secret_revokes_the_old_url(client, consultant):
    client.force_login(consultant)
    client.post(reverse("calendar"), {"action": "replace"})
    old = UserProfile.objects.get(user=consultant).calendar_token
    client.post(reverse("calendar"), {"action": "replace"})
    new = UserProfile.objects.get(user=consultant).calendar_token
    client.logout()

    assert new != old and len(new) >= 43
    assert client.get(reverse("calendar-feed", args=[old])).status_code == 404
    assert client.get(reverse("calendar-feed", args=[new])).status_code == 200


def test_a_stopped_feed_and_an_unknown_secret_are_404(client, consultant):
    client.force_login(consultant)
    client.post(reverse("calendar"), {"action": "replace"})
    token = UserProfile.objects.get(user=consultant).calendar_token
    client.post(reverse("calendar"), {"action": "revoke"})
    client.logout()

    assert client.get(reverse("calendar-feed", args=[token])).status_code == 404
    assert client.get(reverse("calendar-feed", args=["nope"])).status_code == 404
    assert client.get("/calendar/.ics").status_code == 404
    assert calendar_feed.owner_of("") is None


def test_the_feed_of_a_deactivated_person_is_gone(client, consultant):
    token = calendar_feed.calendar_token_replace(user=consultant)
    consultant.is_active = False
    consultant.save()

    assert client.get(reverse("calendar-feed", args=[token])).status_code == 404


def test_the_calendar_page_shows_the_url_to_anyone_signed_in(client, member, consultant):
    for person in (member, consultant):
        client.force_login(person)
        empty = client.get(reverse("calendar")).content.decode()
        assert "You have no calendar feed yet." in empty

        response = client.post(reverse("calendar"), {"action": "replace"}, follow=True)

        token = UserProfile.objects.get(user=person).calendar_token
        content = response.content.decode()
        assert f"https://sportello.example.org/calendar/{token}.ics" in content
        assert "Replace the address" in content


def test_the_calendar_page_needs_a_sign_in(client):
    response = client.get(reverse("calendar"))

    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_feed_is_in_the_owners_language(client, consultant, add_deadline):
    UserProfile.objects.create(user=consultant, language="en")
    add_deadline()

    calendar = feed_of(client, consultant)

    assert str(calendar["x-wr-calname"]) == "Sportello deadlines"
    (event,) = calendar.walk("VEVENT")
    assert "Status: Open" in str(event["description"])
