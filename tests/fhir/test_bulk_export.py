"""GET /fhir/$export end to end: kick-off, poll, download, as each kind of caller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from backend.audit.models import AccessEvent, Action, Resource
from backend.exercise.measures import Measure
from backend.fhir.bulk.models import ExportJob, ExportStatus
from tests.fhir.conftest import (
    assessment_of,
    job_of,
    kick_off,
    ndjson,
    operation_outcome,
    run_export,
)
from tests.published import published_tasks

SOME_DAY = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


@pytest.fixture
def _frozen():
    with time_machine.travel(SOME_DAY, tick=False):
        yield


def _manifest(client, response):
    status = client.get(response["Content-Location"])
    assert status.status_code == 200, status.content
    return status.json()


def _files(client, manifest):
    return {entry["type"]: ndjson(client.get(entry["url"])) for entry in manifest["output"]}


@pytest.mark.usefixtures("_frozen")
def test_an_org_admin_exports_every_patient_of_the_organisation(
    world, client_for, django_capture_on_commit_callbacks
):
    # given assessments of two patients of the organisation, and one of another organisation
    assessment_of(world.patient, by=world.physio, measure="CMAS", value="40")
    assessment_of(world.other_patient, by=world.other_team_physio, measure="EGFR", value="92.5")
    assessment_of(world.foreign_patient, by=world.other_org_physio)
    admin = client_for(world.org_admin)

    # when the admin kicks off an export
    with published_tasks() as published, django_capture_on_commit_callbacks(execute=True):
        response = kick_off(admin)

    # then it is accepted, its run published on the "bulk" queue, and it is queued
    assert response.status_code == 202, response.content
    assert response["Content-Location"].startswith("http://testserver/fhir/$export-status/")
    job = job_of(response)
    assert [(p.task, p.args, p.queue) for p in published] == [
        ("fhir.bulk_export", (job.pk,), "bulk")
    ]
    waiting = admin.get(response["Content-Location"])
    assert waiting.status_code == 202
    assert waiting["X-Progress"] == "queued: 0 of 0 patients"
    assert waiting["Retry-After"] == "5"

    # when a worker runs it (twice: a message given again is harmless)
    assert run_export(job.pk) == {
        "status": "completed",
        "patients": 2,
        "counts": {"Patient": 2, "Observation": 2},
    }
    assert run_export(job.pk)["status"] == "skipped"

    # then the manifest lists one file per type, and the files hold the organisation's data
    manifest = _manifest(admin, response)
    assert manifest["requiresAccessToken"] is True
    assert manifest["transactionTime"] == "2026-11-18T10:00:00Z"
    assert manifest["request"] == "http://testserver/fhir/$export"
    assert manifest["error"] == []
    assert [(entry["type"], entry["count"]) for entry in manifest["output"]] == [
        ("Patient", 2),
        ("Observation", 2),
    ]
    files = _files(admin, manifest)
    assert {p["id"] for p in files["Patient"]} == {
        str(world.patient.pk),
        str(world.other_patient.pk),
    }
    assert {o["subject"]["reference"] for o in files["Observation"]} == {
        f"Patient/{world.patient.pk}",
        f"Patient/{world.other_patient.pk}",
    }
    egfr = next(o for o in files["Observation"] if o["code"]["text"] == "eGFR")
    assert egfr["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "69405-9",  # eGFR whatever the equation (docs/fhir.md)
        "display": egfr["code"]["coding"][0]["display"],
    }
    assert egfr["valueQuantity"]["value"] == 92.5
    # and each exported patient's record has one export event, by the admin
    events = AccessEvent.objects.filter(action=Action.EXPORT, resource_type=Resource.PATIENT)
    assert sorted(events.values_list("patient_id", "actor_id")) == sorted(
        [(world.patient.pk, world.org_admin.pk), (world.other_patient.pk, world.org_admin.pk)]
    )


@pytest.mark.usefixtures("_frozen")
def test_a_file_is_newline_delimited_fhir_for_its_owner_only(world, client_for):
    response = kick_off(client_for(world.org_admin))
    run_export(job_of(response).pk)
    url = _manifest(client_for(world.org_admin), response)["output"][0]["url"]

    mine = client_for(world.org_admin).get(url)
    theirs = client_for(world.physio).get(url)

    assert mine.status_code == 200
    assert mine["Content-Type"] == "application/fhir+ndjson"
    assert len(ndjson(mine)) == 2
    assert theirs.status_code == 404
    assert operation_outcome(theirs)["issue"][0]["code"] == "not-found"


@pytest.mark.usefixtures("_frozen")
def test_a_clinician_exports_only_the_patients_of_their_care_teams(world, client_for):
    assessment_of(world.patient, by=world.physio)
    assessment_of(world.other_patient, by=world.other_team_physio)
    physio = client_for(world.physio)

    response = kick_off(physio)
    run_export(job_of(response).pk)

    files = _files(physio, _manifest(physio, response))
    assert [p["id"] for p in files["Patient"]] == [str(world.patient.pk)]
    assert [o["subject"]["reference"] for o in files["Observation"]] == [
        f"Patient/{world.patient.pk}"
    ]


@pytest.mark.parametrize(("role", "status"), [("patient", 403), ("caregiver", 403)])
def test_the_patient_side_may_not_bulk_export(world, client_for, role, status):
    user = world.patient.user if role == "patient" else world.caregiver

    response = kick_off(client_for(user))

    assert response.status_code == status
    assert operation_outcome(response)["issue"][0]["code"] == "forbidden"
    assert not ExportJob.objects.exists()


def test_an_anonymous_caller_must_sign_in(db, api_client):
    response = kick_off(api_client)

    assert response.status_code == 401
    assert operation_outcome(response)["issue"][0]["code"] == "login"


@pytest.mark.usefixtures("_frozen")
def test_type_names_the_resource_types_exported(world, client_for):
    assessment_of(world.patient, by=world.physio)
    physio = client_for(world.physio)

    response = kick_off(physio, "?_type=Observation")
    run_export(job_of(response).pk)

    manifest = _manifest(physio, response)
    assert [entry["type"] for entry in manifest["output"]] == ["Observation"]
    assert manifest["request"] == "http://testserver/fhir/$export?_type=Observation"


def test_since_leaves_out_what_did_not_change_after_it(world, client_for):
    with time_machine.travel(SOME_DAY - timedelta(days=10), tick=False):
        assessment_of(world.patient, by=world.physio, measure="CMAS", value="41")
        world.patient.save()  # the profile last changed then too
    with time_machine.travel(SOME_DAY, tick=False):
        assessment_of(world.patient, by=world.physio, measure="CMAS", value="44")
        physio = client_for(world.physio)
        response = kick_off(physio, "?_since=2026-11-17T00:00:00%2B01:00")
        run_export(job_of(response).pk)

        files = _files(physio, _manifest(physio, response))

    assert list(files) == ["Observation"]  # the patient did not change: no Patient file
    assert [o["valueQuantity"]["value"] for o in files["Observation"]] == [44]


@pytest.mark.parametrize(
    ("query", "headers", "expression"),
    [
        ("", {"HTTP_PREFER": ""}, None),
        ("", {"HTTP_PREFER": "respond-sync"}, None),
        ("", {"HTTP_ACCEPT": "application/json"}, None),
        ("?_type=Patient,Encounter", {}, "_type"),
        ("?_type=,", {}, "_type"),
        ("?_since=2026-11-01", {}, "_since"),
        ("?_since=2026-11-01T00:00:00", {}, "_since"),
        ("?_since=yesterday", {}, "_since"),
        ("?_since=0001-01-01T00:00:00%2B05:00", {}, "_since"),
        ("?_outputFormat=text/csv", {}, "_outputFormat"),
        ("?_typeFilter=Observation%3Fcode%3Dx", {}, "_typeFilter"),
        ("?patient=1", {}, "patient"),
    ],
)
def test_a_bad_kick_off_is_a_400_operation_outcome_and_starts_nothing(
    world, client_for, query, headers, expression
):
    response = kick_off(client_for(world.org_admin), query, **headers)

    assert response.status_code == 400, response.content
    issue = operation_outcome(response)["issue"][0]
    assert issue["severity"] == "error"
    assert issue["code"] == "invalid"
    assert issue["diagnostics"]
    assert issue.get("expression", [None]) == [expression]
    assert not ExportJob.objects.exists()


@pytest.mark.usefixtures("_frozen")
def test_a_second_kick_off_while_one_is_in_progress_is_429(world, client_for):
    admin = client_for(world.org_admin)
    first = kick_off(admin)

    second = kick_off(admin)

    assert second.status_code == 429
    assert second["Retry-After"] == "30"
    assert operation_outcome(second)["issue"][0]["code"] == "throttled"
    assert ExportJob.objects.count() == 1
    # and once the first is done, a new one may start
    run_export(job_of(first).pk)
    assert kick_off(admin).status_code == 202


def test_files_and_status_expire_after_the_retention(world, client_for, export_dir, settings):
    settings.FHIR_EXPORT_RETENTION_HOURS = 24
    with time_machine.travel(SOME_DAY, tick=False):
        admin = client_for(world.org_admin)
        response = kick_off(admin)
        job = job_of(response)
        run_export(job.pk)
        file_url = _manifest(admin, response)["output"][0]["url"]
        assert _manifest(admin, response)  # still there just before expiry
    with time_machine.travel(SOME_DAY + timedelta(hours=23, minutes=59), tick=False):
        assert client_for(world.org_admin).get(file_url).status_code == 200

    with time_machine.travel(SOME_DAY + timedelta(hours=24), tick=False):
        admin = client_for(world.org_admin)
        status = admin.get(response["Content-Location"])
        download = admin.get(file_url)

    assert status.status_code == 404
    assert operation_outcome(status)["issue"][0]["code"] == "not-found"
    assert download.status_code == 404
    assert (export_dir / str(job.pk)).is_dir()  # the purge removes it (test_bulk_purge.py)


@pytest.mark.usefixtures("_frozen")
def test_cancelling_a_completed_export_deletes_its_files(
    world, client_for, export_dir, django_capture_on_commit_callbacks
):
    admin = client_for(world.org_admin)
    response = kick_off(admin)
    job = job_of(response)
    run_export(job.pk)
    file_url = _manifest(admin, response)["output"][0]["url"]
    assert (export_dir / str(job.pk) / "Patient.ndjson").is_file()

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = admin.delete(response["Content-Location"])

    assert cancelled.status_code == 202
    assert admin.get(response["Content-Location"]).status_code == 404
    assert admin.get(file_url).status_code == 404
    assert not (export_dir / str(job.pk)).exists()
    # and a new export may start at once
    assert kick_off(admin).status_code == 202


@pytest.mark.usefixtures("_frozen")
def test_a_cancelled_queued_export_never_runs(world, client_for, export_dir):
    admin = client_for(world.org_admin)
    response = kick_off(admin)

    assert admin.delete(response["Content-Location"]).status_code == 202
    assert run_export(job_of(response).pk)["status"] == "skipped"

    assert not (export_dir / str(job_of(response).pk)).exists()
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.usefixtures("_frozen")
def test_someone_elses_export_is_not_found(world, client_for):
    response = kick_off(client_for(world.org_admin))
    url = response["Content-Location"]

    for user in (world.physio, world.nurse, world.other_org_physio):
        assert client_for(user).get(url).status_code == 404
        assert client_for(user).delete(url).status_code == 404
    assert client_for(world.org_admin).get(url).status_code == 202


@pytest.mark.usefixtures("_frozen")
def test_a_failed_export_answers_500_with_an_operation_outcome(
    world, client_for, export_dir, monkeypatch
):
    def broken(patient_ids):
        raise RuntimeError("a bug in a mapping")

    monkeypatch.setitem(
        __import__("backend.fhir.bulk.exporters", fromlist=["x"]).RESOURCE_EXPORTERS,
        "Observation",
        broken,
    )
    admin = client_for(world.org_admin)
    response = kick_off(admin)
    job = job_of(response)

    assert run_export(job.pk)["status"] == "failed"

    status = admin.get(response["Content-Location"])
    assert status.status_code == 500
    issue = operation_outcome(status)["issue"][0]
    assert (issue["severity"], issue["code"]) == ("fatal", "exception")
    assert "a bug" not in issue["diagnostics"]  # no internals in the answer
    assert not (export_dir / str(job.pk)).exists()


@pytest.mark.usefixtures("_frozen")
def test_every_measure_is_a_valid_r4b_observation(world, client_for):
    for measure in Measure:
        value = {"TUG": "8.5", "CHAQ": "0.375", "MMT8": "72"}.get(measure.value, "3")
        assessment_of(world.patient, by=world.physio, measure=measure.value, value=value)
    physio = client_for(world.physio)
    response = kick_off(physio, "?_type=Observation")
    run_export(job_of(response).pk)

    observations = _files(physio, _manifest(physio, response))["Observation"]

    local = {
        coding["code"]
        for o in observations
        for coding in o["code"]["coding"]
        if coding["system"] == "https://physiotrack.org/fhir/CodeSystem/outcome-measures"
    }
    assert {"CMAS", "MMT8", "CHAQ", "STS30", "TUG"} <= local
    assert len(observations) == len(Measure)


def test_the_status_url_names_the_job(world, client_for):
    response = kick_off(client_for(world.org_admin))

    job = job_of(response)
    assert response["Content-Location"] == "http://testserver" + reverse(
        "fhir-bulk-status", kwargs={"job_id": job.pk}
    )
    assert job.status == ExportStatus.QUEUED


@pytest.mark.parametrize("types", ["Patient", "Patient,Observation"])
@pytest.mark.usefixtures("_frozen")
def test_the_manifest_costs_the_same_whatever_its_files(
    world, client_for, django_assert_num_queries, types
):
    assessment_of(world.patient, by=world.physio)
    admin = client_for(world.org_admin)
    response = kick_off(admin, f"?_type={types}")
    run_export(job_of(response).pk)

    with django_assert_num_queries(3):  # the user, the job, its files
        manifest = admin.get(response["Content-Location"]).json()

    assert len(manifest["output"]) == len(types.split(","))
