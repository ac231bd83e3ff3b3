"""Recording imported results: each is an assessment_record call (the same validation and the
same decline and kidney rules as a manual entry), with its provenance, once per identifier."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from backend.accounts.models import PatientProfile, ServiceAccount
from backend.core.errors import DomainError
from backend.exercise.models import Assessment
from backend.exercise.services.assessments import Provenance, assessment_record
from backend.fhir.imports.outcomes import FhirError, domain_error_as_fhir
from backend.fhir.imports.parsing import ParsedObservation


@dataclass(frozen=True)
class Imported:
    assessment: Assessment  # with measured_by loaded
    created: bool  # False: the identifier was imported before, this is that result
    patient_user_id: int


def _patient_of_organisation(account: ServiceAccount, patient_id: int) -> PatientProfile:
    patient = (
        PatientProfile.objects.select_related("user")
        .filter(pk=patient_id, user__organisation_id=account.organisation_id)
        .first()
    )
    if patient is None:
        # The same answer whether the patient is another organisation's or nobody's.
        raise FhirError.one(
            404,
            "not-found",
            f"Patient/{patient_id} is not a patient of this organisation.",
            "Observation.subject",
        )
    return patient


def _already_imported(account: ServiceAccount, parsed: ParsedObservation) -> Assessment | None:
    return (
        Assessment.objects.select_related("measured_by")
        .filter(
            source_organisation_id=account.organisation_id,
            source_identifier_system=parsed.identifier_system,
            source_identifier_value=parsed.identifier_value,
        )
        .first()
    )


def _as_resend(existing: Assessment, patient: PatientProfile) -> Imported:
    if existing.patient_id != patient.pk:
        raise FhirError.one(
            409,
            "duplicate",
            "This identifier was already imported for another patient.",
            "Observation.identifier",
        )
    return Imported(existing, created=False, patient_user_id=patient.user_id)


def observation_import(*, account: ServiceAccount, parsed: ParsedObservation) -> Imported:
    """One result. A resend of an identifier already imported returns the stored assessment
    (even when two resends race: the database's unique constraint decides)."""
    patient = _patient_of_organisation(account, parsed.patient_id)
    existing = _already_imported(account, parsed)
    if existing is not None:
        return _as_resend(existing, patient)
    provenance = Provenance(
        account=account,
        identifier_system=parsed.identifier_system,
        identifier_value=parsed.identifier_value,
    )
    try:
        # assessment_record is atomic itself: a lost race rolls back its own savepoint only.
        assessment = assessment_record(
            by=account.user, patient=patient, data=parsed.data, provenance=provenance
        )
    except DomainError as error:
        raise domain_error_as_fhir(error) from error
    except IntegrityError:
        existing = _already_imported(account, parsed)
        if existing is None:
            raise
        return _as_resend(existing, patient)
    return Imported(assessment, created=True, patient_user_id=patient.user_id)


@transaction.atomic
def transaction_import(
    *, account: ServiceAccount, entries: list[ParsedObservation]
) -> list[Imported]:
    """All entries or none: the first refused entry undoes the others and is named by its
    index."""
    imported = []
    for index, parsed in enumerate(entries):
        try:
            imported.append(observation_import(account=account, parsed=parsed))
        except FhirError as error:
            raise error.within(f"Bundle.entry[{index}].resource", index) from error
    return imported
