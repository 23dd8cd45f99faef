"""Canned replies: placeholders filled (Italian names too), unknown ones refused, text escaped,
and the composer offering the area's replies in the language of whoever reads the reply."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.urls import reverse

from casework import canned
from casework.models import CannedReply, UserProfile
from tests import factories

pytestmark = pytest.mark.django_db

OPTION = r'<option value="\d+" data-text="([^"]*)">([^<]*)</option>'
VALUES = {"cooperative": "Cooperativa Alfa", "requester": "Anna Rossi", "reference": "LEG-2026-7"}


def _canned_options(page: str) -> dict[str, str]:
    """The composer's canned replies as the page offers them: title -> filled text."""
    return {
        html_lib.unescape(title): html_lib.unescape(text)
        for text, title in re.findall(
            r'<option value="\d+" data-text="([^"]*)">([^<]*)</option>', page
        )
    }


def test_placeholders_are_filled():
    text = "Gentile {{requester}}, la pratica {{reference}} di {{cooperative}} è in carico."

    assert canned.fill(text, **VALUES) == (
        "Gentile Anna Rossi, la pratica LEG-2026-7 di Cooperativa Alfa è in carico."
    )


def test_italian_names_spaces_and_capitals_mean_the_same():
    text = "{{ Richiedente }} · {{cooperativa}} · {{RIFERIMENTO}}"

    assert canned.fill(text, **VALUES) == "Anna Rossi · Cooperativa Alfa · LEG-2026-7"


def test_fill_refuses_an_unknown_placeholder_and_names_it():
    with pytest.raises(canned.UnknownPlaceholder) as refused:
        canned.fill("Gentile {{nome}}, {{requester}}", **VALUES)

    assert refused.value.names == ["nome"]
    assert "{{nome}}" in str(refused.value)


def test_the_admin_refuses_an_unknown_placeholder_beside_the_text(admin_browser, area):
    response = admin_browser.post(
        reverse("admin:casework_cannedreply_add"),
        {
            "title": "Saluti",
            "area": area.pk,
            "language": "it",
            "body": "Gentile {{nome_socio}}, a presto.",
            "is_active": "on",
            "position": "0",
        },
    )

    assert response.status_code == 200
    assert "Unknown placeholder {{nome_socio}}" in response.content.decode()
    assert not CannedReply.objects.exists()


def test_the_admin_saves_a_reply_with_known_placeholders(admin_browser, area):
    response = admin_browser.post(
        reverse("admin:casework_cannedreply_add"),
        {
            "title": "Presa in carico",
            "area": "",
            "language": "it",
            "body": "Gentile {{richiedente}}, la pratica {{riferimento}} è in carico.",
            "is_active": "on",
            "position": "1",
        },
    )

    assert response.status_code == 302
    saved = CannedReply.objects.get()
    assert saved.area is None and saved.language == "it"
    listed = admin_browser.get(reverse("admin:casework_cannedreply_changelist")).content.decode()
    assert "Presa in carico" in listed


def test_the_composer_offers_the_areas_replies_in_the_requesters_language_filled(
    browser_as, consultant, member, assigned_case, other_area
):
    member.first_name, member.last_name = "Anna", "Rossi"
    member.save()
    UserProfile.objects.create(user=member, language="en")
    CannedReply.objects.create(title="Taken in charge", language="en", body="Dear {{requester}},")
    CannedReply.objects.create(
        title="Articles",
        area=assigned_case.area,
        language="en",
        body="{{reference}} for {{cooperative}}",
    )
    CannedReply.objects.create(
        title="Presa in carico", language="it", body="Gentile {{richiedente}}"
    )
    CannedReply.objects.create(title="VAT", area=other_area, language="en", body="Another area")
    CannedReply.objects.create(title="Old", language="en", body="Retired", is_active=False)
    # A row that bypassed the admin's check is left out, never offered half filled.
    CannedReply.objects.create(title="Broken", language="en", body="Hello {{nome}}")
    client = browser_as(consultant)

    page = client.get(reverse("work:case", args=[assigned_case.pk])).content.decode()

    assert _canned_options(page) == {
        "Taken in charge": "Dear Anna Rossi,",
        "Articles": f"{assigned_case.reference} for Cooperativa Alfa",
    }


def test_html_in_a_cooperative_name_is_escaped_on_the_page(
    browser_as, consultant, open_case, process_setup
):
    cooperative = factories.CooperativeFactory(name='<b>Alfa</b> & "Figli"')
    requester = factories.MembershipFactory(cooperative=cooperative, user__username="socio.b").user
    case = open_case(requester, cooperative)
    CannedReply.objects.create(title="Saluti", language="it", body="Cara {{cooperativa}},")
    client = browser_as(consultant)

    page = client.get(reverse("work:case", args=[case.pk])).content.decode()

    assert 'data-text="Cara &lt;b&gt;Alfa&lt;/b&gt; &amp; &quot;Figli&quot;,"' in page
    assert "<b>Alfa</b>" not in page
    assert _canned_options(page) == {"Saluti": 'Cara <b>Alfa</b> & "Figli",'}


def test_insert_without_javascript_adds_the_filled_text_to_what_was_written(
    browser_as, consultant, assigned_case
):
    reply = CannedReply.objects.create(
        title="Presa in carico", language="it", body="La pratica {{riferimento}} è in carico."
    )
    client = browser_as(consultant)

    response = client.post(
        reverse("work:compose", args=[assigned_case.pk]),
        {
            "composer-mode": "reply",
            "composer-body": "Buongiorno,",
            "composer-canned": str(reply.pk),
            "composer-insert": "1",
        },
    )

    assert response.status_code == 200
    textarea = re.search(
        r'<textarea[^>]*name="composer-body"[^>]*>(.*?)</textarea>', response.content.decode(), re.S
    )
    assert html_lib.unescape(textarea.group(1)).strip() == (
        f"Buongiorno,\n\nLa pratica {assigned_case.reference} è in carico."
    )
    assert "autofocus" in textarea.group(0)
    # Nothing was sent: inserting only fills the text in.
    assert not assigned_case.messages.exists()


def test_insert_without_a_choice_says_so_beside_the_picker(browser_as, consultant, assigned_case):
    CannedReply.objects.create(title="Presa in carico", language="it", body="Testo")
    client = browser_as(consultant)

    response = client.post(
        reverse("work:compose", args=[assigned_case.pk]),
        {"composer-mode": "reply", "composer-body": "Bozza", "composer-insert": "1"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(
        r'id="id_composer-canned_errors"[^>]*>.*Choose a canned reply to insert', page, re.S
    )
    assert "Bozza" in page
