"""Intake that a client may retry safely: one `Idempotency-Key` opens at most one case."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from casework.errors import ConflictError
from casework.models import Case, IdempotencyKey


def _earlier(user, key: str, fingerprint: str) -> Case | None:
    row = IdempotencyKey.objects.filter(user=user, key=key).select_related("case").first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise ConflictError(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
        )
    return row.case


def open_once(
    *, user, key: str, fingerprint: str, open_case: Callable[[], Case]
) -> tuple[Case, bool]:
    """The case this key opened before, or a new one; True when it is new.

    The key row is written in the same transaction as the case, after it (the row needs the
    case). Two identical requests at once both open a case, but the unique constraint on
    (user, key) lets only one transaction commit: the other one's insert fails, its whole
    transaction (case, process, events, e-mails) rolls back, and it answers with the winner's case.
    """
    earlier = _earlier(user, key, fingerprint)
    if earlier is not None:
        return earlier, False
    try:
        with transaction.atomic():
            case = open_case()
            IdempotencyKey.objects.create(user=user, key=key, request_hash=fingerprint, case=case)
    except IntegrityError:
        earlier = _earlier(user, key, fingerprint)
        if earlier is None:
            raise
        return earlier, False
    return case, True
