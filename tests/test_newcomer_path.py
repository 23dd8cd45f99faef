"""The newcomer's path: after `make run`'s setup steps, the README's "Useful commands" just work.

A copy of the working tree (what `git ls-files` tracks plus untracked files that are not ignored:
the current code, uncommitted work included, as a fresh clone of it would be, with no `.env`, no
`var/` and no compiled catalogues) gets the setup steps of `make run` that the commands need
(`make env`, then `migrate` on the embedded SQLite default and `seed_demo`) and then every
`manage.py` line of the README's "Useful commands", read from README.md, in a newcomer's shell: no
DEBUG, SECRET_KEY or DATABASE_URL in the environment. The virtualenv is this one's, linked into
the copy, not a new one.
"""

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent.parent
CHRISTMAS_EVE = ["--between", "2026-12-24T08:00", "2026-12-24T09:00"]

SETTINGS_PROBE = """
import json, os
import django
django.setup()
from django.conf import settings
print(json.dumps({
    "debug": settings.DEBUG,
    "database": str(settings.DATABASES["default"]["NAME"]),
    "cache": settings.CACHES["default"]["BACKEND"],
    "environ_debug": os.environ.get("DEBUG"),
}))
"""


def useful_commands(readme: str) -> list[tuple[str, str]]:
    """(command, the rest of its bullet) for each `manage.py` bullet of "Useful commands"."""
    section = readme.split("\n## Useful commands\n", 1)[1].split("\n## ", 1)[0]
    bullets = re.split(r"\n(?=- )", section)
    found = []
    for bullet in bullets:
        command = re.match(r"- `([^`]+)`", bullet)
        if command and re.match(r"(\.venv/bin/)?python manage\.py ", command.group(1)):
            found.append((command.group(1), " ".join(bullet[command.end() :].split())))
    return found


def copy_working_tree(destination: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.is_file():  # deleted in the working tree, not yet committed
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    (destination / ".venv").symlink_to(VENV, target_is_directory=True)


def newcomer_env(**extra: str) -> dict[str, str]:
    """A fresh shell's environment: nothing of this test run's settings, no DEBUG."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def run(checkout: Path, command: str | list[str], **extra: str) -> subprocess.CompletedProcess:
    args = shlex.split(command) if isinstance(command, str) else command
    if args[0] == "python":  # the README's form for a shell with the virtualenv activated
        args[0] = str(checkout / ".venv" / "bin" / "python")
    return subprocess.run(
        args,
        cwd=checkout,
        env=newcomer_env(**extra),
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, returncode: int, says: str):
    assert result.returncode == returncode, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr
    assert result.stderr.startswith("CommandError: "), result.stderr
    assert says in result.stderr, result.stderr


def test_the_readme_commands_work_after_the_setup_of_make_run(tmp_path):
    checkout = tmp_path / "sportello"
    copy_working_tree(checkout)
    manage = [".venv/bin/python", "manage.py"]
    assert not (checkout / ".env").exists()

    # Given a fresh checkout, without the development .env, settings are production's: they refuse.
    refused = run(checkout, [*manage, "check"])
    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stderr, refused.stderr

    # When `make run`'s first step writes the .env: DEBUG on, a generated key, for this user only.
    made = run(checkout, ["make", "env", f"PYTHON={sys.executable}"])
    assert made.returncode == 0, made.stdout + made.stderr
    written = (checkout / ".env").read_text()
    assert re.search(r"^DEBUG=1$", written, re.M), written
    key = re.search(r"^SECRET_KEY=(\S+)$", written, re.M)
    assert key and len(key.group(1)) >= 50, written
    assert stat.S_IMODE((checkout / ".env").stat().st_mode) == 0o600
    # ... once: a second run, or an edited file, is left alone.
    again = run(checkout, ["make", "env", f"PYTHON={sys.executable}"])
    assert again.returncode == 0, again.stdout + again.stderr
    assert (checkout / ".env").read_text() == written
    edited = written + "LOG_LEVEL=WARNING\n"
    (checkout / ".env").write_text(edited)
    run(checkout, ["make", "env", f"PYTHON={sys.executable}"])
    assert (checkout / ".env").read_text() == edited
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0, ".env must be git-ignored"

    # Before migrate, a command says what to do instead of a traceback.
    early = run(checkout, [*manage, "sla_due", "--office", "BO", *CHRISTMAS_EVE])
    assert_one_line_error(early, 1, "run `manage.py migrate`")

    # The rest of `make run`'s setup that the commands need: migrate (the embedded SQLite
    # default) and seed_demo, here without demo cases (the README's seed_demo line adds some).
    for step in (["migrate", "--noinput", "-v0"], ["seed_demo", "--cases", "0", "-v0"]):
        done = run(checkout, [*manage, *step])
        assert done.returncode == 0, done.stdout + done.stderr
    assert (checkout / "var" / "sportello.sqlite3").is_file()

    # Then every manage.py line of the README works as written.
    commands = useful_commands((checkout / "README.md").read_text())
    names = [shlex.split(command)[2] for command, _ in commands]
    assert "seed_demo" in names and "sla_due" in names, commands
    for command, text in commands:
        name, arguments = shlex.split(command)[2], shlex.split(command)[3:]
        result = run(checkout, command)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"{command}\n{result.stderr}"
        last = result.stdout.strip().splitlines()[-1]
        promised = re.search(r"the last line is .*?here `([^`]+)`", text)
        if promised:
            assert last == promised.group(1), f"{command}: {last!r}, README: {promised.group(1)}"
        if name == "sla_due" and "--minutes" in arguments:
            assert datetime.fromisoformat(last).tzinfo is not None, last
        elif name == "sla_due":
            assert last.isdigit(), last
        elif name == "seed_demo" and "--cases" in arguments:
            # The summary ("N created, M already there"): this checkout had no demo cases yet.
            assert int(re.search(r"\d+", last).group()) > 0, last

    # A bad argument: one line on stderr, exit status 2 (the others: test_command_arguments.py).
    year_9999 = ["--start", "9999-12-31T17:00", "--minutes", "480"]
    far = run(checkout, [*manage, "sla_due", "--office", "BO", *year_9999])
    assert_one_line_error(far, 2, "year 9999 is outside the supported calendar range")

    # The environment wins over the file: DEBUG=0 is production again, which wants its database.
    production = run(checkout, [*manage, "check"], DEBUG="0")
    assert production.returncode != 0
    assert "DATABASE_URL must be set" in production.stderr, production.stderr


def test_the_test_suite_reads_no_env_file(tmp_path):
    """A developer's .env (DEBUG=1, another database) changes neither the tests' settings nor
    the environment they pass on; outside the suite the same file counts."""
    env_file = tmp_path / "developer.env"
    env_file.write_text(
        f"DEBUG=1\nDATABASE_URL=sqlite:///{tmp_path / 'elsewhere.sqlite3'}\n"
        "CACHE_URL=dummycache://\n"
    )

    def probe(**extra):
        result = subprocess.run(
            [sys.executable, "-c", SETTINGS_PROBE],
            cwd=ROOT,
            env=newcomer_env(
                DJANGO_SETTINGS_MODULE="casework.config.settings",
                SPORTELLO_ENV_FILE=str(env_file),
                SPORTELLO_VAR_DIR=str(tmp_path / "var"),
                **extra,
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    testing = probe(SPORTELLO_TESTING="1")
    assert testing == {
        "debug": False,
        "database": str(tmp_path / "var" / "sportello.sqlite3"),
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "environ_debug": None,
    }

    developing = probe()
    assert developing["debug"] is True
    assert developing["database"] == str(tmp_path / "elsewhere.sqlite3")
    assert developing["environ_debug"] == "1"
