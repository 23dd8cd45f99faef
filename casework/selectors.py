"""Reads of the domain, each already scoped to who is asking."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Case, Cooperative, Message
from .roles import roles_of


def cases_visible_to(user) -> QuerySet[Case]:
    """Every case the user may see: their cooperatives' as a member, their areas' as staff."""
    roles = roles_of(user)
    if roles.user_id is None:
        return Case.objects.none()
    if roles.supervises_all:
        return Case.objects.all()
    condition = Q()
    if roles.cooperative_ids:
        condition |= Q(cooperative_id__in=roles.cooperative_ids)
    if roles.staff_area_ids:
        condition |= Q(area_id__in=roles.staff_area_ids)
    if roles.is_consultant:
        # A consultant keeps seeing what they work on, even outside their current areas.
        condition |= Q(assignee_id=roles.user_id)
    if not condition:
        return Case.objects.none()
    return Case.objects.filter(condition)


def case_list_for(user) -> QuerySet[Case]:
    """Visible cases with what a list shows, in one query."""
    return cases_visible_to(user).select_related(
        "cooperative", "area", "assignee", "specialty", "outcome"
    )


def messages_visible_to(user, case: Case) -> QuerySet[Message]:
    """A case's messages; internal notes only for staff of that case."""
    messages = case.messages.select_related("author").order_by("created_at", "id")
    if not can_read_internal(user, case):
        messages = messages.filter(internal=False)
    return messages


def can_read_internal(user, case: Case) -> bool:
    roles = roles_of(user)
    if roles.supervises_all:
        return True
    return (
        roles.works_area(case.area_id)
        or roles.supervises_area(case.area_id)
        or (roles.is_consultant and case.assignee_id == roles.user_id)
    )


def cooperatives_of(user) -> QuerySet[Cooperative]:
    roles = roles_of(user)
    return Cooperative.objects.filter(id__in=roles.cooperative_ids).select_related("office")
