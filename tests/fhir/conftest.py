"""Fixtures of the FHIR tests: export files in the test's own directory, and helpers to
kick off, run and read a bulk export as a client does."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from rest_framework.test import APIClient

from backend.accounts.models import PatientProfile, User
from backend.exercise.measures import MEASURES
from backend.exercise.models import Assessment
from backend.fhir.bulk.models import ExportJob
from backend.fhir.bulk.tasks import bulk_export

ASYNC = {"HTTP_ACCEPT": "application/fhir+json", "HTTP_PREFER": "respond-async"}


@pytest.fixture(autouse=True)
def export_dir(settings: Any, tmp_path: Path) -> Path:
    settings.FHIR_EXPORT_DIR = tmp_path / "fhir-exports"
    return Path(settings.FHIR_EXPORT_DIR)


def assessment_of(
    patient: PatientProfile, *, by: User, measure: str = "STS30", value: str = "12", **extra: Any
) -> Assessment:
    return Assessment.objects.create(
        patient=patient,
        measure=measure,
        value=Decimal(value),
        unit=MEASURES[measure].unit,
        setting=extra.pop("setting", "clinic"),
        measured_at=extra.pop("measured_at", timezone.now() - timedelta(days=1)),
        measured_by=by,
        **extra,
    )


def kick_off(client: APIClient, query: str = "", **headers: str) -> Any:
    extra: dict[str, Any] = {**ASYNC, **headers}  # WSGI names: HTTP_PREFER etc.
    return client.get(f"/fhir/$export{query}", **extra)


def run_export(job_id: int) -> dict[str, Any]:
    """The task, run here as a worker would run it."""
    result: dict[str, Any] = bulk_export.apply(args=(job_id,)).get()
    return result


def job_of(response: Any) -> ExportJob:
    return ExportJob.objects.get(pk=int(response["Content-Location"].rstrip("/").split("/")[-1]))


def ndjson(response: Any) -> list[dict[str, Any]]:
    """Every line of a downloaded file, each validated against its FHIR R4B model."""
    body = b"".join(response.streaming_content).decode()
    assert body.endswith("\n")
    lines = [json.loads(line) for line in body.splitlines()]
    for line in lines:
        get_fhir_model_class(line["resourceType"]).model_validate(line)
    return lines


def operation_outcome(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/fhir+json"), response["Content-Type"]
    body: dict[str, Any] = response.json()
    get_fhir_model_class("OperationOutcome").model_validate(body)
    return body


@pytest.fixture
def download(client_for: Callable[[User], APIClient]) -> Callable[[User, str], Any]:
    def get(user: User, url: str) -> Any:
        return client_for(user).get(url)

    return get
