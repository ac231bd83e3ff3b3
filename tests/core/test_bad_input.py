"""Bad input on the three busiest writes (a patient's session log, an assessment, a clinician
prescribing a programme): each answer is a 4xx in the error shape, never a 500, and nothing
is half-saved. Free text is stored and returned exactly as sent, never interpreted."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from backend.exercise.models import (
    Assessment,
    Programme,
    ProgrammeItem,
    ProgrammeVersion,
    SessionItemResult,
    SessionLog,
)
from tests.conftest import World
from tests.exercise.conftest import as_json, content, session_body

pytestmark = pytest.mark.django_db


@dataclass
class Target:
    actor: Callable[[World], Any]
    url: str
    body: Callable[[Any], dict[str, Any]]  # a valid body, given the programme
    rows: Callable[[], tuple[int, ...]]  # everything a write could add
    number: str  # a numeric field
    out_of_range: dict[str, Any]
    text: str  # a free-text field
    when: str  # a timestamp (or date) field


def _programme_body(programme: Programme) -> dict[str, Any]:
    from backend.exercise.models import Exercise

    library = {e.name: e for e in Exercise.objects.all()}
    data = content(
        {
            "squat": library["Chair squat"],
            "curl": library["Biceps curl"],
            "bike": library["Stationary cycling"],
        },
        start_date=timezone.localdate(),
        review_date=timezone.localdate() + timedelta(weeks=12),
    )
    return {**as_json(data), "patient": programme.patient_id, "activate": False}


def _assessment_body(programme: Programme) -> dict[str, Any]:
    return {
        "patient": programme.patient_id,
        "measure": "CMAS",
        "value": "40",
        "setting": "clinic",
        "measured_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "note": "Clinic visit",
    }


TARGETS = {
    "session": Target(
        actor=lambda w: w.patient.user,
        url="/api/v1/sessions/",
        body=session_body,
        rows=lambda: (SessionLog.objects.count(), SessionItemResult.objects.count()),
        number="pain_before",
        out_of_range={"pain_before": 11},
        text="note",
        when="started_at",
    ),
    "assessment": Target(
        actor=lambda w: w.physio,
        url="/api/v1/assessments/",
        body=_assessment_body,
        rows=lambda: (Assessment.objects.count(),),
        number="value",
        out_of_range={"value": "53"},  # CMAS is 0–52
        text="note",
        when="measured_at",
    ),
    "programme": Target(
        actor=lambda w: w.physio,
        url="/api/v1/programmes/",
        body=_programme_body,
        rows=lambda: (
            Programme.objects.count(),
            ProgrammeVersion.objects.count(),
            ProgrammeItem.objects.count(),
        ),
        number="sessions_per_week_min",
        out_of_range={"sessions_per_week_max": 8},
        text="goals",
        when="start_date",
    ),
}


@pytest.fixture(params=list(TARGETS))
def target(request: pytest.FixtureRequest) -> Target:
    return TARGETS[request.param]


@pytest.fixture
def send(target, world, client_for, programme) -> Callable[..., Any]:
    """Posts to the target as its actor: a dict as JSON, or raw text with a content type."""
    client: APIClient = client_for(target.actor(world))

    def post(body: Any = None, *, raw: str | bytes | None = None, content_type: str = "") -> Any:
        if raw is not None:
            return client.post(
                target.url, data=raw, content_type=content_type or "application/json"
            )
        return client.post(target.url, body, format="json")

    return post


@pytest.fixture
def good(target, programme) -> dict[str, Any]:
    return target.body(programme)


def assert_refused(response: Any, status: int = 400, field: str | None = None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"status", "code", "detail", "request_id"}
    assert body["status"] == status
    assert body["detail"]
    if field is not None:
        assert field in body["errors"], body


def test_the_valid_body_is_accepted(send, good, target):
    before = target.rows()

    response = send(good)

    assert response.status_code == 201, response.content
    assert target.rows() != before


def test_malformed_json(send, target):
    before = target.rows()

    response = send(raw='{"note": "half a document",')

    assert_refused(response)
    assert response.json()["code"] == "parse_error"
    assert target.rows() == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_wrong_content_type_is_415(send, good, target, content_type):
    before = target.rows()

    response = send(raw=json.dumps(good), content_type=content_type)

    assert_refused(response, 415)
    assert response.json()["code"] == "unsupported_media_type"
    assert target.rows() == before


def test_an_oversized_body_is_413(send, good, target, settings):
    settings.REQUEST_BODY_MAX_BYTES = 4096
    before = target.rows()

    response = send({**good, target.text: "x" * 5000})

    assert_refused(response, 413)
    assert target.rows() == before


@pytest.mark.parametrize("depth", [100, 50_000])
def test_deeply_nested_json(send, good, target, depth):
    before = target.rows()
    nested = "[" * depth + "]" * depth
    raw = json.dumps(good)[:-1] + f', "{target.text}": {nested}}}'

    response = send(raw=raw)

    assert_refused(response)
    assert target.rows() == before


def test_an_unknown_field(send, good, target):
    before = target.rows()

    response = send({**good, "is_admin": True})

    assert_refused(response, field="is_admin")
    assert target.rows() == before


@pytest.mark.parametrize("value", ["seven", "", [], {}, True, "1e400", "0x10"])
def test_a_string_or_other_type_where_a_number_is_expected(send, good, target, value):
    before = target.rows()

    response = send({**good, target.number: value})

    assert_refused(response, field=target.number)
    assert target.rows() == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_nan_and_infinity_in_the_json_text(send, good, target, literal):
    before = target.rows()
    raw = json.dumps({**good, target.number: "PLACEHOLDER"}).replace('"PLACEHOLDER"', literal)

    response = send(raw=raw)

    assert 400 <= response.status_code < 500
    assert_refused(response)
    assert target.rows() == before


def test_an_out_of_range_value(send, good, target):
    before = target.rows()
    (field,) = target.out_of_range

    response = send({**good, **target.out_of_range})

    assert_refused(response, field=field)
    assert target.rows() == before


@pytest.mark.parametrize("target", ["session", "assessment"], indirect=True)
def test_a_timestamp_without_a_time_zone(send, good, target):
    before = target.rows()
    naive = timezone.now().replace(tzinfo=None) - timedelta(hours=1)

    response = send({**good, target.when: naive.isoformat()})

    assert_refused(response, field=target.when)
    assert "time zone" in json.dumps(response.json()["errors"])
    assert target.rows() == before


@pytest.mark.parametrize(
    "moment",
    [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "10000-01-01T00:00:00Z",
        "2026-02-30T10:00:00Z",
        "1899-12-31T23:00:00Z",
    ],
)
def test_far_future_far_past_and_impossible_dates(send, good, target, moment):
    before = target.rows()
    value = moment[:10] if target.when == "start_date" else moment
    changes = {target.when: value}
    if target.when == "started_at":
        changes["ended_at"] = value  # keep the pair consistent so the date itself is judged

    response = send({**good, **changes})

    assert_refused(response)
    assert target.rows() == before


@pytest.mark.parametrize(
    "text",
    [
        "before\u0000after",  # PostgreSQL cannot store NUL in text
        "\u0000",
    ],
)
def test_a_nul_character_in_free_text_is_a_field_error(send, good, target, text):
    before = target.rows()

    response = send({**good, target.text: text})

    assert_refused(response, field=target.text)
    assert target.rows() == before


def test_a_lone_surrogate_is_refused_not_a_500(send, good, target):
    """JSON may escape half a UTF-16 pair (\\ud800); it is not text and cannot be stored."""
    before = target.rows()
    raw = json.dumps({**good, target.text: "PLACEHOLDER"}).replace("PLACEHOLDER", "abc\\ud800")

    response = send(raw=raw)

    assert_refused(response)
    assert target.rows() == before


@pytest.mark.parametrize(
    "text",
    [
        "Dor 😣 — a bit less than last week. Zürich, 東京, مرحبا, נ\u05b8",
        "tab\tnew line\nbell\u0007 escape\u001b[31m del\u007f",
        "'; DROP TABLE exercise_sessionlog; --",
        "1' OR '1'='1",
        '<script>alert("x")</script><img src=x onerror=alert(1)>',
        "{{ 7*7 }} ${7*7} %s %(name)s",
    ],
)
def test_free_text_is_stored_and_returned_verbatim(send, good, target, text):
    response = send({**good, target.text: text})

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    returned = response.json()
    if target.url == "/api/v1/programmes/":
        returned = returned["programme"]["version"]
    assert returned[target.text] == text
    with connection.cursor() as cursor:  # the table is still there, and the text is data
        cursor.execute("SELECT COUNT(*) FROM exercise_sessionlog")
    assert target.rows()[0] >= 1
