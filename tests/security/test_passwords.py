"""Passwords are stored with Argon2 (the tests' MD5 shortcut is not what production runs)."""

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

from tests import factories

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


@pytest.fixture
def production_hashers(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS


def test_new_passwords_are_hashed_with_argon2(production_hashers):
    encoded = make_password("una-password-lunga")

    assert encoded.startswith("argon2$argon2id$")
    assert check_password("una-password-lunga", encoded)
    assert identify_hasher(encoded).algorithm == "argon2"


def test_a_users_password_is_stored_with_argon2(production_hashers):
    user = factories.UserFactory(username="nuovo.socio")
    user.set_password("una-password-lunga")
    user.save()

    user.refresh_from_db()
    assert user.password.startswith("argon2")
    assert "una-password-lunga" not in user.password


def test_an_older_hash_is_upgraded_to_argon2_at_the_next_login(production_hashers, client):
    user = factories.UserFactory(username="socio.storico")
    user.password = make_password("una-password-lunga", hasher="pbkdf2_sha256")
    user.save()

    response = client.post(
        "/login/", {"username": "socio.storico", "password": "una-password-lunga"}
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2")
