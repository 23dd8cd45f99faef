"""Tenant isolation sweep: every URL pattern, filled with cooperative B's ids, asked by outsiders.

The project's URL map is walked recursively (admin, static files, i18n, login and logout are left
out: the admin has its own tests). Each pattern's parameters are filled with the ids of objects
that belong to cooperative B (its cases in several states, their messages, internal note,
document, events and tasks, B itself); a parameter that cannot be mapped gets a case id of B.
Every URL is then asked with GET and with an empty POST by a member of cooperative A only, a
consultant and a supervisor of another practice area, and an anonymous visitor. No answer may be
a server error or show B's data (marker strings chosen so they appear nowhere else), and no
object URL of B may answer with a success to any of them.

The same sweep then runs inside B, once its cases are confidential: an ordinary member of B (who
sees only their own case), a referent of B (who sees all but the confidential ones) and a legal
representative who left B (who sees nothing) must find none of those cases anywhere.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from casework.models import CaseEvent, Message
from tests import factories
from workflows import process
from workflows.flows import CaseFlow, FollowUpFlow
from workflows.process import case_attach

from .conftest import PDF_BYTES

pytestmark = pytest.mark.django_db

SKIPPED_PREFIXES = ("admin/", "static/", "media/", "i18n/", "login/", "logout/")

# Strings that appear only in cooperative B's data.
COOPERATIVE_MARKER = "Cooperativa Zafferano Quokka"
SUBJECT_MARKER = "Oggetto-Riservato-Xylofono"
DESCRIPTION_MARKER = "Descrizione-Riservata-Pangolino"
MESSAGE_MARKER = "Messaggio-Riservato-Ornitorinco"
NOTE_MARKER = "Nota-Interna-Capibara"
DOCUMENT_MARKER = "allegato-riservato-tapiro"

ROLES = ("member_of_a", "consultant_other_area", "supervisor_other_area", "anonymous")
STAFF_ROLES = ("consultant_other_area", "supervisor_other_area")
# By design the federation's staff may open any cooperative's report (its name and tax code);
# the figures in it must count only the cases they may see (see the test below). Staff open
# cases for any cooperative (`case_new`), so its form lists every cooperative and its people.
# The staff's page of a cooperative (`cooperative`) shows its profile and people to all staff,
# and only the cases they may see (tests/workspace/test_cooperative_page.py). The hours a
# cooperative's plan includes and has used (`cooperative-hours`) are the figure any consultant
# needs before proposing work beyond it: its name and minutes, no case (tests/hours/test_api.py).
NAME_SHOWN_TO_STAFF = (
    "report-cooperatives",
    "report-cooperative",
    "report-cooperative-csv",
    "case_new",
    "cooperative",
    "cooperative-hours",
)


@dataclass(frozen=True)
class Sweepable:
    """One URL pattern of the project: its full route and its parameter names."""

    route: str  # a regular expression for the whole path, without anchors
    name: str
    params: tuple[str, ...]


def _regex_of(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        # `<int:pk>` → a named group; the converter does not matter for filling the path.
        return re.sub(r"<(?:\w+:)?(\w+)>", r"(?P<\1>[^/]+)", str(pattern._route))
    if isinstance(pattern, RegexPattern):
        return str(pattern._regex).lstrip("^").removesuffix("\\Z").removesuffix("$")
    return str(pattern)


def url_patterns(resolver=None, prefix: str = "") -> list[Sweepable]:
    """Every URL pattern of the project, recursively, with its route from the root."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + _regex_of(entry.pattern)
        if isinstance(entry, URLResolver):
            found.extend(url_patterns(entry, route))
        elif isinstance(entry, URLPattern):
            params = tuple(re.findall(r"\(\?P<(\w+)>", route))
            found.append(Sweepable(route, entry.name or entry.lookup_str, params))
    return found


def fill(route: str, values: dict[str, str]) -> str:
    """The path of a route with its named groups replaced by values (balanced parentheses)."""
    out, i = [], 0
    while i < len(route):
        match = re.match(r"\(\?P<(\w+)>", route[i:])
        if match:
            depth, j = 1, i + match.end()
            while depth:
                depth += {"(": 1, ")": -1}.get(route[j], 0)
                j += 1
            out.append(values[match.group(1)])
            i = j
            continue
        out.append(route[i])
        i += 1
    path = "".join(out).replace("\\.", ".").replace(".*", "anything")
    return "/" + path.replace("\\", "")


@pytest.fixture
def cooperative_b(office):
    return factories.CooperativeFactory(name=COOPERATIVE_MARKER, office=office)


@pytest.fixture
def cooperative_b_world(
    process_setup, outcome, office, cooperative_b, member, consultant, supervisor
):
    """Cooperative B with cases in several states and every kind of child object."""
    member_b = factories.MembershipFactory(cooperative=cooperative_b, user__username="socio.b").user
    fiscal = factories.AreaFactory(code="fiscal", name="Fiscale", reference_prefix="FIS")
    outsiders = {
        "member_of_a": member,
        "consultant_other_area": factories.ConsultantFactory(
            user__username="consulente.fiscale", office=office, areas=[fiscal]
        ).user,
        "supervisor_other_area": factories.SupervisorFactory(
            user__username="supervisore.fiscale", all_areas=False, areas=[fiscal]
        ).user,
        "anonymous": None,
    }

    def open_b(n: int):
        return process.case_open(
            requester=member_b,
            cooperative=cooperative_b,
            area=process_setup,
            subject=f"{SUBJECT_MARKER} {n}",
            description=DESCRIPTION_MARKER,
        )

    # A member of A has a case of their own, so their pages are not empty.
    process.case_open(
        requester=member,
        cooperative=member.memberships.first().cooperative,
        area=process_setup,
        subject="Pratica della cooperativa A",
        description="Dati di A",
    )
    with_data, waiting, resolved, closed, cancelled = (open_b(n) for n in range(5))
    process.case_acknowledge(case=with_data, actor=consultant)
    message = process.case_post_message(case=with_data, author=member_b, body=MESSAGE_MARKER)
    note = process.case_post_message(
        case=with_data, author=consultant, body=NOTE_MARKER, internal=True
    )
    document = case_attach(
        case=with_data,
        uploaded_by=member_b,
        file=SimpleUploadedFile(f"{DOCUMENT_MARKER}.pdf", PDF_BYTES),
        message=message,
    )
    process.case_request_info(case=waiting, actor=consultant, question=MESSAGE_MARKER)
    for case in (resolved, closed):
        process.case_resolve(case=case, actor=consultant, outcome=outcome, summary=MESSAGE_MARKER)
    process.case_confirm(case=closed, actor=member_b)
    process.case_rate(case=closed, actor=member_b, score=1, comment=MESSAGE_MARKER)
    process.case_cancel(case=cancelled, actor=supervisor, reason=MESSAGE_MARKER)
    cases = [with_data, waiting, resolved, closed, cancelled]
    for case in cases:
        case.refresh_from_db()
    tasks = [
        task.pk
        for case in cases
        for node in (CaseFlow.triage, CaseFlow.work, FollowUpFlow.review)
        if (task := process.active_task(case, node)) is not None
    ]
    assert tasks, "B's cases should have open tasks"
    return {
        "outsiders": outsiders,
        "cases": cases,
        "message": message.pk,
        "note": note.pk,
        "document": document.pk,
        "event": CaseEvent.objects.filter(case=with_data).first().pk,
        "tasks": tasks,
        "cooperative": cooperative_b.pk,
        "markers": [
            COOPERATIVE_MARKER,
            SUBJECT_MARKER,
            DESCRIPTION_MARKER,
            MESSAGE_MARKER,
            NOTE_MARKER,
            DOCUMENT_MARKER,
            *(case.reference for case in cases),
        ],
    }


def bindings(sweepable: Sweepable, world: dict) -> list[dict[str, str]]:
    """The parameter values of B to try for one pattern (one dict per URL)."""
    if not sweepable.params:
        return [{}]
    route, case_ids = sweepable.route, [str(case.pk) for case in world["cases"]]
    first_case = case_ids[0]
    child = {
        "messages": [str(world["message"]), str(world["note"])],
        "attachments": [str(world["document"])],
        "documents": [str(world["document"])],
        "events": [str(world["event"])],
    }

    def object_ids(name: str) -> list[str]:
        if name in ("case_id",):
            return case_ids
        if name in ("task_id", "task_pk"):
            return [str(pk) for pk in world["tasks"]]
        if name == "attachment_id":
            return [str(world["document"])]
        if name == "code":
            return ["legal"]
        if name in ("pk", "id"):
            # The collection just before the parameter says what the id is of.
            collection = re.findall(r"(\w+)/\(\?P<" + name, route)
            kind = collection[-1] if collection else ""
            if kind in child:
                return child[kind]
            if kind == "tasks":
                return [str(pk) for pk in world["tasks"]]
            if kind == "cooperatives":
                return [str(world["cooperative"])]
            if kind == "areas":
                return ["legal"]
        return case_ids  # unmapped: a case of B

    if "case_id" in sweepable.params and len(sweepable.params) > 1:
        # A child object of a case: the case that holds it.
        others = [p for p in sweepable.params if p != "case_id"]
        values = object_ids(others[0])
        return [{"case_id": first_case, others[0]: value} for value in values]
    name = sweepable.params[0]
    return [{**dict.fromkeys(sweepable.params, value), name: value} for value in object_ids(name)]


def swept_urls(world: dict) -> tuple[list[Sweepable], list[tuple[Sweepable, str, bool]]]:
    """(patterns swept, [(pattern, url, names one of B's objects)])."""
    patterns = [
        p
        for p in url_patterns()
        if not fill(p.route, dict.fromkeys(p.params, "1"))[1:].startswith(SKIPPED_PREFIXES)
    ]
    urls = []
    for sweepable in patterns:
        for values in bindings(sweepable, world):
            url = fill(sweepable.route, values)
            names_b_object = bool(values) and set(values) != {"code"}
            urls.append((sweepable, url, names_b_object))
    return patterns, urls


def leaked(body: bytes, markers: list[str]) -> list[str]:
    text = body.decode("utf-8", errors="replace")
    return [marker for marker in markers if marker in text]


def sweep(world: dict, roles, *, allowed) -> tuple[list[str], str]:
    """Every swept URL, GET and empty POST, as each of `roles` (`world["outsiders"]`): the
    problems found and a line of figures. `allowed(role, name, url)` says which pages may name
    B and answer with a success by design."""
    patterns, urls = swept_urls(world)
    statuses: Counter[int] = Counter()
    problems: list[str] = []
    requests = 0
    swept = {url for _pattern, url, _names in urls}
    for role in roles:
        client = Client(raise_request_exception=False)
        user = world["outsiders"][role]
        if user is not None:
            client.force_login(user)
        for sweepable, url, names_b_object in urls:
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                requests += 1
                statuses[response.status_code] += 1
                where = f"{method.upper()} {url} ({sweepable.name}) as {role}"
                body = b"" if response.streaming else response.content
                if response.streaming:
                    body = b"".join(response.streaming_content)
                if response.status_code >= 500:
                    problems.append(f"{where}: {response.status_code}")
                found = leaked(body, world["markers"])
                name_by_design = allowed(role, sweepable.name, url)
                if name_by_design:
                    found = [marker for marker in found if marker != COOPERATIVE_MARKER]
                if found:
                    problems.append(f"{where}: {response.status_code} shows {found}")
                if names_b_object and 200 <= response.status_code < 300 and not name_by_design:
                    problems.append(f"{where}: {response.status_code} on B's object")
                location = response.headers.get("Location", "").split("?")[0]
                # A redirect elsewhere than the login page or a URL this sweep asks in its own
                # right is followed, and its target checked the same way.
                if 300 <= response.status_code < 400 and location not in swept:
                    if not location.startswith("/login/"):
                        target = client.get(location)
                        requests += 1
                        if target.status_code >= 500 or leaked(target.content, world["markers"]):
                            problems.append(f"{where}: redirected to {location}, which leaks")
    figures = (
        f"{len(patterns)} URL patterns, {len(urls)} URLs, {len(roles)} roles, {requests} "
        "requests; statuses " + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
    )
    return problems, figures


def test_no_outsider_sees_cooperative_b(cooperative_b_world, capsys):
    problems, figures = sweep(
        cooperative_b_world,
        ROLES,
        allowed=lambda role, name, url: role in STAFF_ROLES and name in NAME_SHOWN_TO_STAFF,
    )

    with capsys.disabled():
        print(f"\nisolation sweep: {figures}")
    assert not problems, "\n".join(problems)
    assert Message.objects.filter(pk=cooperative_b_world["note"], internal=True).exists()


# Inside cooperative B: people who belong to it, none of whom may see its confidential cases
# opened by its legal representative (an ordinary member sees only their own cases and those
# they follow; a referent every case but the confidential ones; someone who left, nothing).
INSIDERS = ("colleague_of_b", "referent_of_b", "former_legal_rep_of_b")
# B's people open B's own report (its name, its figures over the cases they see), which counts
# none of the confidential cases (tests/security/test_roles_matrix.py), and its list of
# cooperatives; a referent gets 200 from them, the others 404.
COOPERATIVE_PAGES = ("report-cooperatives", "report-cooperative", "report-cooperative-csv")


@pytest.fixture
def confidential_b_world(cooperative_b_world, cooperative_b, consultant):
    """B's five cases made confidential (its legal representative opened them all), and people
    of B who may not see them: an ordinary member with a case of their own, a referent, and a
    legal representative who left."""
    colleague = factories.MembershipFactory(
        cooperative=cooperative_b, role="member", user__username="socio.b.collega"
    ).user
    referent = factories.MembershipFactory(
        cooperative=cooperative_b, role="referent", user__username="referente.b"
    ).user
    former = factories.MembershipFactory(
        cooperative=cooperative_b, user__username="ex.presidente.b", is_active=False
    ).user
    process.case_open(
        requester=colleague,
        cooperative=cooperative_b,
        area=cooperative_b_world["cases"][0].area,
        subject="Pratica del collega",
        description="Dati suoi",
    )
    for case in cooperative_b_world["cases"]:
        process.case_set_confidential(case=case, actor=consultant, confidential=True)
    return {
        **cooperative_b_world,
        "outsiders": {
            "colleague_of_b": colleague,
            "referent_of_b": referent,
            "former_legal_rep_of_b": former,
        },
        # They belong to B: its name is theirs to see, the cases' words are not.
        "markers": [m for m in cooperative_b_world["markers"] if m != COOPERATIVE_MARKER],
    }


def _insider_allowed(world: dict):
    """B's own pages, which answer as each one's role allows (the markers still say whether a
    case leaked): its report, and for its referent what hangs off the cooperative itself
    (`cooperatives/<B>/...`: its hours, its invitations)."""
    own = f"cooperatives/{world['cooperative']}/"

    def allowed(role: str, name: str, url: str) -> bool:
        return name in COOPERATIVE_PAGES or (role == "referent_of_b" and own in url)

    return allowed


def test_no_colleague_sees_a_confidential_case_or_a_case_not_theirs(confidential_b_world, capsys):
    problems, figures = sweep(
        confidential_b_world, INSIDERS, allowed=_insider_allowed(confidential_b_world)
    )

    with capsys.disabled():
        print(f"\nisolation sweep inside B: {figures}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize(
    "page",
    ["api", "page"],
)
def test_cooperative_report_counts_only_the_cases_staff_may_see(
    cooperative_b_world, client, role, page
):
    """Given B's five legal cases, when staff of the fiscal area open B's report, then it
    counts none of them (the API says: over the cases the user may see)."""
    client.force_login(cooperative_b_world["outsiders"][role])
    pk = cooperative_b_world["cooperative"]
    if page == "api":
        response = client.get(f"/api/v1/reports/cooperatives/{pk}/")
        cases = response.json()["cases"]["total"]
    else:
        response = client.get(f"/reports/cooperatives/{pk}/")
        cases = response.context["report"]["cases"]

    assert response.status_code == 200
    assert cases == 0
