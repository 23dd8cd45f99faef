"""Each person's private calendar feed of deadlines (iCalendar), and the page that gives its URL.

The URL carries a secret of its own (`UserProfile.calendar_token`, from `secrets.token_urlsafe`)
instead of a session, so that a calendar program can fetch it; a new secret revokes the old URL,
and an unknown or revoked one is a 404 like any other missing page. The feed lists what
`deadline_agenda.agenda_of` gives the person (staff: the deadlines they are responsible for and
their supervised areas'; the people of a cooperative: the shared deadlines of the cases they
see), each an all-day event whose UID stays the same when the deadline changes.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from . import deadline_agenda, deadline_words
from .mail import id_domain, language_of
from .models import Deadline, UserProfile
from .policy import is_staff_of
from .roles import roles_of

TOKEN_BYTES = 32
Status = Deadline.Status


# --- The secret --------------------------------------------------------------------------------


def _locked_profile(user) -> UserProfile:
    """The person's profile row, locked; created when missing."""
    try:
        with transaction.atomic():
            return UserProfile.objects.select_for_update().get_or_create(user=user)[0]
    except IntegrityError:
        return UserProfile.objects.select_for_update().get(user=user)


@transaction.atomic
def calendar_token_replace(*, user) -> str:
    """A new secret for the person's feed; the previous URL stops working at once."""
    profile = _locked_profile(user)
    profile.calendar_token = secrets.token_urlsafe(TOKEN_BYTES)
    profile.save(update_fields=["calendar_token"])
    return profile.calendar_token


@transaction.atomic
def calendar_token_revoke(*, user) -> None:
    """No feed any more: the URL answers 404 until a new one is made."""
    UserProfile.objects.filter(user=user).update(calendar_token="")


def calendar_token_of(user) -> str:
    """The person's current secret, or "" when they have no feed."""
    return (
        UserProfile.objects.filter(user=user).values_list("calendar_token", flat=True).first() or ""
    )


def owner_of(token: str):
    """The active person whose feed this secret opens, or None."""
    if not token:
        return None
    profile = (
        UserProfile.objects.select_related("user")
        .filter(calendar_token=token, user__is_active=True)
        .first()
    )
    return profile.user if profile is not None else None


def feed_url(token: str) -> str:
    return settings.SPORTELLO_BASE_URL.rstrip("/") + reverse("calendar-feed", args=[token])


# --- The feed ----------------------------------------------------------------------------------


def _summary(deadline: Deadline) -> str:
    title = f"{deadline.case.reference} · {deadline.title}" if deadline.case else deadline.title
    if deadline.status == Status.DONE:
        return _("Done: %(title)s") % {"title": title}
    if deadline.status == Status.MISSED:
        return _("Missed: %(title)s") % {"title": title}
    return title


def feed(user, *, today: date) -> bytes:
    """The person's deadlines as an iCalendar document, in their language."""
    roles = roles_of(user)
    base = settings.SPORTELLO_BASE_URL.rstrip("/")
    domain = id_domain()
    with translation.override(language_of(user)):
        calendar = Calendar()
        calendar.add("prodid", "-//Sportello//Deadlines//IT")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", _("Sportello deadlines"))
        for deadline in deadline_agenda.feed_deadlines(user, today=today):
            case = deadline.case
            staff = case is not None and is_staff_of(case, roles)
            event = Event()
            # The same UID for the deadline's whole life: a calendar program moves the event
            # when the date changes instead of adding another.
            event.add("uid", f"deadline-{deadline.pk}@{domain}")
            event.add("dtstamp", deadline.updated_at)
            event.add("last-modified", deadline.updated_at)
            event.add("dtstart", deadline.due_on)
            event.add("dtend", deadline.due_on + timedelta(days=1))
            event.add("summary", _summary(deadline))
            event.add("transp", "TRANSPARENT")
            lines = [
                deadline_words.term(deadline),
                _("Status: %(status)s") % {"status": deadline.get_status_display()},
            ]
            if case is not None:
                lines.insert(0, f"{case.cooperative.name} · {case.subject}")
                path = (
                    reverse("work:case", args=[case.pk])
                    if staff
                    else reverse("portal-case", args=[case.pk])
                )
                event.add("url", base + path)
            if staff and deadline.note:
                lines.append(deadline.note)
            event.add("description", "\n".join(lines))
            calendar.add_component(event)
    return calendar.to_ical()


# --- The pages ---------------------------------------------------------------------------------


@require_GET
def calendar_feed(request, token: str):
    """GET /calendar/<secret>.ics: no session, the secret is the key (404 if unknown)."""
    user = owner_of(token)
    if user is None:
        raise Http404(_("No such calendar."))
    response = HttpResponse(
        feed(user, today=timezone.localdate()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="sportello.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
def calendar_page(request):
    """The person's feed URL, with buttons to make one, replace it (revoking the old one) or
    stop it."""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            calendar_token_revoke(user=request.user)
            messages.success(request, _("Your calendar feed is stopped: its URL no longer works."))
        else:
            calendar_token_replace(user=request.user)
            messages.success(
                request,
                _("Your calendar feed has a new URL; the previous one, if any, no longer works."),
            )
        return redirect("calendar")
    token = calendar_token_of(request.user)
    base = "workspace/base.html" if roles_of(request.user).is_staff_role else "portal/layout.html"
    return render(
        request,
        "calendar.html",
        {"base": base, "feed_url": feed_url(token) if token else ""},
    )
