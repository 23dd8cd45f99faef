"""The embedded default of `make run`: SQLite, no broker server, migrate to a logged-in page."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.db import connection
assert connection.vendor == "sqlite", connection.vendor
assert settings.CELERY_BROKER_URL.startswith("filesystem://"), settings.CELERY_BROKER_URL
client = Client()
assert client.get("/login/").status_code == 200
assert client.login(username="socio.alfa", password="sportello-demo")
page = client.get("/", follow=True)
assert page.status_code == 200, page.status_code
text = page.content.decode()
assert "Cooperativa Alfa" in text or "LEG-" in text or "FIS-" in text, text[:500]
from casework.models import Case
from casework.selectors import cases_visible_to
from django.contrib.auth import get_user_model
alfa = get_user_model().objects.get(username="socio.alfa")
visible = cases_visible_to(alfa)
assert visible.exists()
assert not visible.exclude(cooperative__name="Cooperativa Alfa").exists()
print("cases", Case.objects.count(), "visible to socio.alfa", visible.count())
"""


def test_migrate_seed_and_serve_on_sqlite(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("DATABASE_URL", "CELERY_BROKER_URL", "TEST_DATABASE_NAME", "SPORTELLO_TESTING")
    }
    env.update(
        DEBUG="1",
        SPORTELLO_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="casework.config.settings",
    )

    def run(*args):
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )

    migrate = run("manage.py", "migrate", "--noinput", "-v0")
    assert migrate.returncode == 0, migrate.stderr
    # A newcomer's first `make run` says nothing it need not (the covering indexes' INCLUDE,
    # which SQLite ignores, was a warning at each migrate).
    assert "System check identified" not in migrate.stdout + migrate.stderr, migrate.stderr
    seed = run("manage.py", "seed_demo", "--cases", "40")
    assert seed.returncode == 0, seed.stderr
    again = run("manage.py", "seed_demo", "--cases", "40")
    assert again.returncode == 0, again.stderr
    # The summary line (in the default language) starts with how many rows were created.
    assert re.search(r"\D0\D", again.stdout.splitlines()[-1]), again.stdout
    check = run("-c", SCRIPT)
    assert check.returncode == 0, check.stderr
    assert "visible to socio.alfa" in check.stdout
    assert (tmp_path / "sportello.sqlite3").exists()
