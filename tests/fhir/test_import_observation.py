"""POST /fhir/Observation (issue #14, import): a sending system's lab result or outcome
measure becomes an assessment with its provenance, once per identifier; every refusal is an
R4B OperationOutcome and stores nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from backend.accounts.service_accounts import IssuedKey
from backend.audit.models import AccessEvent
from backend.exercise.models import Assessment
from backend.fhir.imports.codes import SETTING_SYSTEM
from tests.conftest import World
from tests.fhir.importing import (
    NOW,
    OBSERVATION_URL,
    diagnostics,
    egfr,
    expressions,
    frozen_now,
    imported,
    lab,
    lab_client,
    measure,
    observation,
    outcome,
    post,
)

# The clock is frozen before the world is built: everything is created inside it.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]
__all__ = ["frozen_now", "lab", "lab_client"]  # fixtures


# --- Imported ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["62238-1", "33914-3", "98979-8", "48642-3", "48643-1", "50044-7"])
def test_an_egfr_result_becomes_a_clinic_assessment_with_its_provenance(
    world: World, lab: IssuedKey, lab_client: APIClient, code: str
) -> None:
    # when
    response = post(lab_client, OBSERVATION_URL, egfr(world.patient.pk, "55.5", code=code))

    # then
    assert response.status_code == 201, response.content
    echo = observation(response)
    stored = Assessment.objects.get()
    assert echo["id"] == f"assessment-{stored.pk}"  # as the export's search finds it
    assert response["Location"] == f"Observation/assessment-{stored.pk}"
    assert (stored.patient, stored.measure, stored.setting) == (world.patient, "EGFR", "clinic")
    assert stored.value == Decimal("55.5")
    assert stored.unit == "mL/min/1.73m2"
    assert stored.measured_at == NOW - timedelta(days=1)
    assert stored.measured_by == lab.account.user
    assert stored.source_account == lab.account
    assert stored.source_organisation == world.org
    assert (stored.source_identifier_system, stored.source_identifier_value) == (
        "urn:oid:1.2.3.4.lab",
        "lab-1",
    )
    assert echo["valueQuantity"]["value"] == 55.5
    assert echo["subject"] == {"reference": f"Patient/{world.patient.pk}"}


def test_the_unit_may_be_given_as_labs_print_it(world: World, lab_client: APIClient) -> None:
    body = egfr(world.patient.pk, 72, unit_code=None, unit="mL/min/1.73m2")

    response = post(lab_client, OBSERVATION_URL, body, content_type="application/json")

    assert response.status_code == 201, response.content
    assert Assessment.objects.get().value == 72


def test_creatine_kinase_keeps_the_laboratory_upper_limit(
    world: World, lab_client: APIClient
) -> None:
    body = egfr(world.patient.pk, 1840, code="2157-6", unit_code="U/L", unit="U/L")
    body["referenceRange"] = [{"high": {"value": 190, "unit": "U/L"}}]

    response = post(lab_client, OBSERVATION_URL, body)

    assert response.status_code == 201, response.content
    stored = Assessment.objects.get()
    assert (stored.measure, stored.value, stored.upper_limit) == ("CK", 1840, 190)
    assert observation(response)["referenceRange"][0]["high"]["value"] == 190


@pytest.mark.parametrize(
    ("code", "value", "unit", "measure_code", "setting"),
    [
        ("STS30", 14, "{count}", "STS30", "home"),
        ("TUG", "7.5", "s", "TUG", "home"),
        ("CHAQ", "0.625", "{score}", "CHAQ", "home"),
        ("CMAS", 44, "{score}", "CMAS", "clinic"),
        ("MMT8", 70, "{score}", "MMT8", "clinic"),
    ],
)
def test_outcome_measures_import_in_their_usual_setting(
    world: World,
    lab_client: APIClient,
    code: str,
    value: Any,
    unit: str,
    measure_code: str,
    setting: str,
) -> None:
    body = measure(world.patient.pk, code, value, unit, identifier=f"m-{code}")

    response = post(lab_client, OBSERVATION_URL, body)

    assert response.status_code == 201, response.content
    stored = Assessment.objects.get()
    assert (stored.measure, stored.value, stored.setting) == (
        measure_code,
        Decimal(str(value)),
        setting,
    )
    category = observation(response)["category"]
    settings_given = [
        c["code"]
        for concept in category
        for c in concept["coding"]
        if c["system"] == SETTING_SYSTEM
    ]
    assert settings_given == [setting]


def test_the_setting_category_overrides_the_usual_one(world: World, lab_client: APIClient) -> None:
    body = measure(
        world.patient.pk, "STS30", 12, "{count}", identifier="clinic-sts", setting="clinic"
    )

    response = post(lab_client, OBSERVATION_URL, body)

    assert response.status_code == 201, response.content
    assert Assessment.objects.get().setting == "clinic"


def test_the_key_is_accepted_as_x_api_key(world: World, lab: IssuedKey) -> None:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=lab.key)

    response = post(client, OBSERVATION_URL, egfr(world.patient.pk))

    assert response.status_code == 201, response.content


# --- Idempotent by identifier -----------------------------------------------------------------


def test_a_resend_of_the_same_identifier_returns_the_stored_result(
    world: World, lab_client: APIClient
) -> None:
    first = post(lab_client, OBSERVATION_URL, egfr(world.patient.pk, 55))

    again = post(lab_client, OBSERVATION_URL, egfr(world.patient.pk, 55))

    assert (first.status_code, again.status_code) == (201, 200)
    assert Assessment.objects.count() == 1
    assert observation(again)["id"] == observation(first)["id"]


def test_the_identifier_is_unique_per_organisation_not_per_sending_system(
    world: World, lab_client: APIClient
) -> None:
    from backend.accounts.service_accounts import service_account_create

    other_system = service_account_create(organisation=world.org, name="Ward EHR", by=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_system.key}")
    post(lab_client, OBSERVATION_URL, egfr(world.patient.pk, 55))

    again = post(client, OBSERVATION_URL, egfr(world.patient.pk, 55))

    assert again.status_code == 200
    assert Assessment.objects.count() == 1


def test_an_identifier_already_used_for_another_patient_is_a_conflict(
    world: World, lab_client: APIClient
) -> None:
    post(lab_client, OBSERVATION_URL, egfr(world.patient.pk, 55))

    response = post(lab_client, OBSERVATION_URL, egfr(world.other_patient.pk, 55))

    assert response.status_code == 409
    assert expressions(outcome(response)) == ["Observation.identifier"]
    assert Assessment.objects.count() == 1


# --- Refused: an OperationOutcome, nothing stored ---------------------------------------------


def _refused(client: APIClient, body: Any, status: int, **post_kwargs: Any) -> str:
    response = post(client, OBSERVATION_URL, body, **post_kwargs)
    assert response.status_code == status, response.content
    parsed = outcome(response)
    assert imported() == []
    assert Assessment.objects.count() == 0
    return diagnostics(parsed) + " @ " + ",".join(expressions(parsed))


def test_an_element_fhir_does_not_define_is_refused(world: World, lab_client: APIClient) -> None:
    # e.g. a sender trying to set what PhysioTrack manages
    body = {**egfr(world.patient.pk), "measuredBy": "Patient/1"}

    said = _refused(lab_client, body, 400)

    assert "measuredBy" in said


def test_an_unknown_code_is_refused(world: World, lab_client: APIClient) -> None:
    body = egfr(world.patient.pk, code="2160-0")  # creatinine: not a measure we record

    said = _refused(lab_client, body, 422)

    assert "Unknown code" in said
    assert "http://loinc.org|2160-0" in said
    assert "Observation.code" in said


@pytest.mark.parametrize(
    ("unit_code", "unit"),
    [("mL/min", "mL/min"), ("mg/dL", "mg/dL"), (None, "ml/min")],
)
def test_a_wrong_unit_is_refused(
    world: World, lab_client: APIClient, unit_code: str | None, unit: str
) -> None:
    said = _refused(lab_client, egfr(world.patient.pk, unit_code=unit_code, unit=unit), 422)

    assert "Wrong unit for EGFR" in said
    assert "Observation.valueQuantity" in said


def test_a_patient_of_another_organisation_is_not_found_without_a_hint(
    world: World, lab_client: APIClient
) -> None:
    foreign = _refused(lab_client, egfr(world.foreign_patient.pk), 404)
    nobody = _refused(lab_client, egfr(world.foreign_patient.pk + 1000, identifier="x"), 404)

    assert foreign.replace(str(world.foreign_patient.pk), "N") == nobody.replace(
        str(world.foreign_patient.pk + 1000), "N"
    )
    assert world.foreign_patient.user.last_name not in foreign


@pytest.mark.parametrize(
    ("change", "status", "where"),
    [
        (lambda r: r.update(status="preliminary"), 422, "Observation.status"),
        (lambda r: r.update(status="entered-in-error"), 422, "Observation.status"),
        (lambda r: r.pop("identifier"), 422, "Observation.identifier"),
        (lambda r: r.update(identifier=[{"value": "no-system"}]), 422, "Observation.identifier"),
        (lambda r: r.update(subject={"reference": "Group/1"}), 422, "Observation.subject"),
        (lambda r: r.pop("subject"), 422, "Observation.subject"),
        (lambda r: r.update(effectiveDateTime="2026-11-19"), 422, "Observation.effectiveDateTime"),
        (
            lambda r: r.update(effectiveDateTime="2026-11-19T10:00:00"),  # FHIR needs the zone
            400,
            "Observation.effectiveDateTime",
        ),
        (lambda r: r.pop("valueQuantity"), 422, "Observation.value[x]"),
        (lambda r: r["valueQuantity"].update(value="55.1234"), 422, "valueQuantity.value"),
        (lambda r: r["valueQuantity"].update(comparator="<"), 422, "comparator"),
        (lambda r: r["valueQuantity"].update(value=250), 422, "valueQuantity.value"),
        (lambda r: r["valueQuantity"].update(value=-1), 422, "valueQuantity.value"),
        (lambda r: r.update(effectiveDateTime="2026-11-21T12:00:00+00:00"), 422, "effective"),
        (lambda r: r.update(note=[{"text": "x" * 501}]), 422, "Observation.note"),
        (lambda r: r.pop("code"), 400, "Observation.code"),
        (lambda r: r.update(valueQuantity={"value": "many"}), 400, "valueQuantity"),
        (lambda r: r.update(status=7), 400, "Observation.status"),
        (lambda r: r.update(resourceType="Patient"), 400, "Observation"),
    ],
)
def test_a_malformed_or_unusable_observation_is_refused(
    world: World, lab_client: APIClient, change: Any, status: int, where: str
) -> None:
    body = egfr(world.patient.pk)
    change(body)

    said = _refused(lab_client, body, status)

    assert where in said


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        ("{not json", "application/fhir+json", 400),
        ("[]", "application/fhir+json", 400),
        ('"text"', "application/json", 400),
        ("<Observation/>", "application/fhir+xml", 415),
        ("resourceType=Observation", "application/x-www-form-urlencoded", 415),
    ],
)
def test_a_body_that_is_not_fhir_json_is_refused(
    world: World, lab_client: APIClient, raw: str, content_type: str, status: int
) -> None:
    response = lab_client.generic("POST", OBSERVATION_URL, raw, content_type=content_type)

    assert response.status_code == status, response.content
    outcome(response)
    assert Assessment.objects.count() == 0


def test_an_unknown_format_is_an_operation_outcome(world: World, lab_client: APIClient) -> None:
    response = post(lab_client, OBSERVATION_URL + "?format=AAA", egfr(world.patient.pk))

    assert response.status_code == 404
    outcome(response)
    assert Assessment.objects.count() == 0


def test_a_body_over_the_api_limit_is_refused(
    world: World, lab_client: APIClient, settings: Any
) -> None:
    settings.REQUEST_BODY_MAX_BYTES = 2_000
    body = egfr(world.patient.pk)
    body["note"] = [{"text": "x" * 3_000}]

    response = post(lab_client, OBSERVATION_URL, body)

    assert response.status_code == 413
    assert Assessment.objects.count() == 0


# --- Audited like a person --------------------------------------------------------------------


def test_an_import_and_a_resend_are_audited_as_the_sending_system(
    world: World, lab: IssuedKey, lab_client: APIClient
) -> None:
    post(lab_client, OBSERVATION_URL, egfr(world.patient.pk))
    post(lab_client, OBSERVATION_URL, egfr(world.patient.pk))

    events = list(AccessEvent.objects.order_by("id"))
    stored = Assessment.objects.get()
    assert [
        (e.actor_id, e.actor_role, e.organisation_id, e.patient_id, e.action, e.resource_id)
        for e in events
    ] == [
        (lab.account.user_id, "service", world.org.pk, world.patient.pk, "create", stored.pk),
        (lab.account.user_id, "service", world.org.pk, world.patient.pk, "read", stored.pk),
    ]
    assert {e.resource_type for e in events} == {"assessment"}


def test_a_refused_import_is_not_audited(world: World, lab_client: APIClient) -> None:
    post(lab_client, OBSERVATION_URL, egfr(world.foreign_patient.pk))

    assert AccessEvent.objects.count() == 0
