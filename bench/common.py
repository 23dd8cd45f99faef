"""What the loader and the scenarios share: the bench database, its marker, set-up, output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sportello_bench"
BENCH_MEDIA_ROOT = Path(tempfile.gettempdir()) / "sportello-bench-uploads"
MARKER_PREFIX = "sportello-bench "
# Bumped whenever the loader writes different data: an older load is then redone.
LOADER_VERSION = 9

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def bench_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    """The same server's `postgres` database, to create or drop the bench database from."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def libpq_url(url: str) -> str:
    """psycopg wants postgresql:// or postgres://; django-environ also accepts other spellings."""
    for prefix in ("postgresql+psycopg://", "pgsql://", "psql://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def django_env(url: str, **extra: str) -> dict[str, str]:
    """Environment for Django on the bench database, with production-like settings.

    DEBUG is off (no query log, no debug toolbar costs); TLS would end at the proxy, so the
    HTTPS redirect that production settings switch on is off here.
    """
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": "bench",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            # Tasks are enqueued (their cost is paid) on an in-process broker: nothing is
            # delivered during a run and nothing is left behind for a worker to send later.
            "CELERY_BROKER_URL": "memory://",
            "DJANGO_SETTINGS_MODULE": "casework.config.settings",
            # Documents and mail originals the write scenarios store (and remove again) stay
            # out of the checkout.
            "MEDIA_ROOT": os.environ.get("BENCH_MEDIA_ROOT", str(BENCH_MEDIA_ROOT)),
        }
    )
    env.update(extra)
    return env


def manage(url: str, *args: str, **env: str) -> None:
    """Run `manage.py <args>` on the bench database, echoing its output (`env`: variables
    changed for this command only)."""
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    say(f"$ manage.py {' '.join(args)}")
    subprocess.run(command, cwd=ROOT, env=django_env(url, **env), check=True)


def setup_django(url: str) -> None:
    """Configure this process's Django on the bench database (once)."""
    import django
    from django.apps import apps

    if apps.ready:
        return
    for key, value in django_env(url).items():
        if key not in os.environ or os.environ[key] != value:
            os.environ[key] = value
    django.setup()


def connect(url: str, **kwargs):
    import psycopg

    return psycopg.connect(libpq_url(url), **kwargs)


def read_marker(conn) -> dict | None:
    """What the loader wrote on the database when it finished (None: not loaded, or half-way)."""
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname = current_database()"
    ).fetchone()
    text = row[0] if row else None
    if not text or not text.startswith(MARKER_PREFIX):
        return None
    try:
        return json.loads(text[len(MARKER_PREFIX) :])
    except ValueError:
        return None


def write_marker(conn, marker: dict) -> None:
    from psycopg import sql

    name = conn.execute("SELECT current_database()").fetchone()[0]
    conn.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(name), sql.Literal(MARKER_PREFIX + json.dumps(marker))
        )
    )


_started = time.monotonic()


def say(line: str) -> None:
    """A progress line, with the seconds since the command started."""
    print(f"[{time.monotonic() - _started:7.1f}s] {line}", flush=True)
