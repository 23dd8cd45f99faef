"""Routing decisions: filters, ranking, tie-breaks and the reasons given when nobody qualifies."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.routing import (
    Candidate,
    RoutingDecision,
    RoutingReason,
    RoutingRequest,
    choose_consultant,
    reason_text,
)

TODAY = date(2026, 10, 5)
LEGAL = "legal"
CONTRACTS = 7  # a specialty of the legal area


def consultant(
    consultant_id: int,
    username: str,
    *,
    office: str = "BO",
    areas: tuple[str, ...] = (LEGAL,),
    specialties: tuple[int, ...] = (),
    capacity: int = 10,
    active: int = 3,
    absent_until: date | None = None,
    last_helped_at: datetime | None = None,
) -> Candidate:
    return Candidate(
        consultant_id=consultant_id,
        username=username,
        office_code=office,
        area_codes=frozenset(areas),
        specialty_ids=frozenset(specialties),
        capacity=capacity,
        active_cases=active,
        absent_until=absent_until,
        last_helped_at=last_helped_at,
    )


def request_for(
    *, area: str = LEGAL, specialty: int | None = None, office: str = "BO", exclude=()
) -> RoutingRequest:
    return RoutingRequest(
        area_code=area,
        specialty_id=specialty,
        office_code=office,
        today=TODAY,
        exclude_ids=frozenset(exclude),
    )


def helped_on(day: int) -> datetime:
    return datetime(2026, 10, day, 9, 30, tzinfo=UTC)


# --- availability -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("absent_until", "available"),
    [
        (None, True),
        (TODAY - timedelta(days=1), True),  # back today
        (TODAY, False),  # absent_until is the last day away, included
        (TODAY + timedelta(days=1), False),
    ],
)
def test_absence_is_inclusive_of_absent_until(absent_until, available):
    # given
    candidate = consultant(1, "anna", absent_until=absent_until)

    # when
    decision = choose_consultant(request_for(), [candidate])

    # then
    if available:
        assert decision.consultant_id == 1
        assert decision.reason_code == RoutingReason.ROUTED
    else:
        assert decision.consultant_id is None
        assert decision.reason_code == RoutingReason.ALL_ABSENT
        assert decision.considered == ((1, f"excluded: absent until {absent_until.isoformat()}"),)


@pytest.mark.parametrize(
    ("active", "capacity", "available"),
    [(0, 1, True), (9, 10, True), (10, 10, False), (12, 10, False), (0, 0, False)],
)
def test_capacity_means_strictly_fewer_active_cases(active, capacity, available):
    decision = choose_consultant(
        request_for(), [consultant(1, "anna", active=active, capacity=capacity)]
    )

    assert decision.is_routed is available
    if not available:
        assert decision.reason_code == RoutingReason.ALL_AT_CAPACITY
        assert f"at capacity {active}/{capacity}" in decision.considered[0][1]


def test_absent_consultant_is_skipped_for_the_next_one():
    # given the lighter consultant is away today
    away = consultant(1, "anna", active=0, absent_until=TODAY)
    present = consultant(2, "bruno", active=8)

    # when
    decision = choose_consultant(request_for(), [away, present])

    # then
    assert decision.consultant_id == 2
    assert "1 absent: anna (until 2026-10-05)" in decision.explanation


def test_full_consultant_is_skipped_even_with_continuity():
    full = consultant(1, "anna", active=10, last_helped_at=helped_on(2))
    other = consultant(2, "bruno", active=5)

    decision = choose_consultant(request_for(), [full, other])

    assert decision.consultant_id == 2
    assert "1 at capacity: anna (10/10)" in decision.explanation


# --- skills -------------------------------------------------------------------------------------


def test_only_consultants_of_the_case_area_are_considered():
    tax = consultant(1, "anna", areas=("tax",), active=0)
    legal = consultant(2, "bruno", areas=("tax", LEGAL), active=9)

    decision = choose_consultant(request_for(), [tax, legal])

    assert decision.consultant_id == 2
    assert (1, "excluded: not in area legal") in decision.considered


@pytest.mark.parametrize(
    ("specialty", "winner"),
    [
        (None, 1),  # no specialty on the case: the lighter generalist wins
        (CONTRACTS, 2),  # only the specialist qualifies
    ],
)
def test_specialty_filters_only_when_the_case_has_one(specialty, winner):
    generalist = consultant(1, "anna", active=0)
    specialist = consultant(2, "bruno", specialties=(CONTRACTS,), active=9)

    decision = choose_consultant(request_for(specialty=specialty), [generalist, specialist])

    assert decision.consultant_id == winner
    if specialty is not None:
        assert (1, f"excluded: lacks specialty {CONTRACTS}") in decision.considered


def test_excluded_ids_are_never_chosen():
    # given the best candidate just handed the case back
    handed_back = consultant(1, "anna", active=0, last_helped_at=helped_on(4))
    colleague = consultant(2, "bruno", active=7)

    # when
    decision = choose_consultant(request_for(exclude={1}), [handed_back, colleague])

    # then
    assert decision.consultant_id == 2
    assert (1, "excluded: excluded for this case") in decision.considered
    assert "1 excluded for this case: anna" in decision.explanation


# --- ranking ------------------------------------------------------------------------------------


def test_office_beats_continuity_and_load():
    same_office = consultant(1, "anna", office="BO", active=9)
    elsewhere = consultant(2, "bruno", office="MO", active=0, last_helped_at=helped_on(4))

    decision = choose_consultant(request_for(office="BO"), [elsewhere, same_office])

    assert decision.consultant_id == 1
    assert decision.reason_params["decided_by"] == "office"
    assert decision.explanation.startswith(
        "Routed to anna: same office BO; no earlier case of this cooperative in this area; "
        "load 9/10. Ahead of bruno on office."
    )


def test_continuity_beats_load():
    # given both in the cooperative's office, the busier one helped this cooperative before
    helped = consultant(1, "anna", active=8, last_helped_at=helped_on(2))
    idle = consultant(2, "bruno", active=0)

    # when
    decision = choose_consultant(request_for(), [idle, helped])

    # then
    assert decision.consultant_id == 1
    assert decision.reason_params["decided_by"] == "continuity"
    assert decision.explanation.startswith(
        "Routed to anna: same office BO; helped this cooperative on 2026-10-02; load 8/10."
    )


def test_most_recent_helper_wins_continuity():
    earlier = consultant(1, "anna", active=0, last_helped_at=helped_on(1))
    later = consultant(2, "bruno", active=9, last_helped_at=helped_on(3))

    assert choose_consultant(request_for(), [earlier, later]).consultant_id == 2


def test_continuity_compares_instants_across_time_zones():
    rome = timezone(timedelta(hours=2))
    # 10:00 in Rome is 08:00 UTC, so 09:00 UTC is the more recent help
    in_rome = consultant(1, "anna", last_helped_at=datetime(2026, 10, 2, 10, 0, tzinfo=rome))
    in_utc = consultant(2, "bruno", last_helped_at=datetime(2026, 10, 2, 9, 0, tzinfo=UTC))

    assert choose_consultant(request_for(), [in_rome, in_utc]).consultant_id == 2


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        ((2, 10), (3, 20), 2),  # ratio first: 3/20 is lighter than 2/10
        ((2, 10), (1, 5), 2),  # same ratio: fewer active cases
        ((0, 10), (1, 50), 1),
    ],
    ids=["ratio", "active-cases", "idle"],
)
def test_lowest_load_wins_among_equals(first, second, winner):
    one = consultant(1, "anna", active=first[0], capacity=first[1])
    two = consultant(2, "bruno", active=second[0], capacity=second[1])

    decision = choose_consultant(request_for(), [one, two])

    assert decision.consultant_id == winner
    assert decision.reason_params["decided_by"] == "load"


@pytest.mark.parametrize(
    ("people", "winner"),
    [
        ([(1, "bruno"), (2, "anna")], 2),  # username first
        ([(5, "anna"), (3, "anna")], 3),  # then id
    ],
)
def test_full_ties_break_by_username_then_id(people, winner):
    candidates = [consultant(cid, name) for cid, name in people]

    decision = choose_consultant(request_for(), candidates)

    assert decision.consultant_id == winner
    assert decision.reason_params["decided_by"] == "name"


def _mixed_staff() -> list[Candidate]:
    return [
        consultant(1, "anna", active=4, capacity=10),
        consultant(2, "bruno", active=2, capacity=5),  # same load as anna
        consultant(3, "carla", active=4, capacity=10),  # ties anna on everything but the name
        consultant(4, "dario", office="MO", active=0),
        consultant(5, "elena", absent_until=TODAY),
        consultant(6, "fabio", active=10),
        consultant(7, "anna", active=4, capacity=10),  # same username as 1
    ]


def test_every_input_order_gives_the_same_decision():
    expected = choose_consultant(request_for(), _mixed_staff())

    for order in itertools.permutations(_mixed_staff()):
        assert choose_consultant(request_for(), order) == expected

    # bruno's 2/5 equals anna's 4/10, and fewer active cases settles it
    assert expected.consultant_id == 2
    assert expected.reason_params["runner_up"] == "anna"
    assert expected.reason_params["decided_by"] == "load"
    assert [cid for cid, _ in expected.considered] == [2, 1, 7, 3, 4, 5, 6]


def test_considered_lists_each_candidate_once_winner_first():
    decision = choose_consultant(request_for(), _mixed_staff())

    assert decision.considered[0] == (
        2,
        "rank 1 of 5: same office BO; no earlier case of this cooperative in this area; load 2/5",
    )
    assert decision.considered[-1] == (6, "excluded: at capacity 10/10")
    assert sorted(cid for cid, _ in decision.considered) == [1, 2, 3, 4, 5, 6, 7]


candidates_strategy = st.lists(
    st.builds(
        Candidate,
        consultant_id=st.integers(1, 10_000),
        username=st.sampled_from(["anna", "bruno", "carla", "dario"]),
        office_code=st.sampled_from(["BO", "MO"]),
        area_codes=st.frozensets(st.sampled_from([LEGAL, "tax", "labour"]), max_size=3),
        specialty_ids=st.frozensets(st.sampled_from([CONTRACTS, 8]), max_size=2),
        capacity=st.integers(0, 6),
        active_cases=st.integers(0, 6),
        absent_until=st.none() | st.dates(TODAY - timedelta(days=3), TODAY + timedelta(days=3)),
        last_helped_at=st.none() | st.sampled_from([helped_on(1), helped_on(2), helped_on(3)]),
    ),
    max_size=8,
    unique_by=lambda c: c.consultant_id,
)


@settings(max_examples=200, deadline=None)
@given(
    candidates=candidates_strategy,
    specialty=st.none() | st.just(CONTRACTS),
    exclude=st.frozensets(st.integers(1, 10_000), max_size=2),
    data=st.data(),
)
def test_decision_ignores_order_and_picks_an_eligible_best(candidates, specialty, exclude, data):
    request = request_for(specialty=specialty, exclude=exclude)
    shuffled = data.draw(st.permutations(candidates))

    decision = choose_consultant(request, candidates)

    assert choose_consultant(request, shuffled) == decision
    assert len(decision.considered) == len(candidates)
    eligible = [
        c
        for c in candidates
        if LEGAL in c.area_codes
        and (specialty is None or specialty in c.specialty_ids)
        and c.consultant_id not in exclude
        and not c.is_absent_on(TODAY)
        and c.active_cases < c.capacity
    ]
    assert decision.is_routed is bool(eligible)
    if eligible:
        winner = next(c for c in eligible if c.consultant_id == decision.consultant_id)
        same_office = [c for c in eligible if c.office_code == "BO"]
        assert winner.office_code == "BO" or not same_office


# --- nobody qualifies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidates", "specialty", "exclude", "reason", "counts", "headline"),
    [
        pytest.param(
            [],
            None,
            (),
            RoutingReason.NO_CONSULTANT_IN_AREA,
            {"candidates": 0},
            "No consultant works in area legal.",
            id="nobody-at-all",
        ),
        pytest.param(
            [consultant(1, "anna", areas=("tax",)), consultant(2, "bruno", areas=())],
            None,
            (),
            RoutingReason.NO_CONSULTANT_IN_AREA,
            {"not_in_area": 2},
            "No consultant works in area legal.",
            id="no-area",
        ),
        pytest.param(
            [consultant(1, "anna"), consultant(2, "bruno", specialties=(8,))],
            CONTRACTS,
            (),
            RoutingReason.NO_CONSULTANT_WITH_SPECIALTY,
            {"lacks_specialty": 2},
            "None of the 2 consultants of area legal has specialty 7.",
            id="no-specialty",
        ),
        pytest.param(
            [consultant(1, "anna")],
            None,
            (1,),
            RoutingReason.ALL_EXCLUDED,
            {"excluded": 1},
            "The only suitable consultant of area legal is excluded for this case.",
            id="all-excluded",
        ),
        pytest.param(
            [
                consultant(1, "anna", absent_until=TODAY),
                consultant(2, "bruno", absent_until=TODAY + timedelta(days=9)),
                consultant(3, "carla", areas=("tax",)),
            ],
            None,
            (),
            RoutingReason.ALL_ABSENT,
            {"absent": 2, "not_in_area": 1},
            "All 2 suitable consultants of area legal are absent.",
            id="all-absent",
        ),
        pytest.param(
            [
                consultant(1, "anna", active=10, specialties=(CONTRACTS,)),
                consultant(2, "bruno", active=3, capacity=3, specialties=(CONTRACTS,)),
                consultant(3, "carla", active=0),
            ],
            CONTRACTS,
            (),
            RoutingReason.ALL_AT_CAPACITY,
            {"at_capacity": 2, "lacks_specialty": 1},
            "All 2 suitable consultants of area legal, specialty 7 are at capacity.",
            id="all-at-capacity",
        ),
        pytest.param(
            [
                consultant(1, "anna", absent_until=TODAY),
                consultant(2, "bruno", active=10),
                consultant(3, "carla"),
            ],
            None,
            (3,),
            RoutingReason.NONE_AVAILABLE,
            {"absent": 1, "at_capacity": 1, "excluded": 1},
            "No consultant of area legal is available: 1 absent, 1 at capacity.",
            id="absent-and-full",
        ),
    ],
)
def test_nobody_qualifies_gives_a_reason_with_counts(
    candidates, specialty, exclude, reason, counts, headline
):
    # when
    decision = choose_consultant(request_for(specialty=specialty, exclude=exclude), candidates)

    # then
    assert decision.consultant_id is None
    assert not decision.is_routed
    assert decision.reason_code == reason
    assert decision.reason_params["available"] == 0
    for key, value in counts.items():
        assert decision.reason_params[key] == value
    assert decision.explanation.startswith(headline)
    assert decision.explanation.endswith("Assign manually.")


def test_failure_explanation_names_everyone_excluded():
    decision = choose_consultant(
        request_for(),
        [
            consultant(1, "anna", absent_until=TODAY),
            consultant(2, "bruno", active=10),
            consultant(3, "carla", areas=("tax",)),
        ],
    )

    assert decision.explanation == (
        "No consultant of area legal is available: 1 absent, 1 at capacity. "
        "Excluded: 1 not in area legal; 1 absent: anna (until 2026-10-05); "
        "1 at capacity: bruno (10/10). Assign manually."
    )


def test_a_large_area_names_a_few_excluded_and_counts_the_rest():
    """Hundreds of consultants in an area must not put hundreds of names in a timeline."""
    lacking = [consultant(n, f"c{n:03d}") for n in range(1, 9)]
    decision = choose_consultant(
        request_for(specialty=CONTRACTS),
        [consultant(99, "zeno", specialties=(CONTRACTS,)), *lacking],
    )

    assert decision.is_routed and decision.reason_params["lacks_specialty"] == 8
    assert decision.explanation.endswith(
        "Excluded: 8 lacking the specialty: c001, c002, c003, c004, c005 and 3 more."
    )


# --- contract -----------------------------------------------------------------------------------


def test_the_only_available_consultant_is_said_so():
    decision = choose_consultant(request_for(), [consultant(1, "anna")])

    assert decision.explanation == (
        "Routed to anna: same office BO; no earlier case of this cooperative in this area; "
        "load 3/10. The only available consultant."
    )
    assert decision.reason_params["decided_by"] is None


def test_reason_code_is_a_plain_string_value():
    decision = choose_consultant(request_for(), [consultant(1, "anna")])

    assert decision.reason_code == "routed"
    assert isinstance(decision.reason_code, str)


def test_audit_payload_is_json_safe():
    decision = choose_consultant(
        request_for(),
        [consultant(1, "anna", last_helped_at=helped_on(2)), consultant(2, "bruno")],
    )

    payload = json.loads(json.dumps(decision.audit_payload()))

    assert payload["consultant_id"] == 1
    assert payload["reason_code"] == "routed"
    assert payload["reason_params"]["last_helped_on"] == "2026-10-02"
    assert payload["considered"][0][0] == 1


def test_decisions_are_hashable():
    decision = choose_consultant(request_for(), [consultant(1, "anna")])

    assert hash(decision) == hash(choose_consultant(request_for(), [consultant(1, "anna")]))


def test_duplicate_consultants_are_a_caller_error():
    with pytest.raises(ValueError, match=r"more than once: \[1\]"):
        choose_consultant(request_for(), [consultant(1, "anna"), consultant(1, "anna")])


@pytest.mark.parametrize(("capacity", "active"), [(-1, 0), (5, -1)])
def test_negative_counts_are_rejected(capacity, active):
    with pytest.raises(ValueError, match="cannot be negative"):
        consultant(1, "anna", capacity=capacity, active=active)


# --- reason_text --------------------------------------------------------------------------------


@pytest.fixture
def english_texts():
    """English texts, also when the suite runs with -p no:django and Django is not set up yet."""
    import django
    from django.apps import apps
    from django.utils import translation

    if not apps.ready:
        django.setup()  # importing casework already pointed DJANGO_SETTINGS_MODULE at our settings
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("candidates", "specialty", "exclude", "expected"),
    [
        (
            [consultant(1, "anna", last_helped_at=helped_on(2)), consultant(2, "bruno")],
            None,
            (),
            "Assigned to anna. Same office as the cooperative (BO). Helped this cooperative on ",
        ),
        ([], None, (), "No consultant works in practice area legal."),
        (
            [consultant(1, "anna")],
            CONTRACTS,
            (),
            "The consultant of practice area legal lacks the case's specialty.",
        ),
        ([consultant(1, "anna")], None, (1,), "The only suitable consultant is excluded"),
        (
            [consultant(1, "anna", absent_until=TODAY), consultant(2, "bruno", absent_until=TODAY)],
            None,
            (),
            "All 2 suitable consultants are absent.",
        ),
        ([consultant(1, "anna", active=10)], None, (), "The only suitable consultant is at"),
        (
            [consultant(1, "anna", active=10), consultant(2, "bruno", absent_until=TODAY)],
            None,
            (),
            "No suitable consultant is available: 1 absent, 1 at capacity.",
        ),
    ],
    ids=list(RoutingReason),
)
def test_reason_text_covers_every_reason(english_texts, candidates, specialty, exclude, expected):
    decision = choose_consultant(request_for(specialty=specialty, exclude=exclude), candidates)

    text = reason_text(decision)

    assert text.startswith(expected)
    if decision.is_routed:
        assert text.endswith("Chosen over bruno for continuity with the cooperative.")
    else:
        assert text.endswith("Assign the case manually.")


def test_reason_text_tolerates_an_unknown_code(english_texts):
    decision = RoutingDecision(consultant_id=None, reason_code="something_new", explanation="")

    assert reason_text(decision) == (
        "No consultant could be chosen automatically. Assign the case manually."
    )
