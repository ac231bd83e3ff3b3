"""Onboarding: a physiotherapist enrols a patient, the patient activates with a one-time code."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from backend.accounts.models import ActivationCode, PatientProfile, User

pytestmark = pytest.mark.django_db

ACTIVATE_URL = "/api/v1/auth/activate/"
NEW_PASSWORD = "calcinosis-elbow-2026"
ENROL = {
    "first_name": "Ada",
    "last_name": "Quinn",
    "date_of_birth": "2014-03-09",
    "timezone": "America/Chicago",
    "diagnosis": "JDM with calcinosis",
    "training_weekdays": [5, 1, 3],
}


@pytest.fixture
def enrolled(world, client_for):
    response = client_for(world.physio).post("/api/v1/patients/", ENROL, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_enrolment_creates_an_inactive_patient_on_the_physios_care_team(world, enrolled):
    patient = PatientProfile.objects.select_related("user").get(pk=enrolled["patient"]["id"])

    assert patient.user.is_active is False
    assert patient.user.organisation == world.org
    assert patient.created_by == world.physio
    assert patient.training_weekdays == [1, 3, 5]
    team = enrolled["patient"]["care_team"]
    assert [(seat["member"]["id"], seat["role"]) for seat in team] == [
        (world.physio.pk, "physiotherapist")
    ]
    assert enrolled["activation"]["code"]


def test_the_code_is_stored_only_as_a_hash(enrolled):
    code = enrolled["activation"]["code"]

    stored = ActivationCode.objects.get()
    assert code.replace("-", "") not in stored.code_hash
    assert len(stored.code_hash) == 64


def test_activation_sets_the_password_and_signs_in(api_client, enrolled):
    response = api_client.post(
        ACTIVATE_URL, {"code": enrolled["activation"]["code"], "password": NEW_PASSWORD}
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["username"] == enrolled["patient"]["username"]
    login = api_client.post(
        "/api/v1/auth/token/", {"username": body["username"], "password": NEW_PASSWORD}
    )
    assert login.status_code == 200


def test_a_code_works_once(api_client, enrolled):
    code = enrolled["activation"]["code"]
    api_client.post(ACTIVATE_URL, {"code": code, "password": NEW_PASSWORD})

    second = api_client.post(ACTIVATE_URL, {"code": code, "password": "another-password-77"})

    assert second.status_code == 400
    assert second.json()["code"] == "activation_code_used"
    assert "code" in second.json()["errors"]


def test_a_code_expires(api_client, enrolled):
    with time_machine.travel(timezone.now() + timedelta(hours=72, seconds=1)):
        response = api_client.post(
            ACTIVATE_URL, {"code": enrolled["activation"]["code"], "password": NEW_PASSWORD}
        )

    assert response.status_code == 400
    assert response.json()["code"] == "activation_code_expired"


def test_a_code_is_still_valid_just_before_expiry(api_client, enrolled):
    with time_machine.travel(timezone.now() + timedelta(hours=71, minutes=59)):
        response = api_client.post(
            ACTIVATE_URL, {"code": enrolled["activation"]["code"], "password": NEW_PASSWORD}
        )

    assert response.status_code == 200


def test_codes_are_forgiving_about_case_and_dashes(api_client, enrolled):
    typed = enrolled["activation"]["code"].replace("-", " ").lower()

    response = api_client.post(ACTIVATE_URL, {"code": typed, "password": NEW_PASSWORD})

    assert response.status_code == 200


def test_a_reissued_code_replaces_the_old_one(api_client, world, client_for, enrolled):
    old = enrolled["activation"]["code"]
    reissue = client_for(world.physio).post(
        f"/api/v1/patients/{enrolled['patient']['id']}/activation-code/"
    )
    assert reissue.status_code == 201

    stale = api_client.post(ACTIVATE_URL, {"code": old, "password": NEW_PASSWORD})
    fresh = api_client.post(
        ACTIVATE_URL, {"code": reissue.json()["activation"]["code"], "password": NEW_PASSWORD}
    )

    assert stale.status_code == 400
    assert fresh.status_code == 200


def test_a_weak_password_is_refused_with_a_field_message_and_the_code_survives(
    api_client, enrolled
):
    code = enrolled["activation"]["code"]

    weak = api_client.post(ACTIVATE_URL, {"code": code, "password": "12345678"})
    strong = api_client.post(ACTIVATE_URL, {"code": code, "password": NEW_PASSWORD})

    assert weak.status_code == 400
    assert weak.json()["errors"]["password"]
    assert strong.status_code == 200


@pytest.mark.parametrize(
    ("weak", "reason"),
    [
        ("Sh0rt!pw", "too short"),
        ("password1234", "too common"),
        ("2718281828459", "entirely numeric"),
        (None, "too similar"),  # the account's own username
    ],
)
def test_each_password_rule_is_active(api_client, enrolled, weak, reason):
    password = weak or enrolled["patient"]["username"]

    response = api_client.post(
        ACTIVATE_URL, {"code": enrolled["activation"]["code"], "password": password}
    )

    assert response.status_code == 400
    assert reason in " ".join(response.json()["errors"]["password"])
    user = User.objects.get(username=enrolled["patient"]["username"])
    assert not user.has_usable_password()


def test_an_unknown_code_is_400(api_client, db):
    response = api_client.post(ACTIVATE_URL, {"code": "ABCDE-FGHJK", "password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["errors"]["code"]


def test_activation_is_throttled_per_ip(api_client, db):
    statuses = [
        api_client.post(ACTIVATE_URL, {"code": f"X{n}", "password": NEW_PASSWORD}).status_code
        for n in range(11)
    ]

    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


def test_only_physiotherapists_enrol_patients(world, client_for):
    for user in (world.nurse, world.org_admin, world.patient.user, world.caregiver):
        response = client_for(user).post("/api/v1/patients/", ENROL, format="json")
        assert response.status_code == 403, user.role
    assert not PatientProfile.objects.filter(user__first_name="Ada").exists()


def test_a_deactivated_pending_account_cannot_be_reactivated_by_a_new_activation_code(
    world, client_for, api_client, enrolled
):
    """Finding 6 of [2/5]: a pending account looked the same before and after deactivation
    (inactive, no password), so a new code brought it back."""
    # Given an enrolled patient who never activated, deactivated by the organisation admin
    patient = PatientProfile.objects.get(pk=enrolled["patient"]["id"])
    url = f"/api/v1/users/{patient.user.pk}/deactivate/"
    assert client_for(world.org_admin).post(url).status_code == 200

    # When the physiotherapist asks for a new activation code
    response = client_for(world.physio).post(f"/api/v1/patients/{patient.pk}/activation-code/")

    # Then it is refused with the reason, no code is issued and the old one stays void
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "account_deactivated"
    assert "deactivated" in response.json()["detail"]
    assert not ActivationCode.objects.filter(user=patient.user, used_at__isnull=True).exists()
    old = api_client.post(
        ACTIVATE_URL, {"code": enrolled["activation"]["code"], "password": NEW_PASSWORD}
    )
    assert old.status_code == 400
    patient.user.refresh_from_db()
    assert patient.user.is_active is False
