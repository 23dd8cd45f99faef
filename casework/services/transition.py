"""The one guarded transition and the small steps every service shares.

Every service expects the case row already locked by its caller (`workflows.process` locks it
once per action) and does not lock it again; it checks the actor and the move with
`casework.policy`, writes the change, its events and its e-mails, and raises a domain error
otherwise.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import policy
from ..errors import CaseError
from ..models import (
    Case,
    CaseRead,
    CaseStatus,
    Consultant,
)
from ..sla import clocks

S = CaseStatus


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _transition(case: Case, action: policy.Action) -> str:
    """The one guarded transition: the action's move, if the case's status allows it.

    Sets the status the action moves to (`policy.RULES`) and returns the old one; the caller
    writes the case, its event and its e-mails in the same transaction.
    """
    policy.check_state(action, case)
    old = case.status
    case.status = policy.RULES[action].moves_to
    return old


def _text(value: str, field: str, *, max_length: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise CaseError(_("“%(field)s” cannot be empty.") % {"field": field}, code="required")
    if max_length and len(value) > max_length:
        raise CaseError(
            _("“%(field)s” is too long (at most %(n)d characters).")
            % {"field": field, "n": max_length},
            code="too_long",
        )
    return value


def _adjust_load(user_id: int | None, delta: int) -> None:
    if user_id is None or delta == 0:
        return
    if delta > 0:
        Consultant.objects.filter(user_id=user_id).update(active_cases=F("active_cases") + delta)
    else:
        Consultant.objects.filter(user_id=user_id, active_cases__gte=-delta).update(
            active_cases=F("active_cases") + delta
        )


def mark_read(*, case: Case, user, at: datetime | None = None) -> None:
    """`user` has seen `case` as it is at `at`: one upsert of their read row."""
    if user is None or user.pk is None:
        return
    CaseRead.objects.bulk_create(
        [CaseRead(case=case, user=user, read_at=_now(at))],
        update_conflicts=True,
        unique_fields=["case", "user"],
        update_fields=["read_at"],
    )


def _activity(case: Case, at: datetime, actor=None) -> None:
    """A public message or a change of status: news for everyone but the one who made it.

    Sets the case's `last_activity_at` (written by the caller's save) and marks the case read
    for the actor, who knows what they just did.
    """
    case.last_activity_at = at
    mark_read(case=case, user=actor, at=at)


def _save(case: Case, at: datetime) -> None:
    clocks.refresh_state(case, now=at)
    case.updated_at = at
    case.save()


def validate_or_400(instance) -> None:
    """Model validation turned into the domain's 400."""
    try:
        instance.full_clean()
    except ValidationError as error:
        raise CaseError("; ".join(error.messages), code="invalid") from error
