"""POST /api/v1/users/{id}/deactivate/: sign-in stops at once (old access and refresh tokens
refused, the password refused), the clinical record is kept, and the audit trail says who
did it."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.accounts.services import activation_code_issue
from backend.exercise.models import SessionLog
from tests.audit.conftest import events, log_session
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"


def deactivate_url(user: User) -> str:
    return f"/api/v1/users/{user.pk}/deactivate/"


def _sign_in(user: User) -> dict[str, Any]:
    response = APIClient().post(
        TOKEN, {"username": user.username, "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def _with(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_deactivation_blocks_every_way_in_at_once(world, client_for):
    # Given the patient signed in on their phone (and once more on a tablet)
    phone = _sign_in(world.patient.user)
    tablet = _sign_in(world.patient.user)
    assert _with(phone["access"]).get("/api/v1/me/").status_code == 200

    # When the organisation admin deactivates the account
    response = client_for(world.org_admin).post(deactivate_url(world.patient.user))

    # Then the answer says so, and the old access token, both refresh tokens and the
    # password are all refused
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "id": world.patient.user.pk,
        "username": world.patient.user.username,
        "role": "patient",
        "is_active": False,
        "refresh_tokens_revoked": 2,
    }
    assert _with(phone["access"]).get("/api/v1/me/").status_code == 401
    for refresh in (phone["refresh"], tablet["refresh"]):
        assert APIClient().post(REFRESH, {"refresh": refresh}, format="json").status_code == 401
    again = APIClient().post(
        TOKEN,
        {"username": world.patient.user.username, "password": TEST_PASSWORD},
        format="json",
    )
    assert again.status_code == 401


def test_the_clinical_record_is_kept(world, client_for, programme):
    log_session(programme)

    client_for(world.physio).post(deactivate_url(world.patient.user))

    world.patient.refresh_from_db()
    assert SessionLog.objects.filter(patient=world.patient).count() == 1
    summary = client_for(world.physio).get(f"/api/v1/patients/{world.patient.pk}/summary/")
    assert summary.status_code == 200
    assert client_for(world.physio).get("/api/v1/sessions/").json()["count"] == 1


def test_deactivation_is_in_the_audit_trail_and_the_patients_access_log(world, client_for):
    client_for(world.physio).post(deactivate_url(world.patient.user))

    (event,) = events(action="deactivate")
    assert (event.actor_id, event.resource_type, event.resource_id, event.patient_id) == (
        world.physio.pk,
        "user",
        world.patient.user.pk,
        world.patient.pk,
    )
    listed = client_for(world.org_admin).get("/api/v1/audit/", {"action": "deactivate"})
    assert [row["id"] for row in listed.json()["results"]] == [event.pk]


def test_repeating_it_is_harmless(world, client_for):
    client = client_for(world.org_admin)

    first = client.post(deactivate_url(world.caregiver))
    second = client.post(deactivate_url(world.caregiver))

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["refresh_tokens_revoked"] == 0
    assert not User.objects.get(pk=world.caregiver.pk).is_active


def test_an_unused_activation_code_stops_working(world, client_for):
    # Given a caregiver invited but not yet activated
    invited = world.caregiver
    invited.set_unusable_password()
    invited.is_active = False
    invited.save()
    code = activation_code_issue(user=invited, by=world.physio).code

    client_for(world.physio).post(deactivate_url(invited))

    response = APIClient().post(
        "/api/v1/auth/activate/",
        {"code": code, "password": "a-long-new-passphrase-7"},
        format="json",
    )
    assert response.status_code == 400
    assert not User.objects.get(pk=invited.pk).is_active


@pytest.mark.parametrize(
    ("who", "whom"),
    [
        ("org_admin", "physio"),  # a clinician who left
        ("org_admin", "patient_user"),
        ("physio", "patient_user"),  # their own patient
        ("physio", "caregiver"),  # their patient's parent
    ],
)
def test_who_may_deactivate_whom(world, client_for, who, whom):
    target = world.patient.user if whom == "patient_user" else getattr(world, whom)

    response = client_for(getattr(world, who)).post(deactivate_url(target))

    assert response.status_code == 200, response.json()
    assert not User.objects.get(pk=target.pk).is_active


@pytest.mark.parametrize(
    ("who", "whom"),
    [
        ("org_admin", "other_org_physio"),  # another organisation
        ("org_admin", "org_admin"),  # not themselves
        ("physio", "other_patient_user"),  # another team's patient
        ("physio", "nurse"),  # a colleague: the organisation admin's job
        ("other_org_physio", "patient_user"),
    ],
)
def test_accounts_out_of_reach_are_404(world, client_for, who, whom):
    targets = {"patient_user": world.patient.user, "other_patient_user": world.other_patient.user}
    target = targets.get(whom) or getattr(world, whom)

    response = client_for(getattr(world, who)).post(deactivate_url(target))

    assert response.status_code == 404
    assert User.objects.get(pk=target.pk).is_active
    assert events() == []


@pytest.mark.parametrize("who", ["nurse", "caregiver", "patient_user"])
def test_other_roles_may_not_deactivate_anyone(world, client_for, who):
    user = world.patient.user if who == "patient_user" else getattr(world, who)

    response = client_for(user).post(deactivate_url(world.other_caregiver))

    assert response.status_code == 403
    assert User.objects.get(pk=world.other_caregiver.pk).is_active


def test_anonymous_is_401(world, api_client):
    assert api_client.post(deactivate_url(world.patient.user)).status_code == 401


def test_reactivating_the_account_later_does_not_revive_old_sessions(world, client_for):
    # Given a session from before the deactivation
    old = _sign_in(world.patient.user)
    client_for(world.org_admin).post(deactivate_url(world.patient.user))

    # When someone switches the account back on (in the admin, say)
    User.objects.filter(pk=world.patient.user.pk).update(is_active=True)

    # Then the old refresh token stays revoked, while a fresh sign-in works
    assert APIClient().post(REFRESH, {"refresh": old["refresh"]}, format="json").status_code == 401
    assert _sign_in(world.patient.user)["access"]
