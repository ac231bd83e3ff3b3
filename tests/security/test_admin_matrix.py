"""The Django admin's pages × who asks, with the API's rules (finding 3 of [2/5]).

Each model admin's changelist, add form, change form of an object of the first organisation
and change form of an object of the second, for: a platform superuser, the first
organisation's admin, the second organisation's admin, a clinician and a patient. A denied
page changes nothing: every change form is also POSTed to, and a denied POST leaves every row
as it was. Organisation admins manage their organisation's people and teams; clinical
records are the platform's; exercise content is the clinicians' (the API refuses admins).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, SolarSchedule
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.tokens import RefreshToken

from backend.accounts.models import PushDevice
from backend.accounts.service_accounts import service_account_create
from backend.accounts.services import activation_code_issue
from backend.alerts.models import Reminder, ReminderKind, RuleOverride, WeeklyAdherence
from backend.audit.models import AccessEvent
from backend.exercise.models import Exercise
from backend.exercise.services.assessments import assessment_record
from backend.exercise.services.programmes import programme_create
from tests.audit.conftest import log_session
from tests.builders import alert_raised, proposal_open
from tests.conftest import World
from tests.exercise.conftest import content, make_exercise
from tests.factories import CaregiverLinkFactory, ClinicianFactory, UserFactory

ROLES = ["superuser", "org_admin", "other_org_admin", "clinician", "patient"]
PAGES = ["changelist", "add", "change_own", "change_other"]

# What an organisation admin may do with each model, in their own organisation only:
# "list" (changelist and view), "add", "change"; models absent are the platform's alone.
ORG_ADMIN_MAY: dict[str, set[str]] = {
    "accounts.organisation": {"list", "change"},
    "accounts.user": {"list", "add", "change"},
    "accounts.patientprofile": {"list", "add", "change"},
    "accounts.careteammembership": {"list", "add", "change"},
    "accounts.caregiverlink": {"list", "add", "change"},
    "accounts.activationcode": {"list"},
    "accounts.pushdevice": {"list"},
    # Sending systems: added (key shown once) and revoked (an action) by the organisation's
    # admin; the change page shows the account, nothing on it is editable.
    "accounts.serviceaccount": {"list", "add", "change"},
    "exercise.exercise": {"list"},  # read-only: exercise content is the clinicians'
    "audit.accessevent": {"list"},
}

# The path from each organisation-scoped model to its organisation.
ORGANISATION_OF = {
    "accounts.organisation": "pk",
    "accounts.user": "organisation",
    "accounts.patientprofile": "user__organisation",
    "accounts.careteammembership": "patient__user__organisation",
    "accounts.caregiverlink": "patient__user__organisation",
    "accounts.activationcode": "user__organisation",
    "accounts.pushdevice": "user__organisation",
    "accounts.serviceaccount": "organisation",
    "exercise.exercise": "organisation",
    "audit.accessevent": "organisation",
}

# What nobody may do, platform superusers included: the trail and issued tokens are made by
# the system, never typed in; audit events are never changed.
NOBODY_MAY = {("audit.accessevent", "add"), ("audit.accessevent", "change")} | {
    ("token_blacklist.outstandingtoken", "add")
}

OK = 200
DENIED = {302, 403}  # 302: to the login page, or "no such object" back to the index

WATCHED_APPS = {"accounts", "exercise", "alerts", "audit", "symptoms", "auth"}


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.app_label in WATCHED_APPS
    }


class AdminWorld:
    def __init__(self) -> None:
        self.world = World()
        w = self.world
        self.superuser = UserFactory.create(
            role="", organisation=None, is_staff=True, is_superuser=True
        )
        self.other_org_admin = ClinicianFactory.create(
            organisation=w.other_org, role="org_admin", is_staff=True
        )
        self.users = {
            "superuser": self.superuser,
            "org_admin": w.org_admin,
            "other_org_admin": self.other_org_admin,
            "clinician": w.physio,
            "patient": w.patient.user,
        }
        for org in (w.org, w.other_org):
            pending = UserFactory.create(organisation=org, is_active=False, password=None)
            pending.set_unusable_password()
            pending.save()
            activation_code_issue(user=pending, by=None)
            PushDevice.objects.create(user=pending, platform="ios", token=f"token-{org.pk}")
            make_exercise(f"Wall push-up {org.pk}", organisation=org)
            service_account_create(organisation=org, name=f"Lab {org.pk}", by=None)
            # A second factor (the console's TOTP): its key is a secret, the platform's alone.
            TOTPDevice.objects.create(user=pending, name="phone", confirmed=True)
            self._clinical_records(org)
            AccessEvent.objects.create(
                occurred_at=pending.date_joined,
                actor=w.org_admin if org == w.org else self.other_org_admin,
                organisation=org,
                action="read",
                resource_type="user",
                resource_id=pending.pk,
            )

    def _clinical_records(self, org: Any) -> None:
        """A programme with a logged session, an assessment and an alert, for a patient of
        `org`, made through the services production uses."""
        w = self.world
        patient, physio = (
            (w.patient, w.physio) if org == w.org else (w.foreign_patient, w.other_org_physio)
        )
        library = {
            "squat": make_exercise(f"Chair squat {org.pk}", body_regions=["leg", "hip"]),
            "curl": make_exercise(f"Biceps curl {org.pk}", body_regions=["arm"]),
            "bike": make_exercise(f"Cycling {org.pk}", "aerobic", body_regions=["whole_body"]),
        }
        programme = programme_create(
            by=physio, patient=patient, content=content(library), activate=True
        ).programme
        log_session(programme)
        RefreshToken.for_user(patient.user).blacklist()  # an outstanding and a revoked token
        if org != w.org:
            CaregiverLinkFactory.create(patient=patient)
        alert_raised(patient, key=f"matrix-{org.pk}")
        Group.objects.get_or_create(name="platform staff")
        # Every other admin page's object, so no cell of the matrix goes untested.
        now = timezone.now()
        assessment_record(
            by=physio,
            patient=patient,
            data={
                "measure": "CMAS",
                "value": Decimal(40),
                "setting": "clinic",
                "measured_at": now - timedelta(hours=1),
            },
        )
        proposal_open(programme)
        RuleOverride.objects.create(patient=patient, rule_id="FD-1", parameters={"drop_points": 4})
        monday = now.date() - timedelta(days=now.date().weekday() + 7)
        WeeklyAdherence.objects.create(patient=patient, week_start=monday, sessions=Decimal(1))
        Reminder.objects.create(
            patient=patient, kind=ReminderKind.NOTHING_YET, local_date=now.date(), due_at=now
        )
        if org == w.org:
            ClockedSchedule.objects.create(clocked_time=now + timedelta(days=1))
            SolarSchedule.objects.create(event="sunrise", latitude=51.5, longitude=-0.1)

    def object_of(self, label: str, own: bool) -> Any:
        model = apps.get_model(label)
        org = self.world.org if own else self.world.other_org
        path = ORGANISATION_OF.get(label)
        queryset = model._default_manager.order_by("pk")
        if path is None:  # the platform's: any row will do
            return queryset.first()
        # Not the admins themselves: their own account is a separate rule (own role).
        queryset = queryset.filter(**{path: org.pk})
        if label == "accounts.user":
            queryset = queryset.exclude(role__in=["org_admin", ""])
        return queryset.first()


def _expected(label: str, role: str, page: str) -> int | set[int]:
    if role == "superuser":
        return DENIED if (label, page) in NOBODY_MAY else OK
    if role in {"clinician", "patient"}:
        return DENIED
    may = ORG_ADMIN_MAY.get(label, set())
    own_object = (page == "change_own") == (role == "org_admin")
    if page == "changelist":
        return OK if "list" in may else DENIED
    if page == "add":
        return OK if "add" in may else DENIED
    return OK if "list" in may and own_object else DENIED


def _url(label: str, page: str, obj: Any) -> str:
    app_label, model_name = label.split(".")
    if page == "changelist":
        return reverse(f"admin:{app_label}_{model_name}_changelist")
    if page == "add":
        return reverse(f"admin:{app_label}_{model_name}_add")
    return reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk])


def _form_of(obj: Any) -> dict[str, Any]:
    """The object's own values as a form would post them, with every text field changed."""
    data: dict[str, Any] = {}
    for name, value in model_to_dict(obj).items():
        field = obj._meta.get_field(name)
        if value is None:
            continue
        if field.get_internal_type() in {"CharField", "TextField"} and not field.choices:
            value = f"{value}-changed"
        elif isinstance(value, list):
            value = [getattr(item, "pk", item) for item in value]
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        data[name] = value
    return data


MODELS = sorted(model._meta.label_lower for model in django_admin.site._registry)
CELLS = [
    pytest.param(label, page, role, id=f"{label}-{page}-{role}")
    for label in MODELS
    for page in PAGES
    for role in ROLES
]


@pytest.fixture
def admin_world(db: None) -> AdminWorld:
    return AdminWorld()


@pytest.mark.parametrize(("label", "page", "role"), CELLS)
def test_admin_page(admin_world, label, page, role):
    # Given the world, and the object the page is about
    obj = None
    if page in {"change_own", "change_other"}:
        obj = admin_world.object_of(label, own=page == "change_own")
        if obj is None:
            pytest.skip(f"{label}: no object of this kind in the world")  # pragma: no cover
    client = Client()
    client.force_login(admin_world.users[role])
    expected = _expected(label, role, page)
    url = _url(label, page, obj)

    # When the role opens the page
    response = client.get(url)

    # Then the answer is the declared one
    assert response.status_code in (expected if isinstance(expected, set) else {expected}), (
        f"{role} GET {url}: {response.status_code}, expected {expected}"
    )
    if response.status_code == 302:  # away from the page: to the login or the index
        assert response["Location"].split("?")[0] != url
    # And a POST to a change form the role may not change changes nothing
    if obj is not None and not (expected == OK and _may_change(label, role)):
        before = _snapshot()
        denied = client.post(url, _form_of(obj))
        assert denied.status_code in DENIED, f"{role} POST {url}: {denied.status_code}"
        assert _snapshot() == before, f"{role} POST {url} was denied but wrote"


def _may_change(label: str, role: str) -> bool:
    if (label, "change") in NOBODY_MAY:
        return False
    return role == "superuser" or (
        role in {"org_admin", "other_org_admin"} and "change" in ORG_ADMIN_MAY.get(label, set())
    )


def test_the_exercise_admin_leaks_no_other_organisation_and_edits_nothing(admin_world):
    """Finding 3 of [2/5]: the exercise admin's dropdowns listed every user and organisation,
    and an organisation admin could edit instructions the API refuses them."""
    world = admin_world.world
    client = Client()
    client.force_login(world.org_admin)
    own = Exercise.objects.get(organisation=world.org)

    # When the organisation admin opens their exercise and posts new instructions
    page = client.get(_url("exercise.exercise", "change_own", own)).content.decode()
    edited = client.post(
        _url("exercise.exercise", "change_own", own),
        {**_form_of(own), "instructions": "Do it fast.", "organisation": world.other_org.pk},
    )

    # Then nothing of the other organisation is offered, and the exercise is unchanged
    assert world.other_org.name not in page
    assert world.other_org_physio.username not in page
    assert edited.status_code == 403
    own.refresh_from_db()
    assert own.instructions == "1. Do it slowly."
    assert own.organisation == world.org


def test_every_dropdown_offers_an_org_admin_only_their_organisation(admin_world):
    world = admin_world.world
    client = Client()
    client.force_login(world.org_admin)

    for label, may in ORG_ADMIN_MAY.items():
        if "add" not in may:
            continue
        page = client.get(_url(label, "add", None)).content.decode()
        assert world.other_org.name not in page, label
        assert world.other_org_physio.username not in page, label
        assert world.foreign_patient.user.username not in page, label


def test_the_table_names_only_registered_admins():
    assert set(ORG_ADMIN_MAY) <= set(MODELS)
    assert set(ORGANISATION_OF) == set(ORG_ADMIN_MAY)
