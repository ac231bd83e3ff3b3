"""GET /api/v1/audit/: an organisation admin reads their organisation's audit trail, filtered;
nobody else reads it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.audit.models import AccessEvent
from tests.builders import access_event, session_reads

pytestmark = pytest.mark.django_db

AUDIT = "/api/v1/audit/"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _event(actor, patient, *, action="read", resource="patient", at=T0, **extra) -> AccessEvent:
    return access_event(
        actor,
        patient,
        action=action,
        resource=resource,
        at=at,
        request_id="req-1",
        ip="192.0.2.1",
        **extra,
    )


@pytest.fixture
def trail(world) -> dict[str, AccessEvent]:
    return {
        "physio_read": _event(world.physio, world.patient, at=T0),
        "nurse_ack": _event(
            world.nurse,
            world.patient,
            action="acknowledge",
            resource="alert",
            at=T0 + timedelta(hours=1),
        ),
        "other_patient": _event(
            world.other_team_physio, world.other_patient, at=T0 + timedelta(hours=2)
        ),
        "patient_write": _event(
            world.patient.user,
            world.patient,
            action="create",
            resource="session",
            at=T0 + timedelta(hours=3),
        ),
        "foreign": _event(
            world.other_org_physio, world.foreign_patient, at=T0 + timedelta(hours=4)
        ),
    }


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


def test_an_org_admin_sees_their_organisations_events_newest_first(world, trail, client_for):
    response = client_for(world.org_admin).get(AUDIT)

    assert _ids(response) == [
        trail[key].pk for key in ("patient_write", "other_patient", "nurse_ack", "physio_read")
    ]
    row = response.json()["results"][-1]
    assert row == {
        "id": trail["physio_read"].pk,
        "occurred_at": "2026-11-02T09:00:00Z",
        "actor": world.physio.pk,
        "actor_name": world.physio.display_name,
        "actor_role": "physiotherapist",
        "patient": world.patient.pk,
        "action": "read",
        "resource_type": "patient",
        "resource_id": world.patient.pk,
        "request_id": "req-1",
        "ip": "192.0.2.1",
        "changes": None,
    }


def test_an_org_admin_never_sees_another_organisations_events(world, trail, client_for):
    response = client_for(world.org_admin).get(AUDIT, {"patient": world.foreign_patient.pk})

    assert _ids(response) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor": "nurse"}, ["nurse_ack"]),
        ({"patient": "patient"}, ["patient_write", "nurse_ack", "physio_read"]),
        ({"action": "acknowledge"}, ["nurse_ack"]),
        ({"resource_type": "session"}, ["patient_write"]),
        ({"occurred_after": "2026-11-02T11:00:00Z"}, ["patient_write", "other_patient"]),
        ({"occurred_before": "2026-11-02T10:00:00Z"}, ["physio_read"]),
        (
            {"patient": "patient", "action": "read", "occurred_before": "2026-11-02T12:00:00Z"},
            ["physio_read"],
        ),
    ],
)
def test_filters(world, trail, client_for, params, expected):
    ids = {"nurse": world.nurse.pk, "patient": world.patient.pk}
    query = {key: ids.get(value, value) for key, value in params.items()}

    response = client_for(world.org_admin).get(AUDIT, query)

    assert _ids(response) == [trail[key].pk for key in expected]


@pytest.mark.parametrize(
    "query",
    [{"action": "erase"}, {"actor": "x"}, {"occurred_after": "yesterday"}, {"patient": "0"}],
)
def test_a_bad_filter_is_a_400(world, client_for, query):
    response = client_for(world.org_admin).get(AUDIT, query)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(query)


@pytest.mark.parametrize(
    "who", ["physio", "nurse", "caregiver", "other_org_physio", "patient_user"]
)
def test_only_organisation_admins_read_the_audit(world, trail, client_for, who):
    user = world.patient.user if who == "patient_user" else getattr(world, who)

    response = client_for(user).get(AUDIT)

    assert response.status_code == 403
    assert "req-1" not in response.content.decode()


def test_anonymous_is_401(api_client):
    assert api_client.get(AUDIT).status_code == 401


@pytest.mark.parametrize("n", [1, 50])
def test_the_audit_runs_a_fixed_number_of_queries(world, client_for, n):
    session_reads(world.patient, [world.physio, world.nurse], n, start=T0)
    client = client_for(world.org_admin)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(AUDIT)

    assert len(response.json()["results"]) == n
    # auth user; the page joined to the actors (no COUNT of the trail, however long)
    assert len(queries) == 2, [q["sql"] for q in queries.captured_queries]
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


def test_pages_follow_the_cursor_newest_first_without_a_count(world, client_for):
    # Given seven events, three of them at the very same instant
    actors = [world.physio, world.nurse]
    events = [_event(actors[n % 2], world.patient, at=T0) for n in range(3)] + [
        _event(world.physio, world.patient, at=T0 + timedelta(minutes=n)) for n in range(1, 5)
    ]
    client = client_for(world.org_admin)

    # When the admin walks the pages of three, and back from the last one
    seen: list[int] = []
    response = client.get(AUDIT, {"page_size": 3, "patient": world.patient.pk})
    assert response.json()["previous"] is None
    pages = 0
    while True:
        body = response.json()
        assert "count" not in body
        seen += _ids(response)
        pages += 1
        if body["next"] is None:
            break
        assert f"patient={world.patient.pk}" in body["next"]  # filters carry over
        response = client.get(body["next"])
    back = client.get(response.json()["previous"])

    # Then every event came once, newest first (ties by id), and `previous` goes back
    newest_first = sorted(events, key=lambda event: (event.occurred_at, event.pk), reverse=True)
    assert seen == [event.pk for event in newest_first]
    assert pages == 3
    assert _ids(back) == seen[3:6]
    assert _ids(client.get(back.json()["previous"])) == seen[:3]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        base64.urlsafe_b64encode(b"[1]").decode(),
        base64.urlsafe_b64encode(b'["n", "2026-11-02T09:00:00", 1]').decode(),  # naive
        base64.urlsafe_b64encode(b'["x", "2026-11-02T09:00:00Z", 1]').decode(),
    ],
)
def test_a_cursor_not_from_a_page_is_a_400(world, client_for, cursor):
    response = client_for(world.org_admin).get(AUDIT, {"cursor": cursor})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"cursor"}
