"""The OpenAPI description is complete and valid, and the docs page works without the Internet."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    text = target.read_text()
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/cases/{id}/resolve/",
        "/api/v1/cases/{case_id}/attachments/{id}/download/",
        "/api/v1/tasks/{id}/claim/",
        "/api/v1/sla/summary/",
        "/api/v1/reports/cooperatives/{id}/",
    ):
        assert f"{path}:" in text, path


def test_every_operation_documents_its_errors(api):
    schema = api().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            where = (path, method)
            if path != "/api/v1/auth/token/":
                assert "401" in codes, where
            if "{" in path:
                assert "404" in codes, where
            if path.startswith("/api/v1/cases/{id}/") and method == "post":
                assert {"400", "403", "404", "409"} <= codes, where
                assert operation["requestBody"] if path.endswith("/resolve/") else True
            if path.endswith(("/claim/", "/release/")):
                assert {"403", "404", "409"} <= codes, where
            if path.endswith("/attachments/") and method == "post":
                assert {"413", "415"} <= codes, where


def test_docs_page_is_served_from_local_assets(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page
