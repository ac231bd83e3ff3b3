"""Every resource the export emits parses with fhir.resources' R4B models, and says what the
mapping (docs/fhir.md) promises."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.patient import Patient

from tests.fhir.export_record import NOW, TWO_YEARS, record_of, resources_of, valid_bundle


@pytest.fixture(autouse=True)
def _at_now() -> Iterator[None]:
    """Everything, the world of people included, is made and read at NOW (CI also runs the
    suite with the clock 400 days ahead)."""
    with time_machine.travel(NOW):
        yield


EVERY_TYPE = {
    "Patient",
    "CareTeam",
    "RelatedPerson",
    "CarePlan",
    "ServiceRequest",
    "Observation",
    "Provenance",
    "DetectedIssue",
    "Flag",
}
SEARCHED = ("Observation", "CarePlan", "ServiceRequest", "DetectedIssue", "Flag")


def _everything(world, client_for):
    with time_machine.travel(NOW):
        record = record_of(world, sessions=3)
        response = client_for(world.physio).get(f"/fhir/Patient/{world.patient.pk}/$everything")
    assert response.status_code == 200, response.content
    return record, response


def _codes(concept):
    return {(coding["system"], coding["code"]) for coding in concept["coding"]}


def test_everything_is_a_valid_bundle_of_every_resource_type(world, client_for):
    _, response = _everything(world, client_for)

    body = response.json()
    bundle = valid_bundle(body)
    assert response["Content-Type"] == "application/fhir+json"
    assert bundle.type == "searchset"
    assert {entry["resource"]["resourceType"] for entry in body["entry"]} == EVERY_TYPE
    assert body["total"] == len(body["entry"])
    # 2 revisions × 3 exercises; 3 self-reported logs and the supervised one, 3 assessments
    assert len(resources_of(body, "CarePlan")) == 2
    assert len(resources_of(body, "ServiceRequest")) == 6
    assert len(resources_of(body, "Observation")) == 4 + 3
    assert len(resources_of(body, "Provenance")) == 4


def test_each_programme_version_is_a_careplan_revision_replacing_the_one_before(world, client_for):
    record, response = _everything(world, client_for)

    first, second = sorted(resources_of(response.json(), "CarePlan"), key=lambda r: int(r["id"]))
    assert first["status"] == "revoked"  # superseded by version 2
    assert first["period"] == {
        "start": (NOW - TWO_YEARS).date().isoformat(),
        "end": NOW.date().isoformat(),
    }
    assert second["status"] == "active"
    assert second["replaces"] == [{"reference": f"CarePlan/{first['id']}"}]
    assert second["careTeam"] == [{"reference": f"CareTeam/{world.patient.pk}"}]
    assert second["author"]["reference"] == f"Practitioner/{world.physio.pk}"
    assert (
        "http://hl7.org/fhir/us/physical-activity/CodeSystem/pa-temporary-codes",
        "PhysicalActivity",
    ) in _codes(second["category"][0])
    version = record.programme.current_version
    assert [a["reference"]["reference"] for a in second["activity"]] == [
        f"ServiceRequest/{item.pk}" for item in version.items.order_by("position")
    ]


def test_each_prescribed_exercise_is_exercise_therapy_for_the_patient_with_its_dose(
    world, client_for
):
    _, response = _everything(world, client_for)

    squat = next(
        r
        for r in resources_of(response.json(), "ServiceRequest")
        if r["code"]["text"] == "Chair squat" and r["status"] == "active"
    )
    assert ("http://snomed.info/sct", "229065009") in _codes(squat["code"])
    assert squat["performer"] == [{"reference": f"Patient/{world.patient.pk}"}]
    assert squat["patientInstruction"].startswith("2 × 10, rest 60 s")
    dose = {part["url"]: part for part in squat["extension"][0]["extension"]}
    assert dose["sets"]["valueInteger"] == 2
    assert dose["reps"]["valueInteger"] == 10
    assert squat["occurrenceTiming"]["repeat"] == {
        "frequency": 2,
        "frequencyMax": 3,
        "period": 1,
        "periodUnit": "wk",
        "dayOfWeek": ["mon", "wed", "fri"],
    }


def test_a_session_is_an_exercise_activity_with_duration_pain_fatigue_and_effort(world, client_for):
    record, response = _everything(world, client_for)
    body = response.json()
    session = record.supervised

    observation = next(
        r for r in resources_of(body, "Observation") if r["id"] == f"session-{session.pk}"
    )
    assert ("http://loinc.org", "73985-4") in _codes(observation["code"])
    assert observation["effectivePeriod"] == {
        "start": session.started_at.isoformat(),
        "end": session.ended_at.isoformat(),
    }
    components = {
        code: component
        for component in observation["component"]
        for code in (c["code"] for c in component["code"]["coding"])
    }
    assert components["55411-3"]["valueQuantity"]["value"] == 40  # minutes
    assert components["pain-before"]["valueInteger"] == 2
    assert components["pain-after"]["valueInteger"] == 3
    assert ("http://loinc.org", "72514-3") in _codes(components["pain-after"]["code"])
    assert components["fatigue"]["valueInteger"] == 4
    assert components["effort-borg-rpe-6-20"]["valueQuantity"]["value"] == 11
    based_on = {ref["reference"] for ref in observation["basedOn"]}
    assert {f"ServiceRequest/{r.item_id}" for r in session.results.all()} <= based_on
    # Supervised: the clinician who recorded it performed it with the patient.
    assert observation["performer"][1]["reference"] == f"Practitioner/{world.physio.pk}"
    provenance = {r["id"]: r for r in resources_of(body, "Provenance")}
    assert provenance[f"session-{session.pk}"]["reason"][0]["coding"][0]["code"] == "supervised"
    self_reported = provenance[f"session-{record.sessions[0].pk}"]
    assert self_reported["reason"][0]["coding"][0]["code"] == "self-reported"
    assert self_reported["agent"][0]["who"] == {"reference": f"Patient/{world.patient.pk}"}


def test_assessments_use_loinc_where_it_exists_and_the_local_code_system_otherwise(
    world, client_for
):
    record, response = _everything(world, client_for)

    by_id = {r["id"]: r for r in resources_of(response.json(), "Observation")}
    egfr = by_id[f"assessment-{record.assessments['EGFR'].pk}"]
    cmas = by_id[f"assessment-{record.assessments['CMAS'].pk}"]
    assert ("http://loinc.org", "69405-9") in _codes(egfr["code"])
    assert egfr["category"][0]["coding"][0]["code"] == "laboratory"
    assert egfr["valueQuantity"]["value"] == 95
    assert _codes(cmas["code"]) == {
        ("https://physiotrack.org/fhir/CodeSystem/outcome-measures", "CMAS")
    }


def test_an_alert_is_a_detected_issue_with_its_evidence_and_an_active_flag(world, client_for):
    record, response = _everything(world, client_for)
    body = response.json()

    (issue,) = resources_of(body, "DetectedIssue")
    assert issue["severity"] == "high"  # urgent
    assert issue["detail"] == "Pain after sessions rose above the 14-day median."
    assert issue["evidence"] == [
        {"detail": [{"reference": f"Observation/session-{record.sessions[-1].pk}"}]}
    ]
    assert issue["mitigation"][0]["action"]["coding"][0]["code"] == "acknowledged"
    assert issue["mitigation"][0]["author"]["reference"] == f"Practitioner/{world.physio.pk}"
    (flag,) = resources_of(body, "Flag")
    assert flag["status"] == "active"
    # every Observation the evidence names is in the Bundle
    ids = {f"Observation/{r['id']}" for r in resources_of(body, "Observation")}
    assert {ref["reference"] for ref in issue["evidence"][0]["detail"]} <= ids


def test_the_care_team_and_the_caregiver(world, client_for):
    _, response = _everything(world, client_for)
    body = response.json()

    (team,) = resources_of(body, "CareTeam")
    members = {p["member"]["reference"] for p in team["participant"]}
    assert members == {f"Practitioner/{world.physio.pk}", f"Practitioner/{world.nurse.pk}"}
    (caregiver,) = resources_of(body, "RelatedPerson")
    assert caregiver["patient"] == {"reference": f"Patient/{world.patient.pk}"}
    assert caregiver["relationship"][0]["coding"][0]["code"] == "PRN"


def test_patient_read_and_every_search_answer_valid_fhir(world, client_for):
    with time_machine.travel(NOW):
        record_of(world, sessions=2)
        client = client_for(world.physio)
        patient = client.get(f"/fhir/Patient/{world.patient.pk}")
        searches = {
            name: client.get(f"/fhir/{name}", {"patient": world.patient.pk}) for name in SEARCHED
        }

    assert patient.status_code == 200
    assert Patient.model_validate(patient.json()).birthDate == world.patient.date_of_birth
    for name, response in searches.items():
        assert response.status_code == 200, (name, response.content)
        body = response.json()
        valid_bundle(body)
        assert body["entry"], name
        assert {e["resource"]["resourceType"] for e in body["entry"]} == {name}


def test_metadata_is_a_capability_statement_of_exactly_what_is_served(api_client):
    response = api_client.get("/fhir/metadata")

    body = response.json()
    CapabilityStatement.model_validate(body)
    assert response.status_code == 200
    served = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert served["Patient"]["interaction"] == [{"code": "read"}]
    assert served["Patient"]["operation"][0]["name"] == "everything"
    assert body["rest"][0]["interaction"] == [{"code": "transaction"}]  # POST /fhir/Bundle
    for name in SEARCHED:
        written = [{"code": "create"}] if name == "Observation" else []  # lab results import
        assert served[name]["interaction"] == [{"code": "search-type"}, *written]
        assert {p["name"] for p in served[name]["searchParam"]} == {"patient", "date", "_count"}
