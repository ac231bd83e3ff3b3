from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The append-only audit trail: who read or changed which patient's record (issue [5/5])."""

    name = "backend.audit"
    label = "audit"
    verbose_name = "Audit trail"
