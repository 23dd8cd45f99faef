"""A person's own preferences (language, e-mails for each message or a daily digest, timeline
order): read with defaults, written in one place, and the Preferences page of members and staff.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import CaseError
from .models import UserProfile
from .roles import roles_of

FIELDS = ("language", "notify", "timeline_order")


def _choices() -> dict[str, dict[str, str]]:
    return {
        "language": dict(settings.LANGUAGES),
        "notify": dict(UserProfile.Notify.choices),
        "timeline_order": dict(UserProfile.TimelineOrder.choices),
    }


def preferences_of(user) -> dict[str, str]:
    """The person's preferences; the defaults (Italian, each message, newest first) without a
    profile row."""
    profile = UserProfile.objects.filter(user=user).first()
    return {
        "language": profile.language if profile else settings.LANGUAGE_CODE,
        "notify": profile.notify if profile else UserProfile.Notify.EACH,
        "timeline_order": profile.timeline_order if profile else UserProfile.TimelineOrder.NEWEST,
    }


@transaction.atomic
def preferences_update(*, user, **changes: str) -> UserProfile:
    """Change some of the person's preferences, creating the profile if missing.

    Every value is checked before anything is saved: an unknown one raises `CaseError` (code:
    the field's name), and nothing changes.
    """
    choices = _choices()
    for field, value in changes.items():
        if field not in choices:
            raise CaseError(_("Unknown preference “%(name)s”.") % {"name": field}, code=field)
        if value not in choices[field]:
            raise CaseError(
                _("“%(value)s” is not a valid choice for %(name)s; choose one of: %(choices)s.")
                % {"value": value, "name": field, "choices": ", ".join(choices[field])},
                code=field,
            )
    profile = _profile_of(user)
    for field, value in changes.items():
        setattr(profile, field, value)
    if changes:
        profile.save(update_fields=list(changes))
    return profile


def _profile_of(user) -> UserProfile:
    """The person's profile row, locked; created when missing (two first saves at once: the
    second reads the first's row)."""
    try:
        with transaction.atomic():
            return UserProfile.objects.select_for_update().get_or_create(user=user)[0]
    except IntegrityError:
        return UserProfile.objects.select_for_update().get(user=user)


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=settings.LANGUAGES)
    notify = forms.ChoiceField(
        label=gettext_lazy("E-mails about new messages"),
        choices=UserProfile.Notify.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Changes of status, requests for information and deadlines always arrive at once."
        ),
    )
    timeline_order = forms.ChoiceField(
        label=gettext_lazy("Order of a case's messages"),
        choices=UserProfile.TimelineOrder.choices,
        widget=forms.RadioSelect,
    )


@login_required
def preferences(request):
    """GET shows the person's preferences, POST saves them (and the page follows the language)."""
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            chosen = {field: form.cleaned_data[field] for field in FIELDS}
            preferences_update(user=request.user, **chosen)
            translation.activate(chosen["language"])
            messages.success(request, _("Your preferences have been saved."))
            response = redirect("preferences")
            # The pages follow the chosen language at once, as the language switcher does.
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen["language"],
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
            return response
        status = 400
    else:
        form = PreferencesForm(initial=preferences_of(request.user))
        status = 200
    base = "workspace/base.html" if roles_of(request.user).is_staff_role else "portal/layout.html"
    return render(request, "preferences.html", {"form": form, "base": base}, status=status)
