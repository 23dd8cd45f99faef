"""Operations writes: the heartbeat a periodic job leaves when it completes (read by /health/)."""

from __future__ import annotations

from django.utils import timezone

from casework.models import Heartbeat


def heartbeat_record(*, job: Heartbeat.Job) -> None:
    """Record that `job` has just completed a run: one upsert statement, no read, no lock."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(job=job, completed_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["job"],
        update_fields=["completed_at"],
    )
