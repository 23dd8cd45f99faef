"""The deadlines API: a case's deadlines, the caller's, changes and their refusals (400, 403,
404, 409), what members see, and constant query counts."""

from datetime import date

import pytest

from casework.models import Case, Deadline, Membership
from tests import factories

pytestmark = pytest.mark.django_db

BODY = {
    "title": "Ricorso contro l'avviso di accertamento",
    "kind": "tax",
    "trigger_date": "2026-07-15",
    "term_days": 60,
}


def case_deadlines(case):
    return f"/api/v1/cases/{case.pk}/deadlines/"


def test_a_consultant_adds_a_deadline_and_reads_it_back(deadline_api, consultant, assigned_case):
    api = deadline_api(consultant)

    created = api.post(case_deadlines(assigned_case), {**BODY, "shared": True}, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["due_on"] == "2026-09-14"
    assert body["case"] == assigned_case.pk and body["case_reference"] == assigned_case.reference
    assert body["area"] == "legal" and body["status"] == "open" and body["shared"] is True
    assert body["responsible"]["username"] == consultant.username
    listed = api.get(case_deadlines(assigned_case)).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert api.get(f"/api/v1/deadlines/{body['id']}/").json()["title"] == BODY["title"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"term_days": 0}, "term_days"),
        ({"term_days": -1}, "term_days"),
        ({"term_days": "9" * 40}, "term_days"),
        ({"trigger_date": "15/07/2026"}, "trigger_date"),
        ({"trigger_date": "10000-01-01"}, "trigger_date"),
        ({"kind": "weekly"}, "kind"),
        ({"title": ""}, "title"),
        ({"responsible": "nessuno"}, "responsible"),
        ({"responsible": "²"}, "responsible"),
        ({"responsible": "x" * 151}, "responsible"),
        ({"shared": "forse"}, "shared"),
    ],
)
def test_field_errors_are_400s_naming_the_field(
    deadline_api, consultant, assigned_case, change, field
):
    response = deadline_api(consultant).post(
        case_deadlines(assigned_case), {**BODY, **change}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not Deadline.objects.exists()


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"trigger_date": "9999-07-15"}, "trigger_date", "between 1900 and 9998"),
        ({"trigger_date": "1899-07-15"}, "trigger_date", "between 1900 and 9998"),
        ({"term_months": 2}, "term", "not both"),
        ({"kind": "fixed"}, "term", "give no term"),
        ({"term_days": None}, "term", "Give the term"),
        ({"kind": "business", "term_days": None, "term_months": 1}, "term", "give days"),
    ],
)
def test_refusals_of_the_rules_are_400s_with_a_detail(
    deadline_api, consultant, assigned_case, change, code, words
):
    response = deadline_api(consultant).post(
        case_deadlines(assigned_case), {**BODY, **change}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert words in response.json()["detail"]
    assert not Deadline.objects.exists()


def test_the_responsible_person_is_named_by_username_or_id(
    deadline_api, consultant, assigned_case, deadline_colleague, area_supervisor
):
    api = deadline_api(consultant)

    by_name = api.post(
        case_deadlines(assigned_case),
        {**BODY, "responsible": deadline_colleague.username},
        format="json",
    )
    by_id = api.post(
        case_deadlines(assigned_case),
        {**BODY, "responsible": str(area_supervisor.pk)},
        format="json",
    )

    assert by_name.json()["responsible"]["username"] == deadline_colleague.username
    assert by_id.json()["responsible"]["id"] == area_supervisor.pk


def test_a_responsible_person_who_is_not_staff_of_the_case_is_a_400(
    deadline_api, consultant, assigned_case, member
):
    response = deadline_api(consultant).post(
        case_deadlines(assigned_case), {**BODY, "responsible": member.username}, format="json"
    )

    assert response.status_code == 400 and response.json()["code"] == "responsible"


def test_a_member_sees_the_shared_deadlines_only_and_may_not_add_one(
    deadline_api, member, add_deadline, assigned_case
):
    shared = add_deadline(shared=True, note="nota per lo staff")
    private = add_deadline(shared=False)
    api = deadline_api(member)

    listed = api.get(case_deadlines(assigned_case)).json()["results"]
    assert [row["id"] for row in listed] == [shared.pk]
    assert listed[0]["note"] == ""
    assert [row["id"] for row in api.get("/api/v1/deadlines/").json()["results"]] == [shared.pk]
    assert api.get(f"/api/v1/deadlines/{private.pk}/").status_code == 404

    added = api.post(case_deadlines(assigned_case), BODY, format="json")
    changed = api.patch(f"/api/v1/deadlines/{shared.pk}/", {"title": "x"}, format="json")
    done = api.post(f"/api/v1/deadlines/{shared.pk}/done/")
    assert (added.status_code, changed.status_code, done.status_code) == (403, 403, 403)
    assert "staff" in added.json()["detail"]
    assert Deadline.objects.count() == 2


def test_other_cooperatives_and_other_areas_get_404s(
    deadline_api, other_member, fiscal_consultant_only, add_deadline, assigned_case
):
    deadline = add_deadline(shared=True)

    for person in (other_member, fiscal_consultant_only):
        api = deadline_api(person)
        assert api.get(case_deadlines(assigned_case)).status_code == 404
        assert api.post(case_deadlines(assigned_case), BODY, format="json").status_code == 404
        assert api.get(f"/api/v1/deadlines/{deadline.pk}/").status_code == 404
        patched = api.patch(f"/api/v1/deadlines/{deadline.pk}/", {"title": "x"}, format="json")
        assert patched.status_code == 404
        assert api.post(f"/api/v1/deadlines/{deadline.pk}/done/").status_code == 404
        assert api.get("/api/v1/deadlines/").json()["results"] == []
    assert deadline_api(fiscal_consultant_only).get("/api/v1/deadlines/abc/").status_code == 404


def test_patch_changes_only_what_it_names(deadline_api, consultant, add_deadline):
    deadline = add_deadline(kind="judicial", trigger_date=date(2026, 7, 15), term_days=30)
    api = deadline_api(consultant)

    moved = api.patch(
        f"/api/v1/deadlines/{deadline.pk}/", {"trigger_date": "2026-08-03"}, format="json"
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["due_on"] == "2026-09-30"
    assert moved.json()["title"] == deadline.title and moved.json()["kind"] == "judicial"

    to_months = api.patch(
        f"/api/v1/deadlines/{deadline.pk}/",
        {"term_days": None, "term_months": 1, "kind": "tax"},
        format="json",
    )
    assert to_months.status_code == 200, to_months.content
    assert to_months.json()["due_on"] == "2026-09-03"

    refused = api.patch(f"/api/v1/deadlines/{deadline.pk}/", {"term_months": 0}, format="json")
    assert refused.status_code == 400
    assert api.get(f"/api/v1/deadlines/{deadline.pk}/").json()["due_on"] == "2026-09-03"
    assert api.put(f"/api/v1/deadlines/{deadline.pk}/", BODY, format="json").status_code == 405


def test_done_then_done_again_is_a_409_then_reopen(deadline_api, consultant, add_deadline):
    deadline = add_deadline(kind="fixed", trigger_date=date(2027, 3, 1))
    api = deadline_api(consultant)

    assert api.post(f"/api/v1/deadlines/{deadline.pk}/done/").json()["status"] == "done"
    again = api.post(f"/api/v1/deadlines/{deadline.pk}/done/")
    assert again.status_code == 409 and again.json()["code"] == "already_done"
    assert api.post(f"/api/v1/deadlines/{deadline.pk}/reopen/").json()["status"] == "open"
    twice = api.post(f"/api/v1/deadlines/{deadline.pk}/reopen/")
    assert twice.status_code == 409 and twice.json()["code"] == "not_done"


def test_the_list_filters_by_status_and_date(deadline_api, consultant, add_deadline):
    early = add_deadline(kind="fixed", trigger_date=date(2027, 1, 10))
    late = add_deadline(kind="fixed", trigger_date=date(2027, 6, 10))
    done = add_deadline(kind="fixed", trigger_date=date(2027, 2, 10))
    api = deadline_api(consultant)
    api.post(f"/api/v1/deadlines/{done.pk}/done/")

    def ids(**params):
        response = api.get("/api/v1/deadlines/", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [early.pk, done.pk, late.pk]
    assert ids(status="open") == [early.pk, late.pk]
    assert ids(status="done") == [done.pk]
    assert ids(due_before="2027-02-10") == [early.pk, done.pk]
    assert ids(status="open", due_before="2027-03-01") == [early.pk]
    assert ids(due_after="2027-02-11") == [late.pk]
    assert api.get("/api/v1/deadlines/", {"status": "late"}).status_code == 400
    assert api.get("/api/v1/deadlines/", {"due_before": "domani"}).status_code == 400


def test_the_lists_read_a_constant_number_of_queries(
    deadline_api,
    supervisor,
    add_deadline,
    assigned_case,
    deadline_colleague,
    django_assert_max_num_queries,
):
    api = deadline_api(supervisor)
    for n in range(2):
        add_deadline(title=f"Prima {n}")
    with django_assert_max_num_queries(12) as few:
        api.get("/api/v1/deadlines/")
        api.get(case_deadlines(assigned_case))
    for n in range(20):
        add_deadline(title=f"Poi {n}", responsible=deadline_colleague)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get("/api/v1/deadlines/").json()["results"]) == 22
        assert len(api.get(case_deadlines(assigned_case)).json()["results"]) == 22


def test_the_schema_documents_the_deadline_operations(deadline_api):
    schema = deadline_api().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/cases/{case_id}/deadlines/"])
    assert set(paths["/api/v1/deadlines/{id}/"]) == {"get", "patch"}
    assert "post" in paths["/api/v1/deadlines/{id}/done/"]
    assert "post" in paths["/api/v1/deadlines/{id}/reopen/"]
    for path, operations in paths.items():
        if "deadlines" in path:
            for operation in operations.values():
                assert "401" in operation["responses"], path


def test_a_shared_deadline_of_a_confidential_case_stays_hidden_from_a_referent(
    deadline_api, add_deadline, assigned_case, cooperative, legal_rep
):
    referent = factories.MembershipFactory(
        cooperative=cooperative, user__username="socio.referente", role=Membership.Role.REFERENT
    ).user
    deadline = add_deadline(shared=True)
    Case.objects.filter(pk=assigned_case.pk).update(confidential=True)

    hidden = deadline_api(referent)
    assert hidden.get("/api/v1/deadlines/").json()["results"] == []
    assert hidden.get(f"/api/v1/deadlines/{deadline.pk}/").status_code == 404
    assert hidden.get(case_deadlines(assigned_case)).status_code == 404
    # The legal representative sees confidential cases, and so their shared deadlines.
    shown = deadline_api(legal_rep).get("/api/v1/deadlines/").json()["results"]
    assert [row["id"] for row in shown] == [deadline.pk]
