"""Deadline reminders and missed deadlines: the sweep, with time moved, racing, after downtime.

The deadline used: a 30-day tax term from 1 March 2026, due on Tuesday 31 March 2026; with the
area's reminders at 30, 7 and 1 days before, they fall due on 1, 24 and 30 March (in Rome).
"""

import importlib
import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django_celery_beat.models import PeriodicTask

from casework import deadline_reminders
from casework.config.celery import app as celery_app
from casework.models import (
    Case,
    CaseEvent,
    CaseParticipant,
    Deadline,
    DeadlineReminder,
    Membership,
    Notification,
    UserProfile,
)
from casework.outbox import deliver_pending
from casework.services import deadlines as services
from casework.tasks import sweep_deadlines
from tests import factories

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")


def rome(month, day, hour=9, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


def sweep(when):
    with time_machine.travel(when, tick=False):
        return deadline_reminders.sweep_deadlines()


def mails(kind="deadline_reminder"):
    """The e-mails of `kind` as they went out: the outbox writes a reminder's words when it
    sends it (from what the sweep saw of the deadline)."""
    deliver_pending()
    return list(Notification.objects.filter(kind=kind).order_by("id"))


def reminded(deadline):
    return list(
        CaseEvent.objects.filter(
            kind=CaseEvent.Kind.DEADLINE_REMINDED, after__deadline=deadline.pk
        ).order_by("id")
    )


# --- Exactly once, with time moved ----------------------------------------------------------------


def test_each_reminder_goes_out_once_on_its_day(add_deadline, consultant):
    deadline = add_deadline()
    assert deadline.due_on == date(2026, 3, 31)

    assert sweep(rome(2, 28, 23, 59)) == {"missed": 0, "reminders": 0}
    assert sweep(rome(3, 1, 0, 5)) == {"missed": 0, "reminders": 1}
    assert sweep(rome(3, 1, 0, 20)) == {"missed": 0, "reminders": 0}
    assert sweep(rome(3, 23, 23)) == {"missed": 0, "reminders": 0}
    assert sweep(rome(3, 24, 9)) == {"missed": 0, "reminders": 1}
    assert sweep(rome(3, 24, 9, 15)) == {"missed": 0, "reminders": 0}
    assert sweep(rome(3, 30, 9)) == {"missed": 0, "reminders": 1}
    assert sweep(rome(3, 31, 18)) == {"missed": 0, "reminders": 0}

    assert [r.days_before for r in deadline.reminders.order_by("sent_at")] == [30, 7, 1]
    sent = mails()
    assert [m.recipient for m in sent] == [consultant] * 3
    assert all(m.case_id == deadline.case_id for m in sent)
    assert [e.after["days_before"] for e in reminded(deadline)] == [30, 7, 1]
    assert all(e.after["recipients"] == 1 and e.actor is None for e in reminded(deadline))


def test_after_downtime_only_the_latest_reminder_due_goes_out(add_deadline):
    deadline = add_deadline()

    # Down from before 1 March to 25 March: the 30- and 7-day reminders both fell due.
    assert sweep(rome(3, 25, 10)) == {"missed": 0, "reminders": 1}
    assert sweep(rome(3, 26, 10)) == {"missed": 0, "reminders": 0}

    assert list(deadline.reminders.values_list("days_before", flat=True)) == [7]
    assert len(mails()) == 1
    assert sweep(rome(3, 30, 10)) == {"missed": 0, "reminders": 1}
    assert sorted(deadline.reminders.values_list("days_before", flat=True)) == [1, 7]


def test_the_reminder_says_the_date_in_the_readers_language(add_deadline, consultant):
    UserProfile.objects.create(user=consultant, language="en")
    deadline = add_deadline(title="Appeal against the assessment")

    sweep(rome(3, 24, 9))

    (mail,) = mails()
    assert mail.subject.startswith(f"[{deadline.case.reference}] Deadline")
    assert "Appeal against the assessment" in mail.subject
    assert "falls due on 31 March 2026" in mail.body
    assert "That is in 7 days." in mail.body
    assert f"/work/cases/{deadline.case_id}/" in mail.body


def test_the_sweep_writes_no_text_the_outbox_writes_it_when_it_sends(add_deadline, consultant):
    """A sweep of thousands of reminders renders none while it holds their deadlines' locks."""
    UserProfile.objects.create(user=consultant, language="en")
    add_deadline(title="Appeal against the assessment", note="Bring the F24 receipts")

    sweep(rome(3, 24, 9))

    (queued,) = Notification.objects.filter(kind="deadline_reminder")
    assert (queued.status, queued.subject, queued.body) == ("pending", "", "")
    assert queued.context["deadline"]["title"] == "Appeal against the assessment"
    assert queued.context["days_left"] == 7
    (sent,) = mails()
    assert sent.status == "sent"
    assert "Appeal against the assessment" in sent.subject
    assert "That is in 7 days." in sent.body and "Bring the F24 receipts" in sent.body
    # The kind in the reader's words, from the stored code.
    assert "Kind: Tax term; counted from 1 March 2026." in sent.body


def test_the_italian_reader_gets_it_in_italian(add_deadline, consultant):
    UserProfile.objects.create(user=consultant, language="it")
    add_deadline()

    sweep(rome(3, 24, 9))

    (mail,) = mails()
    assert "31 marzo 2026" in mail.body.lower()


def test_the_areas_own_reminder_days(add_deadline, area):
    area.deadline_reminder_days = "10"
    area.save()
    add_deadline()

    assert sweep(rome(3, 1, 9))["reminders"] == 0
    assert sweep(rome(3, 21, 9))["reminders"] == 1
    assert sweep(rome(3, 30, 9))["reminders"] == 0


def test_an_area_without_reminders_sends_none(add_deadline, area):
    area.deadline_reminder_days = ""
    area.save()
    add_deadline()

    assert sweep(rome(3, 30, 9)) == {"missed": 0, "reminders": 0}


def test_a_deadline_done_is_not_reminded(add_deadline, consultant):
    deadline = add_deadline()
    services.deadline_mark_done(deadline=deadline, actor=consultant)

    assert sweep(rome(3, 30, 9)) == {"missed": 0, "reminders": 0}
    assert sweep(rome(4, 1, 9)) == {"missed": 0, "reminders": 0}


def test_a_new_date_starts_a_new_series(add_deadline, consultant):
    deadline = add_deadline()
    sweep(rome(3, 30, 9))  # the 1-day reminder of 31 March

    with time_machine.travel(rome(3, 30, 10), tick=False):
        services.deadline_change(deadline=deadline, actor=consultant, term_days=40)
    deadline.refresh_from_db()
    assert deadline.due_on == date(2026, 4, 10)

    assert sweep(rome(3, 30, 11))["reminders"] == 1  # 11 days before: the 30-day one
    assert sweep(rome(4, 9, 9))["reminders"] == 1
    assert len(mails()) == 3


# --- Who hears of it ------------------------------------------------------------------------------


def test_a_shared_deadline_reaches_the_people_of_the_cooperative_who_see_the_case(
    add_deadline, consultant, member, legal_rep, plain_member, assigned_case
):
    follower = plain_member
    CaseParticipant.objects.create(case=assigned_case, user=follower)
    deadline = add_deadline(shared=True)

    sweep(rome(3, 24, 9))

    staff_mails = mails()
    cooperative_mails = mails("deadline_reminder_cooperative")
    assert [m.recipient for m in staff_mails] == [consultant]
    assert {m.recipient for m in cooperative_mails} == {member, legal_rep, follower}
    assert all(f"/cases/{assigned_case.pk}/" in m.body for m in cooperative_mails)
    assert all("/work/" not in m.body for m in cooperative_mails)
    (event,) = reminded(deadline)
    assert event.after["recipients"] == 4


def test_a_deadline_not_shared_reaches_the_staff_only(add_deadline, consultant, legal_rep):
    add_deadline(shared=False, note="Chiedere la procura al legale rappresentante")

    sweep(rome(3, 24, 9))

    assert [m.recipient for m in mails()] == [consultant]
    assert mails("deadline_reminder_cooperative") == []
    assert "Chiedere la procura" in mails()[0].body


def test_a_member_who_does_not_see_the_case_is_not_told(
    add_deadline, plain_member, assigned_case, member
):
    # plain_member neither opened nor follows the case: an ordinary member sees only those.
    add_deadline(shared=True, note="nota interna")

    sweep(rome(3, 24, 9))

    told = {m.recipient for m in mails("deadline_reminder_cooperative")}
    assert plain_member not in told and member in told
    assert all("nota interna" not in m.body for m in mails("deadline_reminder_cooperative"))


def test_the_responsible_person_named_is_the_one_reminded(add_deadline, deadline_colleague):
    add_deadline(responsible=deadline_colleague)

    sweep(rome(3, 24, 9))

    assert [m.recipient for m in mails()] == [deadline_colleague]


# --- Missed ---------------------------------------------------------------------------------------


def test_past_its_day_and_not_done_a_deadline_is_missed_once(add_deadline, consultant):
    deadline = add_deadline()

    assert sweep(rome(3, 31, 23, 50))["missed"] == 0
    assert sweep(rome(4, 1, 0, 5)) == {"missed": 1, "reminders": 0}
    assert sweep(rome(4, 1, 0, 20)) == {"missed": 0, "reminders": 0}

    deadline.refresh_from_db()
    assert deadline.status == "missed" and deadline.missed_at == rome(4, 1, 0, 5)
    (missed,) = CaseEvent.objects.filter(kind=CaseEvent.Kind.DEADLINE_MISSED)
    assert missed.case_id == deadline.case_id and missed.after["deadline"] == deadline.pk
    (mail,) = mails("deadline_missed")
    assert mail.recipient == consultant


def test_a_deadline_of_no_case_is_marked_missed_without_mail(add_deadline):
    deadline = add_deadline()
    Deadline.objects.filter(pk=deadline.pk).update(case=None)

    assert sweep(rome(4, 2, 9)) == {"missed": 1, "reminders": 0}
    assert mails("deadline_missed") == [] and mails() == []


# --- Racing sweeps, the task and its schedule --------------------------------------------------


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
def test_sweeps_racing_send_each_reminder_and_mark_each_miss_once(add_deadline):
    reminded_one = add_deadline()
    missed_one = add_deadline(kind="fixed", trigger_date=date(2026, 3, 20))

    with time_machine.travel(rome(3, 24, 9), tick=False):
        results = _in_threads(4, deadline_reminders.sweep_deadlines)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["reminders"] for r in results) == 1
    assert sum(r["missed"] for r in results) == 1
    assert len(mails()) == 1 and len(reminded(reminded_one)) == 1
    assert DeadlineReminder.objects.filter(deadline=reminded_one).count() == 1
    assert len(mails("deadline_missed")) == 1
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.DEADLINE_MISSED).count() == 1
    missed_one.refresh_from_db()
    assert missed_one.status == "missed"


def test_more_deadlines_than_a_batch_are_all_seen(add_deadline, monkeypatch):
    monkeypatch.setattr(deadline_reminders, "BATCH", 2)
    for n in range(5):
        add_deadline(title=f"Scadenza {n}")
    for n in range(3):
        add_deadline(title=f"Passata {n}", kind="fixed", trigger_date=date(2026, 3, 1))

    assert sweep(rome(3, 24, 9)) == {"missed": 3, "reminders": 5}


def test_the_beat_task_runs_directly_and_through_celery(add_deadline):
    add_deadline()

    with time_machine.travel(rome(3, 24, 9), tick=False):
        assert sweep_deadlines.delay().get() == {"missed": 0, "reminders": 1}
        assert sweep_deadlines() == {"missed": 0, "reminders": 0}


def test_the_beat_schedule_runs_the_sweep_and_the_obligations():
    # The migration's rows are made again as it made them: a transactional test may have
    # flushed every table.
    schedules = importlib.import_module("workflows.migrations.0011_deadline_schedules")
    schedules.register(apps, None)

    sweep_row = PeriodicTask.objects.get(task="casework.tasks.sweep_deadlines")
    assert sweep_row.enabled and sweep_row.interval.every == 900
    assert sweep_row.interval.period == "seconds"
    assert celery_app.tasks["casework.tasks.sweep_deadlines"].name == sweep_deadlines.name
    obligations = PeriodicTask.objects.get(task="casework.tasks.generate_obligations")
    assert obligations.enabled
    assert (obligations.crontab.hour, obligations.crontab.minute) == ("2", "30")
    assert str(obligations.crontab.timezone) == "Europe/Rome"

    schedules.register(apps, None)  # again: nothing doubled
    assert PeriodicTask.objects.filter(task="casework.tasks.sweep_deadlines").count() == 1


def test_a_referent_is_not_told_of_a_deadline_of_a_confidential_case(
    add_deadline, assigned_case, cooperative, member, legal_rep
):
    referent = factories.MembershipFactory(
        cooperative=cooperative, user__username="socio.referente", role=Membership.Role.REFERENT
    ).user
    Case.objects.filter(pk=assigned_case.pk).update(confidential=True)
    add_deadline(shared=True)

    sweep(rome(3, 24, 9))

    told = {m.recipient for m in mails("deadline_reminder_cooperative")}
    assert referent not in told
    assert {member, legal_rep} <= told
