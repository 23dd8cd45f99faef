"""The plan's limit and the estimate step of the process: propose, then accept, decline or no
answer; the case waits on the cooperative with its SLA paused, then goes back to its consultant."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone, translation

from casework import hours, reminders
from casework.errors import CaseError, ConflictError, ForbiddenError
from casework.models import (
    CaseEvent,
    Estimate,
    Membership,
    Notification,
    ServicePlan,
    ServicePlanArea,
    SlaPause,
    TimeEntry,
    UserProfile,
)
from tests import factories
from workflows import process
from workflows.flows import CaseFlow

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")


def _kinds(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", flat=True))


def _mails(case, kind) -> list[Notification]:
    return list(Notification.objects.filter(case=case, kind=kind).order_by("recipient_id"))


@pytest.fixture
def hours_used_up(hours_plan, assigned_case, consultant):
    """Alfa's 10 hours all used on the assigned case."""
    process.case_record_time(case=assigned_case, actor=consultant, minutes=600)
    return assigned_case


# --- The plan's limit ---------------------------------------------------------------------------


def test_usage_counts_the_entries_of_the_cooperatives_cases(
    hours_plan, open_case, consultant, cooperative, other_cooperative, other_member
):
    first, second = open_case(), open_case(subject="Contratto")
    other_case = open_case(other_member, other_cooperative)
    process.case_record_time(case=first, actor=consultant, minutes=240)
    process.case_record_time(case=second, actor=consultant, minutes=180)
    process.case_record_time(case=second, actor=consultant, minutes=60, billable=False)
    process.case_record_time(case=other_case, actor=consultant, minutes=90)  # another cooperative

    usage = hours.plan_usage(cooperative, hours_plan.year)

    assert (usage.included, usage.used, usage.beyond, usage.remaining) == (600, 420, 0, 180)
    assert hours.usage_words(usage) == f"ore utilizzate 7 su 10 nel {hours_plan.year}"
    with translation.override("en"):
        assert hours.usage_words(usage) == f"hours used 7 of 10 in {hours_plan.year}"
    assert [(row.area.code, row.included, row.used) for row in usage.areas] == [
        ("legal", None, 420)
    ]


def test_no_plan_no_limit(assigned_case, consultant, cooperative):
    # A cooperative without a plan is not metered: its time is recorded all the same.
    process.case_record_time(case=assigned_case, actor=consultant, minutes=1440)

    usage = hours.plan_usage(cooperative, timezone.localdate().year)
    assert usage.plan is None and assigned_case.time_entries.get().estimate is None
    with translation.override("en"):
        assert hours.usage_words(usage) == f"No service plan in {timezone.localdate().year}."


def test_time_beyond_the_plan_is_refused_without_an_accepted_estimate(hours_used_up, consultant):
    with pytest.raises(CaseError) as refused:
        process.case_record_time(case=hours_used_up, actor=consultant, minutes=30)

    assert refused.value.code == "estimate_needed"
    assert "proponi prima un preventivo alla cooperativa" in str(refused.value)
    hours_used_up.refresh_from_db()
    assert hours_used_up.minutes_spent == 600 and hours_used_up.time_entries.count() == 1


def test_a_resolution_beyond_the_plan_is_refused_whole(hours_used_up, consultant, outcome):
    with pytest.raises(CaseError) as refused:
        process.case_resolve(
            case=hours_used_up, actor=consultant, outcome=outcome, summary="Ok", minutes_spent=30
        )

    assert refused.value.code == "estimate_needed"
    hours_used_up.refresh_from_db()
    assert hours_used_up.status == "assigned" and hours_used_up.minutes_spent == 600


def test_an_area_with_hours_of_its_own_counts_apart(
    hours_plan, open_case, consultant, other_area, cooperative
):
    ServicePlanArea.objects.create(plan=hours_plan, area=other_area, hours_included=2)
    factories.SlaPolicyFactory(area=other_area)
    fiscal_consultant = factories.ConsultantFactory(
        user__username="consulente.fiscale.ore", areas=[other_area], capacity=10
    ).user
    fiscal = open_case(area=other_area, subject="IVA")
    legal = open_case()
    process.case_record_time(case=legal, actor=consultant, minutes=600)

    process.case_record_time(case=fiscal, actor=fiscal_consultant, minutes=120)
    with pytest.raises(CaseError):
        process.case_record_time(case=fiscal, actor=fiscal_consultant, minutes=1)

    usage = hours.plan_usage(cooperative, hours_plan.year)
    assert (usage.included, usage.used, usage.shared_included, usage.shared_used) == (
        720,
        720,
        600,
        600,
    )
    assert {row.area.code: (row.included, row.used) for row in usage.areas} == {
        "legal": (None, 600),
        "fiscal": (120, 120),
    }


# --- Proposing ----------------------------------------------------------------------------------


def test_an_estimate_without_a_plan_is_refused(assigned_case, consultant):
    with pytest.raises(CaseError) as refused:
        process.case_propose_estimate(
            case=assigned_case, actor=consultant, minutes=180, note="Ricorso"
        )

    assert refused.value.code == "no_plan"
    assigned_case.refresh_from_db()
    assert assigned_case.status == "assigned" and not Estimate.objects.exists()
    assert process.active_task(assigned_case, CaseFlow.work) is not None


@pytest.mark.parametrize("minutes", [0, 6001, "3"])
def test_an_estimate_of_a_wrong_size_is_refused(hours_plan, assigned_case, consultant, minutes):
    with pytest.raises(CaseError):
        process.case_propose_estimate(
            case=assigned_case, actor=consultant, minutes=minutes, note="x"
        )
    assert not Estimate.objects.exists()


def test_proposing_makes_the_case_wait_on_the_cooperative(
    hours_used_up, consultant, member, legal_rep, plain_member
):
    case = hours_used_up

    estimate = process.case_propose_estimate(
        case=case, actor=consultant, minutes=180, note="Ricorso in commissione tributaria"
    )

    case.refresh_from_db()
    assert case.status == "waiting" and case.sla_paused_at is not None
    assert case.sla_state == "paused"
    assert SlaPause.objects.get(case=case, ended_at__isnull=True).reason == "estimate"
    assert estimate.status == "pending" and estimate.proposed_by == consultant
    assert process.active_task(case, CaseFlow.await_estimate) is not None
    assert process.active_task(case, CaseFlow.work) is None
    assert _kinds(case)[-2:] == ["estimate_proposed", "sla_paused"]
    # The requester and the legal representative are asked; an ordinary member is not.
    assert {mail.recipient for mail in _mails(case, "estimate_proposed")} == {member, legal_rep}


def test_the_proposal_is_written_in_the_readers_language(
    hours_plan, assigned_case, consultant, member
):
    UserProfile.objects.update_or_create(user=member, defaults={"language": "en"})

    process.case_propose_estimate(case=assigned_case, actor=consultant, minutes=150, note="Atto")

    [mail] = _mails(assigned_case, "estimate_proposed")
    assert "needs 2.5 more hours than the service plan of Cooperativa Alfa" in mail.body
    assert "Atto" in mail.body and mail.subject.startswith(f"[{assigned_case.reference}]")


def test_a_colleague_or_a_member_may_not_propose(hours_plan, assigned_case, member, area):
    colleague = factories.ConsultantFactory(
        user__username="collega.stima", areas=[area], capacity=10
    ).user
    for who in (colleague, member):
        with pytest.raises(ForbiddenError):
            process.case_propose_estimate(case=assigned_case, actor=who, minutes=60, note="x")


# --- Answers --------------------------------------------------------------------------------------


@pytest.fixture
def proposed(hours_used_up, consultant):
    return process.case_propose_estimate(
        case=hours_used_up, actor=consultant, minutes=180, note="Ricorso"
    )


def test_accepting_brings_the_case_back_and_covers_time_beyond_the_plan(
    proposed, hours_used_up, consultant, legal_rep
):
    case = hours_used_up

    process.case_accept_estimate(estimate=proposed, actor=legal_rep, note="Va bene")

    case.refresh_from_db()
    proposed.refresh_from_db()
    assert proposed.status == "accepted" and proposed.answered_by == legal_rep
    assert case.status == "assigned" and case.sla_paused_at is None
    assert case.clock_running_since is not None
    assert not SlaPause.objects.filter(case=case, ended_at__isnull=True).exists()
    work = process.active_task(case, CaseFlow.work)
    assert work is not None and work.owner == consultant
    assert _kinds(case)[-2:] == ["estimate_accepted", "sla_resumed"]
    [mail] = _mails(case, "estimate_accepted")
    assert mail.recipient == consultant

    [entry] = process.case_record_time(case=case, actor=consultant, minutes=120)
    assert entry.estimate == proposed
    usage = hours.plan_usage(case.cooperative, timezone.localdate().year)
    assert (usage.used, usage.beyond) == (600, 120)
    # 60 minutes left under the estimate, then nothing.
    process.case_record_time(case=case, actor=consultant, minutes=60)
    with pytest.raises(CaseError):
        process.case_record_time(case=case, actor=consultant, minutes=1)


def test_an_entry_across_the_plans_end_is_split(hours_plan, assigned_case, consultant, member):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=540)
    estimate = process.case_propose_estimate(
        case=assigned_case, actor=consultant, minutes=120, note="Altro"
    )
    process.case_accept_estimate(estimate=estimate, actor=member)

    entries = process.case_record_time(case=assigned_case, actor=consultant, minutes=90)

    assert sorted((e.minutes, e.estimate_id) for e in entries) == [(30, estimate.pk), (60, None)]
    event = CaseEvent.objects.filter(case=assigned_case, kind="time_recorded").last()
    assert event.after["minutes"] == 90 and event.after["beyond_plan"] == 30
    assigned_case.refresh_from_db()
    assert assigned_case.minutes_spent == 630


def test_declining_brings_the_case_back_without_more_hours(
    proposed, hours_used_up, consultant, member
):
    case = hours_used_up

    process.case_decline_estimate(estimate=proposed, actor=member, note="Troppo")

    case.refresh_from_db()
    proposed.refresh_from_db()
    assert proposed.status == "declined" and proposed.answer_note == "Troppo"
    assert case.status == "assigned" and case.sla_paused_at is None
    assert process.active_task(case, CaseFlow.work).owner == consultant
    assert _kinds(case)[-2:] == ["estimate_declined", "sla_resumed"]
    assert [m.recipient for m in _mails(case, "estimate_declined")] == [consultant]
    with pytest.raises(CaseError):
        process.case_record_time(case=case, actor=consultant, minutes=30)


def test_an_estimate_is_answered_once(proposed, member):
    process.case_accept_estimate(estimate=proposed, actor=member)

    with pytest.raises(ConflictError):
        process.case_decline_estimate(estimate=proposed, actor=member)


def test_an_ordinary_member_who_is_not_the_requester_may_not_answer(proposed, plain_member):
    with pytest.raises(CaseError):
        process.case_accept_estimate(estimate=proposed, actor=plain_member)
    proposed.refresh_from_db()
    assert proposed.status == "pending"


def test_a_referent_answers_but_not_for_a_confidential_case(proposed, hours_used_up, cooperative):
    referent = factories.MembershipFactory(
        cooperative=cooperative, user__username="referente.ore", role=Membership.Role.REFERENT
    ).user
    type(hours_used_up).objects.filter(pk=hours_used_up.pk).update(confidential=True)
    with pytest.raises(CaseError):
        process.case_accept_estimate(estimate=proposed, actor=referent)

    type(hours_used_up).objects.filter(pk=hours_used_up.pk).update(confidential=False)
    process.case_accept_estimate(estimate=proposed, actor=referent)
    proposed.refresh_from_db()
    assert proposed.status == "accepted"


def test_a_message_does_not_answer_an_estimate(proposed, hours_used_up, member):
    process.case_post_message(case=hours_used_up, author=member, body="Ci pensiamo")

    hours_used_up.refresh_from_db()
    assert hours_used_up.status == "waiting"
    assert process.active_task(hours_used_up, CaseFlow.await_estimate) is not None
    with pytest.raises(ConflictError) as refused:
        process.case_provide_info(case=hours_used_up, actor=member, body="Ecco")
    assert refused.value.code == "estimate_pending"


def test_cancelling_withdraws_the_pending_estimate(proposed, hours_used_up, supervisor):
    process.case_cancel(case=hours_used_up, actor=supervisor, reason="Ritirata")

    proposed.refresh_from_db()
    assert proposed.status == "withdrawn"


def test_a_request_for_information_still_works_after_an_estimate(
    proposed, hours_used_up, consultant, member
):
    process.case_accept_estimate(estimate=proposed, actor=member)
    process.case_request_info(case=hours_used_up, actor=consultant, question="Il verbale?")
    assert process.active_task(hours_used_up, CaseFlow.await_information) is not None

    process.case_post_message(case=hours_used_up, author=member, body="Allegato")

    hours_used_up.refresh_from_db()
    assert hours_used_up.status == "assigned"


# --- No answer ------------------------------------------------------------------------------------


def test_no_answer_keeps_the_case_waiting_and_reminds_the_requester(
    open_case, consultant, member, cooperative
):
    ServicePlan.objects.create(
        cooperative=cooperative,
        year=2024,
        hours_included=1,
        effective_from=date(2024, 1, 1),
        effective_until=date(2024, 12, 31),
    )
    monday = datetime(2024, 12, 23, 10, tzinfo=ROME)
    with time_machine.travel(monday, tick=False):
        case = open_case()
        process.case_propose_estimate(case=case, actor=consultant, minutes=180, note="Ricorso")

    # The 3rd business day after Monday 23 December is Monday 30 (Christmas is closed).
    with time_machine.travel(datetime(2024, 12, 27, 17, tzinfo=ROME), tick=False):
        assert reminders.send_due_reminders()["waiting_reminders"] == 0
    with time_machine.travel(datetime(2024, 12, 30, 9, tzinfo=ROME), tick=False):
        assert reminders.send_due_reminders()["waiting_reminders"] == 1
        assert reminders.send_due_reminders()["waiting_reminders"] == 0

    [mail] = Notification.objects.filter(case=case, kind="estimate_reminder")
    assert mail.recipient == member and "Ricorso" in mail.body
    case.refresh_from_db()
    assert case.status == "waiting" and case.sla_paused_at is not None
    assert Estimate.objects.get(case=case).status == "pending"
    assert process.active_task(case, CaseFlow.await_estimate) is not None


def test_time_entries_are_recorded_while_waiting(proposed, hours_used_up, consultant):
    # Non-billable time (a call about the estimate) goes on while the cooperative decides.
    process.case_record_time(case=hours_used_up, actor=consultant, minutes=15, billable=False)

    assert TimeEntry.objects.filter(case=hours_used_up, billable=False).count() == 1
