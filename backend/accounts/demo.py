"""Demo data for `make run`: one clinic, its care team and three patients. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from django.db import transaction

from backend.accounts.models import (
    CaregiverLink,
    CaregiverRelationship,
    CareTeamMembership,
    CareTeamRole,
    Organisation,
    PatientProfile,
    Role,
    ServiceAccount,
    User,
)
from backend.accounts.service_accounts import service_account_create

DEMO_PASSWORD = "physiotrack-demo"  # noqa: S105  # published demo login, DEBUG only
# The demo laboratory's key for /fhir/ imports (docs/fhir-import.md), published like the
# password: a demo installation only.
DEMO_LAB_NAME = "Demo lab"
DEMO_LAB_KEY = "ptsa_demo-lab-key-for-make-run-only"  # published, DEBUG only


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    description: str


_STAFF = [
    ("demo.physio", "Priya", "Shah", Role.PHYSIOTHERAPIST, "physiotherapist"),
    ("demo.nurse", "Tom", "Okafor", Role.NURSE, "specialist nurse"),
    ("demo.physician", "Lena", "Berg", Role.PHYSICIAN, "paediatric rheumatologist"),
    ("demo.admin", "Sam", "Reid", Role.ORG_ADMIN, "organisation admin (Django admin)"),
]

_PATIENTS = [
    # username, first, last, born, timezone, diagnosis, weekdays, reminder
    (
        "demo.amelia",
        "Amelia",
        "Clarke",
        date(2014, 5, 2),
        "Europe/London",
        "Juvenile dermatomyositis with calcinosis (left elbow)",
        [1, 3, 5],
        time(17, 0),
    ),
    (
        "demo.noah",
        "Noah",
        "Rivera",
        date(2011, 9, 18),
        "America/New_York",
        "Juvenile dermatomyositis",
        [2, 4, 6],
        time(16, 30),
    ),
    (
        "demo.mia",
        "Mia",
        "Tanaka",
        date(1989, 1, 27),
        "Australia/Sydney",
        "Adult dermatomyositis with calcinosis cutis",
        [1, 4],
        time(7, 30),
    ),
]


def _person(
    org: Organisation, username: str, first: str, last: str, role: str, **extra: object
) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "role": role,
            "organisation": org,
            "email": f"{username}@example.org",
            **extra,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def demo_seed() -> list[DemoLogin]:
    org, _ = Organisation.objects.get_or_create(
        slug="demo-clinic", defaults={"name": "Northfield Children's Myositis Clinic"}
    )
    logins: list[DemoLogin] = []
    staff: dict[str, User] = {}
    for username, first, last, role, description in _STAFF:
        extra = {"is_staff": True} if role == Role.ORG_ADMIN else {}
        staff[role] = _person(org, username, first, last, role, **extra)
        logins.append(DemoLogin(username, role, f"{first} {last}, {description}"))

    for username, first, last, born, tz, diagnosis, weekdays, reminder in _PATIENTS:
        user = _person(
            org, username, first, last, Role.PATIENT, created_by=staff[Role.PHYSIOTHERAPIST]
        )
        patient, _ = PatientProfile.objects.get_or_create(
            user=user,
            defaults={
                "date_of_birth": born,
                "timezone": tz,
                "diagnosis": diagnosis,
                "training_weekdays": weekdays,
                "reminder_time": reminder,
                "notifications_consent": True,
                "created_by": staff[Role.PHYSIOTHERAPIST],
            },
        )
        for team_role in CareTeamRole.values:
            CareTeamMembership.objects.get_or_create(
                patient=patient, member=staff[team_role], defaults={"role": team_role}
            )
        logins.append(DemoLogin(username, Role.PATIENT, f"{first} {last}, patient in {tz}"))

    amelia = PatientProfile.objects.get(user__username="demo.amelia")
    parent = _person(org, "demo.parent", "Helen", "Clarke", Role.CAREGIVER)
    CaregiverLink.objects.get_or_create(
        caregiver=parent, patient=amelia, defaults={"relationship": CaregiverRelationship.PARENT}
    )
    logins.append(DemoLogin("demo.parent", Role.CAREGIVER, "Helen Clarke, Amelia's mother"))
    if not ServiceAccount.objects.filter(organisation=org, name=DEMO_LAB_NAME).exists():
        service_account_create(organisation=org, name=DEMO_LAB_NAME, by=None, key=DEMO_LAB_KEY)
    return logins
