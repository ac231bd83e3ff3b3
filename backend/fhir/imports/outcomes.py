"""Refusals of an import, answered as a FHIR OperationOutcome instead of the API's error
shape: a sending system's FHIR client reads issues, not `{status, code, detail}`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from backend.core.errors import DomainError


@dataclass(frozen=True)
class Issue:
    code: str  # FHIR issue-type: invalid, structure, required, value, code-invalid, not-found…
    diagnostics: str
    expression: tuple[str, ...] = ()


class FhirError(Exception):
    """An import refused: rendered as an OperationOutcome with `status`; nothing is stored."""

    def __init__(self, status: int, issues: list[Issue]) -> None:
        super().__init__(issues[0].diagnostics if issues else "")
        self.status = status
        self.issues = issues

    @classmethod
    def one(cls, status: int, code: str, diagnostics: str, *expression: str) -> FhirError:
        return cls(status, [Issue(code, diagnostics, expression)])

    def within(self, prefix: str, index: int) -> FhirError:
        """The same refusal about entry `index` of a Bundle: its expressions rebased on it."""
        rebased = [
            Issue(
                issue.code,
                f"Bundle.entry[{index}]: {issue.diagnostics}",
                tuple(_rebase(e, prefix) for e in issue.expression) or (prefix,),
            )
            for issue in self.issues
        ]
        return FhirError(self.status, rebased)


def _rebase(expression: str, prefix: str) -> str:
    head, _, rest = expression.partition(".")
    if head == "Bundle":
        return expression  # already about the entry itself
    return f"{prefix}.{rest}" if head == "Observation" and rest else prefix


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    # No id: the response's X-Request-ID header is what to quote when reporting a problem.
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": issue.code,
                "diagnostics": issue.diagnostics,
                **({"expression": list(issue.expression)} if issue.expression else {}),
            }
            for issue in issues
        ],
    }


# Assessment fields (DomainError.errors) → where they come from in an Observation.
_FIELD_EXPRESSIONS = {
    "value": "Observation.valueQuantity.value",
    "measured_at": "Observation.effectiveDateTime",
    "max_score": "Observation.referenceRange[0].high",
    "upper_limit": "Observation.referenceRange[0].high",
    "setting": "Observation.category",
    "measure": "Observation.code",
    "items": "Observation.component",
}


def domain_error_as_fhir(error: DomainError) -> FhirError:
    """A rule of the assessment service refused the value: 422 (a well-formed resource that
    breaks a business rule), or the service's own 403."""
    status = 422 if error.status == 400 else error.status
    code = "business-rule" if status == 422 else "forbidden"
    issues = [
        Issue(code, f"{name}: {message}", (_FIELD_EXPRESSIONS.get(name, "Observation"),))
        for name, messages in (error.errors or {}).items()
        for message in messages
    ]
    return FhirError(status, issues or [Issue(code, error.detail)])


_API_ISSUE_CODES = {
    400: "structure",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
}


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The import views' exception handler: every refusal is an OperationOutcome."""
    if isinstance(exc, DomainError):
        exc = domain_error_as_fhir(exc)
    if isinstance(exc, FhirError):
        set_rollback()
        return Response(operation_outcome(exc.issues), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()  # e.g. ?format= naming no renderer (found by make fuzz)
    if not isinstance(exc, exceptions.APIException):
        return None  # a genuine bug: let Django log it and answer 500
    set_rollback()
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(int(wait))
    detail = exc.detail
    if isinstance(detail, dict):
        message = str(detail.get("detail", "")) or str(detail)
    elif isinstance(detail, list):
        message = "; ".join(str(d) for d in detail)
    else:
        message = str(detail)
    code = _API_ISSUE_CODES.get(exc.status_code, "processing")
    return Response(
        operation_outcome([Issue(code, message)]), status=exc.status_code, headers=headers
    )
