"""One JSON shape for every API error, including the domain's refusals."""

import json

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from casework.attachments import PayloadTooLarge, UnsupportedType
from casework.config.errorpages import DATABASE_DOWN, database_unavailable
from casework.errors import CaseError, ConflictError, ForbiddenError, NotFoundError

# Refusals of the domain that have an HTTP status of their own (checked before CaseError).
_SPECIFIC = (
    (PayloadTooLarge, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE),
    (UnsupportedType, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE),
)


def exception_handler(exc, context):
    if isinstance(exc, DATABASE_DOWN):
        # The database is restarting or unreachable: a clean, retryable answer.
        response = database_unavailable(context["request"])
        return Response(
            {"detail": json.loads(response.content)["detail"], "code": "service_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": response["Retry-After"]},
        )
    for kind, http_status in _SPECIFIC:
        if isinstance(exc, kind):
            return Response({"detail": str(exc), "code": exc.code}, status=http_status)
    if isinstance(exc, ConflictError):
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ForbiddenError):
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, NotFoundError):
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, CaseError):
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
