"""Who signs in with a second factor, and their devices: an authenticator app and recovery codes.

The devices are django-otp's: one confirmed TOTPDevice per person (a replacement is set up as
an unconfirmed one and takes the old one's place once it proved itself), and one StaticDevice
holding the person's single-use recovery codes. Every code is checked with django-otp's
`verify_token`, which locks the device row, refuses a TOTP code of a time step already used
(`last_t`) and slows down a run of wrong codes on the device (1, 2, 4, 8... seconds).
"""

from __future__ import annotations

import math
import re
from base64 import b32encode
from dataclasses import dataclass

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.roles import roles_of

RECOVERY_CODE_COUNT = 10
TOTP_CODE = re.compile(r"\d{6}")
AUTHENTICATOR_NAME = "Authenticator"
RECOVERY_CODES_NAME = "Recovery codes"


def is_staff_account(user) -> bool:
    """Federation staff (consultants, supervisors, administrators) and anyone with the admin."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or user.is_superuser or roles_of(user).is_staff_role


def second_factor_required(user) -> bool:
    """Whether this person must give a second factor to sign in (STAFF_2FA_REQUIRED, staff)."""
    return bool(settings.STAFF_2FA_REQUIRED) and is_staff_account(user)


# --- Reading -------------------------------------------------------------------------------------


def authenticator_of(user) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if they set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalise(code: str) -> str:
    """A code as typed: spaces and dashes are the reader's grouping, case does not matter."""
    return re.sub(r"[\s-]+", "", code or "").lower()


def is_authenticator_code(code: str) -> bool:
    return TOTP_CODE.fullmatch(normalise(code)) is not None


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it when typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an inline SVG QR code (drawn here, no request out)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=2, title=_("QR code for your authenticator app"), svgclass="qr"
    )


# --- Checking a code -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    """What checking a code gave: the device that accepted it, or why none did."""

    device: Device | None = None
    # Seconds until the device takes codes again after a run of wrong ones (0: it was not that).
    wait_seconds: int = 0

    @property
    def accepted(self) -> bool:
        return self.device is not None

    @property
    def recovery(self) -> bool:
        return isinstance(self.device, StaticDevice)


def code_check(*, user, code: str) -> CodeCheck:
    """Check a code: six digits go to the authenticator, anything else to the recovery codes.

    A recovery code that matches is used up. A TOTP code is accepted once per time step.
    """
    code = normalise(code)
    if TOTP_CODE.fullmatch(code):
        device = authenticator_of(user)
    else:
        device = StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        return CodeCheck()
    allowed, details = device.verify_is_allowed()
    verified = django_otp.verify_token(user, device.persistent_id, code)
    if verified is not None:
        return CodeCheck(device=verified)
    if not allowed:
        wait = (details["locked_until"] - timezone.now()).total_seconds()
        return CodeCheck(wait_seconds=max(1, math.ceil(wait)))
    return CodeCheck()


# --- Writing -------------------------------------------------------------------------------------


@transaction.atomic
def authenticator_setup(*, user, replace: bool = False) -> TOTPDevice:
    """The unconfirmed authenticator being set up: the one already started, or a new one.

    With `replace`, any one already started is dropped and a new secret is made (resetting the
    device); the confirmed device, if any, keeps working until the new one is confirmed.
    """
    pending = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False)
    if replace:
        pending.delete()
    else:
        device = pending.order_by("pk").first()
        if device is not None:
            return device
    return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def authenticator_setup_of(user, device_id) -> TOTPDevice | None:
    """The unconfirmed device `device_id` of this person, if it is still being set up."""
    if not isinstance(device_id, int):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=False, pk=device_id).first()


@transaction.atomic
def authenticator_confirm(*, user, device: TOTPDevice, code: str) -> bool:
    """Confirm a device being set up with a code it shows; it replaces any other of the person.

    False (nothing changed but the device's count of wrong codes) when the code is wrong.
    """
    code = normalise(code)
    if not TOTP_CODE.fullmatch(code):
        return False
    locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user).first()
    if locked is None or locked.confirmed or not locked.verify_token(code):
        return False
    TOTPDevice.objects.filter(user=user).exclude(pk=locked.pk).delete()
    locked.confirmed = True
    locked.save(update_fields=["confirmed"])
    device.refresh_from_db()
    return True


@transaction.atomic
def recovery_codes_issue(*, user) -> list[str]:
    """New recovery codes for the person, replacing every old one: shown to them once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_CODES_NAME, confirmed=True)
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if not TOTP_CODE.fullmatch(code):  # never mistaken for an authenticator's code
            codes.add(code)
    ordered = sorted(codes)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in ordered)
    return ordered
