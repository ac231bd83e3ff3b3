"""Data for the HTTP scenarios, made with the services the API uses (idempotent)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from backend.accounts.models import CareTeamMembership, Organisation, PatientProfile, User
from backend.alerts.services.alerting import Finding, alerts_raise
from backend.exercise.models import Exercise, Programme
from backend.exercise.services.programmes import programme_create

PATIENTS = 200


def http_fixture() -> dict[str, Any]:
    org, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    physio, _ = User.objects.get_or_create(
        username="bench.physio", defaults={"role": "physiotherapist", "organisation": org}
    )
    existing = PatientProfile.objects.filter(user__organisation=org).count()
    for i in range(existing, PATIENTS):
        user = User.objects.create(username=f"bench.p{i}", role="patient", organisation=org)
        profile = PatientProfile.objects.create(
            user=user, date_of_birth=date(2013, 1, 1), timezone="Europe/London"
        )
        CareTeamMembership.objects.create(patient=profile, member=physio, role="physiotherapist")
    patient = PatientProfile.objects.select_related("user").get(user__username="bench.p0")
    programme = Programme.objects.filter(patient=patient, status="active").first()
    exercises = list(Exercise.objects.filter(organisation__isnull=True).order_by("id")[:6])
    if programme is None:
        items = [
            {"exercise": e.pk, "duration_minutes": 10}
            if e.category == "aerobic"
            else {"exercise": e.pk, "sets": 2, "reps": 10}
            for e in exercises
        ]
        content = {"title": "Bench programme", "start_date": date(2026, 1, 5), "items": items}
        programme = programme_create(
            by=physio, patient=patient, content=content, activate=True
        ).programme
    alerts_raise(
        [
            Finding(
                p.pk,
                "A-2",
                "routine",
                "bench",
                {},
                date(2026, 1, 5),
                date(2026, 1, 11),
                f"bench:{p.pk}",
            )
            for p in PatientProfile.objects.filter(user__organisation=org)[:50]
        ]
    )
    version = programme.current_version
    assert version is not None  # noqa: S101  # an activated programme has one
    started = timezone.now() - timedelta(hours=1)
    session_body = {
        "client_id": "__CLIENT_ID__",
        "version": version.pk,
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=30)).isoformat(),
        "completion": "full",
        "effort_scale": "rpe_6_20",
        "effort_value": 14,  # above 12: no progression proposals, a realistic plain log
        "pain_before": 2,
        "pain_after": 3,
        "fatigue": 4,
        "symptoms": [],
        "note": "Felt fine",
        "results": [
            {
                "item": item.pk,
                "sets_done": item.sets,
                "reps_done": item.reps,
                "duration_minutes_done": item.duration_minutes,
            }
            for item in version.items.order_by("position")
        ],
    }
    client = Client(HTTP_HOST="127.0.0.1")
    patient_header = {"Authorization": f"Bearer {RefreshToken.for_user(patient.user).access_token}"}
    physio_header = {"Authorization": f"Bearer {RefreshToken.for_user(physio).access_token}"}
    current = client.get("/api/v1/programmes/current/", headers=patient_header)
    queries = {}
    for name, url in (("patients", "/api/v1/patients/"), ("alerts", "/api/v1/alerts/")):
        with CaptureQueriesContext(connection) as captured:
            client.get(url, headers=physio_header)
        queries[name] = len(captured)
    return {
        "patient_user": patient.user,
        "physio_user": physio,
        "session_body": session_body,
        "etag": current["ETag"],
        "programme_document": current.content,
        "queries": queries,
        "body_bytes": len(json.dumps(session_body)),
    }
