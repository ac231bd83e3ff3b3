"""Health, request ids, docs and the one error shape."""

from __future__ import annotations

import pytest

from backend.core import health

pytestmark = pytest.mark.django_db


def test_health_is_ok_when_database_and_broker_answer(api_client):
    response = api_client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_health_names_the_broker_when_it_is_down(api_client, settings):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"

    response = api_client.get("/health/")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "ok", "broker": "down"}


def test_health_names_the_database_when_it_is_down(api_client, monkeypatch):
    from django.db import OperationalError

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)

    response = api_client.get("/health/")

    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_every_response_carries_a_request_id_and_a_sane_one_is_kept(api_client):
    generated = api_client.get("/health/")
    kept = api_client.get("/health/", HTTP_X_REQUEST_ID="mobile-7f3a9c21")
    forged = api_client.get("/health/", HTTP_X_REQUEST_ID="evil\nlog line")

    assert len(generated["X-Request-ID"]) == 32
    assert kept["X-Request-ID"] == "mobile-7f3a9c21"
    assert forged["X-Request-ID"] != "evil\nlog line"


def test_unknown_api_routes_use_the_error_shape(world, client_for):
    response = client_for(world.physio).get("/api/v1/patients/999999/")

    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "code": "not_found",
        "detail": response.json()["detail"],
        "request_id": response["X-Request-ID"],
    }


def test_a_wrong_method_is_405_in_the_error_shape(world, client_for):
    response = client_for(world.physio).put("/api/v1/me/", {})

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/api/schema/"])
def test_the_docs_are_served_without_signing_in(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 200


def test_the_docs_page_offers_jwt_authorisation(api_client):
    schema = api_client.get("/api/schema/?format=json").json()

    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/me/"]["get"]["security"] == [{"jwtAuth": []}]
    assert "401" in schema["paths"]["/api/v1/me/"]["get"]["responses"]
