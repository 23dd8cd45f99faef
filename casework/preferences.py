"""A person's own preferences (language, e-mails for each message or a daily digest, timeline
order) and name: read with defaults, written in one place, and the profile page of members and
staff (`/preferences/`, also `/profile/`); the header's language menu writes the language too.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.i18n import set_language as django_set_language

from .errors import CaseError
from .models import Membership, UserProfile
from .roles import roles_of

FIELDS = ("language", "notify", "timeline_order")
NAME_FIELDS = ("first_name", "last_name")
NAME_MAX_LENGTH = 150  # Django's User.first_name and last_name


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


@transaction.atomic
def names_update(*, user, **names: str) -> None:
    """Change the person's first or last name (trimmed; at most 150 characters each)."""
    cleaned = {}
    for field, value in names.items():
        if field not in NAME_FIELDS:
            raise CaseError(_("Unknown field “%(name)s”.") % {"name": field}, code=field)
        value = (value or "").strip()
        if len(value) > NAME_MAX_LENGTH:
            raise CaseError(
                _("A name has at most %(n)d characters.") % {"n": NAME_MAX_LENGTH}, code=field
            )
        cleaned[field] = value
    if not cleaned:
        return
    for field, value in cleaned.items():
        setattr(user, field, value)
    get_user_model().objects.filter(pk=user.pk).update(**cleaned)


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


class ProfileForm(PreferencesForm):
    first_name = forms.CharField(
        label=gettext_lazy("First name"), max_length=NAME_MAX_LENGTH, required=False
    )
    last_name = forms.CharField(
        label=gettext_lazy("Last name"), max_length=NAME_MAX_LENGTH, required=False
    )
    field_order = [*NAME_FIELDS, *FIELDS]


def _set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )


def set_language(request):
    """The header's language menu (Django's `set_language`); for a signed-in person it also
    becomes their profile's language, so their e-mails follow the pages."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
    ):
        preferences_update(user=request.user, language=language)
    return response


@login_required
def preferences(request):
    """GET shows the person's profile and preferences, POST saves them (and the page follows
    the language)."""
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            chosen = {field: form.cleaned_data[field] for field in FIELDS}
            # Only the names the form sent: a client posting the preferences alone keeps them.
            names_update(
                user=request.user,
                **{f: form.cleaned_data[f] for f in NAME_FIELDS if f in request.POST},
            )
            preferences_update(user=request.user, **chosen)
            translation.activate(chosen["language"])
            messages.success(request, _("Your preferences have been saved."))
            response = redirect(request.resolver_match.url_name or "preferences")
            # The pages follow the chosen language at once, as the language switcher does.
            _set_language_cookie(response, chosen["language"])
            return response
        status = 400
    else:
        user = request.user
        form = ProfileForm(
            initial={
                **preferences_of(user),
                "first_name": user.first_name,
                "last_name": user.last_name,
            }
        )
        status = 200
    base = "workspace/base.html" if roles_of(request.user).is_staff_role else "portal/layout.html"
    return render(
        request,
        "preferences.html",
        {"form": form, "base": base, "memberships": _memberships_of(request.user)},
        status=status,
    )


def _memberships_of(user):
    """The cooperatives the person acts for, with their role in each (active ones only)."""
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("cooperative")
        .order_by("cooperative__name")
    )
