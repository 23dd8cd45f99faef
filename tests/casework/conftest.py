"""Fixtures for the casework tests: an English-speaking admin browser and one row of every model."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from casework import models
from tests import factories

ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def admin_browser(admin_user):
    """The administrator in a browser asking for English pages, so messages can be asserted."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


@pytest.fixture
def browser_as():
    """A browser logged in as the given user, asking for English pages."""

    def login(user):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return login


@pytest.fixture
def registry_sample(office, area, cooperative, member, consultant, supervisor, settings, tmp_path):
    """At least one row of every model the admin shows, linked the way the services link them."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    calendar = models.BusinessCalendar.objects.create(office=office)
    models.OpeningHours.objects.create(
        calendar=calendar, weekday=0, opens_at=time(9), closes_at=time(13)
    )
    models.Closure.objects.create(
        calendar=calendar,
        starts_at=datetime(2026, 12, 24, 13, tzinfo=ROME),
        ends_at=datetime(2026, 12, 24, 18, tzinfo=ROME),
        reason="Vigilia di Natale",
    )
    specialty = factories.SpecialtyFactory(area=area, code="contracts", name="Contratti")
    outcome = factories.OutcomeFactory(area=area, code="opinion_issued", label="Parere rilasciato")
    policy = factories.SlaPolicyFactory(area=area, priority="normal")
    models.TriageRule.objects.create(area=area, keyword="sfratto", priority="urgent")
    models.CannedReply.objects.create(
        title="Presa in carico", area=area, language="it", body="Gentile {{richiedente}},"
    )
    models.UserProfile.objects.create(user=member, language="it")
    case = models.Case.objects.create(
        reference="LEG-2026-000001",
        cooperative=cooperative,
        requester=member,
        area=area,
        specialty=specialty,
        subject="Verifica contratto di appalto",
        description="Chiediamo un parere sul contratto allegato.",
        status=models.CaseStatus.CLOSED,
        assignee=consultant,
        outcome=outcome,
        resolution_summary="Parere inviato.",
        sla_policy=policy,
    )
    message = models.Message.objects.create(case=case, author=member, body="Ecco il contratto.")
    models.Attachment.objects.create(
        case=case,
        message=message,
        uploaded_by=member,
        file="cases/2026/01/1/contratto.pdf",
        original_name="contratto.pdf",
        content_type="application/pdf",
        size=1234,
        sha256="0" * 64,
    )
    models.CaseEvent.objects.create(
        case=case, actor=member, kind=models.CaseEvent.Kind.OPENED, after={"status": "triage"}
    )
    models.SlaPause.objects.create(
        case=case,
        reason=models.SlaPause.Reason.INFO_REQUESTED,
        started_at=datetime(2026, 1, 5, 10, tzinfo=ROME),
        ended_at=datetime(2026, 1, 5, 12, tzinfo=ROME),
    )
    models.Rating.objects.create(case=case, score=5, rated_by=member)
    models.Notification.objects.create(
        case=case,
        recipient=member,
        email=member.email,
        kind="case_resolved",
        subject="Pratica risolta",
        body="La pratica è stata risolta.",
        dedupe_key=f"case_resolved:{case.pk}:{member.pk}",
    )
    models.CaseCounter.objects.create(prefix="LEG", year=2026, last_number=1)
    models.IdempotencyKey.objects.create(user=member, key="k-1", request_hash="0" * 64, case=case)
    models.CaseAccess.objects.create(user=consultant, case=case, channel="page")
    models.CaseRead.objects.create(user=consultant, case=case)
    deadline = models.Deadline.objects.create(
        cooperative=cooperative,
        case=case,
        area=area,
        title="Ricorso",
        kind="fixed",
        trigger_date=datetime(2026, 9, 14).date(),
        due_on=datetime(2026, 9, 14).date(),
        responsible=consultant,
    )
    models.DeadlineReminder.objects.create(deadline=deadline, days_before=7)
    models.Invitation.objects.create(
        cooperative=cooperative,
        email="nuova.socia@example.org",
        token_hash="1" * 64,
        invited_by=consultant,
    )
    models.CaseParticipant.objects.create(case=case, user=member, added_by=member)
    plan = models.ServicePlan.objects.create(
        cooperative=cooperative,
        year=2026,
        hours_included=20,
        effective_from=datetime(2026, 1, 1).date(),
        effective_until=datetime(2026, 12, 31).date(),
    )
    models.ServicePlanArea.objects.create(plan=plan, area=area, hours_included=8)
    estimate = models.Estimate.objects.create(
        case=case, minutes=120, note="Due ore per il parere.", proposed_by=consultant
    )
    models.TimeEntry.objects.create(
        case=case,
        consultant=consultant,
        day=datetime(2026, 1, 5).date(),
        minutes=45,
        note="Lettura del contratto",
        estimate=estimate,
    )
    models.RecurringObligation.objects.create(
        name="Revisione cooperativa", area=area, interval_months=24, anchor="last_audit_on"
    )
    models.SavedView.objects.create(
        owner=consultant, name="Le mie aperte", filters={"status": ["assigned"]}
    )
    models.Heartbeat.objects.create(job=models.Heartbeat.Job.SLA_SWEEP, completed_at=timezone.now())
    mailbox = models.Mailbox.objects.create(
        name="legale", address="legale@federazione.example", kind="maildir", path="var/mail/legale"
    )
    models.InboundEmail.objects.create(
        mailbox=mailbox,
        header_message_id="sample-1@example.org",
        status=models.InboundEmail.Status.FAILED,
        from_address="sconosciuto@example.org",
        subject="Richiesta",
        raw=ContentFile(
            b"From: sconosciuto@example.org\r\nSubject: Richiesta\r\n\r\nBuongiorno.\r\n",
            name="sample.eml",
        ),
        size=62,
        error="The message cannot be read.",
    )
    Group.objects.create(name="Segreteria")
    return case
