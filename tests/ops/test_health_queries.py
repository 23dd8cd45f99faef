"""GET /health/ runs three statements, on the checks' own connections, however large the outbox
(issue 21): `SELECT 1`, the sweep's heartbeat and the oldest pending e-mail; the request's own
connection runs none.

The checks run in threads with connections of their own, which no CaptureQueriesContext of this
thread sees: every cursor's `execute` is watched instead, in every thread. The rows are
committed (transaction=True) so that those connections see them.
"""

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext

from casework.models import Notification
from workflows.tasks import sla_sweep

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@contextmanager
def _every_thread():
    seen: list[str] = []
    original = CursorWrapper.execute

    def execute(self, sql, params=None):
        seen.append(sql)
        return original(self, sql, params)

    with mock.patch.object(CursorWrapper, "execute", execute):
        yield seen


def _pending(n: int) -> None:
    Notification.objects.bulk_create(
        Notification(
            email="socio@example.org",
            kind="test",
            dedupe_key=uuid.uuid4().hex,
            created_at=NOW - timedelta(minutes=1),
        )
        for _ in range(n)
    )


def _probe(client) -> tuple[int, list[str]]:
    with (
        time_machine.travel(NOW + timedelta(minutes=1), tick=False),
        CaptureQueriesContext(connection) as own,
        _every_thread() as seen,
    ):
        response = client.get("/health/")
    assert response.status_code == 200, response.json()
    return len(own), list(seen)


def test_the_probe_runs_three_statements_however_many_emails_wait(client):
    with time_machine.travel(NOW, tick=False):
        sla_sweep()
    _pending(1)
    own_few, few = _probe(client)
    _pending(29)
    own_many, many = _probe(client)

    assert own_few == own_many == 0
    assert len(few) == len(many) == 3, many
    assert "SELECT 1" in few
