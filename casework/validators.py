"""Validators for Italian identifiers used by the federation's registry, and for typed ids."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def is_ascii_number(value: str) -> bool:
    """Whether `value` is written with the digits 0 to 9 only.

    str.isdigit() is also true for "²" and "①", which int() refuses, and for the digits of other
    scripts such as "٣", which int() reads as 3; no id or tax code of ours is written either way.
    """
    return value.isascii() and value.isdigit()


def id_in(value: str) -> int | None:
    """The row id that `value` names when it is a number (0 to 9 only); None when it is not one."""
    return int(value) if is_ascii_number(value) else None


def validate_id_digits(value: str) -> None:
    """An "id or name" written with other digits ("²", "①", "٣") is neither: refuse it.

    A validator, so that forms, filters and serializers report it as bad input of that field.
    """
    if value.isdigit() and not value.isascii():
        raise ValidationError(
            _("Write an id with the digits 0 to 9; got “%(value)s”."),
            code="id_digits",
            params={"value": value},
        )


def partita_iva_check_digit(first_ten: str) -> int:
    """The eleventh digit of a partita IVA, computed from the first ten (Luhn variant)."""
    total = 0
    for index, char in enumerate(first_ten):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def normalise_tax_code(value: str) -> str:
    value = (value or "").strip().upper().replace(" ", "")
    return value.removeprefix("IT")


def validate_tax_code(value: str) -> None:
    """A cooperative's tax code is its 11-digit partita IVA / codice fiscale numerico."""
    code = normalise_tax_code(value)
    if len(code) != 11 or not is_ascii_number(code):
        raise ValidationError(
            _("The tax code must be 11 digits (partita IVA); got “%(value)s”."),
            code="tax_code_format",
            params={"value": value},
        )
    if partita_iva_check_digit(code[:10]) != int(code[10]):
        raise ValidationError(
            _("“%(value)s” is not a valid partita IVA: the check digit does not match."),
            code="tax_code_checksum",
            params={"value": value},
        )


class TaxCodeField(models.CharField):
    """A partita IVA: spaces and an "IT" prefix are dropped before it is validated and stored."""

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_tax_code(value) if value else value
