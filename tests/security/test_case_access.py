"""Every read of a case by staff is recorded (GDPR accountability); members' reads are not."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.audit import case_read_recorded
from casework.models import CaseAccess, Membership
from tests import factories
from tests.security.conftest import PDF_BYTES
from workflows.process import case_attach

pytestmark = pytest.mark.django_db


def _api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reads(**filters):
    return list(CaseAccess.objects.filter(**filters).values_list("user__username", "channel"))


def test_a_consultant_opening_the_case_page_is_recorded_once(client, consultant, assigned_case):
    client.force_login(consultant)
    url = reverse("work:case", args=[assigned_case.pk])
    read_at = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)

    # Refreshing the page is the same read.
    with time_machine.travel(read_at, tick=False):
        for _ in range(3):
            assert client.get(url).status_code == 200

    assert _reads(case=assigned_case) == [("consulente", "page")]
    assert CaseAccess.objects.get().accessed_at == read_at


def test_a_consultant_reading_the_case_through_the_api_is_recorded(consultant, assigned_case):
    api = _api(consultant)

    response = api.get(f"/api/v1/cases/{assigned_case.pk}/")
    api.get(f"/api/v1/cases/{assigned_case.pk}/")

    assert response.status_code == 200
    assert _reads(case=assigned_case) == [("consulente", "api")]


def test_page_and_api_are_recorded_separately(client, supervisor, assigned_case):
    client.force_login(supervisor)

    client.get(reverse("work:case", args=[assigned_case.pk]))
    client.get(f"/api/v1/cases/{assigned_case.pk}/")

    assert sorted(_reads(case=assigned_case)) == [("supervisore", "api"), ("supervisore", "page")]


def test_reading_again_after_five_minutes_is_a_new_row(client, consultant, assigned_case):
    client.force_login(consultant)
    url = reverse("work:case", args=[assigned_case.pk])
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.get(url)
        traveller.shift(timedelta(minutes=4))
        client.get(url)
        traveller.shift(timedelta(minutes=2))
        client.get(url)

    assert CaseAccess.objects.filter(case=assigned_case).count() == 2


def test_a_staff_download_of_a_document_is_recorded(client, member, consultant, assigned_case):
    upload = SimpleUploadedFile("verbale.pdf", PDF_BYTES, content_type="application/pdf")
    document = case_attach(case=assigned_case, uploaded_by=member, file=upload)
    client.force_login(consultant)

    response = client.get(reverse("work:attachment", args=[assigned_case.pk, document.pk]))

    assert response.status_code == 200
    assert _reads(case=assigned_case) == [("consulente", "download")]


def test_a_member_opening_their_own_case_creates_no_row(client, member, assigned_case):
    client.force_login(member)

    assert client.get(reverse("portal-case", args=[assigned_case.pk])).status_code == 200
    assert _api(member).get(f"/api/v1/cases/{assigned_case.pk}/").status_code == 200

    assert not CaseAccess.objects.exists()


def test_staff_who_are_members_of_the_cooperative_read_as_members(
    consultant, cooperative, assigned_case
):
    Membership.objects.create(user=consultant, cooperative=cooperative)

    assert _api(consultant).get(f"/api/v1/cases/{assigned_case.pk}/").status_code == 200

    assert not CaseAccess.objects.exists()


def test_a_refused_read_is_not_a_read(other_member, assigned_case):
    response = _api(other_member).get(f"/api/v1/cases/{assigned_case.pk}/")

    assert response.status_code == 404
    assert not CaseAccess.objects.exists()


def test_the_service_records_each_user_case_and_channel(consultant, supervisor, assigned_case):
    assert case_read_recorded(user=consultant, case=assigned_case, channel="page") is True
    assert case_read_recorded(user=consultant, case=assigned_case, channel="page") is False
    assert case_read_recorded(user=consultant, case=assigned_case, channel="download") is True
    assert case_read_recorded(user=supervisor, case=assigned_case, channel="page") is True
    with pytest.raises(ValueError):
        case_read_recorded(user=supervisor, case=assigned_case, channel="fax")

    assert CaseAccess.objects.count() == 3


def test_the_page_costs_the_same_queries_whether_or_not_it_writes(
    client, consultant, assigned_case
):
    client.force_login(consultant)
    url = reverse("work:case", args=[assigned_case.pk])
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    with CaptureQueriesContext(connection) as second:
        client.get(url)

    assert len(first) == len(second)


def test_administrators_see_the_reads_and_cannot_change_them(client, admin_user, assigned_case):
    reader = factories.SupervisorFactory(user__username="lettore").user
    case_read_recorded(user=reader, case=assigned_case, channel="page")
    access = CaseAccess.objects.get()
    client.force_login(admin_user)

    listing = client.get(reverse("admin:casework_caseaccess_changelist"))
    change = client.post(
        reverse("admin:casework_caseaccess_change", args=[access.pk]), {"channel": "api"}
    )

    assert listing.status_code == 200
    assert assigned_case.reference in listing.content.decode()
    assert client.get(reverse("admin:casework_caseaccess_add")).status_code == 403
    assert change.status_code == 403
    assert (
        client.post(
            reverse("admin:casework_caseaccess_delete", args=[access.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    access.refresh_from_db()
    assert access.channel == "page"
