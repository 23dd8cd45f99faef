"""Form pages fed malformed and oversized input: never a server error, nothing changed on refusal.

Every HTML form a cooperative member or the federation's staff can post to (the portal's intake,
reply, reopen, rating and cooperative switch; the workspace's actions on a case) gets examples
generated with hypothesis from a fixed seed: 1 MB strings, NUL bytes, numbers that are not
numbers or are negative, unknown choices, ids that do not exist, missing fields. Each example is
rolled back, so every one starts from the same case. When the answer is a refusal (the form
shown again, or a redirect with an error message) the case's status and events are unchanged.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.messages import constants, get_messages
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from casework.models import Case, CaseEvent
from tests import factories
from workflows import process

pytestmark = pytest.mark.django_db

EXAMPLES = 20
HUGE = "x" * (1024 * 1024)

# Values a field may get: oversized, NUL bytes, not numbers, negative, unknown ids and choices.
hostile_value = st.one_of(
    st.just(HUGE),
    st.just("\x00"),
    st.text(max_size=30).map(lambda text: text + "\x00" + text),
    st.sampled_from(["", " ", "abc", "-5", "-1", "0", "1.5", "1e309", "NaN", "999999999"]),
    st.sampled_from(["99999999999999999999999", "urgentissimo", "<script>", "'; drop--"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=200),
    st.lists(st.text(max_size=5), min_size=2, max_size=3),  # a field sent several times
)


def hostile_form(fields: list[str], prefix: str = "") -> st.SearchStrategy[dict]:
    """A POST body with any subset of the form's fields (and one it does not know)."""
    names = [f"{prefix}-{field}" if prefix else field for field in fields] + ["unknown"]
    return st.dictionaries(st.sampled_from(names), hostile_value, max_size=len(names))


# (who, form, fields, URL prefix of the fields) for each form page.
PORTAL_FORMS = {
    "new": ("/cases/new/", ["cooperative", "area", "specialty", "subject", "description",
                            "priority"]),
    "reply": ("/cases/{case}/reply/", ["body"]),
    "reopen": ("/cases/{case}/reopen/", ["reason"]),
    "rate": ("/cases/{case}/rate/", ["score", "comment"]),
    "switch": ("/cases/cooperative/", ["cooperative", "next"]),
}  # fmt: skip
# The composer's fields (prefix "composer"), posted to each mode's URL (which fixes the mode).
COMPOSER = ["mode", "body", "outcome", "minutes", "canned", "insert"]
WORKSPACE_FORMS = {
    "acknowledge": ["body"],
    "reply": COMPOSER,
    "note": COMPOSER,
    "request-info": COMPOSER,
    "resolve": COMPOSER,
    "time": COMPOSER,
    "hand-back": COMPOSER,
    "compose": COMPOSER,
    "triage": ["area", "specialty", "priority"],
    "reject": ["reason", "explanation"],
    "priority": ["priority"],
    "cancel": ["reason"],
    "assign": ["consultant"],
}
SUPERVISION = {"triage", "reject", "priority", "cancel", "assign"}


@pytest.fixture
def cases_by_form(open_case, process_setup, outcome, member, consultant):
    """An assigned case, a resolved one (to reopen), a closed one (to rate), one in triage."""
    assigned, resolved, closed = (open_case(subject=f"Pratica {n}") for n in range(3))
    # A second consultant of the area, so that the assign form has a choice.
    factories.ConsultantFactory(user__username="consulente.due", areas=[process_setup])
    for case in (resolved, closed):
        process.case_resolve(case=case, actor=consultant, outcome=outcome, summary="Parere.")
    process.case_confirm(case=closed, actor=member)
    process_setup.default_priority = ""
    process_setup.save()
    triage = open_case(subject="Da smistare")
    assert triage.status == "triage"
    return {"assign": assigned, "reopen": resolved, "rate": closed, "triage": triage}


def state_of(case: Case) -> tuple:
    case.refresh_from_db()
    return case.status, case.priority, case.assignee_id, CaseEvent.objects.filter(case=case).count()


def refused(response) -> bool:
    if response.status_code != 302:
        return True
    return any(m.level >= constants.ERROR for m in get_messages(response.wsgi_request))


def fuzz(client, url: str, body_strategy, case: Case | None) -> tuple[list[str], Counter]:
    """Post every generated body; the problems found (server errors, changes on refusal) and
    the count of answers by status."""
    problems: list[str] = []
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(body=body_strategy)
    def examples(body):
        with transaction.atomic():
            before = state_of(case) if case else Case.objects.count()
            response = client.post(url, body)
            after = state_of(case) if case else Case.objects.count()
            transaction.set_rollback(True)
        statuses[response.status_code] += 1
        shown = {
            key: (value[:40] if isinstance(value, str) else value) for key, value in body.items()
        }
        if response.status_code >= 500:
            problems.append(f"POST {url} {shown}: {response.status_code}")
        elif refused(response) and before != after:
            problems.append(
                f"POST {url} {shown}: refused ({response.status_code}) but {before} → {after}"
            )

    examples()
    return problems, statuses


@pytest.mark.parametrize("form", PORTAL_FORMS)
def test_portal_forms_survive_hostile_input(client, member, cases_by_form, form):
    url, fields = PORTAL_FORMS[form]
    case = cases_by_form.get(form, cases_by_form["assign"]) if "{case}" in url else None
    client.force_login(member)

    problems, statuses = fuzz(
        client, url.format(case=case.pk if case else ""), hostile_form(fields), case
    )

    assert not problems, "\n".join(problems)
    # The form itself was reached: some answers are the form shown again with its errors.
    assert statuses.keys() - {302} <= {200, 400}, statuses
    assert statuses[200] + statuses[400] > 0, statuses


@pytest.mark.parametrize("action", WORKSPACE_FORMS)
def test_workspace_forms_survive_hostile_input(
    client, consultant, supervisor, cases_by_form, action
):
    case = cases_by_form["triage"] if action in ("triage", "reject") else cases_by_form["assign"]
    client.force_login(supervisor if action in SUPERVISION else consultant)
    url = f"/work/cases/{case.pk}/{action}/"

    prefix = "composer" if WORKSPACE_FORMS[action] is COMPOSER else action
    problems, statuses = fuzz(client, url, hostile_form(WORKSPACE_FORMS[action], prefix), case)

    assert not problems, "\n".join(problems)
    # The form itself was reached: some answers are the form shown again with its errors.
    assert statuses.keys() - {302} <= {200, 400}, statuses
    assert statuses[200] + statuses[400] > 0, statuses
