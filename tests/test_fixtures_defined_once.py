"""Every fixture of the suite is defined in one place.

A fixture defined again in a deeper conftest.py or in a test module silently replaces the shared
one for the tests below it: two tests asking for `consultant` then get different people, and a
change to the shared fixture reaches only some of them. Fixtures that really differ carry
different names; the rest live once, in the closest conftest.py that covers their users.
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _is_fixture_decorator(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):  # @pytest.fixture, @pytest.fixture(...)
        return target.attr == "fixture"
    if isinstance(target, ast.Name):  # from pytest import fixture
        return target.id == "fixture"
    return False


def _fixture_name(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The name a function registers as a fixture (its own, or the decorator's name=), if any."""
    for decorator in function.decorator_list:
        if not _is_fixture_decorator(decorator):
            continue
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return keyword.value.value
        return function.name
    return None


def fixture_definitions(root: Path = TESTS) -> dict[str, list[str]]:
    """Fixture name -> every place ("path:line", relative to the project) that defines it."""
    places: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = _fixture_name(node)
                if name is not None:
                    places[name].append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return places


def test_the_scan_finds_the_shared_fixtures():
    # A scan that found nothing would pass the test below without looking at anything.
    places = fixture_definitions()
    assert {"consultant", "process_setup", "open_case", "api"} <= places.keys()


def test_no_fixture_is_defined_twice():
    defined_twice = {
        name: places for name, places in fixture_definitions().items() if len(places) > 1
    }
    if defined_twice:
        pytest.fail(
            "fixtures defined in more than one place (share one, or name each for what it is):\n"
            + "\n".join(
                f"  {name}: {', '.join(places)}" for name, places in sorted(defined_twice.items())
            ),
            pytrace=False,
        )
