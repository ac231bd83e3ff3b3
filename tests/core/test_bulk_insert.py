"""backend.core.bulk: the bulk jobs' inserts keep bulk_create's guarantees on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import DataError, IntegrityError, transaction

from backend.alerts.models import Reminder, ReminderKind
from backend.core.bulk import insert_ignoring_conflicts
from tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)


def test_rows_are_stored_with_choice_values_defaults_and_the_time_of_the_call():
    with time_machine.travel(NOW, tick=False):
        patient = PatientProfileFactory.create()
        insert_ignoring_conflicts(
            Reminder,
            [
                {
                    "patient_id": patient.pk,
                    "kind": ReminderKind.NOTHING_YET,
                    "local_date": date(2026, 12, 3),
                    "due_at": NOW,
                },
                {
                    "patient_id": patient.pk,
                    "kind": ReminderKind.SESSION,
                    "local_date": date(2026, 12, 3),
                    "due_at": NOW,
                },
            ],
        )

    stored = Reminder.objects.filter(patient=patient).order_by("kind")
    assert [(r.kind, r.local_date, r.due_at, r.created_at) for r in stored] == [
        (ReminderKind.SESSION.value, date(2026, 12, 3), NOW, NOW),  # "R-0"
        (ReminderKind.NOTHING_YET.value, date(2026, 12, 3), NOW, NOW),  # "R-1"
    ]


def test_a_row_that_exists_already_is_skipped_not_doubled():
    with time_machine.travel(NOW, tick=False):
        patient = PatientProfileFactory.create()
        row = {
            "patient_id": patient.pk,
            "kind": ReminderKind.SESSION,
            "local_date": date(2026, 12, 3),
            "due_at": NOW,
        }
        insert_ignoring_conflicts(Reminder, [row])
        insert_ignoring_conflicts(Reminder, [row, {**row, "local_date": date(2026, 12, 4)}])

    assert Reminder.objects.filter(patient=patient).count() == 2


@pytest.mark.postgres  # SQLite does not enforce a varchar's length at all
def test_a_value_too_long_for_its_column_is_refused_not_truncated():
    with time_machine.travel(NOW, tick=False):
        patient = PatientProfileFactory.create()
        row = {
            "patient_id": patient.pk,
            "kind": "x" * 40,  # the column holds 6
            "local_date": date(2026, 12, 3),
            "due_at": NOW,
        }
        with pytest.raises((DataError, IntegrityError)), transaction.atomic():
            insert_ignoring_conflicts(Reminder, [row])

    assert not Reminder.objects.filter(patient=patient).exists()
