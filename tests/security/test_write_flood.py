"""Finding 4 of "[2/5] Trust, second round": no rate limit on writes. A patient's or
caregiver's token looping /sessions/sync/ with 100 emergency logs a request raised 100
emergency alerts, each pushed to every care-team member, per request.

Now repeated reports of one tier for a patient gather into one unresolved alert within
ALERT_COALESCE_MINUTES of the last (a count, the newest evidence, no new push; the first goes
out at once), and every write is throttled per user, except that the symptoms a throttled
request carries are stored and alerted before it is answered 429 (DOMAIN.md 7)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.alerts.models import Alert, Notification, NotificationDelivery
from backend.alerts.services.alerting import alert_acknowledge, alert_resolve
from backend.exercise.codes import SAFETY_MESSAGES, SymptomTier
from backend.exercise.models import Programme, SessionLog
from backend.symptoms.models import SymptomReport
from tests.concurrency import all_at_once
from tests.conftest import World
from tests.exercise.conftest import session_body

SESSIONS = "/api/v1/sessions/"
SYNC = "/api/v1/sessions/sync/"
SYMPTOMS = "/api/v1/symptoms/"
ALERTS = "/api/v1/alerts/"
# A Wednesday weeks into the test programme (it starts 2026-10-01).
WEDNESDAY = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)

ClientFor = Callable[[User], APIClient]


def one_write_a_minute(settings: Any) -> None:
    """The `writes` throttle at one request a minute, the rest as configured."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "writes": "1/min"},
    }


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    """Frozen time that the test moves on (DRF's throttle clock moves with it); everything the
    test makes is made inside it."""
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        yield traveller


def pushes_per_member() -> Counter[str]:
    """Alert pushes queued, per recipient."""
    return Counter(
        NotificationDelivery.objects.filter(channel="push", notification__kind="alert").values_list(
            "notification__recipient__username", flat=True
        )
    )


def report_emergency(client_for: ClientFor, user: User, **extra: Any) -> dict[str, Any]:
    """A symptom report (a fresh token: access tokens live 10 minutes and the clock moves)."""
    body = {"client_id": str(uuid.uuid4()), "symptoms": ["fainting"], **extra}
    response = client_for(user).post(SYMPTOMS, body, format="json")
    assert response.status_code == 201, response.json()
    return dict(response.json())


# --- Coalescing -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_emergency_reports_within_30_minutes_make_one_alert_pushed_once(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
):
    patient = world.patient.user

    # when the patient reports fainting twice, 20 minutes apart
    first = report_emergency(client_for, patient)
    clock.shift(timedelta(minutes=20))
    second = report_emergency(client_for, patient)

    # then one SYM-1 alert gathers both, with the newest report as its evidence
    (alert,) = Alert.objects.filter(patient=world.patient)
    assert alert.rule_id == "SYM-1"
    assert alert.occurrences == 2
    assert alert.last_occurred_at == WEDNESDAY + timedelta(minutes=20)
    assert alert.created_at == WEDNESDAY
    assert alert.evidence["symptom_report_id"] == second["id"]
    assert alert.evidence["symptom_report_ids"] == [first["id"], second["id"]]
    # and each care-team member was pushed once, by the first report
    assert pushes_per_member() == {world.physio.username: 1, world.nurse.username: 1}
    # and the alert API shows the count
    (shown,) = client_for(world.physio).get(ALERTS).json()["results"]
    assert shown["occurrences"] == 2
    assert datetime.fromisoformat(shown["last_occurred_at"]) == alert.last_occurred_at


@pytest.mark.django_db
def test_a_report_31_minutes_after_the_last_raises_a_second_alert_and_push(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
):
    patient = world.patient.user
    report_emergency(client_for, patient)

    clock.shift(timedelta(minutes=31))
    report_emergency(client_for, patient)

    assert sorted(Alert.objects.values_list("rule_id", "occurrences")) == [
        ("SYM-1", 1),
        ("SYM-1", 1),
    ]
    assert pushes_per_member() == {world.physio.username: 2, world.nurse.username: 2}


@pytest.mark.django_db
def test_the_window_slides_with_the_last_report(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
):
    patient = world.patient.user
    for _ in range(4):  # every 20 minutes for an hour
        report_emergency(client_for, patient)
        clock.shift(timedelta(minutes=20))

    (alert,) = Alert.objects.all()
    assert alert.occurrences == 4


@pytest.mark.django_db
def test_an_acknowledged_alert_gathers_a_resolved_one_does_not(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
):
    patient = world.patient.user
    report_emergency(client_for, patient)
    (alert,) = Alert.objects.all()

    # acknowledged: the nurse is on it, a repeat is counted on her alert, no new push
    alert_acknowledge(alert=alert, by=world.nurse)
    clock.shift(timedelta(minutes=5))
    report_emergency(client_for, patient)
    alert.refresh_from_db()
    assert (Alert.objects.count(), alert.occurrences, alert.status) == (1, 2, "acknowledged")
    assert pushes_per_member() == {world.physio.username: 1, world.nurse.username: 1}

    # resolved: a new report is a new event, raised and pushed at once
    alert_resolve(alert=alert, by=world.nurse, note="Seen in clinic")
    clock.shift(timedelta(minutes=5))
    report_emergency(client_for, patient)
    assert Alert.objects.count() == 2
    assert pushes_per_member() == {world.physio.username: 2, world.nurse.username: 2}


@pytest.mark.django_db
def test_tiers_and_patients_are_gathered_separately(
    world: World, client_for: ClientFor, clock: time_machine.Traveller
):
    report_emergency(client_for, world.patient.user)
    report_emergency(client_for, world.patient.user, symptoms=["dark_urine"])
    report_emergency(client_for, world.other_patient.user)

    assert sorted(Alert.objects.values_list("patient_id", "rule_id", "occurrences")) == sorted(
        [
            (world.patient.pk, "SYM-1", 1),
            (world.patient.pk, "SYM-2", 1),
            (world.other_patient.pk, "SYM-1", 1),
        ]
    )


@pytest.mark.django_db
def test_a_sync_of_100_emergency_logs_raises_one_alert_with_100_occurrences(
    world: World, client_for: ClientFor, clock: time_machine.Traveller, programme: Programme
):
    logs = [
        session_body(
            programme,
            symptoms=["fainting"],
            started_at=WEDNESDAY - timedelta(hours=2, minutes=n),
        )
        for n in range(100)
    ]

    response = client_for(world.patient.user).post(SYNC, {"logs": logs}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 100
    (alert,) = Alert.objects.all()
    assert alert.occurrences == 100
    assert len(alert.evidence["symptom_report_ids"]) == 20  # the newest, bounded
    assert alert.evidence["symptom_report_ids"][-1] == SymptomReport.objects.latest("id").pk
    assert pushes_per_member() == {world.physio.username: 1, world.nurse.username: 1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_emergency_reports_raise_one_alert(world: World, client_for: ClientFor):
    count = 10
    clients = [client_for(world.patient.user) for _ in range(count)]
    bodies = [{"client_id": str(uuid.uuid4()), "symptoms": ["fainting"]} for _ in range(count)]

    answers = all_at_once(
        count, lambda n: clients[n].post(SYMPTOMS, bodies[n], format="json").status_code
    )

    assert answers == [201] * count
    (alert,) = Alert.objects.all()
    assert alert.occurrences == count
    assert pushes_per_member() == {world.physio.username: 1, world.nurse.username: 1}


# --- Throttles ------------------------------------------------------------------------------


def sts30(n: int) -> dict[str, Any]:
    measured_at = WEDNESDAY - timedelta(minutes=n + 1)
    return {"measure": "STS30", "value": 12, "setting": "home", "measured_at": measured_at}


def sync(client: APIClient, programme: Programme, **log: Any) -> Any:
    return client.post(SYNC, {"logs": [session_body(programme, **log)]}, format="json")


@pytest.mark.django_db
def test_the_21st_sync_in_a_minute_is_429_with_retry_after(
    world: World, client_for: ClientFor, programme: Programme
):
    phone = client_for(world.patient.user)

    answers = [sync(phone, programme).status_code for _ in range(20)]
    throttled = sync(phone, programme)

    assert answers == [200] * 20
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    body = throttled.json()
    assert body["code"] == "throttled"
    assert (body["safety_message"], body["symptom_reports"]) == (None, [])
    assert SessionLog.objects.count() == 20


@pytest.mark.django_db
def test_the_sync_budget_is_per_user_and_refills(
    world: World, client_for: ClientFor, programme: Programme, clock: time_machine.Traveller
):
    phone = client_for(world.patient.user)
    for _ in range(20):
        sync(phone, programme)
    assert sync(phone, programme).status_code == 429

    # another user (the caregiver, for the same child) has a budget of their own
    assert sync(client_for(world.caregiver), programme, patient=world.patient.pk).status_code == 200
    # and a minute later the patient's is back
    clock.shift(timedelta(seconds=61))
    assert sync(client_for(world.patient.user), programme).status_code == 200


@pytest.mark.django_db
def test_single_writes_share_a_budget_of_120_a_minute_reads_are_not_counted(
    world: World, client_for: ClientFor, programme: Programme
):
    phone = client_for(world.patient.user)
    for n in range(60):
        assert phone.post(SESSIONS, session_body(programme), format="json").status_code == 201
        assert phone.post("/api/v1/assessments/", sts30(n), format="json").status_code == 201
    for _ in range(5):
        assert phone.get(SESSIONS).status_code == 200

    assert phone.post(SESSIONS, session_body(programme), format="json").status_code == 429
    device = {"platform": "android", "token": "tok-1"}
    assert phone.post("/api/v1/devices/", device, format="json").status_code == 429
    assert phone.get(SESSIONS).status_code == 200


@pytest.mark.django_db
def test_every_patient_write_is_throttled(
    world: World, client_for: ClientFor, programme: Programme, settings: Any
):
    one_write_a_minute(settings)
    phone = client_for(world.patient.user)
    stored = phone.post(SESSIONS, session_body(programme), format="json").json()

    writes = [
        phone.post(SESSIONS, session_body(programme), format="json"),
        phone.patch(f"{SESSIONS}{stored['id']}/", {"note": "Felt better"}, format="json"),
        phone.delete(f"{SESSIONS}{stored['id']}/"),
        phone.post(SYMPTOMS, {"client_id": str(uuid.uuid4()), "other": "itch"}, format="json"),
        phone.post(
            "/api/v1/assessments/",
            sts30(0),
            format="json",
        ),
        phone.post("/api/v1/devices/", {"platform": "android", "token": "t"}, format="json"),
    ]

    assert [w.status_code for w in writes] == [429] * len(writes)
    assert all(int(w["Retry-After"]) > 0 for w in writes)


# --- Symptoms under the throttle (DOMAIN.md 7: a reported symptom is never lost) -------------


@pytest.mark.django_db
def test_a_throttled_sync_still_stores_and_alerts_its_symptoms_once(
    world: World, client_for: ClientFor, programme: Programme, clock: time_machine.Traveller
):
    phone = client_for(world.patient.user)
    for _ in range(20):
        sync(phone, programme)

    # when the 21st batch carries a fainting log and a dark-urine log
    logs = [
        session_body(programme, symptoms=["fainting"]),
        session_body(programme, symptoms=["dark_urine"]),
        session_body(programme),
    ]
    throttled = phone.post(SYNC, {"logs": logs}, format="json")

    # then it is 429, no log is stored, but both symptoms are, alerted at once, and the app
    # is told to call emergency services
    assert throttled.status_code == 429
    body = throttled.json()
    assert body["safety_message"] == SAFETY_MESSAGES[SymptomTier.EMERGENCY]
    reports = SymptomReport.objects.order_by("id")
    assert body["symptom_reports"] == [report.pk for report in reports]
    assert [(r.source, r.codes, r.log_client_id) for r in reports] == [
        ("refused_log", ["fainting"], uuid.UUID(logs[0]["client_id"])),
        ("refused_log", ["dark_urine"], uuid.UUID(logs[1]["client_id"])),
    ]
    assert not SessionLog.objects.filter(client_id__in=[log["client_id"] for log in logs])
    assert sorted(Alert.objects.values_list("rule_id", flat=True)) == ["SYM-1", "SYM-2"]
    programme.refresh_from_db()
    assert programme.status == "paused"

    # when the phone retries the batch after Retry-After
    clock.shift(timedelta(seconds=int(throttled["Retry-After"])))
    retried = client_for(world.patient.user).post(SYNC, {"logs": logs}, format="json")

    # then the logs are stored and take the reports over, and nothing is alerted twice
    assert retried.status_code == 200, retried.json()
    assert retried.json()["created"] == 3
    assert SymptomReport.objects.count() == 2
    assert set(SymptomReport.objects.values_list("session__client_id", flat=True)) == {
        uuid.UUID(logs[0]["client_id"]),
        uuid.UUID(logs[1]["client_id"]),
    }
    assert sorted(Alert.objects.values_list("rule_id", "occurrences")) == [
        ("SYM-1", 1),
        ("SYM-2", 1),
    ]


@pytest.mark.django_db
def test_a_throttled_session_post_and_symptom_report_still_store_their_symptoms(
    world: World, client_for: ClientFor, programme: Programme, settings: Any
):
    one_write_a_minute(settings)
    caregiver = client_for(world.caregiver)
    mine = {"patient": world.patient.pk}
    assert (
        caregiver.post(SESSIONS, session_body(programme, **mine), format="json").status_code == 201
    )

    log = session_body(programme, symptoms=["chest_pain"], **mine)
    throttled_log = caregiver.post(SESSIONS, log, format="json")
    report = {"client_id": str(uuid.uuid4()), "symptoms": ["rash_flare"], **mine}
    throttled_report = caregiver.post(SYMPTOMS, report, format="json")

    assert (throttled_log.status_code, throttled_report.status_code) == (429, 429)
    assert throttled_log.json()["safety_message"] == SAFETY_MESSAGES[SymptomTier.EMERGENCY]
    assert throttled_report.json()["safety_message"] == SAFETY_MESSAGES[SymptomTier.ROUTINE]
    stored = SymptomReport.objects.get(pk=throttled_log.json()["symptom_report"])
    assert (stored.codes, stored.source) == (["chest_pain"], "refused_log")
    stored = SymptomReport.objects.get(pk=throttled_report.json()["symptom_report"])
    assert (stored.codes, str(stored.client_id)) == (["rash_flare"], report["client_id"])
    assert sorted(Alert.objects.values_list("rule_id", flat=True)) == ["SYM-1", "SYM-3"]


@pytest.mark.django_db
def test_write_throttles_let_writes_through_when_the_cache_is_down(
    world: World, client_for: ClientFor, programme: Programme, settings: Any
):
    # Unlike sign-in (503): refusing writes would refuse red flags, and the database answers.
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    log = session_body(programme, symptoms=["fainting"])

    response = client_for(world.patient.user).post(SESSIONS, log, format="json")

    assert response.status_code == 201, response.json()
    assert Alert.objects.filter(rule_id="SYM-1").count() == 1


@pytest.mark.django_db
def test_a_throttled_correction_still_stores_the_symptoms_it_adds(
    world: World, client_for: ClientFor, programme: Programme, settings: Any
):
    one_write_a_minute(settings)
    phone = client_for(world.patient.user)
    stored = phone.post(SESSIONS, session_body(programme), format="json").json()

    throttled = phone.patch(
        f"{SESSIONS}{stored['id']}/", {"symptoms": ["new_weakness"]}, format="json"
    )

    assert throttled.status_code == 429
    assert throttled.json()["safety_message"] == SAFETY_MESSAGES[SymptomTier.SAME_DAY]
    report = SymptomReport.objects.get(pk=throttled.json()["symptom_report"])
    assert (report.codes, report.source, report.session_id) == (
        ["new_weakness"],
        "follow_up",
        stored["id"],
    )
    assert list(Alert.objects.values_list("rule_id", flat=True)) == ["SYM-2"]
    assert SessionLog.objects.get(pk=stored["id"]).symptoms == []  # the log is unchanged


def test_a_new_symptom_within_the_window_is_news_not_a_repeat(world, programme, client_for):
    # given fainting reported, its emergency alert raised and pushed
    report = client_for(world.patient.user)
    first = report.post(
        "/api/v1/symptoms/",
        {"client_id": str(uuid.uuid4()), "symptoms": ["fainting"]},
        format="json",
    )
    assert first.status_code == 201

    # when ten minutes later the same tier comes again: once repeated, once a new symptom
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=True):
        for codes in (["fainting"], ["seizure_or_confusion"]):
            again = client_for(world.patient.user).post(
                "/api/v1/symptoms/",
                {"client_id": str(uuid.uuid4()), "symptoms": codes},
                format="json",
            )
            assert again.status_code == 201

    # then the repeat gathered into the first alert; the seizure raised its own, and was told
    alerts = list(Alert.objects.filter(rule_id="SYM-1").order_by("id"))
    assert [a.occurrences for a in alerts] == [2, 1]
    assert alerts[1].evidence["symptoms"] == ["seizure_or_confusion"]
    told = Notification.objects.filter(recipient=world.nurse, kind="alert").count()
    assert told == 2
