"""Shared by the import tests (tests/fhir/test_import_*): a sending system of the world's
organisation, its client, and Observations shaped as the export side emits them. Not a
conftest, so the export side's fixtures and these never collide."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.test import APIClient

from backend.accounts.service_accounts import IssuedKey, service_account_create
from backend.exercise.models import Assessment
from backend.fhir.imports import codes
from tests.conftest import World

# A Friday afternoon; everything is created inside the frozen time.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
OBSERVATION_URL = "/fhir/Observation"
BUNDLE_URL = "/fhir/Bundle"
FHIR_JSON = "application/fhir+json"


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lab(world: World, frozen_now: None) -> IssuedKey:
    """The organisation's laboratory system, created by its admin."""
    return service_account_create(organisation=world.org, name="City lab LIS", by=world.org_admin)


@pytest.fixture
def lab_client(lab: IssuedKey) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {lab.key}")
    return client


def egfr(
    patient_id: int,
    value: Any = 55,
    *,
    identifier: str = "lab-1",
    code: str = "62238-1",
    at: datetime | None = None,
    unit_code: str | None = "mL/min/{1.73_m2}",
    unit: str = "mL/min/1.73m2",
) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value, "unit": unit}
    if unit_code is not None:
        quantity.update(system=codes.UCUM, code=unit_code)
    return {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:oid:1.2.3.4.lab", "value": identifier}],
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": codes.LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": (at or NOW - timedelta(days=1)).isoformat(),
        "valueQuantity": quantity,
    }


def measure(
    patient_id: int,
    code: str,
    value: Any,
    unit_code: str,
    *,
    identifier: str,
    setting: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    resource = egfr(patient_id, value, identifier=identifier, at=at)
    resource["code"] = {"coding": [{"system": codes.OUTCOME_MEASURES, "code": code}]}
    resource["valueQuantity"] = {"value": value, "system": codes.UCUM, "code": unit_code}
    resource["category"] = (
        [{"coding": [{"system": codes.SETTING_SYSTEM, "code": setting}]}] if setting else []
    )
    return resource


def transaction(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": resource, "request": {"method": "POST", "url": "Observation"}}
            for resource in resources
        ],
    }


def post(client: APIClient, url: str, body: Any, content_type: str = FHIR_JSON) -> Any:
    import json

    return client.generic("POST", url, json.dumps(body), content_type=content_type)


def outcome(response: Any) -> OperationOutcome:
    """The answer, validated as an R4B OperationOutcome (raises if it is not one)."""
    assert response["Content-Type"].startswith(FHIR_JSON), response["Content-Type"]
    parsed = OperationOutcome.model_validate(response.json())
    assert parsed.issue, response.json()
    return parsed


def observation(response: Any) -> dict[str, Any]:
    """The answer, once validated as an R4B Observation."""
    assert response["Content-Type"].startswith(FHIR_JSON), response["Content-Type"]
    body: dict[str, Any] = response.json()
    Observation.model_validate(body)
    return body


def transaction_response(response: Any) -> dict[str, Any]:
    """The answer, once validated as an R4B transaction-response Bundle (each entry's
    resource as an Observation too)."""
    assert response["Content-Type"].startswith(FHIR_JSON), response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert Bundle.model_validate(body).type == "transaction-response"
    for entry in body["entry"]:
        Observation.model_validate(entry["resource"])
    return body


def diagnostics(parsed: OperationOutcome) -> str:
    return " ".join(issue.diagnostics or "" for issue in parsed.issue)


def expressions(parsed: OperationOutcome) -> list[str]:
    return [e for issue in parsed.issue for e in issue.expression or [] if e]


def imported() -> list[Assessment]:
    return list(Assessment.objects.exclude(source_account=None).order_by("id"))
