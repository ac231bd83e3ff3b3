"""Enrol pages through Django's test client: who may do what, what is saved, what is shown
once, the audit events and the query counts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import segno
import time_machine
from django.utils import timezone

from backend.accounts.models import CaregiverLink, CareTeamMembership, PatientProfile, User
from backend.accounts.services import account_activate
from backend.audit.models import AccessEvent
from backend.console.views.enrol_codes import activation_qr_svg, activation_uri
from tests.factories import CaregiverLinkFactory

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5})\b")


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(datetime.fromisoformat("2026-12-01T10:00:00+00:00"), tick=False):
        yield


def _token(client: Any, url: str) -> str:
    page = client.get(url).content.decode()
    return re.search(r'name="submission" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _enrol_data(token: str, **overrides: Any) -> dict[str, Any]:
    return {
        "submission": token,
        "first_name": "Ada",
        "last_name": "Okoro",
        "date_of_birth": "2015-03-09",
        "timezone": "Europe/London",
        "email": "",
        "diagnosis": "Juvenile dermatomyositis",
        "training_weekdays": ["1", "4"],
        "reminder_time": "17:00",
        **overrides,
    }


def test_a_physiotherapist_enrols_a_patient_and_sees_the_code_once(client, world):
    client.force_login(world.physio)
    token = _token(client, "/console/enrol/")

    response = client.post("/console/enrol/", _enrol_data(token))

    assert response.status_code == 200
    page = response.content.decode()
    code = CODE.search(page).group(1)  # type: ignore[union-attr]
    assert "Ada Okoro is enrolled" in page
    assert "<svg" in page
    assert "style=" not in page
    assert "no-store" in response["Cache-Control"]
    patient = PatientProfile.objects.get(user__first_name="Ada")
    assert patient.training_weekdays == [1, 4]
    assert patient.user.organisation_id == world.org.pk
    assert CareTeamMembership.objects.filter(patient=patient, member=world.physio).exists()
    event = AccessEvent.objects.get(action="create", resource_type="patient")
    assert (event.actor_id, event.patient_id) == (world.physio.pk, patient.pk)
    # The code shown is the one that activates the account.
    assert account_activate(code=code, password="a-long-new-passphrase-7").pk == patient.user_id


def test_sending_the_form_again_does_not_enrol_twice_nor_show_a_code(client, world):
    client.force_login(world.physio)
    data = _enrol_data(_token(client, "/console/enrol/"))
    client.post("/console/enrol/", data)

    again = client.post("/console/enrol/", data)  # what reloading the code page does

    assert again.status_code == 409
    page = again.content.decode()
    assert "already sent" in page
    assert not CODE.search(page)
    assert f"/console/enrol/{PatientProfile.objects.get(user__first_name='Ada').pk}/code/" in page
    assert PatientProfile.objects.filter(user__first_name="Ada").count() == 1


def test_bad_input_saves_nothing_and_says_what_to_fix(client, world):
    client.force_login(world.physio)
    token = _token(client, "/console/enrol/")

    response = client.post(
        "/console/enrol/",
        _enrol_data(token, first_name="", timezone="Mars/Olympus", training_weekdays=["9"]),
    )

    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"first_name", "timezone", "training_weekdays"}
    assert not PatientProfile.objects.filter(user__last_name="Okoro").exists()
    assert not CODE.search(response.content.decode())


def test_the_service_refusal_shows_on_its_field_and_the_corrected_form_goes_through(client, world):
    client.force_login(world.physio)
    token = _token(client, "/console/enrol/")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    refused = client.post("/console/enrol/", _enrol_data(token, date_of_birth=tomorrow))

    assert refused.status_code == 400
    assert refused.context["form"].errors["date_of_birth"] == ["In the future."]
    assert "Date of birth is in the future." in refused.content.decode()
    assert not User.objects.filter(last_name="Okoro").exists()
    # The same form, corrected, is still good for one submission.
    assert client.post("/console/enrol/", _enrol_data(token)).status_code == 200


@pytest.mark.parametrize("who", ["nurse", "org_admin"])
def test_only_physiotherapists_enrol(client, world, who):
    client.force_login(getattr(world, who))

    assert client.get("/console/enrol/").status_code == 403
    response = client.post("/console/enrol/", _enrol_data("x" * 32))

    assert response.status_code == 403
    assert "enrolled by a physiotherapist" in response.content.decode()
    assert not PatientProfile.objects.filter(user__last_name="Okoro").exists()


def test_patients_caregivers_and_strangers_are_kept_out(client, world):
    assert client.get("/console/enrol/").status_code == 302
    client.force_login(world.patient.user)
    assert client.get("/console/enrol/").status_code == 403
    client.force_login(world.caregiver)
    assert client.get(f"/console/enrol/{world.patient.pk}/caregiver/").status_code == 403


def test_a_care_team_clinician_links_a_caregiver(client, world):
    client.force_login(world.nurse)
    url = f"/console/enrol/{world.patient.pk}/caregiver/"
    token = _token(client, url)

    response = client.post(
        url,
        {
            "submission": token,
            "first_name": "Grace",
            "last_name": "Okoro",
            "relationship": "guardian",
            "email": "",
        },
    )

    assert response.status_code == 200
    code = CODE.search(response.content.decode()).group(1)  # type: ignore[union-attr]
    link = CaregiverLink.objects.get(caregiver__first_name="Grace")
    assert (link.patient_id, link.relationship) == (world.patient.pk, "guardian")
    assert AccessEvent.objects.filter(
        action="create", resource_type="caregiver_link", resource_id=link.pk
    ).exists()
    assert account_activate(code=code, password="a-long-new-passphrase-7") == link.caregiver


@pytest.mark.parametrize("who", ["other_team_physio", "other_org_physio", "org_admin"])
def test_a_patient_off_the_viewers_teams_is_not_found(client, world, who):
    client.force_login(getattr(world, who))
    url = f"/console/enrol/{world.patient.pk}/caregiver/"

    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"submission": "x" * 32, "first_name": "A", "last_name": "B"}).status_code
        == 404
    )
    assert client.get(f"/console/enrol/{world.patient.pk}/code/").status_code == 404
    assert client.get("/console/enrol/99999999999999999999/code/").status_code == 404


def test_a_new_code_replaces_the_old_one_and_is_refused_once_activated(client, world):
    client.force_login(world.physio)
    world.patient.user.set_unusable_password()
    world.patient.user.save()
    url = f"/console/enrol/{world.patient.pk}/code/"

    first = CODE.search(  # type: ignore[union-attr]
        client.post(url, {"submission": _token(client, url)}).content.decode()
    ).group(1)
    second_page = client.post(url, {"submission": _token(client, url)})
    second = CODE.search(second_page.content.decode()).group(1)  # type: ignore[union-attr]

    assert first != second
    assert (
        AccessEvent.objects.filter(
            action="create", resource_type="activation_code", patient_id=world.patient.pk
        ).count()
        == 2
    )
    account_activate(code=second, password="a-long-new-passphrase-7")
    refused = client.post(url, {"submission": "y" * 32})
    assert refused.status_code == 409
    assert "already activated" in refused.content.decode()


def test_the_caregiver_page_costs_the_same_with_one_or_many_caregivers(
    client, world, django_assert_num_queries
):
    client.force_login(world.physio)
    url = f"/console/enrol/{world.patient.pk}/caregiver/"
    with django_assert_num_queries(QUERIES_CAREGIVER_PAGE):
        client.get(url)
    CaregiverLinkFactory.create_batch(5, patient=world.patient)

    with django_assert_num_queries(QUERIES_CAREGIVER_PAGE):
        response = client.get(url)
    assert response.content.decode().count("Parent") >= 6


def test_the_enrol_form_costs_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    client.force_login(world.physio)
    with django_assert_num_queries(QUERIES_ENROL_FORM):
        client.get("/console/enrol/")


# session, user; then the patient with its care team and caregivers (patient_get)
QUERIES_ENROL_FORM = 2
QUERIES_CAREGIVER_PAGE = 5


def test_the_qr_code_carries_the_activation_link_and_no_style():
    svg = activation_qr_svg("ABCDE-FGHJK")

    assert activation_uri("ABCDE-FGHJK") == "physiotrack://activate?code=ABCDE-FGHJK"
    # The same drawing as segno makes of the link (so the app scanning it reads the link).
    modules = re.search(r' d="([^"]+)"', svg.split("qr-modules")[1]).group(1)  # type: ignore[union-attr]
    expected = segno.make("physiotrack://activate?code=ABCDE-FGHJK", error="m").svg_inline()
    assert f'd="{modules}"' in expected
    assert "style" not in svg
    assert 'aria-hidden="true"' in svg
