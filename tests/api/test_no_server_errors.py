"""Odd input anywhere gives a 4xx with a JSON body, never a server error."""

import pytest

from workflows import process
from workflows.flows import CaseFlow

pytestmark = pytest.mark.django_db

HUGE = "9" * 30


@pytest.fixture
def urls(assigned_case):
    task = process.active_task(assigned_case, CaseFlow.work)
    case = assigned_case.pk
    return {
        "list": [
            "/api/v1/cases/",
            f"/api/v1/cases/{case}/messages/",
            f"/api/v1/cases/{case}/attachments/",
            f"/api/v1/cases/{case}/events/",
            "/api/v1/tasks/",
            "/api/v1/sla/cases/",
            "/api/v1/areas/",
        ],
        "detail": [
            f"/api/v1/cases/{HUGE}/",
            f"/api/v1/cases/{HUGE}/messages/",
            f"/api/v1/cases/{case}/attachments/{HUGE}/download/",
            f"/api/v1/tasks/{HUGE}/",
            f"/api/v1/reports/cooperatives/{HUGE}/",
            "/api/v1/cases/%00/",
            "/api/v1/cases/%E2%82%AC/",
        ],
        "task": task.pk,
    }


ODD_PARAMS = [
    {"page": "0"},
    {"page": "-1"},
    {"page": HUGE},
    {"page_size": "-5"},
    {"page_size": HUGE},
    {"cooperative": HUGE},
    {"cooperative": "1e400"},
    {"assignee": HUGE},
    {"assignee": "\x00"},
    {"area": "\x00"},
    {"ordering": "-nope,,id"},
    {"status": ["assigned", "nope"]},
    {"scope": "\x00"},
    {"state": "on_track"},
]


@pytest.mark.parametrize("params", ODD_PARAMS)
def test_odd_query_strings(api, supervisor, urls, params):
    client = api(supervisor)
    for url in urls["list"]:
        response = client.get(url, params)
        assert response.status_code < 500, (url, params)
        assert response["Content-Type"].startswith("application/json"), (url, params)


def test_odd_ids(api, supervisor, urls):
    client = api(supervisor)
    for url in urls["detail"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["detail"], url


@pytest.mark.parametrize(
    "body",
    [
        {"body": "a\x00b"},
        {"body": "x" * 30000},
        {"body": None},
        {"body": 12},
        {"minutes": HUGE},
        {"score": 1.5},
        {"outcome": None, "summary": None, "minutes_spent": None},
        {"consultant": HUGE},
        {"priority": ["high"]},
        {"area": {"code": "legal"}, "priority": "high"},
        {"area": "le\x00gal", "priority": "high"},
        [1, 2, 3],
        "just a string",
    ],
)
def test_odd_bodies(api, supervisor, member, consultant, assigned_case, urls, body):
    case = assigned_case.pk
    posts = [
        (member, "/api/v1/cases/"),
        (member, f"/api/v1/cases/{case}/messages/"),
        (consultant, f"/api/v1/cases/{case}/record-time/"),
        (consultant, f"/api/v1/cases/{case}/resolve/"),
        (consultant, f"/api/v1/cases/{case}/acknowledge/"),
        (member, f"/api/v1/cases/{case}/rate/"),
        (supervisor, f"/api/v1/cases/{case}/assign/"),
        (supervisor, f"/api/v1/cases/{case}/priority/"),
        (supervisor, f"/api/v1/cases/{case}/triage/"),
        (consultant, f"/api/v1/tasks/{urls['task']}/release/"),
        (None, "/api/v1/auth/token/"),
    ]
    for user, url in posts:
        response = api(user).post(url, body, format="json")
        assert response.status_code < 500, (url, body)
        assert response["Content-Type"].startswith("application/json"), (url, body)


def test_odd_idempotency_keys(api, member, cooperative, process_setup):
    data = {"cooperative": cooperative.pk, "area": "legal", "subject": "S", "description": "D"}
    for key in ("   ", "ü" * 200, "key\twith\ttabs"):
        response = api(member).post("/api/v1/cases/", data, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code in (200, 201), key
