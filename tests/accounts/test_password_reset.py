"""Password reset by e-mail and password change (issue 17): Django's views and tokens, the e-mail
in the reader's language through the outbox, no account enumeration, throttled."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from casework.models import Notification
from tests import factories

from .people_helpers import (
    NEW_PASSWORD,
    PASSWORD,
    body_of,
    browser,
    deliver,
    link_in,
    speaks,
    subject_of,
)

pytestmark = pytest.mark.django_db

SENT_PAGE = "/password-reset/done/"


def _ask(client, email: str):
    return client.post("/password-reset/", {"email": email})


def _reset_through(link: str, password: str = NEW_PASSWORD, client=None):
    """Open the e-mailed link (Django moves the token into the session) and set the password."""
    client = client or browser()
    opened = client.get(link)
    assert opened.status_code == 302  # to .../set-password/, the token out of the URL
    form_url = opened["Location"]
    page = client.get(form_url)
    assert page.status_code == 200 and 'name="new_password1"' in page.content.decode()
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_the_login_page_links_to_the_reset():
    html = browser().get("/login/").content.decode()
    assert 'href="/password-reset/"' in html and "Forgot your password?" in html


def test_a_member_resets_the_password_from_the_e_mailed_link_and_signs_in_with_it(member):
    client = browser()

    asked = _ask(client, member.email.upper())  # the address in any case

    assert asked.status_code == 302 and asked["Location"] == SENT_PAGE
    assert "Check your e-mail" in client.get(SENT_PAGE).content.decode()
    [message] = deliver()
    assert message["To"] == member.email
    # Italian is the default language of e-mails: a stable part of the words is the link.
    link = link_in(message)
    assert link.startswith("/reset/")
    assert body_of(message).count("http://127.0.0.1:8000/reset/") == 1
    done = _reset_through(link)
    assert done.status_code == 302 and done["Location"] == "/reset/done/"
    # Not signed in by the reset: the login page (and its second factor, for staff) decides.
    assert "_auth_user_id" not in client.session
    signed_in = browser().post("/login/", {"username": member.username, "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    # A notice that the password changed, and the sent link is not kept in the outbox.
    [notice] = deliver()
    assert notice["To"] == member.email and "/password-reset/" in body_of(notice)
    sent_reset = Notification.objects.get(kind="password_reset")
    assert (
        sent_reset.status == "sent"
        and sent_reset.body == ""
        and "reset" not in str(sent_reset.context)
    )


def test_the_e_mail_is_in_the_readers_language(member):
    speaks(member, "en")

    _ask(browser(), member.email)

    [message] = deliver()
    assert subject_of(message) == "[Sportello] Set a new password"
    assert "Open the link to choose it" in body_of(message)
    assert "for 3 days" in body_of(message)  # Django's PASSWORD_RESET_TIMEOUT


def test_the_link_works_once(member):
    _ask(browser(), member.email)
    link = link_in(deliver()[0])
    assert _reset_through(link).status_code == 302

    again = browser().get(link, follow=True)

    assert again.status_code == 410
    assert "This link no longer works" in again.content.decode()


def test_a_forged_link_says_it_does_not_work_and_changes_nothing(member):
    forged = browser().get("/reset/Mg/abc-0123456789abcdef/", follow=True)

    assert forged.status_code == 410
    assert "This link no longer works" in forged.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_the_new_password_goes_through_the_password_validators(member):
    _ask(browser(), member.email)
    link = link_in(deliver()[0])

    client = browser()
    form_url = client.get(link)["Location"]
    refused = client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})

    assert refused.status_code == 200  # Django's form, shown again with its errors
    assert "too common" in refused.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


@pytest.mark.parametrize("address", ["nobody@example.org", "not-an-address"])
def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(address):
    asked = _ask(browser(), address)

    if "@" in address:
        assert asked.status_code == 302 and asked["Location"] == SENT_PAGE
    else:
        assert asked.status_code == 200  # a form error, for any visitor alike
    assert not Notification.objects.exists()
    assert deliver() == []


def test_an_inactive_account_gets_nothing():
    user = factories.UserFactory(username="ex.socio", is_active=False)

    asked = _ask(browser(), user.email)

    assert asked.status_code == 302 and asked["Location"] == SENT_PAGE
    assert deliver() == []


def test_an_account_without_a_password_yet_can_set_one():
    """A person loaded by the federation's import has no usable password: the reset is a way in."""
    user = factories.UserFactory(username="importato")
    user.set_unusable_password()
    user.save()

    _ask(browser(), user.email)

    [message] = deliver()
    assert _reset_through(link_in(message)).status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_requests_are_throttled_per_address(member):
    client = browser()
    for _ in range(5):
        assert _ask(client, member.email).status_code == 302

    refused = _ask(client, member.email)

    assert refused.status_code == 429
    assert "Too many requests for a new password" in refused.content.decode()
    assert int(refused["Retry-After"]) >= 1
    assert len(deliver()) == 5
    # The same answer for an unknown address: the throttle does not tell them apart either.
    for _ in range(5):
        _ask(client, "nobody@example.org")
    assert _ask(client, "nobody@example.org").status_code == 429
    # Another address, from another client, is not held up.
    assert _ask(browser(address="192.0.2.99"), "altro@example.org").status_code == 302


def test_requests_are_throttled_per_client_address():
    client = browser(address="198.51.100.7")
    for n in range(20):
        assert _ask(client, f"person{n}@example.org").status_code == 302

    assert _ask(client, "person-last@example.org").status_code == 429
    assert _ask(browser(address="198.51.100.8"), "person-last@example.org").status_code == 302


def test_reset_ends_the_login_lockout(member):
    client = browser(address="192.0.2.77")
    for _ in range(5):
        client.post("/login/", {"username": member.username, "password": "wrong"})
    locked = client.post("/login/", {"username": member.username, "password": PASSWORD})
    assert locked.status_code != 302  # locked out

    _ask(browser(), member.email)
    _reset_through(link_in(deliver()[0]))

    again = client.post("/login/", {"username": member.username, "password": NEW_PASSWORD})
    assert again.status_code == 302


# --- Change, signed in -------------------------------------------------------------------------


def test_a_signed_in_person_changes_the_password_from_the_profile(member):
    client = browser(member)
    profile = client.get("/preferences/").content.decode()
    assert 'href="/password-change/"' in profile

    changed = client.post(
        "/password-change/",
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert changed.status_code == 302 and changed["Location"] == "/password-change/done/"
    assert "Password changed" in client.get("/password-change/done/").content.decode()
    assert client.get("/preferences/").status_code == 200  # still signed in
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    [notice] = deliver()
    assert notice["To"] == member.email


def test_a_wrong_old_password_changes_nothing(member):
    refused = browser(member).post(
        "/password-change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert refused.status_code == 400
    assert 'id="id_old_password_errors"' in refused.content.decode()
    assert get_user_model().objects.get(pk=member.pk).check_password(PASSWORD)
    assert deliver() == []


def test_password_change_needs_a_login():
    anonymous = browser().get("/password-change/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_staff_change_their_password_in_the_workspace_layout(consultant):
    page = browser(consultant).get("/password-change/")
    assert page.status_code == 200 and "css/workspace.css" in page.content.decode()
