"""A worker SIGKILLed mid-task, as by the OOM killer or a node going away: after a new worker
starts, the work completes with nothing duplicated and nothing missing.

The worker is stopped at a known point (tests/faults/hooks.py) and killed there, with its
whole process group: no clean-up, no acknowledgement, no rollback but PostgreSQL's own."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from celery import Task
from django.conf import settings
from django.utils import timezone

from backend.accounts.models import PatientProfile, PushDevice, User
from backend.alerts import tasks
from backend.alerts.models import (
    Alert,
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    Reminder,
    WeeklyAdherence,
)
from backend.alerts.services import notifications
from backend.alerts.services.adherence import adherence_evaluate
from backend.alerts.services.alerting import Audience, alerts_raise
from backend.alerts.services.delivery import STALE_SENDING
from backend.exercise.selectors import local_week_start
from backend.exercise.services.programmes import programme_create
from tests.builders import finding, session_logged
from tests.exercise.conftest import content
from tests.factories import (
    CareTeamMembershipFactory,
    ClinicianFactory,
    OrganisationFactory,
    PatientProfileFactory,
)
from tests.faults.conftest import publish, recorded
from tests.faults.processes import EMAILS, PUSHES, Managed, RedisServer, celery_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Full sessions in the four weeks up to the evaluated week, one row per patient: below the
# minimum, on target, above the maximum, absent for weeks (A-1 advice, A-2, A-3, A-4).
PLANS = [(0, 0, 0, 0), (2, 2, 2, 1), (2, 2, 2, 2), (3, 3, 3, 4), (1, 0, 0, 0), (1, 1, 1, 1)]
BATCH_SIZE = 2  # patients per batch of the weekly job, so that it has several


@dataclass
class Cohort:
    physio: User
    nurse: User
    patients: list[PatientProfile]

    def who(self, user_id: int) -> str:
        """A recipient named by their place in the cohort, to compare two cohorts."""
        if user_id == self.physio.pk:
            return "physio"
        if user_id == self.nurse.pk:
            return "nurse"
        return f"patient {[p.user_id for p in self.patients].index(user_id)}"


def _evaluated_week() -> date:
    return local_week_start(timezone.now(), ZoneInfo("UTC")) - timedelta(weeks=2)  # ended


def _cohort(library: dict[str, Any], week: date) -> Cohort:
    """Patients following PLANS on a programme that began 5 weeks before `week`, with a
    physiotherapist and a nurse of their own; everyone has a phone."""
    org = OrganisationFactory.create()
    physio = ClinicianFactory.create(organisation=org, role="physiotherapist")
    nurse = ClinicianFactory.create(organisation=org, role="nurse")
    start = week - timedelta(weeks=5)
    patients = []
    for plan in PLANS:
        patient = PatientProfileFactory.create(user__organisation=org)
        CareTeamMembershipFactory.create(patient=patient, member=physio)
        CareTeamMembershipFactory.create(patient=patient, member=nurse, role="nurse")
        programme = programme_create(
            by=physio,
            patient=patient,
            content=content(library, start_date=start, review_date=start + timedelta(weeks=12)),
            activate=True,
        ).programme
        for weeks_before, count in zip((3, 2, 1, 0), plan, strict=True):
            monday = week - timedelta(weeks=weeks_before)
            for day in range(count):
                started = datetime.combine(monday + timedelta(days=day + 1), clock(10), tzinfo=UTC)
                session_logged(programme, started_at=started)
        patients.append(patient)
    for user in (physio, nurse, *(p.user for p in patients)):
        PushDevice.objects.create(user=user, platform="android", token=f"phone-{user.pk}")
    return Cohort(physio, nurse, patients)


def _outcome(cohort: Cohort, since: int) -> dict[str, Counter[tuple[Any, ...]]]:
    """What the weekly job produced for a cohort, with patients and people named by their
    place in it: weeks, alerts, and notifications with their channels (ids after `since`)."""
    index = {p.pk: n for n, p in enumerate(cohort.patients)}
    weeks = Counter(
        (index[w.patient_id], *_week(w))
        for w in WeeklyAdherence.objects.filter(patient_id__in=index)
    )
    alerts = Counter(
        (index[a.patient_id], a.rule_id, a.urgency, a.period_start, a.period_end)
        for a in Alert.objects.filter(patient_id__in=index)
    )
    recipients = [cohort.physio.pk, cohort.nurse.pk, *(p.user_id for p in cohort.patients)]
    messages = Counter(
        (cohort.who(d.notification.recipient_id), d.channel, *_text(d.notification))
        for d in NotificationDelivery.objects.filter(
            notification__recipient_id__in=recipients, notification_id__gt=since
        ).select_related("notification")
    )
    return {"weeks": weeks, "alerts": alerts, "messages": messages}


def _week(w: WeeklyAdherence) -> tuple[Any, ...]:
    return (
        w.week_start,
        w.sessions,
        w.below_minimum,
        w.above_maximum,
        w.consecutive_below,
        w.suppressed,
    )


def _text(notification: Notification) -> tuple[str, str, str]:
    return notification.kind, notification.title, notification.body


def _redeliver_unacknowledged(redis: RedisServer) -> int:
    """Makes the tasks the killed worker held look older than the visibility timeout, as
    they will an hour later: the next worker to start takes them back. Returns how many."""
    client = redis.client()
    held = client.zrange("unacked_index", 0, -1)
    for tag in held:
        client.zadd("unacked_index", {tag: 0})
    return len(held)


def _pushes_per_delivery(pushes: Path) -> Counter[tuple[str, str]]:
    return Counter((p["data"]["notification_id"], p["token"]) for p in recorded(pushes))


def _wait_for_idle(redis: RedisServer, timeout: float = 60) -> None:
    """Until every task is done: none queued, none held unacknowledged (acks_late tasks are
    acknowledged when they finish), twice in a row a moment apart."""
    client = redis.client()

    def idle() -> bool:
        queued = sum(client.llen(queue.name) for queue in settings.CELERY_TASK_QUEUES)
        return queued == 0 and client.zcard("unacked_index") == 0

    def idle_twice() -> bool:
        if not idle():
            return False
        time.sleep(0.3)
        return idle()

    wait_until(idle_twice, timeout, 0.2, "an idle queue")


def _start(processes: list[Managed], worker: Managed) -> Managed:
    processes.append(worker)
    worker.start()
    return worker


def _kill_at(
    point: str,
    work: list[tuple[Task, tuple[Any, ...]]],
    *,
    redis: RedisServer,
    database_url: str,
    processes: list[Managed],
    log_dir: Path,
    **extra_env: str,
) -> None:
    """Starts a worker that stops at the fault point (tests/faults/hooks.py), publishes the
    work (task, arguments) to it, and SIGKILLs it there once it has arrived."""
    marker = log_dir / "reached"
    hooked = celery_worker(
        log_dir,
        name="hooked",
        app="tests.faults.hooks",
        broker_url=redis.url(),
        database_url=database_url,
        FAULT_POINT=point,
        FAULT_MARKER=str(marker),
    )
    hooked.env.update(extra_env)  # after the defaults: e.g. a push sender that hangs
    _start(processes, hooked)
    for task, args in work:
        publish(redis.url(), task, *args)
    wait_until(marker.exists, 30, 0.1, f"the worker to reach {point}")
    hooked.kill()


def _recover_on_a_new_worker(
    redis: RedisServer, database_url: str, processes: list[Managed], log_dir: Path
) -> None:
    """The broker hands the killed worker's one unacknowledged task to a new worker (as it
    would after the visibility timeout), which runs it to the end."""
    assert _redeliver_unacknowledged(redis) == 1
    _start(processes, celery_worker(log_dir, broker_url=redis.url(), database_url=database_url))
    _wait_for_idle(redis)


def test_the_weekly_job_killed_mid_batch_completes_as_a_clean_run_would(
    library, private_redis, database_url, processes, tmp_path: Path
):
    # given two cohorts alike; the first evaluated by a clean run of the job
    week = _evaluated_week()
    clean, faulted = _cohort(library, week), _cohort(library, week)
    before = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    adherence_evaluate(
        now=timezone.now(), week_start=week, patient_ids=[p.pk for p in clean.patients]
    )
    expected = _outcome(clean, before)
    assert expected["alerts"], "the plans make the rules fire"
    assert expected["messages"]

    # when a worker runs the job for everyone and is killed inside its second batch
    _kill_at(
        "adherence_batch:2",
        [(tasks.evaluate_adherence, (week.isoformat(),))],
        redis=private_redis,
        database_url=database_url,
        processes=processes,
        log_dir=tmp_path,
        FAULT_BATCH_SIZE=str(BATCH_SIZE),
    )

    # then the first batch is committed and the second rolled back with the connection
    ids = [p.pk for p in faulted.patients]
    assert WeeklyAdherence.objects.filter(patient_id__in=ids).count() == BATCH_SIZE

    # when the broker gives the unacknowledged job to a new worker (after the visibility
    # timeout), and later the hourly beat runs the job once more
    _recover_on_a_new_worker(private_redis, database_url, processes, tmp_path)
    assert WeeklyAdherence.objects.filter(patient_id__in=ids).count() == len(ids)
    publish(private_redis.url(), tasks.evaluate_adherence, week.isoformat())
    _wait_for_idle(private_redis)

    # then the outcome is the clean run's: no week, alert or notification twice or missing
    assert _outcome(faulted, before) == expected
    # and each notification reached each phone once
    sent = NotificationDelivery.objects.filter(
        notification_id__gt=before,
        channel=Channel.PUSH,
        notification__recipient__organisation=faulted.physio.organisation,
    )
    assert set(sent.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert _pushes_per_delivery(tmp_path / PUSHES) == Counter(
        (str(d.notification_id), f"phone-{d.notification.recipient_id}")
        for d in sent.select_related("notification")
    )


def _team_alerts(world: Any, count: int) -> list[Alert]:
    """Routine alerts to the physiotherapist and the nurse, each by push and e-mail."""
    day = timezone.now().date()
    return alerts_raise(
        [
            finding(
                world.patient,
                key=f"fault-test:{n}",
                rule_id="SYM-3",
                reason=f"Reported with a session: rash flare ({n}).",
                evidence={"n": n},
                period=(day, day),
                audience=Audience.TEAM,
            )
            for n in range(count)
        ]
    )


def test_a_worker_killed_while_sending_loses_no_other_delivery_and_sends_none_twice(
    world, private_redis, database_url, processes, tmp_path: Path, monkeypatch
):
    # given three alerts' notifications waiting to be delivered (12 deliveries: physio and
    # nurse, push and e-mail), their tasks queued as the commit would have queued them
    for user in (world.physio, world.nurse):
        PushDevice.objects.create(user=user, platform="android", token=f"phone-{user.pk}")
    with monkeypatch.context() as patch:
        patch.setattr(notifications, "deliveries_enqueue", lambda ids: None)
        _team_alerts(world, 3)
    deliveries = list(NotificationDelivery.objects.order_by("pk").values_list("pk", flat=True))
    assert len(deliveries) == 12

    # when a worker takes them and is killed while its third push is in flight
    _kill_at(
        "push:3",
        [(tasks.deliver_notification, (delivery_id,)) for delivery_id in deliveries],
        redis=private_redis,
        database_url=database_url,
        processes=processes,
        log_dir=tmp_path,
        PUSH_SENDER="tests.faults.hooks.HangingPushSender",
    )
    (in_flight,) = NotificationDelivery.objects.filter(status=DeliveryStatus.SENDING)
    assert len(recorded(tmp_path / PUSHES)) == 2

    # and a new worker starts, the broker hands back the killed worker's task (after the
    # visibility timeout), and the sweeper runs once the interrupted send is stale
    _recover_on_a_new_worker(private_redis, database_url, processes, tmp_path)
    NotificationDelivery.objects.filter(pk=in_flight.pk).update(
        claimed_at=timezone.now() - STALE_SENDING - timedelta(minutes=1)
    )
    publish(private_redis.url(), tasks.sweep_deliveries)
    _wait_for_idle(private_redis)

    # then every other delivery was made exactly once
    others = NotificationDelivery.objects.exclude(pk=in_flight.pk).select_related(
        "notification__recipient"
    )
    assert {d.status for d in others} == {DeliveryStatus.SENT}
    assert _pushes_per_delivery(tmp_path / PUSHES) == Counter(
        (str(d.notification_id), f"phone-{d.notification.recipient_id}")
        for d in others
        if d.channel == Channel.PUSH
    )
    assert Counter(e["to"][0] for e in recorded(tmp_path / EMAILS)) == Counter(
        d.notification.recipient.email for d in others if d.channel == Channel.EMAIL
    )
    # and the one interrupted in flight is never sent twice: it may have reached the push
    # service, so it is given up, visibly (at most once per channel; the alert itself, its
    # in-app notification and the e-mail are there, and urgent alerts are escalated)
    in_flight.refresh_from_db()
    assert in_flight.status == DeliveryStatus.FAILED
    assert in_flight.last_error == "interrupted while sending; not resent"
    assert Notification.objects.count() == 6


def test_a_reminders_run_killed_before_its_commit_sends_each_reminder_once(
    world, library, private_redis, database_url, processes, tmp_path: Path
):
    # given three patients whose reminder time was ten minutes ago, on an exercise day
    patients = []
    for _ in range(3):
        patient = PatientProfileFactory.create(
            user__organisation=world.org,
            notifications_consent=True,
            training_weekdays=[1, 2, 3, 4, 5, 6, 7],
            quiet_hours_start=clock(0),
            quiet_hours_end=clock(0),  # no quiet hours, whatever the time the test runs
        )
        patient.reminder_time = (
            timezone.localtime(timezone.now(), ZoneInfo(patient.timezone)) - timedelta(minutes=10)
        ).time()
        patient.save(update_fields=["reminder_time"])
        CareTeamMembershipFactory.create(patient=patient, member=world.physio)
        programme_create(by=world.physio, patient=patient, content=content(library), activate=True)
        PushDevice.objects.create(
            user=patient.user, platform="ios", token=f"phone-{patient.user_id}"
        )
        patients.append(patient)
    before = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0

    # when the worker running the reminders is killed before the run commits
    _kill_at(
        "reminders:1",
        [(tasks.run_reminders, ())],
        redis=private_redis,
        database_url=database_url,
        processes=processes,
        log_dir=tmp_path,
    )
    assert not Reminder.objects.exists()  # rolled back with the connection

    # and the broker hands the run to a new worker, then beat runs it again 5 minutes later
    _recover_on_a_new_worker(private_redis, database_url, processes, tmp_path)
    publish(private_redis.url(), tasks.run_reminders)
    _wait_for_idle(private_redis)

    # then each patient got one reminder, one notification and one push
    ids = {p.pk for p in patients}
    assert Counter(Reminder.objects.values_list("patient_id", flat=True)) == dict.fromkeys(ids, 1)
    reminded = Notification.objects.filter(id__gt=before, kind="reminder")
    assert sorted(reminded.values_list("recipient_id", flat=True)) == sorted(
        p.user_id for p in patients
    )
    assert _pushes_per_delivery(tmp_path / PUSHES) == Counter(
        (str(n.pk), f"phone-{n.recipient_id}") for n in reminded
    )
