"""A person's own preferences (issue 14): `GET/PATCH /api/v1/me/` and the Preferences page."""

from __future__ import annotations

import pytest
from django.test import Client

from casework.models import UserProfile

pytestmark = pytest.mark.django_db


def _profile(user) -> tuple[str, str, str] | None:
    row = UserProfile.objects.filter(user=user).first()
    return (row.language, row.notify, row.timeline_order) if row else None


# --- The API -----------------------------------------------------------------------------------


def test_me_shows_the_defaults_of_a_person_without_a_profile(api, member):
    body = api(member).get("/api/v1/me/").json()

    assert (body["language"], body["notify"], body["timeline_order"]) == ("it", "each", "newest")
    assert _profile(member) is None  # reading creates nothing


def test_patch_me_changes_only_what_is_given_and_creates_the_profile(api, consultant):
    client = api(consultant)

    response = client.patch("/api/v1/me/", {"notify": "digest"}, format="json")

    assert response.status_code == 200
    assert response.json()["notify"] == "digest"
    assert response.json()["username"] == "consulente"
    assert _profile(consultant) == ("it", "digest", "newest")

    client.patch("/api/v1/me/", {"language": "en", "timeline_order": "oldest"}, format="json")
    assert _profile(consultant) == ("en", "digest", "oldest")
    assert client.get("/api/v1/me/").json()["timeline_order"] == "oldest"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"notify": "weekly"}, "notify"),
        ({"language": "fr"}, "language"),
        ({"timeline_order": "random"}, "timeline_order"),
        ({"timeline_order": None}, "timeline_order"),
        ({"notify": "digest", "language": "klingon"}, "language"),
        ({"notify": "digest", "username": "qualcun.altro"}, "username"),
    ],
)
def test_patch_me_refuses_a_bad_value_with_a_message_and_saves_nothing(api, member, payload, field):
    UserProfile.objects.create(user=member, language="it", notify="each")

    response = api(member).patch("/api/v1/me/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert response.json()[field][0]  # a message a person can read
    assert _profile(member) == ("it", "each", "newest")
    assert api(member).get("/api/v1/me/").json()["username"] == "socio"


def test_patch_me_with_nothing_to_change_says_what_can_be_changed(api, member):
    response = api(member).patch("/api/v1/me/", {}, format="json")

    assert response.status_code == 400
    assert "notify" in str(response.json())
    assert _profile(member) is None


def test_patch_me_needs_a_signed_in_person(api):
    assert api().patch("/api/v1/me/", {"notify": "digest"}, format="json").status_code == 401


# --- The Preferences page ----------------------------------------------------------------------


def _browser(user, *, csrf: bool = False) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def test_the_preferences_page_is_in_the_portal_for_a_member_and_in_the_workspace_for_staff(
    member, consultant
):
    as_member = _browser(member).get("/preferences/")
    as_staff = _browser(consultant).get("/preferences/")

    assert as_member.status_code == as_staff.status_code == 200
    assert "css/portal.css" in as_member.content.decode()
    assert "css/workspace.css" in as_staff.content.decode()
    for page in (as_member, as_staff):
        html = page.content.decode()
        assert 'href="/preferences/" aria-current="page"' in html  # the header's link
        assert 'name="notify"' in html and 'value="each"' in html and "checked" in html
        assert 'name="csrfmiddlewaretoken"' in html


def test_saving_preferences_says_so_and_the_pages_follow_the_language(member):
    browser = _browser(member)

    response = browser.post(
        "/preferences/",
        {"language": "it", "notify": "digest", "timeline_order": "oldest"},
        follow=True,
    )

    assert response.redirect_chain == [("/preferences/", 302)]
    assert _profile(member) == ("it", "digest", "oldest")
    html = response.content.decode()
    assert 'lang="it"' in html
    assert 'value="digest"' in html
    assert list(response.context["messages"])  # the success message is shown


def test_a_bad_choice_stays_next_to_its_field_and_nothing_is_saved(member):
    UserProfile.objects.create(user=member, language="en")

    response = _browser(member).post(
        "/preferences/", {"language": "en", "notify": "hourly", "timeline_order": "newest"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"notify"}
    assert 'id="id_notify_errors"' in response.content.decode()
    assert _profile(member) == ("en", "each", "newest")


def test_the_preferences_page_needs_a_login_and_a_csrf_token(member):
    anonymous = Client().get("/preferences/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]

    forged = _browser(member, csrf=True).post(
        "/preferences/", {"language": "en", "notify": "digest", "timeline_order": "newest"}
    )
    assert forged.status_code == 403
    assert _profile(member) is None
