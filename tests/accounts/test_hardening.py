"""Regressions found in review: throttle bypasses, parser crashes, account take-over paths."""

from __future__ import annotations

import pytest
from django.test import Client

from backend.accounts.models import CareTeamMembership
from tests.factories import TEST_PASSWORD, ClinicianFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_forged_x_forwarded_for_does_not_reset_the_ip_throttle(api_client):
    statuses = [
        api_client.post(
            "/api/v1/auth/token/",
            {"username": f"nobody{n}", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(21)
    ]

    assert statuses[20] == 429


def test_a_numeric_username_is_throttled_like_its_string(api_client):
    UserFactory.create(username="12345678")
    statuses = [
        api_client.post(
            "/api/v1/auth/token/", {"username": 12345678, "password": f"wrong{n}"}
        ).status_code
        for n in range(6)
    ]

    assert statuses[5] == 429


@pytest.mark.parametrize(
    "url", ["/api/v1/auth/token/", "/api/v1/auth/activate/", "/api/v1/patients/"]
)
def test_json_nested_too_deep_is_400_not_500(world, client_for, url):
    body = "[" * 5000 + "]" * 5000

    response = client_for(world.physio).post(url, data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_no_new_activation_code_for_an_activated_account(world, client_for):
    response = client_for(world.physio).post(
        f"/api/v1/patients/{world.patient.pk}/activation-code/"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "already_activated"


def test_a_pending_code_cannot_reset_an_account_activated_since(world, api_client, client_for):
    enrolled = (
        client_for(world.physio)
        .post(
            "/api/v1/patients/",
            {
                "first_name": "Zoe",
                "last_name": "Ng",
                "date_of_birth": "2015-01-01",
                "timezone": "Europe/Paris",
            },
        )
        .json()
    )
    code = enrolled["activation"]["code"]
    first = api_client.post("/api/v1/auth/activate/", {"code": code, "password": "first-pass-77"})
    assert first.status_code == 200

    from backend.accounts.services import account_activate
    from backend.core.errors import DomainError

    with pytest.raises(DomainError):
        account_activate(code=code, password="second-pass-88")


def test_a_nurse_cannot_take_the_physiotherapist_seat(world, client_for):
    nurse = ClinicianFactory.create(organisation=world.org, role="nurse")

    response = client_for(world.physio).post(
        f"/api/v1/patients/{world.patient.pk}/care-team/",
        {"member_id": nurse.pk, "role": "physiotherapist"},
    )

    assert response.status_code == 400
    assert "role" in response.json()["errors"]
    assert not CareTeamMembership.objects.filter(member=nurse).exists()


def test_clinicians_of_other_organisations_look_like_missing_ids(world, client_for):
    client = client_for(world.physio)
    url = f"/api/v1/patients/{world.patient.pk}/care-team/"

    foreign = client.post(url, {"member_id": world.other_org_physio.pk}).json()
    missing = client.post(url, {"member_id": 987654}).json()

    assert foreign["errors"] == missing["errors"]


def test_an_unknown_api_url_answers_json_404(api_client):
    response = api_client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_org_admin_neither_sees_superusers_nor_sets_passwords(world):
    root = UserFactory.create(organisation=world.org, is_superuser=True, is_staff=True, role="")
    client = Client()
    client.force_login(world.org_admin)

    listing = client.get("/admin/accounts/user/").content.decode()
    password = client.get(f"/admin/accounts/user/{world.patient.user.pk}/password/")

    assert root.username not in listing
    assert password.status_code == 403


def test_a_stale_access_token_does_not_block_activation_or_logout(api_client, world):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")

    activate = api_client.post(
        "/api/v1/auth/activate/", {"code": "AAAAA-BBBBB", "password": TEST_PASSWORD}
    )
    logout = api_client.post("/api/v1/auth/logout/", {"refresh": "garbage"})

    assert activate.status_code == 400
    assert logout.status_code == 401
    assert logout.json()["code"] == "token_not_valid"
