"""Recording the audit trail: one call per view, one INSERT per request.

Views call `record_access` after the read or write succeeded, with the objects the response
is made of. Reads are recorded only when someone other than the patient reads (a patient
reading their own record is not an access to audit); every write is recorded, whoever makes it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from backend.accounts.models import PatientProfile, Role, User
from backend.audit.models import AccessEvent, Action, Resource
from backend.core.request_context import current_request_id


def patient_id_of(obj: Any) -> int | None:
    """The patient a record belongs to: a profile is its own patient; most records name one."""
    if isinstance(obj, PatientProfile):
        return obj.pk
    patient_id = getattr(obj, "patient_id", None)
    return patient_id if isinstance(patient_id, int) else None


def client_ip(request: Request) -> str | None:
    """The caller's address as the throttles see it (DJANGO_NUM_PROXIES decides whether
    X-Forwarded-For is trusted), or None when that is not an IP address: the header is
    client-controlled behind a proxy and must never break the request."""
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(ident.strip()))
    except (ValueError, AttributeError):
        return None


def record_access(
    request: Request,
    action: Action,
    resource_type: Resource,
    objects: Iterable[Any],
    *,
    patient_of: Callable[[Any], int | None] = patient_id_of,
    actor: User | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Records `action` on each object (its `pk` is the resource id) in one INSERT.

    `patient_of` says whose record each object is (default: `patient_id_of`); `actor` is for
    the rare request that has no signed-in user yet (account activation); `changes` the old
    and new values a change of settings made (rule settings), stored with the event.
    """
    who = actor if actor is not None else getattr(request, "user", None)
    if not isinstance(who, User):
        return
    if action == Action.READ and who.role == Role.PATIENT:
        return  # a patient sees only their own record (patients_visible_to)
    occurred_at = timezone.now()
    request_id = current_request_id.get()
    ip = client_ip(request)
    events = [
        AccessEvent(
            occurred_at=occurred_at,
            actor=who,
            actor_role=who.role,
            organisation_id=who.organisation_id,
            patient_id=patient_of(obj),
            action=action,
            resource_type=resource_type,
            resource_id=getattr(obj, "pk", None),
            request_id="" if request_id == "-" else request_id,
            ip=ip,
            changes=changes,
        )
        for obj in objects
    ]
    if events:
        AccessEvent.objects.bulk_create(events)


def record_access_of_patients(
    *,
    actor: User,
    action: Action,
    patient_ids: Iterable[int],
    occurred_at: datetime,
    request_id: str,
    ip: str | None,
) -> int:
    """`record_access` for work a task does for a person who asked in an earlier request (a
    bulk export): one event per patient (the patient's record, resource id = the patient's),
    in one INSERT, with that request's id and address. Returns the number of events."""
    events = [
        AccessEvent(
            occurred_at=occurred_at,
            actor=actor,
            actor_role=actor.role,
            organisation_id=actor.organisation_id,
            patient_id=patient_id,
            action=action,
            resource_type=Resource.PATIENT,
            resource_id=patient_id,
            request_id=request_id,
            ip=ip,
        )
        for patient_id in patient_ids
    ]
    if events:
        AccessEvent.objects.bulk_create(events)
    return len(events)
