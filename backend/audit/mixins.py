"""Recording for list views: a list records a read of each row on the page it returns."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import generics

from backend.audit.models import Action, Resource
from backend.audit.services import patient_id_of, record_access


class RecordsPageReads(generics.GenericAPIView):
    """Put first among a list view's bases and name `audit_resource`: every page served to
    someone other than the patient is recorded, one event per row, in one INSERT."""

    audit_resource: ClassVar[Resource]

    @staticmethod
    def audit_patient_of(obj: Any) -> int | None:
        return patient_id_of(obj)

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        if page is not None:
            record_access(
                self.request,
                Action.READ,
                self.audit_resource,
                page,
                patient_of=self.audit_patient_of,
            )
        return page
