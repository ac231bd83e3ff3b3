from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from backend.audit.models import AccessEvent
from backend.exercise.services.sessions import session_log_record
from tests.builders import alert_raised
from tests.exercise.conftest import library, programme, session_body  # noqa: F401  # shared fixtures


def events(**filters: Any) -> list[AccessEvent]:
    """Audit events matching the filters, oldest first."""
    return list(AccessEvent.objects.filter(**filters).order_by("id"))


def triples(**filters: Any) -> list[tuple[str, str, int | None]]:
    """(action, resource type, resource id) of the matching events, oldest first."""
    return [(e.action, e.resource_type, e.resource_id) for e in events(**filters)]


def raise_alert(patient: Any, key: str = "k") -> Any:
    return alert_raised(
        patient,
        key=key,
        rule_id="SYM-3",
        reason="Routine symptom reported.",
        evidence={"test": key},
    )


def log_session(of: Any, hours_ago: int = 1) -> Any:
    """A log of programme `of`, recorded by its patient through the service."""
    started = timezone.now() - timedelta(hours=hours_ago)
    data = {
        **session_body(of),
        "started_at": started,
        "ended_at": started + timedelta(minutes=30),
    }
    return session_log_record(by=of.patient.user, patient=of.patient, data=data)
