"""Who may do what to a case, and which moves each status allows: the one home of both rules.

Each action names the people who may take it (`Who`), the statuses it may start from and the
status it moves the case to. The services' guards (`check_actor`, `check_state`), the
workspace's buttons and the API's list of a case's actions (`allowed_actions`) all read `RULES`,
so a button is shown exactly when the service would accept the action.

"Where is it decided that a resolved case may be reopened, and who may do it?": `RULES[REOPEN]`
(a member of the cooperative, from `resolved`, while the confirmation window is open).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import ConflictError, ForbiddenError
from .models import Case, CaseStatus, Channel, Membership
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
    PROPOSE_ESTIMATE = "propose_estimate"
    ACCEPT_ESTIMATE = "accept_estimate"
    DECLINE_ESTIMATE = "decline_estimate"
    MANAGE_DEADLINES = "manage_deadlines"
    CHANGE_CONFIDENTIALITY = "change_confidentiality"
    MANAGE_PARTICIPANTS = "manage_participants"


class Who(StrEnum):
    """The people an action is for, each read from the actor's roles and the case."""

    SUPERVISOR = "supervisor"  # a supervisor of the case's area
    ASSIGNEE = "assignee"  # the consultant holding the case, or a supervisor of the area
    HOLDER = "holder"  # the consultant holding the case, only (a supervisor reassigns instead)
    AREA_STAFF = "area_staff"  # a consultant or supervisor of the area (the queue's people)
    STAFF = "staff"  # staff of this case: its supervisors, the area's consultants, the assignee
    MEMBER = "member"  # a person of the case's cooperative who sees it (`sees_as_member`)
    PARTY = "party"  # staff of this case or a person of its cooperative who sees it
    # Staff of this case, or a legal representative of its cooperative.
    STAFF_OR_LEGAL_REP = "staff_or_legal_rep"
    # Staff of this case, its requester, or a legal representative or referent who sees it.
    SHARER = "sharer"
    # Its requester, or a legal representative or referent of its cooperative who sees it: who
    # answers for the cooperative (an estimate of work beyond its plan).
    DECIDER = "decider"
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
        # Work often ends after the case closed (the last letter, the filing): still recorded.
        frozenset({*S.OPEN, S.CLOSED}),
        refusal=(_("No time can be recorded on a cancelled or rejected case."), "case_final"),
    ),
    # Work beyond the cooperative's service plan (`services.hours`): the case waits on the
    # cooperative, its SLA paused, until someone who answers for it accepts or declines.
    Action.PROPOSE_ESTIMATE: Rule(
        Who.ASSIGNEE,
        frozenset({S.ASSIGNED}),
        S.WAITING,
        refusal=(
            _("An estimate is proposed on a case being worked on, not on one %(status)s."),
            "not_assigned",
        ),
    ),
    Action.ACCEPT_ESTIMATE: Rule(
        Who.DECIDER,
        frozenset({S.WAITING}),
        S.ASSIGNED,
        refusal=(_("No estimate waits for an answer on this case."), "no_pending_estimate"),
        forbidden=_(
            "Only the requester, or the cooperative's legal representative or referent, may "
            "answer an estimate."
        ),
        # Offered by the pending estimate (its page, `/estimates/{id}/`): a case also waits for
        # information, which these do not answer.
        listed=False,
    ),
    Action.DECLINE_ESTIMATE: Rule(
        Who.DECIDER,
        frozenset({S.WAITING}),
        S.ASSIGNED,
        refusal=(_("No estimate waits for an answer on this case."), "no_pending_estimate"),
        forbidden=_(
            "Only the requester, or the cooperative's legal representative or referent, may "
            "answer an estimate."
        ),
        # Offered by the pending estimate (its page, `/estimates/{id}/`): a case also waits for
        # information, which these do not answer.
        listed=False,
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
    # Whether only its requester, the cooperative's legal representatives, its participants
    # and staff of the area see the case (`Roles.member_cases`), in any status.
    Action.CHANGE_CONFIDENTIALITY: Rule(
        Who.STAFF_OR_LEGAL_REP,
        frozenset(S),
        forbidden=_(
            "Only the federation's staff of this area or the cooperative's legal "
            "representative may change whether the case is confidential."
        ),
    ),
    # Who follows the case besides its requester: people of the same cooperative.
    Action.MANAGE_PARTICIPANTS: Rule(
        Who.SHARER,
        frozenset(S),
        forbidden=_(
            "Only the requester, the cooperative's legal representative or referent, or the "
            "federation's staff of this area may change who follows the case."
        ),
    ),
    # Add, change, mark done or reopen a deadline of the case (`services.deadlines`), in any
    # status: a term that runs on after the case closed is still met or missed.
    Action.MANAGE_DEADLINES: Rule(
        Who.STAFF,
        frozenset(S),
        forbidden=_("Only the federation's staff of this case may manage its deadlines."),
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
    Who.STAFF_OR_LEGAL_REP: _("Only staff of this area or the legal representative may do this."),
    Who.SHARER: _("You cannot change who follows this case."),
    Who.DECIDER: _("Only the requester or the cooperative's legal representative may do this."),
    Who.SPORTELLO: _("Only Sportello itself does this."),
}


def is_staff_of(case: Case, roles: Roles) -> bool:
    """Staff of this case: a supervisor of its area, a consultant of its area, or its assignee."""
    return roles.supervises_area(case.area_id) or (
        roles.is_consultant
        and (case.assignee_id == roles.user_id or roles.works_area(case.area_id))
    )


def sees_case(case: Case, roles: Roles, *, participants: Collection[int] | None = None) -> bool:
    """Whether these roles see the case: `selectors.cases_visible_to` for one case (staff of
    it, or a person of its cooperative as `Roles.sees_as_member` says; `participants`, the ids
    of who follows it, when already read). Who may act for the cooperative, and who is
    e-mailed about the case, follow it."""
    return is_staff_of(case, roles) or roles.sees_as_member(case, participants=participants)


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
        return roles.sees_as_member(case)
    if who is Who.PARTY:
        return is_staff_of(case, roles) or roles.sees_as_member(case)
    if who is Who.STAFF_OR_LEGAL_REP:
        return is_staff_of(case, roles) or roles.is_legal_rep_of(case.cooperative_id)
    if who is Who.DECIDER:
        owns = case.requester_id is not None and case.requester_id == roles.user_id
        return (owns or roles.sees_all_cases_of(case.cooperative_id)) and roles.sees_as_member(case)
    if who is Who.SHARER:
        if is_staff_of(case, roles):
            return True
        owns = case.requester_id is not None and case.requester_id == roles.user_id
        return (owns or roles.sees_all_cases_of(case.cooperative_id)) and roles.sees_as_member(case)
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


def may_change_time_entry(entry, case: Case, roles: Roles, *, today) -> bool:
    """A time entry is changed or deleted by its author on the day they recorded it, or by a
    supervisor of the case's area at any time (the billing of a period is theirs to correct)."""
    if roles.supervises_area(case.area_id):
        return True
    return (
        entry.consultant_id is not None
        and entry.consultant_id == roles.user_id
        and is_staff_of(case, roles)
        and timezone.localdate(entry.created_at) == today
    )


def check_change_time_entry(entry, case: Case, actor, *, today) -> Roles:
    """Refuse (403) whoever may not change or delete this time entry now."""
    roles = roles_of(actor)
    if not may_change_time_entry(entry, case, roles, today=today):
        raise ForbiddenError(
            _(
                "A time entry is changed by its author on the day it was recorded, or by a "
                "supervisor of the area."
            )
        )
    return roles


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


# --- The people of a cooperative ---------------------------------------------------------------
# Not actions on a case (`RULES` is for cases): inviting people to a cooperative and removing
# them from it. Staff (consultants of any area, supervisors, administrators) serve every
# cooperative; inside one, its legal representatives and referents manage its people, except that
# only a legal representative (or staff) invites or removes a legal representative. A plain
# member manages nobody. Whether the cooperative is known at all (404) is
# `cooperatives.cooperatives_known_to`; these say who may act on one they know of (403).


class PeopleAction(StrEnum):
    INVITE = "invite"  # invite a person, resend or revoke their invitation
    REMOVE_MEMBER = "remove_member"  # deactivate a membership (never a deletion)


PEOPLE_MANAGER_ROLES = frozenset({Membership.Role.LEGAL_REPRESENTATIVE, Membership.Role.REFERENT})

_PEOPLE_FORBIDDEN = {
    PeopleAction.INVITE: _(
        "Only the cooperative's legal representatives and referents, or the federation's staff, "
        "may invite people to it."
    ),
    PeopleAction.REMOVE_MEMBER: _(
        "Only the cooperative's legal representatives and referents, or the federation's staff, "
        "may remove people from it."
    ),
}
_LEGAL_REP_FORBIDDEN = {
    PeopleAction.INVITE: _(
        "Only a legal representative of the cooperative, or the federation's staff, may invite "
        "a legal representative."
    ),
    PeopleAction.REMOVE_MEMBER: _(
        "Only a legal representative of the cooperative, or the federation's staff, may remove "
        "a legal representative."
    ),
}


def may_manage_people(roles: Roles, cooperative_id: int) -> bool:
    """Whether these roles see and manage the people and invitations of the cooperative."""
    return roles.is_staff_role or roles.role_in(cooperative_id) in PEOPLE_MANAGER_ROLES


def may_act_on_people(roles: Roles, cooperative_id: int, *, role: str) -> bool:
    """Whether these roles may invite (or remove) a person with `role` in the cooperative."""
    if roles.is_staff_role:
        return True
    mine = roles.role_in(cooperative_id)
    if mine == Membership.Role.LEGAL_REPRESENTATIVE:
        return True
    return mine == Membership.Role.REFERENT and role != Membership.Role.LEGAL_REPRESENTATIVE


def check_people_action(action: PeopleAction, actor, *, cooperative_id: int, role: str) -> Roles:
    """Refuse (403) whoever may not take `action` on a person with `role` in the cooperative."""
    roles = roles_of(actor)
    if not may_manage_people(roles, cooperative_id):
        raise ForbiddenError(_PEOPLE_FORBIDDEN[action])
    if not may_act_on_people(roles, cooperative_id, role=role):
        raise ForbiddenError(_LEGAL_REP_FORBIDDEN[action])
    return roles


# --- The registry ------------------------------------------------------------------------------
# A merger of cooperatives (`services.cooperatives.merge_cooperatives`) moves every case of the
# absorbed one, of every area, with its people, deadlines and hours: only who answers for every
# area may record it.


def may_merge_cooperatives(roles: Roles) -> bool:
    """An administrator, or a supervisor of every area."""
    return roles.supervises_all


def check_merge_cooperatives(actor) -> Roles:
    """Refuse (403) whoever may not merge one cooperative into another."""
    roles = roles_of(actor)
    if not may_merge_cooperatives(roles):
        raise ForbiddenError(
            _(
                "Only an administrator or a supervisor of every area may merge one cooperative "
                "into another."
            ),
            code="may_not_merge",
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
    "PeopleAction",
    "Rule",
    "Who",
    "allowed_actions",
    "check_actor",
    "check_change_time_entry",
    "check_condition",
    "check_decide_mail",
    "check_merge_cooperatives",
    "check_people_action",
    "check_state",
    "is_staff_of",
    "may_act",
    "may_change_time_entry",
    "may_act_on_people",
    "may_decide_mail",
    "may_merge_cooperatives",
    "may_manage_people",
    "sees_case",
    "state_allows",
]
