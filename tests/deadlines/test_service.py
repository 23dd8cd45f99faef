"""Deadlines on a case through the service: the named Italian terms, changes, done and reopened,
who may manage them, and bad input refused with nothing saved."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from casework.errors import CaseError, ConflictError, ForbiddenError
from casework.models import CaseEvent, Closure, Deadline, DeadlineReminder
from casework.services import deadlines as services

pytestmark = pytest.mark.django_db

Kind = CaseEvent.Kind
ROME = ZoneInfo("Europe/Rome")


def deadline_events(case, kind=None):
    events = CaseEvent.objects.filter(case=case, kind__startswith="deadline_").order_by("id")
    return list(events.filter(kind=kind) if kind else events)


# --- The named Italian cases, on a case of Cooperativa Alfa (Bologna office) ---------------------


@pytest.mark.parametrize(
    ("kind", "trigger", "term", "due"),
    [
        # 30 judicial days from 15 July: 16 in July, August suspended, 14 in September.
        ("judicial", date(2026, 7, 15), {"term_days": 30}, date(2026, 9, 14)),
        # From 3 August, in the suspension: 1 September is day 1, 30 September day 30.
        ("judicial", date(2026, 8, 3), {"term_days": 30}, date(2026, 9, 30)),
        # Ending on Saturday 14 March 2026: Monday 16 March.
        ("judicial", date(2026, 3, 4), {"term_days": 10}, date(2026, 3, 16)),
        # Ending on 25 April (Liberation Day, a Tuesday in 2028): Wednesday 26 April.
        ("judicial", date(2028, 4, 15), {"term_days": 10}, date(2028, 4, 26)),
        # Ending on Easter Monday 2026 (6 April): Tuesday 7 April.
        ("tax", date(2026, 3, 25), {"term_days": 12}, date(2026, 4, 7)),
        # A labour term runs through August: Friday 14 August 2026.
        ("judicial_labour", date(2026, 7, 15), {"term_days": 30}, date(2026, 8, 14)),
        # A tax term ending on Sunday 15 March 2026: Monday 16 March.
        ("tax", date(2026, 3, 5), {"term_days": 10}, date(2026, 3, 16)),
        # Tax terms are not suspended in August.
        ("tax", date(2026, 7, 15), {"term_days": 30}, date(2026, 8, 14)),
        # Two months by the calendar from 31 December: the last day of February, then moved
        # off Sunday 28 February 2027 to Monday 1 March.
        ("tax", date(2026, 12, 31), {"term_months": 2}, date(2027, 3, 1)),
        # A fixed date is the date itself, even a Sunday.
        ("fixed", date(2026, 3, 15), {}, date(2026, 3, 15)),
    ],
)
def test_the_named_terms_fall_due_as_the_law_says(add_deadline, kind, trigger, term, due):
    deadline = add_deadline(kind=kind, trigger_date=trigger, **term)

    deadline.refresh_from_db()
    assert deadline.due_on == due


def test_business_days_skip_the_patron_day_of_the_cooperatives_office(add_deadline, calendar):
    # Thursday 3 October 2024; Friday 4 October is San Petronio, Bologna's patron day (the
    # cooperative's office), so the first open day after the trigger is Monday 7 October.
    assert calendar.office.code == "BO"

    one = add_deadline(kind="business", trigger_date=date(2024, 10, 3), term_days=1)
    five = add_deadline(kind="business", trigger_date=date(2024, 10, 3), term_days=5)

    assert one.due_on == date(2024, 10, 7)
    assert five.due_on == date(2024, 10, 11)


def test_business_days_follow_the_offices_closures(add_deadline, calendar):
    Closure.objects.create(
        calendar=calendar,
        starts_at=datetime.combine(date(2026, 11, 30), time(0), tzinfo=ROME),
        ends_at=datetime.combine(date(2026, 12, 1), time(0), tzinfo=ROME),
        reason="Inventario",
    )
    calendar.save()  # the calendars are rebuilt when their row says it changed

    # Friday 27 November 2026 + 1 open day: Monday 30 is closed all day, so Tuesday 1 December.
    deadline = add_deadline(kind="business", trigger_date=date(2026, 11, 27), term_days=1)

    assert deadline.due_on == date(2026, 12, 1)


# --- What adding one records ---------------------------------------------------------------------


def test_adding_a_deadline_records_it_with_its_event(add_deadline, assigned_case, consultant):
    deadline = add_deadline(kind="judicial", trigger_date=date(2026, 7, 15), term_days=30)

    assert deadline.case == assigned_case
    assert deadline.cooperative == assigned_case.cooperative
    assert deadline.area == assigned_case.area
    assert deadline.responsible == consultant  # the assignee, by default
    assert deadline.status == Deadline.Status.OPEN
    assert deadline.created_by == consultant
    (event,) = deadline_events(assigned_case)
    assert event.kind == Kind.DEADLINE_ADDED and event.actor == consultant
    assert event.after == {
        "deadline": deadline.pk,
        "title": deadline.title,
        "kind": "judicial",
        "due_on": "2026-09-14",
        "shared": False,
        "responsible": consultant.username,
        "deadline_status": "open",
    }


def test_the_responsible_person_may_be_a_colleague_of_the_area(
    add_deadline, deadline_colleague, area_supervisor
):
    assert add_deadline(responsible=deadline_colleague).responsible == deadline_colleague
    assert add_deadline(responsible=area_supervisor).responsible == area_supervisor


def test_with_nobody_holding_the_case_the_one_adding_it_is_responsible(
    triage_case, area_supervisor, add_deadline
):
    deadline = add_deadline(case=triage_case, actor=area_supervisor)

    assert triage_case.assignee is None
    assert deadline.responsible == area_supervisor


# --- Changes, done, reopened ------------------------------------------------------------------


def test_a_new_trigger_computes_the_date_again_and_starts_a_new_series_of_reminders(
    add_deadline, consultant, assigned_case
):
    deadline = add_deadline(kind="judicial", trigger_date=date(2026, 7, 15), term_days=30)
    DeadlineReminder.objects.create(deadline=deadline, days_before=30)

    changed = services.deadline_change(
        deadline=deadline, actor=consultant, trigger_date=date(2026, 8, 3)
    )

    assert changed.due_on == date(2026, 9, 30)
    assert not DeadlineReminder.objects.filter(deadline=deadline).exists()
    event = deadline_events(assigned_case, Kind.DEADLINE_CHANGED)[-1]
    assert event.before == {"trigger_date": "2026-07-15", "due_on": "2026-09-14"}
    assert event.after["trigger_date"] == "2026-08-03"
    assert event.after["due_on"] == "2026-09-30"


def test_a_change_of_kind_and_term_computes_the_date_again(add_deadline, consultant):
    deadline = add_deadline(kind="judicial", trigger_date=date(2026, 7, 15), term_days=30)

    changed = services.deadline_change(deadline=deadline, actor=consultant, kind="judicial_labour")
    assert changed.due_on == date(2026, 8, 14)
    changed = services.deadline_change(
        deadline=deadline, actor=consultant, term_days=None, term_months=1
    )
    assert changed.due_on == date(2026, 8, 17)  # 15 August is Ferragosto, a Saturday


def test_a_change_of_title_alone_keeps_the_date_and_the_reminders(add_deadline, consultant):
    deadline = add_deadline()
    DeadlineReminder.objects.create(deadline=deadline, days_before=7)

    services.deadline_change(deadline=deadline, actor=consultant, title="Ricorso in CTP")

    deadline.refresh_from_db()
    assert deadline.title == "Ricorso in CTP" and deadline.due_on == date(2026, 3, 31)
    assert DeadlineReminder.objects.filter(deadline=deadline).count() == 1


def test_changing_nothing_records_nothing(add_deadline, consultant, assigned_case):
    deadline = add_deadline()

    services.deadline_change(deadline=deadline, actor=consultant, title=deadline.title)

    assert [e.kind for e in deadline_events(assigned_case)] == [Kind.DEADLINE_ADDED]


def test_done_then_reopened(add_deadline, consultant, assigned_case):
    deadline = add_deadline(kind="fixed", trigger_date=date(2027, 1, 15))

    with time_machine.travel("2026-12-10 10:00 +01:00"):
        services.deadline_mark_done(deadline=deadline, actor=consultant)
        deadline.refresh_from_db()
        assert deadline.status == "done" and deadline.done_by == consultant
        with pytest.raises(ConflictError) as twice:
            services.deadline_mark_done(deadline=deadline, actor=consultant)
        assert twice.value.code == "already_done"

        services.deadline_reopen(deadline=deadline, actor=consultant)
    deadline.refresh_from_db()
    assert deadline.status == "open" and deadline.done_at is None and deadline.done_by is None
    done, reopened = deadline_events(assigned_case)[1:]
    assert done.kind == Kind.DEADLINE_DONE and done.before == {"deadline_status": "open"}
    assert reopened.kind == Kind.DEADLINE_CHANGED
    assert reopened.before == {"deadline_status": "done"}
    assert reopened.after["deadline_status"] == "open"


def test_reopened_after_its_day_it_is_missed(add_deadline, consultant):
    deadline = add_deadline(kind="fixed", trigger_date=date(2026, 3, 15))
    services.deadline_mark_done(deadline=deadline, actor=consultant)

    with time_machine.travel("2026-03-20 10:00 +01:00"):
        services.deadline_reopen(deadline=deadline, actor=consultant)

    deadline.refresh_from_db()
    assert deadline.status == "missed" and deadline.missed_at is not None


def test_a_missed_deadline_given_a_later_date_is_open_again(add_deadline, consultant):
    deadline = add_deadline(kind="fixed", trigger_date=date(2026, 3, 15))
    Deadline.objects.filter(pk=deadline.pk).update(status="missed")

    with time_machine.travel("2026-03-20 10:00 +01:00"):
        services.deadline_change(deadline=deadline, actor=consultant, trigger_date=date(2026, 4, 1))

    deadline.refresh_from_db()
    assert deadline.status == "open" and deadline.missed_at is None
    assert deadline.due_on == date(2026, 4, 1)


def test_a_missed_deadline_may_be_done_late(add_deadline, consultant):
    deadline = add_deadline()
    Deadline.objects.filter(pk=deadline.pk).update(status="missed")

    services.deadline_mark_done(deadline=deadline, actor=consultant)

    deadline.refresh_from_db()
    assert deadline.status == "done"


def test_only_a_deadline_marked_done_can_be_reopened(add_deadline, consultant):
    with pytest.raises(ConflictError) as refused:
        services.deadline_reopen(deadline=add_deadline(), actor=consultant)
    assert refused.value.code == "not_done"


# --- Who may -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "legal_rep", "fiscal_consultant_only"])
def test_only_the_staff_of_the_case_manage_its_deadlines(request, add_deadline, who):
    person = request.getfixturevalue(who)
    deadline = add_deadline()

    with pytest.raises(ForbiddenError):
        add_deadline(actor=person)
    with pytest.raises(ForbiddenError):
        services.deadline_change(deadline=deadline, actor=person, title="Altro")
    with pytest.raises(ForbiddenError):
        services.deadline_mark_done(deadline=deadline, actor=person)
    assert Deadline.objects.count() == 1
    deadline.refresh_from_db()
    assert deadline.status == "open" and deadline.title != "Altro"


@pytest.mark.parametrize("who", ["area_supervisor", "deadline_colleague", "supervisor"])
def test_staff_of_the_case_manage_its_deadlines(request, add_deadline, who):
    person = request.getfixturevalue(who)

    deadline = add_deadline(actor=person)
    services.deadline_mark_done(deadline=deadline, actor=person)

    deadline.refresh_from_db()
    assert deadline.status == "done" and deadline.created_by == person


def test_a_deadline_of_no_case_is_changed_elsewhere(add_deadline, consultant):
    deadline = add_deadline()
    Deadline.objects.filter(pk=deadline.pk).update(case=None)

    with pytest.raises(ConflictError) as refused:
        services.deadline_mark_done(deadline=deadline, actor=consultant)
    assert refused.value.code == "no_case"


# --- Bad input: a clear refusal, nothing saved --------------------------------------------------

BAD_INPUT = [
    ({"term_days": 0}, "term", "A term must be between 1 and"),
    ({"term_days": -5}, "term", "A term must be between 1 and"),
    ({"term_months": 0, "term_days": None}, "term", "A term must be between 1 and"),
    ({"term_days": 10**6}, "term", "A term must be between 1 and 10000"),
    ({"term_days": "30"}, "term", "A term is a whole number"),
    ({"term_days": True}, "term", "A term is a whole number"),
    ({"trigger_date": date(9999, 7, 15)}, "trigger_date", "between 1900 and 9998"),
    ({"trigger_date": date(1899, 12, 31)}, "trigger_date", "between 1900 and 9998"),
    ({"trigger_date": "2026-07-15"}, "trigger_date", "as a date"),
    ({"kind": "weekly"}, "kind", "Unknown kind of deadline “weekly”"),
    ({"term_days": None}, "term", "Give the term, in days or in months"),
    ({"term_days": 30, "term_months": 2}, "term", "in days or in months, not both"),
    ({"kind": "fixed", "term_days": 3}, "term", "give no term"),
    ({"kind": "business", "term_days": None, "term_months": 1}, "term", "give days, not months"),
    ({"title": "   "}, "title", "cannot be empty"),
    ({"title": "x" * 201}, "title", "too long"),
    ({"note": "x" * 2001}, "note", "too long"),
    ({"shared": "yes"}, "shared", "yes or no"),
]


@pytest.mark.parametrize(("values", "code", "words"), BAD_INPUT)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(
    add_deadline, assigned_case, values, code, words
):
    with translation.override("en"), pytest.raises(CaseError) as refused:
        add_deadline(**values)

    assert refused.value.code == code
    assert words in str(refused.value)
    assert not Deadline.objects.exists()
    assert deadline_events(assigned_case) == []


def test_a_term_past_the_last_date_is_refused(add_deadline):
    with translation.override("en"), pytest.raises(CaseError) as refused:
        add_deadline(kind="judicial", trigger_date=date(9998, 12, 1), term_days=9000)

    assert refused.value.code == "term"
    assert "cannot be computed" in str(refused.value)


def test_someone_who_is_not_staff_of_the_case_cannot_be_responsible(
    add_deadline, member, fiscal_consultant_only
):
    for person in (member, fiscal_consultant_only):
        with translation.override("en"), pytest.raises(CaseError) as refused:
            add_deadline(responsible=person)
        assert refused.value.code == "responsible"
        assert person.username in str(refused.value)
    assert not Deadline.objects.exists()


def test_a_bad_change_leaves_the_deadline_as_it_was(add_deadline, consultant, member):
    deadline = add_deadline(kind="judicial", trigger_date=date(2026, 7, 15), term_days=30)

    for changes in (
        {"term_days": 0},
        {"title": "Nuovo", "trigger_date": date(9999, 1, 1)},
        {"kind": "fixed"},
        {"responsible": member},
        {"status": "done"},
    ):
        with pytest.raises(CaseError):
            services.deadline_change(deadline=deadline, actor=consultant, **changes)

    deadline.refresh_from_db()
    assert (deadline.title, deadline.due_on, deadline.kind, deadline.status) == (
        "Ricorso contro l'avviso di accertamento",
        date(2026, 9, 14),
        "judicial",
        "open",
    )
    assert deadline.responsible == consultant
    assert len(deadline_events(deadline.case)) == 1
