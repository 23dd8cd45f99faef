"""Fixtures of the deadline tests: English pages and API, the people around a case, a deadline."""

from datetime import date

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from casework.services import deadlines as services
from tests import factories


@pytest.fixture(autouse=True)
def deadline_pages_in_english(client):
    """The assertions read the English texts; the pages default to Italian otherwise."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def deadline_api():
    """`deadline_api(user)`: an API client signed in with a token, asking for English."""

    def make(user=None):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            token, _created = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def deadline_colleague(area, office):
    """A second consultant of the legal area: staff of every legal case."""
    return factories.ConsultantFactory(
        user__username="consulente.collega", office=office, areas=[area], capacity=200
    ).user


@pytest.fixture
def fiscal_consultant_only(other_area, office):
    """A consultant of the fiscal area only: no staff of a legal case."""
    return factories.ConsultantFactory(
        user__username="consulente.fisco", office=office, areas=[other_area], capacity=200
    ).user


@pytest.fixture
def add_deadline(assigned_case, consultant):
    """`add_deadline(**values)`: a deadline on the assigned case, added by its consultant
    (a 30-day tax term from 1 March 2026 unless told otherwise)."""

    def add(case=None, actor=None, **values):
        values.setdefault("title", "Ricorso contro l'avviso di accertamento")
        values.setdefault("kind", "tax")
        values.setdefault("trigger_date", date(2026, 3, 1))
        if values["kind"] != "fixed" and "term_months" not in values:
            values.setdefault("term_days", 30)
        return services.deadline_add(
            case=case or assigned_case, actor=actor or consultant, **values
        )

    return add
