"""Error pages that hold when the database does not: a brief outage is a 503, never a 500."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

RETRY_AFTER_SECONDS = "5"
DATABASE_DOWN = (OperationalError, InterfaceError)


def database_unavailable(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": _("The service is briefly unavailable: try again in a few seconds."),
                "code": "service_unavailable",
            },
            status=503,
        )
    else:
        # Rendered without a request: context processors would query the database that is down.
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def server_error(request):
    """handler500: a lost database connection becomes a 503; the API always answers JSON."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_DOWN):
        return database_unavailable(request)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Server error: the team has been told."), "code": "server_error"},
            status=500,
        )
    return defaults.server_error(request)
