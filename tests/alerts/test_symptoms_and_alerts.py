"""Red-flag symptoms and the care-team alert API (issue 4, "Symptom tiers", "Alerts",
"Escalation"; DOMAIN.md 5): what a symptom raises, who is told, who sees the alert,
acknowledging and resolving it, and escalation when nobody acknowledges in time."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts.models import PatientProfile, User
from backend.alerts.models import Alert
from backend.alerts.services.alerting import Audience
from backend.exercise.models import Programme
from tests.builders import alert_raised
from tests.concurrency import all_at_once
from tests.conftest import World
from tests.exercise.conftest import session_body
from tests.factories import CareTeamMembershipFactory, ClinicianFactory

ALERTS = "/api/v1/alerts/"
SESSIONS = "/api/v1/sessions/"
NOTIFICATIONS = "/api/v1/notifications/"

ClientFor = Callable[[User], APIClient]


def acknowledge_url(alert_id: int) -> str:
    return f"{ALERTS}{alert_id}/acknowledge/"


def resolve_url(alert_id: int) -> str:
    return f"{ALERTS}{alert_id}/resolve/"


def log_symptoms(
    client_for: ClientFor, world: World, programme: Programme, symptoms: list[str]
) -> dict[str, Any]:
    response = client_for(world.patient.user).post(
        SESSIONS, session_body(programme, symptoms=symptoms), format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def alerts_seen_by(client_for: ClientFor, user: User, **query: Any) -> list[dict[str, Any]]:
    response = client_for(user).get(ALERTS, query)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def inbox(client_for: ClientFor, user: User, kind: str) -> list[dict[str, Any]]:
    response = client_for(user).get(NOTIFICATIONS, {"kind": kind})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def programme_seen_by_physio(
    client_for: ClientFor, world: World, programme: Programme
) -> dict[str, Any]:
    response = client_for(world.physio).get(f"/api/v1/programmes/{programme.pk}/")
    assert response.status_code == 200, response.json()
    return response.json()


def raise_alert(
    patient: PatientProfile,
    rule_id: str,
    urgency: str,
    key: str,
    audience: str = Audience.PHYSIO,
) -> Alert:
    """An alert as a rule raises it, at the (possibly frozen) current time."""
    return alert_raised(
        patient,
        key=key,
        rule_id=rule_id,
        urgency=urgency,
        reason=f"{rule_id} fired for the test ({key}).",
        evidence={"test": key},
        audience=audience,
    )


@pytest.fixture
def physician(world: World) -> User:
    """A third care-team member of world.patient, neither physiotherapist nor nurse."""
    member = ClinicianFactory.create(organisation=world.org, role="physician")
    CareTeamMembershipFactory.create(patient=world.patient, member=member, role="physician")
    return member


@pytest.fixture
def traveller() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(timezone.now(), tick=False) as frozen:
        yield frozen


# --- Symptom tiers ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_tier_1_symptom_raises_an_emergency_alert_before_the_response_and_pauses(
    world, programme, client_for, physician
):
    # given an active programme and its care team: physio, nurse and physician

    # when the patient logs a session with chest pain
    session = log_symptoms(client_for, world, programme, ["chest_pain"])

    # then the response tells the patient to call emergency services
    assert "emergency services" in session["safety_message"].lower()
    # and the alert row already exists, explaining itself
    alert = Alert.objects.get(patient=world.patient)
    assert alert.rule_id == "SYM-1"
    assert alert.urgency == "emergency"
    assert alert.status == "open"
    assert alert.evidence["symptoms"] == ["chest_pain"]
    assert alert.evidence["session_id"] == session["id"]
    assert "chest pain" in alert.reason.lower()
    # and the programme is paused for the red flag
    shown = programme_seen_by_physio(client_for, world, programme)
    assert shown["status"] == "paused"
    assert shown["pause_reason"] == "red_flag"
    # and every care-team member was told; the patient and caregiver were not
    for member in (world.physio, world.nurse, physician):
        told = inbox(client_for, member, "alert")
        assert [(n["subject_type"], n["subject_id"]) for n in told] == [("alert", alert.pk)]
    assert inbox(client_for, world.patient.user, "alert") == []
    assert inbox(client_for, world.caregiver, "alert") == []
    # and the physio sees it in the alert list
    (listed,) = alerts_seen_by(client_for, world.physio)
    assert listed["id"] == alert.pk
    assert listed["rule_id"] == "SYM-1"
    assert listed["urgency"] == "emergency"
    assert listed["evidence"]["session_id"] == session["id"]


@pytest.mark.django_db
def test_tier_2_symptom_raises_an_urgent_alert_to_physio_and_nurse_and_pauses(
    world, programme, client_for, physician
):
    # when
    session = log_symptoms(client_for, world, programme, ["dark_urine"])

    # then
    assert "today" in session["safety_message"]
    (alert,) = alerts_seen_by(client_for, world.physio)
    assert (alert["rule_id"], alert["urgency"]) == ("SYM-2", "urgent")
    assert alert["evidence"]["symptoms"] == ["dark_urine"]
    assert len(inbox(client_for, world.physio, "alert")) == 1
    assert len(inbox(client_for, world.nurse, "alert")) == 1
    assert inbox(client_for, physician, "alert") == []
    assert inbox(client_for, world.patient.user, "alert") == []
    shown = programme_seen_by_physio(client_for, world, programme)
    assert (shown["status"], shown["pause_reason"]) == ("paused", "red_flag")


@pytest.mark.django_db
def test_tier_3_symptom_raises_a_routine_alert_to_the_physio_only_and_keeps_training(
    world, programme, client_for
):
    # when
    session = log_symptoms(client_for, world, programme, ["rash_flare"])

    # then
    assert "emergency" not in session["safety_message"].lower()
    (alert,) = alerts_seen_by(client_for, world.physio)
    assert (alert["rule_id"], alert["urgency"]) == ("SYM-3", "routine")
    assert len(inbox(client_for, world.physio, "alert")) == 1
    assert inbox(client_for, world.nurse, "alert") == []
    assert programme_seen_by_physio(client_for, world, programme)["status"] == "active"


@pytest.mark.django_db
def test_a_log_without_symptoms_raises_nothing(world, programme, client_for):
    # when
    session = log_symptoms(client_for, world, programme, [])

    # then
    assert session["safety_message"] is None
    assert alerts_seen_by(client_for, world.physio) == []
    assert inbox(client_for, world.physio, "alert") == []
    assert inbox(client_for, world.nurse, "alert") == []
    assert programme_seen_by_physio(client_for, world, programme)["status"] == "active"


@pytest.mark.django_db
def test_tier_1_and_tier_3_in_one_log_raise_one_alert_per_tier(world, programme, client_for):
    # when
    session = log_symptoms(client_for, world, programme, ["rash_flare", "fainting"])

    # then the emergency message wins, and each tier has its alert
    assert "emergency services" in session["safety_message"].lower()
    listed = alerts_seen_by(client_for, world.physio)
    assert [(a["rule_id"], a["urgency"]) for a in listed] == [
        ("SYM-1", "emergency"),
        ("SYM-3", "routine"),
    ]
    assert [a["evidence"]["symptoms"] for a in listed] == [["fainting"], ["rash_flare"]]
    assert len(inbox(client_for, world.physio, "alert")) == 2
    assert len(inbox(client_for, world.nurse, "alert")) == 1  # the emergency only
    assert programme_seen_by_physio(client_for, world, programme)["status"] == "paused"


@pytest.mark.django_db
def test_replaying_a_red_flag_upload_raises_no_second_alert(world, programme, client_for):
    # given a log with chest pain, stored once
    body = session_body(programme, symptoms=["chest_pain"])
    patient = client_for(world.patient.user)
    first = patient.post(SESSIONS, body, format="json")
    assert first.status_code == 201, first.json()

    # when the phone uploads it again with the same client_id
    replay = patient.post(SESSIONS, body, format="json")

    # then the stored log comes back and nothing new is raised or sent
    assert replay.status_code == 200, replay.json()
    assert replay.json()["id"] == first.json()["id"]
    assert "emergency services" in replay.json()["safety_message"].lower()
    assert len(alerts_seen_by(client_for, world.physio)) == 1
    assert len(inbox(client_for, world.physio, "alert")) == 1
    assert len(inbox(client_for, world.nurse, "alert")) == 1


@pytest.mark.django_db
def test_red_flags_uploaded_in_an_offline_sync_raise_their_alerts(world, programme, client_for):
    # given two logs recorded offline, one with a tier-2 symptom
    logs = [session_body(programme), session_body(programme, symptoms=["fever"])]

    # when the phone syncs them
    response = client_for(world.patient.user).post(
        f"{SESSIONS}sync/", {"logs": logs}, format="json"
    )

    # then
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 2
    (alert,) = alerts_seen_by(client_for, world.physio)
    assert (alert["rule_id"], alert["urgency"]) == ("SYM-2", "urgent")
    assert len(inbox(client_for, world.nurse, "alert")) == 1
    assert programme_seen_by_physio(client_for, world, programme)["status"] == "paused"


@pytest.mark.django_db
def test_a_red_flag_added_when_correcting_a_log_raises_its_alert(world, programme, client_for):
    # given a log without symptoms
    session = log_symptoms(client_for, world, programme, [])

    # when the patient, asked again later, corrects it to report chest pain
    response = client_for(world.patient.user).patch(
        f"{SESSIONS}{session['id']}/", {"symptoms": ["chest_pain"]}, format="json"
    )

    # then it is handled like a red flag in a new log (DOMAIN.md 5: "in the request that
    # reports them")
    assert response.status_code == 200, response.json()
    assert "emergency services" in response.json()["safety_message"].lower()
    (alert,) = alerts_seen_by(client_for, world.physio)
    assert (alert["rule_id"], alert["urgency"]) == ("SYM-1", "emergency")
    assert len(inbox(client_for, world.nurse, "alert")) == 1
    assert programme_seen_by_physio(client_for, world, programme)["status"] == "paused"


# --- Who sees alerts --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "outsider",
    ["patient", "caregiver", "other_team_physio", "other_org_physio", "org_admin"],
)
def test_only_the_care_team_sees_and_handles_an_alert(world, programme, client_for, outsider):
    # given an emergency alert about world.patient
    log_symptoms(client_for, world, programme, ["chest_pain"])
    alert = Alert.objects.get()
    user = world.patient.user if outsider == "patient" else getattr(world, outsider)
    client = client_for(user)

    # when
    listed = client.get(ALERTS)
    acknowledged = client.post(acknowledge_url(alert.pk))
    resolved = client.post(resolve_url(alert.pk), {"note": "Seen."}, format="json")

    # then
    assert listed.status_code == 200, listed.json()
    assert listed.json()["count"] == 0
    assert listed.json()["results"] == []
    assert acknowledged.status_code == 404
    assert resolved.status_code == 404
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_at, alert.resolved_at) == ("open", None, None)


@pytest.mark.django_db
def test_anonymous_callers_are_refused(world, programme, client_for):
    # given
    log_symptoms(client_for, world, programme, ["chest_pain"])
    alert = Alert.objects.get()
    anonymous = APIClient()

    # when / then
    assert anonymous.get(ALERTS).status_code == 401
    assert anonymous.post(acknowledge_url(alert.pk)).status_code == 401
    assert anonymous.post(resolve_url(alert.pk), {"note": "x"}, format="json").status_code == 401
    alert.refresh_from_db()
    assert alert.status == "open"


# --- Acknowledge and resolve ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_acknowledgement_stays(world, programme, client_for):
    # given
    log_symptoms(client_for, world, programme, ["chest_pain"])
    alert = Alert.objects.get()

    # when the physio acknowledges, then the nurse does too
    by_physio = client_for(world.physio).post(acknowledge_url(alert.pk))
    by_nurse = client_for(world.nurse).post(acknowledge_url(alert.pk))

    # then
    assert by_physio.status_code == 200, by_physio.json()
    first = by_physio.json()
    assert first["status"] == "acknowledged"
    assert first["acknowledged_by"]["id"] == world.physio.pk
    assert first["acknowledged_at"] is not None
    assert by_nurse.status_code == 200, by_nurse.json()
    again = by_nurse.json()
    assert again["status"] == "acknowledged"
    assert again["acknowledged_by"]["id"] == world.physio.pk
    assert again["acknowledged_at"] == first["acknowledged_at"]
    (listed,) = alerts_seen_by(client_for, world.nurse)
    assert listed["acknowledged_by"]["id"] == world.physio.pk


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": "   "}])
def test_resolving_needs_a_note(world, programme, client_for, body):
    # given
    log_symptoms(client_for, world, programme, ["chest_pain"])
    alert = Alert.objects.get()

    # when
    response = client_for(world.physio).post(resolve_url(alert.pk), body, format="json")

    # then
    assert response.status_code == 400, response.json()
    assert "note" in response.json()["errors"]
    alert.refresh_from_db()
    assert (alert.status, alert.resolved_at) == ("open", None)


@pytest.mark.django_db
def test_resolving_with_a_note_closes_the_alert(world, programme, client_for):
    # given an alert the physio acknowledged
    log_symptoms(client_for, world, programme, ["chest_pain"])
    alert = Alert.objects.get()
    client_for(world.physio).post(acknowledge_url(alert.pk))

    # when the nurse resolves it
    response = client_for(world.nurse).post(
        resolve_url(alert.pk), {"note": "Phoned the family; seen in A&E, ECG normal."}
    )

    # then
    assert response.status_code == 200, response.json()
    resolved = response.json()
    assert resolved["status"] == "resolved"
    assert resolved["resolution_note"] == "Phoned the family; seen in A&E, ECG normal."
    assert resolved["resolved_by"]["id"] == world.nurse.pk
    assert resolved["resolved_at"] is not None
    assert resolved["acknowledged_by"]["id"] == world.physio.pk
    (listed,) = alerts_seen_by(client_for, world.physio, status="resolved")
    assert listed["resolution_note"] == "Phoned the family; seen in A&E, ECG normal."


@pytest.mark.django_db
def test_alert_list_filters(world, client_for):
    # given alerts about two of the physio's patients in several states
    CareTeamMembershipFactory.create(patient=world.other_patient, member=world.physio)
    chest = raise_alert(world.patient, "SYM-1", "emergency", "s1")
    urine = raise_alert(world.patient, "SYM-2", "urgent", "s2")
    absent = raise_alert(world.other_patient, "A-3", "routine", "w1")
    client_for(world.physio).post(acknowledge_url(urine.pk))
    client_for(world.physio).post(resolve_url(absent.pk), {"note": "Was on holiday."})

    def ids(**query: Any) -> set[int]:
        return {a["id"] for a in alerts_seen_by(client_for, world.physio, **query)}

    # when / then
    assert ids() == {chest.pk, urine.pk, absent.pk}
    assert ids(status="open") == {chest.pk}
    assert ids(status="acknowledged") == {urine.pk}
    assert ids(status="resolved") == {absent.pk}
    assert ids(urgency="emergency") == {chest.pk}
    assert ids(urgency="routine") == {absent.pk}
    assert ids(patient=world.patient.pk) == {chest.pk, urine.pk}
    assert ids(patient=world.other_patient.pk) == {absent.pk}
    assert ids(rule="SYM-1") == {chest.pk}
    assert ids(rule="A-3") == {absent.pk}
    assert ids(rule="SYM-1", status="acknowledged") == set()
    # and the other team's physio sees only their own patient's alert
    assert {a["id"] for a in alerts_seen_by(client_for, world.other_team_physio)} == {absent.pk}


@pytest.mark.django_db
def test_alert_list_puts_the_most_urgent_first_then_the_newest(world, client_for, traveller):
    # given alerts raised one hour apart, in mixed urgencies
    raised: dict[str, Alert] = {}
    for key, rule_id, urgency in [
        ("routine-old", "SYM-3", "routine"),
        ("urgent-old", "SYM-2", "urgent"),
        ("emergency-old", "SYM-1", "emergency"),
        ("info", "A-1", "info"),
        ("emergency-new", "SYM-1", "emergency"),
        ("routine-new", "A-3", "routine"),
        ("urgent-new", "FD-2", "urgent"),
    ]:
        raised[key] = raise_alert(world.patient, rule_id, urgency, key)
        traveller.shift(timedelta(hours=1))

    # when
    listed = alerts_seen_by(client_for, world.physio)

    # then
    order = ["emergency-new", "emergency-old", "urgent-new", "urgent-old"]
    order += ["routine-new", "routine-old", "info"]
    assert [a["id"] for a in listed] == [raised[key].pk for key in order]


@pytest.mark.django_db
def test_alert_list_runs_a_fixed_number_of_queries(world, client_for):
    # given
    client = client_for(world.physio)
    first = raise_alert(world.patient, "SYM-1", "emergency", "q0")
    client.post(acknowledge_url(first.pk))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(ALERTS).status_code == 200
        return len(captured)

    one = queries()
    for n in range(1, 6):
        alert = raise_alert(world.patient, "SYM-3", "routine", f"q{n}")
        client_for(world.nurse).post(resolve_url(alert.pk), {"note": "Reviewed."})

    # when / then
    assert queries() == one


# --- Escalation -------------------------------------------------------------------------------


def escalate() -> str:
    """`python manage.py escalate_alerts`, as an operator or the beat schedule runs it."""
    out = io.StringIO()
    call_command("escalate_alerts", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_an_unacknowledged_emergency_is_escalated_once_after_30_minutes(
    world, programme, client_for, physician, traveller
):
    # given an emergency alert sent to the care team
    log_symptoms(client_for, world, programme, ["chest_pain"])
    alert = Alert.objects.get()
    team = (world.physio, world.nurse, physician)

    # when nobody acknowledges for 29 minutes
    traveller.shift(timedelta(minutes=29))
    assert escalate().startswith("0 alert(s) escalated")

    # then nothing is escalated yet
    alert.refresh_from_db()
    assert alert.escalated_at is None
    assert all(inbox(client_for, member, "alert_escalated") == [] for member in team)

    # when 31 minutes have passed
    traveller.shift(timedelta(minutes=2))
    assert escalate().startswith("1 alert(s) escalated")

    # then the alert is marked escalated and re-sent to every care-team member
    alert.refresh_from_db()
    assert alert.escalated_at == timezone.now()
    for member in team:
        told = inbox(client_for, member, "alert_escalated")
        assert [(n["subject_type"], n["subject_id"]) for n in told] == [("alert", alert.pk)]
    assert inbox(client_for, world.patient.user, "alert_escalated") == []
    assert inbox(client_for, world.caregiver, "alert_escalated") == []
    (listed,) = alerts_seen_by(client_for, world.physio)
    assert listed["escalated_at"] is not None

    # when the job runs again, later
    escalated_at = alert.escalated_at
    traveller.shift(timedelta(minutes=30))
    assert escalate().startswith("0 alert(s) escalated")
    assert escalate().startswith("0 alert(s) escalated")

    # then nothing more happens
    alert.refresh_from_db()
    assert alert.escalated_at == escalated_at
    assert all(len(inbox(client_for, member, "alert_escalated")) == 1 for member in team)


@pytest.mark.django_db
def test_an_acknowledged_emergency_is_never_escalated(world, programme, client_for, traveller):
    # given an emergency alert the nurse acknowledged after 5 minutes
    log_symptoms(client_for, world, programme, ["chest_pain"])
    alert = Alert.objects.get()
    traveller.shift(timedelta(minutes=5))
    assert client_for(world.nurse).post(acknowledge_url(alert.pk)).status_code == 200

    # when the escalation job runs long after
    traveller.shift(timedelta(minutes=30))
    escalate()
    traveller.shift(timedelta(hours=5))
    escalate()

    # then
    alert.refresh_from_db()
    assert alert.escalated_at is None
    assert inbox(client_for, world.physio, "alert_escalated") == []
    assert inbox(client_for, world.nurse, "alert_escalated") == []


@pytest.mark.django_db
def test_an_unacknowledged_urgent_alert_escalates_after_4_hours_to_the_whole_team(
    world, programme, client_for, physician, traveller
):
    # given an urgent alert, first sent to the physio and nurse only
    log_symptoms(client_for, world, programme, ["new_weakness"])
    alert = Alert.objects.get()
    assert alert.urgency == "urgent"
    assert inbox(client_for, physician, "alert") == []

    # when 3 h 59 min have passed
    traveller.shift(timedelta(hours=3, minutes=59))
    escalate()

    # then
    alert.refresh_from_db()
    assert alert.escalated_at is None
    assert inbox(client_for, world.physio, "alert_escalated") == []

    # when 4 h 1 min have passed
    traveller.shift(timedelta(minutes=2))
    escalate()

    # then every care-team member, the physician included, is told
    alert.refresh_from_db()
    assert alert.escalated_at is not None
    for member in (world.physio, world.nurse, physician):
        assert len(inbox(client_for, member, "alert_escalated")) == 1


@pytest.mark.django_db
def test_routine_alerts_are_never_escalated(world, client_for, traveller):
    # given
    alert = raise_alert(world.patient, "SYM-3", "routine", "r1")

    # when
    traveller.shift(timedelta(days=3))
    escalate()

    # then
    alert.refresh_from_db()
    assert alert.escalated_at is None
    assert inbox(client_for, world.physio, "alert_escalated") == []


# --- Races (PostgreSQL) -----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_acknowledgements_record_one(world, client_for):
    # given an open emergency alert and its physio and nurse, each on ten phones
    alert = raise_alert(world.patient, "SYM-1", "emergency", "race", Audience.TEAM)
    count = 20
    clients = [client_for(world.physio if n % 2 == 0 else world.nurse) for n in range(count)]

    def tap(index: int) -> tuple[int, Any]:
        response = clients[index].post(acknowledge_url(alert.pk))
        return response.status_code, response.json()

    # when all tap "acknowledge" at once
    results = all_at_once(count, tap)

    # then every tap succeeds and all show the one acknowledgement stored
    assert not [r for r in results if not isinstance(r, tuple)], results
    assert [status for status, _ in results] == [200] * count
    shown = {(body["acknowledged_at"], body["acknowledged_by"]["id"]) for _, body in results}
    assert len(shown) == 1
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    ((acknowledged_at, acknowledged_by),) = shown
    assert acknowledged_by == alert.acknowledged_by_id
    assert datetime.fromisoformat(acknowledged_at) == alert.acknowledged_at
