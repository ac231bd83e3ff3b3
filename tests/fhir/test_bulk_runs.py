"""The export's run and its housekeeping: bounded queries per page, the audit trail once per
patient whatever retried, the purge of expired jobs, and a real worker on the bulk queue."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from backend.audit.models import AccessEvent, Action
from backend.fhir.bulk import exporters, services
from backend.fhir.bulk.exporters import observation_resources, patient_resources
from backend.fhir.bulk.models import ExportJob, ExportStatus
from backend.fhir.bulk.tasks import bulk_purge_expired
from tests.factories import CareTeamMembershipFactory, PatientProfileFactory
from tests.fhir.conftest import assessment_of, job_of, kick_off, run_export
from tests.published import published_tasks
from tests.worker import celery_worker

SOME_DAY = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def _patients_with_history(world, count: int, assessments_each: int) -> list[int]:
    patients = [world.patient]
    for _ in range(count - 1):
        patient = PatientProfileFactory.create(user__organisation=world.org)
        CareTeamMembershipFactory.create(patient=patient, member=world.physio)
        patients.append(patient)
    for patient in patients:
        for n in range(assessments_each):
            assessment_of(patient, by=world.physio, measure="CMAS", value=str(30 + n))
    return sorted(p.pk for p in patients)


@pytest.mark.parametrize(("patients", "history"), [(1, 1), (4, 6)])
def test_a_page_runs_a_fixed_number_of_queries_whatever_its_history(
    world, django_assert_num_queries, patients, history
):
    ids = _patients_with_history(world, patients, history)

    with django_assert_num_queries(1):
        assert len(list(patient_resources(ids))) == patients
    # the patients' accounts, their logs, their assessments (the logs' results only when
    # there are logs: Django skips an empty prefetch)
    with django_assert_num_queries(3):
        assert len(list(observation_resources(ids))) == patients * history


def _queries_of_a_run(world, client_for) -> int:
    with time_machine.travel(SOME_DAY, tick=False):
        job = job_of(kick_off(client_for(world.physio)))
        with CaptureQueriesContext(connection) as queries:
            assert run_export(job.pk)["status"] == "completed"
    return len(queries)


@pytest.mark.django_db
def test_a_run_of_one_page_costs_the_same_for_one_patient_as_for_many(client_for):
    from tests.conftest import World

    small, large = World(), World()
    _patients_with_history(small, 1, 1)
    _patients_with_history(large, 5, 8)

    assert _queries_of_a_run(small, client_for) == _queries_of_a_run(large, client_for)


def test_each_page_adds_a_fixed_number_of_queries(world, client_for, monkeypatch):
    _patients_with_history(world, 4, 2)
    monkeypatch.setattr(services, "PAGE_SIZE", 4)
    one_page = _queries_of_a_run(world, client_for)
    ExportJob.objects.all().delete()
    monkeypatch.setattr(services, "PAGE_SIZE", 1)

    four_pages = _queries_of_a_run(world, client_for)

    # a page: its ids, Patient (1), Observation (3), and its transaction (savepoint,
    # progress, audit events, release)
    assert four_pages - one_page == 3 * 9


def test_a_retried_run_rewrites_the_files_but_records_each_patient_once(
    world, client_for, monkeypatch, export_dir
):
    # given pages of one patient, and a database error on the second page's observations
    assessment_of(world.patient, by=world.physio)
    assessment_of(world.other_patient, by=world.other_team_physio)
    monkeypatch.setattr(services, "PAGE_SIZE", 1)
    calls = {"observations": 0}

    def flaky(patient_ids):
        calls["observations"] += 1
        if calls["observations"] == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return observation_resources(patient_ids)

    monkeypatch.setitem(exporters.RESOURCE_EXPORTERS, "Observation", flaky)

    with time_machine.travel(SOME_DAY, tick=False):
        job = job_of(kick_off(client_for(world.org_admin)))
        # when the task runs (eagerly, its retry runs at once)
        result = run_export(job.pk)

    # then the retry completed the export from scratch
    job.refresh_from_db()
    assert result["status"] == "completed"
    assert (job.status, job.attempt) == (ExportStatus.COMPLETED, 2)
    lines = (export_dir / str(job.pk) / "Observation.ndjson").read_text().splitlines()
    assert len(lines) == 2
    # and each patient was recorded once, although the first page was written twice
    exported = AccessEvent.objects.filter(action=Action.EXPORT)
    assert sorted(exported.values_list("patient_id", flat=True)) == sorted(
        [world.patient.pk, world.other_patient.pk]
    )


def test_a_job_that_keeps_failing_gives_up(world, client_for, monkeypatch):
    with time_machine.travel(SOME_DAY, tick=False):
        job = job_of(kick_off(client_for(world.org_admin)))
    ExportJob.objects.filter(pk=job.pk).update(attempt=services.MAX_ATTEMPTS)

    assert run_export(job.pk)["status"] == "skipped"

    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "Gave up" in job.error


def test_the_purge_deletes_expired_jobs_with_their_files(
    world, client_for, export_dir, django_capture_on_commit_callbacks
):
    with time_machine.travel(SOME_DAY, tick=False):
        old = job_of(kick_off(client_for(world.org_admin)))
        run_export(old.pk)
    with time_machine.travel(SOME_DAY + timedelta(hours=12), tick=False):
        recent = job_of(kick_off(client_for(world.physio)))
        run_export(recent.pk)

    with time_machine.travel(SOME_DAY + timedelta(hours=24, seconds=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            first = bulk_purge_expired()
        second = bulk_purge_expired()

    assert (first["purged"], second["purged"]) == (1, 0)
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not (export_dir / str(old.pk)).exists()
    assert (export_dir / str(recent.pk) / "Patient.ndjson").is_file()


def test_the_purge_fails_a_run_whose_worker_died_and_redrives_a_lost_one(world, client_for):
    with time_machine.travel(SOME_DAY, tick=False):
        died = job_of(kick_off(client_for(world.org_admin)))
        lost = job_of(kick_off(client_for(world.physio)))
    ExportJob.objects.filter(pk=died.pk).update(
        status=ExportStatus.RUNNING, heartbeat_at=SOME_DAY, attempt=1
    )

    with time_machine.travel(SOME_DAY + timedelta(minutes=11), tick=False):
        with published_tasks() as published:
            result = bulk_purge_expired()
        status = client_for(world.org_admin).get(f"/fhir/$export-status/{died.pk}")

    assert result == {"purged": 0, "stalled": 1, "redriven": 1}
    assert [(p.task, p.args, p.queue) for p in published] == [
        ("fhir.bulk_export", (lost.pk,), "bulk")
    ]
    assert status.status_code == 500


def test_the_purge_leaves_a_live_run_alone(world, client_for):
    with time_machine.travel(SOME_DAY, tick=False):
        job = job_of(kick_off(client_for(world.org_admin)))
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, heartbeat_at=SOME_DAY + timedelta(minutes=2), attempt=1
    )

    with time_machine.travel(SOME_DAY + timedelta(minutes=11), tick=False):
        assert bulk_purge_expired()["stalled"] == 0

    assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.RUNNING


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_export_from_the_bulk_queue(client_for, export_dir):
    from tests.conftest import World

    world = World()
    assessment_of(world.patient, by=world.physio)
    admin = client_for(world.org_admin)

    with celery_worker(FHIR_EXPORT_DIR=str(export_dir)):
        response = kick_off(admin)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = admin.get(response["Content-Location"])
            if status.status_code != 202:
                break
            time.sleep(0.3)

    assert status.status_code == 200, status.content
    assert {e["type"]: e["count"] for e in status.json()["output"]} == {
        "Patient": 2,
        "Observation": 1,
    }
