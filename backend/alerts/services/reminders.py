"""Reminders at each patient's own local time (DOMAIN.md 4: R-0, R-1, R-2; 6: SUN-1).

A periodic task calls `reminders_run` every few minutes with the current time. Patients are
grouped by time zone (one query per zone, never per patient); a patient is due when their
local reminder time fell within the window since the previous run. Each reminder is unique
per patient, kind and local date (a constraint), so a run that repeats, comes late or runs
on two workers sends nothing twice, and a daylight-saving change neither skips nor doubles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q, QuerySet

from backend.accounts.models import CaregiverLink, PatientProfile, User
from backend.alerts.models import JobCheckpoint, NotificationKind, Reminder, ReminderKind
from backend.alerts.rules import Params, overrides_for, params
from backend.alerts.services.isolation import patient_failed, patient_isolated
from backend.alerts.services.notifications import Message, Outgoing, notifications_send_many
from backend.core import fanout
from backend.core.bulk import insert_ignoring_conflicts
from backend.exercise.selectors import (
    SESSION_WEIGHT,
    local_week_start,
    session_completions,
    week_bounds,
    week_monday,
    weekly_targets_in_force,
)

DEFAULT_WINDOW = timedelta(minutes=60)  # every run looks back at least this far
MAX_CATCH_UP = timedelta(hours=12)  # after an outage, and never before the local day began
CHECKPOINT = "reminders"
THURSDAY, SATURDAY = 4, 6

TEXT = {
    ReminderKind.SESSION: ("Exercise day", "Today is one of your exercise days. Ready?"),
    ReminderKind.NOTHING_YET: (
        "Time for a session?",
        "No session yet this week: a short one today still counts.",
    ),
    ReminderKind.BELOW_MINIMUM: (
        "One more this week?",
        "You are below this week's plan: a session this weekend helps.",
    ),
    ReminderKind.SUN: (
        "Sun protection",
        "Outdoor exercise today: sunscreen, hat and long sleeves (SHARE).",
    ),
}


@dataclass(frozen=True)
class Due:
    patient: PatientProfile
    local_date: date
    local_time: time
    at: datetime


def in_quiet_hours(moment: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # quiet hours across midnight


def quiet_until(patient: PatientProfile, at: datetime) -> datetime | None:
    """When `at` falls in the patient's quiet hours, the moment they end; otherwise None.
    A message to the patient that is not tied to a time of its own (the weekly advice)
    waits until then; a reminder whose time is quiet is skipped instead (_quiet)."""
    start, end = patient.quiet_hours_start, patient.quiet_hours_end
    zone = ZoneInfo(patient.timezone)
    local = at.astimezone(zone)
    if not in_quiet_hours(local.time(), start, end):
        return None
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone)


def _quiet(d: Due) -> bool:
    """Neither the planned time nor the moment of sending (a late run) may be quiet."""
    start, end = d.patient.quiet_hours_start, d.patient.quiet_hours_end
    sending = d.at.astimezone(ZoneInfo(d.patient.timezone)).time()
    return in_quiet_hours(d.local_time, start, end) or in_quiet_hours(sending, start, end)


def _windows(zone: ZoneInfo, since: datetime, until: datetime) -> list[tuple[date, Q]]:
    """The local (date, reminder_time range) pairs between two instants in a zone. A window
    longer than usual (catching up after an outage) starts no earlier than the local day:
    yesterday's reminder is not sent today."""
    first, last = since.astimezone(zone), until.astimezone(zone)
    if until - since > DEFAULT_WINDOW and first.date() != last.date():
        first = datetime.combine(last.date(), time.min, tzinfo=zone) - timedelta(microseconds=1)
    if first.date() == last.date():
        return [(last.date(), Q(reminder_time__gt=first.time(), reminder_time__lte=last.time()))]
    return [
        (first.date(), Q(reminder_time__gt=first.time())),
        (last.date(), Q(reminder_time__lte=last.time())),
    ]


# What a due reminder reads of a patient and of the people it goes to: a chunk loads
# hundreds of each, and whole rows with every column were a third of its time.
DUE_FIELDS = (
    "id",
    "timezone",
    "reminder_time",
    "quiet_hours_start",
    "quiet_hours_end",
    "training_weekdays",
    "user__id",
    "user__is_active",
    "user__role",
    "user__email",
)
RECIPIENT_FIELDS = ("id", "is_active", "role", "email")


def _eligible(patient_ids: list[int] | None = None) -> QuerySet[PatientProfile]:
    """Who may be reminded at all; of `patient_ids` only, when given (a chunk)."""
    eligible = PatientProfile.objects.filter(notifications_consent=True, user__is_active=True)
    return eligible if patient_ids is None else eligible.filter(pk__in=patient_ids)


def _due(
    at: datetime, window: timedelta, failed: set[int], patient_ids: list[int] | None = None
) -> list[Due]:
    eligible = _eligible(patient_ids)
    zones = eligible.values_list("timezone", flat=True).distinct().order_by()
    due = []
    for zone_name in zones:
        try:
            zone = ZoneInfo(zone_name)
        except (ValueError, KeyError):  # a stored zone that is not one: only its patients
            for pid in eligible.filter(timezone=zone_name).values_list("pk", flat=True):
                patient_failed("reminders", pid, failed)
            continue
        for local_date, time_range in _windows(zone, at - window, at):
            patients = eligible.filter(time_range, timezone=zone_name).select_related("user")
            for patient in patients.only(*DUE_FIELDS):
                due.append(Due(patient, local_date, patient.reminder_time, at))
    return due


def _sun_due(
    at: datetime, window: timedelta, failed: set[int], patient_ids: list[int] | None = None
) -> list[Due]:
    overrides = overrides_for_sun(patient_ids)
    due = []
    sun_patients = _eligible(patient_ids).filter(pk__in=list(overrides)).select_related("user")
    for patient in sun_patients.only(*DUE_FIELDS):
        with patient_isolated("reminders", patient.pk, failed):
            due += _sun_due_one(patient, params("SUN-1", overrides[patient.pk]), at, window)
    return due


def _sun_due_one(
    patient: PatientProfile, rule: Params, at: datetime, window: timedelta
) -> list[Due]:
    zone = ZoneInfo(patient.timezone)
    local_now = at.astimezone(zone)
    when = time.fromisoformat(rule["time"])
    due = []
    for local_date, _ in _windows(zone, at - window, at):
        moment = datetime.combine(local_date, when, tzinfo=zone)
        outdoor = local_date.isoweekday() in rule["outdoor_weekdays"]
        if at - window < moment <= at and (outdoor or local_date.month in rule["months"]):
            due.append(Due(patient, local_date, when, local_now))
    return due


def overrides_for_sun(
    patient_ids: list[int] | None = None,
) -> dict[int, dict[str, dict[str, object]]]:
    from backend.alerts.models import RuleOverride

    sun = RuleOverride.objects.filter(rule_id="SUN-1")
    if patient_ids is not None:
        sun = sun.filter(patient_id__in=patient_ids)
    ids = list(sun.values_list("patient_id", flat=True))
    return overrides_for(ids) if ids else {}


def _week_counts(due: list[Due]) -> dict[tuple[int, date], Decimal]:
    """Sessions in each due patient's local week so far: one query for the batch."""
    zone_of = {d.patient.pk: ZoneInfo(d.patient.timezone) for d in due}
    weeks = {(d.patient.pk, week_monday(d.local_date)) for d in due}
    if not weeks:
        return {}
    earliest = min(week_bounds(monday, zone_of[pid])[0] for pid, monday in weeks)
    counts: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for patient_id, rows in session_completions(zone_of, since=earliest).items():
        for started_at, completion in rows:
            key = (patient_id, local_week_start(started_at, zone_of[patient_id]))
            if key in weeks:
                counts[key] += SESSION_WEIGHT.get(completion, Decimal(0))
    return counts


def _kinds(d: Due, count: Decimal, low: int, high: int) -> list[str]:
    weekday = d.local_date.isoweekday()
    if weekday == THURSDAY and count == 0:
        return [ReminderKind.NOTHING_YET]  # the nudge replaces the day's session reminder
    if weekday == SATURDAY and count < low:
        return [ReminderKind.BELOW_MINIMUM]
    if weekday in d.patient.training_weekdays and count < high:
        return [ReminderKind.SESSION]
    return []


def _since(at: datetime) -> datetime:
    """From the last completed run (kept in the database), at least DEFAULT_WINDOW back."""
    checkpoint = JobCheckpoint.objects.filter(name=CHECKPOINT).first()
    since = at - DEFAULT_WINDOW
    if checkpoint is not None and checkpoint.completed_until < since:
        since = max(checkpoint.completed_until, at - MAX_CATCH_UP)
    return since


@dataclass(frozen=True)
class ReminderRun:
    sent: int  # new reminders
    failed_patients: int  # patients whose settings raised: logged, skipped this run


def reminders_run(*, at: datetime) -> ReminderRun:
    """Sends the reminders that fell due since the last run (at least the last hour), up to
    `at`. A patient whose stored settings raise (a corrupt SUN-1 override, training days
    that are not a list) is logged and skipped; everyone else is reminded all the same."""
    failed: set[int] = set()
    with transaction.atomic():
        window = at - _since(at)
        sent = sum(  # a bounded page of patients at a time, as the chunks of the fan-out
            _send_due(at, window, failed, ids)
            for ids in fanout.keyset_pages(_eligible(), PAGE_SIZE)
        )
        checkpoint_advance(at)
    return ReminderRun(sent=sent, failed_patients=len(failed))


def checkpoint_advance(at: datetime) -> None:
    """Every patient's reminders up to `at` are sent. Only forward: an operator's run for an
    earlier --at must not rewind it."""
    JobCheckpoint.objects.get_or_create(name=CHECKPOINT, defaults={"completed_until": at})
    JobCheckpoint.objects.filter(name=CHECKPOINT, completed_until__lt=at).update(completed_until=at)


# --- The same, spread over workers (backend/core/fanout.py) -----------------------------------
# The coordinator fixes the window (since the checkpoint, up to `at`) and pages the patients
# who may be reminded; each chunk sends its patients' reminders of that window in its own
# transaction. The checkpoint moves to `at` only when every chunk is done: until then (a chunk
# that failed for good, a worker killed) the next run covers the window again, from the same
# checkpoint, and the unique constraint on reminders makes that send nothing twice.

JOB = "reminders"
PAGE_SIZE = 500
RUN_TIMEOUT = 10 * 60  # two ticks; a chunk's hard limit is 4 minutes (tasks.py)


def reminders_fan_out(
    *,
    at: datetime,
    publish: Callable[[datetime, datetime, list[int], str], bool],
    page_size: int | None = None,
) -> fanout.FanOut:
    """Publishes a chunk of reminders (`publish(at, since, patient_ids, token)`) per page of
    patients who may be reminded, unless the previous run is still going."""
    run = fanout.run_begin(JOB, timeout=RUN_TIMEOUT)
    if run is None:
        return fanout.FanOut(started=False)
    since = _since(at)
    chunks = 0

    def one(ids: list[int]) -> bool:
        nonlocal chunks
        chunks += 1
        return publish(at, since, ids, run.token)

    pages = fanout.keyset_pages(_eligible(), page_size or PAGE_SIZE)
    if fanout.fan_out(run, pages, one):
        checkpoint_advance(at)
    return fanout.FanOut(started=True, chunks=chunks)


def reminders_chunk_run(
    *, at: datetime, since: datetime, patient_ids: list[int], token: str
) -> ReminderRun:
    """Sends these patients' reminders due between `since` and `at`, in one transaction; safe
    to repeat. The run's last chunk moves the checkpoint."""
    failed: set[int] = set()
    with transaction.atomic():
        sent = _send_due(at, at - since, failed, patient_ids)
    if fanout.piece_done(JOB, token, ok=True):
        checkpoint_advance(at)
    return ReminderRun(sent=sent, failed_patients=len(failed))


def reminders_chunk_failed(*, token: str) -> None:
    """A chunk failed for good: the run ends without moving the checkpoint."""
    fanout.piece_done(JOB, token, ok=False)


def _send_due(
    at: datetime, window: timedelta, failed: set[int], patient_ids: list[int] | None = None
) -> int:
    due = _due(at, window, failed, patient_ids)
    sun = _sun_due(at, window, failed, patient_ids)
    patient_ids = list({d.patient.pk for d in due + sun})
    # S: no reminder without an active programme (paused, completed or none)
    targets = weekly_targets_in_force(patient_ids)
    counts = _week_counts(due)
    planned: list[tuple[Due, str]] = []
    for d in due:
        target = targets.get(d.patient.pk)
        if target is None:
            continue
        with patient_isolated("reminders", d.patient.pk, failed):
            if _quiet(d):
                continue
            monday = week_monday(d.local_date)
            low, high = target
            planned += [
                (d, kind)
                for kind in _kinds(d, counts.get((d.patient.pk, monday), Decimal(0)), low, high)
            ]
    for d in sun:
        with patient_isolated("reminders", d.patient.pk, failed):
            if (
                d.patient.pk in targets
                and not _quiet(d)
                and (d.local_date.isoweekday() in d.patient.training_weekdays)
            ):
                planned.append((d, ReminderKind.SUN))
    if not planned:
        return 0
    existing = set(
        Reminder.objects.filter(
            patient_id__in=patient_ids, local_date__in={d.local_date for d, _ in planned}
        ).values_list("patient_id", "kind", "local_date")
    )
    fresh = [(d, kind) for d, kind in planned if (d.patient.pk, kind, d.local_date) not in existing]
    insert_ignoring_conflicts(
        Reminder,
        [
            {"patient_id": d.patient.pk, "kind": kind, "local_date": d.local_date, "due_at": d.at}
            for d, kind in fresh
        ],
    )
    caregivers: dict[int, list[User]] = defaultdict(list)
    for link in (
        CaregiverLink.objects.filter(patient_id__in={d.patient.pk for d, _ in fresh})
        .select_related("caregiver")
        .only("patient_id", *(f"caregiver__{f}" for f in RECIPIENT_FIELDS))
    ):
        caregivers[link.patient_id].append(link.caregiver)
    outgoing = []
    for d, kind in fresh:
        title, body = TEXT[ReminderKind(kind)]
        message = Message(
            NotificationKind.REMINDER,
            title,
            body,
            "reminder",
            d.patient.pk,
            f"{kind}:{d.patient.pk}:{d.local_date}",
        )
        for person in [d.patient.user, *caregivers[d.patient.pk]]:
            outgoing.append(Outgoing(person, d.patient, message))
    notifications_send_many(outgoing)
    return len(fresh)
