"""A reported symptom is never lost (DOMAIN.md 5 and 7): stored, alerted to the tier's
audience, the programme paused and the safety message returned, in the request that carries
it, whatever else in that request is invalid."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.alerts.models import Alert, Notification, RuleOverride
from backend.audit.models import AccessEvent, Action, Resource
from backend.exercise.codes import SAFETY_MESSAGES, SYMPTOM_TIERS, Symptom, SymptomTier
from backend.exercise.models import (
    Programme,
    ProgrammeStatus,
    ProgressionProposal,
    ProposalStatus,
    SessionLog,
)
from backend.symptoms.models import SymptomReport
from tests.builders import done_as_prescribed, proposal_open, session_logged
from tests.conftest import World
from tests.exercise.conftest import session_body
from tests.factories import CareTeamMembershipFactory, ClinicianFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"
SYNC = "/api/v1/sessions/sync/"
SYMPTOMS = "/api/v1/symptoms/"
ClientFor = Callable[[User], APIClient]

TIER_RULE = {
    SymptomTier.EMERGENCY: "SYM-1",
    SymptomTier.SAME_DAY: "SYM-2",
    SymptomTier.ROUTINE: "SYM-3",
}


@pytest.fixture
def physician(world: World) -> User:
    member = ClinicianFactory.create(organisation=world.org, role="physician")
    CareTeamMembershipFactory.create(patient=world.patient, member=member, role="physician")
    return member


def told(*people: User) -> dict[str, int]:
    """Alert notifications per person."""
    return {
        person.username: Notification.objects.filter(recipient=person, kind="alert").count()
        for person in people
    }


def audience_of(tier: SymptomTier, world: World, physician: User) -> set[str]:
    everyone = {world.physio.username, world.nurse.username, physician.username}
    return {
        SymptomTier.EMERGENCY: everyone,
        SymptomTier.SAME_DAY: {world.physio.username, world.nurse.username},
        SymptomTier.ROUTINE: {world.physio.username},
    }[tier]


def status_of(programme: Programme) -> str:
    programme.refresh_from_db()
    return programme.status


# --- Every code, through /sessions/sync/ with an otherwise invalid log ------------------------


@pytest.mark.parametrize("code", Symptom.values)
def test_every_symptom_in_an_invalid_sync_item_is_stored_alerted_and_answered(
    code, world, programme, physician, client_for
):
    # given a log the server must refuse for an unrelated reason (effort 25 on a 6-20 scale)
    body = session_body(programme, symptoms=[code], effort_scale="rpe_6_20", effort_value=25)

    # when the phone syncs it
    response = client_for(world.patient.user).post(SYNC, {"logs": [body]}, format="json")

    # then the item is invalid, but its symptom is stored and alerted, with the safety message
    assert response.status_code == 200, response.json()
    (item,) = response.json()["results"]
    tier = SYMPTOM_TIERS[code]
    assert item["status"] == "invalid"
    assert "effort_value" in item["errors"]
    assert item["safety_message"] == SAFETY_MESSAGES[tier]
    report = SymptomReport.objects.get(pk=item["symptom_report"])
    assert report.codes == [code]
    assert report.log_client_id == uuid.UUID(body["client_id"])
    assert report.session is None
    assert not SessionLog.objects.exists()
    (alert,) = Alert.objects.filter(patient=world.patient)
    assert alert.rule_id == TIER_RULE[tier]
    assert alert.evidence["symptom_report_id"] == report.pk
    assert str(Symptom(code).label).lower() in alert.reason.lower()
    counts = told(world.physio, world.nurse, physician, world.patient.user, world.caregiver)
    assert {name for name, count in counts.items() if count} == audience_of(tier, world, physician)
    assert all(count in (0, 1) for count in counts.values())
    paused = tier in (SymptomTier.EMERGENCY, SymptomTier.SAME_DAY)
    assert status_of(programme) == (ProgrammeStatus.PAUSED if paused else ProgrammeStatus.ACTIVE)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        pytest.param({"ended_in": timedelta(minutes=20)}, "ended_at", id="phone-clock-20-min-fast"),
        pytest.param(
            {"effort_scale": "rpe_6_20", "effort_value": 25}, "effort_value", id="effort-25"
        ),
        pytest.param({"pain_after": 11}, "pain_after", id="pain-11"),
        pytest.param({"started_days_ago": 60}, "started_at", id="before-the-programme"),
        pytest.param({"version": 999_999}, "version", id="unknown-version"),
        pytest.param({"surprise": 1}, "surprise", id="unknown-field"),
    ],
)
def test_a_refused_log_with_chest_pain_still_stores_alerts_and_pauses(
    edit, field, world, programme, physician, client_for
):
    # given
    edit = dict(edit)
    overrides: dict[str, Any] = {}
    if "ended_in" in edit:
        ended = timezone.now() + edit.pop("ended_in")
        overrides.update(started_at=ended - timedelta(minutes=30), ended_at=ended)
    if "started_days_ago" in edit:
        started = timezone.now() - timedelta(days=edit.pop("started_days_ago"))
        overrides.update(started_at=started, ended_at=started + timedelta(minutes=30))
    body = {**session_body(programme, symptoms=["chest_pain"], **overrides), **edit}

    # when
    response = client_for(world.patient.user).post(SESSIONS, body, format="json")

    # then the log is refused with the field named...
    assert response.status_code == 400, response.json()
    answer = response.json()
    assert field in answer["errors"]
    # ...and the emergency is handled all the same
    assert answer["safety_message"] == SAFETY_MESSAGES[SymptomTier.EMERGENCY]
    report = SymptomReport.objects.get(pk=answer["symptom_report"])
    assert report.codes == ["chest_pain"]
    assert Alert.objects.get(patient=world.patient).rule_id == "SYM-1"
    assert told(world.physio, world.nurse, physician) == {
        world.physio.username: 1,
        world.nurse.username: 1,
        physician.username: 1,
    }
    assert status_of(programme) == ProgrammeStatus.PAUSED
    assert not SessionLog.objects.exists()
    # and the write is in the audit trail like any other
    assert AccessEvent.objects.filter(
        action=Action.CREATE, resource_type=Resource.SYMPTOM_REPORT, resource_id=report.pk
    ).exists()


def test_the_corrected_upload_of_a_refused_log_is_stored_and_alerts_nothing_twice(
    world, programme, client_for
):
    # given a refused upload with fainting
    patient = client_for(world.patient.user)
    body = session_body(programme, symptoms=["fainting"], effort_scale="rpe_6_20", effort_value=25)
    refused = patient.post(SESSIONS, body, format="json").json()

    # when the phone retries it, corrected, under the same client_id
    fixed = patient.post(SESSIONS, {**body, "effort_value": 12}, format="json")

    # then the log is stored, the earlier report is its report, and one alert exists
    assert fixed.status_code == 201, fixed.json()
    assert fixed.json()["safety_message"] == SAFETY_MESSAGES[SymptomTier.EMERGENCY]
    report = SymptomReport.objects.get(pk=refused["symptom_report"])
    assert report.session_id == fixed.json()["id"]
    assert SymptomReport.objects.count() == 1
    assert Alert.objects.filter(rule_id="SYM-1").count() == 1


def test_a_refused_sync_item_resent_raises_nothing_twice(world, programme, client_for):
    # given
    patient = client_for(world.patient.user)
    body = session_body(programme, symptoms=["seizure_or_confusion"], pain_after=11)

    # when the same invalid batch is sent three times
    answers = [patient.post(SYNC, {"logs": [body]}, format="json").json() for _ in range(3)]

    # then
    ids = {answer["results"][0]["symptom_report"] for answer in answers}
    assert len(ids) == 1
    assert None not in ids
    assert Alert.objects.filter(rule_id="SYM-1").count() == 1
    assert all(a["results"][0]["safety_message"] for a in answers)


def test_a_replay_that_adds_symptoms_stores_and_alerts_the_new_ones(world, programme, client_for):
    # given a stored log with a rash flare
    patient = client_for(world.patient.user)
    body = session_body(programme, symptoms=["rash_flare"])
    first = patient.post(SESSIONS, body, format="json")
    assert first.status_code == 201

    # when the phone replays it with chest pain ticked as well
    again = patient.post(
        SESSIONS, {**body, "symptoms": ["rash_flare", "chest_pain"]}, format="json"
    )

    # then the log is unchanged, the new symptom is stored and alerted, the message is tier 1
    assert again.status_code == 200, again.json()
    assert again.json()["symptoms"] == ["rash_flare"]
    assert again.json()["safety_message"] == SAFETY_MESSAGES[SymptomTier.EMERGENCY]
    new = SymptomReport.objects.get(pk=again.json()["symptom_report"])
    assert new.codes == ["chest_pain"]
    assert new.session_id == first.json()["id"]
    assert sorted(Alert.objects.values_list("rule_id", flat=True)) == ["SYM-1", "SYM-3"]
    assert status_of(programme) == ProgrammeStatus.PAUSED


# --- Standalone reports ----------------------------------------------------------------------


def report(client: APIClient, **body: Any):
    return client.post(SYMPTOMS, {"client_id": str(uuid.uuid4()), **body}, format="json")


def test_a_patient_without_any_programme_reports_a_symptom(world, physician, client_for):
    # given no programme at all

    # when
    response = report(client_for(world.patient.user), symptoms=["dark_urine"], note="after a walk")

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["safety_message"] == SAFETY_MESSAGES[SymptomTier.SAME_DAY]
    alert = Alert.objects.get(patient=world.patient)
    assert (alert.rule_id, alert.urgency) == ("SYM-2", "urgent")
    assert told(world.physio, world.nurse, physician) == {
        world.physio.username: 1,
        world.nurse.username: 1,
        physician.username: 0,
    }


def test_a_caregiver_reports_for_their_child_and_a_retry_returns_the_same_report(
    world, programme, client_for
):
    # given
    caregiver = client_for(world.caregiver)
    body = {"client_id": str(uuid.uuid4()), "patient": world.patient.pk, "symptoms": ["fever"]}

    # when
    first = caregiver.post(SYMPTOMS, body, format="json")
    again = caregiver.post(SYMPTOMS, body, format="json")

    # then
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.json()["reported_by"] == world.caregiver.pk
    assert SymptomReport.objects.count() == 1
    assert Alert.objects.filter(rule_id="SYM-2").count() == 1
    assert status_of(programme) == ProgrammeStatus.PAUSED


def test_a_standalone_report_with_a_bad_time_is_stored_and_refused(world, client_for):
    # when
    response = report(
        client_for(world.patient.user), symptoms=["choking"], reported_at="yesterday-ish"
    )

    # then
    assert response.status_code == 400
    assert "reported_at" in response.json()["errors"]
    assert response.json()["safety_message"] == SAFETY_MESSAGES[SymptomTier.EMERGENCY]
    assert SymptomReport.objects.get(pk=response.json()["symptom_report"]).codes == ["choking"]
    assert Alert.objects.get().rule_id == "SYM-1"


def test_an_other_symptom_alone_reaches_the_physio_for_review(world, client_for):
    # when
    response = report(client_for(world.patient.user), other="tingling in both hands")

    # then
    assert response.status_code == 201, response.json()
    alert = Alert.objects.get()
    assert alert.rule_id == "SYM-3"
    assert "tingling in both hands" in alert.reason


def test_an_empty_report_is_a_field_error(world, client_for):
    response = report(client_for(world.patient.user), symptoms=[])

    assert response.status_code == 400
    assert "symptoms" in response.json()["errors"]
    assert response.json()["symptom_report"] is None
    assert not SymptomReport.objects.exists()


def test_the_24_hour_follow_up_is_accepted_after_the_edit_window(world, programme, client_for):
    # given a log two days old: its edit window has closed
    patient = client_for(world.patient.user)
    stored = patient.post(SESSIONS, session_body(programme, pain_after=5), format="json").json()

    with time_machine.travel(timezone.now() + timedelta(days=2), tick=True):
        # when the app asks "still not easing?" and the patient says yes
        patient = client_for(world.patient.user)
        response = report(patient, session=stored["id"], symptoms=["severe_muscle_pain"])

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["session"] == stored["id"]
    assert response.json()["source"] == "follow_up"
    assert Alert.objects.get().rule_id == "SYM-2"
    assert SessionLog.objects.get().symptoms_reported is True


def test_symptom_reports_are_seen_by_the_patient_and_the_care_team_only(world, client_for):
    # given
    made = report(client_for(world.patient.user), symptoms=["rash_flare"]).json()

    # then
    for viewer in (world.patient.user, world.caregiver, world.physio, world.nurse):
        listed = client_for(viewer).get(SYMPTOMS).json()["results"]
        assert [r["id"] for r in listed] == [made["id"]], viewer.role
    for stranger in (world.other_team_physio, world.other_org_physio, world.other_caregiver):
        assert client_for(stranger).get(SYMPTOMS).json()["results"] == []
    denied = report(
        client_for(world.other_team_physio), patient=world.patient.pk, symptoms=["fever"]
    )
    assert denied.status_code == 404
    assert SymptomReport.objects.count() == 1


def test_the_symptom_list_runs_a_fixed_number_of_queries(
    world, client_for, django_assert_num_queries
):
    physio = client_for(world.physio)
    for _ in range(2):
        report(client_for(world.patient.user), symptoms=["rash_flare"])
    # user, count, page, the page's audit events: the same for 2 reports and for 7
    with django_assert_num_queries(4):
        physio.get(SYMPTOMS)
    for _ in range(5):
        report(client_for(world.patient.user), symptoms=["rash_flare"])
    with django_assert_num_queries(4):
        assert len(physio.get(SYMPTOMS).json()["results"]) == 7


# --- Pain scores are symptoms by themselves ------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "fires"),
    [
        (2, 7, True),
        (0, 4, True),
        (3, 6, False),
        (None, 6, False),
        (None, 8, True),
        (5, 8, True),
        (5, 6, False),
    ],
)
def test_pain_scores_raise_the_muscle_pain_alert_without_the_box(
    before, after, fires, world, programme, client_for
):
    # when
    response = client_for(world.patient.user).post(
        SESSIONS, session_body(programme, pain_before=before, pain_after=after), format="json"
    )

    # then
    assert response.status_code == 201, response.json()
    alerts = list(Alert.objects.filter(rule_id="SYM-2"))
    assert bool(alerts) is fires
    if fires:
        assert response.json()["safety_message"] == SAFETY_MESSAGES[SymptomTier.SAME_DAY]
        assert f"{after}/10" in alerts[0].reason
        assert alerts[0].evidence["derived_from_pain"]["pain_after"] == after
        assert status_of(programme) == ProgrammeStatus.PAUSED
    else:
        assert response.json()["safety_message"] is None


def test_the_pain_thresholds_are_per_patient(world, programme, client_for):
    # given this patient's team raised the threshold to 9/10 and a rise of 6
    RuleOverride.objects.create(
        patient=world.patient,
        rule_id="SYM-2",
        parameters={"pain_after_at_least": 9, "pain_rise_at_least": 6},
    )

    # when
    client_for(world.patient.user).post(
        SESSIONS, session_body(programme, pain_before=3, pain_after=8), format="json"
    )

    # then
    assert not Alert.objects.exists()


# --- What a red flag does to the programme and its proposals ------------------------------


def test_a_red_flag_closes_open_proposals_and_pauses_the_active_programme(
    world, programme, client_for
):
    # given an open progression proposal
    proposal = proposal_open(programme)

    # when a red flag is reported on its own, with no session
    report(client_for(world.patient.user), symptoms=["new_weakness"])

    # then
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.CLOSED
    assert status_of(programme) == ProgrammeStatus.PAUSED


# --- Time tolerance ----------------------------------------------------------------------


def test_a_log_ending_ten_minutes_ahead_is_stored_with_the_clock_difference(
    world, programme, client_for
):
    # given a phone clock 10 minutes fast
    ended = timezone.now() + timedelta(minutes=10)
    body = session_body(programme, started_at=ended - timedelta(minutes=30), ended_at=ended)

    # when
    response = client_for(world.patient.user).post(SESSIONS, body, format="json")

    # then
    assert response.status_code == 201, response.json()
    assert 590 <= response.json()["clock_ahead_seconds"] <= 600


def test_a_correction_refused_after_the_edit_window_still_reports_its_symptoms(
    world, programme, client_for, physician
):
    # given a log two days old
    stored = (
        client_for(world.patient.user).post(SESSIONS, session_body(programme), format="json").json()
    )

    with time_machine.travel(timezone.now() + timedelta(days=2), tick=True):
        # when the patient ticks chest pain on it
        response = client_for(world.patient.user).patch(
            f"{SESSIONS}{stored['id']}/", {"symptoms": ["chest_pain"]}, format="json"
        )

    # then the edit is refused, the symptom is not lost
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "edit_window_closed"
    assert response.json()["safety_message"] == SAFETY_MESSAGES[SymptomTier.EMERGENCY]
    assert SessionLog.objects.get().symptoms == []
    report = SymptomReport.objects.get(pk=response.json()["symptom_report"])
    assert (report.session_id, report.codes) == (stored["id"], ["chest_pain"])
    assert told(world.physio, world.nurse, physician) == {
        world.physio.username: 1,
        world.nurse.username: 1,
        physician.username: 1,
    }


@pytest.mark.parametrize(
    "spoiler",
    [
        pytest.param({"symptoms": ["rash_flare"]}, id="a-ticked-routine-symptom"),
        pytest.param({"pain_before": 6, "pain_after": 7}, id="pain-7-of-10-without-a-rise"),
    ],
)
def test_a_log_with_any_symptom_never_counts_towards_a_progression(spoiler, programme):
    # given one qualifying session
    now = timezone.now()
    session_logged(programme, started_at=now - timedelta(days=3), **done_as_prescribed(programme))

    # when the next, otherwise qualifying, session reports a symptom
    session_logged(
        programme,
        started_at=now - timedelta(hours=2),
        **{**done_as_prescribed(programme), **spoiler},
    )

    # then nothing is proposed
    assert not ProgressionProposal.objects.exists()


def test_two_qualifying_sessions_without_symptoms_do_propose(programme):
    # the control of the test above: the same two logs, no symptom
    now = timezone.now()
    for started in (now - timedelta(days=3), now - timedelta(hours=2)):
        session_logged(programme, started_at=started, **done_as_prescribed(programme))

    assert ProgressionProposal.objects.exists()


@pytest.mark.parametrize(
    "ticked", [[["chest_pain"]], [{"code": "chest_pain"}], [1, None, "chest_pain"], "chest_pain"]
)
def test_a_malformed_symptom_list_is_a_field_error_and_its_known_codes_still_count(
    ticked, world, programme, client_for
):
    # found by make fuzz: unhashable items in the list were a 500
    body = session_body(programme, symptoms=ticked)

    response = client_for(world.patient.user).post(SESSIONS, body, format="json")

    assert response.status_code == 400, response.content
    assert "symptoms" in response.json()["errors"]
    has_code = isinstance(ticked, list) and "chest_pain" in ticked
    assert (response.json()["symptom_report"] is not None) is has_code
