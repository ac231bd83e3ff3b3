from __future__ import annotations

import pytest

from backend.accounts.models import PushDevice

pytestmark = pytest.mark.django_db

TOKEN = "fcm-token-" + "a" * 140


def test_registering_the_same_token_twice_keeps_one_device(world, client_for):
    client = client_for(world.patient.user)

    first = client.post("/api/v1/devices/", {"platform": "android", "token": TOKEN})
    again = client.post("/api/v1/devices/", {"platform": "android", "token": TOKEN})

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert PushDevice.objects.count() == 1


def test_a_phone_that_changes_hands_moves_to_its_new_user(world, client_for):
    client_for(world.patient.user).post("/api/v1/devices/", {"platform": "ios", "token": TOKEN})

    response = client_for(world.caregiver).post(
        "/api/v1/devices/", {"platform": "ios", "token": TOKEN}
    )

    # 201 as for any phone new to this user: the answer does not reveal the previous owner.
    assert response.status_code == 201
    assert PushDevice.objects.get().user == world.caregiver
    assert client_for(world.patient.user).get("/api/v1/devices/").json() == []


def test_a_user_deletes_their_own_device_but_not_anothers(world, client_for):
    mine = client_for(world.patient.user).post(
        "/api/v1/devices/", {"platform": "ios", "token": TOKEN}
    )
    device_url = f"/api/v1/devices/{mine.json()['id']}/"

    other = client_for(world.other_patient.user).delete(device_url)
    own = client_for(world.patient.user).delete(device_url)

    assert other.status_code == 404
    assert own.status_code == 204
    assert not PushDevice.objects.exists()


def test_an_unknown_platform_is_400(world, client_for):
    response = client_for(world.patient.user).post(
        "/api/v1/devices/", {"platform": "symbian", "token": TOKEN}
    )

    assert response.status_code == 400
    assert "platform" in response.json()["errors"]
