"""Reminders at each patient's own local time (DOMAIN.md 4: R-0, R-1, R-2, S; 6: SUN-1).

The periodic task runs every 5 minutes with the current time; a reminder is due when the
patient's local reminder time fell in the last hour. Week 49 of 2026 runs from Monday
30 November to Sunday 6 December; London is on UTC then, so 17:30 London is 17:30 UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from backend.accounts.models import PatientProfile
from backend.alerts import tasks
from backend.alerts.models import Notification, NotificationKind, Reminder, RuleOverride
from backend.alerts.services.reminders import reminders_run
from backend.exercise.models import Programme
from backend.exercise.services.programmes import programme_create, programme_pause
from backend.exercise.services.sessions import session_log_record
from tests.conftest import World
from tests.exercise.conftest import content
from tests.factories import (
    CaregiverLinkFactory,
    CareTeamMembershipFactory,
    PatientProfileFactory,
)

pytestmark = pytest.mark.django_db

LONDON = "Europe/London"
MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)
THURSDAY, FRIDAY, SATURDAY = date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 5)
MON_WED_FRI = [1, 3, 5]
EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]


# --- Given helpers ---------------------------------------------------------------------------


def _enrol(
    world: World,
    library: dict,
    *,
    timezone_name: str = LONDON,
    weekdays: list[int] | None = None,
    consent: bool = True,
    **profile: Any,
) -> tuple[PatientProfile, Programme]:
    """A consenting patient with a caregiver and an active programme (since January 2026)."""
    days = weekdays or MON_WED_FRI
    patient = PatientProfileFactory.create(
        user__organisation=world.org,
        timezone=timezone_name,
        training_weekdays=days,
        notifications_consent=consent,
        **profile,
    )
    CareTeamMembershipFactory.create(patient=patient, member=world.physio)
    CaregiverLinkFactory.create(patient=patient)
    programme = programme_create(
        by=world.physio,
        patient=patient,
        content=content(
            library,
            start_date=date(2026, 1, 5),
            review_date=date(2027, 1, 4),
            training_weekdays=days,
        ),
        activate=True,
    ).programme
    return patient, programme


def _local(timezone_name: str, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(timezone_name))


def _log(
    patient: PatientProfile, programme: Programme, day: date, completion: str = "full"
) -> None:
    """The patient logs a session at 10:00 local time on the given day."""
    version = programme.current_version
    assert version is not None
    started = _local(patient.timezone, day, 10)
    with time_machine.travel(started + timedelta(minutes=35), tick=False):
        session_log_record(
            by=patient.user,
            patient=patient,
            data={
                "client_id": uuid.uuid4(),
                "version": version.pk,
                "started_at": started,
                "ended_at": started + timedelta(minutes=30),
                "completion": completion,
            },
        )


def _run(at: datetime) -> int:
    """The periodic task's run at a frozen instant."""
    with time_machine.travel(at, tick=False):
        return reminders_run(at=at).sent


def _ticks(
    start: datetime, end: datetime, every: timedelta = timedelta(minutes=5)
) -> Iterator[datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += every


def _sent(patient: PatientProfile) -> list[tuple[str, date]]:
    return [
        (r.kind, r.local_date)
        for r in Reminder.objects.filter(patient=patient).order_by("local_date", "kind")
    ]


def _utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


# --- training days -----------------------------------------------------------------------


def test_a_session_reminder_is_sent_at_the_patients_local_time_on_a_training_day(world, library):
    # Given a London patient training Monday, Wednesday and Friday, reminded at 17:30
    patient, _ = _enrol(world, library)

    # When the task runs at 17:25 and 17:30 on Wednesday
    before = _run(_utc(WEDNESDAY, 17, 25))
    due = _run(_utc(WEDNESDAY, 17, 30))

    # Then one session reminder goes out at 17:30, not before
    assert (before, due) == (0, 1)
    assert _sent(patient) == [("R-0", WEDNESDAY)]


def test_the_reminder_follows_summer_time(world, library):
    # Given a London patient reminded at 17:30, on Wednesday 3 June 2026 (BST, UTC+1)
    patient, _ = _enrol(world, library)
    june_wednesday = date(2026, 6, 3)

    # When the task runs at 16:30 UTC (17:30 in London) and at 17:30 UTC (18:30 in London)
    sent = [_run(_utc(june_wednesday, 16, 30)), _run(_utc(june_wednesday, 17, 30))]

    # Then the reminder went out at 17:30 London time, once
    assert sent == [1, 0]
    assert _sent(patient) == [("R-0", june_wednesday)]


def test_no_session_reminder_on_a_day_that_is_not_a_training_day(world, library):
    # Given a patient training Monday, Wednesday and Friday
    patient, _ = _enrol(world, library)

    # When the task runs at the reminder time on Tuesday (not a training day)
    sent = _run(_utc(TUESDAY, 17, 30))

    # Then nothing is sent
    assert sent == 0
    assert _sent(patient) == []


@pytest.mark.parametrize(
    ("sessions_before", "expected"),
    [
        pytest.param(2, [("R-0", WEDNESDAY)], id="2-of-3-reminded"),
        pytest.param(3, [], id="maximum-reached"),
    ],
)
def test_no_session_reminder_once_the_weeks_maximum_is_reached(
    world, library, sessions_before, expected
):
    # Given sessions on Monday, Tuesday (and Wednesday morning) against a maximum of 3
    patient, programme = _enrol(world, library)
    for day in [MONDAY, TUESDAY, WEDNESDAY][:sessions_before]:
        _log(patient, programme, day)

    # When the task runs at Wednesday's reminder time
    _run(_utc(WEDNESDAY, 17, 30))

    # Then the reminder goes only while the maximum is not reached
    assert _sent(patient) == expected


# --- Thursday and Saturday nudges ----------------------------------------------------


def test_thursday_nudge_when_no_session_yet_this_week(world, library):
    # Given a patient whose last session was on Sunday, in the previous week
    patient, programme = _enrol(world, library)
    _log(patient, programme, MONDAY - timedelta(days=1))

    # When the task runs at Thursday's reminder time
    _run(_utc(THURSDAY, 17, 30))

    # Then the patient is nudged
    assert _sent(patient) == [("R-1", THURSDAY)]


def test_no_thursday_nudge_after_a_session_this_week(world, library):
    # Given a session on Tuesday
    patient, programme = _enrol(world, library)
    _log(patient, programme, TUESDAY, "partial")

    # When the task runs at Thursday's reminder time
    _run(_utc(THURSDAY, 17, 30))

    # Then there is nothing to nudge about
    assert _sent(patient) == []


@pytest.mark.parametrize(
    ("partials", "expected"),
    [
        pytest.param(1, [("R-2", SATURDAY)], id="1.5-below-2"),
        pytest.param(2, [], id="2-meets-the-minimum"),
    ],
)
def test_saturday_nudge_only_below_the_minimum(world, library, partials, expected):
    # Given one full session on Monday and partial ones on Tuesday (and Wednesday)
    patient, programme = _enrol(world, library)
    _log(patient, programme, MONDAY)
    for day in [TUESDAY, WEDNESDAY][:partials]:
        _log(patient, programme, day, "partial")

    # When the task runs at Saturday's reminder time
    _run(_utc(SATURDAY, 17, 30))

    # Then the patient is nudged only while below the minimum of 2
    assert _sent(patient) == expected


# --- Quiet hours, pauses and consent -----------------------------------------------------------


@pytest.mark.parametrize(
    ("reminder", "quiet_start", "quiet_end"),
    [
        pytest.param(time(22, 0), time(21, 0), time(8, 0), id="evening-of-overnight-quiet"),
        pytest.param(time(7, 30), time(21, 0), time(8, 0), id="morning-of-overnight-quiet"),
        pytest.param(time(13, 0), time(12, 0), time(14, 0), id="daytime-quiet"),
    ],
)
def test_no_reminder_during_quiet_hours(world, library, reminder, quiet_start, quiet_end):
    # Given a reminder time inside the patient's quiet hours
    patient, _ = _enrol(
        world,
        library,
        weekdays=EVERY_DAY,
        reminder_time=reminder,
        quiet_hours_start=quiet_start,
        quiet_hours_end=quiet_end,
    )

    # When the task ticks through Wednesday and Thursday
    for tick in _ticks(_utc(WEDNESDAY, 0, 0), _utc(FRIDAY, 0, 0), timedelta(minutes=30)):
        _run(tick)

    # Then nothing is sent: neither the session reminder nor Thursday's nudge
    assert _sent(patient) == []


def test_a_late_run_inside_quiet_hours_sends_nothing_then(world, library):
    # Given a reminder at 20:40 and quiet hours from 21:00, and a beat that was down
    patient, _ = _enrol(world, library, reminder_time=time(20, 40))

    # When the first run after the due time comes at 21:30 on Wednesday (50 minutes late)
    sent = _run(_utc(WEDNESDAY, 21, 30))

    # Then nothing is sent during the quiet hours
    assert sent == 0
    assert _sent(patient) == []
    assert not Notification.objects.filter(kind=NotificationKind.REMINDER).exists()


def test_no_reminder_while_the_programme_is_paused(world, library):
    # Given a programme paused by the nurse for a flare
    patient, programme = _enrol(world, library)
    CareTeamMembershipFactory.create(patient=patient, member=world.nurse, role="nurse")
    with time_machine.travel(_utc(MONDAY, 9), tick=False):
        programme_pause(programme=programme, by=world.nurse, reason="flare")

    # When the task runs at Wednesday's, Thursday's and Saturday's reminder times
    for day in (WEDNESDAY, THURSDAY, SATURDAY):
        _run(_utc(day, 17, 30))

    # Then nothing is sent
    assert _sent(patient) == []


def test_no_reminder_without_consent_to_notifications(world, library):
    # Given a patient who did not consent to notifications
    patient, _ = _enrol(world, library, consent=False)

    # When the task runs at Wednesday's and Thursday's reminder times
    _run(_utc(WEDNESDAY, 17, 30))
    _run(_utc(THURSDAY, 17, 30))

    # Then nothing is sent
    assert _sent(patient) == []
    assert not Notification.objects.filter(kind=NotificationKind.REMINDER).exists()


# --- Exactly once: repeats, ticks, late runs and daylight saving ---------------------------------


def test_a_repeated_run_sends_one_reminder(world, library, jobs_run_inline):
    # Given a reminder due on Wednesday at 17:30
    patient, _ = _enrol(world, library)

    # When the run repeats, and the periodic task itself (its chunks run inline) runs twice
    first = _run(_utc(WEDNESDAY, 17, 30))
    second = _run(_utc(WEDNESDAY, 17, 30))
    with time_machine.travel(_utc(WEDNESDAY, 17, 35), tick=False):
        chunks = [
            tasks.run_reminders(_utc(WEDNESDAY, 17, 35).isoformat()),
            tasks.run_reminders(),
        ]

    # Then one reminder, notified once to the patient and once to the caregiver
    assert (first, second) == (1, 0)
    assert chunks == [1, 1]  # each run did look at the patient
    assert _sent(patient) == [("R-0", WEDNESDAY)]
    assert Notification.objects.filter(kind=NotificationKind.REMINDER).count() == 2


def test_ticks_every_five_minutes_across_the_due_time_send_one_reminder(world, library):
    # Given a reminder due on Wednesday at 17:30
    patient, _ = _enrol(world, library)

    # When the task ticks every 5 minutes from 16:00 to 20:00
    sent = [_run(tick) for tick in _ticks(_utc(WEDNESDAY, 16), _utc(WEDNESDAY, 20))]

    # Then exactly one tick sent it, the one at 17:30
    assert sum(sent) == 1
    assert _sent(patient) == [("R-0", WEDNESDAY)]
    assert Reminder.objects.get(patient=patient).due_at == _utc(WEDNESDAY, 17, 30)


def test_a_run_fifty_minutes_late_still_sends(world, library):
    # Given a reminder due on Wednesday at 17:30, and a beat that was down until 18:20
    patient, _ = _enrol(world, library)

    # When the first run comes 50 minutes late
    sent = _run(_utc(WEDNESDAY, 18, 20))

    # Then the reminder still goes out
    assert sent == 1
    assert _sent(patient) == [("R-0", WEDNESDAY)]


@pytest.mark.parametrize(
    "reminder",
    [
        pytest.param(time(1, 30), id="01:30"),
        pytest.param(time(17, 30), id="17:30"),
    ],
)
@pytest.mark.parametrize(
    "sunday",
    [
        # Clocks go back at 02:00 BST: 01:30 happens twice
        pytest.param(date(2026, 10, 25), id="autumn-25-Oct"),
        # Clocks go forward at 01:00 GMT: 01:30 never happens
        pytest.param(date(2026, 3, 29), id="spring-29-Mar"),
    ],
)
def test_a_daylight_saving_day_neither_skips_nor_doubles(world, library, sunday, reminder):
    # Given a London patient training on Sundays, with quiet hours away from the reminder
    patient, _ = _enrol(
        world,
        library,
        weekdays=[7],
        reminder_time=reminder,
        quiet_hours_start=time(3, 0),
        quiet_hours_end=time(6, 0),
    )

    # When the task ticks every 5 minutes through the whole local day and beyond
    start = _local(LONDON, sunday, 0) - timedelta(hours=1)
    end = _local(LONDON, sunday + timedelta(days=1), 0) + timedelta(hours=1)
    sent = sum(_run(tick) for tick in _ticks(start, end))

    # Then exactly one session reminder was sent for that Sunday, during that Sunday
    assert sent == 1
    assert _sent(patient) == [("R-0", sunday)]
    due_at = Reminder.objects.get(patient=patient).due_at
    assert due_at.astimezone(ZoneInfo(LONDON)).date() == sunday


@pytest.mark.parametrize(
    ("instant", "zone", "local_day", "kind"),
    [
        # 08:30 in London on Wednesday; 03:30 in New York; 21:30 in Auckland
        pytest.param(_utc(WEDNESDAY, 8, 30), LONDON, WEDNESDAY, "R-0", id="London"),
        # 08:30 in New York on Wednesday; 13:30 in London; Thursday 02:30 in Auckland
        pytest.param(_utc(WEDNESDAY, 13, 30), "America/New_York", WEDNESDAY, "R-0", id="NY"),
        # Thursday 08:30 in Auckland while it is still Wednesday in UTC: nothing yet
        pytest.param(_utc(WEDNESDAY, 19, 30), "Pacific/Auckland", THURSDAY, "R-1", id="AKL"),
    ],
)
def test_at_one_instant_only_the_patient_whose_local_time_is_due_is_reminded(
    world, library, instant, zone, local_day, kind
):
    # Given patients in three time zones, training every day, each reminded at 08:30 local
    patients = {
        name: _enrol(
            world, library, timezone_name=name, weekdays=EVERY_DAY, reminder_time=time(8, 30)
        )[0]
        for name in (LONDON, "America/New_York", "Pacific/Auckland")
    }

    # When the task runs at one UTC instant
    sent = _run(instant)

    # Then only the patient whose local 08:30 it is gets a reminder, dated in their own day
    assert sent == 1
    for name, patient in patients.items():
        assert _sent(patient) == ([(kind, local_day)] if name == zone else []), name


# --- SUN-1: sun protection in the months the clinician enables -----------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 11, 25), 1, id="November-training-day"),
        pytest.param(date(2026, 11, 24), 0, id="November-rest-day"),
        pytest.param(WEDNESDAY, 0, id="December-not-enabled"),
    ],
)
def test_sun_protection_reminder_on_training_days_of_enabled_months(world, library, day, expected):
    # Given the physiotherapist enabled sun protection reminders at 08:00 in November
    patient, _ = _enrol(world, library)
    RuleOverride.objects.create(
        patient=patient,
        rule_id="SUN-1",
        parameters={"months": [11], "time": "08:00"},
        set_by=world.physio,
    )

    # When the task ticks through the morning
    for tick in _ticks(_utc(day, 6), _utc(day, 10)):
        _run(tick)

    # Then the sun reminder goes out once on a November training day, and not otherwise
    sun = Reminder.objects.filter(patient=patient, kind="SUN-1")
    assert sun.count() == expected
    if expected:
        assert sun.get().local_date == day
        titles = set(
            Notification.objects.filter(
                recipient=patient.user, kind=NotificationKind.REMINDER
            ).values_list("title", flat=True)
        )
        assert titles == {"Sun protection"}


# --- Notifications and the command ----------------------------------------------------------------


def test_a_reminder_notifies_the_patient_and_their_caregiver(world, library):
    # Given a patient with a caregiver, due a Thursday nudge
    patient, _ = _enrol(world, library)
    caregiver = patient.caregiver_links.get().caregiver

    # When the task runs at Thursday's reminder time
    _run(_utc(THURSDAY, 17, 30))

    # Then each of them has one reminder notification about the patient
    notifications = Notification.objects.filter(kind=NotificationKind.REMINDER)
    assert {n.recipient for n in notifications} == {patient.user, caregiver}
    assert len(notifications) == 2
    for notification in notifications:
        assert notification.patient == patient
        assert notification.title == "Time for a session?"
        assert notification.subject_type == "reminder"
        assert notification.deliveries.count() == 1


def test_the_command_sends_the_reminders_due_at_the_given_time(world, library):
    # Given a patient reminded at 18:00, with no session this week
    patient, _ = _enrol(world, library, reminder_time=time(18, 0))

    # When the operator runs the command for Thursday 3 December 18:00 UTC, twice
    out = StringIO()
    with time_machine.travel(_utc(THURSDAY, 18, 5), tick=False):
        call_command("run_reminders", "--at", "2026-12-03T18:00Z", stdout=out)
        call_command("run_reminders", "--at", "2026-12-03T18:00Z", stdout=out)

    # Then the Thursday nudge went out once
    assert out.getvalue().splitlines() == [
        "1 reminder(s) sent for 2026-12-03T18:00:00+00:00",
        "0 reminder(s) sent for 2026-12-03T18:00:00+00:00",
    ]
    assert _sent(patient) == [("R-1", THURSDAY)]


def _chunk_queries(world: World, library: dict, patients: int) -> int:
    """Statements of one chunk that reminds `patients` patients (each with a caregiver)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from backend.alerts.services.reminders import reminders_chunk_run

    ids = [_enrol(world, library)[0].pk for _ in range(patients)]
    at = _utc(THURSDAY, 17, 30)
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as queries:
        sent = reminders_chunk_run(at=at, since=at - timedelta(hours=1), patient_ids=ids, token="t")
    assert sent.sent == patients
    return len(queries)


def test_a_chunk_runs_the_same_statements_for_two_patients_as_for_twelve(world, library):
    # Given two chunks of different sizes, all due a Thursday nudge
    # When each runs
    # Then they run the same number of statements: nothing is read per patient
    assert _chunk_queries(world, library, 2) == _chunk_queries(world, library, 12)
    assert Notification.objects.filter(kind=NotificationKind.REMINDER).count() == 2 * (2 + 12)
