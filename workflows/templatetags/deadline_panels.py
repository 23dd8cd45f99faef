"""The workspace case page's Deadlines panel: the case's deadlines and, for who may manage
them, the form that adds one (two queries: the deadlines, the responsible people)."""

from django import template
from django.utils import timezone

from casework import policy
from casework.roles import roles_of
from casework.selectors import deadlines_visible_to
from workflows.workspace.deadlines import DeadlineForm

register = template.Library()


@register.simple_tag(takes_context=True)
def case_deadline_panel(context, case) -> dict:
    user = context["request"].user
    roles = roles_of(user)
    can_manage = policy.may_act(policy.Action.MANAGE_DEADLINES, case, roles) and (
        policy.state_allows(policy.Action.MANAGE_DEADLINES, case)
    )
    rows = list(
        deadlines_visible_to(user)
        .filter(case=case)
        .select_related("responsible")
        .order_by("due_on", "pk")
    )
    return {
        "rows": rows,
        "can_manage": can_manage,
        "form": DeadlineForm(case=case) if can_manage else None,
        "today": timezone.localdate(),
    }
