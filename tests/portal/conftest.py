"""Fixtures of the portal and dashboard tests: English pages, uploads, cases in bulk.

The case process and `open_case` are the suite's, in tests/conftest.py."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework.models import (
    Case,
    Rating,
)
from tests import factories

PDF_BYTES = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
_references = itertools.count(1)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads go to a temporary directory, never to the developer's var/uploads."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def english_cookie(client):
    """Pages in English, so assertions on text hold whatever the Italian catalogue says."""
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def specialty(area):
    return factories.SpecialtyFactory(area=area, code="statuto", name="Statuto e atti")


@pytest.fixture
def other_specialty(other_area):
    return factories.SpecialtyFactory(area=other_area, code="iva", name="IVA")


@pytest.fixture
def multi_member(cooperative, other_cooperative):
    user = factories.MembershipFactory(cooperative=cooperative, user__username="socio.multi").user
    factories.MembershipFactory(cooperative=other_cooperative, user=user)
    return user


@pytest.fixture
def nobody():
    """A logged-in account with no role at all."""
    return factories.UserFactory(username="nessuno")


@pytest.fixture
def pdf_upload():
    def make(name="statuto.pdf", content=PDF_BYTES):
        return SimpleUploadedFile(name, content, content_type="application/pdf")

    return make


@pytest.fixture
def member_case(open_case, member, cooperative, consultant):
    """The member's case, routed to the consultant."""
    return open_case(member, cooperative)


def make_case(*, cooperative, area, status="unassigned", assignee=None, **fields) -> Case:
    """A case row written directly, for figures that need many cases in given states quickly."""
    now = timezone.now()
    number = next(_references)
    values = {
        "reference": f"{area.reference_prefix}-2099-{number:06d}",
        "cooperative": cooperative,
        "area": area,
        "subject": f"Caso {number}",
        "description": "Descrizione",
        "priority": "normal",
        "status": status,
        "assignee": assignee,
        "created_at": now - timedelta(hours=2),
        "first_response_due_at": now + timedelta(hours=4),
        "first_response_warn_at": now + timedelta(hours=3),
        "resolution_due_at": now + timedelta(days=5),
        "resolution_warn_at": now + timedelta(days=4),
        "clock_running_since": now - timedelta(hours=2),
    }
    values.update(fields)
    return Case.objects.create(**values)


def make_mixed_cases(n, *, cooperative, area, consultant, outcome, rater) -> list[Case]:
    """`n` cases cycling through open, waiting, resolved, closed (rated) and breached."""
    now = timezone.now()
    cases = []
    for index in range(n):
        kind = index % 5
        if kind == 0:
            case = make_case(cooperative=cooperative, area=area, status="unassigned")
        elif kind == 1:
            case = make_case(
                cooperative=cooperative,
                area=area,
                assignee=consultant,
                status="waiting",
                sla_state="paused",
                clock_running_since=None,
            )
        elif kind == 2:
            case = make_case(
                cooperative=cooperative,
                area=area,
                assignee=consultant,
                status="resolved",
                outcome=outcome,
                first_response_at=now - timedelta(hours=1),
                resolved_at=now - timedelta(minutes=30),
                confirmation_due_at=now + timedelta(days=5),
                first_response_elapsed_seconds=3600,
                resolution_elapsed_seconds=5400,
                minutes_spent=30,
                sla_state="met",
            )
        elif kind == 3:
            case = make_case(
                cooperative=cooperative,
                area=area,
                assignee=consultant,
                status="closed",
                outcome=outcome,
                first_response_at=now - timedelta(hours=1),
                resolved_at=now - timedelta(minutes=50),
                closed_at=now - timedelta(minutes=10),
                first_response_elapsed_seconds=1800,
                resolution_elapsed_seconds=4200,
                minutes_spent=45,
                sla_state="met",
            )
            Rating.objects.create(case=case, score=1 + index % 5, rated_by=rater)
        else:
            case = make_case(
                cooperative=cooperative,
                area=area,
                assignee=consultant,
                status="assigned",
                first_response_due_at=now - timedelta(hours=1),
                first_response_warn_at=now - timedelta(hours=2),
                sla_state="breached",
            )
        cases.append(case)
    return cases
