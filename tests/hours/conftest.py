"""Fixtures for hours: a plan for Cooperativa Alfa, the people who answer for it, an API client.

Names start with `hours_` so they stay apart from the suite's other fixtures (each is defined
once in the whole suite).
"""

from datetime import date

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from casework.models import ServicePlan


@pytest.fixture
def hours_plan(cooperative):
    """Alfa's plan of this year: 10 hours in total."""
    year = timezone.localdate().year
    return ServicePlan.objects.create(
        cooperative=cooperative,
        year=year,
        hours_included=10,
        effective_from=date(year, 1, 1),
        effective_until=date(year, 12, 31),
    )


@pytest.fixture
def hours_api():
    """`hours_api(user)`: a client signed in with a token, answering in English."""

    def make(user=None):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            token, _created = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
