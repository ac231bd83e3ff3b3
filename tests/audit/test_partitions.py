"""The audit trail partitioned by month on PostgreSQL (migration audit/0007): each event lands
in its month's partition (or the DEFAULT one), the daily upkeep creates the coming months,
and a month past retention goes only whole, by dropping its partition, recorded in the trail.
SQLite keeps a plain table: the upkeep and the expiry say so and do nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from backend.audit import tasks
from backend.audit.models import AccessEvent
from backend.audit.partitions import (
    DEFAULT_PARTITION,
    PartitionError,
    is_partitioned,
    month_start,
    monthly_partitions,
    partition_name,
    partitions_create_ahead,
    partitions_expire,
)
from tests.builders import access_event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 15, 10, 0, tzinfo=UTC)  # everything is made inside this frozen month
NOVEMBER = date(2026, 11, 1)
AUDIT = "/api/v1/audit/"
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the SQLite no-op (PostgreSQL partitions the trail)"
)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def superuser(db):
    return UserFactory.create(role="", organisation=None, is_staff=True, is_superuser=True)


def _partition_of(event: AccessEvent) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM audit_accessevent WHERE id = %s", [event.pk]
        )
        return str(cursor.fetchone()[0])


def _names() -> list[str]:
    return [p.name for p in monthly_partitions()]


def _months_from(start: datetime, months: int) -> None:
    """Partitions for `months` months from `start`'s, as the upkeep made them then."""
    partitions_create_ahead(now=start, months_ahead=months - 1)


# --- Where events land -------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_trail_is_a_partitioned_table_with_a_default_partition():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relkind FROM pg_class c WHERE c.oid IN "
            "(SELECT inhrelid FROM pg_inherits WHERE inhparent = 'audit_accessevent'::regclass)"
        )
        children = dict(cursor.fetchall())

    assert is_partitioned()
    assert children[DEFAULT_PARTITION] == "r"
    assert len(children) >= 5  # the default and, from the migration, this month and 3 ahead


@pytest.mark.postgres
def test_each_event_lands_in_its_months_partition(world):
    partitions_create_ahead(now=NOW, months_ahead=2)

    late_november = access_event(
        world.physio, world.patient, at=datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC)
    )
    first_of_december = access_event(
        world.physio, world.patient, at=datetime(2026, 12, 1, tzinfo=UTC)
    )
    january = access_event(world.physio, world.patient, at=datetime(2027, 1, 31, 23, 0, tzinfo=UTC))
    recorded_now = access_event(world.physio, world.patient)

    assert _partition_of(late_november) == "audit_accessevent_p2026_11"
    assert _partition_of(first_of_december) == "audit_accessevent_p2026_12"
    assert _partition_of(january) == "audit_accessevent_p2027_01"
    assert _partition_of(recorded_now) == "audit_accessevent_p2026_11"
    assert AccessEvent.objects.count() == 4  # read through the parent as one table


@pytest.mark.postgres
def test_the_default_partition_catches_a_month_without_one(world):
    unplanned = access_event(world.physio, world.patient, at=datetime(2031, 6, 3, tzinfo=UTC))

    assert _partition_of(unplanned) == DEFAULT_PARTITION
    assert AccessEvent.objects.get(pk=unplanned.pk).occurred_at.year == 2031


def test_months_are_utc_months_whatever_the_clocks_zone():
    new_york_evening = datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("America/New_York"))

    assert month_start(new_york_evening) == date(2026, 12, 1)  # 04:30 UTC on 1 December
    assert partition_name(month_start(new_york_evening)) == "audit_accessevent_p2026_12"


# --- Upkeep ------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_upkeep_creates_the_coming_months_and_a_second_run_creates_nothing():
    first = partitions_create_ahead(now=NOW, months_ahead=3)
    after_first = _names()
    second = partitions_create_ahead(now=NOW, months_ahead=3)

    wanted = [f"audit_accessevent_p{m}" for m in ("2026_11", "2026_12", "2027_01", "2027_02")]
    assert set(wanted) <= set(after_first)
    assert sorted(first.created + first.existing) == wanted
    assert second.created == []
    assert second.existing == wanted
    assert _names() == after_first


@pytest.mark.postgres
def test_the_upkeep_task_twice_is_the_same_as_once():
    first = tasks.create_partitions()
    after_first = _names()
    second = tasks.create_partitions()

    assert first["partitioned"] is True
    assert second["created"] == []
    assert _names() == after_first
    assert {"audit_accessevent_p2026_11", "audit_accessevent_p2027_02"} <= set(after_first)


@pytest.mark.postgres
def test_upkeep_leaves_a_month_already_held_in_the_default_partition(world):
    # Given an event of a month that had no partition (it went to the default one); years
    # ahead, so that the partitions the migration made at the real clock are not in the way
    later = datetime(2031, 4, 15, tzinfo=UTC)
    stray = access_event(world.physio, world.patient, at=datetime(2031, 6, 10, tzinfo=UTC))

    # When the upkeep reaches that month
    result = partitions_create_ahead(now=later, months_ahead=3)

    # Then the other months are created and that one is reported, its event kept
    assert result.held_in_default == ["audit_accessevent_p2031_06"]
    assert result.created == [
        "audit_accessevent_p2031_04",
        "audit_accessevent_p2031_05",
        "audit_accessevent_p2031_07",
    ]
    assert _partition_of(stray) == DEFAULT_PARTITION


# --- Expiry ------------------------------------------------------------------------------------


@pytest.fixture
def months_of_events(world) -> dict[str, AccessEvent]:
    """One event in each of June, July, August and November 2026, each month partitioned."""
    _months_from(datetime(2026, 6, 1, tzinfo=UTC), 6)
    return {
        month: access_event(world.physio, world.patient, at=datetime(2026, n, 10, tzinfo=UTC))
        for month, n in (("06", 6), ("07", 7), ("08", 8), ("11", 11))
    }


@pytest.mark.postgres
def test_expiry_drops_exactly_the_months_before_the_cutoff_and_records_it(
    world, months_of_events, superuser
):
    extra = access_event(world.nurse, world.patient, at=datetime(2026, 7, 20, tzinfo=UTC))

    expired = partitions_expire(now=NOW, before=date(2026, 8, 1), by=superuser)

    assert [(e.name, e.rows) for e in expired] == [
        ("audit_accessevent_p2026_06", 1),
        ("audit_accessevent_p2026_07", 2),
    ]
    kept = set(AccessEvent.objects.values_list("pk", flat=True))
    assert months_of_events["06"].pk not in kept
    assert months_of_events["07"].pk not in kept
    assert extra.pk not in kept
    assert {months_of_events["08"].pk, months_of_events["11"].pk} <= kept
    names = _names()
    assert "audit_accessevent_p2026_06" not in names
    assert "audit_accessevent_p2026_07" not in names
    assert "audit_accessevent_p2026_08" in names
    records = list(AccessEvent.objects.filter(resource_type="audit_partition").order_by("id"))
    assert [(r.actor_id, r.action, r.organisation_id, r.patient_id) for r in records] == [
        (superuser.pk, "delete", None, None)
    ] * 2
    assert records[1].changes == {
        "partition": "audit_accessevent_p2026_07",
        "from": "2026-07-01T00:00:00Z",
        "to": "2026-08-01T00:00:00Z",
        "rows": 2,
    }
    assert abs(records[0].occurred_at - NOW) < timedelta(minutes=1)


@pytest.mark.postgres
def test_expiry_twice_drops_nothing_more(months_of_events, superuser):
    partitions_expire(now=NOW, before=date(2026, 8, 1), by=superuser)
    names, count = _names(), AccessEvent.objects.count()

    again = partitions_expire(now=NOW, before=date(2026, 8, 1), by=superuser)

    assert again == []
    assert _names() == names
    assert AccessEvent.objects.count() == count


@pytest.mark.postgres
def test_a_dry_run_counts_and_drops_nothing(months_of_events, superuser):
    names, count = _names(), AccessEvent.objects.count()

    would = partitions_expire(now=NOW, before=date(2026, 8, 1), by=superuser, dry_run=True)

    assert [(e.name, e.rows) for e in would] == [
        ("audit_accessevent_p2026_06", 1),
        ("audit_accessevent_p2026_07", 1),
    ]
    assert _names() == names
    assert AccessEvent.objects.count() == count


@pytest.mark.postgres
@pytest.mark.parametrize("before", [date(2026, 12, 1), date(2027, 3, 1)])
def test_the_current_and_future_months_are_refused(months_of_events, superuser, before):
    names = _names()

    with pytest.raises(PartitionError, match="current month"):
        partitions_expire(now=NOW, before=before, by=superuser)

    assert _names() == names


@pytest.mark.postgres
def test_up_to_the_current_month_drops_every_earlier_one_but_never_it(months_of_events, superuser):
    partitions_expire(now=NOW, before=NOVEMBER, by=superuser)

    assert "audit_accessevent_p2026_11" in _names()
    assert AccessEvent.objects.filter(pk=months_of_events["11"].pk).exists()
    assert not AccessEvent.objects.filter(pk=months_of_events["08"].pk).exists()


@pytest.mark.postgres
def test_retention_by_default_keeps_everything(months_of_events, superuser, settings):
    settings.AUDIT_RETENTION_MONTHS = None
    names = _names()

    assert partitions_expire(now=NOW, before=None, by=superuser) == []
    assert _names() == names


@pytest.mark.postgres
def test_retention_months_set_the_cutoff_and_bound_an_explicit_one(
    months_of_events, superuser, settings
):
    settings.AUDIT_RETENTION_MONTHS = 4  # November keeps July to November

    with pytest.raises(PartitionError, match="AUDIT_RETENTION_MONTHS"):
        partitions_expire(now=NOW, before=date(2026, 8, 1), by=superuser)
    expired = partitions_expire(now=NOW, before=None, by=superuser)

    assert [e.name for e in expired] == ["audit_accessevent_p2026_06"]


@pytest.mark.postgres
def test_only_an_active_superuser_may_expire(world, months_of_events):
    names = _names()

    with pytest.raises(PartitionError, match="superuser"):
        partitions_expire(now=NOW, before=date(2026, 8, 1), by=world.org_admin)

    assert _names() == names


@pytest.mark.postgres
def test_the_command_drops_and_refuses(months_of_events, superuser, capsys):
    call_command("audit_expire_partitions", "--before", "2026-07", "--by", superuser.username)
    with pytest.raises(CommandError, match="current month"):
        call_command("audit_expire_partitions", "--before", "2026-12", "--by", superuser.username)
    with pytest.raises(CommandError, match="2019-01"):
        call_command("audit_expire_partitions", "--before", "July", "--by", superuser.username)

    assert "dropped 2026-06 (audit_accessevent_p2026_06): 1 event(s)" in capsys.readouterr().out
    assert "audit_accessevent_p2026_07" in _names()


# --- Still append-only -------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_accessevent SET action = 'delete' WHERE id = %s",
        "UPDATE audit_accessevent SET occurred_at = occurred_at - interval '3 month' WHERE id = %s",
        "DELETE FROM audit_accessevent WHERE id = %s",
        "UPDATE audit_accessevent_p2026_11 SET action = 'delete' WHERE id = %s",
        "DELETE FROM audit_accessevent_p2026_11 WHERE id = %s",
    ],
    ids=["UPDATE", "UPDATE moving months", "DELETE", "UPDATE a partition", "DELETE a partition"],
)
def test_no_partition_accepts_an_update_or_delete(world, sql):
    partitions_create_ahead(now=NOW, months_ahead=0)
    event = access_event(world.physio, world.patient)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])

    stored = AccessEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.occurred_at) == ("read", event.occurred_at)


# --- The list across months --------------------------------------------------------------------


def test_the_audit_list_pages_across_a_month_boundary(world, client_for):
    # Given events either side of midnight on 1 December (two partitions on PostgreSQL)
    partitions_create_ahead(now=NOW, months_ahead=1)
    midnight = datetime(2026, 12, 1, tzinfo=UTC)
    events = [
        access_event(world.physio, world.patient, at=midnight + timedelta(minutes=m))
        for m in (-3, -2, -1, 0, 1, 2, 3)
    ]
    client = client_for(world.org_admin)

    # When the admin walks the trail three at a time, and back
    seen: list[int] = []
    response = client.get(AUDIT, {"page_size": 3})
    while True:
        assert response.status_code == 200
        seen += [row["id"] for row in response.json()["results"]]
        if response.json()["next"] is None:
            break
        response = client.get(response.json()["next"])
    back = client.get(response.json()["previous"])

    # Then every event came once, newest first, and back gives the middle page again
    assert seen == [e.pk for e in reversed(events)]
    assert [row["id"] for row in back.json()["results"]] == seen[3:6]


# --- SQLite ------------------------------------------------------------------------------------


@sqlite_only
def test_on_sqlite_upkeep_and_expiry_say_they_do_nothing(world, superuser, capsys):
    access_event(world.physio, world.patient, at=datetime(2020, 1, 1, tzinfo=UTC))

    upkeep = tasks.create_partitions()
    call_command("audit_expire_partitions", "--before", "2026-01", "--by", superuser.username)

    assert upkeep == {"partitioned": False, "created": [], "existing": 0, "held_in_default": []}
    assert "not partitioned" in capsys.readouterr().out
    assert AccessEvent.objects.count() == 1
    assert partitions_expire(now=NOW, before=NOVEMBER, by=superuser) == []
