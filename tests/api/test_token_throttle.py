"""The API token endpoint's throttle: failed sign-ins, per real client address and per username,
counted in the cache every process shares."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "/api/v1/auth/token/"
PASSWORD = "sportello-test"
LIMIT = 10  # LOGIN_THROTTLE_RATE's default, 10/min


def _sign_in(client, username, password="wrong", **headers):
    return client.post(TOKEN, {"username": username, "password": password}, **headers)


def _client(address="192.0.2.10"):
    return APIClient(REMOTE_ADDR=address)


# --- Only failures count -----------------------------------------------------------------------


def test_thirty_sign_ins_from_one_office_address_all_succeed(office, cooperative):
    """A whole office behind one address: right passwords never spend the budget."""
    users = [
        factories.MembershipFactory(cooperative=cooperative, user__username=f"socio{n}").user
        for n in range(3)
    ]
    office_address = _client("203.0.113.5")

    codes = [_sign_in(office_address, user.username, PASSWORD).status_code for user in users * 10]

    assert codes == [200] * 30


def test_thirty_sign_ins_of_one_user_all_succeed(member):
    client = _client()

    assert [_sign_in(client, "socio", PASSWORD).status_code for _ in range(30)] == [200] * 30


def test_failures_for_one_username_are_throttled_from_any_address(member):
    for n in range(LIMIT):
        assert _sign_in(_client(f"10.0.0.{n}"), "socio").status_code == 400

    response = _sign_in(_client("10.0.1.1"), "SOCIO", PASSWORD)

    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_failures_from_one_address_are_throttled_for_any_username(member):
    attacker = _client("192.0.2.66")
    for n in range(LIMIT):
        assert _sign_in(attacker, f"guess{n}").status_code == 400

    assert _sign_in(attacker, "socio", PASSWORD).status_code == 429
    # Someone else, elsewhere, is not affected.
    assert _sign_in(_client("198.51.100.7"), "socio", PASSWORD).status_code == 200


def test_a_right_password_neither_spends_nor_forgives_failures(member):
    client = _client()
    for _ in range(LIMIT - 1):
        _sign_in(client, "socio")
    assert _sign_in(client, "socio", PASSWORD).status_code == 200

    assert _sign_in(client, "socio").status_code == 400
    assert _sign_in(client, "socio", PASSWORD).status_code == 429


def test_the_throttle_ends_with_its_window(member):
    client = _client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(LIMIT):
            _sign_in(client, "socio")
        traveller.shift(timedelta(seconds=50))
        assert _sign_in(client, "socio", PASSWORD).status_code == 429

        traveller.shift(timedelta(seconds=11))
        assert _sign_in(client, "socio", PASSWORD).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_simultaneous_guesses_gets_no_more_than_the_budget(member):
    """Each attempt spends before its password is checked, so no burst outruns the count."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    barrier = threading.Barrier(3 * LIMIT)
    codes = []

    def guess(n):
        try:
            client = _client(f"10.1.0.{n}")
            barrier.wait()
            codes.append(_sign_in(client, "socio").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(3 * LIMIT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes) == [400] * LIMIT + [429] * (2 * LIMIT)


# --- The real client address ---------------------------------------------------------------------


def test_a_spoofed_forwarded_for_does_not_reset_the_count(member):
    """With no proxy of ours in front, X-Forwarded-For is whatever the client wants it to be."""
    attacker = _client("192.0.2.66")
    for n in range(LIMIT):
        spoofed = f"198.51.100.{n}"
        assert _sign_in(attacker, f"guess{n}", HTTP_X_FORWARDED_FOR=spoofed).status_code == 400

    response = _sign_in(attacker, "socio", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert response.status_code == 429


def test_behind_our_proxy_the_address_it_saw_counts(settings, member):
    """The proxy appends the address it saw: entries the client wrote to its left are ignored."""
    settings.SPORTELLO_TRUSTED_PROXIES = 1
    proxy = _client("10.0.0.1")
    for n in range(LIMIT):
        forwarded = f"198.51.100.{n}, 192.0.2.66"
        assert _sign_in(proxy, f"guess{n}", HTTP_X_FORWARDED_FOR=forwarded).status_code == 400

    spoofing = _sign_in(proxy, "socio", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.1, 192.0.2.66")
    colleague = _sign_in(proxy, "socio", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert spoofing.status_code == 429
    assert colleague.status_code == 200


# --- One count for every process -----------------------------------------------------------------

# A process of its own, as a second gunicorn worker is: `attempts` failed sign-ins, their codes.
WORKER = """
import json, sys
import django
django.setup()
from django.test import Client
address, username, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = Client(REMOTE_ADDR=address)
codes = [
    client.post("/api/v1/auth/token/", {"username": username, "password": "x"}).status_code
    for _ in range(attempts)
]
print(json.dumps(codes))
"""


def _environment(tmp_path, **variables) -> dict:
    """The embedded default's settings (DEBUG on, no CACHE_URL), on this test's database."""
    db = connection.settings_dict
    credentials = f"{db['USER']}:{db['PASSWORD']}" if db["PASSWORD"] else db["USER"]
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CACHE_URL", "SPORTELLO_TESTING")
    }
    environment.update(
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="casework.config.settings",
        SPORTELLO_ENV_FILE=str(tmp_path / "no-such.env"),
        SPORTELLO_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        **variables,
    )
    return environment


def _worker(environment, address, username, attempts) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", WORKER, address, username, str(attempts)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _redis_is_up(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.parametrize("cache_url", [None, "redis://127.0.0.1:6379/15"], ids=["files", "redis"])
def test_two_worker_processes_share_one_count(tmp_path, cache_url):
    if connection.vendor != "postgresql":
        pytest.skip("the worker processes need this test's database server")
    if cache_url and not _redis_is_up(cache_url):
        pytest.skip(f"no Redis at {cache_url}")
    environment = _environment(tmp_path, **({"CACHE_URL": cache_url} if cache_url else {}))
    # Names of this run only: a shared Redis may hold other runs' counters.
    address, username = f"192.0.2.{uuid.uuid4().int % 250 + 1}", f"nobody-{uuid.uuid4().hex}"

    first = _worker(environment, address, username, 6)
    second = _worker(environment, address, username, 5)

    assert first == [400] * 6
    assert second == [400] * 4 + [429]


def test_the_embedded_default_caches_in_files_under_the_var_dir(tmp_path):
    probe = "import json; from django.conf import settings; print(json.dumps(settings.CACHES))"
    environment = _environment(tmp_path)

    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    cache = json.loads(result.stdout.strip().splitlines()[-1])["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert cache["LOCATION"] == str(tmp_path / "var" / "cache")
