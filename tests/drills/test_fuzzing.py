"""Fuzzing drill: schemathesis over the whole OpenAPI, thousands of examples, and a stateful run.

The bounded version in `tests/api/test_schemathesis.py` runs in `make test`; this drill reuses its
world (the demo registry and cases in several states) and its path ids of real objects, with
many more examples: FUZZ_EXAMPLES per operation and role (200 by default), from a fixed seed.
Every response must not be a server error and must match the schema of its status code. Then
schemathesis's state machine (links inferred from the schema) chains calls, so that ids
returned by one operation feed the next: a case opened, then messaged, triaged, resolved...

It runs in-process against the WSGI app, inside the test's transaction, so it needs only the
test database: `make drills PYTEST_ARGS="-k fuzzing"`.
"""

from __future__ import annotations

import os
from collections import Counter

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.core.failures import FailureGroup

from casework.config.wsgi import application
from tests.api.test_schemathesis import (
    CHECKS,
    connection_kept_open,
    demo_world,  # noqa: F401 (a fixture)
    real_path_parameters,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
STATEFUL_SCENARIOS = int(os.environ.get("FUZZ_STATEFUL_SCENARIOS", "100"))
ROLES = ("member", "consultant", "supervisor")


def fuzz_settings(max_examples: int, **extra) -> hypothesis.settings:
    # Fixed seed, no shrinking: every failure is reported as generated, and a rerun is the same.
    return hypothesis.settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        **extra,
    )


def fuzz_operation(operation, objects: dict, headers: dict, statuses: Counter) -> list[str]:
    """Every generated example of one operation, each rolled back; the failures (first few)."""
    strategies = [operation.as_strategy()] + [
        operation.as_strategy(path_parameters=parameters)
        for parameters in real_path_parameters(operation.path, objects)
    ]
    failures: list[str] = []

    @fuzz_settings(EXAMPLES)
    @given(case=st.one_of(strategies))
    def examples(case):
        cache.clear()  # the sign-in throttle would otherwise answer 429 to most examples
        try:
            with transaction.atomic():
                response = case.call(headers=headers)
                transaction.set_rollback(True)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, Exception) as error:  # every failure is reported, with its example
            statuses["failed"] += 1
            if len(failures) < 3:
                failures.append(f"{operation.label}: {error}")

    examples()
    return failures


def headers_of(user) -> dict[str, str]:
    token, _created = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_many_examples(demo_world, role):  # noqa: F811
    headers = headers_of(demo_world["users"][role])
    statuses: Counter = Counter()
    with connection_kept_open():
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
        operations = [result.ok() for result in schema.get_all_operations()]
        failures = [
            failure
            for operation in operations
            for failure in fuzz_operation(operation, demo_world, headers, statuses)
        ]

    total = sum(count for status, count in statuses.items() if status != "failed")
    print(
        f"\nfuzzing as {role}: {len(operations)} operations, {total} examples; "
        + ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items(), key=str))
    )
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_stateful_sequences(demo_world, role):  # noqa: F811
    """Chains of calls linked by the ids they return: no 5xx, every response as documented."""
    headers = headers_of(demo_world["users"][role])
    statuses: Counter = Counter()
    with connection_kept_open():
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)

        class Workflow(schema.as_state_machine()):
            def get_call_kwargs(self, case):
                cache.clear()
                return {"headers": headers}

            def after_call(self, response, case):
                super().after_call(response, case)
                statuses[response.status_code] += 1

            def validate_response(self, response, case, additional_checks=None, **kwargs):
                case.validate_response(response, checks=CHECKS, headers=headers)

        Workflow.run(settings=fuzz_settings(STATEFUL_SCENARIOS, stateful_step_count=10))

    print(
        f"\nstateful fuzzing as {role}: {STATEFUL_SCENARIOS} scenarios, "
        f"{sum(statuses.values())} calls; "
        + ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    )
