"""Test-only pages for the operations tests: one that logs, one that refuses, one that fails."""

import logging

from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

log = logging.getLogger("casework.tests.ops")


def logs(request):
    log.info("serving %s", request.path)
    return HttpResponse("ok")


def refuses(request):
    # Returned, not raised: Django logs it after the middleware has finished.
    return HttpResponseForbidden("no")


@csrf_exempt  # posted to by the Sentry test through the plain WSGI handler
def fails(request):
    raise RuntimeError("the test page fails")


urlpatterns = [path("logs/", logs), path("refuses/", refuses), path("fails/", fails)]
