"""The portal's hours: the plan's usage on the cooperative's list, and the answer to an estimate.

The usage is for those who see all the cooperative's cases (legal representatives, referents);
an estimate is answered by the case's requester or by one of them (`policy.Who.DECIDER`).
The answer's views are in `views` (accept, decline), through `workflows.process`.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from casework import hours, limits
from casework.models import Case, CaseStatus, Cooperative
from casework.policy import Action, may_act
from casework.roles import roles_of


class EstimateAnswerForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("A note for the consultant (optional)"),
        required=False,
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def usage_for(user, cooperative: Cooperative) -> hours.PlanUsage | None:
    """This year's plan usage, for whoever may read it (None for an ordinary member)."""
    if not hours.sees_hours_of(user, cooperative):
        return None
    return hours.plan_usage(cooperative, timezone.localdate().year)


def estimate_context(case: Case, user, form: EstimateAnswerForm | None = None) -> dict:
    """What the case page shows of a pending estimate, and whether this person may answer it."""
    estimate = hours.pending_estimate(case) if case.status == CaseStatus.WAITING else None
    return {
        "estimate": estimate,
        "estimate_answerable": estimate is not None
        and may_act(Action.ACCEPT_ESTIMATE, case, roles_of(user)),
        "estimate_form": form or EstimateAnswerForm(),
        "estimate_usage": usage_for(user, case.cooperative) if estimate is not None else None,
    }
