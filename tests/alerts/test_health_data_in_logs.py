"""Finding 8 of [2/5], health data in logs: no sender writes a notification's title or body
to the logs, and production does not start with the console push sender unless it was
chosen explicitly."""

from __future__ import annotations

import logging

from django.core.mail import send_mail

from backend.alerts.push import ConsoleSender
from tests.core.test_settings import PRODUCTION, _manage

SYMPTOM = "Severe muscle pain and dark urine after the session"


def test_health_data_in_logs_the_console_push_sender_writes_no_title_or_body(caplog):
    # Given the console push sender, logging at INFO
    caplog.set_level(logging.DEBUG)

    # When it "sends" a notification about a symptom
    result = ConsoleSender().send(
        token="abcdefghijklmnopqrstuvwxyz",
        platform="android",
        title="Red flag: dark urine",
        body=SYMPTOM,
        data={"kind": "alert", "alert_id": "7"},
    )

    # Then it succeeds, and neither the title nor the body nor the whole token is logged
    assert result.ok
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "push to" in logged
    assert SYMPTOM not in logged
    assert "dark urine" not in logged
    assert "abcdefghijklmnopqrstuvwxyz" not in logged


def test_health_data_in_logs_the_console_email_backend_writes_no_subject_or_body(settings, capsys):
    # Given the development e-mail backend
    settings.EMAIL_BACKEND = "backend.alerts.mail.ConsoleEmailBackend"

    # When an alert e-mail is sent
    sent = send_mail(
        subject="[PhysioTrack] Red flag: dark urine",
        message=SYMPTOM,
        from_email="noreply@example.org",
        recipient_list=["nurse@example.org"],
    )

    # Then the console shows that it was sent, to whom, but not what it says
    out = capsys.readouterr().out
    assert sent == 1
    assert "nurse@example.org" in out
    assert SYMPTOM not in out
    assert "dark urine" not in out


def test_health_data_in_logs_production_refuses_the_console_push_sender_unless_chosen():
    # Given production settings with no push service configured
    unset = {"PUSH_SENDER": "", "FCM_PROJECT_ID": "", "FCM_CREDENTIALS_FILE": ""}

    # When it starts (the system checks), with the console sender left as the fallback or
    # chosen explicitly
    fallback = _manage("check", env={**PRODUCTION, **unset})
    chosen = _manage(
        "check", env={**PRODUCTION, **unset, "PUSH_SENDER": "backend.alerts.push.ConsoleSender"}
    )
    fcm = _manage(
        "check",
        env={
            **PRODUCTION,
            "FCM_PROJECT_ID": "physiotrack-example",
            "FCM_CREDENTIALS_FILE": "/run/secrets/fcm.json",
        },
    )

    # Then only the fallback is refused, with the reason
    assert fallback.returncode != 0
    assert "alerts.E001" in fallback.stderr
    assert chosen.returncode == 0, chosen.stderr
    assert fcm.returncode == 0, fcm.stderr
