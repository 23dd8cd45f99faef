"""Template tags of the portal and the dashboard: SLA in words, durations, workspace links."""

from django import template
from django.urls import reverse

from casework import presenters

register = template.Library()

register.simple_tag(presenters.sla_words, name="sla_words")
register.filter("business_time", presenters.business_time)
register.filter("member_sla_label", presenters.member_sla_label)


@register.filter
def work_case_url(case_id) -> str:
    """The consultant workspace's page of a case."""
    return reverse("work:case", args=[int(case_id)])
