"""What pages, the API and e-mails say about a case's SLA and its dates: one function per phrase.

The member's words (`sla_words`: what the cooperative may expect next) and the staff's
(`sla_summary` and `clock_rows`: each clock's state and the instant that matters) are written
here only; templates reach them through `casework.templatetags.portal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from casework.models import Case, CaseStatus, SlaState
from casework.sla import business_time as sla
from casework.sla.clocks import case_state, clock_states

CLOCK_LABELS = {
    "first_response": gettext_lazy("First response"),
    "resolution": gettext_lazy("Resolution"),
}
SLA_LABELS = {**dict(SlaState.choices), "stopped": gettext_lazy("Stopped")}
# The clocks' names in the middle of a sentence (e-mails): "the first response is late".
CLOCK_WORDS = {
    "first_response": gettext_lazy("first response"),
    "resolution": gettext_lazy("resolution"),
}


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


def day_words(instant: datetime) -> SafeString:
    """The local day of an instant in words ("1 dicembre 2026"), for what already happened."""
    local = timezone.localtime(instant)
    text = formats.date_format(local, "DATE_FORMAT")
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), text)


def _phrase(
    template_text: str,
    instant: datetime | None,
    now: datetime,
    *,
    otherwise: str,
    past: bool = False,
) -> SafeString:
    if instant is None:
        return format_html("{}", otherwise)
    # The sentence is translated as a whole; only the instant is markup. What is over is said by
    # its day ("Closed on 1 December 2026"), never "Closed on today at 22:51".
    before, _sep, after = template_text.partition("%(when)s")
    when = day_words(instant) if past else when_words(instant, now=now)
    return format_html("{}{}{}", before, when, after)


# The SLA state in the cooperative's words (the staff's "SLA breached" means nothing to it).
MEMBER_SLA_LABELS = {
    SlaState.ON_TRACK: gettext_lazy("on time"),
    SlaState.AT_RISK: gettext_lazy("due soon"),
    SlaState.BREACHED: gettext_lazy("late"),
    SlaState.PAUSED: gettext_lazy("paused"),
    SlaState.MET: gettext_lazy("answered in time"),
}


def member_sla_label(state: str) -> str:
    return str(MEMBER_SLA_LABELS.get(state, ""))


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
    if status in CaseStatus.FINAL:
        texts = {
            CaseStatus.CLOSED: _("Closed on %(when)s"),
            CaseStatus.CANCELLED: _("Cancelled on %(when)s"),
            CaseStatus.REJECTED: _("Not accepted on %(when)s"),
        }
        return _phrase(
            texts[status], case.closed_at, now, otherwise=case.get_status_display(), past=True
        )
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


# --- The staff's words --------------------------------------------------------------------------


def when_label(instant: datetime, *, now: datetime) -> str:
    """A due instant as people say it: the weekday within a week, the full date beyond."""
    local = timezone.localtime(instant)
    if abs((local.date() - timezone.localtime(now).date()).days) < 7:
        return f"{formats.date_format(local, 'D')} {formats.time_format(local, 'TIME_FORMAT')}"
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


@dataclass(frozen=True)
class ClockRow:
    name: str
    label: str
    state: str
    due_at: datetime | None
    met_at: datetime | None

    @property
    def state_label(self) -> str:
        return SLA_LABELS[self.state]


@dataclass(frozen=True)
class SlaSummary:
    state: str
    text: str
    due_at: datetime | None = None

    @property
    def state_label(self) -> str:
        return SLA_LABELS[self.state]


def clock_rows(case: Case, *, now: datetime) -> list[ClockRow]:
    states = clock_states(case, now=now)
    stopped = case.status in CaseStatus.STOPPED
    resolved_at = case.resolved_at if case.status in CaseStatus.RESOLUTION_REACHED else None
    rows = []
    for name, due_at, met_at in (
        ("first_response", case.first_response_due_at, case.first_response_at),
        ("resolution", case.resolution_due_at, resolved_at),
    ):
        state = str(states[name])
        if stopped and met_at is None and state != SlaState.BREACHED:
            state = "stopped"
        rows.append(ClockRow(name, str(CLOCK_LABELS[name]), state, due_at, met_at))
    return rows


def sla_summary(case: Case, *, now: datetime) -> SlaSummary:
    """The case's SLA state in words with the instant that matters: "At risk — due Thu 10:30"."""
    if case.status in CaseStatus.STOPPED:
        return SlaSummary("stopped", str(SLA_LABELS["stopped"]))
    state = case_state(case, now=now)
    label = str(SLA_LABELS[state])
    if state not in (SlaState.ON_TRACK, SlaState.AT_RISK, SlaState.BREACHED):
        return SlaSummary(state, label)
    rows = clock_rows(case, now=now)
    clock = next((r for r in rows if r.state == state and r.due_at), None)
    if clock is None:
        return SlaSummary(state, label)
    when = when_label(clock.due_at, now=now)
    if state == SlaState.BREACHED:
        text = _("%(state)s — was due %(when)s") % {"state": label, "when": when}
    else:
        text = _("%(state)s — due %(when)s") % {"state": label, "when": when}
    return SlaSummary(state, text, clock.due_at)
