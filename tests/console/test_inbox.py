"""Today, the alert inbox, through Django's test client: order, filters, who sees what,
acknowledging and resolving (with and without htmx), audit events and pinned query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from backend.accounts.models import User
from backend.alerts.models import Alert
from backend.audit.models import AccessEvent
from tests.builders import alert_raised
from tests.conftest import World
from tests.factories import CareTeamMembershipFactory, ClinicianFactory, PatientProfileFactory

HOME = "/console/"
BADGE = "/console/alerts/emergencies/"

DECLINE_EVIDENCE: dict[str, Any] = {
    "rule": {"id": "FD-1", "version": 2},
    "thresholds": {"drop_points": 4, "best_window_days": 180},
    "latest": {
        "assessment_id": 9,
        "value": "31",
        "measured_at": "2026-11-19T10:00:00+00:00",
        "setting": "clinic",
    },
    "earlier": [
        {"assessment_id": 7, "value": "38", "measured_at": "2026-09-01T10:00:00+00:00"},
        {"assessment_id": 8, "value": "36", "measured_at": "2026-10-01T10:00:00+00:00"},
    ],
}


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def raised(world: World, key: str, urgency: str = "routine", **fields: Any) -> Alert:
    fields.setdefault("rule_id", "SYM-1" if urgency == "emergency" else "FD-1")
    fields.setdefault("reason", f"{fields['rule_id']} fired ({key}).")
    return alert_raised(world.patient, key=key, urgency=urgency, **fields)


def shown(response) -> list[int]:
    return [card.alert.pk for card in response.context["cards"]]


@pytest.fixture
def physician_of_other_team(world: World) -> User:
    physician = ClinicianFactory.create(organisation=world.org, role="physician")
    CareTeamMembershipFactory.create(
        patient=world.other_patient, member=physician, role="physician"
    )
    return physician


@pytest.mark.django_db
def test_emergencies_first_then_the_longest_waiting(world: World):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        old_routine = raised(world, "a", "routine")
        clock.shift(timedelta(minutes=5))
        old_emergency = raised(world, "b", "emergency")
        clock.shift(timedelta(minutes=5))
        urgent = raised(world, "c", "urgent")
        clock.shift(timedelta(minutes=5))
        new_emergency = raised(world, "d", "emergency")
        resolved = raised(world, "e", "emergency")
        resolved.status = "resolved"
        resolved.save()

        response = client_of(world.physio).get(HOME)

    assert response.status_code == 200
    assert shown(response) == [old_emergency.pk, new_emergency.pk, urgent.pk, old_routine.pk]


@pytest.mark.django_db
def test_a_card_says_who_what_why_and_shows_the_evidence(world: World):
    alert = raised(
        world,
        "fd1",
        rule_id="FD-1",
        reason="CMAS fell from 38 to 31 (alert at a drop of 4).",
        evidence=DECLINE_EVIDENCE,
    )

    html = client_of(world.physio).get(HOME).content.decode()

    assert world.patient.user.display_name in html
    assert "CMAS drop" in html  # the catalogue's title of FD-1
    assert "CMAS fell from 38 to 31 (alert at a drop of 4)." in html
    assert "Threshold · Drop points</th><td>4 CMAS points" in html
    assert "1 Sep 2026" in html  # evidence dates, in the patient's time zone
    assert 'aria-label="Values, oldest to newest: 38, 36, 31"' in html  # the sparkline
    assert f'href="/console/patients/{world.patient.pk}/"' in html
    assert f"/console/alerts/{alert.pk}/acknowledge/" in html
    assert "style=" not in html


@pytest.mark.django_db
def test_filters_by_urgency_rule_and_patient(world: World):
    second = PatientProfileFactory.create(user__organisation=world.org)
    CareTeamMembershipFactory.create(patient=second, member=world.physio)
    emergency = raised(world, "a", "emergency")
    routine = raised(world, "b", "routine", rule_id="A-3")
    other = alert_raised(second, key="c", rule_id="FD-1", urgency="routine")
    client = client_of(world.physio)

    assert shown(client.get(HOME, {"urgency": "emergency"})) == [emergency.pk]
    assert shown(client.get(HOME, {"rule": "A-3"})) == [routine.pk]
    assert shown(client.get(HOME, {"patient": second.pk})) == [other.pk]
    assert shown(client.get(HOME, {"urgency": "routine", "patient": str(world.patient.pk)})) == [
        routine.pk
    ]


@pytest.mark.django_db
def test_a_filter_that_is_not_a_choice_is_a_400_with_its_field_error(world: World):
    raised(world, "a")
    client = client_of(world.physio)

    bad = client.get(HOME, {"urgency": "panic", "patient": str(world.foreign_patient.pk)})

    assert bad.status_code == 400
    assert set(bad.context["filters"].errors) == {"urgency", "patient"}
    assert "Select a valid choice" in bad.content.decode()


@pytest.mark.django_db
def test_only_the_care_team_sees_the_alert(world: World, physician_of_other_team: User):
    alert = raised(world, "a", "emergency")

    assert shown(client_of(world.physio).get(HOME)) == [alert.pk]
    assert shown(client_of(world.nurse).get(HOME)) == [alert.pk]
    for outsider in (world.org_admin, world.other_team_physio, physician_of_other_team):
        response = client_of(outsider).get(HOME)
        assert response.status_code == 200
        assert shown(response) == []
        assert world.patient.user.display_name not in response.content.decode()
    assert not AccessEvent.objects.filter(actor=world.org_admin).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acting_on_an_alert_the_viewer_may_not_see_is_a_404(world, physician_of_other_team, action):
    alert = raised(world, "a", "emergency")

    for outsider in (world.org_admin, physician_of_other_team, world.other_org_physio):
        response = client_of(outsider).post(
            f"/console/alerts/{alert.pk}/{action}/", {"note": "Called the family."}
        )
        assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"


@pytest.mark.django_db
def test_a_patient_gets_the_page_pointing_to_the_app(world: World):
    response = client_of(world.patient.user).get(HOME)

    assert response.status_code == 403
    assert "use the PhysioTrack mobile app" in response.content.decode()


@pytest.mark.django_db
def test_acknowledging_without_js_comes_back_to_the_filtered_page(world: World):
    alert = raised(world, "a", "emergency")
    client = client_of(world.nurse)

    response = client.post(
        f"/console/alerts/{alert.pk}/acknowledge/", {"next": "/console/?urgency=emergency"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/console/?urgency=emergency"
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", world.nurse)
    page = client.get(response["Location"]).content.decode()
    assert f"Acknowledged by {world.nurse.display_name}" in page
    event = AccessEvent.objects.get(action="acknowledge")
    assert (event.actor, event.resource_id, event.patient_id) == (
        world.nurse,
        alert.pk,
        world.patient.pk,
    )


@pytest.mark.django_db
def test_acknowledging_with_htmx_swaps_the_card(world: World):
    alert = raised(world, "a", "emergency")

    response = client_of(world.physio).post(
        f"/console/alerts/{alert.pk}/acknowledge/", {"next": HOME}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<article class="alert-card urgency-emergency')
    assert f'id="alert-{alert.pk}"' in html
    assert "<html" not in html
    assert "Acknowledged by" in html


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [True, False])
def test_resolving_needs_a_note_and_nothing_changes_without_one(world: World, htmx: bool):
    alert = raised(world, "a", "emergency")
    headers = {"HX-Request": "true"} if htmx else {}

    response = client_of(world.physio).post(
        f"/console/alerts/{alert.pk}/resolve/", {"note": "   "}, headers=headers
    )

    assert response.status_code == 400
    assert "a note is required" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == "open"
    assert not AccessEvent.objects.filter(action="resolve").exists()


@pytest.mark.django_db
def test_resolving_closes_the_alert_and_takes_it_off_today(world: World):
    alert = raised(world, "a", "emergency")
    client = client_of(world.physio)

    response = client.post(
        f"/console/alerts/{alert.pk}/resolve/", {"note": "Seen in clinic; not cardiac."}
    )

    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.resolution_note) == ("resolved", "Seen in clinic; not cardiac.")
    assert AccessEvent.objects.filter(action="resolve", resource_id=alert.pk).count() == 1
    assert shown(client.get(HOME)) == []


@pytest.mark.django_db
def test_reading_today_records_a_read_of_each_alert_shown(world: World):
    alerts = [raised(world, f"k{n}") for n in range(3)]

    client_of(world.physio).get(HOME)

    events = AccessEvent.objects.filter(action="read", resource_type="alert")
    assert {e.resource_id for e in events} == {a.pk for a in alerts}
    assert events.count() == len(alerts)
    assert {e.patient_id for e in events} == {world.patient.pk}
    assert {e.actor_id for e in events} == {world.physio.pk}


@pytest.mark.django_db
def test_pages_of_25(world: World):
    for n in range(27):
        raised(world, f"k{n}")
    client = client_of(world.physio)

    first = client.get(HOME)
    second = client.get(HOME, {"page": 2})

    assert len(shown(first)) == 25
    assert len(shown(second)) == 2
    assert "?page=2" in first.content.decode()
    assert AccessEvent.objects.filter(action="read").count() == 27


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 30])
def test_today_has_a_fixed_query_count(world: World, django_assert_num_queries, count):
    second = PatientProfileFactory.create(user__organisation=world.org)
    CareTeamMembershipFactory.create(patient=second, member=world.physio)
    for n in range(count):
        alert_raised(
            world.patient if n % 2 else second,
            key=f"k{n}",
            urgency="emergency" if n % 3 else "routine",
            evidence=DECLINE_EVIDENCE,
        )
    client = client_of(world.physio)

    # session, user, the filter's patients, the count, the page, the audit INSERT
    with django_assert_num_queries(6):
        response = client.get(HOME)
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 10])
def test_the_header_count_of_emergencies(world: World, django_assert_num_queries, count):
    for n in range(count):
        raised(world, f"e{n}", "emergency")
    raised(world, "routine", "routine")
    done = raised(world, "done", "emergency")
    done.status = "resolved"
    done.save()
    client = client_of(world.physio)

    with django_assert_num_queries(3):  # session, user, the count
        response = client.get(BADGE, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert f"Open emergencies: <strong>{count}</strong>" in response.content.decode()
    assert "<html" not in response.content.decode()
    assert (
        "Open emergencies: <strong>0</strong>"
        in client_of(world.org_admin).get(BADGE).content.decode()
    )
