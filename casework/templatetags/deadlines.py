"""Deadlines in templates: how far off a date is, a term in words, the portal's shared deadlines
of a case and the dashboard's missed and coming deadlines."""

from django import template
from django.utils import timezone

from casework import deadline_agenda, deadline_words
from casework.selectors import deadlines_visible_to

register = template.Library()


@register.filter
def days_left(due_on) -> str:
    """“today”, “in 3 days”, “2 days ago”, from today in Rome."""
    return deadline_words.days_left(due_on, timezone.localdate()) if due_on else ""


@register.filter
def deadline_term(deadline) -> str:
    return deadline_words.term(deadline)


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


@register.simple_tag(takes_context=True)
def shared_deadlines(context, case) -> list:
    """The deadlines of the case shared with the cooperative, for the portal (one query)."""
    return list(
        deadlines_visible_to(_user(context)).filter(case=case, shared=True).order_by("due_on", "pk")
    )


@register.simple_tag(takes_context=True)
def deadline_watch(context) -> deadline_agenda.Watch:
    """The dashboard's missed and coming deadlines of the reader's areas (three queries)."""
    return deadline_agenda.deadline_watch(_user(context), today=timezone.localdate())
