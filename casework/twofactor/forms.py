"""The one form of two-factor sign-in: a code from the authenticator app, or a recovery code."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .core import is_authenticator_code, normalise


class CodeForm(forms.Form):
    # Field name `code`: AXES_SENSITIVE_PARAMETERS keeps it out of the failed-login records.
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )

    def __init__(self, *args, authenticator_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.authenticator_only = authenticator_only
        if authenticator_only:
            self.fields["code"].widget.attrs.update({"inputmode": "numeric", "maxlength": "7"})
            self.fields["code"].help_text = _("The 6-digit code your authenticator app shows.")
        else:
            self.fields["code"].help_text = _(
                "The 6-digit code your authenticator app shows, or one of your recovery codes."
            )

    def clean_code(self) -> str:
        code = normalise(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Type the code."), code="required")
        if self.authenticator_only and not is_authenticator_code(code):
            raise forms.ValidationError(
                _("The code is the 6 digits your authenticator app shows."), code="format"
            )
        return code

    def refuse(self, wait_seconds: int = 0) -> None:
        """Mark the code as refused, saying why."""
        if wait_seconds:
            message = _(
                "Too many wrong codes in a row: wait %(seconds)d seconds, then type the code "
                "your app shows at that moment."
            ) % {"seconds": wait_seconds}
        else:
            message = _("That code is wrong, has expired or was already used.")
        self.add_error("code", message)
