"""Schemathesis over the OpenAPI schema, in-process: no input from any role gets a 5xx, and
every response matches the schema of its status code.

Every operation of `/api/v1/schema/` is called with examples generated from its schema, as a
cooperative member, a consultant and a supervisor (token header), over the demo registry and a
few cases in different states. Path ids are either generated or those of real objects, so that
the actions run on cases, tasks and documents that exist. The seed is fixed (`derandomize`) and
the examples bounded, so a run is reproducible and quick; each example is rolled back, so every
one starts from the same data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import hypothesis
import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from casework.config.wsgi import application
from casework.demo import seed_registry
from casework.models import Cooperative, OutcomeCode, PracticeArea
from workflows import process
from workflows.flows import CaseFlow
from workflows.process import case_attach

pytestmark = pytest.mark.django_db

User = get_user_model()

# Examples per operation and role: 35 operations × 3 roles in well under a minute on 2 cores.
EXAMPLES = 10
CHECKS = [not_a_server_error, response_schema_conformance]
MEMBER, SUPERVISOR = "socio.alfa", "supervisore"


@contextmanager
def connection_kept_open() -> Iterator[None]:
    """Let a WSGI request run inside the test's transaction, as Django's test client does: the
    request signals would otherwise close the connection (and lose the transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def demo_world(settings, tmp_path) -> dict:
    """The demo registry, and four legal cases of a cooperative: one in triage, the others
    triaged (so routed to consultants), then acknowledged, waiting for information, resolved."""
    settings.MEDIA_ROOT = tmp_path / "media"
    seed_registry()
    member = User.objects.get(username=MEMBER)
    supervisor = User.objects.get(username=SUPERVISOR)
    cooperative = Cooperative.objects.filter(memberships__user=member).first()
    legal = PracticeArea.objects.get(code="legal")
    cases = [
        process.case_open(
            requester=member,
            cooperative=cooperative,
            area=legal,
            subject=f"Modifica dello statuto {n}",
            description="Dobbiamo cambiare l'oggetto sociale.",
        )
        for n in range(4)
    ]
    in_triage, acknowledged, waiting, resolved = cases
    for case in (acknowledged, waiting, resolved):
        if case.status == "triage":
            process.case_triage(case=case, actor=supervisor, priority="normal")
        case.refresh_from_db()
        process.case_acknowledge(case=case, actor=case.assignee)
    process.case_request_info(case=waiting, actor=waiting.assignee, question="Lo statuto attuale?")
    process.case_resolve(
        case=resolved,
        actor=resolved.assignee,
        outcome=OutcomeCode.objects.filter(area=legal, is_active=True).first(),
        summary="Parere inviato.",
    )
    message = process.case_post_message(case=in_triage, author=member, body="Ecco lo statuto.")
    document = case_attach(
        case=in_triage,
        uploaded_by=member,
        file=SimpleUploadedFile("statuto.pdf", b"%PDF-1.4 statuto"),
        message=message,
    )
    return {
        "users": {"member": member, "consultant": acknowledged.assignee, "supervisor": supervisor},
        "cases": [case.pk for case in cases],
        "documents": [(in_triage.pk, document.pk)],
        "tasks": [
            task.pk
            for case in cases
            for step in (CaseFlow.triage, CaseFlow.work)
            if (task := process.active_task(case, step)) is not None
        ],
        "cooperatives": [cooperative.pk, Cooperative.objects.exclude(pk=cooperative.pk).first().pk],
        "areas": ["legal", "fiscal"],
    }


def real_path_parameters(path: str, world: dict) -> list[dict[str, str]]:
    """Path parameters naming objects that exist, for the operation at `path`."""
    if "{case_id}" in path and "{id}" in path:
        return [{"case_id": str(case), "id": str(doc)} for case, doc in world["documents"]]
    if "{case_id}" in path or path.startswith("/api/v1/cases/{id}"):
        name = "case_id" if "{case_id}" in path else "id"
        return [{name: str(pk)} for pk in world["cases"]]
    if path.startswith("/api/v1/tasks/{id}"):
        return [{"id": str(pk)} for pk in world["tasks"]]
    if path.startswith("/api/v1/reports/cooperatives/{id}"):
        return [{"id": str(pk)} for pk in world["cooperatives"]]
    if "{code}" in path:
        return [{"code": code} for code in world["areas"]]
    return []


def run_operation(operation, world: dict, headers: dict[str, str]) -> list[str]:
    """Generate examples for one operation, call the app with each; the failures found."""
    strategies = [operation.as_strategy()] + [
        operation.as_strategy(path_parameters=parameters)
        for parameters in real_path_parameters(operation.path, world)
    ]
    failures: list[str] = []

    # No shrinking: the first failing example of each operation is reported as generated.
    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def examples(case):
        if failures:
            return
        try:
            with transaction.atomic():
                response = case.call(headers=headers)
                transaction.set_rollback(True)
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, Exception) as error:  # every failure is reported, with its example
            failures.append(f"{operation.label}: {error}")

    examples()
    return failures


@pytest.mark.parametrize("role", ["member", "consultant", "supervisor"])
def test_no_server_error_and_every_response_as_documented(demo_world, role):
    token, _created = Token.objects.get_or_create(user=demo_world["users"][role])
    headers = {"Authorization": f"Token {token.key}"}
    with connection_kept_open():
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
        failures = [
            failure
            for result in schema.get_all_operations()
            for failure in run_operation(result.ok(), demo_world, headers)
        ]

    assert not failures, "\n\n".join(failures)
