"""SLA in plain words, business durations and links into the consultant workspace."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from casework import sla
from casework.clocks import clock_states
from casework.models import Case, CaseStatus

register = template.Library()

# Django's catalogues capitalise day and month names (they are also used on their own, as
# headings); mid-sentence, these languages write them in lowercase: "entro giovedì 10:30".
LOWERCASE_DATE_NAMES = ("it", "es", "fr", "pt", "ca")


def when_words(instant: datetime, *, now: datetime | None = None) -> SafeString:
    """An instant as people say it: "today at 10:30", "Thursday 10:30", "12 March 10:30"."""
    now = now or timezone.now()
    local = timezone.localtime(instant)
    today = timezone.localdate(now)
    clock = formats.date_format(local, "H:i")
    days = (local.date() - today).days
    if days == 0:
        text = _("today at %(time)s") % {"time": clock}
    elif days == 1:
        text = _("tomorrow at %(time)s") % {"time": clock}
    elif 1 < days < 7:
        text = formats.date_format(local, pgettext("weekday and time", "l H:i"))
    elif local.year == today.year:
        text = formats.date_format(local, pgettext("weekday, day, month and time", "l j F H:i"))
    else:
        text = formats.date_format(
            local, pgettext("weekday, day, month, year and time", "l j F Y H:i")
        )
    if (get_language() or "").split("-")[0] in LOWERCASE_DATE_NAMES:
        text = text.lower()
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), text)


def _phrase(
    template_text: str, instant: datetime | None, now: datetime, *, otherwise: str
) -> SafeString:
    if instant is None:
        return format_html("{}", otherwise)
    # The sentence is translated as a whole; only the instant is markup.
    before, _sep, after = template_text.partition("%(when)s")
    return format_html("{}{}{}", before, when_words(instant, now=now), after)


@register.simple_tag
def sla_words(case: Case, now: datetime | None = None) -> SafeString:
    """What the cooperative may expect next, from the stored due instants and the clock states."""
    now = now or timezone.now()
    status = case.status
    if status == CaseStatus.WAITING:
        return format_html("{}", _("Waiting for your answer: the clock is paused until you reply."))
    if status == CaseStatus.RESOLVED:
        return _phrase(
            _("Resolved: please confirm or reopen by %(when)s"),
            case.confirmation_due_at,
            now,
            otherwise=_("Resolved: please confirm or reopen."),
        )
    if status in (CaseStatus.CLOSED, CaseStatus.CANCELLED, CaseStatus.REJECTED):
        texts = {
            CaseStatus.CLOSED: _("Closed on %(when)s"),
            CaseStatus.CANCELLED: _("Cancelled on %(when)s"),
            CaseStatus.REJECTED: _("Not accepted on %(when)s"),
        }
        return _phrase(texts[status], case.closed_at, now, otherwise=case.get_status_display())
    states = clock_states(case, now=now)
    if case.first_response_at is None:
        state, due = states["first_response"], case.first_response_due_at
        if state == sla.SlaState.PAUSED:
            return format_html("{}", _("The clock is paused."))
        if due is None:
            return format_html("{}", _("A consultant will answer as soon as possible."))
        if state == sla.SlaState.BREACHED:
            return _phrase(
                _("First response late: it was expected by %(when)s"), due, now, otherwise=""
            )
        return _phrase(_("First response expected by %(when)s"), due, now, otherwise="")
    state, due = states["resolution"], case.resolution_due_at
    if state == sla.SlaState.PAUSED:
        return format_html("{}", _("The clock is paused."))
    if due is None:
        return format_html("{}", _("Being worked on."))
    if state == sla.SlaState.BREACHED:
        return _phrase(_("Resolution late: it was expected by %(when)s"), due, now, otherwise="")
    return _phrase(_("Resolution expected by %(when)s"), due, now, otherwise="")


@register.filter
def business_time(minutes) -> str:
    """Business minutes as hours and minutes: 135 → "2 h 15 min"."""
    if minutes is None or minutes == "":
        return "—"
    minutes = int(round(float(minutes)))
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(m)d min") % {"m": rest}
    if not rest:
        return _("%(h)s h") % {"h": formats.localize(hours)}
    return _("%(h)s h %(m)d min") % {"h": formats.localize(hours), "m": rest}


def work_case_path(case_id: int) -> str:
    """The consultant workspace's case page (its URL name may not exist yet: the path does)."""
    try:
        return reverse("work:case", args=[case_id])
    except NoReverseMatch:
        return f"/work/cases/{case_id}/"


def work_path(name: str, fallback: str) -> str:
    try:
        return reverse(f"work:{name}")
    except NoReverseMatch:
        return fallback


@register.filter
def work_case_url(case_id) -> str:
    return work_case_path(int(case_id))


@register.simple_tag
def work_url(name: str, fallback: str) -> str:
    return work_path(name, fallback)
