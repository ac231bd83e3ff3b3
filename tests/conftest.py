"""Shared fixtures. Tests that need a real server declare it with a marker:

- `@pytest.mark.postgres`: runs only when the database is PostgreSQL (DATABASE_URL);
- `@pytest.mark.redis`: runs only when CELERY_BROKER_URL points at Redis;
- `@pytest.mark.worker`: starts a real Celery worker (needs both).

Without the servers they skip with the reason. With PHYSIOTRACK_REQUIRE_SERVICES=1 (set by
.ci/run) a missing server fails the test instead, so CI can never skip them silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from rest_framework.test import APIClient

from backend.accounts.models import User
from tests.factories import (
    CaregiverLinkFactory,
    CareTeamMembershipFactory,
    ClinicianFactory,
    OrganisationFactory,
    PatientProfileFactory,
)

REQUIRE_SERVICES = os.environ.get("PHYSIOTRACK_REQUIRE_SERVICES") == "1"


def _missing_service(item: pytest.Item) -> str | None:
    engine = settings.DATABASES["default"]["ENGINE"]
    broker = settings.CELERY_BROKER_URL
    needs_pg = item.get_closest_marker("postgres") or item.get_closest_marker("worker")
    needs_redis = item.get_closest_marker("redis") or item.get_closest_marker("worker")
    if needs_pg and "postgresql" not in engine:
        return "needs PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)"
    if needs_redis and not broker.startswith("redis"):
        return "needs Redis: set CELERY_BROKER_URL=redis://... (as .ci/run does)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing_service(item)
    if reason is None:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"PHYSIOTRACK_REQUIRE_SERVICES=1 but this test {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """pytest-django's, and before it drops the test database, every other session of that
    database is ended: behind PgBouncer in transaction mode (CI) the pool keeps idle server
    connections to it open, and DROP DATABASE refuses while any is (what PostgreSQL's
    `DROP DATABASE ... WITH (FORCE)` does, which Django does not use)."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all(initialized_only=True):
            if connection.vendor != "postgresql":
                continue
            name = connection.settings_dict["NAME"]
            connection.close()  # no transaction of ours holds a server connection
            with connection._nodb_cursor() as cursor:  # the "postgres" database
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    [name],
                )


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttle counters and rendered bodies live in caches; each test starts with none
    (ids and frozen clocks repeat between tests, so an ETag could too)."""
    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """An API client signed in as the given user through a real JWT access token."""
    from rest_framework_simplejwt.tokens import RefreshToken

    def make(user: User) -> APIClient:
        client = APIClient()
        token = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


class World:
    """Two organisations: in the first, a patient with care team and caregiver, a second
    patient on another team, and an admin; in the second, a clinician and a patient."""

    def __init__(self) -> None:
        self.org = OrganisationFactory.create()
        self.other_org = OrganisationFactory.create()
        self.physio = ClinicianFactory.create(organisation=self.org, role="physiotherapist")
        self.nurse = ClinicianFactory.create(organisation=self.org, role="nurse")
        self.other_team_physio = ClinicianFactory.create(
            organisation=self.org, role="physiotherapist"
        )
        self.other_org_physio = ClinicianFactory.create(
            organisation=self.other_org, role="physiotherapist"
        )
        self.org_admin = ClinicianFactory.create(
            organisation=self.org, role="org_admin", is_staff=True
        )
        self.patient = PatientProfileFactory.create(user__organisation=self.org)
        CareTeamMembershipFactory.create(patient=self.patient, member=self.physio)
        CareTeamMembershipFactory.create(patient=self.patient, member=self.nurse, role="nurse")
        self.caregiver_link = CaregiverLinkFactory.create(patient=self.patient)
        self.caregiver = self.caregiver_link.caregiver
        self.other_patient = PatientProfileFactory.create(user__organisation=self.org)
        CareTeamMembershipFactory.create(patient=self.other_patient, member=self.other_team_physio)
        self.other_caregiver = CaregiverLinkFactory.create(patient=self.other_patient).caregiver
        self.foreign_patient = PatientProfileFactory.create(user__organisation=self.other_org)
        CareTeamMembershipFactory.create(patient=self.foreign_patient, member=self.other_org_physio)


@pytest.fixture
def world(db: None) -> World:
    return World()
