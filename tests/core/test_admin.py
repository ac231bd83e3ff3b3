"""Organisation admins use the Django admin for their own organisation and nothing else."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from backend.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for_org(world):
    client = Client()
    client.force_login(world.org_admin)
    return client


def test_an_org_admin_lists_only_their_organisations_people(world, admin_client_for_org):
    response = admin_client_for_org.get("/admin/accounts/user/")

    assert response.status_code == 200
    page = response.content.decode()
    assert world.physio.username in page
    assert world.other_org_physio.username not in page


def test_an_org_admin_cannot_open_a_user_of_another_organisation(world, admin_client_for_org):
    response = admin_client_for_org.get(f"/admin/accounts/user/{world.other_org_physio.pk}/change/")

    assert response.status_code in {302, 404}
    assert world.other_org_physio.username not in response.content.decode()


def test_an_org_admin_cannot_make_anyone_superuser(world, admin_client_for_org):
    page = admin_client_for_org.get(f"/admin/accounts/user/{world.physio.pk}/change/")

    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()


def test_an_org_admin_sees_patient_profiles_of_their_organisation_only(world, admin_client_for_org):
    page = admin_client_for_org.get("/admin/accounts/patientprofile/").content.decode()

    assert world.patient.user.last_name in page
    assert world.foreign_patient.user.last_name not in page or (
        world.foreign_patient.user.last_name == world.patient.user.last_name
    )


def test_a_clinician_without_admin_role_is_kept_out(world):
    world.physio.is_staff = True  # even if someone ticks the box by mistake
    world.physio.save()
    client = Client()
    client.force_login(world.physio)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 403


def test_a_superuser_sees_everyone(world):
    root = UserFactory.create(role="", organisation=None, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)

    page = client.get("/admin/accounts/user/?all=").content.decode()

    assert world.other_org_physio.username in page
    assert User.objects.count() > 1


def test_an_org_admin_sees_no_clinical_records(world):
    client = Client()
    client.force_login(world.org_admin)

    for path in (
        "exercise/sessionlog",
        "exercise/assessment",
        "alerts/alert",
        "alerts/notification",
    ):
        assert client.get(f"/admin/{path}/").status_code == 403, path


def test_a_superuser_reaches_every_model_admin(world):
    from django.contrib import admin as django_admin

    root = UserFactory.create(role="", organisation=None, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)

    for model in django_admin.site._registry:
        meta = model._meta
        response = client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
        assert response.status_code == 200, meta.label


def test_unticking_active_in_the_admin_revokes_the_accounts_sessions(
    world, admin_client_for_org, api_client
):
    from rest_framework_simplejwt.tokens import RefreshToken

    patient = world.patient.user
    refresh = str(RefreshToken.for_user(patient))
    joined = timezone.localtime(patient.date_joined)
    form = {
        "username": patient.username,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email,
        "role": patient.role,
        "organisation": patient.organisation_id,
        "date_joined_0": joined.date().isoformat(),
        "date_joined_1": joined.time().strftime("%H:%M:%S"),
        # is_active left out: the box is unticked
    }

    response = admin_client_for_org.post(f"/admin/accounts/user/{patient.pk}/change/", form)
    patient.refresh_from_db()
    patient.is_active = True  # switched back on later, by mistake or on purpose
    patient.save()
    reused = api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")

    assert response.status_code == 302, response.content.decode()[:2000]
    assert reused.status_code == 401
