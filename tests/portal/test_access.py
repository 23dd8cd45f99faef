"""Every page of the portal, the dashboard and the reports for every role: allowed or refused."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.portal.conftest import PDF_BYTES
from workflows.process import case_attach

pytestmark = pytest.mark.django_db

ROLES = ["member", "other_member", "consultant", "supervisor", "admin_user", "nobody", None]


@pytest.fixture
def document(member_case, member):
    return case_attach(
        case=member_case,
        uploaded_by=member,
        file=SimpleUploadedFile("verbale.pdf", PDF_BYTES),
    )


def _login(client, request, role):
    if role is not None:
        client.force_login(request.getfixturevalue(role))


def _expect(response, expected):
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif isinstance(expected, str):
        assert response.status_code == 302, response.status_code
        assert response["Location"] == expected
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("member", "/cases/"),
        ("other_member", "/cases/"),
        ("consultant", "/work/"),
        ("supervisor", "/dashboard/"),
        ("admin_user", "/dashboard/"),
        ("nobody", 200),
        (None, "login"),
    ],
)
def test_home_sends_each_role_to_its_place(client, request, role, expected):
    _login(client, request, role)
    _expect(client.get("/"), expected)


@pytest.mark.parametrize("path", ["/cases/", "/cases/new/"])
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("member", 200),
        ("other_member", 200),
        ("consultant", "/"),
        ("supervisor", "/"),
        ("admin_user", "/"),
        ("nobody", 403),
        (None, "login"),
    ],
)
def test_portal_lists_and_intake(client, request, process_setup, path, role, expected):
    _login(client, request, role)
    _expect(client.get(path), expected)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("member", 200),
        ("other_member", 404),
        ("consultant", "work"),
        ("supervisor", "work"),
        ("admin_user", "work"),
        ("nobody", 403),
        (None, "login"),
    ],
)
def test_portal_case_page(client, request, member_case, role, expected):
    _login(client, request, role)
    if expected == "work":
        expected = f"/work/cases/{member_case.pk}/"
    _expect(client.get(f"/cases/{member_case.pk}/"), expected)


@pytest.mark.parametrize("action", ["reply", "confirm", "reopen", "rate"])
@pytest.mark.parametrize(
    ("role", "expected"),
    [("other_member", 404), ("consultant", "/"), ("nobody", 403), (None, "login")],
)
def test_portal_case_actions_refused(client, request, member_case, action, role, expected):
    _login(client, request, role)
    before = member_case.status
    _expect(
        client.post(f"/cases/{member_case.pk}/{action}/", {"body": "x", "reason": "x"}), expected
    )
    member_case.refresh_from_db()
    assert member_case.status == before
    assert not member_case.messages.filter(body="x").exists()


def test_portal_actions_need_post(client, member, member_case):
    client.force_login(member)
    assert client.get(f"/cases/{member_case.pk}/confirm/").status_code == 405


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("member", 200),
        ("other_member", 404),
        ("consultant", 200),
        ("supervisor", 200),
        ("admin_user", 200),
        ("nobody", 404),
        (None, "login"),
    ],
)
def test_document_download(client, request, document, role, expected):
    _login(client, request, role)
    response = client.get(f"/documents/{document.pk}/")
    _expect(response, expected)
    if expected == 200:
        assert b"".join(response.streaming_content) == PDF_BYTES
        assert response["Content-Type"] == "application/pdf"
        assert 'filename="verbale.pdf"' in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("member", 403),
        ("other_member", 403),
        ("consultant", 403),
        ("supervisor", 200),
        ("admin_user", 200),
        ("nobody", 403),
        (None, "login"),
    ],
)
def test_dashboard(client, request, process_setup, role, expected):
    _login(client, request, role)
    _expect(client.get("/dashboard/"), expected)


@pytest.mark.parametrize("suffix", ["", "export.csv", "?format=csv"])
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("member", 200),
        ("other_member", 404),
        ("consultant", 200),
        ("supervisor", 200),
        ("admin_user", 200),
        ("nobody", 404),
        (None, "login"),
    ],
)
def test_cooperative_report(client, request, cooperative, suffix, role, expected):
    _login(client, request, role)
    _expect(client.get(f"/reports/cooperatives/{cooperative.pk}/{suffix}"), expected)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("member", "own"),
        ("consultant", 200),
        ("supervisor", 200),
        ("admin_user", 200),
        ("nobody", 404),
        (None, "login"),
    ],
)
def test_cooperative_report_index(client, request, cooperative, role, expected):
    _login(client, request, role)
    if expected == "own":
        expected = f"/reports/cooperatives/{cooperative.pk}/"
    _expect(client.get("/reports/cooperatives/"), expected)


def test_unknown_cooperative_report_is_404_even_for_staff(client, supervisor):
    client.force_login(supervisor)
    assert client.get("/reports/cooperatives/999999/").status_code == 404
