"""Patient, its CareTeam (the clinicians' seats) and RelatedPerson (caregivers)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backend.accounts.models import (
    CaregiverLink,
    CaregiverRelationship,
    CareTeamMembership,
    CareTeamRole,
    PatientProfile,
)
from backend.fhir import codes
from backend.fhir.mapping.common import day, instant, patient_reference, reference

# SNOMED CT occupations for the care-team roles.
CARE_TEAM_ROLES: dict[str, tuple[str, str]] = {
    CareTeamRole.PHYSIOTHERAPIST: ("36682004", "Physiotherapist"),
    CareTeamRole.NURSE: ("224571005", "Nurse practitioner"),
    CareTeamRole.PHYSICIAN: ("309343006", "Physician"),
}
# HL7 v3 RoleCode for a caregiver's relationship; "other" has no code, only its text.
RELATIONSHIPS: dict[str, tuple[str, str]] = {
    CaregiverRelationship.PARENT: ("PRN", "parent"),
    CaregiverRelationship.GUARDIAN: ("GUARD", "guardian"),
}


def patient_to_fhir(patient: PatientProfile) -> dict[str, Any]:
    """Needs patient.user and patient.user.organisation loaded."""
    user = patient.user
    name: dict[str, Any] = {"use": "official", "text": user.display_name}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [{"system": codes.PATIENT_IDENTIFIER, "value": str(patient.pk)}],
        "active": user.is_active,
        "name": [name],
        "birthDate": day(patient.date_of_birth),
    }
    if user.organisation is not None:
        resource["managingOrganization"] = {"display": user.organisation.name}
    return resource


def care_team_to_fhir(
    patient: PatientProfile, seats: Iterable[CareTeamMembership]
) -> dict[str, Any]:
    """The patient's one care team (its id is the patient's): the seats in force, members
    loaded."""
    participants = []
    for seat in seats:
        code, display = CARE_TEAM_ROLES.get(seat.role, ("", seat.get_role_display()))
        role = codes.concept(codes.SNOMED, code, display) if code else {"text": seat.role}
        participants.append(
            {
                "role": [role],
                "member": reference("Practitioner", seat.member_id, seat.member.display_name),
                "period": {"start": instant(seat.created_at)},
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "CareTeam",
        "id": str(patient.pk),
        "status": "active",
        "category": [codes.physical_activity_category()],
        "name": f"Care team of {patient.user.display_name}",
        "subject": patient_reference(patient.pk),
    }
    if participants:
        resource["participant"] = participants
    return resource


def related_person_to_fhir(link: CaregiverLink) -> dict[str, Any]:
    """A caregiver in force for the patient (link.caregiver loaded); its id is the link's."""
    caregiver = link.caregiver
    code = RELATIONSHIPS.get(link.relationship)
    relationship = (
        codes.concept(codes.RELATED_PERSON_ROLE, code[0], code[1])
        if code
        else {"text": link.get_relationship_display()}
    )
    name: dict[str, Any] = {"text": caregiver.display_name}
    if caregiver.last_name:
        name["family"] = caregiver.last_name
    if caregiver.first_name:
        name["given"] = [caregiver.first_name]
    return {
        "resourceType": "RelatedPerson",
        "id": str(link.pk),
        "active": link.ended_at is None and caregiver.is_active,
        "patient": patient_reference(link.patient_id),
        "relationship": [relationship],
        "name": [name],
        "period": {"start": instant(link.created_at)},
    }
