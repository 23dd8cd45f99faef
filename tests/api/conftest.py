"""Fixtures for the API: an area ready for the process, clients per role, cases in each state."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from casework.models import Consultant
from tests import factories


@pytest.fixture(autouse=True)
def _scratch_media(settings, tmp_path):
    # Uploads go to a scratch dir (the cache is emptied for every test by tests/conftest.py).
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def fiscal_area():
    area = factories.AreaFactory(code="fiscal", name="Fiscale", reference_prefix="FIS")
    area.default_priority = "normal"
    area.save()
    return area


@pytest.fixture
def consultant2(area, office):
    return factories.ConsultantFactory(
        user__username="consulente2", office=office, areas=[area], capacity=200
    ).user


@pytest.fixture
def fiscal_consultant(fiscal_area, office):
    return factories.ConsultantFactory(
        user__username="consulente.fiscale", office=office, areas=[fiscal_area], capacity=200
    ).user


@pytest.fixture
def fiscal_supervisor(fiscal_area):
    return factories.SupervisorFactory(
        user__username="supervisore.fiscale", all_areas=False, areas=[fiscal_area]
    ).user


@pytest.fixture
def outsider():
    """Signed in, but neither member nor staff."""
    return factories.UserFactory(username="passante")


@pytest.fixture
def api():
    """A client for a user: `api(user)`; `api()` is anonymous.

    It signs in with a token, as integrations do, so that each request reads the user afresh
    (roles are cached on the user object for one request only).
    """

    def make(user=None):
        client = APIClient()
        if user is not None:
            token, _created = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def other_case(open_case, other_member, other_cooperative, consultant):
    """A case of the other cooperative, in the same area (so the same staff see it)."""
    return open_case(other_member, other_cooperative)


def set_capacity(user, capacity):
    Consultant.objects.filter(user=user).update(capacity=capacity)
