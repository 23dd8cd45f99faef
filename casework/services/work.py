"""The consultant's work: messages and notes, acknowledgement, requests for information.

Time entries and estimates are `casework.services.hours`.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from .. import events, limits, notifications, policy
from ..models import (
    Case,
    Message,
    SlaPause,
)
from ..policy import Action
from ..sla import clocks
from .hours import check_not_waiting_on_estimate
from .transition import _activity, _now, _save, _text, _transition


@transaction.atomic
def case_post_message(
    *, case: Case, author, body: str, internal: bool = False, at: datetime | None = None
) -> Message:
    """A reply (cooperative or consultant) or an internal note (staff only)."""
    at = _now(at)
    body = _text(body, _("message"), max_length=limits.LONG_TEXT)
    action = Action.NOTE if internal else Action.REPLY
    roles = policy.check_actor(action, case, author)
    is_staff = policy.is_staff_of(case, roles)
    policy.check_state(action, case)
    message = Message.objects.create(
        case=case, author=author, body=body, internal=internal, created_at=at
    )
    if internal:
        events.record(events.note_added(case, actor=author, message=message.pk, at=at))
    elif is_staff:
        first = case.first_response_at is None
        clocks.first_response_given(case, at=at)
        _activity(case, at, author)
        _save(case, at)
        events.record(
            events.replied(case, actor=author, message=message.pk, first_response=first, at=at)
        )
    else:
        _activity(case, at, author)
        _save(case, at)
        events.record(events.replied(case, actor=author, message=message.pk, at=at))
    notifications.notify_message(message=message, from_staff=is_staff)
    return message


@transaction.atomic
def case_acknowledge(*, case: Case, actor, body: str = "", at: datetime | None = None) -> Message:
    """The consultant's first response: the case is in good hands."""
    at = _now(at)
    policy.check_actor(Action.ACKNOWLEDGE, case, actor)
    policy.check_state(Action.ACKNOWLEDGE, case)
    policy.check_condition(Action.ACKNOWLEDGE, case, at=at)
    body = (body or "").strip() or _(
        "Hello, I have taken charge of your case and will get back to you as soon as possible."
    )
    message = Message.objects.create(
        case=case, author=actor, body=body, internal=False, created_at=at
    )
    clocks.first_response_given(case, at=at)
    _activity(case, at, actor)
    _save(case, at)
    events.record(events.acknowledged(case, actor=actor, message=message.pk, at=at))
    notifications.notify_message(message=message, from_staff=True)
    return message


@transaction.atomic
def case_request_info(*, case: Case, actor, question: str, at: datetime | None = None) -> Case:
    """Ask the cooperative for information: the case waits on them and the clocks stop."""
    at = _now(at)
    policy.check_actor(Action.REQUEST_INFO, case, actor)
    question = _text(question, _("question"), max_length=limits.LONG_TEXT)
    old = _transition(case, Action.REQUEST_INFO)
    message = Message.objects.create(
        case=case, author=actor, body=question, internal=False, created_at=at
    )
    clocks.first_response_given(case, at=at)
    clocks.pause(case, at=at, reason=SlaPause.Reason.INFO_REQUESTED)
    _activity(case, at, actor)
    _save(case, at)
    events.record(
        events.info_requested(case, actor=actor, old_status=old, message=message.pk, at=at)
    )
    events.record(events.sla_paused(case, reason=SlaPause.Reason.INFO_REQUESTED, at=at))
    notifications.notify(
        case=case,
        recipients=[case.requester],
        kind="info_requested",
        dedupe=f"info_requested:{case.pk}:{message.pk}",
        context={"question": question},
        message=message,
    )
    return case


@transaction.atomic
def case_provide_info(*, case: Case, actor, body: str, at: datetime | None = None) -> Message:
    """The cooperative answers: the case goes back to the same consultant, the clocks resume."""
    at = _now(at)
    policy.check_actor(Action.PROVIDE_INFO, case, actor)
    check_not_waiting_on_estimate(case)
    body = _text(body, _("answer"), max_length=limits.LONG_TEXT)
    old = _transition(case, Action.PROVIDE_INFO)
    message = Message.objects.create(
        case=case, author=actor, body=body, internal=False, created_at=at
    )
    clocks.resume(case, at=at)
    _activity(case, at, actor)
    _save(case, at)
    events.record(
        events.info_provided(case, actor=actor, old_status=old, message=message.pk, at=at)
    )
    events.record(events.sla_resumed(case, at=at))
    notifications.notify(
        case=case,
        recipients=[case.assignee],
        kind="info_provided",
        dedupe=f"info_provided:{message.pk}",
        context={"answer": body},
        message=message,
    )
    return message


@transaction.atomic
def case_follow_up(*, case: Case, actor, note: str, at: datetime | None = None) -> str:
    """A supervisor's follow-up of a low rating, recorded on the case; returns the note."""
    policy.check_actor(Action.FOLLOW_UP, case, actor)
    note = (note or "").strip()
    events.record(events.follow_up(case, actor=actor, note=note, at=_now(at)))
    return note
