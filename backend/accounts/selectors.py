"""Reads of people and patients, always scoped to who is asking.

`patients_visible_to` is THE access rule of PhysioTrack; every selector of patient data in
any app starts from it, so a patient's data is reachable only by:
- the patient themselves;
- a caregiver linked to the patient;
- a clinician on the patient's care team, in the patient's organisation.
Anyone else, organisation admins included, gets nothing (and the API answers 404).
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from backend.accounts.models import (
    CLINICIAN_ROLES,
    CaregiverLink,
    CareTeamMembership,
    PatientProfile,
    PushDevice,
    Role,
    User,
)


def patients_visible_to(viewer: User) -> QuerySet[PatientProfile]:
    patients = PatientProfile.objects.all()
    if not viewer.is_authenticated or not viewer.is_active:
        return patients.none()
    if viewer.role == Role.PATIENT:
        return patients.filter(user=viewer)
    if viewer.organisation_id is None:
        return patients.none()
    if viewer.role == Role.CAREGIVER:
        return patients.filter(
            caregiver_links__caregiver=viewer,
            caregiver_links__ended_at__isnull=True,  # the same join: a link in force
            user__organisation_id=viewer.organisation_id,
        )
    if viewer.is_clinician:
        return patients.filter(
            care_team__member=viewer,
            care_team__ended_at__isnull=True,  # the same join: a seat in force
            user__organisation_id=viewer.organisation_id,
        )
    return patients.none()


def own_patient_profile(viewer: User) -> PatientProfile | None:
    """What `patients_visible_to` gives a patient, their own profile, without a query when
    authentication has read it with the user (backend.accounts.authentication)."""
    if viewer.role != Role.PATIENT or not viewer.is_active:
        return None
    return getattr(viewer, "patient_profile", None)


def of_visible_patients(viewer: User, field: str = "patient") -> Q:
    """`patients_visible_to` as a condition on rows that belong to a patient (`field`).

    For a patient it is their own profile's id as a constant, `patient_id = 7`, not
    `patient_id IN (SELECT ... WHERE user_id = ...)`: the planner cannot tell that the
    subquery yields one patient, so it read all of the patient's rows and sorted them to
    serve one page; with the constant it reads the first rows of one range of the list's
    (patient, time, id) index, in order, whatever the history (issue #12)."""
    own = own_patient_profile(viewer)
    if own is not None:
        return Q(**{f"{field}_id": own.pk})
    return Q(**{f"{field}__in": patients_visible_to(viewer)})


def patient_profiles_with_team(viewer: User) -> QuerySet[PatientProfile]:
    """Visible patients with what a profile response shows, in a fixed number of queries."""
    return (
        patients_visible_to(viewer)
        .select_related("user", "user__organisation")
        .prefetch_related(
            Prefetch(
                "care_team",
                queryset=CareTeamMembership.objects.select_related("member").order_by("role", "id"),
            ),
            Prefetch(
                "caregiver_links",
                queryset=CaregiverLink.objects.select_related("caregiver").order_by("id"),
            ),
        )
    )


def patient_get(*, viewer: User, patient_id: int) -> PatientProfile:
    """The patient if the viewer may see them; 404 otherwise (never 403: no existence leak)."""
    return get_object_or_404(patient_profiles_with_team(viewer), pk=patient_id)


def devices_of(user: User) -> QuerySet[PushDevice]:
    return PushDevice.objects.filter(user=user)


def user_with_context(user: User) -> User:
    """The signed-in user with what `GET /me/` shows, loaded in a fixed number of queries."""
    return (
        User.objects.select_related("organisation", "patient_profile")
        .prefetch_related(
            Prefetch(
                "patient_profile__care_team",
                queryset=CareTeamMembership.objects.select_related("member").order_by("role", "id"),
            ),
            Prefetch(
                "patient_profile__caregiver_links",
                queryset=CaregiverLink.objects.select_related("caregiver").order_by("id"),
            ),
            Prefetch(
                "caregiver_links",
                queryset=CaregiverLink.objects.select_related("patient__user").order_by("id"),
            ),
        )
        .get(pk=user.pk)
    )


def users_deactivatable_by(viewer: User) -> QuerySet[User]:
    """Accounts the viewer may deactivate: an organisation admin, anyone of their organisation
    but themselves and platform staff; a physiotherapist, the patients on their care teams and
    those patients' caregivers (they enrolled and invited them); nobody else."""
    users = User.objects.select_related("patient_profile")
    if not viewer.is_active or viewer.organisation_id is None:
        return users.none()
    if viewer.role == Role.ORG_ADMIN:
        return users.filter(organisation_id=viewer.organisation_id, is_superuser=False).exclude(
            pk=viewer.pk
        )
    if viewer.role == Role.PHYSIOTHERAPIST:
        patients = patients_visible_to(viewer)
        caregivers = CaregiverLink.objects.filter(patient__in=patients).values("caregiver_id")
        return users.filter(Q(pk__in=patients.values("user_id")) | Q(pk__in=caregivers))
    return users.none()


def organisation_people(viewer: User) -> QuerySet[User]:
    """The people of an organisation admin's organisation, as its admin pages list them
    (platform staff are not theirs to manage); nobody for anyone else."""
    if viewer.role != Role.ORG_ADMIN or not viewer.is_active or viewer.organisation_id is None:
        return User.objects.none()
    return User.objects.filter(organisation_id=viewer.organisation_id, is_superuser=False).order_by(
        "last_name", "first_name", "id"
    )


def care_teams_managed_by(viewer: User) -> QuerySet[PatientProfile]:
    """Patients whose care teams an organisation admin manages (their organisation's), with
    each team's seats in force; nobody for anyone else. The admin sees who is on a team, not
    the patient's record (`patients_visible_to` stays closed to them)."""
    if viewer.role != Role.ORG_ADMIN or not viewer.is_active or viewer.organisation_id is None:
        return PatientProfile.objects.none()
    return (
        PatientProfile.objects.filter(user__organisation_id=viewer.organisation_id)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "care_team",
                queryset=CareTeamMembership.objects.select_related("member").order_by("role", "id"),
            )
        )
    )


def care_team_candidates(patient: PatientProfile) -> QuerySet[User]:
    """Clinicians who could take a seat on the patient's team: active, of the patient's
    organisation, not already on it (`care_team_member_add` checks the same)."""
    organisation_id = patient.user.organisation_id
    if organisation_id is None:
        return User.objects.none()
    return (
        User.objects.filter(
            organisation_id=organisation_id,
            role__in=CLINICIAN_ROLES,
            is_active=True,
        )
        .exclude(pk__in=CareTeamMembership.objects.filter(patient=patient).values("member_id"))
        .order_by("last_name", "first_name", "id")
    )
