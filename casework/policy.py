"""Who may do what to a case, and which moves each status allows: the one home of both rules.

Each action names the people who may take it (`Who`), the statuses it may start from and the
status it moves the case to. The services' guards (`check_actor`, `check_state`), the
workspace's buttons and the API's list of a case's actions (`allowed_actions`) all read `RULES`,
so a button is shown exactly when the service would accept the action.

"Where is it decided that a resolved case may be reopened, and who may do it?": `RULES[REOPEN]`
(a member of the cooperative, from `resolved`, while the confirmation window is open).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import ConflictError, ForbiddenError
from .models import Case, CaseStatus, Channel
from .roles import Roles, roles_of

S = CaseStatus


class Action(StrEnum):
    TRIAGE = "triage"
    REJECT = "reject"
    ASSIGN = "assign"
    CLAIM = "claim"
    RELEASE = "release"
    HAND_BACK = "hand_back"
    REPLY = "reply"
    NOTE = "note"
    ACKNOWLEDGE = "acknowledge"
    RECORD_TIME = "record_time"
    REQUEST_INFO = "request_info"
    PROVIDE_INFO = "provide_info"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    AUTO_CLOSE = "auto_close"
    RATE = "rate"
    CHANGE_PRIORITY = "change_priority"
    CANCEL = "cancel"
    ATTACH = "attach"
    ATTACH_INTERNAL = "attach_internal"
    FOLLOW_UP = "follow_up"
    OPEN_ON_BEHALF = "open_on_behalf"


class Who(StrEnum):
    """The people an action is for, each read from the actor's roles and the case."""

    SUPERVISOR = "supervisor"  # a supervisor of the case's area
    ASSIGNEE = "assignee"  # the consultant holding the case, or a supervisor of the area
    HOLDER = "holder"  # the consultant holding the case, only (a supervisor reassigns instead)
    AREA_STAFF = "area_staff"  # a consultant or supervisor of the area (the queue's people)
    STAFF = "staff"  # staff of this case: its supervisors, the area's consultants, the assignee
    MEMBER = "member"  # a member of the case's cooperative
    PARTY = "party"  # staff of this case or a member of its cooperative
    SPORTELLO = "sportello"  # Sportello itself (a scheduled task), never a person


def _reopen_window_open(case: Case, at) -> ConflictError | None:
    """A resolved case reopens only until its confirmation window ends."""
    if case.status == S.RESOLVED and case.confirmation_due_at and at > case.confirmation_due_at:
        return ConflictError(
            _("The time to reopen this case ended on %(due)s.")
            % {"due": timezone.localtime(case.confirmation_due_at).strftime("%d/%m/%Y %H:%M")},
            code="reopen_window_closed",
        )
    return None


def _not_yet_acknowledged(case: Case, at) -> ConflictError | None:
    if case.first_response_at is not None:
        return ConflictError(
            _("The case has already had its first response."), code="already_acknowledged"
        )
    return None


@dataclass(frozen=True)
class Rule:
    who: Who
    allowed_from: frozenset[str]
    moves_to: str | None = None
    # What a refusal for the case's status says (its code is the API's); None: the generic one.
    refusal: tuple | None = None
    # What a refusal of the actor says, when not the words of `who`.
    forbidden: str | None = None
    # A further condition on the case at the instant of the action: a refusal, or None.
    condition: Callable[[Case, datetime], ConflictError | None] | None = None
    # False for an action offered by a task rather than by the case (a follow-up's review).
    listed: bool = True


RULES: dict[Action, Rule] = {
    Action.TRIAGE: Rule(Who.SUPERVISOR, frozenset({S.TRIAGE}), S.UNASSIGNED),
    Action.REJECT: Rule(Who.SUPERVISOR, frozenset({S.TRIAGE}), S.REJECTED),
    Action.ASSIGN: Rule(
        Who.SUPERVISOR,
        frozenset({S.UNASSIGNED, S.ASSIGNED, S.WAITING}),
        S.ASSIGNED,
        refusal=(_("A case that is %(status)s cannot be assigned."), "not_assignable"),
    ),
    Action.CLAIM: Rule(
        Who.AREA_STAFF,
        frozenset({S.UNASSIGNED}),
        S.ASSIGNED,
        refusal=(_("This case has already been taken."), "already_claimed"),
    ),
    Action.RELEASE: Rule(Who.ASSIGNEE, frozenset({S.ASSIGNED}), S.UNASSIGNED),
    Action.HAND_BACK: Rule(Who.HOLDER, frozenset({S.ASSIGNED}), S.UNASSIGNED),
    Action.REPLY: Rule(
        Who.PARTY,
        frozenset(S.OPEN),
        refusal=(_("The case is %(status)s: it takes no more messages."), "case_final"),
    ),
    Action.NOTE: Rule(
        Who.STAFF,
        frozenset(S.OPEN),
        refusal=(_("The case is %(status)s: it takes no more messages."), "case_final"),
        forbidden=_("Only the federation's staff can write internal notes."),
    ),
    Action.ACKNOWLEDGE: Rule(
        Who.ASSIGNEE,
        frozenset({S.ASSIGNED}),
        refusal=(_("Only a case you are working on can be acknowledged."), "not_assigned"),
        condition=_not_yet_acknowledged,
    ),
    Action.RECORD_TIME: Rule(
        Who.STAFF,
        frozenset({*S.OPEN, S.CLOSED}),
        refusal=(_("No time can be recorded on a cancelled or rejected case."), "case_final"),
    ),
    Action.REQUEST_INFO: Rule(Who.ASSIGNEE, frozenset({S.ASSIGNED}), S.WAITING),
    Action.PROVIDE_INFO: Rule(
        Who.MEMBER,
        frozenset({S.WAITING}),
        S.ASSIGNED,
        refusal=(_("The case is not waiting for information."), "not_waiting"),
    ),
    Action.RESOLVE: Rule(Who.ASSIGNEE, frozenset({S.ASSIGNED}), S.RESOLVED),
    Action.CONFIRM: Rule(Who.MEMBER, frozenset({S.RESOLVED}), S.CLOSED),
    Action.REOPEN: Rule(
        Who.MEMBER,
        frozenset({S.RESOLVED}),
        S.ASSIGNED,
        refusal=(_("Only a resolved case awaiting confirmation can be reopened."), "not_resolved"),
        condition=_reopen_window_open,
    ),
    Action.AUTO_CLOSE: Rule(Who.SPORTELLO, frozenset({S.RESOLVED}), S.CLOSED),
    Action.RATE: Rule(
        Who.MEMBER,
        frozenset({S.CLOSED}),
        refusal=(_("A case can be rated once it is closed."), "not_closed"),
    ),
    Action.CHANGE_PRIORITY: Rule(
        Who.SUPERVISOR,
        frozenset(S.OPEN),
        refusal=(_("The priority of a finished case cannot change."), "case_final"),
    ),
    Action.CANCEL: Rule(Who.SUPERVISOR, frozenset(S.OPEN), S.CANCELLED),
    Action.ATTACH: Rule(
        Who.PARTY,
        frozenset(S.OPEN),
        refusal=(_("The case is %(status)s: it takes no more documents."), "case_final"),
        forbidden=_("You cannot add documents to this case."),
    ),
    Action.ATTACH_INTERNAL: Rule(
        Who.STAFF,
        frozenset(S.OPEN),
        refusal=(_("The case is %(status)s: it takes no more documents."), "case_final"),
        forbidden=_("Only the federation's staff can attach internal documents."),
    ),
    # A low rating's follow-up, offered by its task in the supervisors' queue.
    Action.FOLLOW_UP: Rule(Who.SUPERVISOR, frozenset(S), listed=False),
    # Staff intake: a case opened for a cooperative that phoned, wrote or came to the desk.
    # Checked against the case about to be opened (its area), before it has a status.
    Action.OPEN_ON_BEHALF: Rule(
        Who.AREA_STAFF,
        frozenset(),
        listed=False,
        forbidden=_(
            "Only a consultant or supervisor of the area may open a case for a cooperative."
        ),
    ),
}

# How a case reaches staff who open it on a cooperative's behalf; `portal` and `api` are the
# cooperative's own channels.
STAFF_INTAKE_CHANNELS = frozenset({Channel.PHONE, Channel.DESK, Channel.EMAIL, Channel.PEC})

# The moves the process allows, derived from the actions: target status -> statuses it may
# come from. `services.transition` is the one place a status changes, and it checks this.
TRANSITIONS: dict[str, frozenset[str]] = {}
for _rule in RULES.values():
    if _rule.moves_to is not None:
        TRANSITIONS[_rule.moves_to] = TRANSITIONS.get(_rule.moves_to, frozenset()) | (
            _rule.allowed_from
        )
del _rule

_FORBIDDEN = {
    Who.SUPERVISOR: _("Only a supervisor of this area may do this."),
    Who.ASSIGNEE: _("Only the consultant assigned to the case may do this."),
    Who.HOLDER: _("Only the consultant assigned to the case may do this."),
    Who.AREA_STAFF: _("You do not work in the area of this case."),
    Who.STAFF: _("Only the federation's staff of this area may do this."),
    Who.MEMBER: _("Only a member of the cooperative may do this."),
    Who.PARTY: _("You cannot write on this case."),
    Who.SPORTELLO: _("Only Sportello itself does this."),
}


def is_staff_of(case: Case, roles: Roles) -> bool:
    """Staff of this case: a supervisor of its area, a consultant of its area, or its assignee."""
    return roles.supervises_area(case.area_id) or (
        roles.is_consultant
        and (case.assignee_id == roles.user_id or roles.works_area(case.area_id))
    )


def _is(who: Who, case: Case, roles: Roles) -> bool:
    if who is Who.SUPERVISOR:
        return roles.supervises_area(case.area_id)
    if who is Who.ASSIGNEE:
        return case.assignee_id == roles.user_id or roles.supervises_area(case.area_id)
    if who is Who.HOLDER:
        return case.assignee_id is not None and case.assignee_id == roles.user_id
    if who is Who.AREA_STAFF:
        return roles.works_area(case.area_id) or roles.supervises_area(case.area_id)
    if who is Who.STAFF:
        return is_staff_of(case, roles)
    if who is Who.MEMBER:
        return roles.is_member_of(case.cooperative_id)
    if who is Who.PARTY:
        return is_staff_of(case, roles) or roles.is_member_of(case.cooperative_id)
    return False


def may_act(action: Action, case: Case, roles: Roles) -> bool:
    """Whether these roles are among the people the action is for (the status aside)."""
    return _is(RULES[action].who, case, roles)


def state_allows(action: Action, case: Case) -> bool:
    return case.status in RULES[action].allowed_from


def check_actor(action: Action, case: Case, actor) -> Roles:
    """Refuse (403) an actor the action is not for; returns their roles."""
    roles = roles_of(actor)
    if not may_act(action, case, roles):
        rule = RULES[action]
        raise ForbiddenError(rule.forbidden or _FORBIDDEN[rule.who])
    return roles


def check_state(action: Action, case: Case) -> None:
    """Refuse (409) an action the case's status does not allow, in the action's own words."""
    rule = RULES[action]
    if case.status in rule.allowed_from:
        return
    if rule.refusal is None:
        raise ConflictError(
            _("Cannot %(what)s case %(ref)s: it is %(status)s.")
            % {"what": _VERBS[action], "ref": case.reference, "status": _status_words(case)},
            code=f"not_{rule.moves_to}",
        )
    message, code = rule.refusal
    raise ConflictError(message % {"status": _status_words(case)}, code=code)


def check_condition(action: Action, case: Case, *, at) -> None:
    """Refuse (409) an action whose own condition does not hold now (see `Rule.condition`)."""
    condition = RULES[action].condition
    refusal = condition(case, at) if condition is not None else None
    if refusal is not None:
        raise refusal


def may_decide_mail(roles: Roles, mailbox) -> bool:
    """Unmatched mail (`InboundEmail`) is linked or discarded by a supervisor of its mailbox's
    area, or by one of every area (the only ones for a mailbox without an area)."""
    return roles.supervises_all or (
        mailbox.area_id is not None and roles.supervises_area(mailbox.area_id)
    )


def check_decide_mail(actor, mailbox) -> Roles:
    """Refuse (403) whoever may not link or discard the mail of this mailbox."""
    roles = roles_of(actor)
    if not may_decide_mail(roles, mailbox):
        raise ForbiddenError(
            _("Only a supervisor of this mailbox's area may decide on its unmatched e-mail.")
        )
    return roles


def allowed_actions(case: Case, user, *, now: datetime | None = None) -> list[Action]:
    """What this person may do to the case now: the workspace's buttons, the API's `actions`.

    Whether a case was already rated is the service's to check (it needs a query per case).
    """
    roles = roles_of(user)
    now = now or timezone.now()
    allowed = []
    for action, rule in RULES.items():
        if not rule.listed or rule.who is Who.SPORTELLO or case.status not in rule.allowed_from:
            continue
        if not _is(rule.who, case, roles):
            continue
        if rule.condition is not None and rule.condition(case, now) is not None:
            continue
        allowed.append(action)
    return allowed


def _status_words(case: Case) -> str:
    return str(case.get_status_display()).lower()


_VERBS = {
    Action.TRIAGE: _("triage"),
    Action.REJECT: _("reject"),
    Action.ASSIGN: _("assign"),
    Action.CLAIM: _("claim"),
    Action.RELEASE: _("release"),
    Action.HAND_BACK: _("release"),
    Action.REQUEST_INFO: _("request information on"),
    Action.PROVIDE_INFO: _("answer"),
    Action.RESOLVE: _("resolve"),
    Action.CONFIRM: _("confirm"),
    Action.REOPEN: _("reopen"),
    Action.AUTO_CLOSE: _("close"),
    Action.CANCEL: _("cancel"),
}

__all__ = [
    "RULES",
    "STAFF_INTAKE_CHANNELS",
    "TRANSITIONS",
    "Action",
    "Rule",
    "Who",
    "allowed_actions",
    "check_actor",
    "check_condition",
    "check_decide_mail",
    "check_state",
    "is_staff_of",
    "may_act",
    "may_decide_mail",
    "state_allows",
]
