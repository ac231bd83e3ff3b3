"""Round trip (issue #14): a patient's `$everything`, posted to a fresh PhysioTrack
organisation's `/fhir/Bundle` as a transaction of what it can import (the assessments' lab
results and outcome measures; session logs, plans and alerts are not importable), yields the
same assessments there — what PhysioTrack writes, it reads back."""

from __future__ import annotations

from typing import Any

import time_machine
from rest_framework.test import APIClient

from backend.accounts.service_accounts import service_account_create
from backend.exercise.models import Assessment
from backend.fhir.imports.codes import CODES
from tests.conftest import World
from tests.factories import (
    ClinicianFactory,
    OrganisationFactory,
    PatientProfileFactory,
)
from tests.fhir.export_record import NOW, record_of, valid_bundle
from tests.fhir.importing import BUNDLE_URL, post, transaction_response

COMPARED = ("measure", "value", "unit", "setting", "measured_at", "max_score", "upper_limit")


def _importable(resource: dict[str, Any]) -> bool:
    codings = resource.get("code", {}).get("coding", [])
    return resource["resourceType"] == "Observation" and any(
        (c["system"], c["code"]) in CODES for c in codings
    )


def transaction_for(everything: dict[str, Any], *, patient_id: int) -> dict[str, Any]:
    """The importable Observations of a `$everything` Bundle, about `patient_id` (the same
    person, enrolled at the receiving organisation), as a transaction."""
    entries = []
    for entry in everything["entry"]:
        resource = dict(entry["resource"])
        if not _importable(resource):
            continue
        resource.pop("id")  # the receiving server names its own records
        resource["subject"] = {"reference": f"Patient/{patient_id}"}
        entries.append({"resource": resource, "request": {"method": "POST", "url": "Observation"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _assessments(patient_id: int) -> list[tuple[Any, ...]]:
    rows = Assessment.objects.filter(patient_id=patient_id).order_by("measure", "measured_at")
    return [tuple(getattr(a, field) for field in COMPARED) for a in rows]


def test_everything_posted_to_a_fresh_organisation_yields_the_same_assessments(
    world: World, client_for: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        # given a patient's record here, read out as FHIR by their physiotherapist
        record_of(world, sessions=3)
        everything = client_for(world.physio).get(f"/fhir/Patient/{world.patient.pk}/$everything")
        assert everything.status_code == 200
        valid_bundle(everything.json())
        # and the same person enrolled at another organisation, whose lab system imports
        clinic = OrganisationFactory.create()
        admin = ClinicianFactory.create(organisation=clinic, role="org_admin", is_staff=True)
        there = PatientProfileFactory.create(user__organisation=clinic)
        lab = service_account_create(organisation=clinic, name="Transfer", by=admin)
        importer = APIClient()
        importer.credentials(HTTP_AUTHORIZATION=f"Bearer {lab.key}")

        # when the importable part is posted there as one transaction
        body = transaction_for(everything.json(), patient_id=there.pk)
        response = post(importer, BUNDLE_URL, body)

        # then every assessment arrived, as it was, and a resend changes nothing
        assert response.status_code == 200, response.content
        assert len(transaction_response(response)["entry"]) == len(body["entry"]) == 3
        assert _assessments(there.pk) == _assessments(world.patient.pk)
        assert post(importer, BUNDLE_URL, body).status_code == 200
        assert Assessment.objects.filter(patient=there).count() == 3
