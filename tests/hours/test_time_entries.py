"""Time entries: what may be recorded, by whom, and the case's total kept as their sum."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from casework.errors import CaseError, ConflictError, ForbiddenError
from casework.models import CaseEvent, CaseStatus, TimeEntry
from workflows import process

pytestmark = pytest.mark.django_db


def _total(case) -> int:
    case.refresh_from_db()
    return case.minutes_spent


def test_an_entry_adds_to_the_total_and_records_its_event(assigned_case, consultant):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=40, note="Lettura")
    [entry] = process.case_record_time(case=assigned_case, actor=consultant, minutes=20)

    assert _total(assigned_case) == 60
    assert sum(TimeEntry.objects.filter(case=assigned_case).values_list("minutes", flat=True)) == 60
    assert entry.consultant == consultant and entry.day == timezone.localdate()
    assert entry.billable and entry.estimate is None
    events = CaseEvent.objects.filter(case=assigned_case, kind="time_recorded").order_by("id")
    assert [e.after["total"] for e in events] == [40, 60]
    assert events[0].note == "Lettura" and events[1].after["entries"] == [entry.pk]


@pytest.mark.parametrize(
    "minutes, code",
    [(0, "minutes"), (-5, "minutes"), (1441, "minutes"), ("30", "minutes"), (True, "minutes")],
)
def test_minutes_out_of_range_are_refused(assigned_case, consultant, minutes, code):
    with pytest.raises(CaseError) as refused:
        process.case_record_time(case=assigned_case, actor=consultant, minutes=minutes)

    assert refused.value.code == code
    assert _total(assigned_case) == 0 and not TimeEntry.objects.exists()


def test_a_day_still_to_come_is_refused(assigned_case, consultant):
    tomorrow = timezone.localdate() + timedelta(days=1)

    with translation.override("en"), pytest.raises(CaseError) as refused:
        process.case_record_time(case=assigned_case, actor=consultant, minutes=30, day=tomorrow)

    assert refused.value.code == "day_in_future"
    assert str(refused.value) == (
        f"Time cannot be recorded for a day still to come ({tomorrow:%-d} {tomorrow:%B %Y})."
    )
    assert not TimeEntry.objects.exists()


def test_a_day_before_the_case_was_opened_is_refused(assigned_case, consultant):
    before = timezone.localdate(assigned_case.created_at) - timedelta(days=1)

    with pytest.raises(CaseError) as refused:
        process.case_record_time(case=assigned_case, actor=consultant, minutes=30, day=before)

    assert refused.value.code == "day_before_case"


def test_an_earlier_day_of_the_case_is_accepted(open_case, consultant):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        case = open_case()

    [entry] = process.case_record_time(
        case=case,
        actor=consultant,
        minutes=30,
        day=timezone.localdate() - timedelta(days=2),
        billable=False,
    )

    assert entry.day == timezone.localdate() - timedelta(days=2) and not entry.billable


def test_a_long_note_is_refused_whole(assigned_case, consultant):
    with pytest.raises(CaseError) as refused:
        process.case_record_time(case=assigned_case, actor=consultant, minutes=30, note="x" * 501)

    assert refused.value.code == "too_long"
    assert _total(assigned_case) == 0


@pytest.mark.parametrize("final", ["cancelled", "rejected"])
def test_no_time_on_a_cancelled_or_rejected_case(assigned_case, consultant, supervisor, final):
    if final == "cancelled":
        process.case_cancel(case=assigned_case, actor=supervisor, reason="Ritirata")
    else:
        assigned_case.__class__.objects.filter(pk=assigned_case.pk).update(
            status="rejected", rejection_reason="duplicate"
        )
    assigned_case.refresh_from_db()
    assert assigned_case.status == final

    with pytest.raises(ConflictError) as refused:
        process.case_record_time(case=assigned_case, actor=consultant, minutes=30)

    assert refused.value.code == "case_final"
    assert not TimeEntry.objects.filter(case=assigned_case).exists()


def test_a_member_records_no_time(assigned_case, member):
    with pytest.raises(ForbiddenError):
        process.case_record_time(case=assigned_case, actor=member, minutes=30)


def test_resolving_records_its_minutes_as_one_entry(assigned_case, consultant, outcome):
    process.case_resolve(
        case=assigned_case, actor=consultant, outcome=outcome, summary="Fatto", minutes_spent=45
    )

    [entry] = TimeEntry.objects.filter(case=assigned_case)
    assert entry.minutes == 45 and entry.consultant == consultant
    assert _total(assigned_case) == 45
    # The resolution's own event carries the minutes: no second event counts them.
    assert not CaseEvent.objects.filter(case=assigned_case, kind="time_recorded").exists()
    assert CaseEvent.objects.get(case=assigned_case, kind="resolved").after["minutes"] == 45


def test_the_author_changes_an_entry_the_same_day(assigned_case, consultant):
    [entry] = process.case_record_time(case=assigned_case, actor=consultant, minutes=40)

    process.time_entry_change(
        case=assigned_case, entry=entry, actor=consultant, minutes=25, note="Corretto"
    )

    entry.refresh_from_db()
    assert entry.minutes == 25 and entry.note == "Corretto"
    assert _total(assigned_case) == 25
    change = CaseEvent.objects.filter(case=assigned_case, kind="time_recorded").last()
    assert change.after["minutes"] == -15 and change.after["change"] == "changed"


def test_the_author_may_not_change_it_the_next_day_but_a_supervisor_may(
    assigned_case, consultant, area_supervisor
):
    [entry] = process.case_record_time(case=assigned_case, actor=consultant, minutes=40)

    with time_machine.travel(timezone.now() + timedelta(days=1)):
        with pytest.raises(ForbiddenError):
            process.time_entry_delete(case=assigned_case, entry=entry, actor=consultant)
        process.time_entry_delete(case=assigned_case, entry=entry, actor=area_supervisor)

    assert not TimeEntry.objects.filter(pk=entry.pk).exists()
    assert _total(assigned_case) == 0
    deleted = CaseEvent.objects.filter(case=assigned_case, kind="time_recorded").last()
    assert deleted.after == {"minutes": -40, "total": 0, "entries": [entry.pk], "change": "deleted"}


def test_a_colleague_may_not_change_someone_elses_entry(assigned_case, consultant, area):
    from tests import factories

    colleague = factories.ConsultantFactory(
        user__username="collega.ore", areas=[area], capacity=10
    ).user
    [entry] = process.case_record_time(case=assigned_case, actor=consultant, minutes=40)

    with pytest.raises(ForbiddenError):
        process.time_entry_change(case=assigned_case, entry=entry, actor=colleague, minutes=10)

    entry.refresh_from_db()
    assert entry.minutes == 40


def test_the_status_is_untouched_by_time(assigned_case, consultant):
    process.case_record_time(case=assigned_case, actor=consultant, minutes=10)

    assigned_case.refresh_from_db()
    assert assigned_case.status == CaseStatus.ASSIGNED
