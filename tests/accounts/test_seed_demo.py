from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from backend.accounts.demo import DEMO_PASSWORD
from backend.accounts.models import CareTeamMembership, PatientProfile, User

pytestmark = pytest.mark.django_db


def test_seeding_twice_creates_the_demo_clinic_once(settings):
    settings.DEBUG = True

    call_command("seed_demo")
    counts = (
        User.objects.count(),
        PatientProfile.objects.count(),
        CareTeamMembership.objects.count(),
    )
    call_command("seed_demo")

    assert (
        User.objects.count(),
        PatientProfile.objects.count(),
        CareTeamMembership.objects.count(),
    ) == counts
    assert counts[1] == 3
    zones = set(PatientProfile.objects.values_list("timezone", flat=True))
    assert len(zones) == 3


def test_the_printed_demo_logins_work(settings, api_client, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    printed = capsys.readouterr().out

    for username in ("demo.physio", "demo.amelia", "demo.parent"):
        assert username in printed
        response = api_client.post(
            "/api/v1/auth/token/", {"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200


def test_the_demo_physio_sees_all_three_demo_patients(settings, api_client):
    settings.DEBUG = True
    call_command("seed_demo")
    token = api_client.post(
        "/api/v1/auth/token/", {"username": "demo.physio", "password": DEMO_PASSWORD}
    ).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert api_client.get("/api/v1/patients/").json()["count"] == 3


def test_seeding_is_refused_with_debug_off_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.exists()

    call_command("seed_demo", "--force")
    assert User.objects.filter(username="demo.physio").exists()


def test_the_demo_patients_have_programmes_logs_and_assessments(settings, client_for):
    from backend.exercise.models import Assessment, Programme, SessionLog

    settings.DEBUG = True
    call_command("seed_demo")
    logs = SessionLog.objects.count()
    call_command("seed_demo")

    assert Programme.objects.filter(status="active").count() == 3
    assert SessionLog.objects.count() == logs  # a re-run replays the same logs
    assert logs >= 3 * 6  # about 2-3 a week for six weeks
    assert Assessment.objects.filter(measure="CMAS").count() == 9
    physio = User.objects.get(username="demo.physio")
    rows = client_for(physio).get("/api/v1/patients/").json()["results"]
    assert all(row["programme"] is not None for row in rows)
    from backend.alerts.models import WeeklyAdherence

    assert WeeklyAdherence.objects.filter(patient__user__username="demo.amelia").count() >= 5
    assert any(row["last_session_at"] for row in rows)


def test_the_demo_clinic_has_something_real_for_every_chart(settings):
    from backend.alerts.models import Alert, RuleOverride, WeeklyAdherence
    from backend.exercise.models import (
        Assessment,
        Programme,
        ProgressionProposal,
        SessionLog,
    )
    from backend.symptoms.models import SymptomReport

    settings.DEBUG = True
    call_command("seed_demo")
    alerts = set(Alert.objects.values_list("patient__user__username", "rule_id", "urgency"))
    call_command("seed_demo")

    assert set(Alert.objects.values_list("patient__user__username", "rule_id", "urgency")) == alerts
    noah = PatientProfile.objects.get(user__username="demo.noah")
    # Twelve weeks of sessions and of weekly adherence against the 2-3 target.
    first = SessionLog.objects.filter(patient=noah).order_by("started_at").first()
    assert first is not None
    assert (
        SessionLog.objects.filter(patient=noah).latest("started_at").started_at - first.started_at
    ).days >= 75
    assert WeeklyAdherence.objects.filter(patient=noah).count() >= 12
    # Every trend the patient page draws, at three dates.
    for measure in ("CMAS", "MMT8", "CHAQ", "STS30", "TUG", "EGFR"):
        assert Assessment.objects.filter(patient=noah, measure=measure).count() == 3, measure
    # Symptom reports, open alerts of every urgency including an emergency.
    assert SymptomReport.objects.filter(patient__user__username="demo.mia", tier=1).exists()
    assert SymptomReport.objects.filter(patient=noah, tier=3).exists()
    open_alerts = Alert.objects.filter(status="open")
    assert {"emergency", "urgent", "routine"} <= set(open_alerts.values_list("urgency", flat=True))
    assert {"SYM-1", "KID-1", "FD-1", "A-2"} <= {rule for _, rule, _ in alerts}
    # A revised programme (version history), an open progression proposal, a caregiver
    # invited but not activated yet, and a tuned rule.
    amelia = Programme.objects.get(patient__user__username="demo.amelia")
    assert amelia.versions.count() == 2
    assert ProgressionProposal.objects.filter(programme=amelia, status="open").exists()
    assert not User.objects.get(first_name="Carmen", role="caregiver").is_active
    assert RuleOverride.objects.filter(patient=noah, rule_id="FD-7").exists()
