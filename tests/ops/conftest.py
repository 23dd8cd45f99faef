"""What the operations tests share: the log output of the real handler, a settings subprocess."""

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_output():
    """What the site's console handler (settings.LOGGING) writes during the test."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    output = io.StringIO()
    previous = handler.setStream(output)
    yield output
    handler.setStream(previous)


@pytest.fixture
def settings_process(tmp_path):
    """Runs Python code after django.setup() in a new process, with these environment changes."""

    def run(code: str, **changes: str | None) -> subprocess.CompletedProcess:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("SENTRY_DSN", "SENTRY_ENVIRONMENT", "ADMINS", "LOG_FORMAT", "LOG_LEVEL")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="casework.config.settings",
            SPORTELLO_ENV_FILE=str(tmp_path / "no-such.env"),
        )
        for key, value in changes.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        script = f"import django\ndjango.setup()\n{code}"
        return subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run
