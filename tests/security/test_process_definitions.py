"""The production process definitions in the repository: Procfile and systemd units."""

import configparser
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"


def _procfile() -> dict[str, str]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            assert name not in processes, f"{name} defined twice"
            processes[name.strip()] = command.strip()
    return processes


def _unit(name: str) -> configparser.ConfigParser:
    # systemd repeats keys and continues lines with a backslash; neither matters here.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string((UNITS / name).read_text().replace("\\\n", " "))
    return parser


def test_the_procfile_runs_web_workers_and_one_beat():
    processes = _procfile()

    assert set(processes) == {"web", "worker", "mail", "beat"}
    web = shlex.split(processes["web"])
    assert web[:2] == ["gunicorn", "casework.config.wsgi:application"]
    assert "${WEB_CONCURRENCY:-3}" in processes["web"]
    worker = shlex.split(processes["worker"])
    assert worker[:4] == ["celery", "-A", "casework", "worker"]
    assert "--prefetch-multiplier" in worker
    # E-mail has its own queue and worker, so a slow mail server never delays the SLA sweep.
    assert worker[4:6] == ["-Q", "celery"]
    mail = shlex.split(processes["mail"])
    assert mail[:6] == ["celery", "-A", "casework", "worker", "-Q", "mail"]
    beat = shlex.split(processes["beat"])
    assert beat[:4] == ["celery", "-A", "casework", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat


def test_workers_acknowledge_late():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"


@pytest.mark.parametrize(
    ("name", "program"),
    [
        ("sportello-web.service", "gunicorn casework.config.wsgi:application"),
        ("sportello-worker@.service", "celery -A casework worker -Q celery"),
        ("sportello-mail-worker.service", "celery -A casework worker -Q mail"),
        ("sportello-beat.service", "celery -A casework beat"),
    ],
)
def test_each_unit_reads_the_environment_file_and_runs_its_program(name, program):
    unit = _unit(name)

    assert unit["Service"]["EnvironmentFile"] == "/etc/sportello/env"
    assert program in unit["Service"]["ExecStart"]
    assert unit["Service"]["User"] == "sportello"
    assert unit["Service"]["Restart"] == "on-failure"


def test_workers_are_a_template_and_beat_is_a_single_unit():
    assert (UNITS / "sportello-worker@.service").exists()
    assert "%i" in _unit("sportello-worker@.service")["Service"]["ExecStart"]
    assert not list(UNITS.glob("sportello-beat@*"))
    assert "DatabaseScheduler" in _unit("sportello-beat.service")["Service"]["ExecStart"]
    # The target starts web and a worker, not beat: beat is enabled on one host on purpose.
    wants = _unit("sportello.target")["Unit"]["Wants"]
    assert "sportello-web.service" in wants and "beat" not in wants


def test_the_deployment_and_backup_procedure_is_documented():
    text = (ROOT / "deploy" / "README.md").read_text()

    for must in (
        "gunicorn",
        "collectstatic",
        "check --deploy",
        "migrate",
        "RabbitMQ",
        "Redis",
        "exactly one",
        "pg_dump --format=custom",
        "pg_restore",
        "tar --create",
        "tar --extract",
    ):
        assert must in text, must


def test_gunicorn_loads_the_application(tmp_path):
    env = {**os.environ, "DEBUG": "1", "SPORTELLO_VAR_DIR": str(tmp_path)}
    env.pop("SPORTELLO_TESTING", None)
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "casework.config.wsgi:application"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
