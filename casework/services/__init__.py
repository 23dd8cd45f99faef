"""Writes to cases, one module per stage; every change of a case goes through one service.

Services are called by `workflows.process`, which locks the case row once per action and moves
the viewflow process alongside; a service expects that lock, asks `casework.policy` whether the
actor and the case's status allow the action, writes the change with its events and e-mails,
and raises a domain error (`casework.errors`) otherwise.
"""

from .assignment import case_assign, case_claim, case_hand_back, case_release, routing_candidates
from .closure import (
    business_days_later,
    case_auto_close,
    case_confirm,
    case_rate,
    case_reopen,
    case_resolve,
)
from .documents import case_attach, case_attach_email
from .hours import (
    case_accept_estimate,
    case_decline_estimate,
    case_propose_estimate,
    case_record_time,
    time_entry_change,
    time_entry_delete,
)
from .intake import case_open, case_reject, case_triage, next_reference, triage_decide
from .sharing import case_add_participant, case_remove_participant, case_set_confidential
from .supervision import case_cancel, case_change_priority
from .transition import mark_read, validate_or_400
from .work import (
    case_acknowledge,
    case_follow_up,
    case_post_message,
    case_provide_info,
    case_request_info,
)

__all__ = [
    "business_days_later",
    "case_accept_estimate",
    "case_decline_estimate",
    "case_propose_estimate",
    "time_entry_change",
    "time_entry_delete",
    "case_acknowledge",
    "case_add_participant",
    "case_assign",
    "case_attach",
    "case_attach_email",
    "case_auto_close",
    "case_cancel",
    "case_change_priority",
    "case_claim",
    "case_confirm",
    "case_follow_up",
    "case_hand_back",
    "case_open",
    "case_post_message",
    "case_provide_info",
    "case_rate",
    "case_record_time",
    "case_reject",
    "case_release",
    "case_remove_participant",
    "case_reopen",
    "case_request_info",
    "case_resolve",
    "case_set_confidential",
    "case_triage",
    "mark_read",
    "next_reference",
    "routing_candidates",
    "triage_decide",
    "validate_or_400",
]
