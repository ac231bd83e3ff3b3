"""Date-time filters take any ISO 8601 offset (found by schemathesis: `+22:47` made PostgreSQL
fail, "time zone displacement out of range", and the list answered 500)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.exercise.conftest import session_body

pytestmark = pytest.mark.django_db

FILTERS = [
    ("/api/v1/sessions/", "started_after"),
    ("/api/v1/sessions/", "started_before"),
    ("/api/v1/sessions/", "updated_since"),
    ("/api/v1/programmes/", "updated_since"),
    ("/api/v1/assessments/", "measured_after"),
    ("/api/v1/assessments/", "measured_before"),
    ("/api/v1/audit/", "occurred_after"),
    ("/api/v1/audit/", "occurred_before"),
]


def reader(world, url):
    """The audit trail is the organisation admin's; the rest the physiotherapist reads."""
    return world.org_admin if url.startswith("/api/v1/audit/") else world.physio


FAR_EAST = timezone(timedelta(hours=22, minutes=47))  # valid ISO 8601, beyond PostgreSQL's ±15:59


@pytest.mark.parametrize(("url", "name"), FILTERS)
def test_an_offset_beyond_fifteen_hours_filters_by_the_same_instant(
    world, programme, client_for, url, name
):
    client = client_for(reader(world, url))
    instant = datetime.now(FAR_EAST) - timedelta(days=400)

    response = client.get(url, {name: instant.isoformat(), "patient": world.patient.pk})

    assert response.status_code == 200, response.content[:300]


def test_the_far_offset_means_the_same_instant_as_utc(world, programme, client_for):
    # Given a log started an hour ago
    client = client_for(world.patient.user)
    started = datetime.now(UTC) - timedelta(hours=1)
    logged = client.post("/api/v1/sessions/", session_body(programme, started_at=started))
    assert logged.status_code == 201, logged.content[:300]

    # When the patient asks for logs started after a minute before and after that instant,
    # both written with an offset of +22:47
    before = (started - timedelta(minutes=1)).astimezone(FAR_EAST).isoformat()
    after = (started + timedelta(minutes=1)).astimezone(FAR_EAST).isoformat()
    found = client.get("/api/v1/sessions/", {"started_after": before}).json()["count"]
    none = client.get("/api/v1/sessions/", {"started_after": after}).json()["count"]

    # Then the offset was honoured, not dropped
    assert (found, none) == (1, 0)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+23:00", "9999-12-31T23:59:59-23:00"])
@pytest.mark.parametrize(("url", "name"), FILTERS)
def test_an_instant_outside_the_calendar_is_a_400_naming_the_filter(
    world, client_for, url, name, value
):
    response = client_for(reader(world, url)).get(url, {name: value})

    assert response.status_code == 400, response.content[:300]
    assert name in response.json()["errors"]
