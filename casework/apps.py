"""The apps' names in the admin, in the reader's language: Sportello's own, and those of
django-axes and django-otp's plugins, which have no translatable name of their own (the admin
showed "AXES", "Otp_Totp", "TOTP devices")."""

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.apps import DefaultConfig as StaticDefaultConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpDefaultConfig


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("Cases and registry")
    default = True


class AxesConfig(AxesAppConfig):
    """django-axes: the sign-in lockouts."""

    verbose_name = _("Sign-in lockouts")


def _name_model(config: AppConfig, model: str, singular, plural) -> None:
    meta = config.get_model(model)._meta
    # The migrations read the model's own Meta, not these: renaming them migrates nothing.
    meta.verbose_name, meta.verbose_name_plural = singular, plural


class TotpConfig(TotpDefaultConfig):
    """django-otp's authenticator apps (staff two-factor sign-in, casework.twofactor)."""

    verbose_name = _("Two-factor sign-in: authenticator apps")

    def ready(self) -> None:
        super().ready()
        _name_model(self, "TOTPDevice", _("authenticator app"), _("authenticator apps"))


class StaticConfig(StaticDefaultConfig):
    """django-otp's single-use recovery codes."""

    verbose_name = _("Two-factor sign-in: recovery codes")

    def ready(self) -> None:
        super().ready()
        _name_model(self, "StaticDevice", _("recovery code list"), _("recovery code lists"))
