"""Function assessments through the API: who may record which measure, the ranges of
shared/DOMAIN.md section 1, item breakdowns, times, who sees which rows, and the per-patient
trend with its baseline (issue 3, "Function assessments")."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from backend.exercise.measures import CMAS_ITEMS, MMT8_GROUPS
from backend.exercise.models import Assessment

pytestmark = pytest.mark.django_db

ASSESSMENTS = "/api/v1/assessments/"


def trend_url(patient_id: int) -> str:
    return f"/api/v1/patients/{patient_id}/assessments/trend/"


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def body(measure: str, value: Any, setting: str = "home", **extra: Any) -> dict[str, Any]:
    return {
        "measure": measure,
        "value": str(value),
        "setting": setting,
        "measured_at": extra.pop("measured_at", ago(hours=2)),
        **extra,
    }


def record(client, data: dict[str, Any]):
    return client.post(ASSESSMENTS, data, format="json")


def listed(client, **query: Any) -> list[dict[str, Any]]:
    response = client.get(ASSESSMENTS, {"page_size": 200, **query})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


# MMT8 groups of one side, 0–10 each: 70 of 80.
MMT8_SCORES = dict(zip(MMT8_GROUPS, [9, 8, 10, 7, 9, 8, 10, 9], strict=True))
# CMAS items within their own maxima: 44 of 52.
CMAS_SCORES = dict(zip(CMAS_ITEMS, [4, 1, 4, 3, 5, 3, 3, 3, 4, 4, 3, 4, 2, 1], strict=True))


# --- Who records what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "value", "unit"),
    [("STS30", 14, "count"), ("TUG", "7.4", "s"), ("PAIN", 3, "0-10"), ("CHAQ", "0.625", "points")],
)
def test_patient_records_a_home_measure(world, client_for, measure, value, unit):
    # given
    client = client_for(world.patient.user)

    # when
    response = record(client, body(measure, value))

    # then
    assert response.status_code == 201, response.json()
    stored = response.json()
    assert stored["patient"] == world.patient.pk
    assert stored["measure"] == measure
    assert Decimal(stored["value"]) == Decimal(str(value))
    assert stored["unit"] == unit
    assert stored["setting"] == "home"
    assert stored["measured_by"]["id"] == world.patient.user.pk
    assert stored["measured_by"]["role"] == "patient"
    assert Assessment.objects.filter(patient=world.patient, measure=measure).count() == 1


def test_caregiver_records_a_home_measure_for_the_patient_they_name(world, client_for):
    # when
    response = record(client_for(world.caregiver), body("STS30", 12, patient=world.patient.pk))

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["patient"] == world.patient.pk
    assert response.json()["measured_by"]["id"] == world.caregiver.pk


@pytest.mark.parametrize(
    ("measure", "value"), [("CMAS", 40), ("MMT8", 70), ("6MWD", 420), ("CK", 180)]
)
def test_patient_cannot_record_a_clinic_measure(world, client_for, measure, value):
    # when
    response = record(client_for(world.patient.user), body(measure, value))

    # then
    assert response.status_code == 403
    assert "measure" in response.json()["errors"]
    assert Assessment.objects.count() == 0


def test_patient_cannot_record_a_home_measure_as_a_clinic_value(world, client_for):
    # when
    response = record(client_for(world.patient.user), body("STS30", 14, setting="clinic"))

    # then
    assert response.status_code == 400
    assert "setting" in response.json()["errors"]
    assert Assessment.objects.count() == 0


def test_physio_records_cmas_in_clinic(world, client_for):
    # when
    response = record(
        client_for(world.physio), body("CMAS", 44, setting="clinic", patient=world.patient.pk)
    )

    # then
    assert response.status_code == 201, response.json()
    stored = response.json()
    assert stored["setting"] == "clinic"
    assert stored["unit"] == "points"
    assert stored["measured_by"]["id"] == world.physio.pk
    assert stored["measured_by"]["role"] == "physiotherapist"


# --- Ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "value", "extra", "field"),
    [
        pytest.param("CMAS", 53, {}, "value", id="CMAS-above-52"),
        pytest.param("CMAS", "20.5", {}, "value", id="CMAS-whole-numbers"),
        pytest.param("MMT8", 81, {}, "value", id="MMT8-above-default-max-80"),
        pytest.param("MMT8", 70, {"max_score": 100}, "max_score", id="MMT8-max-80-or-150"),
        pytest.param("CHAQ", "0.1", {}, "value", id="CHAQ-steps-of-0.125"),
        pytest.param("CHAQ", "3.125", {}, "value", id="CHAQ-above-3"),
        pytest.param("PAIN", 11, {}, "value", id="PAIN-above-10"),
        pytest.param("TUG", 0, {}, "value", id="TUG-must-be-above-0"),
        pytest.param("6MWD", 1001, {}, "value", id="6MWD-above-1000"),
        pytest.param("EGFR", 201, {}, "value", id="EGFR-above-200"),
        pytest.param("GRIP", -1, {}, "value", id="GRIP-below-0"),
    ],
)
def test_value_out_of_its_measure_range_is_refused(world, client_for, measure, value, extra, field):
    # when
    response = record(
        client_for(world.physio),
        body(measure, value, setting="clinic", patient=world.patient.pk, **extra),
    )

    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Assessment.objects.count() == 0


@pytest.mark.parametrize(
    ("measure", "value", "extra"),
    [
        pytest.param("CMAS", 52, {}, id="CMAS-52"),
        pytest.param("CHAQ", "0.375", {}, id="CHAQ-on-a-step"),
        pytest.param("CHAQ", 3, {}, id="CHAQ-3"),
        pytest.param("TUG", "0.5", {}, id="TUG-just-above-0"),
        pytest.param("6MWD", 1000, {}, id="6MWD-1000"),
        pytest.param("EGFR", 200, {}, id="EGFR-200"),
        pytest.param("GRIP", 0, {}, id="GRIP-0"),
        pytest.param("PAIN", 0, {}, id="PAIN-0"),
    ],
)
def test_value_at_the_edge_of_its_range_is_accepted(world, client_for, measure, value, extra):
    # when
    response = record(
        client_for(world.physio),
        body(measure, value, setting="clinic", patient=world.patient.pk, **extra),
    )

    # then
    assert response.status_code == 201, response.json()
    assert Decimal(response.json()["value"]) == Decimal(str(value))


def test_a_high_ck_of_a_flare_is_stored(world, client_for):
    # when
    response = record(
        client_for(world.physio),
        body("CK", 25000, setting="clinic", patient=world.patient.pk, upper_limit="150"),
    )

    # then
    assert response.status_code == 201, response.json()
    assert Decimal(response.json()["value"]) == 25000
    assert Assessment.objects.get().value == 25000


def test_mmt8_is_stored_out_of_80_by_default(world, client_for):
    # when
    response = record(
        client_for(world.physio), body("MMT8", 78, setting="clinic", patient=world.patient.pk)
    )

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["max_score"] == 80


def test_mmt8_bilateral_score_is_accepted_out_of_150(world, client_for):
    # when
    response = record(
        client_for(world.physio),
        body("MMT8", 140, setting="clinic", patient=world.patient.pk, max_score=150),
    )

    # then
    assert response.status_code == 201, response.json()
    assert Decimal(response.json()["value"]) == 140
    assert response.json()["max_score"] == 150


def test_max_score_is_refused_for_measures_other_than_mmt8(world, client_for):
    # when
    response = record(
        client_for(world.physio),
        body("CMAS", 40, setting="clinic", patient=world.patient.pk, max_score=52),
    )

    # then
    assert response.status_code == 400
    assert "max_score" in response.json()["errors"]
    assert Assessment.objects.count() == 0


# --- Item breakdowns ----------------------------------------------------------------------------


def physio_records(world, client_for, measure: str, value: Any, items: dict[str, int]):
    return record(
        client_for(world.physio),
        body(measure, value, setting="clinic", patient=world.patient.pk, items=items),
    )


def test_mmt8_with_its_eight_groups_adding_up_is_stored_with_them(world, client_for):
    # when
    response = physio_records(world, client_for, "MMT8", 70, MMT8_SCORES)

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["items"] == MMT8_SCORES
    assert Assessment.objects.get().items == MMT8_SCORES


def test_mmt8_groups_that_do_not_add_up_to_the_total_are_refused(world, client_for):
    # when
    response = physio_records(world, client_for, "MMT8", 71, MMT8_SCORES)

    # then
    assert response.status_code == 400
    messages = " ".join(response.json()["errors"]["items"])
    assert "70" in messages
    assert "71" in messages
    assert Assessment.objects.count() == 0


def test_mmt8_with_a_group_missing_is_refused(world, client_for):
    # given
    items = {k: v for k, v in MMT8_SCORES.items() if k != "ankle_dorsiflexors"}

    # when
    response = physio_records(world, client_for, "MMT8", sum(items.values()), items)

    # then
    assert response.status_code == 400
    assert "ankle_dorsiflexors" in " ".join(response.json()["errors"]["items"])
    assert Assessment.objects.count() == 0


def test_mmt8_with_an_unknown_group_is_refused(world, client_for):
    # given
    items = {**MMT8_SCORES, "hamstrings": 5}

    # when
    response = physio_records(world, client_for, "MMT8", sum(items.values()), items)

    # then
    assert response.status_code == 400
    assert "hamstrings" in " ".join(response.json()["errors"]["items"])
    assert Assessment.objects.count() == 0


def test_mmt8_group_scored_above_10_is_refused(world, client_for):
    # given
    items = {**MMT8_SCORES, "quadriceps": 11}

    # when
    response = physio_records(world, client_for, "MMT8", sum(items.values()), items)

    # then
    assert response.status_code == 400
    assert "items" in response.json()["errors"]
    assert Assessment.objects.count() == 0


def test_cmas_with_its_fourteen_items_is_stored_with_them(world, client_for):
    # when
    response = physio_records(world, client_for, "CMAS", 44, CMAS_SCORES)

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["items"] == CMAS_SCORES


def test_items_for_a_measure_without_a_breakdown_are_refused(world, client_for):
    # when
    response = record(client_for(world.patient.user), body("PAIN", 4, items={"head_elevation": 4}))

    # then
    assert response.status_code == 400
    assert "items" in response.json()["errors"]
    assert Assessment.objects.count() == 0


# --- Times and lab limits -----------------------------------------------------------------------


def test_measured_more_than_five_minutes_ahead_is_refused(world, client_for):
    # when
    response = record(
        client_for(world.patient.user),
        body("STS30", 14, measured_at=(timezone.now() + timedelta(minutes=10)).isoformat()),
    )

    # then
    assert response.status_code == 400
    assert "measured_at" in response.json()["errors"]
    assert Assessment.objects.count() == 0


def test_a_phone_clock_slightly_ahead_is_tolerated(world, client_for):
    # when
    response = record(
        client_for(world.patient.user),
        body("STS30", 14, measured_at=(timezone.now() + timedelta(minutes=2)).isoformat()),
    )

    # then
    assert response.status_code == 201, response.json()


def test_measured_at_without_a_time_zone_is_refused(world, client_for):
    # when
    response = record(
        client_for(world.patient.user), body("STS30", 14, measured_at="2026-11-25T18:30:00")
    )

    # then
    assert response.status_code == 400
    assert "measured_at" in response.json()["errors"]
    assert Assessment.objects.count() == 0


def test_ck_is_stored_with_the_lab_upper_limit(world, client_for):
    # when
    response = record(
        client_for(world.physio),
        body("CK", 420, setting="clinic", patient=world.patient.pk, upper_limit="150"),
    )

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["unit"] == "U/L"
    assert Decimal(response.json()["upper_limit"]) == 150


def test_upper_limit_is_refused_for_measures_other_than_ck(world, client_for):
    # when
    response = record(
        client_for(world.physio),
        body("EGFR", 95, setting="clinic", patient=world.patient.pk, upper_limit="120"),
    )

    # then
    assert response.status_code == 400
    assert "upper_limit" in response.json()["errors"]
    assert Assessment.objects.count() == 0


# --- Who sees and writes which rows ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_team_physio", "other_org_physio", "other_patient"])
def test_someone_outside_the_patients_circle_cannot_record_for_them(world, client_for, who):
    # given
    user = world.other_patient.user if who == "other_patient" else getattr(world, who)

    # when
    response = record(client_for(user), body("STS30", 14, setting="home", patient=world.patient.pk))

    # then
    assert response.status_code == 404
    assert Assessment.objects.count() == 0


@pytest.fixture
def recorded(world, client_for) -> dict[str, int]:
    """Assessments of the patient (home and clinic) and one of the other patient."""
    patient, physio = client_for(world.patient.user), client_for(world.physio)
    rows = {
        "sts_old": record(patient, body("STS30", 11, measured_at=ago(days=20))),
        "sts_new": record(patient, body("STS30", 13, measured_at=ago(days=2))),
        "pain": record(patient, body("PAIN", 3, measured_at=ago(days=5))),
        "cmas": record(
            physio,
            body("CMAS", 41, setting="clinic", patient=world.patient.pk, measured_at=ago(days=9)),
        ),
        "sts_clinic": record(
            physio,
            body("STS30", 15, setting="clinic", patient=world.patient.pk, measured_at=ago(days=9)),
        ),
        "other": record(
            client_for(world.other_patient.user), body("STS30", 9, measured_at=ago(days=3))
        ),
    }
    for response in rows.values():
        assert response.status_code == 201, response.json()
    return {name: response.json()["id"] for name, response in rows.items()}


def ids(rows: list[dict[str, Any]]) -> set[int]:
    return {row["id"] for row in rows}


def test_physio_lists_only_their_patients_assessments(world, client_for, recorded):
    # when
    rows = listed(client_for(world.physio))

    # then
    assert ids(rows) == {recorded[k] for k in ("sts_old", "sts_new", "pain", "cmas", "sts_clinic")}
    assert {row["patient"] for row in rows} == {world.patient.pk}


def test_list_filters_narrow_to_the_rows_asked_for(world, client_for, recorded):
    # given
    physio = client_for(world.physio)

    # then
    assert ids(listed(physio, measure="STS30")) == {
        recorded["sts_old"],
        recorded["sts_new"],
        recorded["sts_clinic"],
    }
    assert ids(listed(physio, setting="clinic")) == {recorded["cmas"], recorded["sts_clinic"]}
    assert ids(listed(physio, measure="STS30", setting="home")) == {
        recorded["sts_old"],
        recorded["sts_new"],
    }
    assert ids(listed(physio, measured_after=ago(days=6))) == {
        recorded["sts_new"],
        recorded["pain"],
    }
    assert ids(listed(physio, patient=world.patient.pk)) == {
        recorded[k] for k in ("sts_old", "sts_new", "pain", "cmas", "sts_clinic")
    }


def test_filtering_on_someone_elses_patient_returns_nothing(world, client_for, recorded):
    # when
    physio_rows = listed(client_for(world.physio), patient=world.other_patient.pk)
    outsider_rows = listed(client_for(world.other_org_physio), patient=world.patient.pk)
    other_patient_rows = listed(
        client_for(world.other_patient.user), patient=world.patient.pk, measure="STS30"
    )

    # then
    assert physio_rows == []
    assert outsider_rows == []
    assert other_patient_rows == []


def test_patient_and_caregiver_see_only_the_patients_own_rows(world, client_for, recorded):
    # when
    patient_rows = listed(client_for(world.patient.user))
    caregiver_rows = listed(client_for(world.caregiver), setting="home")
    other_rows = listed(client_for(world.other_patient.user))

    # then
    mine = {recorded[k] for k in ("sts_old", "sts_new", "pain", "cmas", "sts_clinic")}
    assert ids(patient_rows) == mine
    assert ids(caregiver_rows) == {recorded["sts_old"], recorded["sts_new"], recorded["pain"]}
    assert ids(other_rows) == {recorded["other"]}


# --- Trend ------------------------------------------------------------------------------------


def at(point: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(point["at"])


def test_trend_has_one_series_per_measure_and_setting_with_its_baseline(world, client_for):
    # given four home STS30 values, posted out of order, and two clinic values
    patient, physio = client_for(world.patient.user), client_for(world.physio)
    home = [(10, 20), (12, 15), (11, 10), (8, 5)]  # (value, days ago): oldest first
    for value, days in [home[2], home[0], home[3], home[1]]:
        assert record(patient, body("STS30", value, measured_at=ago(days=days))).status_code == 201
    for value, days in [(16, 3), (14, 18)]:
        clinic = body(
            "STS30", value, setting="clinic", patient=world.patient.pk, measured_at=ago(days=days)
        )
        assert record(physio, clinic).status_code == 201

    # when
    response = physio.get(trend_url(world.patient.pk))

    # then
    assert response.status_code == 200, response.json()
    series = {(s["measure"], s["setting"]): s for s in response.json()}
    assert set(series) == {("STS30", "home"), ("STS30", "clinic")}
    home_series = series[("STS30", "home")]
    assert [Decimal(p["value"]) for p in home_series["points"]] == [10, 12, 11, 8]
    assert [at(p) for p in home_series["points"]] == sorted(at(p) for p in home_series["points"])
    assert Decimal(home_series["baseline"]) == 11
    assert home_series["unit"] == "count"
    clinic_series = series[("STS30", "clinic")]
    assert [Decimal(p["value"]) for p in clinic_series["points"]] == [14, 16]


def test_a_measure_with_one_value_has_that_value_as_baseline(world, client_for):
    # given
    patient, physio = client_for(world.patient.user), client_for(world.physio)
    assert record(patient, body("PAIN", 4)).status_code == 201
    cmas = body("CMAS", 38, setting="clinic", patient=world.patient.pk)
    assert record(physio, cmas).status_code == 201

    # when
    response = patient.get(trend_url(world.patient.pk))

    # then
    assert response.status_code == 200, response.json()
    series = {(s["measure"], s["setting"]): s for s in response.json()}
    assert Decimal(series[("PAIN", "home")]["baseline"]) == 4
    assert Decimal(series[("CMAS", "clinic")]["baseline"]) == 38
    assert len(series[("CMAS", "clinic")]["points"]) == 1


def test_trend_of_someone_elses_patient_is_not_found(world, client_for):
    # given
    assert record(client_for(world.patient.user), body("PAIN", 4)).status_code == 201

    # when
    outsider = client_for(world.other_team_physio).get(trend_url(world.patient.pk))
    other_patient = client_for(world.other_patient.user).get(trend_url(world.patient.pk))

    # then
    assert outsider.status_code == 404
    assert other_patient.status_code == 404
