"""The forms of the accounts pages: asking for a password reset, inviting, accepting."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from casework.account_mail import absolute_url, account_mail_queue
from casework.models import Membership
from casework.policy import may_act_on_people
from casework.roles import roles_of


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset form, its e-mail queued in the outbox in the account's language."""

    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def get_users(self, email):
        """Every active account with this address, in any case; also one without a usable
        password yet (a person loaded by the federation's import sets it this way). An inactive
        account gets nothing."""
        return (
            user
            for user in get_user_model()
            .objects.filter(email__iexact=email.strip(), is_active=True)
            .order_by("pk")
            if user.email
        )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        user = context["user"]
        path = reverse(
            "password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]}
        )
        seconds = settings.PASSWORD_RESET_TIMEOUT
        account_mail_queue(
            kind="password_reset",
            email=to_email,
            recipient=user,
            # Each request its own e-mail (the throttle bounds how many).
            dedupe=f"password_reset:{user.pk}:{uuid.uuid4().hex}",
            context={
                "url": absolute_url(path),
                "valid_days": seconds // 86400 if seconds % 86400 == 0 else None,
                "valid_hours": max(1, seconds // 3600),
            },
        )


def role_choices_for(user, cooperative_id: int) -> list[tuple[str, str]]:
    """The roles this person may give in the cooperative (`policy.may_act_on_people`)."""
    roles = roles_of(user)
    return [
        (value, label)
        for value, label in Membership.Role.choices
        if may_act_on_people(roles, cooperative_id, role=value)
    ]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
    )

    def __init__(self, *args, user, cooperative_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices_for(user, cooperative_id)
        self.fields["role"].initial = Membership.Role.MEMBER


class AcceptForm(forms.Form):
    """A new account from an invitation: a name, a username, a password typed twice."""

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("You sign in with it. Letters, digits and @ . + - _ only."),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        one, two = cleaned.get("password1"), cleaned.get("password2")
        if one and two and one != two:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


def suggested_username(email: str) -> str:
    """The part of the address before the @, as a username suggestion, if it is free."""
    local = "".join(ch for ch in email.partition("@")[0] if ch.isalnum() or ch in "._-+")[:150]
    if not local or get_user_model().objects.filter(username__iexact=local).exists():
        return ""
    return local
