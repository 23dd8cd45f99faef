"""Template words for hours: minutes as hours, a plan's usage (`casework.hours`)."""

from django import template

from casework import hours as words

register = template.Library()


@register.filter
def hours(minutes) -> str:
    """Minutes as hours in the reader's way of writing numbers: 450 → "7,5" in Italian."""
    try:
        return words.hours_text(int(minutes or 0))
    except (TypeError, ValueError):
        return "—"


@register.filter
def usage_words(usage) -> str:
    """ "hours used 7 of 10 in 2026" (or that there is no plan that year)."""
    return words.usage_words(usage)


@register.filter
def beyond_words(usage) -> str:
    return words.beyond_words(usage)
