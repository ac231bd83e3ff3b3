"""Finding 2 of [2/5]: an organisation admin could make themselves (or an account they
created) a clinician through the Django admin, reassign records, and nothing was audited.
Org admins manage people and teams; they never set a password, never grant a data-bearing
role without an activation code going to the person, never move a patient profile or a
caregiver link, never change a clinician's e-mail; every admin change is an audit event."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin as django_admin
from django.core import mail
from django.test import Client
from django.utils import timezone

from backend.accounts.models import ActivationCode, CaregiverLink, PatientProfile, User
from backend.audit.models import AccessEvent
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_admin_client(world):
    client = Client()
    client.force_login(world.org_admin)
    return client


def _user_form(user: User, **changes) -> dict:
    joined = timezone.localtime(user.date_joined)
    form = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "organisation": user.organisation_id,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "date_joined_0": joined.date().isoformat(),
        "date_joined_1": joined.time().strftime("%H:%M:%S"),
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value != ""}


def test_an_org_admin_cannot_make_themselves_a_clinician_in_the_admin(world, org_admin_client):
    # When the organisation admin changes their own role to physiotherapist
    me = world.org_admin
    response = org_admin_client.post(
        f"/admin/accounts/user/{me.pk}/change/", _user_form(me, role="physiotherapist")
    )

    # Then their role stays what it was
    me.refresh_from_db()
    assert response.status_code in {200, 302}
    assert me.role == "org_admin"


def test_an_org_admin_creating_a_clinician_leaves_it_pending_with_a_code_sent_to_that_person(
    world, org_admin_client, api_client, django_capture_on_commit_callbacks
):
    # When the organisation admin creates a physiotherapist and tries to give it a password
    with django_capture_on_commit_callbacks(execute=True):
        response = org_admin_client.post(
            "/admin/accounts/user/add/",
            {
                "username": "new.physio",
                "first_name": "New",
                "last_name": "Physio",
                "email": "new.physio@clinic.example",
                "role": "physiotherapist",
                "password1": TEST_PASSWORD,
                "password2": TEST_PASSWORD,
                "usable_password": "true",
            },
        )

    # Then the account exists, inactive and without a password, and its activation code went
    # by e-mail to the person, not to the admin's screen
    assert response.status_code == 302, response.content.decode()[:3000]
    created = User.objects.get(username="new.physio")
    assert created.organisation == world.org
    assert created.is_active is False
    assert created.has_usable_password() is False
    assert ActivationCode.objects.filter(user=created, used_at__isnull=True).count() == 1
    assert [m.to for m in mail.outbox] == [["new.physio@clinic.example"]]
    code = re.search(r"[0-9A-Z]{5}-[0-9A-Z]{5}", str(mail.outbox[0].body))
    assert code is not None
    followed = org_admin_client.get(response["Location"]).content.decode()
    assert code.group(0) not in followed
    signed_in = api_client.post(
        "/api/v1/auth/token/", {"username": "new.physio", "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 401


def test_an_org_admin_sees_no_password_fields(world, org_admin_client):
    add = org_admin_client.get("/admin/accounts/user/add/").content.decode()
    change = org_admin_client.get(
        f"/admin/accounts/user/{world.physio.pk}/change/"
    ).content.decode()

    assert 'name="password1"' not in add
    assert "../password/" not in change


def test_an_org_admin_granting_a_clinical_role_to_an_account_makes_it_pending(
    world, org_admin_client, django_capture_on_commit_callbacks
):
    # Given an active caregiver account with a password
    caregiver = world.caregiver

    # When the organisation admin changes it to a nurse
    with django_capture_on_commit_callbacks(execute=True):
        response = org_admin_client.post(
            f"/admin/accounts/user/{caregiver.pk}/change/", _user_form(caregiver, role="nurse")
        )

    # Then it is a nurse that must activate again, with a code sent to the person
    caregiver.refresh_from_db()
    assert response.status_code == 302, response.content.decode()[:3000]
    assert caregiver.role == "nurse"
    assert caregiver.is_active is False
    assert caregiver.has_usable_password() is False
    assert [m.to for m in mail.outbox] == [[caregiver.email]]


def test_an_org_admin_cannot_reassign_a_patient_profile_to_another_user(world, org_admin_client):
    # Given another patient account of the organisation
    other = UserFactory.create(organisation=world.org, role="patient")
    profile = world.patient

    # When the organisation admin points the profile at it
    org_admin_client.post(
        f"/admin/accounts/patientprofile/{profile.pk}/change/",
        {
            "user": other.pk,
            "date_of_birth": profile.date_of_birth.isoformat(),
            "timezone": profile.timezone,
            "training_weekdays": "[1, 3, 5]",
            "reminder_time": "17:30",
            "quiet_hours_start": "21:00",
            "quiet_hours_end": "08:00",
        },
    )

    # Then the profile still belongs to its patient
    assert PatientProfile.objects.get(pk=profile.pk).user_id == world.patient.user_id


def test_an_org_admin_cannot_change_a_clinicians_email(world, org_admin_client):
    physio = world.physio
    before = physio.email

    org_admin_client.post(
        f"/admin/accounts/user/{physio.pk}/change/",
        _user_form(physio, email="org.admin.inbox@elsewhere.example"),
    )
    page = org_admin_client.get(f"/admin/accounts/user/{physio.pk}/change/").content.decode()

    physio.refresh_from_db()
    assert physio.email == before
    assert "superuser" in page  # the page says who can change it


def test_an_org_admin_cannot_move_a_caregiver_link(world, org_admin_client):
    # Given a caregiver account of the organisation that the admin controls
    own = UserFactory.create(organisation=world.org, role="caregiver")
    link = world.caregiver_link

    # When the admin points an existing link at it
    org_admin_client.post(
        f"/admin/accounts/caregiverlink/{link.pk}/change/",
        {"caregiver": own.pk, "patient": link.patient_id, "relationship": "parent"},
    )

    # Then the link is unchanged
    assert CaregiverLink.objects.get(pk=link.pk).caregiver_id == world.caregiver.pk


def test_every_admin_change_is_an_audit_event(world, org_admin_client):
    # When the organisation admin changes a user, then deletes a care-team seat
    physio = world.physio
    changed = org_admin_client.post(
        f"/admin/accounts/user/{physio.pk}/change/", _user_form(physio, first_name="Renamed")
    )
    seat = world.patient.care_team.get(member=world.nurse)
    deleted = org_admin_client.post(
        f"/admin/accounts/careteammembership/{seat.pk}/delete/", {"post": "yes"}
    )

    # Then each is one audit event naming the admin, the record and the changed fields
    assert changed.status_code == 302, changed.content.decode()[:3000]
    assert deleted.status_code == 302
    events = list(AccessEvent.objects.order_by("id"))
    assert [(e.action, e.resource_type, e.resource_id) for e in events] == [
        ("update", "user", physio.pk),
        ("delete", "care_team_membership", seat.pk),
    ]
    assert all(e.actor_id == world.org_admin.pk for e in events)
    changes = events[0].changes or {}
    assert changes["admin"] == "accounts.user"
    assert "first_name" in changes["fields"]
    assert events[1].patient_id == world.patient.pk


def test_every_model_admin_writes_audit_events():
    from backend.audit.mixins import AuditedAdmin

    for model, model_admin in django_admin.site._registry.items():
        assert isinstance(model_admin, AuditedAdmin), model._meta.label
