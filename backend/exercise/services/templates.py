"""Programme templates: an organisation's reusable prescriptions.

A template holds a version's content without what belongs to one prescription (the patient,
the title, the dates). It is checked by the programme's own rules when written
(`_validate_content`, with a placeholder start date), and prescribing from it is
`programme_create` with its content: a dose rule never has a second copy here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.accounts.models import PatientProfile, User, default_training_weekdays
from backend.core.errors import DomainError
from backend.exercise.models import Programme, ProgrammeTemplate
from backend.exercise.services.common import PHYSIO_ONLY, require_role_to
from backend.exercise.services.programmes import (
    DOSE_FIELDS,
    Prescribed,
    _validate_content,
    programme_create,
    version_content,
)

# What a template keeps of a version's content; title and dates are the prescription's.
TEMPLATE_FIELDS = ("goals", "sessions_per_week_min", "sessions_per_week_max", "training_weekdays")
DECIMAL_FIELDS = ("load_value", "intensity_target")


def _json_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item as stored: the exercise id and the dose fields that are set, decimals as text."""
    stored: dict[str, Any] = {"exercise": item["exercise"]}
    for name in DOSE_FIELDS:
        value = item.get(name)
        if value is None or value == "":
            continue
        stored[name] = str(value) if isinstance(value, Decimal) else value
    return stored


def _stored_content(content: dict[str, Any]) -> dict[str, Any]:
    """Every field present, with what a version would default to when the body left it out,
    so a template reads the same whatever wrote it."""
    kept = {
        "goals": content.get("goals") or "",
        "sessions_per_week_min": content.get("sessions_per_week_min", 2),
        "sessions_per_week_max": content.get("sessions_per_week_max", 3),
        "training_weekdays": content.get("training_weekdays") or default_training_weekdays(),
    }
    kept["items"] = [_json_item(item) for item in content.get("items", [])]
    return kept


def _service_content(stored: dict[str, Any]) -> dict[str, Any]:
    content = {name: stored[name] for name in TEMPLATE_FIELDS if name in stored}
    content["items"] = [
        {name: Decimal(value) if name in DECIMAL_FIELDS else value for name, value in item.items()}
        for item in stored.get("items", [])
    ]
    return content


def template_content(template: ProgrammeTemplate) -> dict[str, Any]:
    """The template's content as the programme services take it (decimals as Decimal)."""
    return _service_content(template.content)


def _checked(by: User, content: dict[str, Any]) -> dict[str, Any]:
    """The programme's rules on the content (a template has no dates: a placeholder start)."""
    stored = _stored_content(content)
    _validate_content(by, {**_service_content(stored), "start_date": timezone.localdate()})
    return stored


def template_may_write(user: User) -> bool:
    """Who writes templates (and prescribes from them): the services' own rule, for pages
    that show or hide the buttons."""
    return user.role in PHYSIO_ONLY


def _require_own(template: ProgrammeTemplate, by: User, action: str) -> None:
    require_role_to(by, PHYSIO_ONLY, action)
    if template.organisation_id != by.organisation_id:
        raise DomainError(
            "Only your organisation's templates.", code="permission_denied", status=403
        )


def _save(template: ProgrammeTemplate) -> ProgrammeTemplate:
    template.full_clean(exclude=["organisation", "created_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as error:
        raise DomainError(
            "Your organisation already has a template with this name.",
            code="conflict",
            status=409,
            errors={"name": ["Already a template of your organisation."]},
        ) from error
    return template


@transaction.atomic
def template_create(
    *,
    by: User,
    name: str,
    description: str = "",
    content: dict[str, Any] | None = None,
    programme: Programme | None = None,
) -> ProgrammeTemplate:
    """From a body (`content`) or from `programme`'s version in force (the caller has checked
    that `by` may see it)."""
    require_role_to(by, PHYSIO_ONLY, "save a programme template")
    organisation_id = by.organisation_id
    if organisation_id is None:  # platform staff: no organisation to hold the template
        raise DomainError("Only an organisation's templates.", code="permission_denied", status=403)
    if programme is not None:
        assert programme.current_version is not None  # noqa: S101  # created with version 1
        content = version_content(programme.current_version)
    if content is None:
        raise DomainError("Give the content.", errors={"content": ["This field is required."]})
    template = ProgrammeTemplate(
        organisation_id=organisation_id,
        created_by=by,
        name=name,
        description=description,
        content=_checked(by, content),
    )
    return _save(template)


@transaction.atomic
def template_update(
    *, template: ProgrammeTemplate, by: User, changes: dict[str, Any]
) -> ProgrammeTemplate:
    """Name, description, and the content as a whole (a partial content would be ambiguous)."""
    _require_own(template, by, "change a programme template")
    if template.archived_at is not None:
        raise DomainError("An archived template cannot change.", code="conflict", status=409)
    for name in ("name", "description"):
        if name in changes:
            setattr(template, name, changes[name])
    if "content" in changes:
        template.content = _checked(by, changes["content"])
    return _save(template)


@transaction.atomic
def template_archive(*, template: ProgrammeTemplate, by: User) -> ProgrammeTemplate:
    _require_own(template, by, "archive a programme template")
    if template.archived_at is None:
        template.archived_at = timezone.now()
        template.save(update_fields=["archived_at", "updated_at"])
    return template


def programme_create_from_template(
    *,
    template: ProgrammeTemplate,
    by: User,
    patient: PatientProfile,
    start_date: date | None = None,
    title: str = "",
    activate: bool = False,
) -> Prescribed:
    """`programme_create` with the template's content: the same rules, the same checks."""
    if template.organisation_id != by.organisation_id:
        raise DomainError(
            "Only your organisation's templates.", code="permission_denied", status=403
        )
    if template.archived_at is not None:
        raise DomainError("This template is archived.", code="conflict", status=409)
    content = {
        **template_content(template),
        "title": title or template.name,
        "start_date": start_date or timezone.localdate(),
    }
    return programme_create(by=by, patient=patient, content=content, activate=activate)
