"""Drill 2, idempotency: racing intakes with one Idempotency-Key open exactly one case."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from casework.models import Case, CaseEvent, Cooperative, IdempotencyKey, Notification

from . import harness
from .harness import Client, sign_in

pytestmark = pytest.mark.slow

RACERS = int(os.environ.get("DRILL_IDEMPOTENCY_RACERS", "20"))
ROUNDS = int(os.environ.get("DRILL_IDEMPOTENCY_ROUNDS", "5"))


def _case_ids_drawn(db: str) -> int:
    """The case id sequence: not transactional, so it also counts intakes that rolled back."""
    return harness.sql(
        db,
        "SELECT coalesce(last_value, 0) FROM pg_sequences WHERE sequencename = %s",
        ["casework_case_id_seq"],
    )[0][0]


def _body(cooperative_id: int, subject: str) -> dict:
    return {
        "cooperative": cooperative_id,
        "area": "fiscal",
        "subject": subject,
        "description": "Una richiesta ritrasmessa più volte dal client.",
    }


def test_racing_intakes_with_one_key_open_one_case(drill, orm, report):
    """20 racing intakes with the same Idempotency-Key: one case"""
    _proc, port = drill.procs.gunicorn(drill.env(), workers=3, threads=8)
    alfa = sign_in(port, "socio.alfa")
    beta = sign_in(port, "socio.beta")
    alfa_id = Cooperative.objects.get(name="Cooperativa Alfa").pk
    beta_id = Cooperative.objects.get(name="Cooperativa Beta").pk
    cases_before = Case.objects.count()
    ids_before = _case_ids_drawn(drill.db)
    report.tried(
        f"{ROUNDS} keys × {RACERS} identical POST /api/v1/cases/ released together at a barrier "
        "(gunicorn 3 workers × 8 threads)"
    )

    subjects = []
    for round_no in range(1, ROUNDS + 1):
        key = str(uuid.uuid4())
        subject = f"Idempotenza {key[:8]}"
        subjects.append((key, subject))
        barrier = threading.Barrier(RACERS)
        answers = [None] * RACERS

        def post(i, key=key, subject=subject, barrier=barrier, answers=answers):
            client = Client(port, alfa.token, timeout=120)
            barrier.wait()
            try:
                answer = client.post(
                    "/api/v1/cases/", _body(alfa_id, subject), headers={"Idempotency-Key": key}
                )
                answers[i] = (answer.status, (answer.json or {}).get("id"))
            except OSError as error:
                answers[i] = (-1, repr(error))

        threads = [threading.Thread(target=post, args=(i,)) for i in range(RACERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        created = [case_id for status, case_id in answers if status == 201]
        replayed = [case_id for status, case_id in answers if status == 200]
        others = [status for status, _id in answers if status not in (200, 201)]
        ids = {case_id for status, case_id in answers if status in (200, 201)}
        rows = list(Case.objects.filter(subject=subject).values_list("pk", flat=True))
        case_id = rows[0] if len(rows) == 1 else None
        opened = CaseEvent.objects.filter(case_id=case_id, kind="opened").count()
        mails = Notification.objects.filter(case_id=case_id, kind="case_opened").count()
        keys = IdempotencyKey.objects.filter(key=key).count()
        report.check(
            f"key {round_no}: one case for {RACERS} racing requests",
            len(created) == 1
            and len(replayed) == RACERS - 1
            and not others
            and ids == {case_id}
            and keys == 1
            and opened == 1
            and mails == 1,
            f"{len(created)} × 201, {len(replayed)} × 200, others {others or 'none'}; "
            f"{len(rows)} case(s) in the database, all answers name it: {ids == {case_id}}; "
            f"'opened' events {opened}, intake e-mails {mails}",
        )

    key, subject = subjects[0]
    retry = alfa.post("/api/v1/cases/", _body(alfa_id, subject), headers={"Idempotency-Key": key})
    first = Case.objects.get(subject=subject).pk
    report.check(
        "a later retry answers 200 with the same case",
        retry.status == 200 and retry.json["id"] == first,
        f"{retry.status}, case {retry.json.get('id')} (first {first})",
    )
    changed = alfa.post(
        "/api/v1/cases/", _body(alfa_id, subject + " (cambiato)"), headers={"Idempotency-Key": key}
    )
    report.check(
        "the same key with another body is refused with 409",
        changed.status == 409 and (changed.json or {}).get("code") == "idempotency_key_reused",
        f"{changed.status} {(changed.json or {}).get('code')}",
    )
    other_member = beta.post(
        "/api/v1/cases/", _body(beta_id, subject), headers={"Idempotency-Key": key}
    )
    report.check(
        "another member's same key is their own (201, a new case)",
        other_member.status == 201 and other_member.json["id"] != first,
        f"{other_member.status}",
    )
    added = Case.objects.count() - cases_before
    drawn = _case_ids_drawn(drill.db) - ids_before
    report.check(
        "the races were real: requests got past the look-up, opened a case, rolled it back",
        drawn - added > 0,
        f"{drawn - added} rolled back (case ids drawn {drawn}, cases kept {added})",
    )
    report.check(
        "cases added: one per key and member, no orphans of the losing requests",
        added == ROUNDS + 1,
        f"{added} new cases for {ROUNDS} keys of socio.alfa + 1 of socio.beta",
    )
    assert not report.failed, report.failed
