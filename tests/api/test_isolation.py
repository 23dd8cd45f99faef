"""A member of cooperative A asks for every object of cooperative B by id: 404 every time."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from workflows import process
from workflows.flows import CaseFlow
from workflows.process import case_attach

pytestmark = pytest.mark.django_db

CASE_ACTIONS = [
    "acknowledge",
    "request-info",
    "resolve",
    "record-time",
    "hand-back",
    "confirm",
    "reopen",
    "rate",
    "provide-info",
    "triage",
    "reject",
    "assign",
    "priority",
    "cancel",
]


@pytest.fixture
def beta(other_case, other_member, consultant):
    """Every kind of object of cooperative Beta: case, message, note, document, task, report."""
    message = process.case_post_message(case=other_case, author=other_member, body="Messaggio Beta")
    note = process.case_post_message(case=other_case, author=consultant, body="Nota", internal=True)
    document = case_attach(
        case=other_case,
        uploaded_by=other_member,
        file=SimpleUploadedFile("beta.pdf", b"%PDF-1.4 beta"),
    )
    task = process.active_task(other_case, CaseFlow.work)
    return {
        "case": other_case,
        "message": message,
        "note": note,
        "document": document,
        "task": task,
    }


def reads(beta, own_case, other_cooperative):
    case, doc = beta["case"].pk, beta["document"].pk
    return [
        f"/api/v1/cases/{case}/",
        f"/api/v1/cases/{case}/messages/",
        f"/api/v1/cases/{case}/attachments/",
        f"/api/v1/cases/{case}/attachments/{doc}/",
        f"/api/v1/cases/{case}/attachments/{doc}/download/",
        f"/api/v1/cases/{case}/events/",
        f"/api/v1/tasks/{beta['task'].pk}/",
        f"/api/v1/reports/cooperatives/{other_cooperative.pk}/",
        # Beta's document reached through Alfa's own case.
        f"/api/v1/cases/{own_case.pk}/attachments/{doc}/",
        f"/api/v1/cases/{own_case.pk}/attachments/{doc}/download/",
    ]


def writes(beta):
    case = beta["case"].pk
    return [
        *(f"/api/v1/cases/{case}/{name}/" for name in CASE_ACTIONS),
        f"/api/v1/cases/{case}/messages/",
        f"/api/v1/tasks/{beta['task'].pk}/claim/",
        f"/api/v1/tasks/{beta['task'].pk}/release/",
    ]


def test_every_read_of_another_cooperative_is_404(
    api, member, beta, assigned_case, other_cooperative
):
    client = api(member)
    for url in reads(beta, assigned_case, other_cooperative):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Beta" not in response.content.decode(), url


def test_every_write_to_another_cooperative_is_404(api, member, beta):
    client = api(member)
    for url in writes(beta):
        response = client.post(url, {"body": "x", "reason": "x", "score": 5}, format="json")
        assert response.status_code == 404, url
    upload = client.post(
        f"/api/v1/cases/{beta['case'].pk}/attachments/",
        {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 a")},
        format="multipart",
    )
    assert upload.status_code == 404


def test_lists_never_include_another_cooperative(
    api, member, beta, assigned_case, other_cooperative
):
    client = api(member)

    filtered = client.get("/api/v1/cases/", {"cooperative": other_cooperative.pk}).json()
    everything = client.get("/api/v1/cases/").json()

    assert filtered["count"] == 0
    assert [c["id"] for c in everything["results"]] == [assigned_case.pk]
    assert client.get("/api/v1/tasks/").json()["count"] == 0


def test_a_member_of_both_sees_both(api, beta, assigned_case, cooperative, other_cooperative):
    from tests import factories

    both = factories.MembershipFactory(cooperative=cooperative, user__username="socio.multi").user
    factories.MembershipFactory(cooperative=other_cooperative, user=both)
    client = api(both)

    assert client.get(f"/api/v1/cases/{beta['case'].pk}/").status_code == 200
    assert client.get(f"/api/v1/reports/cooperatives/{other_cooperative.pk}/").status_code == 200
    assert client.get("/api/v1/cases/").json()["count"] == 2


def test_a_suspended_cooperative_membership_sees_nothing(api, member, assigned_case, cooperative):
    cooperative.membership_status = "suspended"
    cooperative.save()

    assert api(member).get(f"/api/v1/cases/{assigned_case.pk}/").status_code == 404
