"""CORS is closed by default: the phone app is no browser, and no web origin is trusted."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PREFLIGHT = {
    "HTTP_ORIGIN": "https://evil.example",
    "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
    "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization, content-type",
}


def test_no_origin_is_allowed_by_default(settings):
    assert settings.CORS_ALLOWED_ORIGINS == []
    assert not getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False)
    assert not getattr(settings, "CORS_ALLOWED_ORIGIN_REGEXES", [])


@pytest.mark.parametrize("path", ["/api/v1/sessions/", "/api/v1/auth/token/", "/api/v1/me/"])
def test_a_preflight_from_an_unknown_origin_gets_no_allow_origin(api_client, path):
    response = api_client.options(path, **PREFLIGHT)

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Credentials" not in response


def test_a_simple_request_from_an_unknown_origin_gets_no_allow_origin(api_client):
    response = api_client.get("/health/", HTTP_ORIGIN="https://evil.example")

    assert "Access-Control-Allow-Origin" not in response


def test_a_listed_origin_may_call_the_api_with_its_headers(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://clinic.example"]

    preflight = api_client.options(
        "/api/v1/assessments/",
        **{
            **PREFLIGHT,
            "HTTP_ORIGIN": "https://clinic.example",
            "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization, idempotency-key",
        },
    )
    other = api_client.options("/api/v1/assessments/", **PREFLIGHT)

    assert preflight["Access-Control-Allow-Origin"] == "https://clinic.example"
    assert "idempotency-key" in preflight["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in other
