"""Idempotency-Key on POSTs: a retry replays the first answer and the work is done once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from backend.accounts import tasks as account_tasks
from backend.accounts.models import ActivationCode, CareTeamMembership, PushDevice, User
from backend.alerts.models import Alert
from backend.core import idempotency
from backend.core.models import IdempotencyKey, IdempotencyState
from backend.exercise.apis import assessments as assessment_apis
from backend.exercise.models import (
    Assessment,
    Exercise,
    Programme,
    ProgrammeVersion,
    ProgressionProposal,
)
from backend.exercise.services.programmes import programme_create
from tests.builders import alert_raised, proposal_open
from tests.concurrency import all_at_once
from tests.conftest import World
from tests.exercise.conftest import as_json, content
from tests.factories import (
    TEST_PASSWORD,
    ClinicianFactory,
    PatientProfileFactory,
    UserFactory,
)

ASSESSMENTS = "/api/v1/assessments/"


def cmas_body(value: int = 40, **extra: Any) -> dict[str, Any]:
    return {
        "measure": "CMAS",
        "value": str(value),
        "setting": "clinic",
        "measured_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        **extra,
    }


def post(client: APIClient, url: str, body: Any, key: str | None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url, body, format="json", headers=headers)


@pytest.fixture
def physio(world: World, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(world.physio)


# --- The mechanism, on assessments ----------------------------------------------------------


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_the_first_answer_and_records_once(world, physio):
    body = cmas_body(patient=world.patient.pk)
    key = str(uuid.uuid4())

    first = post(physio, ASSESSMENTS, body, key)
    retry = post(physio, ASSESSMENTS, body, key)

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Assessment.objects.filter(patient=world.patient).count() == 1


@pytest.mark.django_db
def test_the_key_may_be_sent_as_a_structured_field_string(world, physio):
    body = cmas_body(patient=world.patient.pk)

    first = post(physio, ASSESSMENTS, body, '"order-7f3a"')
    retry = post(physio, ASSESSMENTS, body, '"order-7f3a"')

    assert retry.json() == first.json()
    assert Assessment.objects.count() == 1


@pytest.mark.django_db
def test_without_the_header_every_post_is_a_new_request(world, physio):
    body = cmas_body(patient=world.patient.pk)

    post(physio, ASSESSMENTS, body, None)
    post(physio, ASSESSMENTS, body, None)

    assert Assessment.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422_and_records_nothing(world, physio):
    key = str(uuid.uuid4())
    post(physio, ASSESSMENTS, cmas_body(40, patient=world.patient.pk), key)

    other = post(physio, ASSESSMENTS, cmas_body(41, patient=world.patient.pk), key)

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert "different body" in other.json()["detail"]
    assert other.json()["request_id"] == other["X-Request-ID"]
    assert Assessment.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_on_another_endpoint_is_422(world, physio, programme):
    key = str(uuid.uuid4())
    post(physio, ASSESSMENTS, cmas_body(patient=world.patient.pk), key)

    other = post(physio, f"/api/v1/programmes/{programme.pk}/pause/", {"reason": "illness"}, key)

    assert other.status_code == 422
    assert "another request" in other.json()["detail"]
    programme.refresh_from_db()
    assert programme.status == "active"


@pytest.mark.django_db
def test_a_key_whose_first_request_is_still_running_is_409(world, physio):
    body = cmas_body(patient=world.patient.pk)
    key = str(uuid.uuid4())
    post(physio, ASSESSMENTS, body, key)
    # As if the first request were still being served: its claim is not completed yet.
    IdempotencyKey.objects.update(state=IdempotencyState.IN_PROGRESS, response_body=None)

    retry = post(physio, ASSESSMENTS, body, key)

    assert retry.status_code == 409
    assert retry.json()["code"] == "idempotency_key_in_use"
    assert Assessment.objects.count() == 1


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_is_taken_over_after_its_lease(world, physio):
    body = cmas_body(patient=world.patient.pk)
    key = str(uuid.uuid4())
    with time_machine.travel(timezone.now() - timedelta(minutes=6), tick=False):
        post(physio, ASSESSMENTS, body, key)
    # The worker died before committing: no answer stored, and no assessment either.
    IdempotencyKey.objects.update(state=IdempotencyState.IN_PROGRESS, response_body=None)
    Assessment.objects.all().delete()

    retry = post(physio, ASSESSMENTS, body, key)

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Assessment.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_is_stored_and_replayed_too(world, physio):
    body = cmas_body(53, patient=world.patient.pk)  # CMAS above its maximum of 52
    key = str(uuid.uuid4())

    first = post(physio, ASSESSMENTS, body, key)
    retry = post(physio, ASSESSMENTS, body, key)

    assert first.status_code == 400
    assert retry.status_code == 400
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_a_server_error_is_not_stored_so_a_retry_does_the_work(world, physio, monkeypatch):
    body = cmas_body(patient=world.patient.pk)
    key = str(uuid.uuid4())
    real = assessment_apis.assessment_record

    def broken(**kwargs: Any) -> Any:
        real(**kwargs)  # the work happens, then something fails: all of it must roll back
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(assessment_apis, "assessment_record", broken)
    physio.raise_request_exception = False
    failed = post(physio, ASSESSMENTS, body, key)
    monkeypatch.setattr(assessment_apis, "assessment_record", real)
    retry = post(physio, ASSESSMENTS, body, key)

    assert failed.status_code == 500
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Assessment.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_the_user_who_sent_them(world, client_for):
    key = "shared-key-0001"

    first = post(client_for(world.physio), ASSESSMENTS, cmas_body(patient=world.patient.pk), key)
    second = post(client_for(world.nurse), ASSESSMENTS, cmas_body(patient=world.patient.pk), key)

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert Assessment.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_a_400_naming_the_header(world, physio, key):
    response = physio.post(
        ASSESSMENTS,
        cmas_body(patient=world.patient.pk),
        format="json",
        headers={"Idempotency-Key": key},
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert Assessment.objects.count() == 0


@pytest.mark.django_db
def test_after_a_day_the_key_is_forgotten_and_purged(world, physio, client_for):
    body = cmas_body(patient=world.patient.pk)
    key = str(uuid.uuid4())
    post(physio, ASSESSMENTS, body, key)

    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        purged = account_tasks.purge_expired_credentials()
        later = post(client_for(world.physio), ASSESSMENTS, body, key)

    assert purged["idempotency_keys"] == 1
    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later
    assert Assessment.objects.count() == 2


@pytest.mark.django_db
def test_neither_the_key_nor_the_answer_is_stored_readably(world, physio):
    key = "readable-key-123"
    response = post(
        physio,
        "/api/v1/patients/",
        {
            "first_name": "Ada",
            "last_name": "Quinn",
            "date_of_birth": "2014-03-09",
            "timezone": "Europe/Dublin",
        },
        key,
    )
    code = response.json()["activation"]["code"]

    row = IdempotencyKey.objects.get()
    assert row.response_body is not None
    stored = bytes(row.response_body)
    assert key not in row.key_hash
    assert code.encode() not in stored
    assert b"Quinn" not in stored


@pytest.mark.django_db
def test_the_header_is_documented_on_idempotent_posts_only(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]

    def header_names(operation: dict[str, Any]) -> set[str]:
        return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}

    assessments = paths["/api/v1/assessments/"]["post"]
    assert "Idempotency-Key" in header_names(assessments)
    assert {"409", "422"} <= set(assessments["responses"])
    assert "Idempotency-Key" not in header_names(paths["/api/v1/sessions/"]["post"])
    assert "Idempotency-Key" not in header_names(paths["/api/v1/assessments/"]["get"])


# Every POST route honours the header, except these, each for a stated reason.
NOT_IDEMPOTENT = {
    # Their answers carry live tokens, which must never be stored; a lost answer is recovered
    # by signing in again (and an activation code is single-use anyway).
    "TokenObtainApi": "issues tokens",
    "TokenRefreshApi": "issues tokens",
    "ActivateApi": "issues tokens",
    # Session logs are deduplicated by the phone's client_id (backend/exercise/services).
    "SessionListCreateApi": "client_id",
    "SessionSyncApi": "client_id",
    # Symptom reports too: and a refused body's symptoms must be stored, not replayed.
    "SymptomReportListCreateApi": "client_id",
}


def _api_views(resolver: URLResolver, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            found += _api_views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            found.append((prefix + str(pattern.pattern), pattern.callback.cls))
    return found


def test_every_post_route_is_idempotent_or_exempt_for_a_reason():
    views = [(route, view) for route, view in _api_views(get_resolver()) if hasattr(view, "post")]
    api_posts = [(route, view) for route, view in views if route.startswith("api/v1/")]

    missing = [
        route
        for route, view in api_posts
        if not idempotency.is_idempotent(view.post) and view.__name__ not in NOT_IDEMPOTENT
    ]

    assert len(api_posts) >= 20
    assert missing == []


# --- Concurrency on PostgreSQL --------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_do_the_work_once(world, client_for, monkeypatch):
    body = cmas_body(patient=world.patient.pk)
    key = str(uuid.uuid4())
    real = assessment_apis.assessment_record

    def slow(**kwargs: Any) -> Any:
        time.sleep(0.3)  # hold the claim long enough for the others to meet it
        return real(**kwargs)

    monkeypatch.setattr(assessment_apis, "assessment_record", slow)
    clients = [client_for(world.physio) for _ in range(8)]
    answers = all_at_once(len(clients), lambda n: post(clients[n], ASSESSMENTS, body, key))
    assert not [a for a in answers if isinstance(a, Exception)], answers
    after = post(client_for(world.physio), ASSESSMENTS, body, key)

    statuses = sorted(answer.status_code for answer in answers)
    originals = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a]
    assert len(originals) == 1
    assert set(statuses) <= {201, 409}
    assert 409 in statuses
    assert Assessment.objects.count() == 1
    assert after.status_code == 201
    assert after["Idempotent-Replayed"] == "true"
    assert after.json() == originals[0].json()


# --- At least one endpoint of each family ---------------------------------------------------


@dataclass
class Case:
    client: APIClient
    url: str
    body: Any
    effect: Callable[[], Any]  # what the work changes; must change once, not twice


def _draft(world: World, library: dict[str, Exercise]) -> Programme:
    return programme_create(
        by=world.other_team_physio,
        patient=world.other_patient,
        content=content(library),
        activate=False,
    ).programme


def _versions(programme: Programme) -> Callable[[], int]:
    return lambda: ProgrammeVersion.objects.filter(programme=programme).count()


def _status(programme: Programme) -> Callable[[], tuple[str, Any]]:
    return lambda: Programme.objects.values_list("status", "updated_at").get(pk=programme.pk)


CASES: dict[str, Callable[..., Case]] = {
    "device": lambda w, c, lib, prog: Case(
        c(w.patient.user),
        "/api/v1/devices/",
        {"platform": "android", "token": "tok-1"},
        lambda: PushDevice.objects.values_list("last_seen_at").first(),
    ),
    "enrol": lambda w, c, lib, prog: Case(
        c(w.physio),
        "/api/v1/patients/",
        {
            "first_name": "Ada",
            "last_name": "Quinn",
            "date_of_birth": "2014-03-09",
            "timezone": "Europe/Dublin",
        },
        lambda: User.objects.count(),
    ),
    "activation-code": lambda w, c, lib, prog: _activation_code_case(w, c),
    "care-team": lambda w, c, lib, prog: Case(
        c(w.physio),
        f"/api/v1/patients/{w.patient.pk}/care-team/",
        {"member_id": ClinicianFactory.create(organisation=w.org, role="physician").pk},
        lambda: CareTeamMembership.objects.count(),
    ),
    "caregiver": lambda w, c, lib, prog: Case(
        c(w.physio),
        f"/api/v1/patients/{w.patient.pk}/caregivers/",
        {"first_name": "Sam", "last_name": "Quinn"},
        lambda: User.objects.count(),
    ),
    "logout": lambda w, c, lib, prog: _logout_case(w),
    "exercise": lambda w, c, lib, prog: Case(
        c(w.physio),
        "/api/v1/exercises/",
        {
            "name": "Wall push-up",
            "instructions": "Slowly.",
            "category": "resistance",
            "body_regions": ["arm"],
        },
        lambda: Exercise.objects.count(),
    ),
    "programme-create": lambda w, c, lib, prog: Case(
        c(w.other_team_physio),
        "/api/v1/programmes/",
        {**as_json(content(lib)), "patient": w.other_patient.pk},
        lambda: Programme.objects.count(),
    ),
    "programme-revise": lambda w, c, lib, prog: Case(
        c(w.physio),
        f"/api/v1/programmes/{prog.pk}/versions/",
        {**as_json(content(lib, title="Block 2")), "reason": "Progressing"},
        _versions(prog),
    ),
    "programme-activate": lambda w, c, lib, prog: _activate_case(w, c, lib),
    "programme-pause": lambda w, c, lib, prog: Case(
        c(w.physio), f"/api/v1/programmes/{prog.pk}/pause/", {"reason": "illness"}, _status(prog)
    ),
    "programme-complete": lambda w, c, lib, prog: Case(
        c(w.physio), f"/api/v1/programmes/{prog.pk}/complete/", {"note": "Done"}, _status(prog)
    ),
    "proposal-accept": lambda w, c, lib, prog: Case(
        c(w.physio),
        f"/api/v1/progression-proposals/{proposal_open(prog).pk}/accept/",
        None,
        _versions(prog),
    ),
    "proposal-dismiss": lambda w, c, lib, prog: _proposal_dismiss_case(w, c, prog),
    "assessment": lambda w, c, lib, prog: Case(
        c(w.physio), ASSESSMENTS, cmas_body(patient=w.patient.pk), Assessment.objects.count
    ),
    "alert-acknowledge": lambda w, c, lib, prog: _alert_case(w, c, "acknowledge", None),
    "alert-resolve": lambda w, c, lib, prog: _alert_case(w, c, "resolve", {"note": "Called"}),
}


def _activation_code_case(world: World, client_for: Any) -> Case:
    pending = UserFactory.create(organisation=world.org, is_active=False, password=None)
    profile = PatientProfileFactory.create(user=pending)
    CareTeamMembership.objects.create(patient=profile, member=world.physio, role="physiotherapist")
    return Case(
        client_for(world.physio),
        f"/api/v1/patients/{profile.pk}/activation-code/",
        None,
        lambda: ActivationCode.objects.filter(user=pending).count(),
    )


def _logout_case(world: World) -> Case:
    client = APIClient()
    pair = client.post(
        "/api/v1/auth/token/",
        {"username": world.patient.user.username, "password": TEST_PASSWORD},
        format="json",
    ).json()
    return Case(
        client, "/api/v1/auth/logout/", {"refresh": pair["refresh"]}, BlacklistedToken.objects.count
    )


def _activate_case(world: World, client_for: Any, library: dict[str, Exercise]) -> Case:
    draft = _draft(world, library)
    return Case(
        client_for(world.other_team_physio),
        f"/api/v1/programmes/{draft.pk}/activate/",
        None,
        _status(draft),
    )


def _proposal_dismiss_case(world: World, client_for: Any, programme: Programme) -> Case:
    proposal = proposal_open(programme).pk
    return Case(
        client_for(world.physio),
        f"/api/v1/progression-proposals/{proposal}/dismiss/",
        None,
        lambda: ProgressionProposal.objects.values_list("status", "decided_at").get(pk=proposal),
    )


def _alert_case(world: World, client_for: Any, action: str, body: Any) -> Case:
    alert = alert_raised(world.patient, key="idem").pk
    return Case(
        client_for(world.physio),
        f"/api/v1/alerts/{alert}/{action}/",
        body,
        lambda: Alert.objects.values_list(
            "status", "acknowledged_at", "resolved_at", "resolution_note"
        ).get(pk=alert),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CASES))
def test_each_endpoint_family_replays_a_retry_and_does_the_work_once(
    name, world, client_for, library, programme
):
    case = CASES[name](world, client_for, library, programme)
    key = f"{name}-{uuid.uuid4()}"
    before = case.effect()

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        first = post(case.client, case.url, case.body, key)
        after_first = case.effect()
        traveller.shift(timedelta(seconds=5))  # a repeat of the work would move timestamps
        retry = post(case.client, case.url, case.body, key)

    assert first.status_code < 300, first.content
    assert retry.status_code == first.status_code
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert after_first != before
    assert case.effect() == after_first
