"""The generator: each cooperative's deadlines for twelve months, once, and a case N days before.

Dates are in 2026: the monthly tax payment is due on the 16th, so Saturday 16 May falls due on
Monday 18 May and Sunday 16 August on Monday 17 August; with a case 10 days before, the May case
opens on 8 May, not on the 7th.
"""

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from casework.models import (
    Case,
    CaseEvent,
    Cooperative,
    Deadline,
    Membership,
    Notification,
    RecurringObligation,
    UserProfile,
)
from casework.services import obligations
from casework.tasks import generate_obligations
from tests import factories
from workflows.models import CaseProcess

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
MAY_1 = date(2026, 5, 1)


def on(day: date, hour: int = 3):
    """The clock at `hour` of `day` in Rome (the nightly run is at 02:30)."""
    return time_machine.travel(
        datetime(day.year, day.month, day.day, hour, tzinfo=ROME), tick=False
    )


def generate(day: date, **options):
    with on(day):
        return obligations.obligations_generate(**options)


def rows(**filters):
    return list(Deadline.objects.filter(**filters).order_by("cooperative_id", "occurrence"))


def test_a_monthly_payment_gives_each_cooperative_twelve_deadlines_moved_off_holidays(
    monthly_tax, cooperative, other_cooperative
):
    summary = generate(MAY_1)

    assert summary.as_dict()["deadlines_created"] == 24
    alfa = rows(cooperative=cooperative)
    assert [row.occurrence for row in alfa] == [
        *(date(2026, month, 16) for month in range(5, 13)),
        *(date(2027, month, 16) for month in range(1, 5)),
    ]
    due = {row.occurrence: row.due_on for row in alfa}
    assert due[date(2026, 5, 16)] == date(2026, 5, 18)  # a Saturday
    assert due[date(2026, 8, 16)] == date(2026, 8, 17)  # a Sunday
    assert due[date(2027, 1, 16)] == date(2027, 1, 18)  # a Saturday
    assert due[date(2026, 6, 16)] == date(2026, 6, 16)  # a Tuesday
    first = alfa[0]
    assert first.title == "Versamento F24 · 2026-05"
    assert (first.kind, first.trigger_date, first.term_days) == ("tax", date(2026, 5, 16), None)
    assert first.area == monthly_tax.area and first.shared and first.status == "open"
    assert first.obligation == monthly_tax and first.case is None and first.responsible is None
    assert len(rows(cooperative=other_cooperative)) == 12


def test_kinds_and_dates_choose_who_is_audited_when(
    biennial_audit, annual_social_audit, cooperative, other_cooperative, office
):
    Cooperative.objects.filter(pk=cooperative.pk).update(
        kind="labour", last_audit_on=date(2025, 3, 10)
    )
    Cooperative.objects.filter(pk=other_cooperative.pk).update(
        kind="social", last_audit_on=date(2025, 9, 1)
    )
    never_audited = factories.CooperativeFactory(office=office, kind="labour")
    ceased = factories.CooperativeFactory(
        office=office, kind="social", last_audit_on=date(2025, 9, 1), membership_status="ceased"
    )

    generate(MAY_1)

    assert [(row.obligation, row.occurrence) for row in rows(cooperative=cooperative)] == [
        (biennial_audit, date(2027, 3, 10))
    ]
    assert [(row.obligation, row.due_on) for row in rows(cooperative=other_cooperative)] == [
        (annual_social_audit, date(2026, 9, 1))
    ]
    assert rows(cooperative=never_audited) == [] and rows(cooperative=ceased) == []


def test_an_inactive_obligation_generates_nothing(monthly_tax, cooperative):
    RecurringObligation.objects.filter(pk=monthly_tax.pk).update(is_active=False)

    assert generate(MAY_1).as_dict()["obligations"] == 0
    assert not Deadline.objects.exists()


def test_the_statements_are_due_within_thirty_days_of_their_approval(
    statements_filing, cooperative, other_cooperative
):
    Cooperative.objects.filter(pk=cooperative.pk).update(statements_approved_on=date(2026, 4, 10))
    Cooperative.objects.filter(pk=other_cooperative.pk).update(
        statements_approved_on=date(2025, 4, 29)
    )

    generate(MAY_1)

    (filing,) = rows()
    assert filing.cooperative == cooperative
    # 10 April + 30 days is Sunday 10 May: due on Monday 11 May.
    assert (filing.occurrence, filing.due_on) == (date(2026, 5, 10), date(2026, 5, 11))
    assert (filing.trigger_date, filing.term_days, filing.kind) == (date(2026, 4, 10), 30, "tax")
    assert filing.title == "Deposito del bilancio · 2026"


def test_the_window_ends_twelve_months_ahead_and_moves_with_the_days(monthly_tax, cooperative):
    generate(MAY_1)
    assert max(row.occurrence for row in rows()) == date(2027, 4, 16)

    summary = generate(date(2026, 6, 20))

    # One month later one more month comes into the window; the rest was there.
    assert summary.as_dict()["deadlines_created"] == 2  # May 2027 and June 2027
    assert summary.as_dict()["deadlines_existing"] == 10
    assert max(row.occurrence for row in rows()) == date(2027, 6, 16)


def test_running_it_twice_changes_nothing(monthly_tax, statements_filing, cooperative):
    Cooperative.objects.filter(pk=cooperative.pk).update(statements_approved_on=date(2026, 4, 10))
    first = generate(MAY_1).as_dict()
    before = list(Deadline.objects.order_by("pk").values())

    again = generate(MAY_1).as_dict()

    assert first["deadlines_created"] == 13 and first["deadlines_existing"] == 0
    assert again["deadlines_created"] == 0 and again["deadlines_existing"] == 13
    assert list(Deadline.objects.order_by("pk").values()) == before


def test_a_dry_run_counts_and_writes_nothing(
    monthly_tax, cooperative, english_legal_rep, process_setup
):
    dry = generate(date(2026, 5, 8), dry_run=True).as_dict()

    assert (dry["deadlines_created"], dry["cases_opened"]) == (12, 1)
    assert not Deadline.objects.exists() and not Case.objects.exists()
    assert generate(date(2026, 5, 8)).as_dict()["cases_opened"] == 1


def test_a_rule_saved_around_the_admin_is_skipped_and_the_others_generated(
    new_obligation, monthly_tax, cooperative
):
    broken = new_obligation(name="Ogni zero mesi", interval_months=0)

    summary = generate(MAY_1)

    (refused,) = [run for run in summary.runs if run.obligation == broken.pk]
    assert refused.invalid and "scadenze all'infinito" in " ".join(refused.problems)
    assert summary.as_dict()["invalid"] == 1
    assert not Deadline.objects.filter(obligation=broken).exists()
    assert Deadline.objects.filter(obligation=monthly_tax).count() == 12


# --- The case opened ahead ------------------------------------------------------------------------


@pytest.fixture
def alfa_people(plain_member, english_legal_rep):
    """An ordinary member, who joined first, and the legal representative (English)."""
    Membership.objects.filter(user=plain_member).update(
        created_at=datetime(2020, 1, 1, tzinfo=ROME)
    )
    return {"member": plain_member, "legal_rep": english_legal_rep}


def test_the_case_opens_n_days_before_for_the_legal_representative(
    monthly_tax, cooperative, alfa_people, process_setup, consultant
):
    assert generate(date(2026, 5, 7)).as_dict()["cases_opened"] == 0
    assert not Case.objects.exists()

    summary = generate(date(2026, 5, 8))

    assert summary.as_dict()["cases_opened"] == 1
    deadline = Deadline.objects.get(occurrence=date(2026, 5, 16))
    case = deadline.case
    assert case is not None and Case.objects.count() == 1
    assert case.requester == alfa_people["legal_rep"]
    assert case.subject == "Versamento F24 · 2026-05"
    assert (case.cooperative, case.area, case.channel) == (cooperative, process_setup, "api")
    # Through the process: triaged by the area's default, routed, its SLA running.
    assert case.status == "assigned" and case.assignee == consultant
    assert case.resolution_due_at is not None
    assert CaseProcess.objects.filter(case=case).exists()
    assert deadline.responsible == consultant
    added = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.DEADLINE_ADDED)
    assert added.actor is None and added.after["deadline"] == deadline.pk
    assert added.after["due_on"] == "2026-05-18"
    # The legal representative reads English: what it is, its date and why it moved.
    assert "“Versamento F24”, due on 18 May 2026" in case.description
    assert "16 May 2026, which is not a working day" in case.description
    assert Notification.objects.filter(
        case=case, recipient=alfa_people["legal_rep"], kind="case_opened"
    ).exists()
    # The other deadlines are further than 10 days away.
    assert Deadline.objects.filter(case__isnull=False).count() == 1


def test_the_case_is_opened_once(monthly_tax, cooperative, alfa_people, process_setup):
    generate(date(2026, 5, 8))
    again = generate(date(2026, 5, 8)).as_dict()
    later = generate(date(2026, 5, 12)).as_dict()

    assert again["cases_opened"] == later["cases_opened"] == 0
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.OPENED).count() == 1


def test_the_description_is_in_the_requesters_language(
    monthly_tax, cooperative, member, process_setup
):
    UserProfile.objects.create(user=member, language="it")

    generate(date(2026, 5, 8))

    case = Case.objects.get()
    assert case.requester == member
    # Django's own Italian month names; the sentences are the catalogue's to translate.
    described = case.description.lower()
    assert "18 maggio 2026" in described and "16 maggio 2026" in described


def test_a_cooperative_without_people_keeps_its_deadline_and_gets_the_case_later(
    monthly_tax, cooperative, process_setup
):
    first = generate(date(2026, 5, 8)).as_dict()

    assert (first["cases_opened"], first["skipped_no_people"]) == (0, 1)
    assert Deadline.objects.filter(occurrence=date(2026, 5, 16), case__isnull=True).exists()
    assert not Case.objects.exists()

    joined = factories.MembershipFactory(cooperative=cooperative, user__username="nuovo").user
    second = generate(date(2026, 5, 9)).as_dict()

    assert (second["cases_opened"], second["skipped_no_people"]) == (1, 0)
    assert Deadline.objects.get(occurrence=date(2026, 5, 16)).case.requester == joined


def test_inactive_people_are_nobody(monthly_tax, cooperative, process_setup):
    gone = factories.MembershipFactory(cooperative=cooperative, user__username="ex.socio")
    Membership.objects.filter(pk=gone.pk).update(is_active=False)
    left = factories.MembershipFactory(cooperative=cooperative, user__username="disattivato")
    type(left.user).objects.filter(pk=left.user_id).update(is_active=False)

    assert generate(date(2026, 5, 8)).as_dict()["skipped_no_people"] == 1
    assert not Case.objects.exists()


def test_a_case_the_process_refuses_is_counted_and_tried_again(
    monthly_tax, cooperative, alfa_people, process_setup
):
    process_setup.is_active = False
    process_setup.save()

    summary = generate(date(2026, 5, 8))

    assert summary.as_dict()["skipped_refused"] == 1
    assert "non è aperta" in " ".join(summary.runs[0].problems)
    assert not Case.objects.exists()
    process_setup.is_active = True
    process_setup.save()
    assert generate(date(2026, 5, 9)).as_dict()["cases_opened"] == 1


def test_the_celery_task_runs_the_generator(monthly_tax, cooperative):
    with on(MAY_1):
        result = generate_obligations.apply().get()

    assert result["deadlines_created"] == 12 and result["obligations"] == 1
    with on(MAY_1):
        assert generate_obligations.apply(kwargs={"obligation_ids": []}).get()["obligations"] == 0


# --- Racing runs ----------------------------------------------------------------------------------


def _in_threads(count, target):
    barrier = threading.Barrier(count)
    results = []

    def run():
        barrier.wait()
        try:
            results.append(target())
        except Exception as error:  # noqa: BLE001 - the test shows what went wrong
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_runs_racing_make_each_deadline_and_case_once(
    monthly_tax, cooperative, alfa_people, process_setup, consultant
):
    with on(date(2026, 5, 8)):
        results = _in_threads(3, lambda: obligations.obligations_generate().as_dict())

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["deadlines_created"] for r in results) == 12
    assert sum(r["cases_opened"] for r in results) == 1
    assert Deadline.objects.count() == 12
    assert Case.objects.count() == 1
    assert Deadline.objects.filter(case__isnull=False).count() == 1
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.DEADLINE_ADDED).count() == 1
