"""Signing in for a token, who I am, and the practice areas."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def test_token_then_use_it(member):
    client = APIClient()

    response = client.post(TOKEN, {"username": "socio", "password": "sportello-test"})

    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert Token.objects.get(user=member).key == token
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").json()["username"] == "socio"
    # Signing in again gives the same token.
    assert client.post(TOKEN, {"username": "socio", "password": "sportello-test"}).json() == {
        "token": token
    }


@pytest.mark.parametrize(
    "data",
    [
        {"username": "socio", "password": "wrong"},
        {"username": "nobody", "password": "sportello-test"},
        {"username": "socio"},
        {},
    ],
)
def test_bad_credentials_are_400_with_a_message(member, data):
    response = APIClient().post(TOKEN, data, format="json")

    assert response.status_code == 400
    assert response.json()


def test_inactive_users_get_no_token(member):
    member.is_active = False
    member.save()

    response = APIClient().post(TOKEN, {"username": "socio", "password": "sportello-test"})

    assert response.status_code == 400


def test_sign_in_is_throttled(member):
    client = APIClient()
    for _ in range(10):
        assert client.post(TOKEN, {"username": "socio", "password": "x"}).status_code == 400

    response = client.post(TOKEN, {"username": "socio", "password": "sportello-test"})

    assert response.status_code == 429
    assert "detail" in response.json()


def test_throttled_per_username_across_addresses(member):
    for n in range(10):
        APIClient(REMOTE_ADDR=f"10.0.0.{n}").post(TOKEN, {"username": "socio", "password": "x"})

    response = APIClient(REMOTE_ADDR="10.0.1.1").post(
        TOKEN, {"username": "SOCIO", "password": "sportello-test"}
    )

    assert response.status_code == 429


def test_a_stale_token_does_not_block_signing_in(member):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    response = client.post(TOKEN, {"username": "socio", "password": "sportello-test"})

    assert response.status_code == 200


def test_wrong_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")

    assert client.get("/api/v1/me/").status_code == 401


def test_session_auth(client, member):
    client.force_login(member)

    response = client.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "socio"


def test_session_writes_need_csrf(member, cooperative):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(member)

    response = client.post("/api/v1/cases/", {}, format="json")

    assert response.status_code == 403


def test_me_as_member(api, member, cooperative):
    body = api(member).get("/api/v1/me/").json()

    assert body["roles"] == ["member"]
    assert body["cooperatives"] == [
        {"id": cooperative.pk, "name": "Cooperativa Alfa", "role": "legal_rep"}
    ]
    assert body["consultant_areas"] == [] and body["supervised_areas"] == []
    assert body["consultant_office"] is None


def test_me_as_staff(api, consultant, area_supervisor, supervisor):
    as_consultant = api(consultant).get("/api/v1/me/").json()
    as_supervisor = api(area_supervisor).get("/api/v1/me/").json()
    as_chief = api(supervisor).get("/api/v1/me/").json()

    assert as_consultant["roles"] == ["consultant"]
    assert as_consultant["consultant_areas"] == ["legal"]
    assert as_consultant["consultant_office"] == "BO"
    assert as_supervisor["supervised_areas"] == ["legal"]
    assert as_supervisor["supervises_all_areas"] is False
    assert as_chief["supervises_all_areas"] is True


def test_me_needs_credentials(api):
    assert api().get("/api/v1/me/").status_code == 401


def test_areas(api, member, process_setup, outcome):
    factories.SpecialtyFactory(area=process_setup, code="statuto", name="Statuto")
    factories.OutcomeFactory(area=process_setup, code="old", label="Vecchio", is_active=False)
    factories.AreaFactory(code="closed", reference_prefix="CLO", is_active=False)

    response = api(member).get("/api/v1/areas/")

    assert response.status_code == 200
    [legal] = response.json()["results"]
    assert legal["code"] == "legal"
    assert legal["specialties"][0]["code"] == "statuto"
    assert legal["outcomes"] == [{"code": "opinion_issued", "label": "Parere rilasciato"}]
    assert "usual_documents" in legal
    assert api(member).get("/api/v1/areas/legal/").json()["code"] == "legal"
    assert api(member).get("/api/v1/areas/closed/").status_code == 404
    assert api().get("/api/v1/areas/").status_code == 401


def test_unknown_api_path_is_a_json_404(api, member):
    response = api(member).get("/api/v1/nothing/here/")

    assert response.status_code == 404
    assert response.json()["detail"]
