"""The workspace form "Open a case for a cooperative" (/work/cases/new/)."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from casework.models import Case, CaseEvent, Membership, Notification
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/work/cases/new/"


def _membership(user, cooperative):
    return Membership.objects.get(user=user, cooperative=cooperative)


def _form(cooperative, membership, **extra):
    return {
        "cooperative": cooperative.pk,
        "requester": membership.pk,
        "area": extra.pop("area", None) or "",
        "channel": "phone",
        "subject": "Recesso di un socio",
        "description": "Il presidente ha telefonato: un socio lavoratore vuole recedere.",
        "priority": "",
        **extra,
    }


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_the_url_and_the_header_link(client, consultant, process_setup):
    client.force_login(consultant)

    inbox = client.get(reverse("work:inbox")).content.decode()

    assert reverse("work:case_new") == URL
    assert f'href="{URL}"' in inbox


def test_the_form_offers_active_cooperatives_their_people_and_my_areas(
    client, consultant, member, cooperative, other_member, other_area, process_setup
):
    factories.CooperativeFactory(name="Cooperativa Cessata", membership_status="ceased")
    client.force_login(consultant)

    response = client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Open a case for a cooperative" in html
    assert _options(html, "cooperative")[1:] == ["Cooperativa Alfa", "Cooperativa Beta"]
    people = _options(html, "requester")[1:]
    assert [p.split(" · ")[0] for p in people] == ["Cooperativa Alfa", "Cooperativa Beta"]
    alfa = _membership(member, cooperative)
    assert f'value="{alfa.pk}" data-cooperative="{cooperative.pk}"' in html
    # A consultant opens cases in their own area only; it is already chosen.
    assert _options(html, "area")[1:] == ["Legale"]
    assert re.search(rf'<option value="{process_setup.pk}" selected>', html)
    assert all(f'value="{c}"' in html for c in ("phone", "desk", "email", "pec"))
    assert 'value="portal"' not in html
    assert "js/staff_intake.js" in html


def test_a_supervisor_of_every_area_chooses_among_all(client, supervisor, other_area, area):
    client.force_login(supervisor)

    html = client.get(URL).content.decode()

    assert set(_options(html, "area")[1:]) == {"Legale", "Fiscale"}


def test_a_link_may_name_the_cooperative(client, consultant, other_cooperative, process_setup):
    client.force_login(consultant)

    html = client.get(URL, {"cooperative": other_cooperative.pk}).content.decode()

    assert re.search(rf'<option value="{other_cooperative.pk}" selected>', html)


@pytest.mark.parametrize("who", ["member", None])
def test_only_staff_reach_the_form(client, who, member, process_setup):
    if who:
        client.force_login(member)

    response = client.get(URL)

    assert response.status_code == (403 if who else 302)


def test_a_case_opened_by_phone_goes_to_its_page_with_a_message(
    client, consultant, member, cooperative, process_setup
):
    member.first_name, member.last_name = "Anna", "Rossi"
    member.save()
    client.force_login(consultant)

    response = client.post(
        URL, _form(cooperative, _membership(member, cooperative), area=process_setup.pk)
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("work:case", args=[case.pk])
    (message,) = get_messages(response.wsgi_request)
    assert str(message) == (
        f"Case {case.reference} opened for Cooperativa Alfa; Anna Rossi receives it by e-mail."
    )
    assert (case.requester, case.channel, case.subject) == (member, "phone", "Recesso di un socio")
    opened = CaseEvent.objects.get(case=case, kind="opened")
    assert opened.actor == consultant and opened.after["channel"] == "phone"
    assert Notification.objects.get(case=case, kind="case_opened").recipient == member
    assert client.get(response["Location"]).status_code == 200


def test_a_requester_of_another_cooperative_is_refused_next_to_the_field(
    client, consultant, member, cooperative, other_cooperative, process_setup
):
    """Without the page's script every person is offered: the server checks they belong."""
    member.first_name, member.last_name = "Anna", "Rossi"
    member.save()
    client.force_login(consultant)

    response = client.post(
        URL,
        _form(other_cooperative, _membership(member, cooperative), area=process_setup.pk),
    )

    html = response.content.decode()
    assert response.status_code == 400
    errors = re.search(r'id="id_requester_errors".*?</div>', html, re.S).group(0)
    assert "Anna Rossi is not a member of Cooperativa Beta." in errors
    assert 'aria-invalid="true"' in re.search(r'<select name="requester".*?>', html).group(0)
    # What was typed stays.
    assert "Recesso di un socio" in html and "un socio lavoratore vuole recedere" in html
    assert not Case.objects.exists() and not CaseEvent.objects.exists()
    assert not Notification.objects.exists()


def test_a_consultant_cannot_open_a_case_in_another_area(
    client, other_area_consultant, member, cooperative, process_setup
):
    client.force_login(other_area_consultant)

    response = client.post(
        URL, _form(cooperative, _membership(member, cooperative), area=process_setup.pk)
    )

    assert response.status_code == 400
    assert re.search(r'id="id_area_errors"', response.content.decode())
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "portal"}, "channel"),
        ({"subject": "   "}, "subject"),
        ({"description": ""}, "description"),
        ({"requester": ""}, "requester"),
        ({"priority": "asap"}, "priority"),
    ],
)
def test_bad_input_stays_next_to_its_field(
    client, consultant, member, cooperative, process_setup, change, field
):
    client.force_login(consultant)
    data = {**_form(cooperative, _membership(member, cooperative), area=process_setup.pk)}
    data.update(change)

    response = client.post(URL, data)

    assert response.status_code == 400
    assert f'id="id_{field}_errors"' in response.content.decode()
    assert not Case.objects.exists()


def test_a_specialty_of_another_area_is_refused(
    client, consultant, member, cooperative, process_setup, other_area
):
    foreign = factories.SpecialtyFactory(area=other_area, code="iva", name="IVA")
    client.force_login(consultant)

    response = client.post(
        URL,
        _form(
            cooperative,
            _membership(member, cooperative),
            area=process_setup.pk,
            specialty=foreign.pk,
        ),
    )

    assert response.status_code == 400
    assert 'id="id_specialty_errors"' in response.content.decode()
    assert not Case.objects.exists()


def test_the_form_reads_a_fixed_number_of_queries(
    client, consultant, cooperative, process_setup, django_assert_max_num_queries
):
    for n in range(20):
        factories.MembershipFactory(cooperative=factories.CooperativeFactory(name=f"Coop {n}"))
    client.force_login(consultant)

    with django_assert_max_num_queries(12):
        response = client.get(URL)

    assert response.status_code == 200
