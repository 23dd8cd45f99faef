"""The staff nav's badge: how much unmatched mail waits for the supervisor reading the page."""

from django import template

from workflows.workspace.mail import waiting_mail_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unmatched_mail_count(context) -> int:
    request = context.get("request")
    return waiting_mail_count(getattr(request, "user", None)) if request is not None else 0
