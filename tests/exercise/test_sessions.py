"""Session logs through the API: logging, offline replays and sync, validation, the 24-hour
edit window, and who sees which logs (issue 3, "Session logs")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from backend.exercise.codes import SAFETY_MESSAGES, SymptomTier
from backend.exercise.models import Programme, SessionLog, SessionLogRevision
from backend.exercise.services.programmes import (
    programme_complete,
    programme_create,
    programme_revise,
)
from tests.concurrency import all_at_once
from tests.exercise.conftest import PROGRAMME_START, content, session_body
from tests.factories import CareTeamMembershipFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"
SYNC = "/api/v1/sessions/sync/"


def detail(session_id: int) -> str:
    return f"{SESSIONS}{session_id}/"


def log(client, body: dict[str, Any]):
    return client.post(SESSIONS, body, format="json")


def listed(client, **query: Any) -> list[dict[str, Any]]:
    response = client.get(SESSIONS, query)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def prescribe(library, patient, by) -> Programme:
    return programme_create(
        by=by, patient=patient, content=content(library), activate=True
    ).programme


@pytest.fixture
def other_programme(world, library) -> Programme:
    """The other patient's own active programme, prescribed by their own physio."""
    return prescribe(library, world.other_patient, world.other_team_physio)


# --- Logging ----------------------------------------------------------------------------------


def test_patient_logs_a_session_and_gets_it_back(world, programme, client_for):
    # given
    body = session_body(programme, symptoms=["joint_stiffness"], pain_after=4)
    items = list(programme.current_version.items.order_by("position"))

    # when
    response = log(client_for(world.patient.user), body)

    # then
    assert response.status_code == 201, response.json()
    stored = response.json()
    assert stored["client_id"] == body["client_id"]
    assert stored["patient"] == world.patient.pk
    assert stored["version"] == programme.current_version.pk
    assert stored["version_number"] == 1
    assert stored["supervised"] is False
    assert stored["recorded_by"] == world.patient.user.pk
    assert stored["programme_status_at_log"] == "active"
    assert stored["pain_after"] == 4
    assert stored["symptoms"] == ["joint_stiffness"]
    assert [r["item"] for r in stored["results"]] == [item.pk for item in items]
    assert [r["position"] for r in stored["results"]] == [1, 2, 3]
    assert stored["results"][0]["sets_done"] == 2
    assert stored["results"][0]["reps_done"] == 10
    assert stored["results"][2]["duration_minutes_done"] == 10
    assert stored["deleted_at"] is None


def test_caregiver_logs_for_the_patient_they_name(world, programme, client_for):
    # given
    body = session_body(programme, patient=world.patient.pk)

    # when
    response = log(client_for(world.caregiver), body)

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["patient"] == world.patient.pk
    assert response.json()["recorded_by"] == world.caregiver.pk
    assert response.json()["supervised"] is False


def test_caregiver_must_say_which_patient(world, programme, client_for):
    # when
    response = log(client_for(world.caregiver), session_body(programme))

    # then
    assert response.status_code == 400
    assert "patient" in response.json()["errors"]
    assert SessionLog.objects.count() == 0


def test_physio_on_the_care_team_records_a_supervised_session(world, programme, client_for):
    # when
    response = log(client_for(world.physio), session_body(programme, patient=world.patient.pk))

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["supervised"] is True
    assert response.json()["recorded_by"] == world.physio.pk


def test_a_log_for_a_paused_programme_is_kept_and_marked(world, programme, client_for):
    # given
    from backend.exercise.services.programmes import programme_pause

    programme_pause(programme=programme, by=world.physio, reason="flare")

    # when
    response = log(client_for(world.patient.user), session_body(programme))

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["programme_status_at_log"] == "paused"


def test_a_log_for_a_completed_programme_is_kept_and_marked(world, programme, client_for):
    # given
    programme_complete(programme=programme, by=world.physio)

    # when
    response = log(client_for(world.patient.user), session_body(programme))

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["programme_status_at_log"] == "completed"


def test_a_physio_of_another_team_cannot_log_for_the_patient(world, programme, client_for):
    # when
    response = log(
        client_for(world.other_team_physio), session_body(programme, patient=world.patient.pk)
    )

    # then
    assert response.status_code == 404
    assert SessionLog.objects.count() == 0


def test_a_log_keeps_pointing_at_the_version_done_after_the_programme_changes(
    world, library, programme, client_for
):
    # given a log of version 1, and a phone still offline with another log of version 1
    patient = client_for(world.patient.user)
    done = log(patient, session_body(programme)).json()
    offline = session_body(programme)
    programme_revise(
        programme=programme, by=world.physio, content=content(library), reason="Progress"
    )
    programme.refresh_from_db()
    assert programme.current_version.number == 2

    # when
    late = log(patient, offline)
    again = patient.get(detail(done["id"]))

    # then
    assert again.json()["version_number"] == 1
    assert again.json()["version"] == done["version"]
    assert late.status_code == 201, late.json()
    assert late.json()["version_number"] == 1


@pytest.mark.parametrize(
    ("symptoms", "expected"),
    [
        (["chest_pain"], "emergency services"),
        (["rash_flare", "chest_pain"], "emergency services"),
        (["rash_flare"], "next review"),
    ],
)
def test_reported_symptoms_come_back_with_what_to_do(
    world, programme, client_for, symptoms, expected
):
    # when
    response = log(client_for(world.patient.user), session_body(programme, symptoms=symptoms))

    # then
    assert response.status_code == 201, response.json()
    assert expected in response.json()["safety_message"]


def test_a_routine_symptom_does_not_send_anyone_to_emergency(world, programme, client_for):
    # when
    response = log(client_for(world.patient.user), session_body(programme, symptoms=["rash_flare"]))

    # then
    assert "emergency" not in response.json()["safety_message"].lower()


def test_no_symptoms_no_safety_message(world, programme, client_for):
    # when
    response = log(client_for(world.patient.user), session_body(programme, symptoms=[]))

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["safety_message"] is None


# --- Idempotency ------------------------------------------------------------------------------


def test_a_retried_upload_returns_the_stored_log_and_creates_nothing(world, programme, client_for):
    # given
    patient = client_for(world.patient.user)
    body = session_body(programme)
    first = log(patient, body)

    # when
    again = log(patient, body)

    # then
    assert first.status_code == 201, first.json()
    assert again.status_code == 200, again.json()
    assert again.json() == first.json()
    assert len(listed(patient)) == 1


def test_a_retry_with_changed_content_still_returns_what_was_stored(world, programme, client_for):
    # given
    patient = client_for(world.patient.user)
    body = session_body(programme, pain_after=3)
    first = log(patient, body)

    # when
    again = log(patient, {**body, "pain_after": 8})

    # then: the log is as first stored; the higher pain of the retry is a symptom report
    assert again.status_code == 200, again.json()
    unchanged = {
        k: v for k, v in again.json().items() if k not in {"symptom_report", "safety_message"}
    }
    assert unchanged == {
        k: v for k, v in first.json().items() if k not in {"symptom_report", "safety_message"}
    }
    assert again.json()["pain_after"] == 3
    assert again.json()["symptom_report"] is not None
    assert again.json()["safety_message"] == SAFETY_MESSAGES[SymptomTier.SAME_DAY]


def test_a_retry_naming_a_version_not_the_patients_still_returns_what_was_stored(
    world, programme, client_for
):
    # given a stored log
    patient = client_for(world.patient.user)
    body = session_body(programme)
    first = log(patient, body)

    # when its retry names a version that is not the patient's (a phone that lost its copy)
    again = log(patient, {**body, "version": programme.current_version.pk + 1000})

    # then the client_id decides: the stored log comes back, not a refusal
    assert again.status_code == 200, again.json()
    assert again.json() == first.json()


def test_one_client_id_used_by_two_patients_makes_two_logs(
    world, programme, other_programme, client_for
):
    # given
    shared_id = str(uuid.uuid4())
    log(client_for(world.patient.user), session_body(programme, client_id=shared_id))

    # when
    response = log(
        client_for(world.other_patient.user), session_body(other_programme, client_id=shared_id)
    )

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["patient"] == world.other_patient.pk
    assert SessionLog.objects.filter(client_id=shared_id).count() == 2


# --- Sync -------------------------------------------------------------------------------------


def test_sync_answers_each_log_and_keeps_every_valid_one(world, programme, client_for):
    # given
    patient = client_for(world.patient.user)
    stored = log(patient, session_body(programme)).json()
    now = timezone.now()
    valid = [session_body(programme, started_at=now - timedelta(days=d)) for d in (1, 2, 3)]
    invalid = session_body(programme, pain_after=11)
    duplicate = session_body(programme, client_id=stored["client_id"])
    twice = session_body(programme, started_at=now - timedelta(days=4))
    batch = [valid[0], invalid, valid[1], duplicate, valid[2], twice, twice]

    # when
    response = patient.post(SYNC, {"logs": batch}, format="json")

    # then
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert [r["status"] for r in answer["results"]] == [
        "created", "invalid", "created", "duplicate", "created", "created", "duplicate",
    ]  # fmt: skip
    assert [r["index"] for r in answer["results"]] == list(range(7))
    assert [r["client_id"] for r in answer["results"]] == [b["client_id"] for b in batch]
    assert (answer["created"], answer["duplicates"], answer["invalid"]) == (4, 2, 1)
    assert "pain_after" in answer["results"][1]["errors"]
    assert answer["results"][3]["session"] == stored
    assert answer["results"][6]["session"] == answer["results"][5]["session"]
    kept = {s["client_id"] for s in listed(patient)}
    assert kept == {stored["client_id"], twice["client_id"]} | {b["client_id"] for b in valid}
    assert invalid["client_id"] not in kept


def test_sync_reports_a_version_of_another_patient_as_invalid_and_stores_the_rest(
    world, programme, other_programme, client_for
):
    # given
    patient = client_for(world.patient.user)
    foreign = session_body(other_programme)
    good = session_body(programme)

    # when
    response = patient.post(SYNC, {"logs": [foreign, good]}, format="json")

    # then
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["invalid", "created"]
    assert "version" in results[0]["errors"]
    assert [s["client_id"] for s in listed(patient)] == [good["client_id"]]


def test_caregiver_sync_answers_a_log_without_a_patient_as_invalid(world, programme, client_for):
    # given
    named = session_body(programme, patient=world.patient.pk)
    unnamed = session_body(programme)

    # when
    response = client_for(world.caregiver).post(SYNC, {"logs": [unnamed, named]}, format="json")

    # then
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["invalid", "created"]
    assert "patient" in results[0]["errors"]


def test_a_malformed_item_does_not_block_the_rest_of_the_batch(world, programme, client_for):
    # given a phone queue with one corrupted entry
    patient = client_for(world.patient.user)
    good = session_body(programme)

    # when
    response = patient.post(SYNC, {"logs": [good, None]}, format="json")

    # then
    assert response.status_code == 200, response.json()
    assert [r["status"] for r in response.json()["results"]] == ["created", "invalid"]
    assert [s["client_id"] for s in listed(patient)] == [good["client_id"]]


def test_sync_refuses_more_than_100_logs(world, programme, client_for):
    # given
    batch = [session_body(programme) for _ in range(101)]

    # when
    response = client_for(world.patient.user).post(SYNC, {"logs": batch}, format="json")

    # then
    assert response.status_code == 400
    assert "logs" in response.json()["errors"]
    assert SessionLog.objects.count() == 0


def test_sync_accepts_exactly_100_logs(world, programme, client_for):
    # given
    batch = [session_body(programme) for _ in range(100)]

    # when
    response = client_for(world.patient.user).post(SYNC, {"logs": batch}, format="json")

    # then
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 100


def test_sync_refuses_an_empty_batch(world, client_for):
    # when
    response = client_for(world.patient.user).post(SYNC, {"logs": []}, format="json")

    # then
    assert response.status_code == 400
    assert "logs" in response.json()["errors"]


# --- Validation -------------------------------------------------------------------------------


def _drop(name: str):
    def edit(body: dict[str, Any], **_: Any) -> None:
        body.pop(name)

    return edit


def _set(**values: Any):
    def edit(body: dict[str, Any], **_: Any) -> None:
        body.update(values)

    return edit


def _times(started: timedelta, ended: timedelta):
    def edit(body: dict[str, Any], **_: Any) -> None:
        now = timezone.now()
        body["started_at"] = (now + started).isoformat()
        body["ended_at"] = (now + ended).isoformat()

    return edit


def _foreign_version(body: dict[str, Any], *, other: Programme, **_: Any) -> None:
    assert other.current_version is not None
    body["version"] = other.current_version.pk


def _foreign_item(body: dict[str, Any], *, other: Programme, **_: Any) -> None:
    assert other.current_version is not None
    body["results"][0]["item"] = other.current_version.items.earliest("position").pk


def _item_twice(body: dict[str, Any], **_: Any) -> None:
    body["results"][1]["item"] = body["results"][0]["item"]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        pytest.param(_times(timedelta(minutes=16), timedelta(minutes=17)), "started_at",
                     id="started-16-min-in-future"),
        pytest.param(_times(-timedelta(minutes=30), timedelta(minutes=16)), "ended_at",
                     id="ended-16-min-in-future"),
        pytest.param(_set(started_at="2026-11-20T10:00:00", ended_at="2026-11-20T10:40:00"),
                     "started_at", id="no-timezone-offset"),
        pytest.param(_times(-timedelta(minutes=30), -timedelta(minutes=40)), "ended_at",
                     id="ended-before-started"),
        pytest.param(_set(started_at="2026-09-30T10:00:00+00:00",
                          ended_at="2026-09-30T10:40:00+00:00"),
                     "started_at", id="before-programme-start"),
        pytest.param(_foreign_version, "version", id="version-of-another-patient"),
        pytest.param(_set(version=99_999), "version", id="unknown-version"),
        pytest.param(_foreign_item, "results", id="item-not-in-version"),
        pytest.param(_item_twice, "results", id="same-item-twice"),
        pytest.param(_set(pain_before=11), "pain_before", id="pain-11"),
        pytest.param(_set(pain_after=-1), "pain_after", id="pain-negative"),
        pytest.param(_set(fatigue=-1), "fatigue", id="fatigue-negative"),
        pytest.param(_set(effort_value=25), "effort_value", id="rpe-25"),
        pytest.param(_set(effort_value=5), "effort_value", id="rpe-5-below-scale"),
        pytest.param(_set(effort_scale="cr10", effort_value=11), "effort_value", id="cr10-11"),
        pytest.param(_drop("effort_scale"), "effort_value", id="effort-without-scale"),
        pytest.param(_set(completion="most"), "completion", id="unknown-completion"),
        pytest.param(_set(symptoms=["headache"]), "symptoms", id="unknown-symptom"),
        pytest.param(_set(mood="great"), "mood", id="unknown-field"),
        pytest.param(_set(pain_after="a lot"), "pain_after", id="string-for-number"),
        pytest.param(_set(version="latest"), "version", id="string-for-version"),
        pytest.param(_set(client_id="not-a-uuid"), "client_id", id="client-id-not-uuid"),
        pytest.param(_drop("started_at"), "started_at", id="started-missing"),
    ],
)  # fmt: skip
def test_an_invalid_log_is_refused_with_the_field_named(
    world, programme, other_programme, client_for, edit, field
):
    # given
    body = session_body(programme)
    edit(body, other=other_programme)

    # when
    response = log(client_for(world.patient.user), body)

    # then
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "invalid"
    assert field in error["errors"]
    assert error["request_id"]
    assert SessionLog.objects.count() == 0


@pytest.mark.parametrize(
    "results",
    [
        pytest.param([{"item": "squat"}], id="item-not-a-number"),
        pytest.param([{"item": 10**20}], id="item-huge"),
        pytest.param("all done", id="results-not-a-list"),
        pytest.param([{"sets_done": 2}], id="item-missing"),
    ],
)
def test_malformed_results_are_a_400(world, programme, client_for, results):
    # when
    response = log(client_for(world.patient.user), session_body(programme, results=results))

    # then
    assert response.status_code == 400, response.content
    assert "results" in response.json()["errors"]


def test_a_huge_version_number_is_a_400(world, programme, client_for):
    # when
    response = log(client_for(world.patient.user), session_body(programme, version=10**20))

    # then
    assert response.status_code == 400, response.content
    assert "version" in response.json()["errors"]


def test_a_phone_clock_4_minutes_ahead_is_accepted(world, programme, client_for):
    # given
    now = timezone.now()
    body = session_body(
        programme,
        started_at=now + timedelta(minutes=3),
        ended_at=now + timedelta(minutes=4),
    )

    # when
    response = log(client_for(world.patient.user), body)

    # then
    assert response.status_code == 201, response.json()


def test_the_programme_start_is_the_patients_local_date(world, programme, client_for):
    # given 00:30 on the start date in London is still the day before in UTC
    started = datetime.combine(PROGRAMME_START, time(0, 30), tzinfo=ZoneInfo("Europe/London"))
    assert started.astimezone(UTC).date() < PROGRAMME_START
    body = session_body(programme, started_at=started)

    # when
    response = log(client_for(world.patient.user), body)

    # then
    assert response.status_code == 201, response.json()


def test_a_timestamp_with_an_offset_is_stored_as_that_instant(world, programme, client_for):
    # given 18:00 in Paris (CET in November) is 17:00 UTC
    body = session_body(
        programme,
        started_at="2026-11-20T18:00:00+01:00",
        ended_at="2026-11-20T18:40:00+01:00",
    )

    # when
    response = log(client_for(world.patient.user), body)

    # then
    assert response.status_code == 201, response.json()
    started = datetime.fromisoformat(response.json()["started_at"])
    assert started == datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


# --- Edit window ------------------------------------------------------------------------------


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_patient_corrects_a_log_within_24_hours_and_the_old_value_is_kept(
    world, programme, client_for, frozen
):
    # given
    stored = log(client_for(world.patient.user), session_body(programme, pain_after=3)).json()
    frozen.shift(timedelta(hours=23, minutes=59))
    patient = client_for(world.patient.user)

    # when
    response = patient.patch(detail(stored["id"]), {"pain_after": 6}, format="json")

    # then
    assert response.status_code == 200, response.json()
    assert response.json()["pain_after"] == 6
    assert patient.get(detail(stored["id"])).json()["pain_after"] == 6
    revision = SessionLogRevision.objects.get(session_id=stored["id"])
    assert revision.action == "edit"
    assert revision.previous["pain_after"] == 3
    assert revision.revised_by == world.patient.user


def test_every_edit_keeps_the_values_before_it(world, programme, client_for):
    # given
    patient = client_for(world.patient.user)
    stored = log(patient, session_body(programme, pain_after=3)).json()

    # when
    patient.patch(detail(stored["id"]), {"pain_after": 5}, format="json")
    patient.patch(detail(stored["id"]), {"pain_after": 7}, format="json")

    # then
    history = SessionLogRevision.objects.filter(session_id=stored["id"]).order_by("id")
    assert [r.previous["pain_after"] for r in history] == [3, 5]
    assert patient.get(detail(stored["id"])).json()["pain_after"] == 7


def test_an_edit_is_validated_like_a_new_log(world, programme, client_for):
    # given
    patient = client_for(world.patient.user)
    stored = log(patient, session_body(programme, pain_after=3)).json()

    # when
    response = patient.patch(detail(stored["id"]), {"pain_after": 11}, format="json")

    # then
    assert response.status_code == 400
    assert "pain_after" in response.json()["errors"]
    assert patient.get(detail(stored["id"])).json()["pain_after"] == 3


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_log_is_read_only_after_24_hours(world, programme, client_for, frozen, method):
    # given
    stored = log(client_for(world.patient.user), session_body(programme, pain_after=3)).json()
    frozen.shift(timedelta(hours=24, seconds=1))
    patient = client_for(world.patient.user)

    # when
    response = getattr(patient, method)(detail(stored["id"]), {"pain_after": 6}, format="json")

    # then
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "edit_window_closed"
    still = patient.get(detail(stored["id"]))
    assert still.status_code == 200
    assert still.json()["pain_after"] == 3


def test_a_deleted_log_is_gone_and_a_late_replay_does_not_bring_it_back(
    world, programme, client_for, frozen
):
    # given
    body = session_body(programme)
    stored = log(client_for(world.patient.user), body).json()
    frozen.shift(timedelta(hours=23))
    patient = client_for(world.patient.user)

    # when
    deleted = patient.delete(detail(stored["id"]))
    replay = log(patient, body)

    # then
    assert deleted.status_code == 204
    assert patient.get(detail(stored["id"])).status_code == 404
    assert replay.status_code == 200, replay.json()
    assert replay.json()["id"] == stored["id"]
    assert replay.json()["deleted_at"] is not None
    assert listed(patient) == []
    assert listed(client_for(world.physio)) == []


def test_a_deleted_log_replayed_through_sync_is_a_duplicate(world, programme, client_for):
    # given
    patient = client_for(world.patient.user)
    body = session_body(programme)
    stored = log(patient, body).json()
    patient.delete(detail(stored["id"]))

    # when
    response = patient.post(SYNC, {"logs": [body]}, format="json")

    # then
    assert response.json()["results"][0]["status"] == "duplicate"
    assert listed(patient) == []


def test_another_patient_cannot_edit_or_delete_a_log(world, programme, client_for):
    # given
    stored = log(client_for(world.patient.user), session_body(programme, pain_after=3)).json()
    intruder = client_for(world.other_patient.user)

    # when
    edited = intruder.patch(detail(stored["id"]), {"pain_after": 9}, format="json")
    deleted = intruder.delete(detail(stored["id"]))

    # then
    assert edited.status_code == 404
    assert deleted.status_code == 404
    mine = client_for(world.patient.user).get(detail(stored["id"]))
    assert mine.json()["pain_after"] == 3


# --- Listing ----------------------------------------------------------------------------------


def test_logs_are_listed_newest_first(world, programme, client_for):
    # given
    patient = client_for(world.patient.user)
    now = timezone.now()
    for days in (3, 1, 2):
        log(patient, session_body(programme, started_at=now - timedelta(days=days)))

    # when
    logs = listed(patient)

    # then
    starts = [datetime.fromisoformat(s["started_at"]) for s in logs]
    assert starts == sorted(starts, reverse=True)
    assert len(starts) == 3


@pytest.mark.parametrize(
    "viewer",
    [
        attrgetter("patient.user"),
        attrgetter("caregiver"),
        attrgetter("physio"),
        attrgetter("nurse"),
    ],
    ids=["patient", "caregiver", "physio", "nurse"],
)
def test_the_patient_their_caregiver_and_care_team_see_the_log(
    world, programme, client_for, viewer
):
    # given
    stored = log(client_for(world.patient.user), session_body(programme)).json()
    client = client_for(viewer(world))

    # when
    logs = listed(client)
    one = client.get(detail(stored["id"]))

    # then
    assert [s["id"] for s in logs] == [stored["id"]]
    assert one.status_code == 200
    stored.pop("symptom_report")  # the upload's answer names what its symptoms stored
    assert one.json() == stored


@pytest.mark.parametrize(
    "viewer",
    [
        attrgetter("other_patient.user"),
        attrgetter("other_caregiver"),
        attrgetter("other_team_physio"),
        attrgetter("other_org_physio"),
    ],
    ids=["other-patient", "other-caregiver", "other-team-physio", "other-org-physio"],
)
def test_outsiders_see_no_log_and_get_404(world, programme, client_for, viewer):
    # given
    stored = log(client_for(world.patient.user), session_body(programme)).json()
    client = client_for(viewer(world))

    # when
    logs = listed(client)
    one = client.get(detail(stored["id"]))

    # then
    assert logs == []
    assert one.status_code == 404
    assert one.json()["code"] == "not_found"


def test_anonymous_cannot_list_or_log(world, programme, api_client):
    # when
    listing = api_client.get(SESSIONS)
    posting = api_client.post(SESSIONS, session_body(programme), format="json")

    # then
    assert listing.status_code == 401
    assert posting.status_code == 401
    assert SessionLog.objects.count() == 0


def test_physio_filters_by_patient(world, library, programme, other_programme, client_for):
    # given the physio also treats the other patient
    CareTeamMembershipFactory.create(patient=world.other_patient, member=world.physio)
    mine = log(client_for(world.patient.user), session_body(programme)).json()
    theirs = log(client_for(world.other_patient.user), session_body(other_programme)).json()
    physio = client_for(world.physio)

    # when
    everyone = listed(physio)
    filtered = listed(physio, patient=world.patient.pk)

    # then
    assert {s["id"] for s in everyone} == {mine["id"], theirs["id"]}
    assert [s["id"] for s in filtered] == [mine["id"]]


def test_filter_by_start_date_range(world, programme, client_for):
    # given
    patient = client_for(world.patient.user)
    now = timezone.now()
    ids = {
        days: log(patient, session_body(programme, started_at=now - timedelta(days=days))).json()[
            "id"
        ]
        for days in (1, 2, 3)
    }
    after = (now - timedelta(days=2, hours=1)).astimezone(timezone.get_fixed_timezone(60))

    # when (the "+01:00" offset must survive the query string)
    between = listed(
        patient,
        started_after=after.isoformat(),
        started_before=(now - timedelta(days=1, hours=1)).isoformat(),
    )
    since = listed(
        patient,
        started_after=(now - timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )

    # then
    assert [s["id"] for s in between] == [ids[2]]
    assert [s["id"] for s in since] == [ids[1]]


@pytest.mark.parametrize("name", ["patient", "programme"])
def test_an_out_of_range_filter_id_is_a_400(world, programme, client_for, name):
    # given
    patient = client_for(world.patient.user)
    log(patient, session_body(programme))

    # when
    response = patient.get(SESSIONS, {name: "99999999999999999999999"})

    # then
    assert response.status_code == 400, response.content
    assert name in response.json()["errors"]


def test_filter_by_programme(world, library, programme, client_for):
    # given an earlier programme, completed, and the one in force now
    patient = client_for(world.patient.user)
    earlier = log(patient, session_body(programme)).json()
    programme_complete(programme=programme, by=world.physio)
    current = prescribe(library, world.patient, world.physio)
    later = log(patient, session_body(current)).json()

    # when
    old = listed(patient, programme=programme.pk)
    new = listed(patient, programme=current.pk)

    # then
    assert [s["id"] for s in old] == [earlier["id"]]
    assert [s["id"] for s in new] == [later["id"]]


def test_updated_since_returns_what_changed_including_edits(world, programme, client_for, frozen):
    # given two logs uploaded an hour apart
    first = log(client_for(world.patient.user), session_body(programme)).json()
    frozen.shift(timedelta(hours=1))
    second = log(client_for(world.patient.user), session_body(programme)).json()
    checkpoint = timezone.now()
    frozen.shift(timedelta(minutes=10))
    patient = client_for(world.patient.user)

    # when the first one is corrected after the app last synced
    before_edit = listed(patient, updated_since=(checkpoint - timedelta(minutes=30)).isoformat())
    patient.patch(detail(first["id"]), {"pain_after": 5}, format="json")
    after_edit = listed(patient, updated_since=checkpoint.isoformat())

    # then
    assert [s["id"] for s in before_edit] == [second["id"]]
    assert [s["id"] for s in after_edit] == [first["id"]]
    assert after_edit[0]["pain_after"] == 5


# --- Concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_one_log_store_it_once(world, programme, client_for):
    # given twenty retries of one phone's upload racing with the same body
    body = session_body(programme)
    clients = [client_for(world.patient.user) for _ in range(20)]

    # when they all arrive at once
    responses = all_at_once(len(clients), lambda n: log(clients[n], body))

    # then
    assert not [r for r in responses if isinstance(r, Exception)], responses
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 19 + [201], [r.content for r in responses if r.status_code >= 400]
    bodies = [r.json() for r in responses]
    assert all(b == bodies[0] for b in bodies)
    assert SessionLog.objects.filter(client_id=body["client_id"]).count() == 1
