"""Per-patient rule settings (GET/PUT /api/v1/patients/{id}/rule-settings/): the care team's
clinicians tune thresholds within range and switch off rules that may be off; safety-critical
rules stay on; every change is audited with its old and new values and shows in the summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.alerts.models import Alert, RuleOverride
from backend.alerts.services.decline import decline_evaluate
from backend.alerts.services.rule_settings import rule_settings_update
from backend.audit.models import AccessEvent
from backend.core.errors import DomainError
from backend.exercise.services.assessments import assessment_record
from tests.conftest import World

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

Client = Callable[[User], APIClient]


@pytest.fixture(autouse=True)
def _frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def url(world: World) -> str:
    return f"/api/v1/patients/{world.patient.pk}/rule-settings/"


def put(client: APIClient, world: World, rules: Any) -> Any:
    return client.put(url(world), {"rules": rules}, format="json")


def setting(body: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(rule for rule in body["rules"] if rule["rule"] == rule_id)


def stored() -> dict[str, dict[str, Any]]:
    return dict(RuleOverride.objects.values_list("rule_id", "parameters"))


# --- Access --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("physio", 200, id="team-physio"),
        pytest.param("nurse", 200, id="team-nurse"),
        pytest.param("other_team_physio", 404, id="other-clinician"),
        pytest.param("other_org_physio", 404, id="other-organisation"),
        pytest.param("org_admin", 404, id="org-admin"),
        pytest.param("patient", 403, id="patient"),
        pytest.param("caregiver", 403, id="caregiver"),
    ],
)
def test_only_the_care_teams_clinicians_read_and_change_rule_settings(
    world: World, client_for: Client, who: str, status: int
) -> None:
    # given
    user = world.patient.user if who == "patient" else getattr(world, who)
    client = client_for(user)

    # when
    read = client.get(url(world))
    write = put(client, world, {"FD-1": {"drop_points": 4}})

    # then
    assert read.status_code == status
    assert write.status_code == status
    assert stored() == ({"FD-1": {"drop_points": 4}} if status == 200 else {})
    if status != 200:
        assert "rules" not in read.json()


# --- Reading -------------------------------------------------------------------------------


def test_get_lists_every_configurable_rule_with_values_defaults_and_overrides(
    world: World, client_for: Client, django_assert_num_queries
) -> None:
    # given
    RuleOverride.objects.create(
        patient=world.patient, rule_id="A-2", parameters={"enabled": False}, set_by=world.physio
    )
    client = client_for(world.nurse)

    # when: user, patient, overrides, audit INSERT
    with django_assert_num_queries(4):
        response = client.get(url(world))

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["patient"] == world.patient.pk
    ids = {rule["rule"] for rule in body["rules"]}
    assert {"FD-1", "SYM-2", "A-1", "KID-3", "SUN-1"} <= ids
    assert not ids & {"R-0", "SYM-1", "SYM-3", "S", "PROG-1"}  # nothing to set
    fd1 = setting(body, "FD-1")
    assert fd1["values"] == {"drop_points": 3, "best_window_days": 180, "enabled": True}
    assert fd1["defaults"] == fd1["values"]
    assert fd1["overridden"] == []
    assert fd1["set_by"] is None
    a2 = setting(body, "A-2")
    assert a2["enabled"] is False
    assert a2["overridden"] == ["enabled"]
    assert a2["set_by"]["id"] == world.physio.pk
    sym2 = setting(body, "SYM-2")
    assert sym2["safety_critical"] is True
    assert "enabled" not in sym2["values"]
    assert AccessEvent.objects.filter(resource_type="rule_settings", action="read").count() == 1


# --- Changing ------------------------------------------------------------------------------


def test_put_saves_the_settings_and_answers_what_is_in_force(
    world: World, client_for: Client
) -> None:
    # when
    response = put(
        client_for(world.physio),
        world,
        {
            "FD-1": {"drop_points": 4},
            "A-2": {"enabled": False},
            "SYM-2": {"pain_after_at_least": 6},
        },
    )

    # then
    assert response.status_code == 200, response.json()
    assert setting(response.json(), "FD-1")["values"]["drop_points"] == 4
    assert setting(response.json(), "FD-1")["overridden"] == ["drop_points"]
    assert setting(response.json(), "A-2")["enabled"] is False
    assert stored() == {
        "FD-1": {"drop_points": 4},
        "A-2": {"enabled": False},
        "SYM-2": {"pain_after_at_least": 6},
    }


def test_put_twice_changes_nothing_the_second_time_and_audits_once(
    world: World, client_for: Client
) -> None:
    # given
    client = client_for(world.physio)
    first = put(client, world, {"FD-1": {"drop_points": 4}})

    # when
    second = put(client, world, {"FD-1": {"drop_points": 4}})

    # then
    assert second.status_code == 200
    assert second.json() == first.json()
    assert stored() == {"FD-1": {"drop_points": 4}}
    assert AccessEvent.objects.filter(resource_type="rule_settings", action="update").count() == 1


def test_a_rule_set_back_to_its_defaults_is_no_longer_overridden(
    world: World, client_for: Client
) -> None:
    # given
    client = client_for(world.physio)
    put(client, world, {"FD-1": {"drop_points": 4}, "FD-3": {"drop_ratio": 0.3}})

    # when: FD-1 given its default, FD-3 given nothing
    response = put(client, world, {"FD-1": {"drop_points": 3}, "FD-3": {}})

    # then
    assert response.status_code == 200
    assert stored() == {}


def test_a_change_is_audited_with_who_when_and_old_and_new_values(
    world: World, client_for: Client
) -> None:
    # given
    client = client_for(world.physio)
    put(client, world, {"FD-1": {"drop_points": 4}})

    # when
    put(client, world, {"FD-1": {"drop_points": 5}, "A-2": {"enabled": False}})

    # then
    event = AccessEvent.objects.filter(resource_type="rule_settings", action="update").latest("id")
    assert event.actor == world.physio
    assert event.actor_role == "physiotherapist"
    assert event.patient_id == world.patient.pk
    assert event.resource_id == world.patient.pk
    assert event.occurred_at == NOW
    assert event.changes == {
        "FD-1": {"drop_points": {"old": 4, "new": 5}},
        "A-2": {"enabled": {"old": True, "new": False}},
    }


# --- Validation: nothing is saved ----------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "key", "message"),
    [
        pytest.param({"XX-9": {}}, "rules.XX-9", "Unknown rule.", id="unknown-rule"),
        pytest.param({"SYM-3": {}}, "rules.SYM-3", "no settings", id="rule-without-settings"),
        pytest.param({"FD-1": {"drop": 4}}, "rules.FD-1.drop", "Not a setting", id="unknown-key"),
        pytest.param(
            {"FD-1": {"drop_points": "4"}}, "rules.FD-1.drop_points", "number", id="wrong-type"
        ),
        pytest.param(
            {"FD-6": {"baseline_tests": 2.5}},
            "rules.FD-6.baseline_tests",
            "integer",
            id="not-an-integer",
        ),
        pytest.param(
            {"A-2": {"consecutive_weeks": True}},
            "rules.A-2.consecutive_weeks",
            "integer",
            id="boolean-is-no-integer",
        ),
        pytest.param(
            {"FD-1": {"drop_points": 11}}, "rules.FD-1.drop_points", "between", id="above-range"
        ),
        pytest.param(
            {"FD-2": {"below": 5}}, "rules.FD-2.below", "between", id="safety-threshold-too-low"
        ),
        pytest.param(
            {"FD-1": {"drop_points": 10**400}}, "rules.FD-1.drop_points", "between", id="huge"
        ),
        pytest.param(
            {"FD-5": {"single_rise": 0.8}}, "rules.FD-5.single_rise", "multiple", id="off-step"
        ),
        pytest.param(
            {"SUN-1": {"months": [0, 5]}}, "rules.SUN-1.months", "between", id="list-item"
        ),
        pytest.param({"SUN-1": {"time": "8am"}}, "rules.SUN-1.time", "HH:MM", id="time"),
        pytest.param(
            {"KID-3": {"interval_days": None}, "FD-1": {"drop_points": None}},
            "rules.FD-1.drop_points",
            "null",
            id="null-where-not-allowed",
        ),
        pytest.param(
            {"FD-1": {"enabled": "no"}}, "rules.FD-1.enabled", "true or false", id="switch"
        ),
        pytest.param(
            {"SUN-1": {"enabled": False}}, "rules.SUN-1.enabled", "cannot be", id="no-switch"
        ),
        pytest.param(
            {"FD-1": {"urgency": "urgent"}}, "rules.FD-1.urgency", "Not a setting", id="urgency"
        ),
    ],
)
def test_an_invalid_setting_is_refused_by_rule_and_key_and_nothing_is_saved(
    world: World, client_for: Client, rules: dict[str, Any], key: str, message: str
) -> None:
    # given: a valid change in the same request
    body = {"FD-3": {"drop_ratio": 0.3}, **rules}

    # when
    response = put(client_for(world.physio), world, body)

    # then
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert message in " ".join(errors[key])
    assert stored() == {}
    assert not AccessEvent.objects.filter(action="update").exists()


@pytest.mark.parametrize("body", [{"rules": {"FD-1": 4}}, {"rules": []}, {}, {"rule": {}}])
def test_a_malformed_body_is_refused(world: World, client_for: Client, body: Any) -> None:
    response = client_for(world.physio).put(url(world), body, format="json")

    assert response.status_code == 400
    assert stored() == {}


@pytest.mark.parametrize("rule_id", ["SYM-1", "SYM-2", "FD-2", "FD-4", "KID-1", "A-3"])
def test_switching_off_a_safety_critical_rule_is_refused_saying_why(
    world: World, client_for: Client, rule_id: str
) -> None:
    # when
    response = put(client_for(world.physio), world, {rule_id: {"enabled": False}})

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "safety_critical_rule"
    assert "safety-critical" in body["detail"]
    assert "safety-critical" in body["errors"][f"rules.{rule_id}.enabled"][0]
    assert stored() == {}


def test_a_safety_critical_threshold_may_be_tuned_within_range(
    world: World, client_for: Client
) -> None:
    response = put(client_for(world.physio), world, {"FD-2": {"below": 20}, "KID-1": {}})

    assert response.status_code == 200
    assert stored() == {"FD-2": {"below": 20}}


def test_the_service_refuses_a_clinician_outside_the_care_team(world: World) -> None:
    with pytest.raises(DomainError) as refused:
        rule_settings_update(
            patient=world.patient, by=world.other_team_physio, changes={"FD-1": {}}
        )

    assert refused.value.status == 403


def test_an_urgency_set_in_the_admin_is_kept_when_thresholds_change(
    world: World, client_for: Client
) -> None:
    # given
    RuleOverride.objects.create(
        patient=world.patient, rule_id="FD-1", parameters={"urgency": "urgent"}
    )

    # when
    response = put(client_for(world.physio), world, {"FD-1": {"drop_points": 4}})

    # then
    assert stored() == {"FD-1": {"urgency": "urgent", "drop_points": 4}}
    assert setting(response.json(), "FD-1")["urgency"] == "urgent"


# --- Effects -------------------------------------------------------------------------------


def test_the_patient_summary_lists_the_rules_that_differ_from_the_defaults(
    world: World, client_for: Client
) -> None:
    # given
    put(client_for(world.physio), world, {"FD-1": {"drop_points": 4}})

    # when
    summary = client_for(world.nurse).get(f"/api/v1/patients/{world.patient.pk}/summary/")
    own = client_for(world.patient.user).get(f"/api/v1/patients/{world.patient.pk}/summary/")

    # then
    assert summary.status_code == 200
    (changed,) = summary.json()["rule_overrides"]
    assert changed["rule"] == "FD-1"
    assert changed["values"]["drop_points"] == 4
    assert changed["defaults"]["drop_points"] == 3
    assert changed["overridden"] == ["drop_points"]
    assert own.json()["rule_overrides"] is None  # clinical configuration: the team's


def _cmas(world: World, value: int, days_ago: int) -> None:
    assessment_record(
        by=world.physio,
        patient=world.patient,
        data={
            "measure": "CMAS",
            "value": Decimal(value),
            "setting": "clinic",
            "measured_at": NOW - timedelta(days=days_ago),
        },
    )


@pytest.mark.parametrize(("drop_points", "fires"), [(None, True), (5, False)])
def test_a_changed_threshold_changes_what_the_rule_raises(
    world: World, client_for: Client, drop_points: int | None, fires: bool
) -> None:
    # given: a CMAS drop of 3 points, and FD-1 raised to 5 points (or left at 3)
    if drop_points is not None:
        response = put(client_for(world.physio), world, {"FD-1": {"drop_points": drop_points}})
        assert response.status_code == 200
    _cmas(world, 44, 60)
    _cmas(world, 41, 1)

    # when
    decline_evaluate(patient_ids=[world.patient.pk], now=NOW)

    # then
    assert Alert.objects.filter(rule_id="FD-1").exists() is fires
