"""The profile page (issue 17): name, e-mail and cooperatives shown, name editable next to the
language and e-mail choice, a link to the password change; `PATCH /api/v1/me/` takes the names;
the header's language menu becomes the profile's language."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from casework.models import Membership, UserProfile

from .people_helpers import browser

pytestmark = pytest.mark.django_db

CHOICES = {"language": "en", "notify": "each", "timeline_order": "newest"}


@pytest.mark.parametrize("path", ["/preferences/", "/profile/"])
def test_the_profile_shows_who_i_am_and_where_i_act(path, member, cooperative):
    Membership.objects.filter(user=member).update(role=Membership.Role.REFERENT)

    html = browser(member).get(path).content.decode()

    assert f'data-fact="username">{member.username}<' in html
    assert f'data-fact="email">{member.email}<' in html
    assert "Cooperativa Alfa (Referent)" in html
    assert f'value="{member.first_name}"' in html and f'value="{member.last_name}"' in html
    assert 'href="/password-change/"' in html


def test_saving_the_profile_changes_the_name(member):
    saved = browser(member).post(
        "/profile/", {**CHOICES, "first_name": "  Giulia ", "last_name": "Ferri"}
    )

    assert saved.status_code == 302 and saved["Location"] == "/profile/"
    member.refresh_from_db()
    assert (member.first_name, member.last_name) == ("Giulia", "Ferri")


def test_saving_the_preferences_alone_keeps_the_name(member):
    before = (member.first_name, member.last_name)

    browser(member).post("/preferences/", CHOICES)

    member.refresh_from_db()
    assert (member.first_name, member.last_name) == before


def test_a_name_too_long_stays_next_to_its_field(member):
    refused = browser(member).post("/preferences/", {**CHOICES, "first_name": "x" * 151})

    assert refused.status_code == 400
    assert refused.context["form"].errors.keys() == {"first_name"}


def test_the_api_changes_my_name_and_says_it(member):
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(member)

    changed = api.patch("/api/v1/me/", {"first_name": "Anna", "last_name": "Neri"}, format="json")

    assert changed.status_code == 200
    body = changed.json()
    assert (body["first_name"], body["last_name"], body["full_name"]) == (
        "Anna",
        "Neri",
        "Anna Neri",
    )
    member.refresh_from_db()
    assert member.get_full_name() == "Anna Neri"


def test_the_api_refuses_a_name_too_long_and_changes_nothing(member):
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(member)
    before = member.first_name

    refused = api.patch("/api/v1/me/", {"first_name": "x" * 151, "language": "en"}, format="json")

    assert refused.status_code == 400 and "first_name" in refused.json()
    member.refresh_from_db()
    assert member.first_name == before
    assert not UserProfile.objects.filter(user=member, language="en").exists()


def test_the_header_language_menu_becomes_the_profile_language(member):
    client = browser(member)

    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/cases/"})

    assert switched.status_code == 302 and switched["Location"] == "/cases/"
    assert UserProfile.objects.get(user=member).language == "en"
    assert client.cookies["django_language"].value == "en"


def test_the_language_menu_still_works_for_a_visitor():
    switched = browser().post("/i18n/setlang/", {"language": "en", "next": "/login/"})

    assert switched.status_code == 302
    assert not UserProfile.objects.exists()


def test_an_unknown_language_changes_no_profile(member):
    browser(member).post("/i18n/setlang/", {"language": "xx", "next": "/cases/"})

    assert not UserProfile.objects.filter(user=member).exclude(language="it").exists()
