"""Roles inside a cooperative: who sees a case, over every surface that shows one.

The matrix is the viewer's role in the case's cooperative (legal representative, referent,
ordinary member, a member who left, another cooperative's legal representative) × a
confidential case or not × the viewer opened it or not × the viewer follows it (participant)
or not. Each cell checks the one rule (`casework.roles.Roles.member_cases`, the selectors and
the policy) through the API list, detail, search and reply, the portal's list, search and page,
a document's download, who is e-mailed a consultant's message, and the cooperative's report
(page, API, CSV), which only legal representatives and referents open.
"""

from __future__ import annotations

import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from casework import policy
from casework.models import Membership, Notification
from casework.roles import roles_of
from casework.selectors import cases_visible_to
from tests import factories
from workflows import process

from .conftest import PDF_BYTES

pytestmark = pytest.mark.django_db

ROLE_NAMES = ("legal_rep", "referent", "member", "left", "other_cooperative")
# A word found only in the case's subject: the searches look for it.
SEARCH_WORD = "Zanzibarite"


def expected_to_see(role: str, *, confidential: bool, requester: bool, participant: bool) -> bool:
    """The rule of DESIGN.md ("People and accounts"), written out as a table reads."""
    if role in ("left", "other_cooperative"):
        return False  # an inactive membership grants nothing; another cooperative's, nothing
    if role == "legal_rep":
        return True
    own = requester or participant
    if role == "referent":
        return own or not confidential
    return own  # an ordinary member


def _cells():
    for role, confidential, requester, participant in itertools.product(
        ROLE_NAMES, (False, True), (False, True), (False, True)
    ):
        if role == "other_cooperative" and (requester or participant):
            continue  # nobody of another cooperative can open or follow Alfa's case
        if requester and participant:
            continue  # the requester follows their case already: they are never added to it
        yield pytest.param(
            role,
            confidential,
            requester,
            participant,
            id=f"{role}-{'confidential' if confidential else 'plain'}"
            f"{'-requester' if requester else ''}{'-participant' if participant else ''}",
        )


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def alfa_world(process_setup, cooperative, other_cooperative, consultant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    opener = factories.MembershipFactory(
        cooperative=cooperative, role="member", user__username="socio.apre"
    ).user
    return {"alfa": cooperative, "beta": other_cooperative, "opener": opener, "area": process_setup}


def _viewer(role: str, world) -> object:
    if role == "other_cooperative":
        return factories.MembershipFactory(cooperative=world["beta"], role="legal_rep").user
    # Who left was the legal representative: even the widest role grants nothing once inactive.
    kept_role = {"left": "legal_rep"}.get(role, role)
    return factories.MembershipFactory(cooperative=world["alfa"], role=kept_role).user


@pytest.mark.parametrize(("role", "confidential", "requester", "participant"), _cells())
def test_who_sees_a_case(alfa_world, consultant, role, confidential, requester, participant):
    # Given a case of Alfa, opened by the viewer or by a colleague, maybe confidential, maybe
    # followed by the viewer, with a public document and a consultant's public message.
    viewer = _viewer(role, alfa_world)
    case = process.case_open(
        requester=viewer if requester else alfa_world["opener"],
        cooperative=alfa_world["alfa"],
        area=alfa_world["area"],
        subject=f"Pratica {SEARCH_WORD}",
        description="Una questione delicata",
        confidential=confidential,
    )
    if participant:
        process.case_add_participant(case=case, actor=consultant, person=viewer)
    document = process.case_attach(
        case=case,
        uploaded_by=consultant,
        file=SimpleUploadedFile("parere.pdf", PDF_BYTES, content_type="application/pdf"),
    )
    if role == "left":
        Membership.objects.filter(user=viewer).update(is_active=False, left_at=timezone.now())
    message = process.case_post_message(case=case, author=consultant, body="Ecco il parere.")
    sees = expected_to_see(
        role, confidential=confidential, requester=requester, participant=participant
    )
    client = _client(viewer)
    viewer = type(viewer).objects.get(pk=viewer.pk)  # roles read afresh, after any change

    # The one rule, as a query and for one case.
    assert cases_visible_to(viewer).filter(pk=case.pk).exists() is sees
    assert policy.sees_case(case, roles_of(viewer)) is sees

    # The API: list, detail, search, and writing on it (acting follows seeing).
    assert (case.pk in _ids(client.get("/api/v1/cases/"))) is sees
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == (200 if sees else 404)
    assert (case.pk in _ids(client.get("/api/v1/cases/", {"q": SEARCH_WORD}))) is sees
    reply = client.post(
        f"/api/v1/cases/{case.pk}/messages/",
        {"body": "Grazie"},
        content_type="application/json",
    )
    assert reply.status_code == (201 if sees else 404), reply.content

    # The portal: list, search, page (someone who left is no longer a member at all: 403).
    for query in ({}, {"q": SEARCH_WORD}):
        listing = client.get("/cases/", query)
        assert listing.status_code in ((200,) if role != "left" else (403,))
        assert (case.reference in listing.content.decode()) is sees
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == (200 if sees else (403 if role == "left" else 404))

    # The document.
    download = client.get(f"/documents/{document.pk}/")
    assert download.status_code == (200 if sees else 404)
    if download.status_code == 200:
        b"".join(download.streaming_content)

    # E-mail: a consultant's public message reaches the requester and the participants, of
    # those who still see the case.
    emailed = Notification.objects.filter(message=message, recipient=viewer).exists()
    assert emailed is (sees and (requester or participant))

    # The cooperative's report, on the page, in the API and as CSV: for its legal
    # representatives and referents, counting the cases they see; 404 for anyone else.
    alfa = alfa_world["alfa"].pk
    may_report = role in ("legal_rep", "referent")
    api_report = client.get(f"/api/v1/reports/cooperatives/{alfa}/")
    page_report = client.get(f"/reports/cooperatives/{alfa}/")
    csv_report = client.get(f"/reports/cooperatives/{alfa}/export.csv")
    for response in (api_report, page_report, csv_report):
        assert response.status_code == (200 if may_report else 404)
    if may_report:
        assert api_report.json()["cases"]["total"] == (1 if sees else 0)
        assert page_report.context["report"]["cases"] == (1 if sees else 0)


def test_the_matrix_has_every_role_and_the_cells_that_see():
    cells = [param.values for param in _cells()]
    seeing = {
        role: sum(
            expected_to_see(role, confidential=c, requester=r, participant=p)
            for cell_role, c, r, p in cells
            if cell_role == role
        )
        for role in ROLE_NAMES
    }
    # A referent misses only the confidential case that is not theirs; a member the two cases
    # that are not theirs.
    assert seeing == {
        "legal_rep": 6,
        "referent": 5,
        "member": 4,
        "left": 0,
        "other_cooperative": 0,
    }
