"""The outbox's sending side: each pending row is locked while sent (no two workers send it)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from . import presenters
from .mail import render
from .models import Notification


def deliver_pending(*, limit: int = 200) -> dict[str, int]:
    """Send the outbox; each row is locked while sent, so two workers never send it twice."""
    sent = failed = 0
    tried: list[int] = []
    while sent + failed < limit:
        with transaction.atomic():
            # A row that failed in this run waits for the next run (a minute later) to retry.
            row = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=Notification.Status.PENDING)
                .exclude(pk__in=tried)
                .select_related("case__cooperative", "case__assignee", "recipient")
                .order_by("created_at", "id")
                .first()
            )
            if row is None:
                break
            if not row.body and row.case is not None:
                row.subject, row.body = _text_of(row)
                row.save(update_fields=["subject", "body"])
            try:
                send_mail(row.subject, row.body, None, [row.email])
            except Exception as error:  # noqa: BLE001 - any transport failure is retried later
                tried.append(row.pk)
                row.attempts += 1
                row.last_error = str(error)[:2000]
                if row.attempts >= 5:
                    row.status = Notification.Status.FAILED
                row.save(update_fields=["attempts", "last_error", "status"])
                failed += 1
                continue
            row.status = Notification.Status.SENT
            row.sent_at = timezone.now()
            row.attempts += 1
            row.save(update_fields=["status", "sent_at", "attempts"])
            sent += 1
    return {"sent": sent, "failed": failed}


def _text_of(row: Notification) -> tuple[str, str]:
    """The e-mail of an SLA transition, written in the reader's language when it is sent."""
    clock = row.context.get("clock", "resolution")
    return render(
        kind=row.kind,
        case=row.case,
        user=row.recipient,
        context={
            "due_at": getattr(row.case, f"{clock}_due_at"),
            "clock": str(presenters.CLOCK_WORDS.get(clock, clock)),
        },
    )
