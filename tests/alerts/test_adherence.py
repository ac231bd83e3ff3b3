"""The weekly adherence job (DOMAIN.md 4: A-1 to A-4 and S) in each patient's local ISO week.

Weeks of 2026 used here: W41 starts Monday 5 October, W44 Monday 26 October, W45 Monday
2 November, W46 Monday 9 November, W47 Monday 16 November, W48 Monday 23 November. Every
programme starts on 1 October 2026 with a target of 2 to 3 sessions a week; a full session
counts 1, a partial one 0.5.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.accounts.models import PatientProfile, User
from backend.alerts import tasks
from backend.alerts.models import (
    Alert,
    Notification,
    NotificationDelivery,
    NotificationKind,
    WeeklyAdherence,
)
from backend.alerts.rules import RULES
from backend.alerts.services import notifications
from backend.alerts.services.adherence import adherence_evaluate
from backend.alerts.services.delivery import deliveries_sweep
from backend.exercise.models import Programme
from backend.exercise.services.programmes import (
    programme_activate,
    programme_create,
    programme_pause,
)
from backend.exercise.services.sessions import session_log_record
from tests.alerts.reasons import assert_explained
from tests.conftest import World
from tests.exercise.conftest import content
from tests.factories import CareTeamMembershipFactory, PatientProfileFactory

pytestmark = pytest.mark.django_db

LONDON = "Europe/London"
W41, W43, W44 = date(2026, 10, 5), date(2026, 10, 19), date(2026, 10, 26)
W45, W46, W47, W48 = date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)
# Monday 23 November 2026 09:00 UTC: week 47 has ended in every time zone used here.
AFTER_W47 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


# --- Given helpers ---------------------------------------------------------------------------


def _enrol(
    world: World, library: dict, timezone_name: str = LONDON
) -> tuple[PatientProfile, Programme]:
    """A patient of the world's physiotherapist and nurse, on an active programme, who agreed
    to notifications (advice respects consent like reminders do)."""
    patient = PatientProfileFactory.create(
        user__organisation=world.org, timezone=timezone_name, notifications_consent=True
    )
    CareTeamMembershipFactory.create(patient=patient, member=world.physio)
    CareTeamMembershipFactory.create(patient=patient, member=world.nurse, role="nurse")
    return patient, _prescribe(world, library, patient)


def _prescribe(world: World, library: dict, patient: PatientProfile) -> Programme:
    return programme_create(
        by=world.physio, patient=patient, content=content(library), activate=True
    ).programme


def _local(timezone_name: str, day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, fold=fold), tzinfo=ZoneInfo(timezone_name))


def _log(
    patient: PatientProfile, programme: Programme, started_at: datetime, completion: str = "full"
) -> None:
    """The patient logs a session through the app, just after it ended."""
    version = programme.current_version
    assert version is not None
    with time_machine.travel(started_at + timedelta(minutes=35), tick=False):
        recorded = session_log_record(
            by=patient.user,
            patient=patient,
            data={
                "client_id": uuid.uuid4(),
                "version": version.pk,
                "started_at": started_at,
                "ended_at": started_at + timedelta(minutes=30),
                "completion": completion,
                "pain_before": 2,
                "pain_after": 3,
            },
        )
    assert recorded.created  # the log is always accepted


def _week(
    patient: PatientProfile, programme: Programme, monday: date, full: int = 0, partial: int = 0
) -> None:
    """`full` then `partial` sessions on consecutive days of the week, from Tuesday 10:00."""
    kinds = ["full"] * full + ["partial"] * partial
    assert len(kinds) <= 6
    for offset, completion in enumerate(kinds, start=1):
        day = monday + timedelta(days=offset)
        _log(patient, programme, _local(patient.timezone, day, 10), completion)


def _evaluate(*weeks: str, now: datetime = AFTER_W47) -> None:
    """The operator runs the weekly job by hand for the given ISO weeks, in order."""
    with time_machine.travel(now, tick=False):
        for week in weeks:
            call_command("evaluate_adherence", "--week", week, stdout=StringIO())


def _row(patient: PatientProfile, monday: date) -> WeeklyAdherence:
    return WeeklyAdherence.objects.get(patient=patient, week_start=monday)


def _alerts(patient: PatientProfile, rule_id: str) -> list[Alert]:
    return list(Alert.objects.filter(patient=patient, rule_id=rule_id).order_by("period_start"))


def _notified(alert: Alert) -> set[User]:
    return {
        n.recipient for n in Notification.objects.filter(subject_type="alert", subject_id=alert.pk)
    }


def _advice(patient: PatientProfile) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient=patient.user, kind=NotificationKind.ADHERENCE_ADVICE)
    )


# --- a week below the minimum -----------------------------------------------------------


def test_a_week_below_the_minimum_is_marked_and_the_patient_is_told(world, library):
    # Given three good weeks, then 1 full and 1 partial session (1.5 of a minimum of 2)
    patient, programme = _enrol(world, library)
    for monday in (W44, W45, W46):
        _week(patient, programme, monday, full=3)
    _week(patient, programme, W47, full=1, partial=1)

    # When week 47 is evaluated
    _evaluate("2026-W47")

    # Then the week is stored below target and the patient gets advice, but no clinician
    # alert is raised for a single week
    row = _row(patient, W47)
    assert row.sessions == Decimal("1.5")
    assert (row.target_min, row.target_max) == (2, 3)
    assert row.below_minimum is True
    assert row.above_maximum is False
    assert row.suppressed == ""
    advice = _advice(patient)
    assert len(advice) == 1
    assert "1.5" in advice[0].body
    assert not Alert.objects.filter(patient=patient).exists()


def test_a_week_at_the_minimum_is_not_below_target(world, library):
    # Given 1 full and 2 partial sessions in week 47: 1 + 0.5 + 0.5 = 2, the minimum
    patient, programme = _enrol(world, library)
    for monday in (W44, W45, W46):
        _week(patient, programme, monday, full=3)
    _week(patient, programme, W47, full=1, partial=2)

    # When week 47 is evaluated
    _evaluate("2026-W47")

    # Then the week meets the target: nothing to tell anyone
    row = _row(patient, W47)
    assert row.sessions == Decimal(2)
    assert row.below_minimum is False
    assert row.consecutive_below == 0
    assert _advice(patient) == []
    assert not Alert.objects.filter(patient=patient).exists()


# --- weeks in a row below target, or under 80 % over 28 days -----------------------------


def test_two_consecutive_weeks_below_target_alert_the_physiotherapist(world, library):
    # Given two good weeks, then weeks 46 and 47 with one session each
    patient, programme = _enrol(world, library)
    _week(patient, programme, W44, full=3)
    _week(patient, programme, W45, full=3)
    _week(patient, programme, W46, full=1)
    _week(patient, programme, W47, full=1)

    # When the weeks are evaluated as they end
    _evaluate("2026-W46", "2026-W47")

    # Then week 47 raises one routine A-2 for the physiotherapist (not the nurse), with its
    # evidence; week 46 alone raised none
    assert _row(patient, W46).consecutive_below == 1
    assert _row(patient, W47).consecutive_below == 2
    (alert,) = _alerts(patient, "A-2")
    assert alert.urgency == "routine"
    assert alert.rule_version == RULES["A-2"].version
    assert (alert.period_start, alert.period_end) == (W47, W47 + timedelta(days=6))
    assert alert.evidence["consecutive_below"] == 2
    assert alert.evidence["sessions"] == "1"
    assert alert.evidence["timezone"] == LONDON
    assert _notified(alert) == {world.physio}


def test_one_week_below_target_does_not_alert_the_physiotherapist(world, library):
    # Given three good weeks, then week 47 with one session
    patient, programme = _enrol(world, library)
    for monday in (W44, W45, W46):
        _week(patient, programme, monday, full=3)
    _week(patient, programme, W47, full=1)

    # When weeks 46 and 47 are evaluated
    _evaluate("2026-W46", "2026-W47")

    # Then week 47 is below target, but one week is not a pattern: no A-2
    assert _row(patient, W47).below_minimum is True
    assert _row(patient, W47).consecutive_below == 1
    assert _alerts(patient, "A-2") == []


def test_a2_urgency_grows_to_urgent_at_four_consecutive_weeks(world, library):
    # Given three good weeks, then four weeks of 1.5 sessions each (weeks 44 to 47)
    patient, programme = _enrol(world, library)
    for monday in (W41, W41 + timedelta(weeks=1), W43):
        _week(patient, programme, monday, full=3)
    for monday in (W44, W45, W46, W47):
        _week(patient, programme, monday, full=1, partial=1)

    # When each week is evaluated as it ends
    _evaluate("2026-W44", "2026-W45", "2026-W46", "2026-W47")

    # Then weeks 2 and 3 below target are routine, the 4th is urgent
    by_week = {alert.period_start: alert for alert in _alerts(patient, "A-2")}
    assert set(by_week) == {W45, W46, W47}
    assert by_week[W45].urgency == "routine"
    assert by_week[W46].urgency == "routine"
    assert by_week[W47].urgency == "urgent"
    assert by_week[W47].evidence["consecutive_below"] == 4
    assert _row(patient, W47).consecutive_below == 4
    # routine weeks go to the physiotherapist; the urgent one reaches the nurse at once too
    assert _notified(by_week[W46]) == {world.physio}
    assert _notified(by_week[W47]) == {world.physio, world.nurse}


@pytest.mark.parametrize(
    ("sessions_week_47", "fires"),
    [
        pytest.param(1, True, id="6-of-8-is-75-percent"),
        pytest.param(1.5, False, id="6.5-of-8-is-81-percent"),
    ],
)
def test_a2_fires_under_80_percent_over_28_days_without_two_weeks_in_a_row(
    world, library, sessions_week_47, fires
):
    # Given weeks 44 to 47 alternating at and below target (2, 1, 2, then 1 or 1.5):
    # never two weeks below in a row
    patient, programme = _enrol(world, library)
    _week(patient, programme, W43, full=3)
    _week(patient, programme, W44, full=2)
    _week(patient, programme, W45, full=1)
    _week(patient, programme, W46, full=2)
    _week(patient, programme, W47, full=1, partial=1 if sessions_week_47 == 1.5 else 0)

    # When weeks 46 and 47 are evaluated
    _evaluate("2026-W46", "2026-W47")

    # Then A-2 fires (routine) only when the 28 days fall under 80 % of 2 x 4 = 8 sessions
    assert _row(patient, W47).consecutive_below == 1
    alerts = _alerts(patient, "A-2")
    if fires:
        (alert,) = alerts
        assert alert.urgency == "routine"
        assert alert.period_start == W47
        assert alert.evidence["sessions_28_days"] == "6"
        assert _notified(alert) == {world.physio}
    else:
        assert alerts == []


# --- 14 days without any session ----------------------------------------------------------


@pytest.mark.parametrize(
    ("last_session", "fires"),
    [
        # Sunday 8 November: no session on the 14 days 9-22 November
        pytest.param(date(2026, 11, 8), True, id="14-days"),
        # Monday 9 November: 13 days without a session (10-22 November)
        pytest.param(date(2026, 11, 9), False, id="13-days"),
    ],
)
def test_fourteen_days_without_a_session_alert_physiotherapist_and_nurse(
    world, library, last_session, fires
):
    # Given regular sessions until a last one at 18:00 on the given day, then nothing
    patient, programme = _enrol(world, library)
    _week(patient, programme, W44, full=3)
    _log(patient, programme, _local(LONDON, last_session, 18))

    # When week 47 ends and is evaluated
    _evaluate("2026-W47")

    # Then A-3 alerts the physiotherapist and the nurse only after 14 full days
    alerts = _alerts(patient, "A-3")
    if fires:
        (alert,) = alerts
        assert alert.urgency == "routine"
        assert alert.evidence["last_session_at"] is not None
        assert _notified(alert) == {world.physio, world.nurse}
    else:
        assert alerts == []


# --- above the maximum ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full", "partial", "fires"),
    [
        pytest.param(4, 0, True, id="4-above-3"),
        pytest.param(3, 1, True, id="3.5-above-3"),
        pytest.param(3, 0, False, id="3-at-the-maximum"),
    ],
)
def test_above_the_maximum_the_patient_is_advised_and_the_physiotherapist_informed(
    world, library, full, partial, fires
):
    # Given good weeks, then week 47 with the given sessions (each log is accepted)
    patient, programme = _enrol(world, library)
    for monday in (W44, W45, W46):
        _week(patient, programme, monday, full=2)
    _week(patient, programme, W47, full=full, partial=partial)

    # When week 47 is evaluated
    _evaluate("2026-W47")

    # Then above the maximum: an info alert for the physiotherapist and advice to the patient
    row = _row(patient, W47)
    assert row.sessions == Decimal(full) + Decimal("0.5") * partial
    assert row.above_maximum is fires
    assert row.below_minimum is False
    alerts = _alerts(patient, "A-4")
    if fires:
        (alert,) = alerts
        assert alert.urgency == "info"
        assert _notified(alert) == {world.physio}
        (advice,) = _advice(patient)
        assert "Rest" in advice.title
    else:
        assert alerts == []
        assert _advice(patient) == []


# --- S: a paused programme ----------------------------------------------------------------------


def test_a_paused_programme_raises_nothing_and_the_week_is_stored_as_suppressed(world, library):
    # Given a patient with no session for weeks, whose programme was paused in week 47
    patient, programme = _enrol(world, library)
    with time_machine.travel(datetime(2026, 11, 18, 10, 0, tzinfo=UTC), tick=False):
        programme_pause(programme=programme, by=world.nurse, reason="flare", note="Flare")

    # When week 47 is evaluated
    _evaluate("2026-W47")

    # Then the week is stored as suppressed, and no rule speaks: no alert, no advice
    row = _row(patient, W47)
    assert row.suppressed == "paused"
    assert row.below_minimum is False
    assert not Alert.objects.filter(patient=patient).exists()
    assert _advice(patient) == []


def test_weeks_paused_do_not_count_against_the_patient_after_resuming(world, library):
    # Given a programme paused for weeks 44 to 46 (a flare), each week evaluated as it ended
    patient, programme = _enrol(world, library)
    _week(patient, programme, W43, full=3)
    with time_machine.travel(_local(LONDON, W44, 9), tick=False):
        programme_pause(programme=programme, by=world.nurse, reason="flare")
    for monday in (W44, W45, W46):
        week_over = _local(LONDON, monday + timedelta(days=7), 1)
        with time_machine.travel(week_over, tick=False):
            adherence_evaluate(now=week_over)

    # When it is resumed on Monday of week 47, the patient does the minimum of 2 sessions,
    # and week 47 is evaluated
    with time_machine.travel(_local(LONDON, W47, 9), tick=False):
        programme_activate(programme=programme, by=world.physio)
    _week(patient, programme, W47, full=2)
    _evaluate("2026-W47")

    # Then the paused weeks were suppressed and the week back at target raises nothing
    assert [_row(patient, week).suppressed for week in (W44, W45, W46)] == ["paused"] * 3
    assert _row(patient, W47).below_minimum is False
    assert not Alert.objects.filter(patient=patient).exists()


# --- Advice to the patient respects consent, pauses and quiet hours (DOMAIN.md 7) ----------


def test_no_advice_without_notification_consent_but_the_physiotherapist_is_informed(world, library):
    # Given a patient who did not agree to notifications, with 4 sessions in week 46 (above
    # the maximum) and 1 in week 47 (below the minimum)
    patient, programme = _enrol(world, library)
    patient.notifications_consent = False
    patient.save()
    _week(patient, programme, W44, full=3)
    _week(patient, programme, W45, full=3)
    _week(patient, programme, W46, full=4)
    _week(patient, programme, W47, full=1)

    # When weeks 46 and 47 are evaluated
    _evaluate("2026-W46", "2026-W47")

    # Then no advice reaches the patient; the A-4 alert still informs the physiotherapist
    assert _row(patient, W47).below_minimum is True
    assert _advice(patient) == []
    (alert,) = _alerts(patient, "A-4")
    assert _notified(alert) == {world.physio}


def test_no_overtraining_advice_while_paused_but_the_physiotherapist_is_informed(world, library):
    # Given 4 sessions in week 47, then the programme paused on the Saturday (a flare)
    patient, programme = _enrol(world, library)
    for monday in (W44, W45, W46):
        _week(patient, programme, monday, full=2)
    _week(patient, programme, W47, full=4)
    with time_machine.travel(_local(LONDON, date(2026, 11, 21), 10), tick=False):
        programme_pause(programme=programme, by=world.nurse, reason="flare", note="Flare")

    # When week 47 is evaluated
    _evaluate("2026-W47")

    # Then S: the patient is not advised; A-4 informs the physiotherapist all the same
    assert _row(patient, W47).suppressed == "paused"
    assert _advice(patient) == []
    (alert,) = _alerts(patient, "A-4")
    assert _notified(alert) == {world.physio}


def test_advice_uses_the_programmes_own_targets(world, library):
    # Given a programme of 3 to 4 sessions a week, with 2 sessions in week 46 and 5 in 47
    patient = PatientProfileFactory.create(
        user__organisation=world.org, timezone=LONDON, notifications_consent=True
    )
    CareTeamMembershipFactory.create(patient=patient, member=world.physio)
    programme = programme_create(
        by=world.physio,
        patient=patient,
        content=content(library, sessions_per_week_min=3, sessions_per_week_max=4),
        activate=True,
    ).programme
    _week(patient, programme, W45, full=3)
    _week(patient, programme, W46, full=2)
    _week(patient, programme, W47, full=5)

    # When weeks 46 and 47 are evaluated
    _evaluate("2026-W46", "2026-W47")

    # Then the advice names 3 to 4, the programme's own targets (never a fixed "two")
    bodies = {n.title: n.body for n in _advice(patient)}
    assert "2 of the 3 sessions" in bodies["Your week"]
    assert "3 to 4 this week" in bodies["Your week"]
    assert "two" not in bodies["Your week"]
    assert "more than the 4 planned" in bodies["Rest matters too"]
    assert "3 to 4 sessions this week" in bodies["Rest matters too"]


def test_advice_made_in_quiet_hours_is_sent_when_they_end(
    world, library, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a patient in London (quiet from 21:00 to 08:00) with 1 session in week 47
    patient, programme = _enrol(world, library)
    for monday in (W44, W45, W46):
        _week(patient, programme, monday, full=3)
    _week(patient, programme, W47, full=1)
    enqueued: list[int] = []
    monkeypatch.setattr(notifications, "deliveries_enqueue", enqueued.extend)

    # When the hourly job evaluates week 47 at 00:30 on Monday, London time
    half_past_midnight = _local(LONDON, W48, 0, 30)
    with (
        time_machine.travel(half_past_midnight, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        adherence_evaluate(now=half_past_midnight)

    # Then the advice is written now, but its push waits for 08:00, when quiet hours end
    (advice,) = _advice(patient)
    (delivery,) = NotificationDelivery.objects.filter(notification=advice)
    eight = _local(LONDON, W48, 8)
    assert delivery.next_attempt_at == eight
    assert delivery.pk not in enqueued
    assert delivery.pk not in deliveries_sweep(now=eight - timedelta(minutes=1))
    assert delivery.pk in deliveries_sweep(now=eight)


def test_advice_outside_quiet_hours_is_sent_at_once(
    world, library, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a patient whose quiet hours end at 00:00 (21:00 to midnight)
    patient, programme = _enrol(world, library)
    patient.quiet_hours_end = time(0, 0)
    patient.save()
    _week(patient, programme, W47, full=1)
    enqueued: list[int] = []
    monkeypatch.setattr(notifications, "deliveries_enqueue", enqueued.extend)

    # When week 47 is evaluated at 00:30 on Monday, London time
    half_past_midnight = _local(LONDON, W48, 0, 30)
    with (
        time_machine.travel(half_past_midnight, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        adherence_evaluate(now=half_past_midnight)

    # Then its delivery is enqueued after commit
    (advice,) = _advice(patient)
    (delivery,) = NotificationDelivery.objects.filter(notification=advice)
    assert delivery.next_attempt_at is None
    assert delivery.pk in enqueued


# --- Every reason reads in seconds and records its rule's version ------------------------------


def test_adherence_reasons_read_in_seconds_and_record_the_rules_version(
    world, library, monkeypatch
):
    # Given every rule at a version of its own, as the catalogue will bump them
    for position, rule_id in enumerate(RULES):
        monkeypatch.setitem(
            RULES, rule_id, dataclasses.replace(RULES[rule_id], version=7 + position)
        )
    # and a patient with no session for weeks, one above the maximum
    idle, _ = _enrol(world, library)
    busy, busy_programme = _enrol(world, library)
    for monday in (W44, W45, W46):
        _week(busy, busy_programme, monday, full=2)
    _week(busy, busy_programme, W47, full=3, partial=1)

    # When week 47 is evaluated
    _evaluate("2026-W47")

    # Then each reason gives the week, the values and the threshold, in plain words
    (a2,) = _alerts(idle, "A-2")
    assert_explained(a2, "Week of 16 Nov 2026", "0 of at least 2 sessions", "0 of 8", "80%")
    (a3,) = _alerts(idle, "A-3")
    assert_explained(a3, "No session for 53 days", "since 1 Oct 2026", "alert at 14 days")
    (a4,) = _alerts(busy, "A-4")
    assert_explained(a4, "Week of 16 Nov 2026", "3.5 sessions", "maximum of 3")


# --- Local weeks in three time zones ----------------------------------------------------------

ZONES = ["Pacific/Auckland", LONDON, "America/Los_Angeles"]


def _boundary_sessions(world: World, library: dict) -> dict[str, PatientProfile]:
    """In each zone, sessions 30 minutes either side of both ends of week 47, local time."""
    patients = {}
    for zone in ZONES:
        patient, programme = _enrol(world, library, zone)
        _log(patient, programme, _local(zone, date(2026, 11, 15), 23, 30), "partial")  # W46
        _log(patient, programme, _local(zone, date(2026, 11, 16), 0, 30))  # W47 Monday
        _log(patient, programme, _local(zone, date(2026, 11, 22), 23, 30))  # W47 Sunday
        _log(patient, programme, _local(zone, date(2026, 11, 23), 0, 30), "partial")  # W48
        patients[zone] = patient
    return patients


def test_sessions_count_in_the_patients_own_local_week(world, library):
    # Given sessions at Sunday 23:30 and Monday 00:30 local time around week 47, in Auckland
    # (Sunday 23:30 there is Sunday 10:30 UTC), London and Los Angeles (Monday 07:30 UTC)
    patients = _boundary_sessions(world, library)

    # When weeks 46 to 48 are evaluated after they ended everywhere
    _evaluate("2026-W46", "2026-W47", "2026-W48", now=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))

    # Then in every zone Sunday 23:30 counts in the week that ends and Monday 00:30 in the next
    for zone, patient in patients.items():
        counts = {week: _row(patient, week).sessions for week in (W46, W47, W48)}
        assert counts == {W46: Decimal("0.5"), W47: Decimal(2), W48: Decimal("0.5")}, zone


def test_the_job_evaluates_each_patients_week_once_it_has_ended_locally(world, library):
    # Given the same sessions in the three zones
    patients = _boundary_sessions(world, library)
    auckland, london, los_angeles = (patients[zone] for zone in ZONES)

    def weeks_of(patient: PatientProfile) -> list[date]:
        return list(
            WeeklyAdherence.objects.filter(patient=patient).values_list("week_start", flat=True)
        )

    # When the hourly job runs at Sunday 22 November 11:30 UTC (Monday 00:30 in Auckland)
    adherence_evaluate(now=datetime(2026, 11, 22, 11, 30, tzinfo=UTC))

    # Then only Auckland's week 47 has ended; London and Los Angeles get week 46
    assert weeks_of(auckland) == [W47]
    assert weeks_of(london) == [W46]
    assert weeks_of(los_angeles) == [W46]
    assert _row(auckland, W47).sessions == Decimal(2)

    # When it runs at Monday 00:30 UTC, then London's week 47 ends; Los Angeles is still Sunday
    adherence_evaluate(now=datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    assert weeks_of(london) == [W46, W47]
    assert weeks_of(los_angeles) == [W46]

    # When it runs at Monday 08:30 UTC (00:30 in Los Angeles), then Los Angeles's week 47 ends
    adherence_evaluate(now=datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    assert weeks_of(los_angeles) == [W46, W47]
    for patient in patients.values():
        assert _row(patient, W47).sessions == Decimal(2)
    assert weeks_of(auckland) == [W47]  # nothing evaluated twice


# --- Daylight-saving weeks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "monday", "change_day"),
    [
        # London: clocks go back at 02:00 BST on Sunday 25 October (01:00-02:00 twice)
        pytest.param(LONDON, W43, date(2026, 10, 25), id="London-W43"),
        # New York: clocks go back at 02:00 EDT on Sunday 1 November
        pytest.param("America/New_York", W44, date(2026, 11, 1), id="New-York-W44"),
    ],
)
def test_a_week_with_a_daylight_saving_change_counts_its_sessions(
    world, library, zone, monday, change_day
):
    # Given sessions around both ends of the week and in both 01:30s of the change night
    patient, programme = _enrol(world, library, zone)
    sunday_before, next_monday = monday - timedelta(days=1), monday + timedelta(days=7)
    _log(patient, programme, _local(zone, sunday_before, 23, 30), "partial")  # week before
    _log(patient, programme, _local(zone, monday, 0, 30))  # this week (summer time)
    _log(patient, programme, _local(zone, change_day, 1, 30, fold=0))  # summer 01:30
    _log(patient, programme, _local(zone, change_day, 1, 30, fold=1), "partial")  # winter 01:30
    _log(patient, programme, _local(zone, change_day, 23, 30))  # this week (winter time)
    _log(patient, programme, _local(zone, next_monday, 0, 30), "partial")  # week after

    # When the three weeks are evaluated
    for week in (monday - timedelta(days=7), monday, next_monday):
        with time_machine.travel(AFTER_W47, tick=False):
            adherence_evaluate(now=AFTER_W47, week_start=week, patient_ids=[patient.pk])

    # Then the week holds 1 + 1 + 0.5 + 1 sessions and its neighbours 0.5 each
    assert _row(patient, monday).sessions == Decimal("3.5")
    assert _row(patient, monday - timedelta(days=7)).sessions == Decimal("0.5")
    assert _row(patient, next_monday).sessions == Decimal("0.5")
    assert _row(patient, monday).above_maximum is True


# --- Idempotency ------------------------------------------------------------------------------


def _outputs() -> tuple[int, int, int, int]:
    return (
        WeeklyAdherence.objects.count(),
        Alert.objects.count(),
        Notification.objects.count(),
        NotificationDelivery.objects.count(),
    )


def test_running_the_job_twice_adds_nothing(world, library, jobs_run_inline):
    # Given a patient with no session for weeks and one above the maximum
    idle, _ = _enrol(world, library)
    busy, busy_programme = _enrol(world, library)
    for monday in (W44, W45, W46):
        _week(busy, busy_programme, monday, full=2)
    _week(busy, busy_programme, W47, full=4)

    # When the weekly job runs by hand, twice
    _evaluate("2026-W47")
    first = _outputs()
    _evaluate("2026-W47")

    # Then the second run adds no week, alert, notification or delivery
    assert _outputs() == first
    assert {a.rule_id for a in Alert.objects.filter(patient=idle)} == {"A-2", "A-3"}
    assert {a.rule_id for a in Alert.objects.filter(patient=busy)} == {"A-4"}
    assert len(_advice(idle)) == 1

    # And the periodic task, run twice for the following week, adds it once
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), tick=False):
        tasks.evaluate_adherence()
        second = _outputs()
        tasks.evaluate_adherence()
    assert _outputs() == second
    assert WeeklyAdherence.objects.filter(week_start=W48).count() == PatientProfile.objects.count()


# --- A fixed number of queries per batch ------------------------------------------------------

# Patients; weeks already evaluated; savepoint; programmes; overrides; sessions; last session
# before the window; programme (re)starts; previous weeks; insert weeks (10). Decline rules:
# overrides, assessments, sessions (3). Alerts: existing, insert, read back, care teams (4).
# Notifications, once for alerts and once for advice: existing, insert, read back, insert
# deliveries, delivery ids (2 x 5). Release (1).
BATCH_QUERIES = 28


@pytest.mark.parametrize("n", [3, 30])
def test_one_batch_runs_a_fixed_number_of_queries(world, library, n):
    # Given N patients on programmes, each with one session in week 47 (A-1 and A-2 fire)
    patients = []
    for _ in range(n):
        patient, programme = _enrol(world, library)
        _week(patient, programme, W47, full=1)
        patients.append(patient)

    # When week 47 is evaluated for everyone in one batch
    with (
        time_machine.travel(AFTER_W47, tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        result = adherence_evaluate(now=AFTER_W47, week_start=W47)

    # Then every patient was evaluated with the same, pinned number of queries
    assert result.evaluated == PatientProfile.objects.count()
    assert Alert.objects.filter(rule_id="A-2").count() == n
    assert len(queries) == BATCH_QUERIES, "\n".join(q["sql"] for q in queries.captured_queries)


# --- The patient summary ----------------------------------------------------------------------


def test_the_summary_shows_the_evaluated_weeks_to_the_physiotherapist(world, library, client_for):
    # Given weeks 46 and 47 evaluated for the world's patient
    programme = _prescribe(world, library, world.patient)
    _week(world.patient, programme, W45, full=3)
    _week(world.patient, programme, W46, full=3)
    _week(world.patient, programme, W47, full=1, partial=1)
    _evaluate("2026-W46", "2026-W47")

    # When the physiotherapist opens the patient's summary
    with time_machine.travel(AFTER_W47 + timedelta(hours=1), tick=False):
        response = client_for(world.physio).get(f"/api/v1/patients/{world.patient.pk}/summary/")

    # Then the stored weeks are listed, newest first
    assert response.status_code == 200, response.content[:500]
    assert response.json()["adherence"] == [
        {
            "week_start": "2026-11-16",
            "sessions": "1.5",
            "target_min": 2,
            "target_max": 3,
            "below_minimum": True,
            "above_maximum": False,
            "consecutive_below": 1,
            "suppressed": "",
        },
        {
            "week_start": "2026-11-09",
            "sessions": "3.0",
            "target_min": 2,
            "target_max": 3,
            "below_minimum": False,
            "above_maximum": False,
            "consecutive_below": 0,
            "suppressed": "",
        },
    ]


def test_an_explicit_week_waits_until_it_has_ended_locally(world: World, library: dict) -> None:
    # given: Sunday noon UTC, when Auckland's week 47 is over but Los Angeles's is not
    auckland, _ = _enrol(world, library, "Pacific/Auckland")
    los_angeles, _ = _enrol(world, library, "America/Los_Angeles")
    monday = date(2026, 11, 16)

    # when
    with time_machine.travel(datetime(2026, 11, 22, 12, 0, tzinfo=UTC), tick=False):
        adherence_evaluate(now=datetime(2026, 11, 22, 12, 0, tzinfo=UTC), week_start=monday)

    # then
    assert WeeklyAdherence.objects.filter(patient=auckland, week_start=monday).exists()
    assert not WeeklyAdherence.objects.filter(patient=los_angeles, week_start=monday).exists()
