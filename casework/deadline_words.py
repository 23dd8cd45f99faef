"""The words for deadlines: how far off one is, and what the timelines say about their events."""

from __future__ import annotations

from datetime import date

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import CaseEvent, Deadline, DeadlineKind

Kind = CaseEvent.Kind
#: The events of deadlines, staff-only in timelines (`selectors.STAFF_ONLY_EVENTS`).
KINDS = (
    Kind.DEADLINE_ADDED,
    Kind.DEADLINE_CHANGED,
    Kind.DEADLINE_DONE,
    Kind.DEADLINE_MISSED,
    Kind.DEADLINE_REMINDED,
)


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value or "—"))


def day(value) -> str:
    """A date (or its ISO text, as events keep it) in the reader's format."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if value is None:
        return "—"
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def days_left(due_on: date, today: date) -> str:
    """“today”, “tomorrow”, “in 5 days”, “2 days ago”: how far the day is from today."""
    left = (due_on - today).days
    if left == 0:
        return _("today")
    if left == 1:
        return _("tomorrow")
    if left > 1:
        return ngettext("in %(n)d day", "in %(n)d days", left) % {"n": left}
    return ngettext("%(n)d day ago", "%(n)d days ago", -left) % {"n": -left}


def term(deadline: Deadline) -> str:
    """The term as given: “30 days, judicial”, “2 months, tax”, “fixed date”."""
    kind = _label(DeadlineKind.choices, deadline.kind)
    if deadline.term_months:
        n = deadline.term_months
        return ngettext("%(n)d month", "%(n)d months", n) % {"n": n} + f" · {kind}"
    if deadline.term_days:
        n = deadline.term_days
        return ngettext("%(n)d day", "%(n)d days", n) % {"n": n} + f" · {kind}"
    return kind


def timeline_words(event: CaseEvent, names: dict[str, str] | None = None) -> list[str]:
    """What the workspace's timeline says about a deadline event (staff read it only).

    `names` turns usernames into people's names, when the page has them.
    """
    names = names or {}
    after, before = event.after or {}, event.before or {}
    title, due = after.get("title") or "—", day(after.get("due_on"))
    who = after.get("responsible")
    words: list[str] = []
    if event.kind == Kind.DEADLINE_ADDED:
        words.append(
            _("“%(title)s”, due on %(date)s (%(kind)s).")
            % {"title": title, "date": due, "kind": _label(DeadlineKind.choices, after.get("kind"))}
        )
        if who:
            words.append(_("Responsible: %(who)s.") % {"who": names.get(who, who)})
        if after.get("shared"):
            words.append(_("Shared with the cooperative."))
    elif event.kind == Kind.DEADLINE_CHANGED:
        words.append(_("“%(title)s”, due on %(date)s.") % {"title": title, "date": due})
        if "due_on" in before:
            words.append(
                _("Due date: %(old)s → %(new)s.") % {"old": day(before["due_on"]), "new": due}
            )
        if "deadline_status" in before:
            words.append(
                _("Status: %(old)s → %(new)s.")
                % {
                    "old": _label(Deadline.Status.choices, before["deadline_status"]),
                    "new": _label(Deadline.Status.choices, after.get("deadline_status")),
                }
            )
        if "responsible" in before:
            old = before["responsible"]
            words.append(
                _("Responsible: %(old)s → %(new)s.")
                % {"old": names.get(old, old or "—"), "new": names.get(who, who or "—")}
            )
        if "shared" in before:
            words.append(
                _("Shared with the cooperative.")
                if after.get("shared")
                else _("No longer shared with the cooperative.")
            )
        others = [
            str(Deadline._meta.get_field(key).verbose_name)
            for key in ("title", "kind", "trigger_date", "term_days", "term_months", "note")
            if key in before
        ]
        if others:
            words.append(_("Changed: %(what)s.") % {"what": ", ".join(others)})
    elif event.kind == Kind.DEADLINE_DONE:
        words.append(_("“%(title)s”, due on %(date)s, is done.") % {"title": title, "date": due})
    elif event.kind == Kind.DEADLINE_MISSED:
        words.append(
            _("“%(title)s” was due on %(date)s and was not done.") % {"title": title, "date": due}
        )
    elif event.kind == Kind.DEADLINE_REMINDED:
        days = after.get("days_before") or 0
        people = after.get("recipients") or 0
        words.append(
            ngettext(
                "E-mail reminder %(days)d day before “%(title)s” (due on %(date)s).",
                "E-mail reminder %(days)d days before “%(title)s” (due on %(date)s).",
                days,
            )
            % {"days": days, "title": title, "date": due}
        )
        words.append(
            ngettext("Sent to %(n)d person.", "Sent to %(n)d people.", people) % {"n": people}
        )
    return words
