"""Who sees and follows a case inside its cooperative: confidentiality and participants.

Who may change either is `casework.policy` (`CHANGE_CONFIDENTIALITY`, `MANAGE_PARTICIPANTS`);
who sees a case then is `casework.roles.Roles.member_cases`. Like every service these expect
the case row locked by `workflows.process`.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from .. import events, notifications, policy
from ..errors import CaseError, NotFoundError
from ..models import Case, CaseParticipant
from ..policy import Action
from ..roles import roles_of
from .transition import _now


@transaction.atomic
def case_set_confidential(
    *, case: Case, actor, confidential: bool, at: datetime | None = None
) -> Case:
    """Mark the case confidential (or not). Whoever no longer sees it stops hearing of it:
    its e-mails not yet sent to them are withdrawn. Setting what it already is changes nothing
    and records nothing."""
    at = _now(at)
    policy.check_actor(Action.CHANGE_CONFIDENTIALITY, case, actor)
    policy.check_state(Action.CHANGE_CONFIDENTIALITY, case)
    if not isinstance(confidential, bool):
        raise CaseError(_("Say true or false."), code="confidential")
    if case.confidential == confidential:
        return case
    case.confidential, case.updated_at = confidential, at
    # Only these columns: the SLA fields and the activity are not news.
    Case.objects.filter(pk=case.pk).update(confidential=confidential, updated_at=at)
    events.record(
        events.confidentiality_changed(
            case, actor=actor, old_confidential=not confidential, confidential=confidential, at=at
        )
    )
    if confidential:
        notifications.withdraw_unseen(case)
    return case


def _person_words(person, actor) -> str:
    """How a refusal names the person: by name to staff and to the cooperative's people, who
    chose them from its list; by the id given to anyone else (no name of a stranger leaks)."""
    if roles_of(actor).is_staff_role:
        return person.get_full_name() or person.get_username()
    return f"#{person.pk}"


def check_participant(*, case: Case, actor, person) -> None:
    """Refuse (400) a person who may not follow the case: only people with an active
    membership of the case's cooperative, other than its requester."""
    if person is None:
        raise CaseError(_("No such person."), code="participant")
    if person.pk == case.requester_id:
        raise CaseError(
            _("%(person)s opened the case: they follow it already.")
            % {"person": _person_words(person, actor)},
            code="participant_requester",
        )
    if not person.is_active or not roles_of(person).is_member_of(case.cooperative_id):
        raise CaseError(
            _(
                "%(person)s is not an active member of %(cooperative)s: only its people can "
                "follow its cases."
            )
            % {"person": _person_words(person, actor), "cooperative": case.cooperative.name},
            code="participant_cooperative",
        )


@transaction.atomic
def case_add_participant(
    *, case: Case, actor, person, at: datetime | None = None
) -> CaseParticipant:
    """`person` (of the case's cooperative) follows the case: they see it, confidential or
    not, and get its public messages by e-mail. Adding someone who already follows it changes
    nothing."""
    at = _now(at)
    policy.check_actor(Action.MANAGE_PARTICIPANTS, case, actor)
    policy.check_state(Action.MANAGE_PARTICIPANTS, case)
    check_participant(case=case, actor=actor, person=person)
    link, created = CaseParticipant.objects.get_or_create(
        case=case, user=person, defaults={"added_by": actor, "created_at": at}
    )
    if not created:
        return link
    events.record(
        events.participant_added(
            case, actor=actor, participant=person.pk, username=person.get_username(), at=at
        )
    )
    notifications.notify(
        case=case,
        recipients=[person],
        kind="participant_added",
        dedupe=f"participant_added:{link.pk}",
        context={"added_by": actor.get_full_name() or actor.get_username()},
    )
    return link


@transaction.atomic
def case_remove_participant(*, case: Case, actor, person, at: datetime | None = None) -> None:
    """`person` no longer follows the case; its e-mails not yet sent to them, if they no longer
    see it, are withdrawn. 404 for someone who does not follow it."""
    at = _now(at)
    policy.check_actor(Action.MANAGE_PARTICIPANTS, case, actor)
    policy.check_state(Action.MANAGE_PARTICIPANTS, case)
    deleted, _rows = (
        CaseParticipant.objects.filter(case=case, user=person).delete()
        if person is not None
        else (0, {})
    )
    if not deleted:
        raise NotFoundError(_("This person does not follow the case."))
    events.record(
        events.participant_removed(
            case, actor=actor, participant=person.pk, username=person.get_username(), at=at
        )
    )
    notifications.withdraw_unseen(case)
