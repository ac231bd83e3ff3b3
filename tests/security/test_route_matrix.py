"""Access control proven for every route: the URL conf × every role × every method.

The routes are not listed here: they are read from the URL conf (every pattern, includes
recursed; the Django admin apart, see the end of this module) with the HTTP methods each view
declares. The expected answer of every (route, method) for every role is declared once, in
MATRIX. The test fails when

- a route or a method of the URL conf has no row in MATRIX (a new endpoint must say who may
  call it before it ships), or a row names a route or method that no longer exists;
- any cell answers other than declared; a denied write also must change nothing in the
  database and never show the patient's name;
- a method the view does not declare answers other than 405 (401 for anonymous callers where
  the route needs a sign-in).

Adding a route is adding one row per method to MATRIX (and, for a new kind of path id, one
entry to PATH_OBJECTS).

Rules the table encodes (README "Architecture", backend.accounts.selectors):
- anonymous → 401, except the sign-in endpoints, the schema/docs and health;
- a caller who may not see the patient (or the object) → 404, never 403 and never data (BOLA);
- a patient-side caller (patient, caregiver) asking for a clinician-only action about a
  patient they see → 403 (function-level); objects never shown to their role (alerts,
  progression proposals, other people's inboxes and devices) → 404 like any unseen object;
- allowed cells answer what the API documents (200, 201 created, 204 done).

Path ids are filled from one world in which every object belongs to (or is about) "the
patient", so a 404 for an outsider is a denial about that object, not a missing row.

Matrix size (11 roles; GET/POST/PUT/PATCH/DELETE on each route): 44 routes with 56 declared
(route, method) rows → 616 declared cells; the 164 undeclared (route, method) pairs → 1,804
cells that must answer 405 (401 anonymous); 44 × 11 × 5 = 2,420 cells in all, plus anonymous
on each of the 63 argument-free admin pages (figures when written; `pytest --collect-only -q`
counts them now). About 30 s on SQLite, 60 s on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from backend.accounts import services as account_services
from backend.accounts.models import PushDevice, Role, User
from backend.alerts.models import Notification
from backend.alerts.services.alerting import Audience
from backend.exercise.models import Programme
from backend.exercise.services.programmes import programme_pause
from backend.exercise.services.templates import template_create
from backend.fhir.bulk.services import export_kick_off, export_run
from tests.builders import (
    alert_raised,
    done_as_prescribed,
    programme_with_clinic_exercise,
    proposal_open,
    session_logged,
)
from tests.conftest import World
from tests.exercise.conftest import make_exercise, session_body
from tests.factories import TEST_PASSWORD, CareTeamMembershipFactory, ClinicianFactory

SURNAME = "Quillfeather"  # the patient's last name: must never appear in a denied answer

ROLES = (
    "anonymous",
    "patient",
    "other_patient",  # another patient of the same organisation
    "caregiver",  # the patient's parent
    "other_caregiver",  # the other patient's parent
    "physio",  # physiotherapist on the patient's care team
    "nurse",  # specialist nurse on the care team
    "physician",  # physician on the care team
    "other_team_physio",  # physiotherapist of another team in the same organisation
    "other_org_physio",  # clinician of another organisation
    "org_admin",  # the organisation's admin (not a clinician)
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

OK, NEW, ACCEPTED, GONE, AUTH, DENY, HIDE = 200, 201, 202, 204, 401, 403, 404
Expect = int | frozenset[int]


# --- The world ------------------------------------------------------------------------------


@dataclass
class Subjects:
    """Everything the table's paths and bodies name, built once for the module."""

    world: World
    physician: User
    tokens: dict[str, str]  # role → access token
    programme: Programme
    ids: dict[str, int] = field(default_factory=dict)
    refresh: str = ""  # a refresh token of the patient
    activation_code: str = ""  # the one-time code of a patient not yet activated

    def user(self, role: str) -> User:
        w = self.world
        return {
            "patient": w.patient.user,
            "other_patient": w.other_patient.user,
            "caregiver": w.caregiver,
            "other_caregiver": w.other_caregiver,
            "physio": w.physio,
            "nurse": w.nurse,
            "physician": self.physician,
            "other_team_physio": w.other_team_physio,
            "other_org_physio": w.other_org_physio,
            "org_admin": w.org_admin,
        }[role]


def _library() -> dict[str, Any]:
    return {
        "squat": make_exercise("Chair squat", body_regions=["leg", "hip"]),
        "curl": make_exercise(
            "Biceps curl", body_regions=["arm"], muscle_groups=["biceps_brachii"]
        ),
        "bike": make_exercise(
            "Stationary cycling", "aerobic", body_regions=["whole_body"], muscle_groups=[]
        ),
    }


def build_subjects() -> Subjects:
    world = World()
    user = world.patient.user
    user.last_name = SURNAME
    user.save(update_fields=["last_name"])
    physician = ClinicianFactory.create(organisation=world.org, role=Role.PHYSICIAN)
    CareTeamMembershipFactory.create(patient=world.patient, member=physician, role="physician")

    library = _library()
    programme, org_exercise = programme_with_clinic_exercise(world, library)
    session = session_logged(
        programme,
        started_at=timezone.now() - timedelta(hours=3),
        minutes=35,
        by=user,
        **done_as_prescribed(programme),
    ).session
    proposal = proposal_open(programme)
    alert = alert_raised(
        world.patient,
        key="matrix",
        rule_id="A-3",
        reason="No session for 14 days.",
        evidence={"days_without_session": 14},
        period=(date(2026, 10, 1), date(2026, 10, 14)),
        audience=Audience.TEAM,
    )
    notification = Notification.objects.create(
        recipient=user,
        patient=world.patient,
        kind="programme_changed",
        title="Your exercise programme has changed",
        body="More sets.",
        subject_type="programme",
        subject_id=programme.pk,
        dedup_key="matrix:patient-inbox",
    )
    device = PushDevice.objects.create(user=user, platform="android", token="matrix-phone")
    nurse_seat = world.patient.care_team.get(member=world.nurse)
    template = template_create(by=world.physio, name="Matrix template", programme=programme)
    # The org admin's bulk export, complete, with its files (an export is its requester's).
    export_job = export_kick_off(
        by=world.org_admin,
        resource_types=[],
        since=None,
        request_url="http://testserver/fhir/$export",
        request_id="",
        ip=None,
        now=timezone.now(),
    )
    export_run(job_id=export_job.pk)
    pending = account_services.patient_create(
        by=world.physio,
        first_name="Pending",
        last_name="Patient",
        date_of_birth=date(2014, 2, 2),
        timezone_name="Europe/London",
    )
    subjects = Subjects(
        world=world,
        physician=physician,
        tokens={},
        programme=programme,
        refresh=str(RefreshToken.for_user(user)),
        activation_code=pending.activation.code,
    )
    subjects.tokens = {role: str(AccessToken.for_user(subjects.user(role))) for role in ROLES[1:]}
    subjects.ids = {
        "patient": world.patient.pk,
        "programme": programme.pk,
        "session": session.pk,
        "exercise_in_programme": library["squat"].pk,
        "org_exercise": org_exercise.pk,
        "proposal": proposal.pk,
        "alert": alert.pk,
        "notification": notification.pk,
        "device": device.pk,
        "nurse_seat": nurse_seat.pk,
        "patient_user": user.pk,
        "template": template.pk,
        "export_job": export_job.pk,
    }
    return subjects


@pytest.fixture(scope="module", autouse=True)
def _fhir_export_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The bulk export's files, for this module (its world has a completed export)."""
    with override_settings(FHIR_EXPORT_DIR=tmp_path_factory.mktemp("fhir-exports")):
        yield


@pytest.fixture(scope="module")
def subjects(django_db_setup: None, django_db_blocker: Any) -> Iterator[Subjects]:
    """One world for the whole module, in a transaction rolled back at its end; each cell
    runs in its own savepoint (pytest-django's `db`), so destructive cells never meet."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # type: ignore[attr-defined]  # as Django's TestCase marks its own
        outer.__enter__()
        try:
            built = build_subjects()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


# --- Path ids and request bodies -------------------------------------------------------------

# URL keyword → the object of the world it names (a row may name another in Row.objects).
PATH_OBJECTS = {
    "patient_id": "patient",
    "programme_id": "programme",
    "session_id": "session",
    "exercise_id": "exercise_in_programme",
    "proposal_id": "proposal",
    "alert_id": "alert",
    "notification_id": "notification",
    "device_id": "device",
    "membership_id": "nurse_seat",
    "user_id": "patient_user",
    "template_id": "template",
    "job_id": "export_job",
}
# URL keywords that name no row: their value in the world.
PATH_TEXT = {"file_name": "Patient.ndjson"}


def login_body(s: Subjects) -> dict[str, Any]:
    return {"username": s.world.patient.user.username, "password": TEST_PASSWORD}


def refresh_body(s: Subjects) -> dict[str, Any]:
    return {"refresh": s.refresh}


def activate_body(s: Subjects) -> dict[str, Any]:
    return {"code": s.activation_code, "password": "a-long-new-passphrase-42"}


def device_body(s: Subjects) -> dict[str, Any]:
    return {"platform": "ios", "token": "a-new-phone"}


def enrol_body(s: Subjects) -> dict[str, Any]:
    return {
        "first_name": "New",
        "last_name": "Patient",
        "date_of_birth": "2015-05-05",
        "timezone": "Europe/London",
    }


def reminder_body(s: Subjects) -> dict[str, Any]:
    return {"reminder_time": "18:30"}


def team_add_body(s: Subjects) -> dict[str, Any]:
    return {"member_id": s.world.other_team_physio.pk}


def caregiver_body(s: Subjects) -> dict[str, Any]:
    return {"first_name": "Grand", "last_name": "Parent", "relationship": "guardian"}


def exercise_body(s: Subjects) -> dict[str, Any]:
    return {
        "name": "Wall push-up",
        "instructions": "1. Lean on the wall. 2. Push away slowly.",
        "category": "resistance",
        "body_regions": ["arm"],
    }


def exercise_patch_body(s: Subjects) -> dict[str, Any]:
    return {"safety_notes": "Avoid kneeling on a calcinosis site."}


def _version_items(s: Subjects) -> list[dict[str, Any]]:
    version = s.programme.current_version
    assert version is not None
    return [
        {"exercise": item.exercise_id, "sets": 3, "reps": item.reps}
        if item.sets
        else {"exercise": item.exercise_id, "duration_minutes": item.duration_minutes}
        for item in version.items.order_by("position")
    ]


def prescribe_body(s: Subjects) -> dict[str, Any]:
    return {
        "patient": s.ids["patient"],
        "title": "Next block",
        "start_date": "2026-10-01",
        "items": [{"exercise": s.ids["exercise_in_programme"], "sets": 2, "reps": 10}],
    }


def revise_body(s: Subjects) -> dict[str, Any]:
    return {
        "title": "Strength block 1",
        "start_date": "2026-10-01",
        "items": _version_items(s),
        "reason": "Three sets now",
    }


def template_body(s: Subjects) -> dict[str, Any]:
    return {
        "name": "Another template",
        "content": {"items": [{"exercise": s.ids["exercise_in_programme"], "sets": 2, "reps": 8}]},
    }


def template_patch_body(s: Subjects) -> dict[str, Any]:
    return {"description": "For a first block after a flare."}


def template_prescribe_body(s: Subjects) -> dict[str, Any]:
    return {"patient": s.ids["patient"], "start_date": "2026-10-01"}


def save_as_template_body(s: Subjects) -> dict[str, Any]:
    return {"name": "Saved from the programme"}


def pause_body(s: Subjects) -> dict[str, Any]:
    return {"reason": "flare", "note": "Rest until the flare settles"}


def rule_settings_body(s: Subjects) -> dict[str, Any]:
    return {"rules": {"FD-1": {"drop_points": 4}}}


def note_body(s: Subjects) -> dict[str, Any]:
    return {"note": "Goals met"}


def session_create_body(s: Subjects) -> dict[str, Any]:
    return session_body(s.programme, patient=s.ids["patient"])


def symptom_report_body(s: Subjects) -> dict[str, Any]:
    return {"client_id": str(uuid.uuid4()), "patient": s.ids["patient"], "symptoms": ["rash_flare"]}


def sync_body(s: Subjects) -> dict[str, Any]:
    return {"logs": [session_create_body(s)]}


def session_patch_body(s: Subjects) -> dict[str, Any]:
    return {"pain_after": 4}


def assessment_body(s: Subjects) -> dict[str, Any]:
    measured = timezone.now() - timedelta(hours=1)
    return {
        "patient": s.ids["patient"],
        "measure": "STS30",
        "value": "12",
        "setting": "home",
        "measured_at": measured.isoformat(),
    }


def fhir_observation_body(s: Subjects) -> dict[str, Any]:
    measured = timezone.now() - timedelta(hours=1)
    return {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:matrix", "value": "egfr-1"}],
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "62238-1"}]},
        "subject": {"reference": f"Patient/{s.ids['patient']}"},
        "effectiveDateTime": measured.isoformat(),
        "valueQuantity": {
            "value": 55,
            "system": "http://unitsofmeasure.org",
            "code": "mL/min/{1.73_m2}",
        },
    }


def fhir_bundle_body(s: Subjects) -> dict[str, Any]:
    entry = {
        "resource": fhir_observation_body(s),
        "request": {"method": "POST", "url": "Observation"},
    }
    return {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}


def resolve_body(s: Subjects) -> dict[str, Any]:
    return {"note": "Phoned the family; a cold, back to exercise next week."}


def pause_first(s: Subjects) -> None:
    """Activating needs something to activate: the programme is paused first."""
    programme_pause(programme=s.programme, by=s.world.physio, reason="illness")


def not_yet_activated(s: Subjects) -> None:
    """A new activation code is only for an account never activated (else it would be a way
    to take the account over): the patient has not set a password yet."""
    user = s.world.patient.user
    user.set_unusable_password()
    user.save(update_fields=["password"])


# --- The table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    expect: tuple[Expect, ...]  # one status (or set of statuses) per role, in ROLES order
    body: Callable[[Subjects], dict[str, Any]] | None = None
    query: str = ""  # query string, formatted with the world's ids
    headers: dict[str, Any] = field(default_factory=dict)  # request headers (WSGI names)
    objects: dict[str, str] = field(default_factory=dict)  # PATH_OBJECTS overrides
    setup: Callable[[Subjects], None] | None = None


def everyone(status: Expect, *, anonymous: Expect | None = None) -> tuple[Expect, ...]:
    return (status if anonymous is None else anonymous, *(status,) * (len(ROLES) - 1))


ALL = everyone(OK)
SIGNED_IN = everyone(OK, anonymous=AUTH)
# The patient's record: the patient, their caregiver and the care team; nobody else.
SEES = (AUTH, OK, HIDE, OK, HIDE, OK, OK, OK, HIDE, HIDE, HIDE)
# FHIR bulk export: clinicians and the org admin start one; a job is its requester's alone.
FHIR_ASYNC: dict[str, Any] = {
    "HTTP_ACCEPT": "application/fhir+json",
    "HTTP_PREFER": "respond-async",
}
BULK_JOB = (AUTH, DENY, DENY, DENY, DENY, HIDE, HIDE, HIDE, HIDE, HIDE, OK)

# fmt: off
MATRIX: dict[tuple[str, str], Row] = {
    # Expectations in ROLES order:
    #    anon  pat   oPat  cg    oCg   phys  nurse doc   oTeam oOrg  admin
    # Signing in and out needs no access token (a stale one must not block them).
    ("auth-token", "POST"): Row(ALL, login_body),
    ("auth-token-refresh", "POST"): Row(ALL, refresh_body),
    ("auth-logout", "POST"): Row(everyone(GONE), refresh_body),
    ("auth-activate", "POST"): Row(ALL, activate_body),
    ("me", "GET"): Row(SIGNED_IN),
    ("devices", "GET"): Row(SIGNED_IN),
    ("devices", "POST"): Row(everyone(NEW, anonymous=AUTH), device_body),
    # The patient's phone: only its owner (not even the caregiver) unregisters it.
    ("device-detail", "DELETE"): Row(
        (AUTH, GONE, HIDE, HIDE, HIDE, HIDE, HIDE, HIDE, HIDE, HIDE, HIDE)),
    # Lists are scoped to the caller, so everyone signed in gets 200 (their own rows).
    ("patients", "GET"): Row(SIGNED_IN),
    # Enrolment is a physiotherapist's; it is about no existing patient, so any physio may.
    ("patients", "POST"): Row(
        (AUTH, DENY, DENY, DENY, DENY, NEW,  DENY, DENY, NEW,  NEW,  DENY), enrol_body),
    ("patient-detail", "GET"): Row(SEES),
    # Reminder preferences are the patient's (and caregiver's) to change, and the team's.
    ("patient-detail", "PATCH"): Row(SEES, reminder_body),
    ("patient-activation-code", "POST"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, NEW,  NEW,  NEW,  HIDE, HIDE, HIDE),
        setup=not_yet_activated),
    ("care-team", "GET"): Row(SEES),
    ("care-team", "POST"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, NEW,  NEW,  NEW,  HIDE, HIDE, HIDE), team_add_body),
    ("care-team-member", "DELETE"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, GONE, GONE, GONE, HIDE, HIDE, HIDE)),
    ("caregivers", "POST"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, NEW,  NEW,  NEW,  HIDE, HIDE, HIDE), caregiver_body),
    # Exercises are not patient data: every clinician reads the shipped library; patient-side
    # users read only the exercises of their own programmes; an org admin is no clinician.
    ("exercises", "GET"): Row(SIGNED_IN),
    ("exercises", "POST"): Row(
        (AUTH, DENY, DENY, DENY, DENY, NEW,  NEW,  NEW,  NEW,  NEW,  DENY), exercise_body),
    ("exercise", "GET"): Row(
        (AUTH, OK,   HIDE, OK,   HIDE, OK,   OK,   OK,   OK,   OK,   HIDE)),
    # world.org's own exercise, in the patient's programme: world.org's clinicians edit it, the
    # patient sees it but may not edit it, another organisation does not see it at all.
    ("exercise", "PATCH"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, OK,   OK,   OK,   OK,   HIDE, HIDE), exercise_patch_body,
        objects={"exercise_id": "org_exercise"}),
    ("programmes", "GET"): Row(SIGNED_IN),
    # Prescribing and changing a programme is the physiotherapist's; the nurse and physician
    # see it but may not change it.
    ("programmes", "POST"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, NEW,  DENY, DENY, HIDE, HIDE, HIDE), prescribe_body),
    ("programme-current", "GET"): Row(SEES, query="patient={patient}"),
    ("programme", "GET"): Row(SEES),
    ("programme-versions", "GET"): Row(SEES),
    ("programme-versions", "POST"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, NEW,  DENY, DENY, HIDE, HIDE, HIDE), revise_body),
    ("programme-activate", "POST"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, OK,   DENY, DENY, HIDE, HIDE, HIDE), setup=pause_first),
    # Any clinician of the care team may pause: a nurse hearing of a flare should not wait.
    ("programme-pause", "POST"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, OK,   OK,   OK,   HIDE, HIDE, HIDE), pause_body),
    ("programme-complete", "POST"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, OK,   DENY, DENY, HIDE, HIDE, HIDE), note_body),
    # Templates are the organisation's working material, not patient data: its clinicians read
    # them (others see none: an empty list, 404 for one), its physiotherapists write them.
    ("programme-templates", "GET"): Row(SIGNED_IN),
    ("programme-templates", "POST"): Row(
        (AUTH, DENY, DENY, DENY, DENY, NEW,  DENY, DENY, NEW,  NEW,  DENY), template_body),
    ("programme-template", "GET"): Row(
        (AUTH, HIDE, HIDE, HIDE, HIDE, OK,   OK,   OK,   OK,   HIDE, HIDE)),
    ("programme-template", "PATCH"): Row(
        (AUTH, HIDE, HIDE, HIDE, HIDE, OK,   DENY, DENY, OK,   HIDE, HIDE), template_patch_body),
    ("programme-template", "DELETE"): Row(
        (AUTH, HIDE, HIDE, HIDE, HIDE, GONE, DENY, DENY, GONE, HIDE, HIDE)),
    # Prescribing from one is prescribing: the patient's physiotherapist; the other team's
    # physiotherapist sees the template but not the patient.
    ("programme-template-prescribe", "POST"): Row(
        (AUTH, HIDE, HIDE, HIDE, HIDE, NEW,  DENY, DENY, HIDE, HIDE, HIDE),
        template_prescribe_body),
    # Copying a programme into a template: whoever sees the programme and is a physiotherapist.
    ("programme-save-as-template", "POST"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, NEW,  DENY, DENY, HIDE, HIDE, HIDE),
        save_as_template_body),
    ("proposals", "GET"): Row(SIGNED_IN),
    # Proposals are never shown to the patient side: for them the proposal does not exist.
    ("proposal-accept", "POST"): Row(
        (AUTH, HIDE, HIDE, HIDE, HIDE, OK,   DENY, DENY, HIDE, HIDE, HIDE)),
    ("proposal-dismiss", "POST"): Row(
        (AUTH, HIDE, HIDE, HIDE, HIDE, OK,   DENY, DENY, HIDE, HIDE, HIDE)),
    ("sessions", "GET"): Row(SIGNED_IN),
    ("sessions", "POST"): Row(
        (AUTH, NEW,  HIDE, NEW,  HIDE, NEW,  NEW,  NEW,  HIDE, HIDE, HIDE), session_create_body),
    # A batch is answered log by log: a log for an unseen patient is an "invalid" item (tested
    # in tests/exercise/test_access_matrix.py), so the batch itself is 200 for everyone.
    ("sessions-sync", "POST"): Row(SIGNED_IN, sync_body),
    # Symptoms are reported by whoever may log for the patient; a list is the caller's own.
    ("symptoms", "GET"): Row(SIGNED_IN),
    ("symptoms", "POST"): Row(
        (AUTH, NEW,  HIDE, NEW,  HIDE, NEW,  NEW,  NEW,  HIDE, HIDE, HIDE), symptom_report_body),
    ("session", "GET"): Row(SEES),
    # The patient's own log: the patient (or their caregiver) edits it, the care team reads it.
    ("session", "PATCH"): Row(
        (AUTH, OK,   HIDE, OK,   HIDE, DENY, DENY, DENY, HIDE, HIDE, HIDE), session_patch_body),
    ("session", "DELETE"): Row(
        (AUTH, GONE, HIDE, GONE, HIDE, DENY, DENY, DENY, HIDE, HIDE, HIDE)),
    ("assessments", "GET"): Row(SIGNED_IN),
    ("assessments", "POST"): Row(
        (AUTH, NEW,  HIDE, NEW,  HIDE, NEW,  NEW,  NEW,  HIDE, HIDE, HIDE), assessment_body),
    # The patient's own numbers are theirs to read too; the spec restricts only outsiders.
    ("patient-summary", "GET"): Row(SEES),
    ("assessment-trend", "GET"): Row(SEES),
    # Alerts are the care team's: the patient side sees none (so a patient's call is a 404).
    ("alerts", "GET"): Row(SIGNED_IN),
    ("alert-acknowledge", "POST"): Row(
        (AUTH, HIDE, HIDE, HIDE, HIDE, OK,   OK,   OK,   HIDE, HIDE, HIDE)),
    ("alert-resolve", "POST"): Row(
        (AUTH, HIDE, HIDE, HIDE, HIDE, OK,   OK,   OK,   HIDE, HIDE, HIDE), resolve_body),
    # The rule catalogue is no patient data; a patient's rule settings are the care team's.
    ("rules", "GET"): Row(SIGNED_IN),
    ("rule-settings", "GET"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, OK,   OK,   OK,   HIDE, HIDE, HIDE)),
    ("rule-settings", "PUT"): Row(
        (AUTH, DENY, HIDE, DENY, HIDE, OK,   OK,   OK,   HIDE, HIDE, HIDE), rule_settings_body),
    ("notifications", "GET"): Row(SIGNED_IN),
    # The patient's inbox is the patient's alone.
    ("notification-read", "POST"): Row(
        (AUTH, OK,   HIDE, HIDE, HIDE, HIDE, HIDE, HIDE, HIDE, HIDE, HIDE)),
    # Deactivation is for org admins (anyone of the organisation) and physiotherapists (their
    # patients and those patients' caregivers): other roles are refused before any lookup.
    ("user-deactivate", "POST"): Row(
        (AUTH, DENY, DENY, DENY, DENY, OK,   DENY, DENY, HIDE, HIDE, OK)),
    # The audit trail is the organisation admin's; the access log is each patient's and
    # caregiver's own (their own rows, so 200 for all of them); the export is the patient's.
    ("audit", "GET"): Row(
        (AUTH, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, OK)),
    ("me-access-log", "GET"): Row(
        (AUTH, OK,   OK,   OK,   OK,   DENY, DENY, DENY, DENY, DENY, DENY)),
    ("me-export", "GET"): Row(
        (AUTH, OK,   OK,   DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY)),
    # FHIR Bulk Data (docs/fhir-bulk.md): the org admin exports the organisation, a clinician
    # their patients; the status and files are the job's requester's (the org admin's here).
    ("fhir-bulk-export", "GET"): Row(
        (AUTH, DENY, DENY, DENY, DENY, ACCEPTED, ACCEPTED, ACCEPTED, ACCEPTED, ACCEPTED,
         ACCEPTED), headers=FHIR_ASYNC),
    ("fhir-bulk-status", "GET"): Row(BULK_JOB),
    ("fhir-bulk-status", "DELETE"): Row(
        (AUTH, DENY, DENY, DENY, DENY, HIDE, HIDE, HIDE, HIDE, HIDE, ACCEPTED)),
    ("fhir-bulk-file", "GET"): Row(BULK_JOB),
    # The contract and its viewers are public (README), as is health.
    ("schema", "GET"): Row(ALL),
    ("swagger-ui", "GET"): Row(ALL),
    ("redoc", "GET"): Row(ALL),
    ("health", "GET"): Row(ALL),
    # FHIR (docs/fhir.md): the same rule as the API. The CapabilityStatement is public, as FHIR
    # clients read it before signing in; searches name the patient, who decides the answer
    # (alerts' DetectedIssue and Flag: an empty Bundle for the patient side, not a 404).
    ("fhir-metadata", "GET"): Row(ALL),
    ("fhir-patient", "GET"): Row(SEES),
    ("fhir-patient-everything", "GET"): Row(SEES),
    ("fhir-observation", "GET"): Row(SEES, query="patient={patient}"),
    ("fhir-careplan-search", "GET"): Row(SEES, query="patient={patient}"),
    ("fhir-servicerequest-search", "GET"): Row(SEES, query="patient={patient}"),
    ("fhir-detectedissue-search", "GET"): Row(SEES, query="patient={patient}"),
    ("fhir-flag-search", "GET"): Row(SEES, query="patient={patient}"),
    # FHIR import authenticates a sending system's service-account key only, never a person:
    # every person's token is refused with 401 whatever their role (and a service key is
    # refused on every other route: tests/fhir/test_import_service_accounts.py).
    ("fhir-observation", "POST"): Row(everyone(AUTH), fhir_observation_body),
    ("fhir-bundle-import", "POST"): Row(everyone(AUTH), fhir_bundle_body),
}
# fmt: on


# --- The URL conf ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    route: str  # the pattern, for messages
    params: tuple[str, ...]
    methods: tuple[str, ...]  # what the view declares


# The Django admin is session-authenticated HTML, not the API: it is covered below by anonymous
# → login redirect on every page, and its per-organisation rules by tests/core/test_admin.py.
ADMIN_NAMESPACE = "admin"
# The care-team console is session-authenticated HTML too: every page sends an anonymous
# visitor to its sign-in (below); who sees which patient there is tests/console's.
CONSOLE_NAMESPACE = "console"
NOT_API = {ADMIN_NAMESPACE, CONSOLE_NAMESPACE}


def _view_methods(callback: Any) -> tuple[str, ...]:
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    assert view is not None, f"{callback} is not a class-based view: say its methods here"
    return tuple(m for m in METHODS if hasattr(view, m.lower()))


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str | None = None
) -> Iterator[tuple[str | None, str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        else:
            yield namespace, prefix + str(entry.pattern), entry


def url_routes() -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for namespace, route, pattern in _walk(get_resolver().url_patterns):
        if namespace in NOT_API or pattern.name == "root":
            continue
        assert pattern.name, f"{route}: every API route needs a name (the matrix is keyed by it)"
        assert pattern.name not in routes, f"two routes are named {pattern.name}"
        routes[pattern.name] = Route(
            name=pattern.name,
            route=route,
            params=tuple(pattern.pattern.regex.groupindex),
            methods=_view_methods(pattern.callback),
        )
    return routes


ROUTES = url_routes()
DECLARED = [(name, m) for name, route in ROUTES.items() for m in route.methods]
UNDECLARED = [
    (name, m) for name, route in ROUTES.items() for m in METHODS if m not in route.methods
]


def test_every_route_and_method_has_exactly_one_row():
    in_urlconf = set(DECLARED)
    in_table = set(MATRIX)

    missing = sorted(in_urlconf - in_table)
    stale = sorted(in_table - in_urlconf)

    assert not missing, f"routes without a row in MATRIX (declare who may call them): {missing}"
    assert not stale, f"rows in MATRIX for routes or methods that no longer exist: {stale}"
    for key, row in MATRIX.items():
        assert len(row.expect) == len(ROLES), f"{key}: one expectation per role"


# --- Running a cell -------------------------------------------------------------------------

WATCHED_APPS = ("accounts", "exercise", "alerts", "symptoms")


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the apps holding people and clinical data."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.app_label in WATCHED_APPS
    }


def client_as(s: Subjects, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {s.tokens[role]}")
    return client


def url_of(s: Subjects, name: str, row: Row | None) -> str:
    objects = {**PATH_OBJECTS, **(row.objects if row else {})}
    kwargs: dict[str, Any] = {}
    for param in ROUTES[name].params:
        if param in PATH_TEXT:
            kwargs[param] = PATH_TEXT[param]
            continue
        assert param in objects, f"{name}: no object for <{param}>: add it to PATH_OBJECTS"
        kwargs[param] = s.ids[objects[param]]
    url = reverse(name, kwargs=kwargs)
    if row is not None and row.query:
        url += "?" + row.query.format(**s.ids)
    return url


def _matches(status: int, expected: Expect) -> bool:
    return status in expected if isinstance(expected, frozenset) else status == expected


# The contract and its viewers answer errors in their own formats (YAML, HTML); every other
# route is the JSON API, whose errors all have one shape (backend.core.errors).
OWN_FORMAT = {"schema", "swagger-ui", "redoc"}
# The Bundle import knows no person: a signed-in person is as unknown there as an anonymous
# caller (401 on every method). /fhir/Observation is also the people's search, so a person's
# other methods there are 405.
FHIR_OUTCOME = {"fhir-bundle-import"}


def _assert_error_shape(response: Any, status: int, name: str) -> None:
    assert SURNAME not in response.content.decode()
    if name in OWN_FORMAT:
        return
    if ROUTES[name].route.startswith("fhir/"):  # FHIR's errors are OperationOutcome resources
        body = response.json()
        assert body["resourceType"] == "OperationOutcome", body
        assert body["issue"][0]["diagnostics"], body
        return
    body = response.json()
    assert body["status"] == status, body
    assert body["code"], body
    assert body["detail"], body


@pytest.mark.parametrize(
    ("name", "method", "role"),
    [
        pytest.param(name, method, role, id=f"{name}-{method}-{role}")
        for name, method in DECLARED
        for role in ROLES
    ],
)
def test_declared_method(subjects, db, name, method, role):
    row = MATRIX.get((name, method))
    if row is None:
        pytest.fail(f"{method} {ROUTES[name].route} has no row in MATRIX")
    expected = row.expect[ROLES.index(role)]
    # Given the world, and the row's own preparation
    if row.setup is not None:
        row.setup(subjects)
    body = row.body(subjects) if row.body is not None else None
    url = url_of(subjects, name, row)
    before = snapshot() if method != "GET" else None

    # When the role calls the route
    data = json.dumps(body) if body is not None else ""
    response = client_as(subjects, role).generic(
        method, url, data, content_type="application/json", **row.headers
    )

    # Then the answer is the declared one, and a denied call shows and changes nothing
    assert _matches(response.status_code, expected), (
        f"{role} {method} {url}: {response.status_code}, expected {expected}: "
        f"{response.content[:400]!r}"
    )
    if response.status_code >= 400:
        _assert_error_shape(response, response.status_code, name)
        if before is not None:
            assert snapshot() == before, f"{role} {method} {url} was denied but wrote"


def _anonymous_needs_sign_in(name: str) -> bool:
    """From the table: a route whose declared methods all answer anonymous with 401."""
    return all(
        MATRIX[(name, m)].expect[0] == AUTH for m in ROUTES[name].methods if (name, m) in MATRIX
    )


@pytest.mark.parametrize(
    ("name", "method", "role"),
    [
        pytest.param(name, method, role, id=f"{name}-{method}-{role}")
        for name, method in UNDECLARED
        for role in ROLES
    ],
)
def test_undeclared_method_is_405(subjects, db, name, method, role):
    url = url_of(subjects, name, MATRIX.get((name, ROUTES[name].methods[0])))
    signs_in = role == "anonymous" or name in FHIR_OUTCOME
    expected = AUTH if signs_in and _anonymous_needs_sign_in(name) else 405

    response = client_as(subjects, role).generic(method, url, "{}", content_type="application/json")

    assert response.status_code == expected, f"{role} {method} {url}: {response.content[:300]!r}"
    _assert_error_shape(response, expected, name)


# --- The Django admin: every page sends an anonymous visitor to the login -------------------


def _admin_pages() -> list[tuple[str, str]]:
    pages = []
    for namespace, _route, pattern in _walk(get_resolver().url_patterns):
        if namespace != ADMIN_NAMESPACE or pattern.pattern.regex.groups:
            continue
        pages.append((f"admin:{pattern.name}", reverse(f"admin:{pattern.name}")))
    return pages


ADMIN_OPEN = {"admin:login", "admin:logout"}  # the login page itself, and a harmless logout


@pytest.mark.parametrize(("name", "url"), _admin_pages())
def test_admin_page_sends_anonymous_to_login(db, name, url):
    response = Client().get(url)

    if name in ADMIN_OPEN:
        assert response.status_code in {200, 302, 405}
    else:
        assert response.status_code == 302, name
        assert reverse("admin:login") in response["Location"]


# --- The console: every page sends an anonymous visitor to its sign-in ----------------------

CONSOLE_OPEN = {"console:login", "console:logout"}


def _console_pages() -> list[tuple[str, str]]:
    pages = []
    for namespace, _route, pattern in _walk(get_resolver().url_patterns):
        if namespace != CONSOLE_NAMESPACE or pattern.pattern.regex.groups:
            continue
        pages.append((f"console:{pattern.name}", reverse(f"console:{pattern.name}")))
    return pages


@pytest.mark.parametrize(("name", "url"), _console_pages())
def test_console_page_sends_anonymous_to_sign_in(db, name, url):
    response = Client().get(url)

    if name in CONSOLE_OPEN:
        assert response.status_code in {200, 302, 405}
    else:
        assert response.status_code == 302, name
        assert reverse("console:login") in response["Location"]
