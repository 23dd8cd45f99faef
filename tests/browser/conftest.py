"""Browser fixtures: Debian's Chromium driven by Playwright against the live test server.

Playwright's own browser download does not work on our machines, so the suite drives the system
`chromium` package (installed by `make test` and `.ci/run` when missing). Without it the tests
fail with a message saying so: a browser suite that skips quietly proves nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from casework.demo import seed_registry

CHROMIUM = os.environ.get("SPORTELLO_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium tries to reach Google's services, and its
# connections are refused on a closed network; none of them is needed to render our pages.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-results"
TIMEOUT_MS = 10_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def _media_url_for_the_live_server() -> Iterator[None]:
    """Django's live server wraps the site in a handler for MEDIA_URL, which our settings leave
    as None (documents are served only through a permission check): urlparse(None) gives bytes
    and every request fails with a TypeError. A prefix no route uses keeps it out of the way."""
    with override_settings(MEDIA_URL="/__media-not-served__/"):
        yield


@pytest.fixture(scope="session")
def live_server(_media_url_for_the_live_server, live_server):
    return live_server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's `chromium` "
            "package (`apt-get install chromium`, done by `make test` and `.ci/run` when run "
            "as root), or SPORTELLO_CHROMIUM pointing at another Chromium binary.",
            pytrace=False,
        )
    # Playwright's sync API keeps an event loop running in this thread, and Django then refuses
    # the ORM calls of the tests (and of the database setup) as if they came from async code.
    # They are plain sync code: say so while the browser lives.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server, request) -> Iterator[Callable[..., Page]]:
    """A page in a fresh context (its own cookies: one person each), in Italian from Rome.

    A script error or a Content-Security-Policy violation on any page fails the test (a blocked
    script leaves a page that looks right and does nothing). On failure every page the test
    opened is saved under test-results/.
    """
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def watch(page: Page) -> None:
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"{page.url}: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )

    def make(*, locale: str = "it-IT") -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            timezone_id="Europe/Rome",
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        watch(page)
        return page

    yield make

    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::")[-1])
        for index, context in enumerate(contexts, start=1):
            for number, page in enumerate(context.pages, start=1):
                path = SCREENSHOTS / f"{name}-{index}-{number}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                except Exception as error:  # noqa: BLE001 - a screenshot must not hide the failure
                    print(f"no screenshot of {page.url}: {error}")
                else:
                    print(f"screenshot of {page.url}: {path}")
    for context in contexts:
        context.close()
    if problems:
        pytest.fail("Errors in the browser:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def registry(settings, tmp_path):
    """The demo registry with its contract accounts; uploads go to a temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "uploads"
    seed_registry()
