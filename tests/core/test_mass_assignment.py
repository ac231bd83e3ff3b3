"""Mass assignment (OWASP API3): fields the server manages cannot be set through the API.

Every input serializer refuses unknown fields (StrictSerializer), so a managed field sent by a
client is a 400 naming it, and the stored rows do not change. Endpoints that take no body
ignore one. The table below covers every operation with a request body in openapi.yaml.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.forms.models import model_to_dict
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from backend.accounts.models import CareTeamMembership, PatientProfile, PushDevice, User
from backend.accounts.serializers import StrictSerializer
from backend.alerts.models import Alert, RuleOverride
from backend.exercise.models import (
    Assessment,
    Exercise,
    Programme,
    ProgrammeTemplate,
    ProgrammeVersion,
    SessionLog,
)
from backend.exercise.services.templates import template_create
from backend.symptoms.models import SymptomReport
from tests.builders import alert_raised, proposal_open, session_logged
from tests.conftest import World
from tests.exercise.conftest import as_json, content, make_exercise, session_body
from tests.factories import TEST_PASSWORD, ClinicianFactory

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"


@dataclass
class Ctx:
    world: World
    programme: Programme
    library: dict[str, Exercise]
    session: SessionLog
    alert: Alert
    exercise: Exercise
    ids: dict[str, int]


@pytest.fixture
def ctx(world: World, library: dict[str, Exercise], programme: Programme) -> Ctx:
    session = session_logged(
        programme,
        started_at=timezone.now() - timedelta(hours=2),
        client_id="7c0d8b0e-7a31-4b8e-9a54-3d1f4cbb0a11",
        results=[],
        symptoms=[],
        note="first",
    ).session
    alert = alert_raised(world.patient, key="mass")
    exercise = make_exercise("Clinic row", organisation=world.org, created_by=world.physio)
    template = template_create(by=world.physio, name="Mass template", programme=programme)
    ids = {
        "patient_id": world.patient.pk,
        "programme_id": programme.pk,
        "session_id": session.pk,
        "alert_id": alert.pk,
        "exercise_id": exercise.pk,
        "template_id": template.pk,
    }
    return Ctx(world, programme, library, session, alert, exercise, ids)


def _row(model: type[Any], pk: int) -> dict[str, Any]:
    return model_to_dict(model.objects.get(pk=pk))


@dataclass
class Write:
    actor: Callable[[World], User]
    body: Callable[[Ctx], dict[str, Any]]
    managed: list[str]
    state: Callable[[Ctx], Any]  # what must not change when a managed field is refused


WRITES: dict[tuple[str, str], Write] = {
    ("POST", "/api/v1/patients/"): Write(
        lambda w: w.physio,
        lambda c: {
            "first_name": "Ada",
            "last_name": "Quinn",
            "date_of_birth": "2014-03-09",
            "timezone": "Europe/Dublin",
        },
        [
            "organisation",
            "role",
            "is_active",
            "is_staff",
            "is_superuser",
            "created_by",
            "username",
            "user_id",
            "care_team",
        ],
        lambda c: User.objects.count(),
    ),
    ("PATCH", "/api/v1/patients/{patient_id}/"): Write(
        lambda w: w.patient.user,
        lambda c: {"reminder_time": "18:00"},
        [
            "user",
            "user_id",
            "username",
            "is_activated",
            "is_active",
            "role",
            "organisation",
            "created_by",
            "care_team",
            "caregivers",
            "created_at",
        ],
        lambda c: (_row(PatientProfile, c.world.patient.pk), _row(User, c.world.patient.user.pk)),
    ),
    ("POST", "/api/v1/patients/{patient_id}/care-team/"): Write(
        lambda w: w.physio,
        lambda c: {"member_id": ClinicianFactory.create(organisation=c.world.org).pk},
        ["patient", "added_by", "created_at", "member"],
        lambda c: CareTeamMembership.objects.count(),
    ),
    ("POST", "/api/v1/patients/{patient_id}/caregivers/"): Write(
        lambda w: w.physio,
        lambda c: {"first_name": "Sam", "last_name": "Quinn"},
        ["role", "organisation", "is_active", "patient", "created_by", "username"],
        lambda c: User.objects.count(),
    ),
    ("POST", "/api/v1/devices/"): Write(
        lambda w: w.patient.user,
        lambda c: {"platform": "android", "token": "tok-mass"},
        ["user", "user_id", "last_seen_at", "created_at"],
        lambda c: PushDevice.objects.count(),
    ),
    ("POST", "/api/v1/exercises/"): Write(
        lambda w: w.physio,
        lambda c: {
            "name": "Wall push-up",
            "instructions": "Slowly.",
            "category": "resistance",
            "body_regions": ["arm"],
        },
        ["organisation", "is_global", "created_by", "id", "updated_at"],
        lambda c: Exercise.objects.count(),
    ),
    ("PATCH", "/api/v1/exercises/{exercise_id}/"): Write(
        lambda w: w.physio,
        lambda c: {"name": "Seated row"},
        ["organisation", "is_global", "created_by", "id"],
        lambda c: _row(Exercise, c.exercise.pk),
    ),
    ("POST", "/api/v1/programmes/"): Write(
        lambda w: w.other_team_physio,
        lambda c: {**as_json(content(c.library)), "patient": c.world.other_patient.pk},
        [
            "status",
            "ever_active",
            "author",
            "number",
            "current_version",
            "created_by",
            "pause_reason",
        ],
        lambda c: (Programme.objects.count(), ProgrammeVersion.objects.count()),
    ),
    ("POST", "/api/v1/programmes/{programme_id}/versions/"): Write(
        lambda w: w.physio,
        lambda c: {**as_json(content(c.library, title="Block 2")), "reason": "Progressing"},
        ["number", "author", "status", "programme", "created_at", "patient"],
        lambda c: (_row(Programme, c.programme.pk), ProgrammeVersion.objects.count()),
    ),
    ("POST", "/api/v1/programmes/{programme_id}/pause/"): Write(
        lambda w: w.physio,
        lambda c: {"reason": "illness"},
        ["status", "ever_active", "paused_by"],
        lambda c: _row(Programme, c.programme.pk),
    ),
    ("POST", "/api/v1/programmes/{programme_id}/complete/"): Write(
        lambda w: w.physio,
        lambda c: {"note": "Done"},
        ["status", "completed_at"],
        lambda c: _row(Programme, c.programme.pk),
    ),
    ("POST", "/api/v1/sessions/"): Write(
        lambda w: w.patient.user,
        lambda c: session_body(c.programme),
        [
            "recorded_by",
            "programme",
            "supervised",
            "programme_status_at_log",
            "deleted_at",
            "created_at",
            "id",
        ],
        lambda c: SessionLog.objects.count(),
    ),
    ("PATCH", "/api/v1/sessions/{session_id}/"): Write(
        lambda w: w.patient.user,
        lambda c: {"note": "corrected"},
        [
            "patient",
            "client_id",
            "version",
            "recorded_by",
            "deleted_at",
            "programme",
            "supervised",
            "created_at",
        ],
        lambda c: _row(SessionLog, c.session.pk),
    ),
    ("POST", "/api/v1/assessments/"): Write(
        lambda w: w.physio,
        lambda c: {
            "measure": "CMAS",
            "value": "40",
            "setting": "clinic",
            "measured_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "patient": c.world.patient.pk,
        },
        ["measured_by", "unit", "created_at", "id"],
        lambda c: Assessment.objects.count(),
    ),
    ("POST", "/api/v1/alerts/{alert_id}/resolve/"): Write(
        lambda w: w.physio,
        lambda c: {"note": "Called the family"},
        [
            "status",
            "acknowledged_by",
            "resolved_by",
            "resolved_at",
            "rule_id",
            "urgency",
            "escalated_at",
        ],
        lambda c: _row(Alert, c.alert.pk),
    ),
    ("PUT", "/api/v1/patients/{patient_id}/rule-settings/"): Write(
        lambda w: w.physio,
        lambda c: {"rules": {"FD-1": {"drop_points": 4}}},
        ["patient", "set_by", "updated_at", "rule_id", "parameters"],
        lambda c: list(RuleOverride.objects.values_list("rule_id", "parameters")),
    ),
    ("POST", "/api/v1/programme-templates/"): Write(
        lambda w: w.physio,
        lambda c: {
            "name": "Another template",
            "content": {"items": [{"exercise": c.library["squat"].pk, "sets": 2, "reps": 8}]},
        },
        ["organisation", "created_by", "created_at", "updated_at", "archived_at", "id"],
        lambda c: ProgrammeTemplate.objects.count(),
    ),
    ("PATCH", "/api/v1/programme-templates/{template_id}/"): Write(
        lambda w: w.physio,
        lambda c: {"description": "For a first block after a flare."},
        ["organisation", "created_by", "created_at", "updated_at", "archived_at", "id"],
        lambda c: _row(ProgrammeTemplate, c.ids["template_id"]),
    ),
    ("POST", "/api/v1/programme-templates/{template_id}/prescribe/"): Write(
        lambda w: w.physio,
        lambda c: {"patient": c.world.patient.pk, "start_date": "2026-10-01"},
        ["created_by", "status", "programme", "version", "author"],
        lambda c: Programme.objects.count(),
    ),
    ("POST", "/api/v1/programmes/{programme_id}/save-as-template/"): Write(
        lambda w: w.physio,
        lambda c: {"name": "Saved from the programme"},
        ["organisation", "created_by", "created_at", "updated_at", "archived_at", "id"],
        lambda c: ProgrammeTemplate.objects.count(),
    ),
    ("POST", "/api/v1/auth/activate/"): Write(
        lambda w: None,  # type: ignore[arg-type,return-value]  # anonymous
        lambda c: {"code": "AAAAA-BBBBB", "password": "a-long-new-pass-42"},
        ["username", "role", "is_active", "is_staff", "is_superuser", "user"],
        lambda c: list(User.objects.values_list("username", "role", "is_active", "is_staff")),
    ),
    ("POST", "/api/v1/auth/logout/"): Write(
        lambda w: None,  # type: ignore[arg-type,return-value]
        lambda c: {"refresh": "not-checked-before-the-fields"},
        ["user", "user_id", "all_devices"],
        lambda c: User.objects.count(),
    ),
}

# Operations with a body that are covered by the separate tests below.
COVERED_BELOW = {
    ("POST", "/api/v1/auth/token/"),
    ("POST", "/api/v1/auth/token/refresh/"),
    ("POST", "/api/v1/sessions/sync/"),
    ("POST", "/api/v1/symptoms/"),
    # FHIR resources are not our serializers' input: every imported resource is validated
    # against the R4B models first, which refuse an unknown element (tests/fhir).
    ("POST", "/fhir/Observation"),
    ("POST", "/fhir/Bundle"),
}

CASES = [
    pytest.param(operation, field, id=f"{operation[0]} {operation[1]} {field}")
    for operation, write in WRITES.items()
    for field in write.managed
]


def _client(user: User | None, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(user) if user is not None else APIClient()


@pytest.mark.django_db
@pytest.mark.parametrize(("operation", "field"), CASES)
def test_a_managed_field_is_refused_by_name_and_nothing_changes(operation, field, ctx, client_for):
    method, template = operation
    write = WRITES[operation]
    client = _client(write.actor(ctx.world), client_for)
    body = {**write.body(ctx), field: _plausible_value(field, ctx)}
    before = write.state(ctx)

    response = getattr(client, method.lower())(template.format(**ctx.ids), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {field: ["Unknown field."]}
    assert write.state(ctx) == before


@pytest.mark.django_db
@pytest.mark.parametrize("operation", list(WRITES), ids=lambda op: f"{op[0]} {op[1]}")
def test_the_same_body_without_managed_fields_is_accepted(operation, ctx, client_for):
    """So the refusals above are about the field, not a body that was bad anyway."""
    method, template = operation
    write = WRITES[operation]
    client = _client(write.actor(ctx.world), client_for)

    response = getattr(client, method.lower())(
        template.format(**ctx.ids), write.body(ctx), format="json"
    )

    expected = {("POST", "/api/v1/auth/activate/"): 400, ("POST", "/api/v1/auth/logout/"): 401}
    assert response.status_code == expected.get(operation, response.status_code)
    if operation not in expected:
        assert response.status_code in {200, 201}, response.content


SYMPTOM_REPORT_MANAGED = [
    "reported_by",
    "source",
    "tier",
    "derived_symptoms",
    "log_client_id",
    "created_at",
    "id",
]


@pytest.mark.django_db
@pytest.mark.parametrize("field", SYMPTOM_REPORT_MANAGED)
def test_a_symptom_report_refuses_a_managed_field_and_stores_only_the_servers_values(
    field, ctx, client_for
):
    """A symptom is stored even from a refused body (DOMAIN.md 7), so "nothing changes" reads
    here as: the field is refused by name and the stored report carries the server's values."""
    client = client_for(ctx.world.patient.user)
    body = {
        "client_id": "5b1f8b0e-7a31-4b8e-9a54-3d1f4cbb0a22",
        "symptoms": ["rash_flare"],
        field: _plausible_value(field, ctx),
    }

    response = client.post("/api/v1/symptoms/", body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {field: ["Unknown field."]}
    report = SymptomReport.objects.get(pk=response.json()["symptom_report"])
    assert report.reported_by_id == ctx.world.patient.user.pk
    assert (report.source, report.tier, report.derived_codes) == ("standalone", 3, [])
    assert report.log_client_id is None
    assert report.created_at < timezone.now() + timedelta(seconds=5)


def _plausible_value(field: str, ctx: Ctx) -> Any:
    """What an attacker would send: another person's id, a privileged role, a flag set."""
    other = ctx.world.other_org_physio.pk
    values: dict[str, Any] = {
        "role": "org_admin",
        "status": "completed",
        "organisation": ctx.world.other_org.pk,
        "username": "admin",
        "number": 99,
        "urgency": "emergency",
        "rule_id": "FD-2",
        "unit": "kg",
        "platform": "ios",
        "client_id": "00000000-0000-0000-0000-000000000001",
        "pause_reason": "surgery",
        "programme_status_at_log": "active",
    }
    if field in values:
        return values[field]
    if field.startswith(("is_", "ever_", "supervised", "all_")):
        return True
    if field.endswith(("_at",)):
        return "2030-01-01T00:00:00Z"
    return other


def test_every_operation_with_a_body_is_in_the_table():
    schema = yaml.safe_load(OPENAPI.read_text())
    with_body = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }

    assert with_body - set(WRITES) - COVERED_BELOW == set()


def test_every_input_serializer_refuses_unknown_fields():
    loose = []
    for module_name in (
        "backend.accounts.serializers",
        "backend.exercise.serializers",
        "backend.alerts.serializers",
    ):
        module = importlib.import_module(module_name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            is_input = name.endswith("Input") and issubclass(cls, serializers.Serializer)
            if is_input and cls.__module__ == module_name and not issubclass(cls, StrictSerializer):
                loose.append(name)

    assert loose == []


# --- Endpoints whose input is not ours, or that take no body: extra fields are ignored ------


@pytest.mark.django_db
def test_sign_in_ignores_claims_sent_with_the_password(api_client, world):
    user = world.patient.user

    response = api_client.post(
        "/api/v1/auth/token/",
        {
            "username": user.username,
            "password": TEST_PASSWORD,
            "user_id": world.physio.pk,
            "role": "org_admin",
            "is_staff": True,
        },
        format="json",
    )

    assert response.status_code == 200
    assert AccessToken(response.json()["access"])["user_id"] == str(user.pk)
    user.refresh_from_db()
    assert (user.role, user.is_staff) == ("patient", False)


@pytest.mark.django_db
def test_acknowledging_ignores_who_the_body_says_acknowledged(ctx, client_for):
    world = ctx.world

    response = client_for(world.physio).post(
        f"/api/v1/alerts/{ctx.alert.pk}/acknowledge/",
        {"acknowledged_by": world.nurse.pk, "status": "resolved", "urgency": "emergency"},
        format="json",
    )

    assert response.status_code == 200
    ctx.alert.refresh_from_db()
    assert ctx.alert.acknowledged_by_id == world.physio.pk
    assert (ctx.alert.status, ctx.alert.urgency) == ("acknowledged", "routine")


@pytest.mark.django_db
def test_accepting_a_proposal_ignores_a_status_in_the_body(ctx, client_for):
    proposal = proposal_open(ctx.programme, evidence={})

    response = client_for(ctx.world.physio).post(
        f"/api/v1/progression-proposals/{proposal.pk}/accept/",
        {"status": "dismissed", "resulting_version": 1},
        format="json",
    )

    assert response.status_code == 200
    proposal.refresh_from_db()
    assert proposal.status == "accepted"
    assert proposal.resulting_version_id != 1


@pytest.mark.django_db
def test_a_synced_log_with_a_managed_field_is_refused_alone(ctx, client_for):
    good = session_body(ctx.programme)
    bad = {**session_body(ctx.programme), "recorded_by": ctx.world.physio.pk}
    before = SessionLog.objects.count()

    response = client_for(ctx.world.patient.user).post(
        "/api/v1/sessions/sync/", {"logs": [good, bad]}, format="json"
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["created"], body["invalid"]) == (1, 1)
    assert body["results"][1]["errors"] == {"recorded_by": ["Unknown field."]}
    assert SessionLog.objects.count() == before + 1
    assert SessionLog.objects.get(client_id=good["client_id"]).recorded_by == ctx.world.patient.user


@pytest.mark.django_db
def test_a_refresh_ignores_extra_fields(api_client, world):
    pair = api_client.post(
        "/api/v1/auth/token/",
        {"username": world.patient.user.username, "password": TEST_PASSWORD},
        format="json",
    ).json()

    response = api_client.post(
        "/api/v1/auth/token/refresh/",
        {"refresh": pair["refresh"], "user_id": world.physio.pk},
        format="json",
    )

    assert response.status_code == 200
    assert AccessToken(response.json()["access"])["user_id"] == str(world.patient.user.pk)
