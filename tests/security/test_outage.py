"""A lost database connection is a clean, retryable 503 (pages and API), never a 500 traceback."""

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    """The case list's read fails as it does while PostgreSQL restarts."""

    def refuse(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr("casework.selectors.cases_visible_to", refuse)
    monkeypatch.setattr("api.views.cases.case_list_for", refuse, raising=False)
    monkeypatch.setattr("casework.selectors.case_list_for", refuse)


def test_api_answers_503_json_with_retry_after(client, member, database_down):
    client.force_login(member)
    response = client.get("/api/v1/cases/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"


def test_page_answers_503_with_a_message(client, member, database_down):
    client.raise_request_exception = False
    client.force_login(member)
    response = client.get("/cases/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"briefly unavailable" in response.content
