"""Brute force on the login page: five failures lock one username from one address out."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "sportello-test"
LOCKED_EN = "Too many failed attempts to log in"
LOCKED_IT = "Troppi tentativi di accesso non riusciti"


def _browser(address="192.0.2.10", language="en") -> Client:
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)


def _log_in(browser: Client, username: str, password: str):
    return browser.post(reverse("login"), {"username": username, "password": password})


def _logged_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


def _fail(browser: Client, username: str, times: int = 5):
    for _ in range(times):
        response = _log_in(browser, username, "wrong-password")
    return response


def test_five_wrong_passwords_then_the_right_one_is_refused(member):
    browser = _browser()
    # Given four failures, the right password still works (and resets the count).
    _fail(browser, "socio", times=4)
    assert _log_in(browser, "socio", PASSWORD).status_code == 302
    browser.logout()

    # When five passwords in a row are wrong,
    fifth = _fail(browser, "socio")
    response = _log_in(browser, "socio", PASSWORD)

    # then the fifth already shows the lockout, and the right password is refused with it.
    assert fifth.status_code == 429
    assert response.status_code == 429
    assert LOCKED_EN in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert not _logged_in(browser)
    # The page is the login page itself, with its form.
    assert 'name="username"' in response.content.decode()


def test_the_lockout_message_is_italian_by_default(member):
    browser = _browser(language="it")

    response = _fail(browser, "socio")

    assert LOCKED_IT in response.content.decode()
    assert "15 minuti" in response.content.decode()


def test_other_users_and_other_addresses_are_not_affected(member, other_member):
    attacker = _browser(address="192.0.2.66")
    _fail(attacker, "socio")

    # Another user from the same address signs in.
    assert _log_in(attacker, "socio.altro", PASSWORD).status_code == 302
    # The same user from their own address signs in: an attacker cannot lock them out.
    own = _browser(address="198.51.100.7")
    assert _log_in(own, "socio", PASSWORD).status_code == 302
    assert _logged_in(own)


def test_the_lockout_ends_after_fifteen_minutes(member):
    browser = _browser()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _fail(browser, "socio")
        traveller.shift(timedelta(minutes=14))
        assert _log_in(browser, "socio", PASSWORD).status_code == 429

        traveller.shift(timedelta(minutes=16))
        assert _log_in(browser, "socio", PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(admin_user):
    admin_user.set_password(PASSWORD)
    admin_user.save()
    browser = _browser()
    url = reverse("admin:login")
    for _ in range(5):
        browser.post(url, {"username": admin_user.username, "password": "wrong"})

    response = browser.post(url, {"username": admin_user.username, "password": PASSWORD})

    assert response.status_code == 429
    assert LOCKED_EN in response.content.decode()


def test_sign_in_behind_our_proxy_counts_the_client_address(settings, member):
    """Behind the proxy every request comes from it: X-Forwarded-For names the client."""
    settings.SPORTELLO_TRUSTED_PROXIES = 1
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.66")
    _fail(attacker, "socio")

    # A client spoofing the header only adds an entry to its left: the proxy's entry counts.
    spoofing = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 192.0.2.66")
    assert _log_in(spoofing, "socio", PASSWORD).status_code == 429
    member_browser = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert _log_in(member_browser, "socio", PASSWORD).status_code == 302


def test_the_token_endpoint_keeps_its_own_throttle(member):
    """DRF throttles the REST sign-in (per address and per username); it answers JSON."""
    api = Client(REMOTE_ADDR="192.0.2.77")
    for _ in range(10):
        response = api.post("/api/v1/auth/token/", {"username": "socio", "password": "x"})
        assert response.status_code == 400
        assert response["Content-Type"].startswith("application/json")

    response = api.post("/api/v1/auth/token/", {"username": "socio", "password": PASSWORD})

    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")


def test_code_that_authenticates_without_a_request_is_left_alone():
    user = factories.UserFactory(username="script.user")

    assert authenticate(username="script.user", password=PASSWORD) == user
    assert authenticate(username="script.user", password="wrong") is None
