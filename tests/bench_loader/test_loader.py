"""The bench loader (bench/load.py): a small federation loaded, then read the product's way.

The load and the product's reads run in subprocesses on a database of their own (pytest-django
has configured this process's Django on the test database): `bench.load.load` and `verify`
write and check it, then `product_view` asks the product's own selectors, policy, deadline
arithmetic, reminder sweep, obligations generator and saved-view filters about what was loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench.common import ROOT, connect, maintenance_url

SIZE = 400
# The product's words for "a change of status or a public message" (what makes a case unread
# for the others, `services.transition._activity`), said here apart from the loader's list.
STATUS_CHANGES = (
    "opened",
    "triaged",
    "rejected",
    "routed",
    "assigned",
    "released",
    "acknowledged",
    "info_requested",
    "info_provided",
    "replied",
    "resolved",
    "confirmed",
    "auto_closed",
    "cancelled",
    "reopened",
)


def _python(code: str) -> subprocess.CompletedProcess:
    """`python -c code` from the checkout, outside this test session's settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SPORTELLO_TESTING", "TEST_DATABASE_NAME", "DJANGO_SETTINGS_MODULE")
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode:
        pytest.fail(f"`{code[:80]}` failed:\n{(done.stdout + done.stderr)[-6000:]}")
    return done


def _drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def product_view(url: str) -> dict:
    """What the product says about the loaded rows (run in a subprocess on the bench database)."""
    from bench.common import setup_django

    setup_django(url)
    from datetime import UTC, datetime

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.test import RequestFactory
    from django.utils import timezone

    from bench.common import read_marker
    from casework import deadline_reminders, policy
    from casework.models import (
        Case,
        CaseParticipant,
        Deadline,
        DeadlineReminder,
        Membership,
        PracticeArea,
        RecurringObligation,
        SavedView,
    )
    from casework.models.registry import parse_day_list
    from casework.roles import roles_of
    from casework.selectors import cases_visible_to, with_read_state
    from casework.services import obligations
    from casework.services.deadlines import deadline_due_on
    from casework.sla.clocks import calendar_for_office
    from workflows.workspace.cases import _valid_part, saved_views_for

    User = get_user_model()
    with connect(url) as conn:
        marker = read_marker(conn)
    loaded_at = datetime.fromtimestamp(marker["loaded_at"], UTC)
    today = timezone.localdate(loaded_at)
    seen: dict = {"marker": {k: v for k, v in marker.items() if k != "rows"}}

    # --- Unread: the product's annotation against the read rows and the cases' own history ---
    def unread_by_history(user) -> set[int]:
        visible = list(cases_visible_to(user).values_list("pk", flat=True))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.id FROM casework_case c WHERE c.id = ANY(%s) AND NOT EXISTS ("
                " SELECT 1 FROM casework_caseread r WHERE r.case_id = c.id AND r.user_id = %s "
                " AND r.read_at >= greatest("
                "  (SELECT max(m.created_at) FROM casework_message m"
                "   WHERE m.case_id = c.id AND NOT m.internal),"
                "  (SELECT max(e.created_at) FROM casework_caseevent e"
                "   WHERE e.case_id = c.id AND e.kind = ANY(%s))))",
                [visible, user.pk, list(STATUS_CHANGES)],
            )
            return {row[0] for row in cursor.fetchall()}

    readers = list(
        Case.objects.values_list("requester", flat=True)
        .annotate(n=Count("id"))
        .order_by("-n", "requester")[:5]
    )
    readers += list(
        Case.objects.exclude(assignee=None)
        .values_list("assignee", flat=True)
        .annotate(n=Count("id"))
        .order_by("-n", "assignee")[:2]
    )
    unread = []
    for user in User.objects.filter(pk__in=readers).order_by("pk"):
        product = set(
            with_read_state(cases_visible_to(user), user)
            .filter(unread=True)
            .values_list("pk", flat=True)
        )
        unread.append(
            {
                "user": user.username,
                "cases": cases_visible_to(user).count(),
                "unread": len(product),
                "differ": sorted(product ^ unread_by_history(user))[:10],
            }
        )
    seen["unread"] = unread
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM casework_caseread r "
            " WHERE r.case_id = c.id AND r.user_id = c.requester_id "
            " AND r.read_at >= c.last_activity_at)), "
            " count(*) FILTER (WHERE c.assignee_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
            " casework_caseread r WHERE r.case_id = c.id AND r.user_id = c.assignee_id "
            " AND r.read_at >= c.last_activity_at)), "
            " count(*), count(c.assignee_id) "
            "FROM casework_case c WHERE c.status IN "
            "('triage', 'unassigned', 'assigned', 'waiting', 'resolved')"
        )
        by_requester, by_assignee, open_cases, assigned = cursor.fetchone()
    seen["open_unread_share"] = {
        "requester": by_requester / open_cases,
        "assignee": by_assignee / assigned,
    }

    # --- Deadlines: each open one's date as the product computes it, nothing owed by sweeps --
    schedule = {
        pk: tuple(parse_day_list(days))
        for pk, days in PracticeArea.objects.values_list("pk", "deadline_reminder_days")
    }
    # The latest reminder sent for each deadline (the fewest days before its date).
    fewest: dict[int, int] = {}
    for deadline_id, days in DeadlineReminder.objects.values_list("deadline_id", "days_before"):
        fewest[deadline_id] = min(days, fewest.get(deadline_id, days))
    wrong_dates, owed, checked = [], [], {"case": 0, "obligation": 0}
    calendars: dict[int, object] = {}
    open_deadlines = Deadline.objects.filter(status=Deadline.Status.OPEN).select_related(
        "case__cooperative", "cooperative", "obligation"
    )
    for deadline in open_deadlines.iterator(chunk_size=5000):
        if deadline.obligation_id is None:
            expected = deadline_due_on(
                case=deadline.case,
                kind=deadline.kind,
                trigger_date=deadline.trigger_date,
                term_days=deadline.term_days,
                term_months=deadline.term_months,
            )
            checked["case"] += 1
        else:
            obligation = deadline.obligation
            fixed = obligation.anchor == RecurringObligation.Anchor.FIXED
            anchor = None if fixed else getattr(deadline.cooperative, obligation.anchor)
            office = deadline.cooperative.office_id
            if obligation.deadline_kind == "business" and office not in calendars:
                calendars[office] = calendar_for_office(office)
            expected = obligations.due_on(
                obligation, deadline.occurrence, anchor, calendar=calendars.get(office)
            )
            if deadline.title != obligations.deadline_title(obligation, deadline.occurrence):
                expected = None
            checked["obligation"] += 1
        if expected != deadline.due_on:
            wrong_dates.append(deadline.pk)
        if deadline.case_id is not None:
            due = deadline_reminders.due_reminder(
                schedule[deadline.area_id],
                due_on=deadline.due_on,
                today=today,
                last=fewest.get(deadline.pk),
            )
            if due is not None:
                owed.append(deadline.pk)
    seen["deadlines"] = {"checked": checked, "wrong_dates": wrong_dates[:10], "owed": owed[:10]}
    run_day = timezone.localdate(datetime.fromtimestamp(marker["obligations_generated_at"], UTC))
    generated = obligations.obligations_generate(today=run_day, dry_run=True).as_dict()
    seen["generator_again"] = {
        key: generated[key] for key in ("deadlines_created", "deadlines_existing")
    }

    # --- Confidential cases: who of the cooperative sees each, by the product's rule ---------
    confidential = {"cases": 0, "wrong": [], "hidden_from": 0, "seen_as_participant": 0}
    for case in Case.objects.filter(confidential=True).select_related("cooperative"):
        confidential["cases"] += 1
        followers = set(CaseParticipant.objects.filter(case=case).values_list("user_id", flat=True))
        people = Membership.objects.filter(cooperative_id=case.cooperative_id, is_active=True)
        for membership in people.select_related("user"):
            person = membership.user
            expected = (
                person.pk == case.requester_id
                or membership.role == Membership.Role.LEGAL_REPRESENTATIVE
                or person.pk in followers
            )
            sees = policy.sees_case(case, roles_of(person))
            listed = cases_visible_to(person).filter(pk=case.pk).exists()
            if not sees == listed == expected:
                confidential["wrong"].append((case.pk, person.username))
            confidential["hidden_from"] += not expected
            confidential["seen_as_participant"] += person.pk in followers and listed
    seen["confidential"] = confidential

    # --- The largest cooperative: its legal representative and one of its plain members -----
    with_members = Membership.objects.filter(role=Membership.Role.MEMBER).values("cooperative_id")
    largest = (
        Case.objects.filter(cooperative_id__in=with_members)
        .values_list("cooperative", flat=True)
        .annotate(n=Count("id"))
        .order_by("-n", "cooperative")
        .first()
    )
    legal_rep = Membership.objects.filter(
        cooperative_id=largest, role=Membership.Role.LEGAL_REPRESENTATIVE
    ).first()
    member = (
        Membership.objects.filter(cooperative_id=largest, role=Membership.Role.MEMBER)
        .annotate(n=Count("user__requested_cases"))
        .order_by("-n", "pk")
        .first()
    )
    own = Case.objects.filter(cooperative_id=largest, requester_id=member.user_id).count()
    followed = (
        CaseParticipant.objects.filter(case__cooperative_id=largest, user_id=member.user_id)
        .exclude(case__requester_id=member.user_id)
        .count()
    )
    seen["largest"] = {
        "cases": Case.objects.filter(cooperative_id=largest).count(),
        "legal_rep_sees": cases_visible_to(legal_rep.user).count(),
        "members": Membership.objects.filter(cooperative_id=largest).count(),
        "member_sees": cases_visible_to(member.user).count(),
        "member_own_and_followed": own + followed,
    }

    # --- Saved views: every filter applies in the staff case list, shown to its owner -------
    views = {"count": 0, "dropped": [], "not_listed": 0, "shared": 0}
    request_factory = RequestFactory()
    for view in SavedView.objects.select_related("owner").order_by("pk"):
        request = request_factory.get("/work/cases/")
        request.user = view.owner
        _params, dropped = _valid_part(view, request)
        views["count"] += 1
        views["shared"] += view.shared_with_area_id is not None
        if dropped:
            views["dropped"].append((view.pk, dropped))
        views["not_listed"] += not saved_views_for(view.owner).filter(pk=view.pk).exists()
    seen["views"] = views
    return seen


@pytest.mark.slow
def test_a_small_bench_database_is_what_the_product_would_show():
    # Given a bench database of its own, loaded by the loader and checked by its verify
    url = f"postgres://postgres@127.0.0.1:5432/sportello_bench_test_{os.getpid()}"
    try:
        loaded = _python(
            f"from bench.load import load, verify; load({SIZE}, url={url!r}); verify({url!r})"
        )
        # When the product reads it
        printed = _python(
            "import json; from tests.bench_loader.test_loader import product_view; "
            f"print(json.dumps(product_view({url!r}), default=str))"
        )
    finally:
        _drop(url)
    seen = json.loads(printed.stdout.strip().splitlines()[-1])

    # Then verify found nothing wrong
    assert "checks failed" not in loaded.stdout + loaded.stderr
    # and the unread markers of the product are those the read rows and the history say
    assert seen["unread"], seen
    for reader in seen["unread"]:
        assert reader["differ"] == [], reader
    assert any(reader["unread"] for reader in seen["unread"]), seen["unread"]
    assert 0.1 <= seen["open_unread_share"]["requester"] <= 0.6, seen["open_unread_share"]
    assert 0.03 <= seen["open_unread_share"]["assignee"] <= 0.5, seen["open_unread_share"]
    # and every open deadline falls due when casework.sla.deadlines (and the obligations'
    # generator) say, with no reminder owed and nothing more for the generator to write
    deadlines = seen["deadlines"]
    assert deadlines["checked"]["case"] > 0 and deadlines["checked"]["obligation"] > 0, deadlines
    assert deadlines["wrong_dates"] == [], deadlines
    assert deadlines["owed"] == [], deadlines
    assert seen["generator_again"]["deadlines_created"] == 0, seen["generator_again"]
    assert seen["generator_again"]["deadlines_existing"] > 0, seen["generator_again"]
    # and a confidential case is seen only by its requester, the cooperative's legal
    # representatives and its participants
    confidential = seen["confidential"]
    assert confidential["cases"] > 0, confidential
    assert confidential["wrong"] == [], confidential
    assert confidential["hidden_from"] > 0, confidential
    # and in the largest cooperative the legal representative sees every case, a plain member
    # only their own and those they follow
    largest = seen["largest"]
    assert largest["members"] >= 2, largest
    assert largest["legal_rep_sees"] == largest["cases"], largest
    assert largest["member_sees"] == largest["member_own_and_followed"], largest
    # and every saved view opens in the staff case list without dropping a filter
    views = seen["views"]
    assert views["count"] > 0 and views["shared"] > 0, views
    assert views["dropped"] == [] and views["not_listed"] == 0, views
