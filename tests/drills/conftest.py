"""Fixtures of the drills: a seeded template database per run, one clone of it per drill.

The template is migrated and seeded once (`manage.py migrate`, `manage.py seed_demo --cases 20`,
in subprocesses with production settings); each drill gets `CREATE DATABASE ... TEMPLATE` of it,
its own var folder and broker queue, and a process list that is stopped, like the database
dropped, when the drill ends, pass or fail.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import harness
from .harness import Processes, Report, say


@dataclass
class Drill:
    """One drill's world: its database, folder, queue and the processes it started."""

    db: str
    var_dir: Path
    queue: str
    procs: Processes

    def env(self, **extra: str) -> dict[str, str]:
        return harness.django_env(
            self.db,
            self.var_dir,
            CELERY_BROKER_URL=harness.BROKER_URL,
            DRILL_QUEUE=self.queue,
            **extra,
        )


@pytest.fixture(scope="session")
def drill_template() -> Iterator[str]:
    dropped = harness.drop_stale_databases()
    if dropped:
        say(f"dropped databases left by earlier, killed drill runs: {', '.join(dropped)}")
    name = harness.drill_database_name("template")
    var_dir = Path(tempfile.mkdtemp(prefix="sportello-drill-template-"))
    try:
        harness.create_database(name)
        # The embedded broker in the throw-away folder: seeding must not publish to RabbitMQ.
        env = harness.django_env(name, var_dir)
        say(f"drill template {name}: migrate, seed_demo --cases 20 ...")
        harness.manage(env, "migrate", "--noinput", "-v0")
        harness.manage(env, "seed_demo", "--cases", "20")
        yield name
    finally:
        harness.drop_database(name)
        shutil.rmtree(var_dir, ignore_errors=True)


@contextmanager
def drill_world(template: str, label: str) -> Iterator[Drill]:
    name = harness.drill_database_name(label)
    var_dir = Path(tempfile.mkdtemp(prefix=f"sportello-drill-{label}-"))
    (var_dir / "static").mkdir()
    (var_dir / "mail").mkdir()
    (var_dir / "logs").mkdir()
    drill = Drill(name, var_dir, harness.new_queue(), Processes(var_dir / "logs"))
    try:
        harness.create_database(name, template=template)
        yield drill
    finally:
        drill.procs.stop_all()
        harness.delete_queue(drill.queue)
        harness.drop_database(name)
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture
def drill(drill_template, request) -> Iterator[Drill]:
    with drill_world(drill_template, request.node.name.removeprefix("test_")[:24]) as world:
        yield world


@contextmanager
def orm_on(db: str, django_db_blocker) -> Iterator[None]:
    """Point this process's Django ORM (every thread's connection) at a drill database."""
    from django.db import connections

    conf = connections.settings["default"]
    if "postgresql" not in conf["ENGINE"]:
        pytest.skip("the drills need DATABASE_URL on PostgreSQL: run them with `make drills`")
    saved = conf["NAME"]
    connections.close_all()
    conf["NAME"] = db
    try:
        with django_db_blocker.unblock():
            yield
    finally:
        connections.close_all()
        conf["NAME"] = saved


@pytest.fixture
def orm(drill, django_db_blocker) -> Iterator[None]:
    with orm_on(drill.db, django_db_blocker):
        yield


@pytest.fixture
def report(request) -> Iterator[Report]:
    doc = (request.function.__doc__ or request.node.name).strip().splitlines()[0]
    drill_report = Report(doc)
    yield drill_report
    drill_report.print_table()


def pytest_terminal_summary(terminalreporter):
    if not harness.REPORTS:
        return
    terminalreporter.section("drills: what was tried and what held")
    for drill_report in harness.REPORTS:
        terminalreporter.write_line(drill_report.table())


DRILL_ORDER = ["concurrency", "idempotency", "faults", "load", "scale_out", "backups"]


def pytest_collection_modifyitems(items):
    """Run the drills in the issue's order (the report reads as the issue does)."""

    def rank(item) -> int:
        module = item.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
        return DRILL_ORDER.index(module) if module in DRILL_ORDER else len(DRILL_ORDER)

    drills = [item for item in items if "tests/drills/" in str(item.fspath)]
    if drills:
        others = [item for item in items if item not in drills]
        items[:] = others + sorted(drills, key=rank)
