"""Production settings: `check --deploy` is clean, required variables, plain error pages, HSTS."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_DATABASE = "postgres://postgres@127.0.0.1:5432/postgres"

PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

response = Client().get(
    "/no-such-page/", HTTP_HOST="sportello.example.org", HTTP_ACCEPT_LANGUAGE="en", secure=True
)
plain = Client().get("/no-such-page/", HTTP_HOST="sportello.example.org")
print(json.dumps({
    "debug": settings.DEBUG,
    "hashers": settings.PASSWORD_HASHERS,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "status": response.status_code,
    "body": response.content.decode(),
    "hsts": response.headers.get("Strict-Transport-Security", ""),
    "csp": response.headers.get("Content-Security-Policy", ""),
    "http_status": plain.status_code,
    "http_location": plain.headers.get("Location", ""),
}))
"""


def _production_env(tmp_path, **overrides) -> dict:
    """The environment of a production server: DEBUG unset, no local .env file read."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in (
            "DEBUG",
            "SECRET_KEY",
            "DATABASE_URL",
            "ALLOWED_HOSTS",
            "TEST_DATABASE_NAME",
            "SPORTELLO_TESTING",
        )
    }
    env.update(
        DJANGO_SETTINGS_MODULE="casework.config.settings",
        SPORTELLO_ENV_FILE=str(tmp_path / "no-such.env"),
        SPORTELLO_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY=secrets.token_urlsafe(60)[:60],
        DATABASE_URL=PRODUCTION_DATABASE,
        ALLOWED_HOSTS="sportello.example.org",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _run(tmp_path, *args, **overrides) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=_production_env(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _run(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "DEBUG")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without(tmp_path, missing):
    result = _run(tmp_path, "manage.py", "check", **{missing: None})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set" in result.stderr


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("production")
    result = _run(tmp_path, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_debug_pages_in_production(production):
    assert production["debug"] is False
    assert production["status"] == 404
    assert "Page not found" in production["body"]
    # The debug 404 lists the URL patterns; the plain one says nothing about the site.
    for leak in ("URLconf", "urlpatterns", "Traceback", "DEBUG = True", "admin/"):
        assert leak not in production["body"]


def test_secure_cookies_hsts_and_https_only(production):
    assert production["session_cookie_secure"] and production["csrf_cookie_secure"]
    assert production["session_cookie_httponly"]
    assert "max-age=31536000" in production["hsts"]
    assert "includeSubDomains" in production["hsts"]
    # Plain HTTP is sent to HTTPS before anything else happens.
    assert production["http_status"] == 301
    assert production["http_location"].startswith("https://sportello.example.org/")


def test_every_production_response_carries_the_content_security_policy(production):
    assert "default-src 'self'" in production["csp"]
    assert "unsafe-inline" not in production["csp"]


def test_production_hashes_passwords_with_argon2(production):
    assert production["hashers"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert not any("MD5" in hasher for hasher in production["hashers"])
