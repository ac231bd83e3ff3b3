"""Bad input gets a 4xx with a message per field, never a 500, and nothing is half-saved."""

from __future__ import annotations

import pytest

from backend.accounts.models import PatientProfile, User

pytestmark = pytest.mark.django_db

GOOD = {
    "first_name": "Ada",
    "last_name": "Quinn",
    "date_of_birth": "2014-03-09",
    "timezone": "Europe/Dublin",
}


@pytest.fixture
def physio_client(world, client_for):
    return client_for(world.physio)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": 42}, "timezone"),
        ({"date_of_birth": "yesterday"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "0001-01-01"}, "date_of_birth"),
        ({"date_of_birth": "1899-12-31"}, "date_of_birth"),
        ({"first_name": ["not", "a", "string"]}, "first_name"),
        ({"first_name": ""}, "first_name"),
        ({"training_weekdays": [0, 8]}, "training_weekdays"),
        ({"training_weekdays": [1, 1]}, "training_weekdays"),
        ({"training_weekdays": "monday"}, "training_weekdays"),
        ({"reminder_time": "25:99"}, "reminder_time"),
        ({"email": "not-an-email"}, "email"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_each_bad_field_is_named_in_a_400(physio_client, change, field):
    users_before = User.objects.count()

    response = physio_client.post("/api/v1/patients/", {**GOOD, **change}, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"]
    assert body["detail"]
    assert User.objects.count() == users_before


def test_a_missing_required_field_is_named(physio_client):
    response = physio_client.post("/api/v1/patients/", {"first_name": "Ada"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"last_name", "date_of_birth", "timezone"}


def test_malformed_json_is_400(physio_client):
    response = physio_client.post(
        "/api/v1/patients/", data='{"first_name": "Ada",', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "JSON" in response.json()["detail"]


def test_a_json_array_instead_of_an_object_is_400(physio_client):
    response = physio_client.post("/api/v1/patients/", [GOOD], format="json")

    assert response.status_code == 400


def test_a_form_encoded_body_is_415(physio_client):
    response = physio_client.post(
        "/api/v1/patients/",
        "first_name=Ada&last_name=Quinn",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_an_oversized_body_is_refused_with_413_before_parsing(physio_client, settings):
    big = {**GOOD, "diagnosis": "x" * (settings.REQUEST_BODY_MAX_BYTES + 1)}

    response = physio_client.post("/api/v1/patients/", big, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not PatientProfile.objects.filter(user__first_name="Ada").exists()


def test_a_too_long_diagnosis_under_the_body_limit_is_a_field_error(physio_client):
    response = physio_client.post(
        "/api/v1/patients/", {**GOOD, "diagnosis": "x" * 301}, format="json"
    )

    assert response.status_code == 400
    assert "diagnosis" in response.json()["errors"]


def test_patch_with_an_unknown_timezone_changes_nothing(world, client_for):
    client = client_for(world.patient.user)

    response = client.patch(
        f"/api/v1/patients/{world.patient.pk}/",
        {"timezone": "Europe/Atlantis", "reminder_time": "06:00"},
        format="json",
    )

    assert response.status_code == 400
    assert "timezone" in response.json()["errors"]
    world.patient.refresh_from_db()
    assert world.patient.timezone == "Europe/London"
    assert world.patient.reminder_time.hour == 17


def test_a_non_numeric_path_id_is_404(physio_client):
    assert physio_client.get("/api/v1/patients/abc/").status_code == 404
