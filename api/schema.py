"""OpenAPI pieces shared by the views: the error shapes and the responses each action documents."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """What every refusal but a field validation error looks like."""

    detail = serializers.CharField(help_text=_("A message for people, in the request's language."))
    code = serializers.CharField(
        required=False, help_text=_("A stable code for programs (e.g. `already_claimed`).")
    )


# Field errors have one key per field, so their shape is a free-form object; a refusal of the
# domain on a valid-looking request comes as `detail` and `code` instead.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": _(
        'Either field errors (`{"field": ["message", ...]}`, `non_field_errors` for the '
        'request as a whole) or a refusal of the domain (`{"detail": ..., "code": ...}`).'
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

_DESCRIPTIONS = {
    400: _("Bad input."),
    401: _("No credentials, or wrong ones."),
    403: _("The user may see this but their role may not do it."),
    404: _("Not found, or not visible to this user."),
    409: _("The object is not in a state that allows this (e.g. a task already claimed)."),
    413: _("The file is larger than the configured limit."),
    415: _("The file's content is not of an accepted type."),
    429: _("Too many attempts; try again later."),
}


def error_responses(*codes: int, authenticated: bool = True) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation; 401 wherever credentials are needed."""
    responses = {}
    for code in sorted({*codes, *([401] if authenticated else [])}):
        body = VALIDATION_ERROR_SCHEMA if code == 400 else ErrorSerializer
        responses[code] = OpenApiResponse(response=body, description=_DESCRIPTIONS[code])
    return responses
