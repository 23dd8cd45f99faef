"""Two-factor sign-in of staff on the web and the admin: the code step, setting up the app,
recovery codes, replay and brute force, sessions without their second factor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.twofactor.core import RECOVERY_CODE_COUNT, recovery_codes_issue

pytestmark = pytest.mark.django_db

PASSWORD = "sportello-test"
LOCKED_EN = "Too many failed attempts to log in"
WRONG_CODE_EN = "That code is wrong, has expired or was already used."
ROOT = Path(__file__).resolve().parents[2]
# A Tuesday morning; each test that reads codes stands still in it unless it moves on.
NOW = datetime(2026, 3, 10, 9, 30, 7, tzinfo=UTC)


@pytest.fixture
def required(settings):
    settings.STAFF_2FA_REQUIRED = True


@pytest.fixture
def otp_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def web():
    return Client(REMOTE_ADDR="192.0.2.40", HTTP_ACCEPT_LANGUAGE="en")


def _authenticator(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)


def _code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _password(web: Client, username: str, next_url: str = ""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return web.post(reverse("login"), data)


def _signed_in(web: Client) -> bool:
    return "_auth_user_id" in web.session


def _verified(web: Client) -> bool:
    return "otp_device_id" in web.session


# --- The code step --------------------------------------------------------------------------------


@pytest.mark.usefixtures("required")
def test_the_password_alone_signs_no_staff_member_in(web, consultant, otp_clock):
    _authenticator(consultant)

    response = _password(web, "consulente", next_url="/work/")

    assert response.status_code == 302
    assert response["Location"] == reverse("login_otp")
    assert not _signed_in(web)
    page = web.get(reverse("login_otp"))
    assert page.status_code == 200
    assert "6-digit code" in page.content.decode()


@pytest.mark.usefixtures("required")
def test_the_code_signs_in_and_goes_on_to_the_page_asked_for(web, consultant, otp_clock):
    device = _authenticator(consultant)
    _password(web, "consulente", next_url="/work/")

    response = web.post(reverse("login_otp"), {"code": _code(device)})

    assert response.status_code == 302
    assert response["Location"] == "/work/"
    assert _signed_in(web) and _verified(web)
    assert web.get("/work/").status_code == 200


@pytest.mark.usefixtures("required")
def test_a_wrong_code_is_a_form_error_and_signs_nobody_in(web, consultant, otp_clock):
    device = _authenticator(consultant)
    _password(web, "consulente")
    wrong = f"{(int(_code(device)) + 1) % 1_000_000:06d}"

    response = web.post(reverse("login_otp"), {"code": wrong})

    assert response.status_code == 200
    assert WRONG_CODE_EN in response.content.decode()
    assert not _signed_in(web)


@pytest.mark.usefixtures("required")
def test_a_code_is_accepted_once(web, consultant, otp_clock):
    device = _authenticator(consultant)
    code = _code(device)
    _password(web, "consulente")
    assert web.post(reverse("login_otp"), {"code": code}).status_code == 302
    web.post(reverse("logout"))

    # When someone replays the same code within its time step,
    _password(web, "consulente")
    replay = web.post(reverse("login_otp"), {"code": code})

    # then it is refused, and the app's next code works.
    assert replay.status_code == 200 and not _signed_in(web)
    assert WRONG_CODE_EN in replay.content.decode()
    otp_clock.shift(timedelta(seconds=30))
    assert web.post(reverse("login_otp"), {"code": _code(device)}).status_code == 302
    assert _verified(web)


@pytest.mark.usefixtures("required")
def test_a_recovery_code_signs_in_once(web, consultant, otp_clock):
    _authenticator(consultant)
    codes = recovery_codes_issue(user=consultant)
    assert len(codes) == RECOVERY_CODE_COUNT == len(set(codes))
    _password(web, "consulente")

    # Typed as people type codes read off paper: upper case, grouped.
    response = web.post(
        reverse("login_otp"), {"code": f"{codes[0][:4].upper()} {codes[0][4:]}"}, follow=True
    )

    assert _verified(web)
    assert "9 are left" in response.content.decode()
    web.post(reverse("logout"))
    _password(web, "consulente")
    again = web.post(reverse("login_otp"), {"code": codes[0]})
    assert again.status_code == 200 and not _signed_in(web)
    assert StaticToken.objects.filter(device__user=consultant).count() == 9


@pytest.mark.usefixtures("required")
def test_five_wrong_codes_lock_the_account_out_as_the_login_does(web, consultant, otp_clock):
    device = _authenticator(consultant)
    _password(web, "consulente")
    wrong = f"{(int(_code(device)) + 1) % 1_000_000:06d}"

    responses = [web.post(reverse("login_otp"), {"code": wrong}) for _ in range(5)]

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert LOCKED_EN in responses[-1].content.decode()
    # The half-done sign-in is gone, and the password is refused while the lockout lasts.
    assert web.post(reverse("login_otp"), {"code": _code(device)})["Location"] == reverse("login")
    otp_clock.shift(timedelta(minutes=1))
    again = _password(web, "consulente")
    assert again.status_code == 429 and not _signed_in(web)
    # From another address the person still signs in (an attacker cannot lock them out).
    own = Client(REMOTE_ADDR="198.51.100.9")
    _password(own, "consulente")
    assert own.post(reverse("login_otp"), {"code": _code(device)}).status_code == 302


@pytest.mark.usefixtures("required")
def test_the_lockout_ends_with_its_cool_off(web, consultant, otp_clock):
    device = _authenticator(consultant)
    _password(web, "consulente")
    wrong = f"{(int(_code(device)) + 1) % 1_000_000:06d}"
    for _ in range(5):
        web.post(reverse("login_otp"), {"code": wrong})

    otp_clock.shift(timedelta(minutes=16))
    _password(web, "consulente")

    assert web.post(reverse("login_otp"), {"code": _code(device)}).status_code == 302


@pytest.mark.usefixtures("required")
def test_the_code_step_without_a_password_first_goes_to_the_login_page(web):
    assert web.get(reverse("login_otp"))["Location"] == reverse("login")
    assert web.post(reverse("login_otp"), {"code": "123456"})["Location"] == reverse("login")


@pytest.mark.usefixtures("required")
def test_a_sign_in_left_half_way_expires(web, consultant, otp_clock):
    device = _authenticator(consultant)
    _password(web, "consulente")

    otp_clock.shift(timedelta(minutes=11))

    assert web.post(reverse("login_otp"), {"code": _code(device)})["Location"] == reverse("login")
    assert not _signed_in(web)


# --- Setting up the authenticator at the first sign-in --------------------------------------------


@pytest.mark.usefixtures("required")
def test_the_first_sign_in_sets_up_the_app_and_shows_recovery_codes_once(
    web, consultant, otp_clock
):
    response = _password(web, "consulente", next_url="/work/")
    assert response["Location"] == reverse("two_factor")
    assert not _signed_in(web)

    page = web.get(reverse("two_factor"))
    text = page.content.decode()
    device = TOTPDevice.objects.get(user=consultant)
    assert not device.confirmed
    assert "<svg" in text and "http" not in text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert page.context["secret"].replace(" ", "") in text.replace(" ", "")
    # Nothing beyond this page meanwhile.
    assert web.get("/work/").status_code == 302 and not _signed_in(web)

    wrong = web.post(reverse("two_factor"), {"action": "confirm", "code": "000000"})
    assert WRONG_CODE_EN in wrong.content.decode() and not _signed_in(web)
    otp_clock.shift(timedelta(seconds=2))  # the device takes codes again after a wrong one

    done = web.post(reverse("two_factor"), {"action": "confirm", "code": _code(device)})

    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == RECOVERY_CODE_COUNT
    assert all(code in done.content.decode() for code in codes)
    assert 'href="/work/"' in done.content.decode()
    assert _signed_in(web) and _verified(web)
    device.refresh_from_db()
    assert device.confirmed
    assert web.get("/work/").status_code == 200
    # Shown once: the page now manages the device and lists no code.
    manage = web.get(reverse("two_factor")).content.decode()
    assert "10 unused recovery codes" in manage and codes[0] not in manage


@pytest.mark.usefixtures("required")
def test_reloading_the_set_up_page_keeps_the_same_secret(web, consultant):
    _password(web, "consulente")

    first = web.get(reverse("two_factor")).context["secret"]
    second = web.get(reverse("two_factor")).context["secret"]

    assert first == second
    assert TOTPDevice.objects.filter(user=consultant).count() == 1


@pytest.mark.usefixtures("required")
def test_someone_with_an_app_set_up_cannot_set_up_another_half_way(web, consultant, otp_clock):
    _authenticator(consultant)
    _password(web, "consulente")

    assert web.get(reverse("two_factor"))["Location"] == reverse("login_otp")
    assert TOTPDevice.objects.filter(user=consultant).count() == 1


# --- The Two-factor page of a signed-in staff member ----------------------------------------------


def _sign_in_fully(web: Client, user, device: TOTPDevice) -> None:
    _password(web, user.username)
    assert web.post(reverse("login_otp"), {"code": _code(device)}).status_code == 302


@pytest.mark.usefixtures("required")
def test_new_recovery_codes_need_a_current_code_and_replace_the_old(web, consultant, otp_clock):
    device = _authenticator(consultant)
    old = recovery_codes_issue(user=consultant)
    _sign_in_fully(web, consultant, device)

    refused = web.post(reverse("two_factor"), {"action": "recovery_codes", "code": "000000"})
    assert WRONG_CODE_EN in refused.content.decode()
    otp_clock.shift(timedelta(seconds=30))
    response = web.post(reverse("two_factor"), {"action": "recovery_codes", "code": _code(device)})

    new = response.context["codes"]
    assert len(new) == RECOVERY_CODE_COUNT and not set(new) & set(old)
    assert set(
        StaticToken.objects.filter(device__user=consultant).values_list("token", flat=True)
    ) == set(new)


@pytest.mark.usefixtures("required")
def test_a_new_phone_replaces_the_app_after_a_current_code(web, consultant, otp_clock):
    old_device = _authenticator(consultant)
    _sign_in_fully(web, consultant, old_device)
    otp_clock.shift(timedelta(seconds=30))

    asked = web.post(reverse("two_factor"), {"action": "replace", "code": _code(old_device)})
    assert asked["Location"] == reverse("two_factor")
    page = web.get(reverse("two_factor"))
    assert "Set up a new authenticator app" in page.content.decode()
    new_device = TOTPDevice.objects.get(user=consultant, confirmed=False)
    # Until it is confirmed, the old app still signs in.
    assert TOTPDevice.objects.filter(pk=old_device.pk, confirmed=True).exists()

    web.post(reverse("two_factor"), {"action": "confirm", "code": _code(new_device)})

    assert list(TOTPDevice.objects.filter(user=consultant)) == [new_device]
    assert web.get("/work/").status_code == 200  # the session carries on, with the new app
    web.post(reverse("logout"))
    otp_clock.shift(timedelta(seconds=30))
    _password(web, "consulente")
    assert web.post(reverse("login_otp"), {"code": _code(new_device)}).status_code == 302


def test_a_stolen_session_cannot_replace_the_app_without_a_code(client, consultant):
    """Even with the second factor off, the page gives no new secret to a session alone."""
    _authenticator(consultant)
    client.force_login(consultant)

    response = client.post(reverse("two_factor"), {"action": "replace", "code": "000000"})

    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=consultant).count() == 1
    assert "<svg" not in response.content.decode()


def test_members_have_no_two_factor_page(client, member):
    client.force_login(member)

    assert client.get(reverse("two_factor")).status_code == 404


# --- Sessions without their second factor ---------------------------------------------------------


@pytest.mark.usefixtures("required")
@pytest.mark.parametrize("path", ["/work/", "/admin/", "/admin/casework/case/", "/preferences/"])
def test_a_session_half_way_reaches_no_page(web, consultant, otp_clock, path):
    _authenticator(consultant)
    _password(web, "consulente")

    response = web.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(("/login/", "/admin/login/"))
    assert not _signed_in(web)


@pytest.mark.usefixtures("required")
def test_a_session_half_way_reaches_no_api(web, consultant, otp_clock):
    _authenticator(consultant)
    _password(web, "consulente")

    response = web.get("/api/v1/cases/")

    assert response.status_code in (401, 403)
    assert not _signed_in(web)


@pytest.mark.usefixtures("required")
@pytest.mark.parametrize("path", ["/work/", "/admin/", "/"])
def test_a_signed_in_staff_session_without_its_code_is_sent_to_the_code_step(
    client, consultant, admin_user, path
):
    """Sessions opened otherwise (before the setting was on, by the admin's own form)."""
    _authenticator(consultant)
    client.force_login(consultant)

    response = client.get(path)

    assert response.status_code == 302 and response["Location"] == reverse("login_otp")
    assert not _signed_in(client)


@pytest.mark.usefixtures("required")
def test_a_signed_in_staff_session_without_its_code_gets_no_api_answer(client, consultant):
    client.force_login(consultant)

    response = client.get("/api/v1/cases/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403
    assert response.json()["code"] == "otp_required"


@pytest.mark.usefixtures("required")
def test_a_staff_member_without_an_app_is_sent_to_set_it_up(client, supervisor):
    client.force_login(supervisor)

    assert client.get("/work/")["Location"] == reverse("two_factor")


# --- The admin ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("required")
def test_the_admin_signs_in_through_the_login_page_and_its_code(web, admin_user, otp_clock):
    admin_user.set_password(PASSWORD)
    admin_user.save()
    device = _authenticator(admin_user)

    to_login = web.get("/admin/", follow=True).redirect_chain
    # The admin's own login form hands over to the site's (password, then the code).
    assert to_login[-1][0].startswith(reverse("login"))
    posted = web.post(reverse("admin:login"), {"username": "amministratore", "password": PASSWORD})
    assert posted.status_code == 302 and posted["Location"].startswith(reverse("login"))
    assert not _signed_in(web)

    _password(web, "amministratore", next_url="/admin/")
    response = web.post(reverse("login_otp"), {"code": _code(device)})

    assert response["Location"] == "/admin/"
    assert web.get("/admin/").status_code == 200


def test_with_the_second_factor_off_the_admin_keeps_its_own_login(web, admin_user):
    admin_user.set_password(PASSWORD)
    admin_user.save()
    _authenticator(admin_user)

    response = web.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": "amministratore", "password": PASSWORD, "next": "/admin/"},
    )

    assert response["Location"] == "/admin/"
    assert web.get("/admin/").status_code == 200


# --- Who is asked ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("required")
def test_members_sign_in_with_their_password_alone(web, member):
    response = _password(web, "socio")

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert _signed_in(web)
    assert web.get(reverse("home")).status_code in (200, 302)
    assert web.get("/api/v1/me/").status_code == 200


@pytest.mark.usefixtures("required")
@pytest.mark.parametrize("who", ["consultant", "supervisor", "area_supervisor", "admin_user"])
def test_every_kind_of_staff_is_asked(request, web, who):
    user = request.getfixturevalue(who)
    user.set_password(PASSWORD)
    user.save()

    response = _password(web, user.username)

    assert response["Location"] == reverse("two_factor")
    assert not _signed_in(web)


def test_with_the_second_factor_off_staff_sign_in_as_before(web, consultant):
    _authenticator(consultant)

    response = _password(web, "consulente", next_url="/work/")

    assert response["Location"] == "/work/"
    assert _signed_in(web) and not _verified(web)
    assert web.get("/work/").status_code == 200


# --- The setting ----------------------------------------------------------------------------------

PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.STAFF_2FA_REQUIRED))"
)


def _setting_in(tmp_path, **env) -> bool:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SPORTELLO_TESTING", "STAFF_2FA_REQUIRED", "TEST_DATABASE_NAME")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="casework.config.settings",
        SPORTELLO_ENV_FILE=str(tmp_path / "no-such.env"),
        SPORTELLO_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY="a-production-secret-key-of-some-length-0123456789abcdef",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import json; {PROBE}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),
        ({"STAFF_2FA_REQUIRED": "0"}, False),
        ({"DEBUG": "1"}, False),
        ({"DEBUG": "1", "STAFF_2FA_REQUIRED": "1"}, True),
    ],
)
def test_on_in_production_and_off_in_development(tmp_path, env, expected):
    assert _setting_in(tmp_path, **env) is expected
