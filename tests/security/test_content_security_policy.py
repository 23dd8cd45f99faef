"""A Content-Security-Policy on every page, and no inline script in Sportello's own pages."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def _directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _assert_strict(response):
    directives = _directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    for name in ("script-src", "style-src"):
        assert name not in directives, "falls back to default-src 'self'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def _assert_no_inline_script(html: str):
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert not INLINE_HANDLER.search(html), INLINE_HANDLER.search(html).group(0)
    assert not JAVASCRIPT_URL.search(html)


@pytest.mark.parametrize(
    "path", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
)
def test_templates_have_no_inline_script_or_handler(path):
    text = (TEMPLATES / path).read_text()

    _assert_no_inline_script(text)


def test_the_language_switcher_submits_from_a_static_script(client):
    html = client.get(reverse("login")).content.decode()

    assert 'id="language"' in html and "data-autosubmit" in html
    assert "js/language.js" in html
    # Without JavaScript the form still has its button.
    assert "<noscript><button" in html
    script = Path(__file__).resolve().parents[2] / "static" / "js" / "language.js"
    assert "data-autosubmit" in script.read_text()


def test_the_language_switcher_listens_before_the_page_is_shown(client):
    """A choice made while the page is still loading is not lost: the script is in the head,
    neither deferred nor async, and listens on the document rather than on the select."""
    html = client.get(reverse("login")).content.decode()
    head = html.split("</head>")[0]

    tag = re.search(r"<script[^>]*js/language\.js[^>]*>", head)
    assert tag is not None and " defer" not in tag.group(0) and " async" not in tag.group(0)
    script = Path(__file__).resolve().parents[2] / "static" / "js" / "language.js"
    assert 'document.addEventListener("change"' in script.read_text()


def test_login_page_has_a_strict_policy(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    _assert_strict(response)
    _assert_no_inline_script(response.content.decode())


def test_pages_of_every_role_have_a_strict_policy(client, member, consultant, assigned_case):
    client.force_login(member)
    for url in (reverse("portal-cases"), reverse("portal-case", args=[assigned_case.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)
        _assert_no_inline_script(response.content.decode())

    client.force_login(consultant)
    for url in (reverse("work:inbox"), reverse("work:case", args=[assigned_case.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)
        _assert_no_inline_script(response.content.decode())


def test_error_pages_and_the_api_have_the_policy_too(client, member):
    assert "Content-Security-Policy" in client.get("/no-such-page/").headers
    client.force_login(member)
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    _assert_strict(response)


def test_admin_pages_have_a_strict_policy(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    _assert_strict(response)


def test_only_the_api_docs_page_may_run_its_inline_script(client):
    """drf-spectacular's Swagger page inlines its start-up script: allowed there only."""
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    directives = _directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'", "'unsafe-inline'"]
    assert "https:" not in response.headers["Content-Security-Policy"]
