"""The SLA sweep's batches: who hears of a transition, once, and the same rows on either path.

PostgreSQL runs each batch as one set-based statement; the embedded SQLite default runs the same
batch through the ORM. Both are run here on the same cases and must leave the same rows behind.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from casework.models import Case, CaseEvent, Notification
from casework.sla import watch
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 11, 0, 7, 250000, tzinfo=UTC)
BATCHES = {
    "set_based": watch._sweep_batch_set_based,
    "portable": watch._sweep_batch_portable,
}


@pytest.fixture(params=list(BATCHES))
def batch(request, monkeypatch):
    """Each test once per path; the set-based one needs PostgreSQL."""
    if request.param == "set_based" and connection.vendor != "postgresql":
        pytest.skip("the set-based batch is PostgreSQL's")
    monkeypatch.setattr(watch, "_sweep_one", BATCHES[request.param])
    return request.param


@pytest.fixture
def fiscal():
    return factories.AreaFactory(code="fiscal", name="Fiscale", reference_prefix="FIS")


@pytest.fixture
def people(area, fiscal, office, supervisor):
    """Supervisors of every kind around the legal area, and consultants with and without e-mail."""
    legal_supervisor = factories.SupervisorFactory(all_areas=False, areas=[area]).user
    factories.SupervisorFactory(all_areas=False, areas=[fiscal])
    factories.SupervisorFactory(all_areas=False, areas=[area], user__is_active=False)
    factories.SupervisorFactory(all_areas=False, areas=[area], user__email="")
    # A consultant who also supervises the area they work in hears of a breach once.
    both = factories.ConsultantFactory(office=office, areas=[area]).user
    factories.SupervisorFactory(user=both, all_areas=False, areas=[area])
    return {
        "everyone": supervisor,
        "legal": legal_supervisor,
        "both": both,
        "silent": factories.ConsultantFactory(office=office, areas=[area], user__email="").user,
    }


def due_case(cooperative, area, number, *, assignee=None, status="assigned", **clocks):
    """A case with running clocks; `clocks` sets the instants and marks the test is about."""
    fields = {
        "first_response_warn_at": NOW + timedelta(hours=1),
        "first_response_due_at": NOW + timedelta(hours=2),
        "resolution_warn_at": NOW + timedelta(days=1),
        "resolution_due_at": NOW + timedelta(days=2),
        "clock_running_since": NOW - timedelta(days=1),
        **clocks,
    }
    return Case.objects.create(
        reference=f"LEG-2026-{number:05d}",
        cooperative=cooperative,
        area=area,
        subject=f"Caso {number}",
        description="Un caso del test della SLA",
        status=status,
        assignee=assignee,
        **fields,
    )


def test_a_breach_reaches_the_assignee_and_the_supervisors_who_can_be_reached_once(
    batch, cooperative, area, consultant, people
):
    case = due_case(
        cooperative,
        area,
        1,
        assignee=consultant,
        first_response_warn_at=NOW - timedelta(hours=2),
        first_response_due_at=NOW - timedelta(minutes=1),
    )

    counts = watch.sweep(now=NOW)

    assert counts == {
        "resolution_breached_at": 0,
        "first_response_breached_at": 1,
        "resolution_warned_at": 0,
        "first_response_warned_at": 0,
    }
    case.refresh_from_db()
    assert (case.sla_state, case.first_response_breached_at) == ("breached", NOW)
    # The breach makes the warning stale: it is marked, never sent.
    assert case.first_response_warned_at == NOW
    assert [(e.kind, e.after) for e in CaseEvent.objects.filter(case=case)] == [
        ("sla_breached", {"clock": "first_response", "due_at": "2026-11-23T10:59:07.250000+00:00"})
    ]
    mails = Notification.objects.filter(case=case)
    assert sorted(mails.values_list("recipient_id", flat=True)) == sorted(
        [consultant.pk, people["everyone"].pk, people["legal"].pk, people["both"].pk]
    )
    assert {(m.kind, m.context["clock"], m.status, m.subject, m.body) for m in mails} == {
        ("sla_breached", "first_response", "pending", "", "")
    }
    assert watch.sweep(now=NOW + timedelta(minutes=1)) == dict.fromkeys(counts, 0)
    assert Notification.objects.filter(case=case).count() == 4


def test_a_warning_reaches_the_assignee_only_and_never_lowers_a_breach(
    batch, cooperative, area, consultant, people
):
    warned = due_case(
        cooperative, area, 1, assignee=consultant, resolution_warn_at=NOW - timedelta(seconds=1)
    )
    already_breached = due_case(
        cooperative,
        area,
        2,
        assignee=people["silent"],
        sla_state="breached",
        first_response_breached_at=NOW - timedelta(hours=1),
        first_response_warned_at=NOW - timedelta(hours=2),
        resolution_warn_at=NOW - timedelta(seconds=1),
    )

    assert watch.sweep(now=NOW)["resolution_warned_at"] == 2

    warned.refresh_from_db(), already_breached.refresh_from_db()
    assert (warned.sla_state, already_breached.sla_state) == ("at_risk", "breached")
    assert warned.resolution_breached_at is None
    assert list(Notification.objects.values_list("case_id", "recipient_id", "kind")) == [
        (warned.pk, consultant.pk, "sla_at_risk")
    ]
    assert CaseEvent.objects.filter(kind="sla_at_risk").count() == 2


def test_a_warning_never_takes_a_case_already_past_its_due_instant(
    batch, cooperative, area, consultant
):
    """Two sweeps at once: one may reach the warnings while the other still holds the breaches."""
    case = due_case(
        cooperative,
        area,
        1,
        assignee=consultant,
        first_response_warn_at=NOW - timedelta(hours=2),
        first_response_due_at=NOW - timedelta(minutes=1),
    )

    assert watch._sweep_one(watch.Transition("first_response", "warned"), NOW, 10) == 0

    case.refresh_from_db()
    assert (case.sla_state, case.first_response_warned_at) == ("on_track", None)
    assert not CaseEvent.objects.exists() and not Notification.objects.exists()


@pytest.mark.parametrize(
    "left_alone",
    [
        {"status": "waiting"},
        {"clock_running_since": None},
        {"first_response_at": NOW - timedelta(hours=3)},
        {"first_response_breached_at": NOW - timedelta(minutes=5)},
    ],
    ids=["waiting", "paused", "answered", "already-marked"],
)
def test_cases_whose_clock_is_not_running_or_already_marked_are_left_alone(
    batch, cooperative, area, consultant, left_alone
):
    case = due_case(
        cooperative,
        area,
        1,
        assignee=consultant,
        first_response_warned_at=NOW - timedelta(hours=1),
        first_response_due_at=NOW - timedelta(minutes=1),
        **left_alone,
    )

    assert watch.sweep(now=NOW)["first_response_breached_at"] == 0

    assert not CaseEvent.objects.filter(case=case).exists()
    assert not Notification.objects.filter(case=case).exists()


def test_an_outbox_row_already_there_is_kept_and_the_case_still_marked(
    batch, cooperative, area, consultant
):
    due = NOW - timedelta(minutes=1)
    case = due_case(cooperative, area, 1, assignee=consultant, first_response_due_at=due)
    key = f"sla:first_response_breached_at:{case.pk}:{due.isoformat()}:{consultant.pk}"
    Notification.objects.create(email="old@example.org", kind="sla_breached", dedupe_key=key)

    assert watch.sweep(now=NOW)["first_response_breached_at"] == 1

    assert Notification.objects.get().email == "old@example.org"


def outcome_of(run) -> dict:
    """What a sweep leaves behind, compared without the rows' own ids; then rolled back."""
    with transaction.atomic():
        counts = run()
        cases = list(
            Case.objects.order_by("reference").values_list(
                "reference",
                "sla_state",
                "first_response_warned_at",
                "first_response_breached_at",
                "resolution_warned_at",
                "resolution_breached_at",
                "updated_at",
            )
        )
        events = sorted(
            CaseEvent.objects.values_list(
                "case__reference", "kind", "actor_id", "created_at", "before", "after", "note"
            ),
            key=repr,
        )
        notifications = sorted(
            Notification.objects.values_list(
                "case__reference",
                "recipient_id",
                "email",
                "kind",
                "subject",
                "body",
                "context",
                "dedupe_key",
                "status",
                "attempts",
                "last_error",
                "created_at",
                "sent_at",
            ),
            key=repr,
        )
        transaction.set_rollback(True)
    return {"counts": counts, "cases": cases, "events": events, "notifications": notifications}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="compares PostgreSQL's statement")
def test_the_set_based_batch_writes_what_the_orm_batch_writes(
    monkeypatch, cooperative, area, fiscal, consultant, people
):
    past = {
        "seconds": NOW - timedelta(hours=3),
        "micro": NOW - timedelta(minutes=1, microseconds=7),
    }
    assignees = [consultant, people["both"], people["silent"], None]
    number = 0
    for instant in past.values():
        for assignee in assignees:
            for case_area in (area, fiscal):
                for clocks in (
                    {"first_response_warn_at": instant},
                    {"first_response_warn_at": instant, "first_response_due_at": instant},
                    {"resolution_warn_at": instant},
                    {"resolution_warn_at": instant, "resolution_due_at": instant},
                    {"resolution_due_at": instant, "sla_state": "at_risk"},
                ):
                    number += 1
                    due_case(
                        cooperative,
                        case_area,
                        number,
                        assignee=assignee,
                        status="assigned" if assignee else "unassigned",
                        **clocks,
                    )

    def sweep_with(batch):
        monkeypatch.setattr(watch, "_sweep_one", batch)
        return lambda: watch.sweep(now=NOW, limit=7)

    set_based = outcome_of(sweep_with(watch._sweep_batch_set_based))
    portable = outcome_of(sweep_with(watch._sweep_batch_portable))

    assert set_based["counts"]["first_response_breached_at"] > 7
    assert len(set_based["notifications"]) > len(set_based["events"])
    assert set_based == portable
